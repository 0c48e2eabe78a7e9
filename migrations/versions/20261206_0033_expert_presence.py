"""expert_presence: when each expert was online in a brand (one interval per stretch, opened
when ``expert_profiles.online`` turns true, closed when it turns false), so the capacity plan
compares the experts its busiest hours need with those who actually show up, not only with
those enrolled. Experts online at the upgrade get an interval opened at the upgrade: their
going offline later has one to close. Nothing is known of the time before.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 21:00:00
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0033'
down_revision: str | Sequence[str] | None = '0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('expert_presence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('online_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('offline_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_expert_presence_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_expert_presence_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_presence'))
    )
    with op.batch_alter_table('expert_presence', schema=None) as batch_op:
        batch_op.create_index('ix_expert_presence_brand_offline', ['brand_id', 'offline_at', 'online_at'], unique=False)
        batch_op.create_index('ix_expert_presence_user', ['user_id'], unique=False)
        batch_op.create_index('ux_expert_presence_open', ['brand_id', 'user_id'], unique=True, sqlite_where=sa.text('offline_at IS NULL'), postgresql_where=sa.text('offline_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_expert_presence_brand_id'), ['brand_id'], unique=False)

    conn = op.get_bind()
    conn.execute(
        sa.text(
            "INSERT INTO expert_presence (brand_id, user_id, online_at)"
            " SELECT brand_id, user_id, :at FROM expert_profiles WHERE online = :yes"
        ).bindparams(
            sa.bindparam('at', datetime.now(UTC), type_=crowdcx.kernel.models.UTCDateTime()),
            yes=True,
        )
    )


def downgrade() -> None:
    with op.batch_alter_table('expert_presence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_presence_brand_id'))
        batch_op.drop_index('ux_expert_presence_open', sqlite_where=sa.text('offline_at IS NULL'), postgresql_where=sa.text('offline_at IS NULL'))
        batch_op.drop_index('ix_expert_presence_user')
        batch_op.drop_index('ix_expert_presence_brand_offline')

    op.drop_table('expert_presence')
