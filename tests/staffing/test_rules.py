"""Peak-capacity planning: Erlang C against textbook figures, properties of the search for
the fewest slots, and the hour-by-hour plan from a weekly profile."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.staffing.rules import (
    PlanInput,
    PlanTooLargeError,
    Queue,
    erlang_c,
    experts_needed,
    hour_of_week,
    peak,
    plan,
    required_slots,
    staffing,
    weekly_profile,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_erlang_c_matches_the_textbook_example() -> None:
    """100 calls in 30 minutes, 3 minutes each: 10 Erlangs. The classic worked example's
    waiting probabilities, and 14 agents for 80 % answered within 20 s (88.8 %, ASA 7.8 s)."""
    assert [round(erlang_c(n, 10.0), 3) for n in (11, 12, 13, 14)] == [0.682, 0.449, 0.285, 0.174]
    queue = Queue(arrivals_per_hour=200, handle_s=180)
    assert queue.traffic == pytest.approx(10.0)
    assert staffing(13, queue, 20).service_level == pytest.approx(0.796, abs=0.001)
    best = required_slots(queue, target_s=20, goal=0.8)
    assert best.slots == 14
    assert best.service_level == pytest.approx(0.888, abs=0.001)
    assert best.average_wait_s == pytest.approx(7.8, abs=0.1)


def test_no_traffic_needs_nobody_and_too_few_slots_never_keep_up() -> None:
    assert required_slots(Queue(0, 600), 60, 0.8).slots == 0
    assert erlang_c(5, 5.0) == 1.0
    overloaded = staffing(5, Queue(60, 600), 60)  # 10 Erlangs on 5 slots
    assert overloaded.service_level == 0.0
    assert math.isinf(overloaded.average_wait_s)


def test_a_sales_day_at_ten_times_is_computed_without_overflow_or_delay() -> None:
    """20,000 tickets an hour, one hour each: 20,000 Erlangs (factorials would overflow)."""
    fare = required_slots(Queue(20_000, 3600), target_s=4 * 3600, goal=0.8, max_occupancy=0.95)
    assert 20_000 < fare.slots <= math.ceil(20_000 / 0.95)
    assert fare.occupancy <= 0.95


def test_impossible_questions_are_refused() -> None:
    for goal in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="goal"):
            required_slots(Queue(10, 60), 60, goal)
    with pytest.raises(ValueError):
        required_slots(Queue(10, 0), 60, 0.8)


@given(
    arrivals=st.floats(0.1, 2000),
    handle_s=st.floats(30, 4 * 3600),
    target_s=st.floats(0, 8 * 3600),
    goal=st.floats(0.05, 0.99),
    max_occupancy=st.floats(0.5, 1.0),
)
def test_the_answer_is_the_fewest_slots_that_meet_the_goal(
    arrivals: float, handle_s: float, target_s: float, goal: float, max_occupancy: float
) -> None:
    queue = Queue(arrivals, handle_s)
    fare = required_slots(queue, target_s, goal, max_occupancy)
    assert fare.slots > queue.traffic
    assert fare.service_level >= goal
    assert fare.occupancy <= max_occupancy + 1e-12
    assert 0.0 <= fare.wait_probability <= 1.0
    one_less = staffing(fare.slots - 1, queue, target_s)
    assert one_less.service_level < goal or one_less.occupancy > max_occupancy


@given(st.integers(1, 300), st.floats(0.1, 250))
def test_more_slots_never_serve_worse(slots: int, traffic: float) -> None:
    queue = Queue(traffic, 3600)
    assert (
        staffing(slots + 1, queue, 600).service_level >= staffing(slots, queue, 600).service_level
    )
    assert erlang_c(slots + 1, traffic) <= erlang_c(slots, traffic)


def test_the_plan_scales_the_weekly_profile_by_the_event_multiplier() -> None:
    # Four weeks of history: two tickets every Monday 20:00–21:00 Shanghai time, one at 21:xx.
    mondays = [datetime(2026, 11, 2, 12, 15, tzinfo=UTC) + timedelta(weeks=w) for w in range(4)]
    arrivals = [m for m in mondays for _ in range(2)] + [m + timedelta(hours=1) for m in mondays]
    profile = weekly_profile(arrivals, SHANGHAI, weeks=4)
    assert profile == {(0, 20): 2.0, (0, 21): 1.0}
    spec = PlanInput(
        start=datetime(2026, 11, 30, 19, 30, tzinfo=SHANGHAI), hours=4, multiplier=10,
        handle_s=1800, target_s=900, goal=0.8, concurrency=2, shrinkage=0.2,
    )  # fmt: skip
    hours = plan(profile, spec, SHANGHAI)
    assert [h.start.hour for h in hours] == [19, 20, 21, 22]
    assert [h.arrivals for h in hours] == [0.0, 20.0, 10.0, 0.0]
    assert hours[0].experts == 0
    busiest = peak(hours)
    assert busiest is not None
    assert busiest.start.hour == 20
    assert busiest.experts == math.ceil(busiest.slots / 2 / 0.8)
    assert busiest.staffing.service_level >= 0.8


def test_the_plan_steps_real_hours_across_a_clock_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # 2026-10-25 03:00 CEST → 02:00 CET
    spec = PlanInput(datetime(2026, 10, 25, 1, 0, tzinfo=berlin), 3, 1, 600, 60)
    hours = plan({}, spec, berlin)
    utc = [h.start.astimezone(UTC) for h in hours]  # same-zone subtraction ignores the fold
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(utc)}
    assert gaps == {3600.0}
    assert [h.start.hour for h in hours] == [1, 2, 2]
    assert hour_of_week(hours[0].start, berlin) == (6, 1)


@given(
    st.lists(
        st.datetimes(min_value=datetime(2026, 10, 1), max_value=datetime(2026, 10, 28),  # noqa: DTZ001 (naive bounds, aware values)
                     timezones=st.just(UTC)),
        max_size=200,
    ),
    st.integers(1, 4),
)  # fmt: skip
def test_the_profile_keeps_the_weekly_volume_and_each_days_and_hours_share(
    arrivals: list[datetime], weeks: int
) -> None:
    profile = weekly_profile(arrivals, SHANGHAI, weeks)
    assert sum(profile.values()) == pytest.approx(len(arrivals) / weeks)
    for day in range(7):
        on_day = sum(1 for a in arrivals if hour_of_week(a, SHANGHAI)[0] == day)
        assert sum(v for (d, _h), v in profile.items() if d == day) == pytest.approx(on_day / weeks)


def test_a_history_begun_mid_week_divides_each_weekday_by_the_days_it_holds() -> None:
    """A brand ten days old: 10 tickets each day. Mondays were seen once, Fridays twice;
    both are 10 a day — dividing every weekday by two weeks planned Mondays at 5."""
    first = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
    arrivals = [first + timedelta(days=d, minutes=m) for d in range(10) for m in range(10)]
    days = (1, 1, 1, 1, 2, 2, 2)
    profile = weekly_profile(arrivals, SHANGHAI, days)
    for day in range(7):
        assert sum(v for (d, _h), v in profile.items() if d == day) == pytest.approx(10.0)
    # A weekday not seen yet is planned at the average day seen.
    short = weekly_profile(arrivals[:30], SHANGHAI, (0, 0, 0, 0, 1, 1, 1))
    assert sum(v for (d, _h), v in short.items() if d == 0) == pytest.approx(10.0)
    assert weekly_profile([], SHANGHAI, (0,) * 7) == {}  # a brand whose first day is today
    with pytest.raises(ValueError, match="no days"):
        weekly_profile(arrivals, SHANGHAI, (0,) * 7)
    with pytest.raises(ValueError, match="seven counts"):
        weekly_profile(arrivals, SHANGHAI, (1, 1))


@given(
    st.lists(
        st.datetimes(min_value=datetime(2026, 10, 1), max_value=datetime(2026, 10, 28),  # noqa: DTZ001 (naive bounds, aware values)
                     timezones=st.just(UTC)),
        max_size=100,
    ),
    st.lists(st.integers(1, 4), min_size=7, max_size=7),
)  # fmt: skip
def test_each_weekday_is_its_own_days_average(arrivals: list[datetime], days: list[int]) -> None:
    profile = weekly_profile(arrivals, SHANGHAI, days)
    for day in range(7):
        on_day = sum(1 for a in arrivals if hour_of_week(a, SHANGHAI)[0] == day)
        got = sum(v for (d, _h), v in profile.items() if d == day)
        assert got == pytest.approx(on_day / days[day])


def test_a_quiet_hour_in_a_small_history_is_not_planned_as_empty() -> None:
    """Four Mondays with one ticket each at 20:00, 21:00, 20:00, 21:00: Monday 21:00 is
    expected to see half a ticket even in the weeks it saw none."""
    mondays = [datetime(2026, 11, 2, 12, 10, tzinfo=UTC) + timedelta(weeks=w) for w in range(4)]
    arrivals = [m + timedelta(hours=w % 2) for w, m in enumerate(mondays)]
    profile = weekly_profile(arrivals, SHANGHAI, weeks=4)
    assert profile == {(0, 20): 0.5, (0, 21): 0.5}


def test_shrinkage_does_not_add_an_expert_by_float_rounding() -> None:
    """7 slots at 30 % shrinkage is 10 experts (7 ÷ 0.7), not 11: 1 − 0.3 is 0.69999… in
    floating point and 7 ÷ 0.69999… rounded up. Every shrinkage the form offers (whole
    percents) must give the exact ceiling."""
    assert experts_needed(7, 1, 0.3) == 10
    assert experts_needed(1, 1, 0.8) == 5
    assert experts_needed(0, 2, 0.5) == 0
    for slots, per, pct in itertools.product(range(0, 60), range(1, 5), range(0, 91)):
        exact = -(-slots * 100 // (per * (100 - pct)))
        assert experts_needed(slots, per, pct / 100) == exact, (slots, per, pct)


def test_traffic_no_staffing_can_meet_is_refused_at_once() -> None:
    """Beyond MAX_SERVERS the search ran 100,000 steps per hour before giving up (a 500 after
    seconds for a week-long event); it now refuses before searching."""
    import time

    started = time.perf_counter()
    with pytest.raises(PlanTooLargeError):
        required_slots(Queue(arrivals_per_hour=10**6, handle_s=3600), target_s=60, goal=0.8)
    assert time.perf_counter() - started < 0.5
