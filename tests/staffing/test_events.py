"""The brand's sales events in the pure rules: their days left out of the weekly profile,
their weeks left out of the trend, and what makes an event impossible to add."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.staffing.rules import (
    SalesEvent,
    event_days,
    event_problem,
    trend,
    weekly_growth,
    weekly_profile,
)

UTC_ZONE = ZoneInfo("UTC")
MONDAY = date(2026, 11, 2)  # four whole weeks: 2 … 29 November 2026


def _arrivals(per_day: dict[date, list[int]]) -> list[datetime]:
    """Tickets at the given hours of each day (UTC)."""
    return [
        datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        for day, hours in per_day.items()
        for hour in hours
    ]


def _day_level(profile: dict[tuple[int, int], float], weekday: int) -> float:
    return sum(v for (d, _h), v in profile.items() if d == weekday)


hours_of_day = st.lists(st.integers(0, 23), min_size=0, max_size=12)
four_weeks = st.lists(hours_of_day, min_size=28, max_size=28)


@given(four_weeks, st.integers(0, 27))
def test_excluding_a_day_as_busy_as_its_weekdays_average_changes_no_days_level(
    days: list[list[int]], drop: int
) -> None:
    """The dropped day is given as many tickets as its weekday averages over the other three:
    every weekday's level (tickets a day) stays what it was."""
    weekday = drop % 7
    others = [len(days[d]) for d in range(weekday, 28, 7) if d != drop]
    days = [list(h) for h in days]
    days[drop] = [12] * (sum(others) // 3)
    if sum(others) % 3:  # make the three others average a whole number
        days[next(d for d in range(weekday, 28, 7) if d != drop)] += [12] * (3 - sum(others) % 3)
        others = [len(days[d]) for d in range(weekday, 28, 7) if d != drop]
        days[drop] = [12] * (sum(others) // 3)
    per_day = {MONDAY + timedelta(days=i): h for i, h in enumerate(days)}
    arrivals = _arrivals(per_day)
    whole = weekly_profile(arrivals, UTC_ZONE, 4)
    kept = weekly_profile(arrivals, UTC_ZONE, 4, {MONDAY + timedelta(days=drop)})
    for d in range(7):
        assert _day_level(kept, d) == pytest.approx(_day_level(whole, d), abs=1e-9)


@given(four_weeks, st.integers(0, 27), st.integers(2, 20))
def test_excluding_a_spike_lowers_its_weekday_and_nothing_goes_negative(
    days: list[list[int]], drop: int, times: int
) -> None:
    weekday = drop % 7
    others = [len(days[d]) for d in range(weekday, 28, 7) if d != drop]
    days = [list(h) for h in days]
    days[drop] = [20] * (times * (max(others) + 1))  # more than any other of its weekday
    arrivals = _arrivals({MONDAY + timedelta(days=i): h for i, h in enumerate(days)})
    whole = weekly_profile(arrivals, UTC_ZONE, 4)
    kept = weekly_profile(arrivals, UTC_ZONE, 4, {MONDAY + timedelta(days=drop)})
    assert _day_level(kept, weekday) < _day_level(whole, weekday)
    assert all(v >= 0 for v in kept.values())


def test_a_ten_times_day_no_longer_raises_every_week() -> None:
    """Mondays of 10, 10, 10 and a 100-ticket sale: 32.5 a Monday with it, 10 without."""
    mondays = {MONDAY + timedelta(weeks=w): [9] * n for w, n in enumerate([10, 10, 10, 100])}
    arrivals = _arrivals(mondays)
    sale = MONDAY + timedelta(weeks=3)
    assert weekly_profile(arrivals, UTC_ZONE, 4)[(0, 9)] == pytest.approx(32.5)
    assert weekly_profile(arrivals, UTC_ZONE, 4, {sale})[(0, 9)] == pytest.approx(10)


def test_excluding_every_day_of_a_weekday_plans_it_at_the_average_day() -> None:
    arrivals = _arrivals({MONDAY + timedelta(days=i): [10] * 2 for i in range(28)})
    mondays = {MONDAY + timedelta(weeks=w) for w in range(4)}
    profile = weekly_profile(arrivals, UTC_ZONE, 4, mondays)
    assert _day_level(profile, 0) == pytest.approx(2)
    with pytest.raises(ValueError, match="excluded"):
        weekly_profile(arrivals, UTC_ZONE, [1, 1, 1, 1, 1, 1, 1], mondays)


def test_event_days_are_local_days_inside_the_history() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    # 23:00 on 10 November for two hours: the 10th and the 11th there.
    e = SalesEvent(1, "11.11", datetime(2026, 11, 10, 23, tzinfo=shanghai), 2)
    assert event_days([e], shanghai, MONDAY, date(2026, 11, 29)) == {
        date(2026, 11, 10), date(2026, 11, 11),
    }  # fmt: skip
    # Ending at midnight does not touch the next day; outside the history: nothing.
    midnight = SalesEvent(2, "x", datetime(2026, 11, 20, 22, tzinfo=shanghai), 2)
    assert event_days([midnight], shanghai, MONDAY, date(2026, 11, 29)) == {date(2026, 11, 20)}
    assert event_days([e], shanghai, date(2026, 11, 12), date(2026, 11, 29)) == frozenset()


def test_a_week_of_an_event_is_left_out_of_the_trend_not_read_as_growth() -> None:
    """Flat weeks of 100 with a 1,000-ticket sale week: no growth once it is left out, and
    the weeks left out do not count towards the trend's minimum."""
    flat = [100.0, 100.0, 100.0, 100.0, 100.0]
    assert weekly_growth([*flat, None]) == 0.0
    assert weekly_growth([*flat[:2], None, *flat[2:]]) == 0.0
    assert weekly_growth([100.0, 110.0, None, 133.1, 146.41, 161.05]) == pytest.approx(
        weekly_growth([100.0, 110.0, 121.0, 133.1, 146.41, 161.05]), abs=0.02
    )
    assert trend([100.0, None, None, 100.0], 4, 1).applied is False
    assert trend([100.0, None, 100.0, 100.0], 4, 1).weeks == 3


NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)
SALE = SalesEvent(1, "Sale", datetime(2026, 12, 11, tzinfo=UTC), 24)


@pytest.mark.parametrize(
    ("name", "start", "hours", "problem"),
    [
        ("", NOW, 1, ("name", "name_empty")),
        ("  ", NOW, 1, ("name", "name_empty")),
        ("x" * 121, NOW, 1, ("name", "name_too_long")),
        ("ok", NOW, 0, ("hours", "hours_out_of_range")),
        ("ok", NOW, 169, ("hours", "hours_out_of_range")),
        ("ok", NOW - timedelta(days=367), 1, ("start", "start_out_of_range")),
        ("ok", NOW + timedelta(days=732), 1, ("start", "start_out_of_range")),
        ("ok", datetime(2026, 12, 11, 23, tzinfo=UTC), 5, ("start", "overlaps")),
        ("ok", datetime(2026, 12, 10, 20, tzinfo=UTC), 5, ("start", "overlaps")),
        ("ok", datetime(2026, 12, 10, 20, tzinfo=UTC), 4, None),  # ends as the sale starts
        ("x" * 120, datetime(2026, 12, 12, tzinfo=UTC), 168, None),  # starts as it ends
    ],
)
def test_event_problems(
    name: str, start: datetime, hours: int, problem: tuple[str, str] | None
) -> None:
    assert event_problem(name, start, hours, [SALE], NOW) == problem
