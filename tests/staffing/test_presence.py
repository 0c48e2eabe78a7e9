"""Who actually shows up: experts online per hour of the week from presence intervals
(staffing.rules.online_by_hour), on plain values, with properties over generated intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.staffing.rules import Presence, online_by_hour, short_by

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = st.sampled_from(
    [ZoneInfo(z) for z in ("UTC", "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu",
                           "Europe/Moscow", "America/New_York", "Australia/Lord_Howe")]
)  # fmt: skip
# The plan's window: four whole weeks of calendar days ending yesterday, 00:00 to 00:00 there.
SINCE = datetime(2026, 11, 9, tzinfo=SHANGHAI).astimezone(UTC)
UNTIL = datetime(2026, 12, 7, tzinfo=SHANGHAI).astimezone(UTC)
MOMENTS = st.integers(-3 * 86400, 31 * 86400).map(lambda s: SINCE + timedelta(seconds=s))


@st.composite
def intervals(draw: st.DrawFn) -> list[Presence]:
    out: list[Presence] = []
    for _ in range(draw(st.integers(0, 6))):
        a, b = sorted((draw(MOMENTS), draw(MOMENTS)))
        out.append((a, None if draw(st.booleans()) else b))
    return out


def _same(a: dict[tuple[int, int], float], b: dict[tuple[int, int], float]) -> None:
    assert a.keys() == b.keys()
    for cell, value in a.items():
        assert b[cell] == pytest.approx(value, abs=1e-9)


def test_an_expert_online_every_evening_counts_one_in_those_hours_only() -> None:
    """Online 20:00–22:00 Shanghai time every day of four weeks: 1 at 20 and 21 o'clock on
    every weekday, 0 elsewhere; an interval still open at the end counts to the window's end."""
    days = [datetime(2026, 11, 9, 20, tzinfo=SHANGHAI) + timedelta(days=d) for d in range(28)]
    found: list[Presence] = [(d, d + timedelta(hours=2)) for d in days]
    grid = online_by_hour(found, SINCE, UNTIL, SHANGHAI)
    assert len(grid) == 168
    for (day, hour), value in grid.items():
        assert value == (1.0 if hour in (20, 21) else 0.0), (day, hour)
    # Half an hour on one Monday at 10:00 of four Mondays: 0.5 / 4 on average.
    monday = datetime(2026, 11, 16, 10, tzinfo=SHANGHAI)
    grid = online_by_hour([(monday, monday + timedelta(minutes=30))], SINCE, UNTIL, SHANGHAI)
    assert grid[(0, 10)] == 0.125
    assert sum(grid.values()) == 0.125
    # Still online since the last Sunday 23:30: half of one Sunday 23:00 in four.
    late = datetime(2026, 12, 6, 23, 30, tzinfo=SHANGHAI)
    assert online_by_hour([(late, None)], SINCE, UNTIL, SHANGHAI)[(6, 23)] == 0.125


def test_half_hour_zones_and_an_empty_window() -> None:
    """Kolkata is UTC+5:30: an hour there straddles two UTC hours and is still one cell."""
    kolkata = ZoneInfo("Asia/Kolkata")
    since = datetime(2026, 11, 30, tzinfo=kolkata)
    at = datetime(2026, 11, 30, 9, tzinfo=kolkata)
    grid = online_by_hour(
        [(at, at + timedelta(hours=1))], since, since + timedelta(days=7), kolkata
    )
    assert grid[(0, 9)] == 1.0
    assert grid[(0, 8)] == grid[(0, 10)] == 0.0
    assert online_by_hour([(at, None)], since, since, kolkata) == {}


@given(ZONES)
def test_an_expert_online_through_the_window_counts_one_in_every_cell(zone: ZoneInfo) -> None:
    grid = online_by_hour([(SINCE - timedelta(days=1), None)], SINCE, UNTIL, zone)
    assert len(grid) >= 167  # a zone whose clock skipped an hour in the window may lack it
    assert all(v == pytest.approx(1.0) for v in grid.values())


@given(intervals(), st.data(), ZONES)
def test_splitting_an_interval_in_two_changes_nothing(
    found: list[Presence], data: st.DataObject, zone: ZoneInfo
) -> None:
    before = online_by_hour(found, SINCE, UNTIL, zone)
    split: list[Presence] = []
    for start, end in found:
        last = end or UNTIL + timedelta(days=1)
        seconds = int((last - start).total_seconds())
        cut = start + timedelta(seconds=data.draw(st.integers(0, max(0, seconds))))
        split += [(start, cut), (cut, end)]
    _same(before, online_by_hour(split, SINCE, UNTIL, zone))


@given(intervals(), ZONES)
def test_intervals_are_clipped_to_the_window(found: list[Presence], zone: ZoneInfo) -> None:
    """What lies outside the window counts for nothing: clipping first gives the same grid,
    and an interval wholly before or after the window adds nothing."""
    clipped: list[Presence] = [
        (max(a, SINCE), min(b or UNTIL, UNTIL)) for a, b in found if a < (b or UNTIL)
    ]
    outside: list[Presence] = [(SINCE - timedelta(days=9), SINCE), (UNTIL, None)]
    grid = online_by_hour(found, SINCE, UNTIL, zone)
    _same(grid, online_by_hour(clipped, SINCE, UNTIL, zone))
    _same(grid, online_by_hour(found + outside, SINCE, UNTIL, zone))


@given(intervals(), ZONES)
def test_every_cell_is_between_nobody_and_everybody(found: list[Presence], zone: ZoneInfo) -> None:
    """The average is never negative nor more than the intervals there are, and the grid's
    expert-hours are the intervals' hours inside the window."""
    grid = online_by_hour(found, SINCE, UNTIL, zone)
    assert all(-1e-9 <= v <= len(found) + 1e-9 for v in grid.values())
    inside = sum(
        max(0.0, (min(b or UNTIL, UNTIL) - max(a, SINCE)).total_seconds()) for a, b in found
    )
    weeks = (UNTIL - SINCE) / timedelta(weeks=1)
    assert sum(grid.values()) * 3600 * weeks == pytest.approx(inside, abs=1e-3)


def test_short_by_counts_whole_experts_missing() -> None:
    assert short_by(3, 2.4) == 1
    assert short_by(3, 0.0) == 3
    assert short_by(3, 3.0) == short_by(2, 3.5) == short_by(0, 0.0) == 0
    assert short_by(7, 7 - 1e-12) == 0  # float noise is not an expert short
