"""A period's tickets are read through the brand's creation-date index (SQLite's plan), not
by walking every ticket the brand ever had."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import case, create_engine, func, select

from crowdcx.analytics import service
from crowdcx.tickets.models import TicketRow
from tests.query_plans import plan


def test_insights_and_the_capacity_plan_read_a_period_by_index(sqlite_template: Path) -> None:
    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC)
    engine = create_engine(f"sqlite:///{sqlite_template}")
    reads = [
        select(*service._TICKET_COLUMNS).where(
            TicketRow.brand_id == 1, TicketRow.created_at >= since
        ),
        select(TicketRow.created_at).where(TicketRow.brand_id == 1, TicketRow.created_at >= since),
        select(func.min(TicketRow.created_at)).where(TicketRow.brand_id == 1),
        # the trend's weekly totals: one grouped count over the weeks' range
        select(week := case((TicketRow.created_at < until, 0), else_=1), func.count())
        .where(TicketRow.brand_id == 1, TicketRow.created_at >= since)
        .where(TicketRow.created_at < until)
        .group_by(week),
    ]
    plans = [plan(engine, stmt, {}) for stmt in reads]
    engine.dispose()
    for p in plans:
        assert "ix_tickets_brand_created" in p, p
        assert "SCAN" not in p, p


def test_the_plans_presence_reads_a_window_of_intervals_by_index(sqlite_template: Path) -> None:
    """The intervals overlapping the history (ended after its start, or still open) are found
    on (brand_id, offline_at, online_at), and so are those the housekeeping prunes."""
    from sqlalchemy import delete

    from crowdcx.tickets.models import ExpertPresenceRow as P

    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC)
    engine = create_engine(f"sqlite:///{sqlite_template}")
    reads = [
        select(P.online_at, P.offline_at).where(
            P.brand_id == 1, (P.offline_at > since) | P.offline_at.is_(None), P.online_at < until
        ),
        delete(P).where(P.brand_id == 1, P.offline_at < since),
    ]
    plans = [plan(engine, stmt, {}) for stmt in reads]
    engine.dispose()
    for p in plans:
        assert "ix_expert_presence_brand_offline" in p, p
        assert "SCAN" not in p, p
