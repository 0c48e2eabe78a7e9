"""Routing decision alone: the pure rules over 10,000 in-memory online experts.

Builds a seeded population (random skills with proficiency, languages, tiers, certifications,
track records), builds the CandidatePool once, then times 10,000 push decisions
(``decide_next_offer``) against live loads that change as offers are taken and tickets are
finished, and 10,000 ``rank_candidates(limit=5)`` calls with full explanations. Goal: p99 < 5 ms.

    .venv/bin/python bench/routing_decision.py [--experts 10000] [--decisions 10000] [--write]

``--write`` records the figures in docs/benchmarks-routing.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from crowdcx.routing.rules import (
    CandidatePool,
    ExpertProfile,
    ExpertStats,
    OfferTo,
    RoutingMode,
    RoutingRequest,
    SkillDef,
    decide_next_offer,
    rank_candidates,
    rank_candidates_naive,
)

LANGS = ("zh-Hans", "zh-Hant", "ru", "en")
LANG_WEIGHTS = (50, 15, 20, 15)
SKILLS = {
    name: SkillDef(name, requires_certification=cert, required_tier=tier)
    for name, cert, tier in [
        ("general", False, 0),
        ("orders", False, 1),
        ("shipping", False, 0),
        ("returns", False, 1),
        ("billing", True, 2),
        ("refunds", True, 2),
        ("account", False, 1),
        ("technical", False, 1),
        ("warranty", False, 1),
        ("installation", False, 0),
        ("fraud", True, 3),
        ("vip", False, 3),
    ]
}
MAX_CONCURRENT = 3


def make_experts(n: int, rng: random.Random) -> list[ExpertProfile]:
    names = sorted(SKILLS)
    experts = []
    for i in range(n):
        skills = {s: rng.randint(1, 5) for s in rng.sample(names, rng.randint(1, 4))}
        langs = set(rng.choices(LANGS, LANG_WEIGHTS, k=rng.randint(1, 2)))
        certs = {s for s in skills if SKILLS[s].requires_certification and rng.random() < 0.6}
        count = rng.randint(0, 40)
        experts.append(
            ExpertProfile(
                expert_id=f"x{i:05d}",
                skills=skills,
                languages=frozenset(langs),
                tier=rng.choices((0, 1, 2, 3), (40, 35, 18, 7))[0],
                certifications=frozenset(certs),
                online=True,
                load=0,
                stats=ExpertStats(
                    resolved=rng.randint(0, 200),
                    escalated=rng.randint(0, 30),
                    csat_points=count * rng.randint(2, 4),
                    csat_count=count,
                    response_ewma_s=rng.uniform(20, 900) if count else None,
                ),
            )
        )
    return experts


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def machine() -> str:
    try:
        nproc = subprocess.run(
            ["nproc"], capture_output=True, text=True, check=False
        ).stdout.strip()
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in lscpu.splitlines()
                if ln.startswith("Model name")
            ),
            platform.processor(),
        )
    except OSError:
        nproc, model = "?", platform.processor()
    return f"{nproc} CPU(s), {model}, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--experts", type=int, default=10_000)
    ap.add_argument("--decisions", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20250303)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    experts = make_experts(args.experts, rng)
    t0 = time.perf_counter()
    pool = CandidatePool.build(experts, SKILLS, MAX_CONCURRENT)
    build_ms = (time.perf_counter() - t0) * 1000
    # The pool is long-lived: move it out of the collector's way, as the service does after
    # building it, so a decision is not charged for a full collection of 10,000 profiles.
    gc.collect()
    gc.freeze()

    names = sorted(SKILLS)
    requests = [
        RoutingRequest(
            ticket_id=f"t{i}",
            skill=rng.choice(names),
            language=rng.choices(LANGS, LANG_WEIGHTS)[0],
            required_tier=rng.choices((0, 1, 2), (70, 20, 10))[0],
            rung=frozenset(e.expert_id for e in rng.sample(experts, rng.randint(0, 2))),
        )
        for i in range(args.decisions)
    ]
    # Live load: starts random, grows as offers are taken, shrinks as tickets are finished.
    loads = {e.expert_id: rng.randint(0, MAX_CONCURRENT - 1) for e in experts}
    busy: list[str] = []
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

    decide_ms: list[float] = []
    decide_cpu_ms: list[float] = []
    outcomes = {"offer": 0, "hold": 0, "escalate": 0}
    for req in requests:
        start, cpu = time.perf_counter(), time.thread_time()
        decision = decide_next_offer(
            pool,
            req,
            now,
            routing_mode=RoutingMode.BOTH,
            max_rings=5,
            offer_timeout_s=120,
            loads=loads,
        )
        decide_ms.append((time.perf_counter() - start) * 1000)
        decide_cpu_ms.append((time.thread_time() - cpu) * 1000)
        if isinstance(decision, OfferTo):
            outcomes["offer"] += 1
            loads[decision.expert_id] += 1
            busy.append(decision.expert_id)
        else:
            outcomes["hold" if decision.__class__.__name__ == "Hold" else "escalate"] += 1
        if busy and rng.random() < 0.9:  # roughly steady state: most offers end in a resolution
            done = busy.pop(rng.randrange(len(busy)))
            loads[done] -= 1

    rank_ms: list[float] = []
    for req in requests:
        start = time.perf_counter()
        rank_candidates(pool, req, loads=loads, limit=5)
        rank_ms.append((time.perf_counter() - start) * 1000)

    # Worst case: everybody at capacity, so every decision scans its whole bucket and holds.
    full = dict.fromkeys(loads, MAX_CONCURRENT)
    worst_ms: list[float] = []
    worst_cpu_ms: list[float] = []
    for req in requests:
        start, cpu = time.perf_counter(), time.thread_time()
        decide_next_offer(
            pool,
            req,
            now,
            routing_mode=RoutingMode.BOTH,
            max_rings=5,
            offer_timeout_s=120,
            loads=full,
        )
        worst_ms.append((time.perf_counter() - start) * 1000)
        worst_cpu_ms.append((time.thread_time() - cpu) * 1000)

    # Baseline without the pool: check and score all 10,000 experts (200 calls are enough).
    naive_ms: list[float] = []
    for req in requests[:200]:
        start = time.perf_counter()
        rank_candidates_naive(experts, req, SKILLS, MAX_CONCURRENT, loads=loads, limit=5)
        naive_ms.append((time.perf_counter() - start) * 1000)

    def line(label: str, xs: list[float]) -> str:
        return (
            f"| {label} | {len(xs):,} | {pct(xs, 50):.3f} | {pct(xs, 95):.3f} | "
            f"{pct(xs, 99):.3f} | {max(xs):.3f} | {statistics.fmean(xs):.3f} |"
        )

    cmd = "PYTHONHASHSEED=0 .venv/bin/python bench/routing_decision.py " + " ".join(sys.argv[1:])
    buckets = [len(b) for b in pool.buckets.values()]
    report = "\n".join(
        [
            "# Routing decision benchmark",
            "",
            f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- Machine: {machine()}; load average at the end "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (the machine is shared)",
            f"- Command: `{cmd.strip()}`",
            f"- Experts: {args.experts:,} online, {len(SKILLS)} skills, {len(LANGS)} languages, "
            f"seed {args.seed}; max {MAX_CONCURRENT} concurrent tickets each",
            f"- Candidate pool build: **{build_ms:.0f} ms** "
            f"({len(pool.buckets)} (skill, language) buckets, median size "
            f"{statistics.median(buckets):.0f}, largest {max(buckets)})",
            f"- Push outcomes: {outcomes}",
            "",
            "| operation | calls | p50 ms | p95 ms | p99 ms | max ms | mean ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
            line("decide_next_offer (live loads), wall clock", decide_ms),
            line("decide_next_offer (live loads), thread CPU time", decide_cpu_ms),
            line("rank_candidates(limit=5) + explanations", rank_ms),
            line("worst case: all experts at capacity (full bucket scan), wall", worst_ms),
            line("worst case, thread CPU time", worst_cpu_ms),
            line("baseline: rank_candidates_naive, no pool", naive_ms),
            "",
            f"Goal: p99 < 5 ms — **{'met' if pct(decide_ms, 99) < 5 else 'NOT met'}** for live "
            f"decisions, **{'met' if pct(worst_ms, 99) < 5 else 'NOT met'}** in the worst case.",
            "",
            "Wall-clock tails on this shared 2-core machine include time the process spends",
            "descheduled while other jobs run (see the load average); the thread-CPU-time rows",
            "show the work a decision itself costs.",
            "",
            "How: the pool sorts each (skill, language) bucket by the load-independent part of the",
            "score once; a decision walks the bucket best-first and stops when no remaining expert",
            "could beat the k-th best even at zero load (branch and bound), so it reads a handful",
            "of entries, not thousands. Explanations are built only for the returned candidates.",
            "",
        ]
    )
    print(report)
    if args.write:
        out = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-routing.md"
        out.write_text(report, encoding="utf-8")
        print(f"written to {out}")


if __name__ == "__main__":
    main()
