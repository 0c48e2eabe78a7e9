"""search_event_days: each past UTC day's search events counted once per brand and event, so
the deflection figures no longer count every suggestion shown in the period (at 1,000,000
shown a month, 0.8 s of a 30-day count on SQLite). Nothing to back-fill: the sweeper's
hourly housekeeping rolls up every past day it finds.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07 06:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0043'
down_revision: str | Sequence[str] | None = '0042'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('search_event_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_search_event_days_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('brand_id', 'day', 'event', name=op.f('pk_search_event_days'))
    )
    with op.batch_alter_table('search_event_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_event_days_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index('ix_search_event_days_day', ['day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('search_event_days', schema=None) as batch_op:
        batch_op.drop_index('ix_search_event_days_day')
        batch_op.drop_index(batch_op.f('ix_search_event_days_brand_id'))
    op.drop_table('search_event_days')
