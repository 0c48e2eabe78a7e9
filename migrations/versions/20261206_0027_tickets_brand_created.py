"""tickets (brand_id, created_at): insights and the capacity plan read a period's tickets of
one brand; without it they read every ticket the brand ever had through the brand's status
index and kept the recent ones (tests/analytics/test_query_plans.py).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 13:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0027'
down_revision: str | Sequence[str] | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_tickets_brand_created', 'tickets', ['brand_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_tickets_brand_created', table_name='tickets')
