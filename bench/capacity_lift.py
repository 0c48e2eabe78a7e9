"""A past sales event's learned lift: measured against the four weeks before it alone (the
old way, staffing.rules.expected_arrivals) and against those weeks moved on by the brand's
trend then (staffing.rules.trended_expectation with the Theil–Sen growth of up to 12 weeks
before it), on the seeded synthetic hourly histories of bench/capacity_forecast.py.

Each scenario is 20 weeks of hourly Poisson arrivals (flat, growing 5 % or 15 % a week,
declining 5 %, a small flat brand) with a sales day (a Saturday) at ``--lift`` × its
ordinary traffic in week 12, or none (``no event``: the true lift is 1). Both methods
measure that Saturday's lift (24 hours) from the same history in the same run: the error
against the true lift (MAPE and bias, %), then the plan for the next sales day four weeks
later (the profile of the four weeks before it with the event's day left out × the plan's
trend with its week left out × the learned lift) against the tickets that day brought. The
trend's plan two ways: the whole profile dated at the history's middle (``× trend``, the
old plan) and each hour moved on from the middle of its weekday's days kept (``centred``,
staffing.rules.plan with the growth and the history), the lift measured the same.

    .venv/bin/python bench/capacity_lift.py [--seeds 20] [--lift 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import date, timedelta

from capacity_forecast import (
    MONDAY,
    PROFILE_WEEKS,
    ZONE,
    Scenario,
    arrivals,
    poisson,
    rates,
)
from crowdcx.staffing.rules import (
    TREND_WEEKS,
    PlanInput,
    expected_arrivals,
    plan,
    trend,
    trended_expectation,
    weekly_profile,
)

WEEKS = 20
EVENT_WEEK, NEXT_WEEK = 12, 16
SATURDAY = 5

SCENARIOS = [
    Scenario("flat", 2000, lambda w: 1.0),
    Scenario("grow 5%/wk", 2000, lambda w: 1.05**w),
    Scenario("grow 15%/wk", 300, lambda w: 1.15**w),
    Scenario("decline 5%/wk", 2000, lambda w: 0.95**w),
    Scenario("small flat", 150, lambda w: 1.0),
]


def history(s: Scenario, lift: float, rng: random.Random) -> list[list[int]]:
    out = []
    for w in range(WEEKS):
        lam = rates(s, w)
        if w in (EVENT_WEEK, NEXT_WEEK):
            lam = [x * lift if i // 24 == SATURDAY else x for i, x in enumerate(lam)]
        out.append([poisson(rng, x) for x in lam])
    return out


def saturday(week: int) -> date:
    return (MONDAY + timedelta(weeks=week, days=SATURDAY)).date()


def measured(counts: list[list[int]], week: int, with_trend: bool) -> float:
    """The lift of ``week``'s Saturday from the weeks before it."""
    first = week - PROFILE_WEEKS
    profile = weekly_profile(arrivals(counts[first:week], first), ZONE, PROFILE_WEEKS)
    start = MONDAY + timedelta(weeks=week, days=SATURDAY)
    if with_trend:
        totals = [float(sum(c)) for c in counts[max(0, week - TREND_WEEKS) : week]]
        growth = trend(totals, PROFILE_WEEKS, 0.0).weekly_growth
        history_days = (saturday(first) - timedelta(days=SATURDAY), saturday(week) - timedelta(1))
        expected = trended_expectation(profile, start, 24, ZONE, history_days, growth)
    else:
        expected = expected_arrivals(profile, start, 24, ZONE)
    return sum(counts[week][SATURDAY * 24 : SATURDAY * 24 + 24]) / expected


def planned_next(counts: list[list[int]], lift: float, centred: bool = False) -> float:
    """The next sales day (week NEXT_WEEK's Saturday) planned as the service does, the
    event's day and week left out, times the learned ``lift``; ``centred``: each hour moved
    on from its weekday's days (staffing.rules.plan), else the whole profile from the
    history's middle (the old plan)."""
    first = NEXT_WEEK - PROFILE_WEEKS
    excluded = {saturday(EVENT_WEEK)} if first <= EVENT_WEEK else set()
    profile = weekly_profile(
        arrivals(counts[first:NEXT_WEEK], first), ZONE, PROFILE_WEEKS, excluded
    )
    oldest = max(0, NEXT_WEEK - TREND_WEEKS)
    totals: list[float | None] = [
        None if w == EVENT_WEEK else float(sum(counts[w])) for w in range(oldest, NEXT_WEEK)
    ]
    # The day's middle: 5.5 days into the week after the history's end.
    fitted = trend(totals, PROFILE_WEEKS, 5.5 / 7)
    if centred:
        spec = PlanInput(
            start=MONDAY + timedelta(weeks=NEXT_WEEK, days=SATURDAY), hours=24,
            multiplier=lift, handle_s=1800, target_s=600, growth=fitted.weekly_growth,
            history=(saturday(first) - timedelta(days=SATURDAY), saturday(NEXT_WEEK - 1) + timedelta(1)),
            excluded=frozenset(excluded),
        )  # fmt: skip
        return sum(h.arrivals for h in plan(profile, spec, ZONE))
    factor = fitted.factor
    day = sum(profile.get((SATURDAY, h), 0.0) for h in range(24))
    return day * factor * lift


def row(errors: list[float]) -> str:
    return f"{100 * statistics.fmean(abs(e) for e in errors):6.1f} {100 * statistics.fmean(errors):+7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--lift", type=float, default=3.0)
    args = parser.parse_args()
    began = time.perf_counter()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.seeds} seeds × {WEEKS} weeks")
    print("lift error against the true lift; next sales day's planned total against arrived")
    print("(errors in %: + = over; the 'no event' rows have a true lift of 1)")
    print(
        f"{'scenario':16} {'true':>8} {'method':18} {'lift MAPE':>9} {'bias':>7}"
        f"   {'next day MAPE':>13} {'bias':>7}"
    )
    for s in SCENARIOS:
        for true_lift in (1.0, args.lift):
            errs: dict[str, tuple[list[float], list[float]]] = {
                "weeks' average": ([], []), "average × trend": ([], []),
                "centred": ([], []),
            }  # fmt: skip
            for seed in range(args.seeds):
                counts = history(s, true_lift, random.Random(f"{s.name}/{true_lift}/{seed}"))
                real_next = float(sum(counts[NEXT_WEEK][SATURDAY * 24 : SATURDAY * 24 + 24]))
                methods = (("weeks' average", False, False), ("average × trend", True, False),
                           ("centred", True, True))  # fmt: skip
                for name, with_trend, centred in methods:
                    lift = measured(counts, EVENT_WEEK, with_trend)
                    errs[name][0].append(lift / true_lift - 1)
                    errs[name][1].append(planned_next(counts, lift, centred) / real_next - 1)
            label = "no event" if true_lift == 1 else f"{true_lift:g}×"
            for i, (name, (lifts, nexts)) in enumerate(errs.items()):
                head = f"{s.name if i == 0 else '':16} {label if i == 0 else '':>8}"
                print(f"{head} {name:18} {row(lifts):>17}   {row(nexts):>21}")
    print(f"\n{time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
