"""The deflection figures' "solved" count at scale: 50,000 readers' "this solved it" marks and
20,000 deflected tickets of 5,000 customers over 30 days, counted the way the code did before
(load the period's marks and deflected tickets, pair them in Python with
search.rules.separate_cases) and the way it does now (search.service.deflection: one
GROUP BY, the rule as NOT EXISTS in SQL). Both answers must agree.

    .venv/bin/python bench/deflection_count.py [--marks 50000] [--tickets 20000] [--repeat 5]
        [--shown 1000000]  (suggestions shown, a tenth opened: production's mix)
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]  (a scratch database is
        created there and dropped) [--against 0036] [--explain] [--query-against]

--against REV also times the SQL count with the schema at REV (indexes only: 0037 widened
the marks' index and added the deflections'), in rounds that alternate the two on the same
rows, so a loaded machine slows both alike; --explain prints the count's plan (30 days) at
each schema (PostgreSQL: EXPLAIN ANALYZE). --query-against also times, at head, the count's
statement as it was before its two cases became two NOT EXISTS on PostgreSQL
(tests/knowledge/deflection_reference.py), alternating with today's, on the same rows.

Before timing, the tables' statistics are refreshed; on PostgreSQL they are also VACUUMed,
as autovacuum does after a table's inserts (PostgreSQL 13+): an index-only scan of a table
never vacuumed must visit each row's heap page as well (its visibility map is empty), so the
planner rightly prefers a sequential scan there, and a bench that only ANALYZEs measures a
plan a running server does not use (the eighth and ninth sessions' "sequential scans at
both schemas").
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _scratch import demo_database, refresh  # noqa: E402


def seed(db: Any, marks: int, tickets: int, customers: int, now: datetime, shown: int = 0) -> None:
    from sqlalchemy import insert, select

    import crowdcx.all_models  # noqa: F401  (every table, for the foreign keys)
    from crowdcx.identity.models import User
    from crowdcx.knowledge.models import SearchEvent
    from crowdcx.tenancy.service import access_brand
    from crowdcx.tickets.models import TicketDeflectionRow, TicketRow

    rnd = random.Random(34)
    start = now - timedelta(days=30)
    with db.transaction() as uow:
        s = uow.session
        brand = access_brand(s, "volga", None).brand.id
        s.execute(insert(User), [
            {"email": f"c{i}@bench.example", "password_hash": "x", "display_name": f"C{i}",
             "locale": "ru", "created_at": start}
            for i in range(customers)
        ])  # fmt: skip
        ids = list(s.scalars(select(User.id).where(User.email.like("%@bench.example"))))
        owners = [rnd.choice(ids) for _ in range(tickets)]
        opened = [start + timedelta(minutes=rnd.randrange(30 * 1440)) for _ in range(tickets)]
        s.execute(insert(TicketRow), [
            {"brand_id": brand, "customer_id": owners[i], "subject": f"t{i}", "body": "b",
             "language": "ru", "skill": "general", "customer_fields": {}, "rung": [],
             "status": "deflected", "created_at": opened[i], "case_started_at": opened[i]}
            for i in range(tickets)
        ])  # fmt: skip
        tids = list(s.scalars(select(TicketRow.id).where(TicketRow.subject.like("t%"))))
        refs = [("article", r) for r in range(1, 300)] + [("question", r) for r in range(1, 100)]
        rows = []
        for n, tid in enumerate(tids):
            said = rnd.random() < 0.7
            kind, ref = rnd.choice(refs)
            rows.append({"brand_id": brand, "ticket_id": tid,
                         "at": opened[n] + timedelta(minutes=rnd.randrange(600)),
                         "kind": kind if said else None, "ref_id": ref if said else None})  # fmt: skip
        s.execute(insert(TicketDeflectionRow), rows)
        events = []
        for i in range(marks):
            kind, ref = rnd.choice(refs)
            who = rnd.random()
            visitor = f"u:{rnd.choice(ids)}" if who < 0.7 else f"a:{rnd.randrange(10**9):x}"
            events.append({"brand_id": brand, "event": "solved", "source": "help", "kind": kind,
                           "ref_id": str(ref), "visitor": visitor, "day": f"d{i}",
                           "created_at": start + timedelta(minutes=rnd.randrange(30 * 1440))})  # fmt: skip
        for r in rows:  # the deflections' own "solved" events
            events.append({"brand_id": brand, "event": "solved", "source": "ticket",
                           "kind": "ticket", "ref_id": str(r["ticket_id"]), "created_at": r["at"]})  # fmt: skip
        s.execute(insert(SearchEvent), events)
        # Production's mix: most marks are suggestions shown (no visitor), some opened.
        for first in range(0, shown, 100_000):
            batch = []
            for _ in range(first, min(shown, first + 100_000)):
                kind, ref = rnd.choice(refs)
                opened_one = rnd.random() < 0.1
                at = start + timedelta(minutes=rnd.randrange(30 * 1440))
                batch.append({"brand_id": brand, "event": "opened" if opened_one else "shown",
                              "source": rnd.choice(("help", "ticket", "api")), "kind": kind,
                              "ref_id": str(ref), "created_at": at,
                              "day": at.date().isoformat() if opened_one else None,
                              "visitor": f"a:{rnd.randrange(10**15):x}" if opened_one else None})  # fmt: skip
            s.execute(insert(SearchEvent), batch)
        uow.commit()


def counted_as_it_was(session: Any, brand_id: int, since: datetime) -> dict[str, int]:
    """The events other than readers' marks as search.service.deflection counted them before
    the daily counts (0043): no event named, so the index is read from the brand's first
    event, whatever the period."""
    from sqlalchemy import func, or_, select

    from crowdcx.knowledge.models import SearchEvent

    rows = session.execute(
        select(SearchEvent.event, func.count())
        .where(SearchEvent.brand_id == brand_id, SearchEvent.created_at >= since,
               or_(SearchEvent.event != "solved", SearchEvent.kind == "ticket"))
        .group_by(SearchEvent.event)
    ).all()  # fmt: skip
    return {str(event): int(n) for event, n in rows}


def before(session: Any, ctx: Any, since: datetime) -> int:
    """The "solved" count as search.service.deflection computed it until this change."""
    from sqlalchemy import func, select

    from crowdcx.knowledge.models import SearchEvent
    from crowdcx.search import rules
    from crowdcx.tickets.models import TicketDeflectionRow, TicketRow

    solved = int(session.scalar(
        select(func.count()).where(SearchEvent.brand_id == ctx.brand.id,
                                   SearchEvent.created_at >= since, SearchEvent.event == "solved",
                                   SearchEvent.kind == "ticket")
    ) or 0)  # fmt: skip
    marks = [
        rules.SolvedMark(r.visitor, r.kind, r.ref_id, r.created_at)
        for r in session.execute(
            select(SearchEvent.visitor, SearchEvent.kind, SearchEvent.ref_id,
                   SearchEvent.created_at)
            .where(SearchEvent.brand_id == ctx.brand.id, SearchEvent.created_at >= since,
                   SearchEvent.event == "solved", SearchEvent.kind != "ticket")
        )
    ]  # fmt: skip
    cases: Sequence[rules.DeflectedCase] = []
    if any(m.visitor and m.visitor.startswith("u:") for m in marks):
        stmt = (
            select(TicketRow.customer_id, TicketRow.created_at, TicketDeflectionRow.at,
                   TicketDeflectionRow.kind, TicketDeflectionRow.ref_id)
            .join(TicketRow, TicketRow.id == TicketDeflectionRow.ticket_id)
            .where(TicketDeflectionRow.brand_id == ctx.brand.id,
                   TicketDeflectionRow.at >= since - timedelta(days=1))
        )  # fmt: skip
        cases = [
            rules.DeflectedCase(f"u:{r.customer_id}", r.created_at, r.at,
                                (r.kind, str(r.ref_id)) if r.kind and r.ref_id else None)
            for r in session.execute(stmt)
        ]  # fmt: skip
    return solved + rules.separate_cases(marks, cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marks", type=int, default=50_000)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--shown", type=int, default=0,
                        help="also this many suggestions shown (a tenth of them opened)")  # fmt: skip
    parser.add_argument("--postgres", default="")
    parser.add_argument("--against", default="", help="also time the count at this revision")
    parser.add_argument("--explain", action="store_true", help="print the count's plans")
    parser.add_argument("--query-against", action="store_true",
                        help="also time the statement as it was (one NOT EXISTS)")  # fmt: skip
    args = parser.parse_args()
    with demo_database(args.postgres, "bench_deflect") as url:
        from crowdcx.kernel.db import Database
        from crowdcx.search import service as search
        from crowdcx.tenancy.service import access_brand

        db = Database(url)
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        seed(db, args.marks, args.tickets, args.customers, now, args.shown)
        seeded = time.perf_counter() - t0
        refresh(db)
        with db.sessions() as session:
            ctx = access_brand(session, "volga", None)
            rows = []
            for days in (30, 7):
                since = now - timedelta(days=days)
                timings: dict[str, list[float]] = {"before": [], "after": []}
                answers: dict[str, int] = {}
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    answers["before"] = before(session, ctx, since)
                    timings["before"].append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    answers["after"] = search.deflection(session, ctx, since)["solved"]
                    timings["after"].append((time.perf_counter() - t) * 1000)
                assert answers["before"] == answers["after"], answers
                rows.append([days, answers["after"], statistics.median(timings["before"]),
                             statistics.median(timings["after"])])  # fmt: skip
            # The past days' events counted once (the sweeper's hourly housekeeping); then the
            # events other than readers' marks counted both ways, alternating on the same rows:
            # every event in search_events, and whole past days from their daily counts.
            t = time.perf_counter()
            with db.transaction() as uow:
                day_rows = search.roll_up_events(uow.session, now)
            rolled_ms = (time.perf_counter() - t) * 1000
            session.rollback()  # a new read transaction, which sees the days' rows
            brand_id = ctx.brand.id
            for row in rows:
                since = now - timedelta(days=row[0])
                ways: dict[str, list[float]] = {"was": [], "every": [], "rolled": []}
                seen = []
                for r in range(args.repeat):
                    order = ["was", "every", "rolled"]
                    for way in order[r % 3 :] + order[: r % 3]:
                        t = time.perf_counter()
                        if way == "was":
                            seen.append(counted_as_it_was(session, brand_id, since))
                        elif way == "every":
                            seen.append(search._counted_events(session, brand_id, since, None))
                        else:
                            seen.append(search._event_counts(session, brand_id, since))
                        ways[way].append((time.perf_counter() - t) * 1000)
                assert all(c == seen[0] for c in seen), seen
                row += [sum(seen[0].values()), *(statistics.median(ways[w]) for w in ways)]
        statements = queries(db, args.repeat, now) if args.query_against else []
        plans: dict[str, str] = {}
        indexes = against(db, url, args.against, args.repeat, now, plans) if args.against else []
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"# Deflection 'solved' count, {backend} — {time.strftime('%Y-%m-%d')} — "
          f"{platform.machine()}, Python {platform.python_version()}")  # fmt: skip
    print(f"{args.marks:,} marks, {args.shown:,} suggestions shown or opened, "
          f"{args.tickets:,} deflected tickets of {args.customers:,} customers over 30 days "
          f"(seeded in {seeded:.1f} s); median of {args.repeat}\n")  # fmt: skip
    print("| period | solved | before (load + Python) ms | after (SQL) ms |")
    print("|---|---:|---:|---:|")
    for days, solved, b, a, *_ in rows:
        print(f"| {days} days | {solved:,} | {b:.1f} | {a:.1f} |")
    print(f"\nThe other events (shown, opened, no answer, deflected tickets) counted in "
          f"search_events and with past days from their daily counts, alternating (median of "
          f"{args.repeat}); rolling the past days up once, as the hourly housekeeping does, "
          f"took {rolled_ms:.0f} ms and wrote {day_rows:,} rows\n")  # fmt: skip
    print("| period | events | as it was (event <> 'solved') ms | every event, events named ms "
          "| past days rolled up ms |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    for days, _solved, _b, _a, n, was, every, rolled in rows:
        print(f"| {days} days | {n:,} | {was:.1f} | {every:.1f} | {rolled:.1f} |")
    if indexes:
        print(f"\nThe SQL count with the schema at {args.against} and at head, alternating "
              f"(median of {args.repeat} rounds)\n")  # fmt: skip
        print(f"| period | at {args.against} ms | at head ms |")
        print("|---|---:|---:|")
        for days, old_ms, head_ms in indexes:
            print(f"| {days} days | {old_ms:.1f} | {head_ms:.1f} |")
    if statements:
        print(f"\nThe count's statement at head: one NOT EXISTS over both cases (as it was) and "
              f"today's, alternating (median of {args.repeat} rounds)\n")  # fmt: skip
        print("| period | solved marks | one NOT EXISTS ms | today's ms |")
        print("|---|---:|---:|---:|")
        for days, n, old_ms, new_ms in statements:
            print(f"| {days} days | {n:,} | {old_ms:.1f} | {new_ms:.1f} |")
    for schema, text_ in plans.items() if args.explain else ():
        print(f"\nThe count's plan (30 days) at {schema}:\n\n{text_}")


def explained(db: Any, brand_id: int, since: datetime) -> str:
    """The plan of search.service.separate_marks exactly as sent (PostgreSQL: run, with
    EXPLAIN ANALYZE; SQLite: EXPLAIN QUERY PLAN)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from crowdcx.search.service import separate_marks

    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        verb = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN (ANALYZE, BUFFERS)"

        def explain(*args: Any) -> tuple[str, Any]:
            return f"{verb} {args[2]}", args[3]

        event.listen(conn, "before_cursor_execute", explain, retval=True)
        rows = conn.execute(separate_marks(Session(conn), brand_id, since)).all()
        event.remove(conn, "before_cursor_execute", explain)
    return "\n".join(str(r[-1]) for r in rows)


def queries(db: Any, repeat: int, now: datetime) -> list[Any]:
    """Median ms of the separate marks' count per period, by the statement as it was and as
    search.service sends it now, alternating (both must give the same answer)."""
    sys.path.insert(0, str(ROOT))
    from tests.knowledge.deflection_reference import one_exists

    from crowdcx.search.service import separate_marks
    from crowdcx.tenancy.service import access_brand

    out = []
    with db.sessions() as session:
        brand_id = access_brand(session, "volga", None).brand.id
        for days in (30, 7):
            since = now - timedelta(days=days)
            timings: dict[str, list[float]] = {"old": [], "new": []}
            answers: set[int] = set()
            for r in range(repeat):
                for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
                    statement = one_exists if name == "old" else separate_marks
                    t = time.perf_counter()
                    answers.add(int(session.scalar(statement(session, brand_id, since))))
                    timings[name].append((time.perf_counter() - t) * 1000)
            assert len(answers) == 1, answers
            out.append((days, answers.pop(), statistics.median(timings["old"]),
                        statistics.median(timings["new"])))  # fmt: skip
    return out


def against(
    db: Any, url: str, revision: str, repeat: int, now: datetime, plans: dict[str, str]
) -> list[Any]:
    """Median ms of search.deflection's count per period at ``revision`` and at head, the
    schema moved between them each round (the same rows; both must give the same answer);
    the count's plan at each into ``plans``."""
    from crowdcx.kernel.migrate import downgrade, upgrade
    from crowdcx.search import service as search
    from crowdcx.tenancy.service import access_brand

    periods = (30, 7)
    timings: dict[tuple[str, int], list[float]] = {}
    answers: dict[int, set[int]] = {d: set() for d in periods}
    for _ in range(repeat):
        for schema in ("old", "head"):
            db.engine.dispose()
            (downgrade if schema == "old" else upgrade)(
                url, revision if schema == "old" else "heads"
            )
            refresh(db)
            with db.sessions() as session:
                ctx = access_brand(session, "volga", None)
                key = revision if schema == "old" else "head"
                if key not in plans:
                    plans[key] = explained(db, ctx.brand.id, now - timedelta(days=30))
                for days in periods:
                    t = time.perf_counter()
                    counts = search.deflection(session, ctx, now - timedelta(days=days))
                    timings.setdefault((schema, days), []).append((time.perf_counter() - t) * 1000)
                    answers[days].add(counts["solved"])
    assert all(len(a) == 1 for a in answers.values()), answers
    return [(d, statistics.median(timings["old", d]), statistics.median(timings["head", d]))
            for d in periods]  # fmt: skip


if __name__ == "__main__":
    main()
