"""What a brand's period looked like, across the three lanes: tickets (who resolved them,
how fast, against the SLA), satisfaction (CSAT, NPS), self-service (how many cases ended
with a suggestion instead of a ticket) and the community (answered, solved, how fast).
Pure: the service hands plain values in.

Definitions (shown on the page as well):
- a ticket resolved without a message was answered by its resolution, and a community answer
  after an escalation is a first response (as the SLA counts it);
- times run from the case's start (an escalated question's asked time) and are elapsed time
  (what the customer lived), medians and
  90th percentiles; whether a target was *met* is judged as the SLA judges it (business
  hours included), on the tickets whose clock has stopped or run out;
- CSAT average over 1–5 and the share of 4s and 5s ("satisfied"); NPS is the share of 9–10
  minus the share of 0–6, from −100 to 100;
- the self-service rate is ``solved ÷ (solved + tickets created)``: of the cases that ended
  either with a suggestion the customer said solved it or with a ticket, the share that
  never needed one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from crowdcx.tickets.rules import (
    OpenTime,
    Role,
    SlaPolicy,
    State,
    Ticket,
    case_start,
    first_response_met_at,
    resolution_clock,
)


def period_days(now: datetime, days: int, zone: tzinfo) -> tuple[date, date, datetime]:
    """A period of ``days`` whole calendar days in the brand's time zone ``zone``, ending with
    today there: (its first day, today, the first day's midnight in UTC). "The last 7 days"
    on a Monday runs from the Tuesday before at 00:00 local time up to now, not 7 × 24 hours
    back, which began mid-day and counted part of an eighth day."""
    if days < 1:
        raise ValueError("a period has at least one day")
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    return first, today, midnight(first, zone)


def midnight(day: date, zone: tzinfo) -> datetime:
    """The start of ``day`` in ``zone``, in UTC. A midnight skipped by a clock change reads as
    the first moment of that day."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class HistoryDays:
    """The capacity plan's history: ``weeks`` whole weeks of calendar days in the brand's time
    zone, ``first_day`` to ``last_day`` (yesterday), from ``since`` up to ``until`` (today's
    midnight; both in UTC)."""

    weeks: int
    first_day: date
    last_day: date
    since: datetime
    until: datetime
    # Days of each weekday (Monday first) in the window that the brand had begun by: the
    # weekly profile's divisors. A brand of ten days has a two-week window, with most
    # weekdays once, not twice: dividing them by two planned half their traffic.
    weekdays: tuple[int, ...] = (0,) * 7


def history_days(
    now: datetime, zone: tzinfo, max_weeks: int, first_seen: datetime | None
) -> HistoryDays:
    """The last ``max_weeks`` complete weeks of calendar days in ``zone``, ending yesterday
    there. The weekly profile divides each weekday's count by the weeks, so every weekday
    must be in the window exactly ``weeks`` times and each time whole: today, not over yet,
    would count its weekday short, and so would a window starting at this hour 28 × 24 hours
    ago (it began mid-day and ended mid-day). A brand whose first ticket (``first_seen``)
    came later has the fewest weeks (at least one) that reach back to that ticket's day, and
    ``weekdays`` counts only the days from that day on."""
    if max_weeks < 1:
        raise ValueError("a history has at least one week")
    today = now.astimezone(zone).date()
    weeks = max_weeks
    if first_seen is not None:
        days_seen = (today - first_seen.astimezone(zone).date()).days
        weeks = max(1, min(max_weeks, math.ceil(days_seen / 7)))
    first = today - timedelta(weeks=weeks)
    last = today - timedelta(days=1)
    begun = first if first_seen is None else max(first, first_seen.astimezone(zone).date())
    weekdays = [0] * 7
    for offset in range(max(0, (last - begun).days + 1)):
        weekdays[(begun + timedelta(days=offset)).weekday()] += 1
    return HistoryDays(
        weeks, first, last, midnight(first, zone), midnight(today, zone), tuple(weekdays)
    )


@dataclass(frozen=True, slots=True)
class Spread:
    """A duration's distribution in seconds: how many, the median and the 90th percentile."""

    count: int
    median_s: float | None
    p90_s: float | None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile (0–1) by linear interpolation between closest ranks; None if empty."""
    if not 0 <= q <= 1:
        raise ValueError("q is between 0 and 1")
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def spread(values: Sequence[float]) -> Spread:
    return Spread(len(values), percentile(values, 0.5), percentile(values, 0.9))


@dataclass(frozen=True, slots=True)
class Share:
    """``part`` of ``whole``; ``rate`` is None when there is nothing to judge."""

    part: int
    whole: int

    @property
    def rate(self) -> float | None:
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True, slots=True)
class TicketSummary:
    created: int
    open: int  # not yet resolved, closed or deflected
    resolved: int  # resolved or closed
    by_experts: int
    by_staff: int
    escalated: int  # handed to staff (by the expert or the SLA sweeper)
    deflected: int  # the customer said a suggestion solved it
    first_response: Spread
    resolution: Spread
    first_response_met: Share
    resolution_met: Share

    @property
    def expert_share(self) -> Share:
        """Of the resolved tickets, those the crowd resolved without staff."""
        return Share(self.by_experts, self.resolved)


_DONE = (State.RESOLVED, State.CLOSED)


def _judged(
    started: datetime, target_s: int, met_at: datetime | None, now: datetime, clock: OpenTime
) -> bool | None:
    """Met (True), missed (False), or not judged yet (None: still running within its target),
    as ``tickets.rules.sla_status`` judges a clock."""
    if met_at is not None:
        return clock.between(started, met_at) <= target_s
    return False if clock.between(started, now) >= target_s else None


def summarize_tickets(
    tickets: Iterable[Ticket], sla: SlaPolicy, now: datetime, since: datetime | None = None
) -> TicketSummary:
    """``since``: the period's start (a case may have begun before it); the business hours'
    open time is laid out once from there, not again for every ticket."""
    clock = OpenTime(
        sla.business_hours, (since or now - timedelta(days=366)) - timedelta(days=30), now
    )
    created = open_ = resolved = by_experts = by_staff = escalated = deflected = 0
    responses: list[float] = []
    resolutions: list[float] = []
    fr_met = fr_judged = res_met = res_judged = 0
    for t in tickets:
        created += 1
        if t.state is State.DEFLECTED:
            deflected += 1
            continue
        if t.escalated or t.state is State.ESCALATED:
            escalated += 1
        if t.state in _DONE:
            resolved += 1
            if t.resolved_by_role is Role.EXPERT:
                by_experts += 1
            else:
                by_staff += 1
        else:
            open_ += 1
        started = case_start(t)  # an escalated question's case began when it was asked
        resolved_at = t.resolved_at
        if t.state in _DONE and resolved_at is not None:
            if first_response_met_at(t) is None:
                t = replace(t, first_response_at=resolved_at)  # resolving answers the customer
            resolutions.append((resolved_at - started).total_seconds())
        answered = first_response_met_at(t)  # the crowd's, staff's or the community's
        if answered is not None:
            responses.append((answered - started).total_seconds())
        first = _judged(started, sla.first_response_s, answered, now, clock)
        if first is not None:
            fr_judged += 1
            fr_met += first
        clock_from, met_at = resolution_clock(t)
        resolution = _judged(clock_from, sla.resolution_s, met_at, now, clock)
        if resolution is not None:
            res_judged += 1
            res_met += resolution
    return TicketSummary(
        created, open_, resolved, by_experts, by_staff, escalated, deflected,
        spread(responses), spread(resolutions),
        Share(fr_met, fr_judged), Share(res_met, res_judged),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Satisfaction:
    ratings: int
    csat_average: float | None
    csat_counts: tuple[int, int, int, int, int]  # how many 1s … 5s
    satisfied: Share  # 4s and 5s
    nps_answers: int
    nps: float | None  # promoters − detractors, in points from −100 to 100


def summarize_ratings(ratings: Iterable[tuple[int, int | None]]) -> Satisfaction:
    """``(csat 1–5, nps 0–10 or None)`` per rating; values out of range are ignored."""
    counts = [0, 0, 0, 0, 0]
    promoters = detractors = answers = 0
    for csat, nps in ratings:
        if 1 <= csat <= 5:
            counts[csat - 1] += 1
        if nps is not None and 0 <= nps <= 10:
            answers += 1
            promoters += nps >= 9
            detractors += nps <= 6
    n = sum(counts)
    average = sum((i + 1) * c for i, c in enumerate(counts)) / n if n else None
    score = 100 * (promoters - detractors) / answers if answers else None
    return Satisfaction(
        n, average, (counts[0], counts[1], counts[2], counts[3], counts[4]),
        Share(counts[3] + counts[4], n), answers, score,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SelfService:
    shown: int  # suggestions shown (search results, intake suggestions)
    opened: int
    solved: int  # "this solved it"
    no_answer: int  # searches that found nothing good enough (out of scope)
    tickets: int  # tickets created in the period, less those deflected (already solved cases)

    @property
    def self_service_rate(self) -> Share:
        return Share(self.solved, self.solved + self.tickets)


@dataclass(frozen=True, slots=True)
class QuestionFacts:
    asked_at: datetime
    first_answer_at: datetime | None
    solved: bool  # an accepted or brand-approved answer
    escalated: bool  # turned into a ticket


@dataclass(frozen=True, slots=True)
class CommunitySummary:
    asked: int
    answered: Share
    solved: Share
    escalated: int
    first_answer: Spread


def summarize_questions(questions: Iterable[QuestionFacts]) -> CommunitySummary:
    asked = answered = solved = escalated = 0
    waits: list[float] = []
    for q in questions:
        asked += 1
        if q.first_answer_at is not None:
            answered += 1
            waits.append(max(0.0, (q.first_answer_at - q.asked_at).total_seconds()))
        solved += q.solved
        escalated += q.escalated
    return CommunitySummary(
        asked, Share(answered, asked), Share(solved, asked), escalated, spread(waits)
    )
