"""Community reads at scale: the pages and API reads of one brand holding ``--questions``
questions (default 100,000) and two answers each, through HTTP on the production server.

The demo database is extended in bulk (plain INSERTs: questions in the demo's communities with
one of 500 tags each, answers with votes and accepts spread over them), then each read is
timed alone, one request at a time: the median and the worst of ``--repeat`` requests, beside
``GET /healthz`` (the HTTP stack alone) in the same run. community_load.py measures throughput
on a small forum; this measures whether a read stays cheap when the forum is large (an index
range read, not a scan or a sort of every question).

    .venv/bin/python bench/community_scale.py [--questions 100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import Server

POST_COLUMNS = (
    "kind, community_id, question_id, author_id, title, body, body_html, language, tags, up, "
    "down, answers, views, accepted, brand_approved, solved, hidden, closed, created_at, "
    "updated_at, brand_id"
)
AT = "2026-11-01 10:00:00"


def seed(db: Path, slug: str, n: int) -> int:
    """Add ``n`` questions and ``2n`` answers to the brand; return the first question's id."""
    conn = sqlite3.connect(db)
    (brand,) = conn.execute("SELECT id FROM brands WHERE slug = ?", (slug,)).fetchone()
    communities = [
        r[0] for r in conn.execute("SELECT id FROM communities WHERE brand_id = ?", (brand,))
    ]
    users = [r[0] for r in conn.execute("SELECT id FROM users")]
    insert = f"INSERT INTO community_posts ({POST_COLUMNS}) VALUES ({', '.join('?' * 21)})"
    with conn:
        conn.executemany(
            insert,
            (
                ("question", communities[i % len(communities)], None, users[i % len(users)],
                 f"Вопрос {i}: не работает роуминг", "Текст вопроса.", "<p>Текст вопроса.</p>",
                 "ru" if i % 4 else "en", f'["t{i % 500}"]', i % 7, i % 3, 2, 0, 0, 0, i % 2,
                 0, 0, AT, AT, brand)
                for i in range(n)
            ),
        )  # fmt: skip
        (first,) = conn.execute(
            "SELECT min(id) FROM community_posts WHERE title LIKE 'Вопрос %: не работает роуминг'"
        ).fetchone()
        conn.executemany(
            "INSERT INTO community_post_tags (brand_id, post_id, tag) VALUES (?, ?, ?)",
            ((brand, first + i, f"t{i % 500}") for i in range(n)),
        )
        conn.executemany(
            insert,
            (
                ("answer", communities[(i // 2) % len(communities)], first + i // 2,
                 users[(i + 1) % len(users)], "", "Ответ.", "<p>Ответ.</p>", "ru", "[]", i % 5,
                 0, 0, 0, int(i % 4 == 0), 0, 0, 0, 0, AT, AT, brand)
                for i in range(2 * n)
            ),
        )  # fmt: skip
    conn.close()
    return int(first)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    server = Server(workers=1)
    started = time.perf_counter()
    first = seed(server.dir / "crowdcx.db", "volga", args.questions)
    seeded = time.perf_counter() - started
    some = first + args.questions // 2
    reads = {
        "GET /healthz (reference)": "/healthz",
        "community home (popular + newest)": "/b/volga/community",
        "community home, most votes": "/b/volga/community?sort=votes",
        "community home, unsolved": "/b/volga/community?sort=unsolved",
        "a tag's page": "/b/volga/community?tag=t7",
        "a community's page": "/b/volga/community/c/mobile",
        "API questions, newest": "/api/v1/brands/volga/questions?limit=30",
        "API questions, page 100 (cursor)": None,
        "API questions, most votes": "/api/v1/brands/volga/questions?sort=votes&limit=30",
        "API questions of a community": "/api/v1/brands/volga/questions?community=mobile&limit=30",
        "API questions of a tag": "/api/v1/brands/volga/questions?tag=t7&limit=30",
        "question page": f"/b/volga/community/questions/{some}",
        "API question with answers": f"/api/v1/brands/volga/questions/{some}",
        "leaderboard of a tag, all time": "/api/v1/brands/volga/leaderboard?period=all&tag=t7",
        "leaderboard of a community, all time": "/api/v1/brands/volga/leaderboard?period=all&community=mobile",
    }
    rows = []
    with server, httpx.Client(base_url=server.base, timeout=60) as http:
        cursor_path = "/api/v1/brands/volga/questions?limit=30&cursor=%s"
        page = http.get("/api/v1/brands/volga/questions?limit=30").json()
        for _ in range(98):
            page = http.get(cursor_path % page["next_cursor"]).json()
        reads["API questions, page 100 (cursor)"] = cursor_path % page["next_cursor"]
        for name, path in reads.items():
            assert path is not None
            http.get(path)  # warm
            times, codes = [], set()
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                codes.add(http.get(path).status_code)
                times.append((time.perf_counter() - t0) * 1000)
            rows.append((name, sorted(codes), statistics.median(times), max(times)))
    print(
        f"# Community reads at {args.questions:,} questions — {time.strftime('%Y-%m-%d %H:%M')} — "
        f"{platform.machine()}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"crowdcx serve --production --workers 1 on SQLite; demo data + {args.questions:,} "
        f"questions and {2 * args.questions:,} answers in one brand (seeded in {seeded:.1f} s); "
        f"one request at a time, {args.repeat} each\n"
    )
    print("| read | status | median ms | max ms |")
    print("|---|---|---:|---:|")
    for name, codes, median, worst in rows:
        print(f"| {name} | {'/'.join(map(str, codes))} | {median:.1f} | {worst:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
