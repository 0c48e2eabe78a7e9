"""Community load, driven the way ../shared/peers.md drove askbot 0.13: the production-mode
server (2 workers) on SQLite, 4 client threads, each signed in through the real sign-in form
(session + CSRF cookies), posting the fields our pages post; each operation driven alone for
``--seconds``; a write is timed as its POST (not the redirect after it), a page as its GET.
Reports ops/s, p50/p95/p99 and server CPU ms per operation (the master and worker processes'
user+system time over the phase / operations), beside askbot's figures.

Operations: ask a question, post an answer, upvote an answer (a veteran with the privilege;
each vote a distinct (voter, answer) pair: ledger entries, daily cap, badges, notification),
accept an answer, view a question page, the community home (list), search the community — and, as the
reference measured in the same run, ``bare``: a signed-in GET /api/v1/me, the cheapest
authenticated request (what the HTTP stack, the session and this driver cost by themselves).

    .venv/bin/python bench/community_load.py [--seconds 15] [--clients 4] [--workers 2]
        [--json out.json] [--ops vote,accept]

``--ops`` runs only the operations named (and ``bare``, the reference, always), after those
that make what they act on: ask and answer before vote or accept, ask before view.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import Server, tree_cpu_seconds

PASSWORD = "crowdcx-demo-2026"
BRAND = "volga"
ASKERS = ["ivan@volga.example", "spam@volga.example"]
HELPERS = ["olga@volga.example", "sergey.expert@volga.example"]
VOTERS = ["dmitry@volga.example", "maria@volga.example", "alexey@volga.example",
          "anna.agent@volga.example"]  # fmt: skip
TITLES = ["Не работает мобильный интернет", "Roaming does not connect", "蓝牙耳机连不上手机"]
QUERIES = ["интернет роуминг", "roaming", "蓝牙耳机", "Wi-Fi роутер", "eSIM"]
ASKBOT = {  # ops/s, p50, p95, p99, server CPU ms/op — ../shared/peers.md
    "ask": (28.8, 135, 168, 189, 58.1),
    "answer": (25.4, 154, 193, 237, 65.1),
    "vote": (49.4, 76, 125, 156, 27.3),
    "accept": (35.7, 111, 139, 157, 32.0),
    "view": (20.5, 163, 297, 331, 82.4),
    "list": (None, None, None, None, None),
    "search": (15.0, 245, 361, 380, 123.0),
    "bare": (None, None, None, None, None),
}


# What an operation acts on is made by the ones before it.
NEEDS = {"ask": {"answer", "vote", "accept", "view"}, "answer": {"vote", "accept"}}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


class Browser:
    """One signed-in person: cookies + the CSRF token the forms carry."""

    def __init__(self, base: str, email: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
        self.http.get("/login")
        self.csrf = self.http.cookies.get("crowdcx_csrf") or ""
        r = self.http.post("/login", data={"csrf_token": self.csrf, "email": email,
                                           "password": PASSWORD})  # fmt: skip
        if r.status_code != 303:
            raise RuntimeError(f"sign-in failed for {email}: {r.status_code}")

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf, **data})

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(path, params=params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--ops", default="", help="comma-separated operations to report")
    args = parser.parse_args()
    wanted = {op.strip() for op in args.ops.split(",") if op.strip()}
    unknown = wanted - set(ASKBOT)
    if unknown:
        parser.error(f"unknown operations: {', '.join(sorted(unknown))}")

    server = Server(workers=args.workers)
    db = sqlite3.connect(server.dir / "crowdcx.db")
    # A brand running a load test lifts its posting limits (brand policy settings.community).
    row = db.execute("SELECT settings FROM brands WHERE slug = ?", (BRAND,)).fetchone()
    settings = json.loads(row[0])
    settings["community"] = {"member_posts_per_hour": 10**6, "new_member_posts_per_hour": 10**6}
    db.execute("UPDATE brands SET settings = ? WHERE slug = ?", (json.dumps(settings), BRAND))
    db.commit()
    db.close()
    page = f"/b/{BRAND}/community"
    results: dict[str, dict[str, float]] = {}
    with server:
        assert server.proc is not None
        pid = server.proc.pid
        n = args.clients
        askers = [Browser(server.base, ASKERS[i % len(ASKERS)]) for i in range(n)]
        helpers = [Browser(server.base, HELPERS[i % len(HELPERS)]) for i in range(n)]
        voters = [Browser(server.base, VOTERS[i % len(VOTERS)]) for i in range(n)]
        questions: list[tuple[int, int]] = []  # (question id, asker client index)
        answers: list[tuple[int, int]] = []  # (answer id, question id)
        lock = threading.Lock()

        def phase(op: str, step: Callable[[int, random.Random], httpx.Response | None]) -> None:
            if wanted and op not in wanted | {"bare"} and not (wanted & NEEDS.get(op, set())):
                return
            times: list[float] = []
            errors = 0
            stop = time.perf_counter() + args.seconds

            def client(i: int) -> None:
                nonlocal errors
                rnd = random.Random(i)
                while time.perf_counter() < stop:
                    t0 = time.perf_counter()
                    try:
                        r = step(i, rnd)
                    except httpx.HTTPError:
                        with lock:
                            errors += 1
                        continue
                    dt = (time.perf_counter() - t0) * 1000
                    if r is None:  # nothing left for this client: its phase ends here
                        return
                    with lock:
                        times.append(dt)
                        if r.status_code >= 400:
                            errors += 1

            cpu0, t0 = tree_cpu_seconds(pid), time.perf_counter()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed, cpu = time.perf_counter() - t0, tree_cpu_seconds(pid) - cpu0
            results[op] = {
                "ops_s": len(times) / elapsed, "p50_ms": pct(times, 0.5),
                "p95_ms": pct(times, 0.95), "p99_ms": pct(times, 0.99),
                "cpu_ms_op": cpu * 1000 / max(1, len(times)), "errors": errors,
                "n": len(times),
            }  # fmt: skip

        def ask(i: int, rnd: random.Random) -> httpx.Response:
            r = askers[i].post(f"{page}/ask", {
                "community": "mobile", "title": f"{rnd.choice(TITLES)} {rnd.random():.6f}",
                "body": "После обновления телефона пропал 4G. Что делать?", "tags": "4g",
                "language": "ru"})  # fmt: skip
            m = re.search(r"/questions/(\d+)$", r.headers.get("location", ""))
            if r.status_code == 303 and m:
                with lock:
                    questions.append((int(m.group(1)), i))
            return r

        phase("ask", ask)

        def answer(i: int, rnd: random.Random) -> httpx.Response:
            qid, _ = rnd.choice(questions)  # the ask phase left questions
            r = helpers[i].post(f"{page}/questions/{qid}/answer",
                                {"body": "Проверьте точку доступа internet.volga."})  # fmt: skip
            if r.status_code == 303:
                with lock:
                    answers.append((0, qid))
            return r

        phase("answer", answer)
        # The answer form redirects to the question, not the answer: read the new ids once.
        db = sqlite3.connect(server.dir / "crowdcx.db")
        answers[:] = [(a, q) for a, q in db.execute(
            "SELECT id, question_id FROM community_posts WHERE kind = 'answer' "
            "AND created_at > datetime('now', '-1 hour') ORDER BY id")]  # fmt: skip
        db.close()
        # Each voter (a person) upvotes every new answer once, in their own order: the pool
        # is (voters × answers), so a fast vote phase does not run out of answers to vote on.
        vote_queues = {
            p: random.Random(p).sample(answers, len(answers)) for p in range(len(VOTERS))
        }
        accept_queue = list({q: (a, q) for a, q in answers}.values())

        def vote(i: int, rnd: random.Random) -> httpx.Response | None:
            with lock:
                queue = vote_queues[i % len(VOTERS)]
                if not queue:
                    return None
                aid, _ = queue.pop()
            return voters[i].post(f"/b/{BRAND}/community/posts/{aid}/vote", {"value": "1"})

        phase("vote", vote)
        asked_by = dict(questions)

        def accept(i: int, rnd: random.Random) -> httpx.Response | None:
            with lock:
                mine = [
                    k for k, (a, q) in enumerate(accept_queue) if asked_by.get(q, -1) % 2 == i % 2
                ]
                if not mine:
                    return None
                aid, qid = accept_queue.pop(mine[0])
            return askers[i].post(f"{page}/questions/{qid}/accept", {"answer_id": str(aid)})

        phase("accept", accept)
        phase("view", lambda i, rnd: askers[i].get(f"{page}/questions/{rnd.choice(questions)[0]}"))
        phase("list", lambda i, rnd: askers[i].get(page))
        phase("search", lambda i, rnd: askers[i].get(page, q=rnd.choice(QUERIES)))
        # The reference: the same browsers, signed in, on the cheapest authenticated request
        # (session cookie, one user lookup, a small JSON body) — the ceiling of this stack
        # and this driver on this machine in this sitting.
        phase("bare", lambda i, rnd: voters[i].get("/api/v1/me"))
        rss = server.rss_mib()

    print(f"# Community load — {time.strftime('%Y-%m-%d')} — {platform.machine()}, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"server: crowdcx serve --production --workers {args.workers} on SQLite; "
          f"{args.clients} signed-in browsers (cookies + CSRF), each operation alone for "
          f"{args.seconds:g} s; RSS after {rss:.0f} MiB\n")  # fmt: skip
    print("| operation | n | ops/s | p50 ms | p95 ms | p99 ms | CPU ms/op | errors "
          "| askbot ops/s | askbot p99 | askbot CPU ms/op | × askbot ops/s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for op, r in results.items():
        ref = ASKBOT[op]
        ratio = f"{r['ops_s'] / ref[0]:.1f}" if ref[0] else "–"
        refs = " | ".join("–" if v is None else str(v) for v in (ref[0], ref[3], ref[4]))
        print(f"| {op} | {r['n']:.0f} | {r['ops_s']:.1f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
              f"| {r['p99_ms']:.1f} | {r['cpu_ms_op']:.1f} | {r['errors']:.0f} | {refs} "
              f"| {ratio} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
