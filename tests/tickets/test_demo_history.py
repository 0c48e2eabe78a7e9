"""The demo's four weeks of past tickets go through the real use cases, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crowdcx import demo
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.payouts.models import LedgerPosting
from crowdcx.tickets import demo_history
from crowdcx.tickets.models import (
    ExpertPresenceRow,
    ExpertProfileRow,
    TicketRatingRow,
    TicketRow,
    TicketTransitionRow,
)


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
        # The expert's shifts went through the availability switch: presence history, every
        # stretch closed (the demo experts start offline), many of them hours long.
        stretches = s.execute(
            select(ExpertPresenceRow.online_at, ExpertPresenceRow.offline_at)
        ).all()
        assert all(off is not None and off >= on for on, off in stretches)
        long = [on for on, off in stretches if off - on >= timedelta(hours=4)]
        assert len(long) >= 14  # four-hour shifts on most of the 28 days
        online = select(func.count(ExpertProfileRow.id)).where(ExpertProfileRow.online)
        assert s.scalar(online) == 0


def test_the_demo_capacity_plan_has_presence_to_compare_with(db: Database) -> None:
    """`make run`: the capacity page shows who was online, not "no presence history yet"."""
    from crowdcx.analytics import service as analytics
    from crowdcx.tenancy import service as tenancy

    demo.load(db, "fast", history=False)
    assert demo_history.load(db, "lumen", per_day=2.0)
    now = utcnow()
    with db.sessions() as s:
        ctx = tenancy.access_brand(s, "lumen", None)
        plan = analytics.capacity_plan(
            s, ctx, now, start=now, hours=24, multiplier=10, goal=0.8, target_s=3600,
            concurrency=2, shrinkage=0.2,
        )  # fmt: skip
    assert plan.presence.first_day is not None
    assert max(plan.presence.by_hour.values()) > 0.3  # shifts, not only one-minute stretches
    assert plan.experts_enrolled == 1
