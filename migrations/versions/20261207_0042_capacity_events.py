"""capacity_events: the brand's sales events, remembered for the capacity plan — left out of
the weekly profile and the trend's weekly totals, and each past one's lift learned for the
plan of the next. Nothing to back-fill: past events were typed into the form each time.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-07 04:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0042'
down_revision: str | Sequence[str] | None = '0041'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('capacity_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('start_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('multiplier', sa.Double(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_capacity_events_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_capacity_events_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capacity_events'))
    )
    with op.batch_alter_table('capacity_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capacity_events_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index('ix_capacity_events_brand_start', ['brand_id', 'start_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('capacity_events', schema=None) as batch_op:
        batch_op.drop_index('ix_capacity_events_brand_start')
        batch_op.drop_index(batch_op.f('ix_capacity_events_brand_id'))

    op.drop_table('capacity_events')
