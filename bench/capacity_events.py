"""Capacity plan with remembered sales events: the ordinary week planned with the events'
days in the history (the old plan) against the same history with them left out
(staffing.rules: weekly_profile's excluded days, the trend's weeks kept), on the seeded
synthetic histories of bench/capacity_forecast.py.

Each scenario is 16 weeks of hourly Poisson arrivals (flat, or growing 5 % a week) with one
10× sales day (a Saturday, weeks 4, 8 and 12). From every week k ≥ 8 the plan for the
ordinary week k + 1 (no event in it) is made from weeks ≤ k as the service does (profile of
the last 4 weeks × the trend of up to 12) and compared with what arrived: the error of the
week's total and of the peak hour's experts (as in capacity_forecast.py). A week whose
history holds no event has both methods equal; the figures are over every forecast. A third
method records only what the capacity page suggests (staffing.rules.unusual_days over the
same up to 12 weeks of daily totals), as an admin who records every suggestion and nothing
else would; the suggested days that were no event are counted as false alarms.

    .venv/bin/python bench/capacity_events.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import date, timedelta

from capacity_forecast import (
    MONDAY,
    PROFILE_WEEKS,
    ZONE,
    Errors,
    Scenario,
    arrivals,
    peak_experts,
    poisson,
    rates,
)
from crowdcx.staffing.rules import TREND_WEEKS, trend, unusual_days, weekly_profile

EVENT_WEEKS = (4, 8, 12)
EVENT_DAY = 5  # Saturday
LIFT = 10.0
WEEKS = 16

SCENARIOS = [
    Scenario("flat + 10× days", 2000, lambda w: 1.0),
    Scenario("grow 5% + 10× days", 2000, lambda w: 1.05**w),
    Scenario("small + 10× days", 150, lambda w: 1.0),
]


def history(s: Scenario, rng: random.Random) -> list[list[int]]:
    out = []
    for w in range(WEEKS):
        lam = rates(s, w)
        if w in EVENT_WEEKS:
            lam = [x * LIFT if i // 24 == EVENT_DAY else x for i, x in enumerate(lam)]
        out.append([poisson(rng, x) for x in lam])
    return out


def event_day(week: int) -> date:
    return (MONDAY + timedelta(weeks=week, days=EVENT_DAY)).date()


def suggested(counts: list[list[int]], oldest: int, k: int) -> set[date]:
    """The days of weeks oldest … k the capacity page would suggest recording."""
    daily = [sum(week[24 * d : 24 * d + 24]) for week in counts[oldest : k + 1] for d in range(7)]
    first = (MONDAY + timedelta(weeks=oldest)).date()
    return {u.day for u in unusual_days(daily, first)}


def backtest(s: Scenario, seeds: int) -> tuple[Errors, Errors, Errors, float, float, int, int]:
    old, new, auto = Errors([], []), Errors([], []), Errors([], [])
    spent = {"old": 0.0, "new": 0.0, "auto": 0.0}
    hits = false_alarms = 0
    for seed in range(seeds):
        counts = history(s, random.Random(f"{s.name}/{seed}"))
        for k in range(7, WEEKS - 1):
            if k + 1 in EVENT_WEEKS:
                continue  # the plan is for an ordinary week
            first = k + 1 - PROFILE_WEEKS
            recent = arrivals(counts[first : k + 1], first)
            oldest = max(0, k + 1 - TREND_WEEKS)
            totals = [float(sum(week)) for week in counts[oldest : k + 1]]
            excluded = {event_day(w) for w in EVENT_WEEKS if first <= w <= k}
            kept: list[float | None] = [
                None if w in EVENT_WEEKS else t for w, t in enumerate(totals, start=oldest)
            ]
            real_total = float(sum(counts[k + 1]))
            real_peak = peak_experts(rates(s, k + 1))
            found = suggested(counts, oldest, k)
            events = {event_day(w) for w in EVENT_WEEKS if oldest <= w <= k}
            hits += len(found & events)
            false_alarms += len(found - events)
            found_weeks = {(day - MONDAY.date()).days // 7 for day in found}
            in_profile = {day for day in found if day >= (MONDAY + timedelta(weeks=first)).date()}
            found_kept: list[float | None] = [
                None if w in found_weeks else t for w, t in enumerate(totals, start=oldest)
            ]
            for name, errs, left_out, weeks in (
                ("old", old, set(), list(totals)),
                ("new", new, excluded, kept),
                ("auto", auto, in_profile, found_kept),
            ):
                began = time.perf_counter()
                profile = weekly_profile(recent, ZONE, PROFILE_WEEKS, left_out)
                factor = trend(weeks, PROFILE_WEEKS, 0.5).factor
                spent[name] += time.perf_counter() - began
                planned = [profile.get((i // 24, i % 24), 0.0) * factor for i in range(168)]
                errs.total.append(sum(planned) / real_total - 1)
                errs.experts.append(peak_experts(planned) / real_peak - 1)
    return old, new, auto, spent["old"], spent["new"], hits, false_alarms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.seeds} seeds × {WEEKS} weeks")
    print("forecast the ordinary week k+1 from weeks ≤ k (errors in %: + = over-planned)")
    print(
        f"{'scenario':20} {'method':14} {'total MAPE':>10} {'bias':>7}"
        f"   {'peak experts MAPE':>6} {'bias':>7} {'profile+trend ms':>17}"
    )
    for s in SCENARIOS:
        old, new, auto, t_old, t_new, hits, false_alarms = backtest(s, args.seeds)
        n = len(old.total)
        print(f"{s.name:20} {'events kept':14} {old.line()} {1000 * t_old / n:17.2f}")
        print(f"{'':20} {'events left out':14} {new.line()} {1000 * t_new / n:17.2f}")
        print(f"{'':20} {'suggested ones':14} {auto.line()}")
        print(f"{'':20} suggestions: {hits} sales days found, {false_alarms} false alarms")


if __name__ == "__main__":
    main()
