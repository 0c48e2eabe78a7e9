"""The deflection figures read whole past days from their daily counts (migration 0043,
search.service.roll_up_events) and give the same answer as counting every event: on random
events of two brands over ten days around UTC midnights, for periods starting at midnight,
mid-day and before the first event, before any roll-up, after one, after events that came
later, and after the sweeper's housekeeping rolled more days."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from crowdcx.kernel.db import Database
from crowdcx.knowledge.models import SearchEvent, SearchEventDay
from crowdcx.search import service as search
from crowdcx.tenancy.service import access_brand
from crowdcx.tickets.sweeper import housekeep
from tests.conftest import World
from tests.query_plans import plan

BASE = datetime(2026, 11, 20, tzinfo=UTC)
EVENTS = ("shown", "shown", "shown", "opened", "no_answer", "solved")


def _add(
    db: Database, brand_ids: list[int], start: datetime, minutes: int, n: int, seed: int
) -> None:
    rnd = random.Random(seed)
    with db.transaction() as uow:
        for _ in range(n):
            event = rnd.choice(EVENTS)
            kind = rnd.choice(("article", "question", "ticket")) if event == "solved" else "article"
            at = start + timedelta(minutes=rnd.randrange(minutes))
            if rnd.random() < 0.3:  # around midnight
                at = at.replace(hour=rnd.choice((0, 23)), minute=rnd.choice((0, 59)))
            uow.session.add(SearchEvent(
                brand_id=rnd.choice(brand_ids), event=event, source="help", kind=kind,
                ref_id=str(rnd.randrange(5)), created_at=at,
            ))  # fmt: skip
        uow.commit()


def _truth(db: Database, brand_id: int, since: datetime) -> dict[str, int]:
    """Every event counted in search_events, as the count was before the daily counts."""
    with db.sessions() as s:
        rows = s.execute(
            select(SearchEvent.event, SearchEvent.kind, func.count())
            .where(SearchEvent.brand_id == brand_id, SearchEvent.created_at >= since)
            .group_by(SearchEvent.event, SearchEvent.kind)
        ).all()
    out = {"shown": 0, "opened": 0, "solved": 0, "no_answer": 0}
    for event, kind, n in rows:
        if event != "solved" or kind == "ticket":
            out[event] += n
    return out


def _counts(db: Database, slug: str, since: datetime) -> dict[str, int]:
    with db.sessions() as s:
        ctx = access_brand(s, slug, None)
        counts = search.deflection(s, ctx, since)
        counts["solved"] -= int(s.scalar(search.separate_marks(s, ctx.brand.id, since)) or 0)
    return counts


def _periods(now: datetime) -> list[datetime]:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        BASE - timedelta(days=3),  # before the first event
        BASE + timedelta(days=2),  # a midnight
        BASE + timedelta(days=2, hours=13, minutes=7),  # mid-day
        midnight - timedelta(days=1),  # yesterday
        midnight,  # today
        now - timedelta(minutes=30),
        now + timedelta(hours=1),  # nothing
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_daily_counts_give_what_counting_every_event_gives(
    world: World, db: Database, seed: int
) -> None:
    slugs = [world.brand(f"days-{seed}-{i}") for i in range(2)]
    with db.sessions() as s:
        ids = [access_brand(s, slug, None).brand.id for slug in slugs]
    _add(db, ids, BASE, 10 * 1440, 600, seed)
    now = BASE + timedelta(days=10, hours=0, minutes=40)  # yesterday ended 40 minutes ago

    def check() -> None:
        for slug, brand_id in zip(slugs, ids, strict=True):
            for since in _periods(now):
                assert _counts(db, slug, since) == _truth(db, brand_id, since), (slug, since)

    check()  # nothing rolled up: everything counted from the events
    with db.transaction() as uow:
        added = search.roll_up_events(uow.session, now)
    assert added > 0
    with db.sessions() as s:
        days = sorted({d for (d,) in s.execute(select(SearchEventDay.day).distinct())})
    # Yesterday ended only 40 minutes ago: it waits for the next hour's housekeeping.
    assert days[0] == BASE.date()
    assert days[-1] == (now - timedelta(days=2)).date()
    check()
    with db.transaction() as uow:
        assert search.roll_up_events(uow.session, now) == 0  # idempotent
    # Events of today and of the hour since, then the housekeeping an hour later.
    _add(db, ids, now.replace(hour=0, minute=0), 100, 80, seed + 10)
    check()
    now += timedelta(hours=1)
    assert housekeep(db, now).get("search_event_days", 0) > 0
    with db.sessions() as s:
        assert s.scalar(select(func.max(SearchEventDay.day))) == (now - timedelta(days=1)).date()
    check()
    assert "search_event_days" not in housekeep(db, now)


def test_a_brand_without_events_and_a_database_without_any(world: World, db: Database) -> None:
    quiet = world.brand("days-quiet")
    busy = world.brand("days-busy")
    now = BASE + timedelta(days=4)
    with db.transaction() as uow:
        assert search.roll_up_events(uow.session, now) == 0  # no events at all
    with db.sessions() as s:
        busy_id = access_brand(s, busy, None).brand.id
    _add(db, [busy_id], BASE, 2 * 1440, 50, 7)
    with db.transaction() as uow:
        assert search.roll_up_events(uow.session, now) > 0
    for since in _periods(now):
        assert _counts(db, quiet, since) == {"shown": 0, "opened": 0, "solved": 0, "no_answer": 0}
        with db.sessions() as s:
            busy_id = access_brand(s, busy, None).brand.id
        assert _counts(db, busy, since) == _truth(db, busy_id, since)


def test_a_period_of_events_is_read_by_index_for_the_period_only(sqlite_template: Path) -> None:
    """Each event named, the (brand, event, created_at, …) index is searched on all three:
    without ``event IN``, SQLite searched it on the brand alone and read every event the
    brand ever had, whatever the period (a partial day cost as much as the whole month)."""
    engine = create_engine(f"sqlite:///{sqlite_template}")
    since = BASE
    reads = [
        select(SearchEvent.event, func.count())
        .where(*search._counted(1, since, None))
        .group_by(SearchEvent.event),
        select(SearchEvent.event, func.count())
        .where(*search._counted(1, since, since + timedelta(days=1)))
        .group_by(SearchEvent.event),
    ]
    plans = [plan(engine, stmt, {}) for stmt in reads]
    engine.dispose()
    for p in plans:
        assert "ix_search_events_brand_event_mark (brand_id=? AND event=? AND created_at>" in p, p
