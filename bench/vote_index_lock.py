"""Concurrent votes on one brand's unsolved questions on PostgreSQL, this tree's search index
against a reference tree's ``search/index.py`` (``--against``, a git revision: the old way),
in one run.

An unsolved question is not in the search index, yet every vote on it re-syncs it there and
so deletes it from the index. The old delete took the brand's ``search_stats`` row first and
held it until the vote committed, so a brand's votes ran one after another from that point;
this tree's probes the (brand, kind, ref) unique index and, finding nothing, locks nothing.

On the demo data (brand volga, its solved questions indexed), ``--voters`` members with the
upvote privilege each run in their own process (no shared GIL, as server workers) and upvote
``--questions`` fresh unsolved questions a phase, their own (no post or author shared with
another voter: only the brand and its index), each vote a use case in its own
transaction (``community.service.vote``, committed as a request does). Phases alternate the
two trees' index, which goes first alternating by round, so a loaded machine slows both
alike. Prints votes/s (the phase's votes over its wall time, from the moment all voters are
ready) and per-vote p50/p95 ms, the median over rounds. With ``--holder`` one more process
holds the brand's row in an open transaction for the whole phase, as a long index writer
does: the old way's votes then cannot finish until it lets go (they are counted as timed out
after ``--holder-seconds``).

    .venv/bin/python bench/vote_index_lock.py [--voters 4] [--questions 20] [--rounds 4]
        [--against b9afe37] [--holder]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import platform
import queue
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import select, text  # noqa: E402

from _scratch import demo_database, refresh  # noqa: E402
from crowdcx.community import service as community  # noqa: E402
from crowdcx.community.models import CommunityRow  # noqa: E402
from crowdcx.identity import service as identity  # noqa: E402
from crowdcx.identity.models import User  # noqa: E402
from crowdcx.kernel.db import Database  # noqa: E402
from crowdcx.kernel.models import utcnow  # noqa: E402
from crowdcx.reputation import rules as rep  # noqa: E402
from crowdcx.reputation import service as points  # noqa: E402
from crowdcx.search import index as this_index  # noqa: E402
from crowdcx.search import service as search  # noqa: E402
from crowdcx.tenancy import service as tenancy  # noqa: E402

BRAND = "volga"


def reference_module(revision: str) -> ModuleType:
    """``crowdcx.search.index`` as it was at ``revision`` (the old way)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/crowdcx/search/index.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    spec = importlib.util.spec_from_loader("reference_index", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["reference_index"] = module  # dataclasses look their module up
    exec(compile(source, f"{revision}:index.py", "exec"), module.__dict__)  # noqa: S102
    return module


def setup(url: str, voters: int, phases: int, per_phase: int) -> tuple[list[int], Any]:
    """``voters`` new helpers with the upvote privilege, and for each voter and phase
    ``per_phase`` unsolved questions of its own author (an agent: no new member's limit; 20
    an hour of the past day: the posting limit), so that voters share no post and no author
    row: what they still share is the brand, and its index."""
    db = Database(url)
    now = utcnow()
    with db.transaction() as uow:
        system = tenancy.access_brand(uow.session, BRAND, None)
        people, askers = [], []
        for i in range(voters):
            for role, group in (("helper", people), ("agent", askers)):
                user = identity.register(
                    uow, email=f"bench.{role}{i}@volga.example", password="a long passphrase",
                    display_name=f"Bench {role} {i}", locale="ru", hash_profile="fast",
                )  # fmt: skip
                tenancy.add_member(uow, system, user.email, [role])
                group.append(user)
        ctx = tenancy.access_brand(uow.session, BRAND, None)
        points.write(uow, ctx, [
            rep.PointsEntry(u.id, ctx.brand.id, 200, "adjustment", rep.SubjectRef("user", u.id),
                            now - timedelta(days=30), f"bench-seed:{u.id}")
            for u in people
        ])  # fmt: skip
        place = uow.session.scalars(
            select(CommunityRow).where(CommunityRow.brand_id == ctx.brand.id)
        ).first()
        assert place is not None
        posts: list[list[list[int]]] = []  # [phase][voter] -> question ids
        for p in range(phases):
            posts.append([])
            for v, author in enumerate(askers):
                asker = tenancy.BrandContext(ctx.brand, author, frozenset({"agent"}))
                ids = []
                for i in range(per_phase):
                    at = now - timedelta(days=1) + (p * per_phase + i) * timedelta(minutes=3)
                    q = community.ask(uow, asker, place, f"Нет сети {p} {v} {i}",
                                      "Телефон не видит мобильный интернет.", "ru", [], at)  # fmt: skip
                    ids.append(q.id)
                posts[p].append(ids)
        voter_ids = [u.id for u in people]
    refresh(db)
    db.dispose()
    return voter_ids, posts


def voter(
    url: str, use_reference: str, user_id: int, posts: list[int], ready: Any, out: Any
) -> None:
    """One voter's process: upvote each post in its own transaction, after the barrier."""
    if use_reference:
        ref = reference_module(use_reference)
        search.index_class_for = ref.index_class_for  # type: ignore[attr-defined]
    db = Database(url)
    with db.sessions() as session:  # warm the connection pool
        session.execute(text("SELECT 1"))
    times: list[float] = []
    ready.wait()
    start = time.perf_counter()
    for post_id in posts:
        t0 = time.perf_counter()
        with db.transaction() as uow:
            user = uow.session.get_one(User, user_id)
            ctx = tenancy.access_brand(uow.session, BRAND, user)
            post = community.readable_post(uow.session, ctx, post_id, "question")
            community.vote(uow, ctx, post, 1, utcnow())
        times.append(time.perf_counter() - t0)
    out.put((start, time.perf_counter(), times))
    db.dispose()


def holder(url: str, ready: Any, stop: Any) -> None:
    """Holds the brand's statistics row, as an index writer does until it commits."""
    db = Database(url)
    with db.engine.connect() as conn:
        conn.execute(
            text(
                "SELECT 1 FROM search_stats s JOIN brands b ON b.id = s.brand_id "
                "WHERE b.slug = :slug AND s.visibility = 'public' FOR UPDATE OF s"
            ),
            {"slug": BRAND},
        )
        ready.wait()
        stop.wait()
        conn.rollback()
    db.dispose()


def phase(
    url: str, reference: str, voter_ids: list[int], posts: list[list[int]], hold: float
) -> tuple[float, list[float], int]:
    """(votes/s, per-vote seconds, votes not done while the holder held) of one phase."""
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(len(voter_ids) + (2 if hold else 1))
    out = ctx.Queue()
    stop = ctx.Event()
    procs = [
        ctx.Process(target=voter, args=(url, reference, uid, mine, ready, out))
        for uid, mine in zip(voter_ids, posts, strict=True)
    ]
    if hold:
        procs.append(ctx.Process(target=holder, args=(url, ready, stop)))
    for p in procs:
        p.start()
    ready.wait()
    results = []
    late = 0
    if hold:
        deadline = time.monotonic() + hold
        while len(results) < len(voter_ids) and time.monotonic() < deadline:
            try:
                results.append(out.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:  # the deadline passed
                break
        late = (len(voter_ids) - len(results)) * len(posts[0])
        stop.set()
    while len(results) < len(voter_ids):
        results.append(out.get())
    for p in procs:
        p.join()
    start = min(r[0] for r in results)
    end = max(r[1] for r in results)
    times = [t for r in results for t in r[2]]
    return len(times) / (end - start), times, late


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--voters", type=int, default=4)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--against", default="b9afe37")
    parser.add_argument("--holder", action="store_true")
    parser.add_argument("--holder-seconds", type=float, default=3.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    this_index.PostgresSearchIndex  # noqa: B018 (this tree's is the one imported)
    per_round = args.questions
    with demo_database(args.postgres, "bench_votelock") as url:
        voter_ids, posts = setup(url, args.voters, 2 * args.rounds, per_round)
        figures: dict[str, list[tuple[float, float, float, int]]] = {"old": [], "new": []}
        phases = iter(posts)
        for r in range(args.rounds):
            order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
            for way in order:
                rate, times, late = phase(
                    url,
                    args.against if way == "old" else "",
                    voter_ids,
                    next(phases),
                    args.holder_seconds if args.holder else 0,
                )
                figures[way].append((rate, pct(times, 0.5) * 1e3, pct(times, 0.95) * 1e3, late))
                print(f"round {r + 1} {way}: {rate:7.1f} votes/s  p50 {pct(times, 0.5) * 1e3:6.1f}"
                      f" ms  p95 {pct(times, 0.95) * 1e3:6.1f} ms"
                      + (f"  not done while held: {late}" if args.holder else ""))  # fmt: skip
    print(f"\n{platform.python_version()}, PostgreSQL, {args.voters} voter processes x "
          f"{per_round} unsolved questions a phase, {args.rounds} rounds; old = "
          f"{args.against}:search/index.py" + (f"; a holder of the brand's row for "
                                                f"{args.holder_seconds} s" if args.holder
                                                else ""))  # fmt: skip
    for way in ("old", "new"):
        rows = figures[way]
        print(f"{way}: {statistics.median(r[0] for r in rows):7.1f} votes/s  "
              f"p50 {statistics.median(r[1] for r in rows):6.1f} ms  "
              f"p95 {statistics.median(r[2] for r in rows):6.1f} ms"
              + (f"  not done while held (median): {statistics.median(r[3] for r in rows)}"
                 if args.holder else ""))  # fmt: skip


if __name__ == "__main__":
    main()
