"""The write cost of the readers' marks index (issue 4): every search writes a "shown" mark,
and migration 0037 widened the marks' index from (brand_id, event, created_at) to
(brand_id, event, created_at, kind, ref_id, visitor) so the deflection count reads it alone.

On a brand holding ``--marks`` existing marks (80 % shown, 12 % opened, 8 % solved, over 30
days), the mark-writing service call — search.service.record of a "shown" mark in its own
unit of work, committed, as the search API does after searching — is timed with the schema
at ``--against`` (0036: the narrow index) and at head, in rounds that alternate the two on
the same rows (the order swapped each round), so a loaded machine slows both alike. The
reference in the same rounds is the search use case at head without HTTP: search.search on
the demo brand plus that mark and the commit; a whole HTTP request costs more, so the index's
share of it printed here is an upper bound.

    .venv/bin/python bench/search_marks_write.py [--marks 50000,500000] [--writes 400]
        [--rounds 5] [--against 0036]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]  (a scratch database is
        created there and dropped)

Several ``--marks`` sizes grow the same database: the rows are added, then timed again.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _scratch import demo_database, refresh  # noqa: E402

QUERIES = ("как вернуть деньги", "bluetooth не подключается", "заказ не пришёл", "退款",
           "доставка", "сменить пароль", "гарантия", "battery")  # fmt: skip


def seed(db: Any, start_n: int, end_n: int, now: datetime) -> None:
    """Marks ``start_n`` … ``end_n - 1`` of the Volga brand, in chunks of 50,000."""
    from sqlalchemy import insert

    import crowdcx.all_models  # noqa: F401  (every table, for the foreign keys)
    from crowdcx.knowledge.models import SearchEvent
    from crowdcx.tenancy.service import access_brand

    rnd = random.Random(start_n)
    first = now - timedelta(days=30)
    for lo in range(start_n, end_n, 50_000):
        with db.transaction() as uow:
            brand = access_brand(uow.session, "volga", None).brand.id
            rows = []
            for i in range(lo, min(lo + 50_000, end_n)):
                at = first + timedelta(seconds=rnd.randrange(30 * 86400))
                roll = rnd.random()
                row = {"brand_id": brand, "source": "help", "created_at": at,
                       "query": rnd.choice(QUERIES), "kind": "", "ref_id": "", "results": 5,
                       "visitor": None, "day": None}  # fmt: skip
                if roll >= 0.8:
                    row |= {"event": "opened" if roll < 0.92 else "solved",
                            "kind": rnd.choice(("article", "question")),
                            "ref_id": str(rnd.randrange(1, 400)), "query": "",
                            "visitor": f"a:{i:x}", "day": at.date().isoformat()}  # fmt: skip
                else:
                    row["event"] = "shown"
                rows.append(row)
            uow.session.execute(insert(SearchEvent), rows)
            uow.commit()


def timed_writes(db: Any, n: int, with_search: bool) -> list[float]:
    """ms of each of ``n`` units of work writing one "shown" mark (after a search if
    ``with_search``), each committed on its own."""
    from crowdcx.kernel.models import utcnow
    from crowdcx.search import service as search
    from crowdcx.tenancy.service import access_brand

    out = []
    with db.sessions() as session:
        ctx = access_brand(session, "volga", None)
        session.commit()
    for i in range(n):
        q = QUERIES[i % len(QUERIES)]
        t = time.perf_counter()
        with db.transaction() as uow:
            results = 0
            if with_search:
                answer = search.search(uow.session, ctx, q, language="ru", now=utcnow(), limit=5)
                results = len(answer.results)
            search.record(uow.session, ctx, "shown", "api", query=q, results=results, at=utcnow())
            uow.commit()
        out.append((time.perf_counter() - t) * 1000)
    return out


def measure(db: Any, url: str, against: str, writes: int, rounds: int) -> dict[str, list[float]]:
    from crowdcx.kernel.migrate import downgrade, upgrade

    ms: dict[str, list[float]] = {"old": [], "head": [], "search": []}
    for r in range(rounds):
        order = ("old", "head") if r % 2 == 0 else ("head", "old")
        for schema in order:
            db.engine.dispose()
            if schema == "old":
                downgrade(url, against)
            else:
                upgrade(url, "heads")
            refresh(db)
            timed_writes(db, 30, False)  # warm the caches after the schema change
            ms[schema] += timed_writes(db, writes, False)
            if schema == "head":
                ms["search"] += timed_writes(db, max(writes // 4, 20), True)
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marks", default="50000,500000", help="existing marks, comma-separated")
    parser.add_argument("--writes", type=int, default=400, help="marks written per round each")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", default="0036")
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    sizes = [int(m) for m in args.marks.split(",")]
    results = []
    with demo_database(args.postgres, "bench_marks") as url:
        from crowdcx.kernel.db import Database

        db = Database(url)
        now = datetime.now(UTC)
        have = 0
        for size in sizes:
            seed(db, have, size, now)
            have = size
            load = os.getloadavg()[0]
            ms = measure(db, url, args.against, args.writes, args.rounds)
            results.append((size, ms, load, os.getloadavg()[0]))
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"# Search mark writes, {backend} — {time.strftime('%Y-%m-%d %H:%M')} — "
          f"{platform.machine()}, Python {platform.python_version()}")  # fmt: skip
    print(f"{args.rounds} rounds alternating the schema at {args.against} and at head, "
          f"{args.writes} 'shown' marks each per round, each its own committed unit of work\n")  # fmt: skip
    print(
        f"| existing marks | load | mark at {args.against} ms p50 / p95 | mark at head ms "
        "p50 / p95 | head − old ms | marks/s old / head | search + mark ms p50 | share |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for size, ms, l0, l1 in results:
        old, head = (statistics.quantiles(ms[k], n=20) for k in ("old", "head"))
        o50, h50, s50 = (statistics.median(ms[k]) for k in ("old", "head", "search"))
        print(f"| {size:,} | {l0:.1f}–{l1:.1f} | {o50:.3f} / {old[18]:.3f} | "
              f"{h50:.3f} / {head[18]:.3f} | {h50 - o50:+.3f} | "
              f"{1000 / statistics.mean(ms['old']):.0f} / {1000 / statistics.mean(ms['head']):.0f} "
              f"| {s50:.2f} | {(h50 - o50) / s50:+.1%} |")  # fmt: skip


if __name__ == "__main__":
    main()
