"""erasures and brand_erasures: the audit of data erasures (who erased whose data, when, how
many tickets were scrubbed; ids and counts only). ``erasures`` is a platform table (an
erased account with no tickets belongs to no brand); ``brand_erasures`` ties an erasure to
each brand whose data it touched, for the brand admins' view.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 18:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0029'
down_revision: str | Sequence[str] | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('erasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('actor_role', sa.String(length=10), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('tickets_erased', sa.Integer(), nullable=False),
    sa.Column('at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_erasures_actor_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_erasures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasures'))
    )
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.create_index('ix_erasures_user', ['user_id'], unique=False)

    op.create_table('brand_erasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('erasure_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tickets_erased', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_brand_erasures_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['erasure_id'], ['erasures.id'], name=op.f('fk_brand_erasures_erasure_id_erasures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_brand_erasures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_brand_erasures')),
    sa.UniqueConstraint('brand_id', 'erasure_id', name=op.f('uq_brand_erasures_brand_id_erasure_id'))
    )
    with op.batch_alter_table('brand_erasures', schema=None) as batch_op:
        batch_op.create_index('ix_brand_erasures_brand_user', ['brand_id', 'user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_brand_erasures_brand_id'), ['brand_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('brand_erasures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brand_erasures_brand_id'))
        batch_op.drop_index('ix_brand_erasures_brand_user')

    op.drop_table('brand_erasures')
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.drop_index('ix_erasures_user')

    op.drop_table('erasures')
