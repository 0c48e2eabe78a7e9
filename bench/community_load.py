"""Community load: ask / answer / vote / view a question / list questions through HTTP with
concurrent clients against the production-mode server (2 workers) on SQLite, beside the
askbot 0.13 figures of ../shared/peers.md (same shape: 4 client threads, real HTTP, 2
workers, SQLite in WAL mode). Our clients authenticate with bearer tokens (askbot's driver
used session cookies); every vote is an agent's upvote on a new answer (ledger entries written, daily cap checked).

    .venv/bin/python bench/community_load.py [--seconds 20] [--clients 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import Server

PASSWORD = "crowdcx-demo-2026"
BRAND = "volga"
ASKERS = ["ivan@volga.example", "olga@volga.example"]
HELPERS = ["sergey.expert@volga.example", "olga@volga.example"]
VOTER = "anna.agent@volga.example"
TITLES = ["Не работает мобильный интернет", "Roaming does not connect", "蓝牙耳机连不上手机"]
ASKBOT = {  # ops/s, p50, p95, p99 from ../shared/peers.md
    "ask": (28.8, 135, 168, 189),
    "answer": (25.4, 154, 193, 237),
    "vote": (49.4, 76, 125, 156),
    "view": (20.5, 163, 297, 331),
    "list": (None, None, None, None),
}


def token(base: str, email: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["access_token"])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    server = Server(workers=args.workers)
    db = sqlite3.connect(server.dir / "crowdcx.db")
    # A brand running a load test lifts its posting limits (brand policy settings.community).
    row = db.execute("SELECT settings FROM brands WHERE slug = ?", (BRAND,)).fetchone()
    settings = json.loads(row[0])
    settings["community"] = {"member_posts_per_hour": 10**6, "new_member_posts_per_hour": 10**6}
    db.execute("UPDATE brands SET settings = ? WHERE slug = ?", (json.dumps(settings), BRAND))
    db.commit()
    db.close()
    with server:
        base = f"{server.base}/api/v1/brands/{BRAND}"
        admin = token(server.base, "admin@volga.example")
        httpx.post(
            f"{base}/communities",
            json={"slug": "mobile", "name": "Mobile"},
            headers={"Authorization": f"Bearer {admin}"},
        ).raise_for_status()
        tokens = {e: token(server.base, e) for e in {*ASKERS, *HELPERS, VOTER}}
        times: dict[str, list[float]] = {k: [] for k in ASKBOT}
        errors: dict[str, int] = dict.fromkeys(ASKBOT, 0)
        questions: list[int] = []
        codes: dict[str, set[int]] = {}
        lock = threading.Lock()
        stop = time.perf_counter() + args.seconds

        def timed(op: str, fn: object) -> httpx.Response | None:
            t0 = time.perf_counter()
            try:
                r = fn()  # type: ignore[operator]
            except httpx.HTTPError:
                r = None
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                times[op].append(dt)
                if r is None or r.status_code >= 400:
                    errors[op] += 1
                    codes.setdefault(op, set()).add(r.status_code if r is not None else 0)
            return r

        def client(n: int) -> None:
            rnd = random.Random(n)
            with httpx.Client(timeout=30) as http:

                def auth(email: str) -> dict[str, str]:
                    return {"Authorization": f"Bearer {tokens[email]}"}

                i = 0
                while time.perf_counter() < stop:
                    i += 1
                    r = timed("ask", lambda: http.post(
                        f"{base}/questions",
                        json={"community": "mobile", "title": f"{rnd.choice(TITLES)} #{n}-{i}",
                              "body": "После обновления телефона пропал 4G. Что делать?"},
                        headers=auth(ASKERS[n % 2])))  # fmt: skip
                    if r is not None and r.status_code == 201:
                        with lock:
                            questions.append(r.json()["id"])
                    if not questions:
                        continue
                    qid = rnd.choice(questions[-50:])
                    r = timed("answer", lambda: http.post(
                        f"{base}/questions/{qid}/answers",
                        json={"body": "Проверьте точку доступа internet.volga и перезагрузите."},
                        headers=auth(HELPERS[n % 2])))  # fmt: skip
                    if r is not None and r.status_code == 201:
                        aid = r.json()["id"]
                        timed(
                            "vote",
                            lambda: http.post(
                                f"{base}/posts/{aid}/vote", json={"value": 1}, headers=auth(VOTER)
                            ),
                        )
                    timed("view", lambda: http.get(f"{base}/questions/{qid}"))
                    timed("list", lambda: http.get(f"{base}/questions", params={"limit": 30}))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        rss = server.rss_mib()

    print(f"# Community load — {time.strftime('%Y-%m-%d')} — {platform.machine()}, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"server: crowdcx serve --production --workers {args.workers} on SQLite; "
          f"{args.clients} client threads, {args.seconds} s, bearer tokens; RSS after {rss:.0f} MiB\n")  # fmt: skip
    print(
        "| operation | ops/s | p50 ms | p95 ms | p99 ms | errors | askbot ops/s | askbot p50 | askbot p99 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    out = {}
    for op, values in times.items():
        rate = len(values) / elapsed
        ref = ASKBOT[op]
        p50, p95, p99 = pct(values, 0.5), pct(values, 0.95), pct(values, 0.99)
        out[op] = {"ops_s": rate, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "errors": errors[op]}
        refs = " | ".join("–" if v is None else str(v) for v in (ref[0], ref[1], ref[3]))
        print(f"| {op} | {rate:.1f} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {errors[op]} | {refs} |")
    print(
        f"\nmean of all operations: {statistics.mean(v for vs in times.values() for v in vs):.1f} ms"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
