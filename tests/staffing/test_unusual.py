"""Days that look like unrecorded sales events (staffing.rules.unusual_days): properties over
generated daily histories."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.staffing.rules import (
    MIN_UNUSUAL_TICKETS,
    UNUSUAL_RATIO,
    unusual_days,
)

MONDAY = date(2026, 9, 7)
DAY_SHAPE = (1.15, 1.1, 1.05, 1.05, 1.1, 0.8, 0.75)  # Monday first


def history(per_day: float, growth: float, days: int, noise: list[float]) -> list[int]:
    """Tickets a day: ``per_day`` × the weekday's shape, growing by ``growth`` a week, each
    day off by up to Poisson's standard deviation (``noise``, −1 … 1, repeated)."""
    out = []
    for i in range(days):
        mean = per_day * DAY_SHAPE[i % 7] * (1 + growth) ** (i / 7)
        out.append(max(0, round(mean + noise[i % len(noise)] * math.sqrt(mean))))
    return out


noises = st.lists(st.floats(-1, 1), min_size=1, max_size=30)


@given(
    per_day=st.floats(1, 2000),
    growth=st.floats(-0.15, 0.25),
    weeks=st.integers(1, 12),
    noise=noises,
)
def test_an_ordinary_brand_growing_or_not_has_no_unusual_day(
    per_day: float, growth: float, weeks: int, noise: list[float]
) -> None:
    """Steady growth up to 25 % a week (12 weeks: the last week over 10 × the first) and
    Poisson-sized noise are never taken for a sale."""
    assert unusual_days(history(per_day, growth, 7 * weeks, noise), MONDAY) == []


@given(
    per_day=st.floats(30, 2000),
    growth=st.floats(-0.1, 0.2),
    weeks=st.integers(3, 12),
    spike=st.floats(3, 20),
    where=st.integers(0, 83),
    noise=noises,
)
def test_a_sales_day_is_suggested_and_nothing_else(
    per_day: float, growth: float, weeks: int, spike: float, where: int, noise: list[float]
) -> None:
    """One day at 3 × to 20 × its usual traffic is suggested, alone; recorded (excluded),
    it is not suggested again."""
    totals = history(per_day, growth, 7 * weeks, noise)
    at = where % len(totals)
    totals[at] = round(totals[at] * spike)
    found = unusual_days(totals, MONDAY)
    day = MONDAY + timedelta(days=at)
    assert [u.day for u in found] == [day]
    assert found[0].tickets == totals[at]
    assert found[0].times >= UNUSUAL_RATIO
    assert unusual_days(totals, MONDAY, {day}) == []


@given(
    totals=st.lists(st.integers(0, 10_000), max_size=90),
    excluded=st.sets(st.integers(0, 89), max_size=10),
)
def test_suggestions_are_far_above_their_weekday_and_never_a_recorded_day(
    totals: list[int], excluded: set[int]
) -> None:
    left_out = {MONDAY + timedelta(days=i) for i in excluded}
    found = unusual_days(totals, MONDAY, left_out)
    for u in found:
        i = (u.day - MONDAY).days
        assert 0 <= i < len(totals)
        assert u.day not in left_out
        assert u.tickets == totals[i] >= MIN_UNUSUAL_TICKETS
        assert u.tickets >= UNUSUAL_RATIO * u.usual * 0.999
    assert [u.day for u in found] == sorted((u.day for u in found), reverse=True)


def test_two_sales_on_one_weekday_are_both_suggested() -> None:
    """Twelve Saturdays, two of them sales: the median of the others stays ordinary."""
    totals = [100] * 84
    totals[5 + 7 * 3] = 900
    totals[5 + 7 * 9] = 1100
    found = unusual_days(totals, MONDAY)
    assert [(u.day, u.tickets, u.usual) for u in found] == [
        (MONDAY + timedelta(days=68), 1100, 100.0),
        (MONDAY + timedelta(days=26), 900, 100.0),
    ]
