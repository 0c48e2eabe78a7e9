"""The capacity plan's trend (a damped, shrunk Theil–Sen growth on weekly totals) and a past
event's lift window: properties over generated histories."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.staffing.rules import (
    MAX_LIFT_HOURS,
    MAX_TREND_FACTOR,
    MAX_WEEKLY_GROWTH,
    MIN_TREND_FACTOR,
    MIN_TREND_WEEKS,
    MIN_WEEKLY_GROWTH,
    Lift,
    damped_weeks,
    expected_arrivals,
    lift_window_problem,
    trend,
    trend_factor,
    weekly_growth,
)

weeks_of_history = st.integers(MIN_TREND_WEEKS, 12)
aheads = st.floats(0, 52)
profile_weeks = st.integers(1, 4)


@given(level=st.integers(0, 10**6), n=weeks_of_history, p=profile_weeks, ahead=aheads)
def test_a_flat_history_has_no_trend(level: int, n: int, p: int, ahead: float) -> None:
    found = trend([level] * n, p, ahead)
    assert found.applied
    assert found.weekly_growth == 0.0
    assert found.factor == 1.0


@given(
    level=st.integers(100, 10**5),
    noise=st.lists(st.floats(-1, 1), min_size=MIN_TREND_WEEKS, max_size=12),
    ahead=st.floats(0, 4),
)
def test_flat_with_poisson_sized_noise_plans_about_the_average(
    level: int, noise: list[float], ahead: float
) -> None:
    """Weeks within one standard deviation of Poisson noise (√level), in any order — even
    arranged as a ramp — are not read as growth worth more than a few per cent."""
    totals = [round(level + d * math.sqrt(level)) for d in noise]
    assert abs(trend(totals, 4, ahead).factor - 1) < 0.05


@given(g1=st.floats(-0.99, 1.0), g2=st.floats(-0.99, 1.0), p=profile_weeks, ahead=aheads)
def test_the_factor_grows_with_the_growth(g1: float, g2: float, p: int, ahead: float) -> None:
    low, high = sorted((g1, g2))
    assert trend_factor(low, p, ahead) <= trend_factor(high, p, ahead)


@given(
    r1=st.floats(0.7, 1.4),
    r2=st.floats(0.7, 1.4),
    n=weeks_of_history,
    level=st.integers(500, 10**5),
)
def test_a_steeper_history_never_reads_as_slower_growth(
    r1: float, r2: float, n: int, level: int
) -> None:
    low, high = sorted((r1, r2))
    slow = [level * low**i for i in range(n)]
    fast = [level * high**i for i in range(n)]
    assert weekly_growth(slow) <= weekly_growth(fast) + 1e-12


@given(totals=st.lists(st.integers(0, 10**7), max_size=20), p=profile_weeks, ahead=aheads)
def test_the_trend_is_never_negative_and_always_bounded(
    totals: list[int], p: int, ahead: float
) -> None:
    found = trend(totals, p, ahead)
    assert MIN_WEEKLY_GROWTH <= found.weekly_growth <= MAX_WEEKLY_GROWTH
    assert 0 < MIN_TREND_FACTOR <= found.factor <= MAX_TREND_FACTOR
    assert math.isfinite(found.factor)
    if len(totals) < MIN_TREND_WEEKS:
        assert (found.applied, found.factor) == (False, 1.0)


def test_growth_is_found_and_damped_ahead() -> None:
    """2,000 tickets growing 15 % a week: the fit finds about 15 %; next week's event is
    planned about 1.15^(2 + ~1) of the four weeks' average, and an event a year away gets
    no more than ten weeks of growth — then the cap."""
    totals = [round(2000 * 1.15**i) for i in range(10)]
    found = trend(totals, 4, 0.5)
    assert 0.13 < found.weekly_growth <= 0.15
    assert 1.15**2 < found.factor < 1.15**3
    assert trend(totals, 4, 52).factor == MAX_TREND_FACTOR
    assert trend([round(2000 * 0.95**i) for i in range(10)], 4, 1).factor < 1


def test_one_spike_week_does_not_make_a_trend() -> None:
    """A sales event at 10 × in the latest of twelve flat weeks (Theil–Sen's median of
    pairwise slopes ignores it; a least-squares line would read +14 % a week)."""
    totals = [1000, 1010, 990, 1005, 995, 1000, 1002, 998, 1001, 999, 1003, 10_000]
    assert abs(trend(totals, 4, 1).weekly_growth) < 0.01


def test_two_weeks_are_not_a_trend() -> None:
    assert not trend([100, 200], 2, 1).applied
    assert trend([100, 200], 2, 1).factor == 1.0


@given(a=st.floats(0, 100), b=st.floats(0, 100))
def test_damping_is_monotone_and_bounded(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert damped_weeks(low) <= damped_weeks(high) <= high + 1e-9
    assert damped_weeks(high) < 1 / -math.log(0.9)


def test_a_lift_window_must_be_past_and_at_most_a_week() -> None:
    now = datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert lift_window_problem(now - timedelta(hours=24), 24, now) is None
    assert lift_window_problem(now - timedelta(hours=23), 24, now) == "not_past"
    assert lift_window_problem(now - timedelta(days=30), MAX_LIFT_HOURS + 1, now) == "too_long"
    assert lift_window_problem(now - timedelta(days=30), 0, now) == "too_long"


def test_the_expected_arrivals_follow_the_brands_clock() -> None:
    """A zone half an hour off UTC: the window starts at the brand's whole hour."""
    kolkata = ZoneInfo("Asia/Kolkata")
    profile = {(0, 20): 4.0, (0, 21): 6.0}  # Monday 20:00 and 21:00 in Kolkata
    start = datetime(2026, 11, 30, 20, 10, tzinfo=kolkata)
    assert expected_arrivals(profile, start, 2, kolkata) == 10.0
    assert expected_arrivals(profile, start, 1, kolkata) == 4.0
    assert Lift(start, 2, 30, 10.0).lift == 3.0
    assert Lift(start, 2, 30, 0.0).lift is None
