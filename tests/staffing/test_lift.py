"""A past window's lift measured against the weeks before it moved on by their trend
(staffing.rules.trended_expectation): a brand that only grows, with no event, has a lift of
about 1; measured against the weeks' average alone, its growth read as an event."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdcx.staffing.rules import (
    MIN_TREND_WEEKS,
    expected_arrivals,
    trend,
    trended_expectation,
    weekly_profile,
)

PROFILE_WEEKS = 4
DAY_SHAPE = (1.15, 1.1, 1.05, 1.05, 1.1, 0.8, 0.75)  # Monday first


def hour_shape(hour: int) -> float:
    """Quiet at night, busiest in the evening: 0.5 … 1.5."""
    return 1.0 + 0.5 * math.sin((hour - 14) * math.pi / 12)


SHAPE_SUM = sum(DAY_SHAPE[d] * hour_shape(h) for d in range(7) for h in range(24))


class GrowingBrand:
    """Tickets arriving at ``per_week`` × (1 + ``growth``) ^ (weeks since ``origin``), shaped
    by weekday and hour of day (in ``zone``); each hour's count is the whole tickets the
    cumulative rate has reached (no noise: any window's count is its rate's integral ± 1)."""

    def __init__(self, origin: datetime, per_week: float, growth: float, zone: ZoneInfo):
        self.origin, self.per_week, self.growth, self.zone = origin, per_week, growth, zone

    def rate(self, hour: datetime) -> float:
        local = hour.astimezone(self.zone)
        weeks = (hour - self.origin) / timedelta(weeks=1)
        shape = DAY_SHAPE[local.weekday()] * hour_shape(local.hour) / SHAPE_SUM
        return self.per_week * (1 + self.growth) ** weeks * shape

    def counts(self, since: datetime, until: datetime) -> Iterator[tuple[datetime, int]]:
        """(hour, tickets) for each hour from ``since`` (the origin or later) to ``until``."""
        reached, hour = 0.0, self.origin
        while hour < until:
            before = reached
            reached += self.rate(hour)
            if hour >= since:
                yield hour, math.floor(reached) - math.floor(before)
            hour += timedelta(hours=1)

    def arrivals(self, since: datetime, until: datetime) -> list[datetime]:
        return [
            hour + timedelta(minutes=30)
            for hour, n in self.counts(since, until)
            for _ in range(n)
        ]  # fmt: skip


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def measure(
    brand: GrowingBrand, day: date, weeks: int, at_hour: int, hours: int, with_trend: bool
) -> float:
    """A window of ``hours`` from ``at_hour`` on ``day`` measured as the service does: the
    profile of the four whole weeks before ``day``, the trend of the ``weeks`` whole weeks
    before it; observed ÷ expected."""
    zone = brand.zone
    first_day, last_day = day - timedelta(weeks=PROFILE_WEEKS), day - timedelta(days=1)
    profile = weekly_profile(
        brand.arrivals(midnight(first_day, zone), midnight(day, zone)), zone, PROFILE_WEEKS
    )
    ends = [midnight(day - timedelta(weeks=weeks - j), zone) for j in range(weeks + 1)]
    totals = [
        sum(n for _h, n in brand.counts(ends[j], ends[j + 1])) for j in range(weeks)
    ]  # fmt: skip
    start = midnight(day, zone) + timedelta(hours=at_hour)
    fitted = trend(totals, PROFILE_WEEKS, 0.0)
    if with_trend:
        expected = trended_expectation(
            profile, start, hours, zone, (first_day, last_day), fitted.weekly_growth
        )
    else:
        expected = expected_arrivals(profile, start, hours, zone)
    observed = sum(n for _h, n in brand.counts(start, start + timedelta(hours=hours)))
    return observed / expected


ZONES = st.sampled_from([ZoneInfo("UTC"), ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Moscow")])


@settings(max_examples=40)
@given(
    growth=st.floats(-0.15, 0.25),
    per_week=st.integers(5_000, 20_000),
    weeks=st.integers(PROFILE_WEEKS, 8),
    weekday=st.integers(0, 6),
    at_hour=st.integers(0, 23),
    hours=st.integers(4, 168),
    zone=ZONES,
)
def test_a_brand_growing_steadily_with_no_event_has_a_lift_of_about_1(
    growth: float, per_week: int, weeks: int, weekday: int, at_hour: int, hours: int,
    zone: ZoneInfo,
) -> None:  # fmt: skip
    """Growth from −15 % to +25 % a week, any weekday and hour, windows of 4 hours to a
    week: within 8 % of 1 (the trend's shrinkage by its standard error and the average of
    compounding weeks lying above their middle's level leave a few per cent)."""
    origin = midnight(date(2026, 1, 5), zone)  # a Monday
    day = date(2026, 1, 5) + timedelta(weeks=weeks, days=weekday)
    brand = GrowingBrand(origin, per_week, growth, zone)
    assert measure(brand, day, weeks, at_hour, hours, with_trend=True) == pytest.approx(1, abs=0.08)


@pytest.mark.parametrize("growth", [0.15, 0.25])
def test_against_the_average_alone_growth_reads_as_an_event(growth: float) -> None:
    """What the trend corrects: the same brand measured against the four weeks' average
    alone shows a lift of (1 + growth) ^ 2.5 — 1.4 at 15 % a week — with no event at all."""
    utc = ZoneInfo("UTC")
    brand = GrowingBrand(midnight(date(2026, 1, 5), utc), 10_000, growth, utc)
    day = date(2026, 1, 5) + timedelta(weeks=8)
    alone = measure(brand, day, 8, 20, 1, with_trend=False)
    assert alone == pytest.approx((1 + growth) ** 2.5, rel=0.05)
    assert measure(brand, day, 8, 20, 1, with_trend=True) == pytest.approx(1, abs=0.05)


def test_a_flat_brand_and_no_growth_expect_the_average() -> None:
    """No growth: the expectation is the profile's, whatever the window."""
    utc = ZoneInfo("UTC")
    profile = {(d, h): 1.0 + d + h / 10 for d in range(7) for h in range(24)}
    start = datetime(2026, 3, 4, 5, tzinfo=UTC)
    history = (date(2026, 2, 4), date(2026, 3, 3))
    for hours in (1, 24, 168):
        assert trended_expectation(profile, start, hours, utc, history, 0.0) == pytest.approx(
            expected_arrivals(profile, start, hours, utc)
        )


def test_each_hour_is_moved_on_from_the_middle_of_its_weekdays() -> None:
    """The day after four whole weeks sits 2.5 weeks after its weekday's middle; seven days
    later, 3.5 weeks; a weekday the history has not seen (a young brand) is scaled from the
    middle of all the history's days."""
    utc = ZoneInfo("UTC")
    profile = {(d, h): 1.0 for d in range(7) for h in range(24)}
    history = (date(2026, 2, 2), date(2026, 3, 1))  # four weeks, Monday to Sunday
    monday = datetime(2026, 3, 2, 20, tzinfo=UTC)
    assert trended_expectation(profile, monday, 1, utc, history, 0.1) == pytest.approx(1.1**2.5)
    later = monday + timedelta(weeks=1)
    assert trended_expectation(profile, later, 1, utc, history, 0.1) == pytest.approx(1.1**3.5)
    young = (date(2026, 2, 25), date(2026, 3, 1))  # Wednesday to Sunday: no Monday yet
    assert trended_expectation(profile, monday, 1, utc, young, 0.1) == pytest.approx(
        1.1 ** ((date(2026, 3, 2) - date(2026, 2, 27)).days / 7)
    )
    assert MIN_TREND_WEEKS <= PROFILE_WEEKS
