"""Capacity forecast backtest: the old plan (the last four weeks' average profile) against the
new one (the same profile × the damped Theil–Sen trend, staffing.rules.trend) on seeded
synthetic hourly arrival histories.

Each scenario is 16 weeks of hourly Poisson arrivals with a weekly shape (weekdays busier
than the weekend, an evening peak) and a level that is flat, grows 5 % or 15 % a week,
declines 5 % a week, holds one spike week (a past sales event at 3 ×), or is flat at a small
brand's 150 tickets a week. From every week k ≥ 8 the plan for week k + h (h = 1: next week;
h = 3: three weeks ahead) is made from weeks ≤ k (the trend from up to 12 of them, the
profile from the last 4, as the service does) and compared with what arrived: the error of
the week's total against the tickets that arrived (MAPE and bias, signed: negative =
under-planned) and of the peak hour's experts needed (the most any hour of the week needs,
forecast vs. needed for the week's true hourly rates — the realised counts' busiest hour is
the maximum of 168 noisy hours and would read every smooth plan as short; 30 min a ticket,
10 min target, 80 %, 2 tickets an expert). Both methods run on
the same histories in the same run, over several seeds.

    .venv/bin/python bench/capacity_forecast.py [--seeds 5] [--weeks 16]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crowdcx.staffing.rules import (
    TREND_WEEKS,
    Queue,
    experts_needed,
    required_slots,
    trend,
    weekly_profile,
)

ZONE = ZoneInfo("UTC")
MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
DAY_SHAPE = (1.15, 1.1, 1.05, 1.05, 1.1, 0.8, 0.75)  # Monday first
HANDLE_S, TARGET_S, GOAL, CONCURRENCY = 1800.0, 600.0, 0.8, 2
PROFILE_WEEKS = 4


def hour_shape(hour: int) -> float:
    """Quiet at night, a peak about 20:00."""
    return 0.25 + math.exp(-((hour - 20) ** 2) / 18) + 0.6 * math.exp(-((hour - 11) ** 2) / 8)


SHAPE = [DAY_SHAPE[d] * hour_shape(h) for d in range(7) for h in range(24)]
SHAPE_SUM = sum(SHAPE)


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's multiplication method for small means, a rounded normal above 60."""
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass(frozen=True)
class Scenario:
    name: str
    per_week: float  # the level of week 0
    level: Callable[[int], float]  # week → multiple of per_week


SCENARIOS = [
    Scenario("flat", 2000, lambda w: 1.0),
    Scenario("grow 5%/wk", 2000, lambda w: 1.05**w),
    Scenario("grow 15%/wk", 500, lambda w: 1.15**w),
    Scenario("decline 5%/wk", 2000, lambda w: 0.95**w),
    Scenario("spike wk 10", 2000, lambda w: 3.0 if w == 10 else 1.0),
    Scenario("small flat", 150, lambda w: 1.0),
]


def rates(s: Scenario, week: int) -> list[float]:
    """The true mean arrivals of each hour of ``week`` (what a plan should staff for)."""
    return [s.per_week * s.level(week) * SHAPE[i] / SHAPE_SUM for i in range(168)]


def history(s: Scenario, weeks: int, rng: random.Random) -> list[list[int]]:
    """Hourly counts, one list of 168 per week."""
    return [[poisson(rng, lam) for lam in rates(s, w)] for w in range(weeks)]


def arrivals(counts: list[list[int]], first_week: int) -> list[datetime]:
    out: list[datetime] = []
    for w, week in enumerate(counts, start=first_week):
        for i, n in enumerate(week):
            out += [MONDAY + timedelta(weeks=w, hours=i, minutes=30)] * n
    return out


def peak_experts(per_hour: list[float]) -> int:
    return max(
        experts_needed(required_slots(Queue(a, HANDLE_S), TARGET_S, GOAL).slots, CONCURRENCY, 0)
        for a in per_hour
    )


@dataclass
class Errors:
    total: list[float]
    experts: list[float]

    def line(self) -> str:
        def mape(xs: list[float]) -> float:
            return 100 * statistics.fmean(abs(x) for x in xs)

        def bias(xs: list[float]) -> float:
            return 100 * statistics.fmean(xs)

        return (
            f"{mape(self.total):6.1f} {bias(self.total):+7.1f}   "
            f"{mape(self.experts):6.1f} {bias(self.experts):+7.1f}"
        )


def backtest(s: Scenario, weeks: int, ahead: int, seeds: int) -> tuple[Errors, Errors, float]:
    old, new = Errors([], []), Errors([], [])
    growths: list[float] = []
    for seed in range(seeds):
        counts = history(s, weeks, random.Random(f"{s.name}/{seed}"))
        for k in range(7, weeks - ahead):  # weeks 0..k are known: k + 1 ≥ 8 of them
            recent = arrivals(counts[k + 1 - PROFILE_WEEKS : k + 1], k + 1 - PROFILE_WEEKS)
            profile = weekly_profile(recent, ZONE, PROFILE_WEEKS)
            forecast = [profile.get((i // 24, i % 24), 0.0) for i in range(168)]
            totals = [sum(week) for week in counts[max(0, k + 1 - TREND_WEEKS) : k + 1]]
            # The event week starts ahead − 1 weeks after the history's end: its middle is
            # ahead − ½ weeks after it.
            t = trend(totals, PROFILE_WEEKS, ahead - 0.5)
            growths.append(t.weekly_growth)
            real_total = float(sum(counts[k + ahead]))
            real_peak = peak_experts(rates(s, k + ahead))
            for errs, factor in ((old, 1.0), (new, t.factor)):
                planned = [f * factor for f in forecast]
                errs.total.append(sum(planned) / real_total - 1)
                errs.experts.append(peak_experts(planned) / real_peak - 1)
    return old, new, statistics.fmean(growths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--weeks", type=int, default=16)
    args = parser.parse_args()
    began = time.perf_counter()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.seeds} seeds × {args.weeks} weeks")
    for ahead in (1, 3):
        print(f"\nforecast week k+{ahead} from weeks ≤ k (errors in %: negative = under-planned)")
        print(
            f"{'scenario':15} {'fit g/wk':>8}  {'method':8} {'total MAPE':>10} {'bias':>7}"
            f"   {'peak experts MAPE':>6} {'bias':>7}"
        )
        for s in SCENARIOS:
            old, new, growth = backtest(s, args.weeks, ahead, args.seeds)
            print(f"{s.name:15} {100 * growth:+7.1f}%  {'4-wk avg':8} {old.line()}")
            print(f"{'':15} {'':8}  {'trend':8} {new.line()}")
    print(f"\n{time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
