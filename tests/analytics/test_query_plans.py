"""A period's tickets are read through the brand's creation-date index (SQLite's plan), not
by walking every ticket the brand ever had."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select

from crowdcx.analytics import service
from crowdcx.tickets.models import TicketRow
from tests.query_plans import plan


def test_insights_and_the_capacity_plan_read_a_period_by_index(sqlite_template: Path) -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    engine = create_engine(f"sqlite:///{sqlite_template}")
    reads = [
        select(*service._TICKET_COLUMNS).where(
            TicketRow.brand_id == 1, TicketRow.created_at >= since
        ),
        select(TicketRow.created_at).where(TicketRow.brand_id == 1, TicketRow.created_at >= since),
        select(func.min(TicketRow.created_at)).where(TicketRow.brand_id == 1),
    ]
    plans = [plan(engine, stmt, {}) for stmt in reads]
    engine.dispose()
    for p in plans:
        assert "ix_tickets_brand_created" in p, p
        assert "SCAN" not in p, p
