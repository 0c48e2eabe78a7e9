"""Leaderboard and reputation card from the database: 100,000 users and 1,000,000 ledger rows
in SQLite (the embedded default), read through the same service functions the API and pages
call (`community.service.leaderboard`, `community.service.reputation_card`).

The ledger is seeded with raw SQL (users over 365 days, Stack Exchange-like reasons), then
each read is timed ``--repeat`` times: leaderboard week / month / all time (top 50), and the
reputation card of random users. Goal (issue 5): p95 < 20 ms.

    .venv/bin/python bench/leaderboard_db.py [--users 100000] [--entries 1000000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

REASONS = [("answer_upvoted", 10, 60), ("question_upvoted", 5, 20), ("answer_accepted", 15, 10),
           ("answer_downvoted", -2, 5), ("accepted_answer_given", 2, 5)]  # fmt: skip


def seed(path: Path, users: int, entries: int, now: datetime) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    brand_id = db.execute("SELECT id FROM brands WHERE slug = 'volga'").fetchone()[0]
    first = db.execute("SELECT COALESCE(MAX(id), 0) FROM users").fetchone()[0] + 1
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.000000")
    db.executemany(
        "INSERT INTO users (id, email, password_hash, display_name, locale, is_platform_admin,"
        " is_active, created_at) VALUES (?, ?, 'x', ?, 'ru', 0, 1, ?)",
        ((first + i, f"u{i}@bench.example", f"Участник {i}", stamp) for i in range(users)),
    )
    rnd = random.Random(7)
    weights = [w for _r, _p, w in REASONS]

    def rows():  # type: ignore[no-untyped-def]
        for i in range(entries):
            uid = first + min(
                users - 1, int(rnd.paretovariate(1.2)) - 1 + rnd.randrange(users) // 50
            )
            reason, pts, _w = rnd.choices(REASONS, weights)[0]
            at = now - timedelta(seconds=rnd.randrange(365 * 86400))
            yield (brand_id, uid, pts, reason, "answer", i, f"bench:{i}",
                   at.strftime("%Y-%m-%d %H:%M:%S.%f"))  # fmt: skip

    db.executemany(
        "INSERT INTO points_entries (brand_id, user_id, points, reason, subject_kind, subject_id,"
        " key, capped, at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
        rows(),
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crowdcx-lb-"))
    db_path = work / "crowdcx.db"
    env = {"CROWDCX_DATABASE_URL": f"sqlite:///{db_path}", "CROWDCX_PASSWORD_HASH_PROFILE": "fast",
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    cli = [sys.executable, "-m", "crowdcx"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*cli, "demo"], env=env, check=True, capture_output=True)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    seed(db_path, args.users, args.entries, now)
    seeded = time.perf_counter() - t0

    from crowdcx.community import service
    from crowdcx.kernel.db import Database
    from crowdcx.reputation import service as points
    from crowdcx.tenancy import service as tenancy

    db = Database(f"sqlite:///{db_path}")
    # The seed bypassed the application, so build the running totals the way an operator
    # would after an import: `crowdcx recompute-reputation` (a full recompute, timed).
    t0 = time.perf_counter()
    with db.transaction() as uow:
        brand_id = tenancy.access_brand(uow.session, "volga", None).brand.id
        summed = points.rebuild_totals(uow.session, brand_id)
    rebuilt = time.perf_counter() - t0
    rnd = random.Random(3)
    results: dict[str, list[float]] = {}
    with db.sessions() as session:
        ctx = tenancy.access_brand(session, "volga", None)
        user_ids = [r[0] for r in session.execute(
            __import__("sqlalchemy").text("SELECT id FROM users WHERE email LIKE '%@bench.example'"))]  # fmt: skip
        for period in ("week", "month", "all"):
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                rows = service.leaderboard(session, ctx, period, None, None, now)
                times.append((time.perf_counter() - t) * 1000)
            results[f"leaderboard {period} (top {len(rows)})"] = times
        times = []
        for _ in range(args.repeat * 4):
            uid = rnd.choice(user_ids)
            t = time.perf_counter()
            service.reputation_card(session, ctx, uid)
            times.append((time.perf_counter() - t) * 1000)
        results["reputation card (random user)"] = times
    print(f"# Leaderboard and reputation from SQLite — {time.strftime('%Y-%m-%d')} — "
          f"{platform.machine()}, Python {platform.python_version()}")  # fmt: skip
    print(f"{args.users:,} users, {args.entries:,} ledger rows (seeded in {seeded:.1f} s); "
          f"service functions in-process")  # fmt: skip
    print(f"full recompute of the running totals from {summed:,} ledger rows: {rebuilt:.1f} s "
          f"(goal < 10 s)\n")  # fmt: skip
    print("| read | n | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for name, values in results.items():
        ordered = sorted(values)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        print(f"| {name} | {len(values)} | {statistics.median(values):.2f} | {p95:.2f} "
              f"| {ordered[-1]:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
