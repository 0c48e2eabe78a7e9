"""The period summaries, from plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.analytics.rules import (
    QuestionFacts,
    SelfService,
    Share,
    history_days,
    percentile,
    period_days,
    summarize_questions,
    summarize_ratings,
    summarize_tickets,
)
from crowdcx.tickets.rules import Role, SlaPolicy, State, Ticket

T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
SLA = SlaPolicy(first_response_s=3600, resolution_s=4 * 3600)
NOW = T0 + timedelta(days=2)


def _ticket(n: int, state: State, **kw: object) -> Ticket:
    return Ticket(id=str(n), customer_id="c", state=state, created_at=T0, **kw)  # type: ignore[arg-type]


def test_tickets_by_lane_and_against_the_sla() -> None:
    h = timedelta(hours=1)
    tickets = [
        # an expert answered in 30 min and resolved in 2 h: both targets met
        _ticket(1, State.CLOSED, first_response_at=T0 + h / 2, resolved_at=T0 + 2 * h,
                resolved_by="7", resolved_by_role=Role.EXPERT),
        # handed to staff, first answered after 3 h, resolved after 6 h: both missed
        _ticket(2, State.RESOLVED, escalated=True, first_response_at=T0 + 3 * h,
                resolved_at=T0 + 6 * h, resolved_by="9", resolved_by_role=Role.AGENT),
        _ticket(3, State.DEFLECTED),  # a suggestion solved it: no clock
        _ticket(4, State.QUEUED),  # still waiting after two days: both targets missed
        _ticket(5, State.CLAIMED, first_response_at=T0 + h / 4),  # resolution still running?
    ]  # fmt: skip
    s = summarize_tickets(tickets, SLA, NOW)
    assert (s.created, s.resolved, s.by_experts, s.by_staff) == (5, 2, 1, 1)
    assert (s.escalated, s.deflected, s.open) == (1, 1, 2)
    assert s.expert_share == Share(1, 2)
    assert s.first_response.count == 3
    assert s.first_response.median_s == 1800
    assert s.resolution.median_s == 4 * 3600  # halfway between 2 h and 6 h
    assert s.first_response_met == Share(2, 4)  # 1 and 5 met; 2 late; 4 ran out
    assert s.resolution_met == Share(1, 4)  # 1 met; 2 late; 4 and 5 ran out


def test_satisfaction_counts_csat_and_nps() -> None:
    s = summarize_ratings([(5, 10), (4, 9), (2, 3), (5, None), (1, 7), (9, 11)])
    assert s.ratings == 5  # the out-of-range rating is left out
    assert s.csat_counts == (1, 1, 0, 1, 2)
    assert s.csat_average == 17 / 5
    assert s.satisfied == Share(3, 5)
    assert s.nps_answers == 4
    assert s.nps == 100 * (2 - 1) / 4  # two promoters, one detractor, one passive
    assert summarize_ratings([]).csat_average is None


def test_self_service_rate_is_solved_among_cases_that_ended() -> None:
    assert SelfService(100, 40, 30, 5, 70).self_service_rate == Share(30, 100)
    assert SelfService(0, 0, 0, 0, 0).self_service_rate.rate is None


def test_community_answered_solved_and_how_fast() -> None:
    h = timedelta(hours=1)
    s = summarize_questions([
        QuestionFacts(T0, T0 + h, True, False),
        QuestionFacts(T0, T0 + 3 * h, False, False),
        QuestionFacts(T0, None, False, True),
    ])  # fmt: skip
    assert (s.asked, s.answered, s.solved, s.escalated) == (3, Share(2, 3), Share(1, 3), 1)
    assert s.first_answer.median_s == 2 * 3600


@given(st.lists(st.floats(0, 1e7), min_size=1), st.floats(0, 1))
def test_a_percentile_lies_within_the_values(values: list[float], q: float) -> None:
    p = percentile(values, q)
    assert p is not None
    assert min(values) <= p <= max(values)
    assert percentile(values, 0) == min(values)
    assert percentile(values, 1) == max(values)


def test_an_escalated_question_counts_from_when_it_was_asked() -> None:
    """The case began when the question was asked (two hours before the ticket was written);
    a community answer after the escalation was its first response, as the SLA counts it."""
    h = timedelta(hours=1)
    ticket = Ticket(
        id="1", customer_id="c", state=State.CLAIMED, created_at=T0 + 2 * h,
        case_started_at=T0, community_response_at=T0 + 2.5 * h,
    )  # fmt: skip
    s = summarize_tickets([ticket], SLA, T0 + 3 * h)
    assert s.first_response.median_s == 2.5 * 3600
    assert s.first_response_met == Share(0, 1)  # 2.5 h against a 1 h target


def test_a_period_is_whole_local_days_ending_today() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    # 20:00 UTC on 6 December is already 04:00 on 7 December in Shanghai.
    now = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    assert period_days(now, 7, shanghai) == (
        date(2026, 12, 1),
        date(2026, 12, 7),
        datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
    )
    assert period_days(now, 1, UTC) == (
        date(2026, 12, 6),
        date(2026, 12, 6),
        datetime(2026, 12, 6, tzinfo=UTC),
    )
    # Across a clock change the period still starts at the local midnight.
    berlin = ZoneInfo("Europe/Berlin")
    first, _today, since = period_days(datetime(2026, 3, 30, 12, 0, tzinfo=UTC), 7, berlin)
    assert first == date(2026, 3, 24)
    assert since == datetime(2026, 3, 23, 23, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="at least one day"):
        period_days(now, 0, UTC)


def test_the_capacity_history_is_whole_local_weeks_ending_yesterday() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # 04:00 on Monday 7 December in Shanghai
    h = history_days(now, shanghai, 4, None)
    assert (h.weeks, h.first_day, h.last_day) == (4, date(2026, 11, 9), date(2026, 12, 6))
    assert h.since == datetime(2026, 11, 8, 16, 0, tzinfo=UTC)  # 9 November, 00:00 there
    assert h.until == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # today's midnight there
    # A brand whose first ticket came 10 days ago (local): two weeks; yesterday or today: one.
    assert history_days(now, shanghai, 4, datetime(2026, 11, 27, tzinfo=shanghai)).weeks == 2
    assert history_days(now, shanghai, 4, datetime(2026, 12, 6, 23, tzinfo=shanghai)).weeks == 1
    assert history_days(now, shanghai, 4, datetime(2026, 12, 7, 1, tzinfo=shanghai)).weeks == 1
    assert history_days(now, shanghai, 4, datetime(2020, 1, 1, tzinfo=UTC)).weeks == 4
    with pytest.raises(ValueError, match="at least one week"):
        history_days(now, UTC, 0, None)


@given(
    st.datetimes(
        datetime(2020, 1, 1),  # noqa: DTZ001 (naive bounds, aware values)
        datetime(2030, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.sampled_from(["UTC", "Asia/Shanghai", "Europe/Berlin", "America/Los_Angeles"]),
    st.integers(1, 6),
    st.none() | st.integers(0, 60),
)
def test_the_history_holds_each_weekday_weeks_times_and_never_today(
    now: datetime, name: str, max_weeks: int, age_days: int | None
) -> None:
    zone = ZoneInfo(name)
    first_seen = None if age_days is None else now - timedelta(days=age_days)
    h = history_days(now, zone, max_weeks, first_seen)
    assert 1 <= h.weeks <= max_weeks
    assert (h.last_day - h.first_day).days + 1 == 7 * h.weeks
    assert h.last_day == now.astimezone(zone).date() - timedelta(days=1)
    assert h.since <= h.until <= now
    assert h.since.astimezone(zone).date() == h.first_day
    assert (h.until - timedelta(microseconds=1)).astimezone(zone).date() == h.last_day
    if first_seen is not None and h.weeks < max_weeks:  # reaches back to the first day
        assert h.first_day <= first_seen.astimezone(zone).date()
    # The divisors count the days the brand had begun by, each weekday at most weeks times.
    begun = (
        h.first_day if first_seen is None else max(h.first_day, first_seen.astimezone(zone).date())
    )
    assert sum(h.weekdays) == max(0, (h.last_day - begun).days + 1)
    assert all(0 <= n <= h.weeks for n in h.weekdays)
    if first_seen is None:
        assert h.weekdays == (h.weeks,) * 7


def test_a_brand_ten_days_old_counts_each_weekday_from_its_first_day() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # Monday 7 December in Shanghai
    h = history_days(now, shanghai, 4, datetime(2026, 11, 27, 15, tzinfo=shanghai))  # a Friday
    assert h.weeks == 2
    # Friday 27 Nov .. Sunday 6 Dec: Fri, Sat, Sun twice; Mon–Thu once.
    assert h.weekdays == (1, 1, 1, 1, 2, 2, 2)
