"""The demo's four weeks of past tickets go through the real use cases, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crowdcx import demo
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.payouts.models import LedgerPosting
from crowdcx.tickets import demo_history
from crowdcx.tickets.models import TicketRatingRow, TicketRow, TicketTransitionRow


def test_the_history_is_played_through_the_use_cases_once(db: Database) -> None:
    demo.load(db, "fast", history=False)
    written = demo_history.load(db, "volga", per_day=1.0)
    assert written >= 20  # ~28 days at one a day (weekends busier)
    assert demo_history.load(db, "volga", per_day=1.0) == 0  # loading again adds nothing
    with db.sessions() as s:
        assert s.scalar(select(func.count(TicketRow.id))) == written
        statuses = set(s.scalars(select(TicketRow.status)))
        assert statuses <= {"resolved", "closed"}
        oldest = s.scalar(select(func.min(TicketRow.created_at)))
        assert oldest is not None
        assert utcnow() - oldest > timedelta(days=20)  # spread over four weeks
        # Every ticket has its history, experts' tickets their earning, many a rating.
        transitions = s.scalar(select(func.count(TicketTransitionRow.id)))
        assert transitions is not None
        assert transitions >= 3 * written
        earnings = s.scalar(
            select(func.count(LedgerPosting.id)).where(LedgerPosting.kind == "earning")
        )
        assert earnings is not None
        assert earnings > 0
        assert s.scalar(select(func.count(TicketRatingRow.id)))
