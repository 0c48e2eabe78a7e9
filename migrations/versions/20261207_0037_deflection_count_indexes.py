"""The deflection count read from indexes alone. search.service.separate_marks counts the
readers' "this solved it" marks that are not a deflected ticket's case again, as NOT EXISTS;
SQLite checks each mark on its own, and read each mark's row (kind, ref_id, visitor) and each
candidate deflection's row (at, kind, ref_id) from the table. The marks' index
(brand_id, event, created_at) becomes (brand_id, event, created_at, kind, ref_id, visitor),
which also serves every query the narrower one did (same leading columns), and the
deflections get (ticket_id, at, kind, ref_id). bench/deflection_count.py: 50,000 marks over
30 days, see docs/benchmarks.md.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 01:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0037'
down_revision: str | Sequence[str] | None = '0036'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARKS = ['brand_id', 'event', 'created_at', 'kind', 'ref_id', 'visitor']


def upgrade() -> None:
    op.create_index('ix_search_events_brand_event_mark', 'search_events', MARKS)
    op.drop_index('ix_search_events_brand_event', table_name='search_events')
    op.create_index('ix_ticket_deflections_case', 'ticket_deflections',
                    ['ticket_id', 'at', 'kind', 'ref_id'])


def downgrade() -> None:
    op.drop_index('ix_ticket_deflections_case', table_name='ticket_deflections')
    op.create_index('ix_search_events_brand_event', 'search_events',
                    ['brand_id', 'event', 'created_at'])
    op.drop_index('ix_search_events_brand_event_mark', table_name='search_events')
