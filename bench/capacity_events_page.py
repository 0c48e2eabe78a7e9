"""What a view of the capacity page spends on the brand's past sales events: every past
event's lift measured (the page before, and its former ``?events=all``) against the
service.PAST_LISTED most recent (the page now) and the page of older ones its "show older"
link gives (``?older=<cursor>``, now), with 10, 50 and 150 remembered past events, in one
run on the demo database: statements sent and median milliseconds of
``analytics.service.remembered`` (the list, its lifts and the learned multiplier). Then the
same for ``GET /capacity/events``: every past event (before) against one page of 10
(``service.events_page``), and what the page's suggestions of unrecorded sales days
(``service.unusual_days``, twelve weeks of daily counts) add to a view.

    .venv/bin/python bench/capacity_events_page.py [--postgres postgresql://…] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, event

from _scratch import demo_database
from crowdcx.analytics import service
from crowdcx.analytics.models import CapacityEventRow
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.tenancy import service as tenancy


def seed(db: Database, slug: str, past: int) -> None:
    """``past`` one-hour events, one every two days back from yesterday."""
    now = utcnow()
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, slug, None)
        uow.session.execute(
            delete(CapacityEventRow).where(CapacityEventRow.brand_id == ctx.brand.id)
        )
        for i in range(past):
            uow.session.add(CapacityEventRow(
                brand_id=ctx.brand.id, name=f"Sale {i}", start_at=now - timedelta(days=1 + 2 * i),
                hours=1, multiplier=None, created_by=None, created_at=now,
            ))  # fmt: skip


def every_one(session: Any, ctx: Any, known: Any) -> object:
    """The former ``?events=all``: every past event measured, the learned lift from those."""
    now = utcnow()
    shown = service.recent_past(known, now, None)
    first = service._first_ticket(session, ctx) if shown else None
    lifts = {e.id: service._measured(session, ctx, now, e, known, first) for e in shown}
    return service.latest_lift(session, ctx, now, known, lifts)


def measure(db: Database, slug: str, how: str, rounds: int) -> tuple[int, float]:
    """``every``: the former list of all; ``first``: the page's first list; ``older``: the
    page of older past events its link names."""
    if how == "every":
        return timed(db, slug, rounds, every_one)
    cursor = None
    if how == "older":
        with db.sessions() as session:
            ctx = tenancy.access_brand(session, slug, None)
            cursor = service.remembered(
                session, ctx, utcnow(), service.events(session, ctx)
            ).next_cursor
    return timed(
        db, slug, rounds,
        lambda session, ctx, known: service.remembered(session, ctx, utcnow(), known, cursor),
    )  # fmt: skip


def timed(
    db: Database, slug: str, rounds: int, work: Callable[[Any, Any, Any], object]
) -> tuple[int, float]:
    """Statements sent by ``work`` (its first round) and its median milliseconds."""
    sent: list[str] = []

    def listen(*_args: object) -> None:
        sent.append("")

    samples = []
    for r in range(rounds):
        with db.sessions() as session:
            ctx = tenancy.access_brand(session, slug, None)
            known = service.events(session, ctx)
            if r == 0:
                event.listen(db.engine, "before_cursor_execute", listen)
            start = time.perf_counter()
            work(session, ctx, known)
            samples.append(time.perf_counter() - start)
            if r == 0:
                event.remove(db.engine, "before_cursor_execute", listen)
    return len(sent), statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with demo_database(args.postgres, "capacity_page") as url:
        db = Database(url)
        print(f"{db.engine.dialect.name}, load average {os.getloadavg()[0]:.2f}")
        for past in (10, 50, 150):
            seed(db, "lumen", past)
            every = measure(db, "lumen", "every", args.rounds)
            bounded = measure(db, "lumen", "first", args.rounds)
            older = measure(db, "lumen", "older", args.rounds)
            print(
                f"{past:>4} past events   every one: {every[0]:>4} statements {every[1]:8.1f} ms"
                f"   last {service.PAST_LISTED}: {bounded[0]:>4} statements {bounded[1]:8.1f} ms"
                f"   older page: {older[0]:>4} statements {older[1]:8.1f} ms"
            )
        print("GET /capacity/events")
        for past in (10, 50, 150):
            seed(db, "lumen", past)
            every = measure(db, "lumen", "every", args.rounds)
            paged = timed(
                db, "lumen", args.rounds,
                lambda session, ctx, known: service.events_page(
                    session, ctx, utcnow(), known, None, service.PAST_LISTED
                ),
            )  # fmt: skip
            print(
                f"{past:>4} past events   every one: {every[0]:>4} statements {every[1]:8.1f} ms"
                f"   a page of {service.PAST_LISTED}: {paged[0]:>4} statements {paged[1]:8.1f} ms"
            )
        bounded = measure(db, "lumen", "first", args.rounds)
        unusual = timed(
            db, "lumen", args.rounds,
            lambda session, ctx, known: service.unusual_days(session, ctx, utcnow(), known),
        )  # fmt: skip
        print(
            f"the page's events list {bounded[1]:.1f} ms ({bounded[0]} statements); its "
            f"unusual-day suggestions {unusual[1]:.1f} ms ({unusual[0]} statements)"
        )
        db.dispose()


if __name__ == "__main__":
    main()
