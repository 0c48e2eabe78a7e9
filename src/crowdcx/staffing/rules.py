"""Peak-capacity planning: how many experts must be online, hour by hour, to answer a sales
event's traffic within the brand's first-response target. Pure.

The queue is Erlang C (M/M/N): tickets arrive at random (Poisson) at ``arrivals_per_hour``;
each occupies one of an expert's ``concurrency`` slots for ``handle_s`` on average (claim →
resolution: the ticket counts against the expert's concurrent-ticket limit all that time);
``service level`` is the share of tickets claimed within ``target_s`` of arriving. The
arrival forecast is the brand's own history (each weekday's average volume over the last
weeks, spread over the day as its hours usually share the traffic), times the event's
multiplier (sales events bring about 10×).

Why not a library: the Python package for Erlang C, pyworkforce (0.5.1, last released July
2023), requires ortools, pandas and joblib for shift rostering the platform does not do, and
searches the staffing by recomputing the formula from scratch for every candidate (quadratic
in the answer). The formula is a dozen lines: here it is the numerically stable Erlang B
recursion (no factorials, no overflow at thousands of slots), one pass upwards, checked
against textbook Erlang C figures and by properties in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

MAX_SERVERS: Final = 100_000  # beyond any brand: stops a search that could not end


class PlanTooLargeError(ValueError):
    """No staffing up to :data:`MAX_SERVERS` slots can carry the traffic."""


@dataclass(frozen=True, slots=True)
class Queue:
    """One hour's workload: the offered traffic is ``arrivals_per_hour × handle_s / 3600``
    Erlangs (slots busy on average)."""

    arrivals_per_hour: float
    handle_s: float

    @property
    def traffic(self) -> float:
        return self.arrivals_per_hour * self.handle_s / 3600.0


@dataclass(frozen=True, slots=True)
class Staffing:
    """What ``slots`` busy-or-free slots give: the share answered within the target, the
    chance a ticket waits at all, the average wait and how busy the slots are."""

    slots: int
    service_level: float
    wait_probability: float
    average_wait_s: float
    occupancy: float


def erlang_c(slots: int, traffic: float) -> float:
    """The probability that an arriving ticket waits (all ``slots`` busy); 1 when the slots
    cannot keep up (``slots <= traffic``)."""
    if traffic <= 0:
        return 0.0
    if slots <= traffic:
        return 1.0
    b = 1.0  # Erlang B by its recursion: B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1))
    for n in range(1, slots + 1):
        b = traffic * b / (n + traffic * b)
    return slots * b / (slots - traffic * (1 - b))


def staffing(slots: int, queue: Queue, target_s: float) -> Staffing:
    """How ``slots`` fare against ``queue`` with a wait target of ``target_s``."""
    a = queue.traffic
    if a <= 0:
        return Staffing(slots, 1.0, 0.0, 0.0, 0.0)
    if slots <= a:
        return Staffing(slots, 0.0, 1.0, math.inf, 1.0)
    c = erlang_c(slots, a)
    return _fare(slots, a, c, queue.handle_s, target_s)


def _fare(slots: int, a: float, c: float, handle_s: float, target_s: float) -> Staffing:
    service = 1.0 - c * math.exp(-(slots - a) * target_s / handle_s)
    return Staffing(slots, max(0.0, service), c, c * handle_s / (slots - a), a / slots)


def required_slots(
    queue: Queue, target_s: float, goal: float, max_occupancy: float = 1.0
) -> Staffing:
    """The fewest slots that answer at least ``goal`` (0 < goal < 1) of the tickets within
    ``target_s``, with slots no busier than ``max_occupancy`` on average. One pass upwards
    through the Erlang B recursion: linear in the answer, even at thousands of slots."""
    if not 0 < goal < 1:
        raise ValueError("goal is a share between 0 and 1 (exclusive)")
    if target_s < 0 or queue.handle_s <= 0 or not 0 < max_occupancy <= 1:
        raise ValueError("target_s ≥ 0, handle_s > 0 and 0 < max_occupancy ≤ 1")
    a = queue.traffic
    if a <= 0:
        return Staffing(0, 1.0, 0.0, 0.0, 0.0)
    if a / max_occupancy >= MAX_SERVERS:  # refused at once, not after 100,000 steps
        raise PlanTooLargeError("no staffing up to MAX_SERVERS meets the goal")
    b = 1.0
    for n in range(1, MAX_SERVERS + 1):
        b = a * b / (n + a * b)
        if n <= a or a / n > max_occupancy:
            continue
        fare = _fare(n, a, n * b / (n - a * (1 - b)), queue.handle_s, target_s)
        if fare.service_level >= goal:
            return fare
    raise PlanTooLargeError("no staffing up to MAX_SERVERS meets the goal")


# --------------------------------------------------------------------------------------------
# The arrival forecast from the brand's history
# --------------------------------------------------------------------------------------------

HourOfWeek = tuple[int, int]  # (weekday 0 = Monday, hour 0–23) in the brand's time zone


def hour_of_week(moment: datetime, zone: ZoneInfo) -> HourOfWeek:
    local = moment.astimezone(zone)
    return local.weekday(), local.hour


def weekly_profile(
    arrivals: Iterable[datetime],
    zone: ZoneInfo,
    weeks: int | Sequence[int],
    excluded: Collection[date] = frozenset(),
) -> dict[HourOfWeek, float]:
    """Expected tickets per hour of the week, from ``weeks`` weeks of ``arrivals``: each
    weekday's average volume spread over its hours as the hours of all days share the
    traffic (day-of-week × hour-of-day). Four weeks of a small brand leave most of the 168
    hour-of-week cells with 0–2 tickets, so counting cells alone plans nobody for an hour
    that merely happened to be quiet; the product keeps the weekly total and the shapes.

    ``weeks`` is how many of each weekday the history holds: one number for whole weeks, or
    seven (Monday first) for a history that began mid-week. A weekday the history has not
    seen yet is planned at the average day seen.

    ``excluded`` are calendar days (in ``zone``, inside the history) of the brand's sales
    events: their arrivals are left out and each weekday is averaged over the days it kept,
    so one 10× day does not raise every ordinary week's plan. (Whole days, as the weekday
    counts are of whole days: leaving out only an event's hours would leave the rest of its
    day averaged as if it were a whole one.)"""
    days = [weeks] * 7 if isinstance(weeks, int) else list(weeks)
    if len(days) != 7 or min(days) < 0 or (isinstance(weeks, int) and weeks < 1):
        raise ValueError("weeks ≥ 1, or seven counts of days ≥ 0")
    left_out = frozenset(excluded)
    for day_left_out in left_out:
        days[day_left_out.weekday()] -= 1
    if min(days) < 0:
        raise ValueError("more days of a weekday excluded than the history holds")
    by_day = [0] * 7
    by_hour = [0] * 24
    for at in arrivals:
        local = at.astimezone(zone)
        if local.date() in left_out:
            continue
        day, hour = local.weekday(), local.hour
        by_day[day] += 1
        by_hour[hour] += 1
    total = sum(by_hour)
    if total == 0:
        return {}
    if sum(days) < 1:
        raise ValueError("arrivals in a history of no days")
    average_day = total / sum(days)
    per_day = [by_day[d] / days[d] if days[d] else average_day for d in range(7)]
    return {
        (day, hour): per_day[day] * by_hour[hour] / total
        for day in range(7)
        for hour in range(24)
        if per_day[day] and by_hour[hour]
    }


# --------------------------------------------------------------------------------------------
# The brand's sales events: remembered, left out of the ordinary week
# --------------------------------------------------------------------------------------------

MAX_EVENT_NAME: Final = 120
MAX_EVENT_HOURS: Final = 168
MAX_EVENT_AGE: Final = timedelta(days=366)  # an event's start: at most a year back …
MAX_EVENT_AHEAD: Final = timedelta(days=731)  # … and two years ahead


@dataclass(frozen=True, slots=True)
class SalesEvent:
    """One of the brand's sales events: ``hours`` from ``start`` (aware); ``multiplier`` the
    traffic the admin expects of it (None: learn it from the last past event)."""

    id: int
    name: str
    start: datetime
    hours: int
    multiplier: float | None = None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)

    def is_past(self, now: datetime) -> bool:
        return self.end <= now


def event_problem(
    name: str, start: datetime, hours: int, others: Iterable[SalesEvent], now: datetime
) -> tuple[str, str] | None:
    """Why an event cannot be added, as (field, code), None when it can: ``name_empty``,
    ``name_too_long``, ``hours_out_of_range`` (1–168), ``start_out_of_range`` (a year back to
    two years ahead of ``now``), ``overlaps`` another of the brand's events."""
    if not name.strip():
        return "name", "name_empty"
    if len(name.strip()) > MAX_EVENT_NAME:
        return "name", "name_too_long"
    if not 1 <= hours <= MAX_EVENT_HOURS:
        return "hours", "hours_out_of_range"
    if not now - MAX_EVENT_AGE <= start <= now + MAX_EVENT_AHEAD:
        return "start", "start_out_of_range"
    end = start + timedelta(hours=hours)
    if any(o.start < end and start < o.end for o in others):
        return "start", "overlaps"
    return None


def event_days(
    events: Iterable[SalesEvent], zone: ZoneInfo, first_day: date, last_day: date
) -> frozenset[date]:
    """The calendar days in ``zone`` from ``first_day`` to ``last_day`` that any of
    ``events`` touches (an event ending at midnight does not touch the next day)."""
    days: set[date] = set()
    for e in events:
        day = e.start.astimezone(zone).date()
        last = (e.end - timedelta(microseconds=1)).astimezone(zone).date()
        while day <= last:
            if first_day <= day <= last_day:
                days.add(day)
            day += timedelta(days=1)
    return frozenset(days)


# --------------------------------------------------------------------------------------------
# The trend: how far the brand's ordinary week will have moved by the event
# --------------------------------------------------------------------------------------------

TREND_WEEKS: Final = 12  # whole weeks of weekly totals the trend is fitted on, at most
MIN_TREND_WEEKS: Final = 3  # fewer whole weeks: no trend (two points are a line, not a trend)
MAX_WEEKLY_GROWTH: Final = 0.25  # the fitted growth is capped to −20 % … +25 % a week
MIN_WEEKLY_GROWTH: Final = -0.20
TREND_SHRINK: Final = 2.0  # standard errors of the slope taken off it (see weekly_growth)
DAMPING: Final = 0.9  # each week further ahead the growth counts 0.9 × the week before's
MAX_TREND_FACTOR: Final = 4.0  # the event's ordinary week is ¼ … 4 × the profile's
MIN_TREND_FACTOR: Final = 0.25


@dataclass(frozen=True, slots=True)
class Trend:
    """What the plan scales the weekly profile by: ``factor`` = the ordinary traffic projected
    for the event ÷ the profile's. ``weeks`` whole weeks were fitted (0: too short a history,
    no trend); ``weekly_growth`` is the fitted growth a week (0.15: +15 %), after the cap.
    ``off``: the admin switched the trend off (growth has ended, a campaign stopped): the
    factor is 1 and ``weekly_growth`` is what the history would have given."""

    weeks: int
    weekly_growth: float
    factor: float
    off: bool = False

    @property
    def applied(self) -> bool:
        return self.weeks >= MIN_TREND_WEEKS and not self.off


NO_TREND: Final = Trend(0, 0.0, 1.0)


def weekly_growth(totals: Sequence[float | None]) -> float:
    """The growth a week of ``totals`` (tickets of consecutive whole weeks, oldest first):
    the Theil–Sen slope of log(total + 1) — the median of the slopes between every two
    weeks —, as a growth rate, capped to [MIN_WEEKLY_GROWTH, MAX_WEEKLY_GROWTH].

    Why Theil–Sen on logarithms: growth compounds (15 % a week is a straight line in logs),
    and the median of pairwise slopes ignores up to 29 % of wild weeks — one sales-event spike
    in twelve weeks barely moves it, where a least-squares line or Holt's smoothing (both
    square the errors) is pulled up by it and would plan the next event for a trend that was
    one spike. It has no smoothing constants to tune on three to twelve points. The +1 keeps
    a week of no tickets finite.

    A week that is None (one of the brand's sales events fell in it) is left out: the other
    weeks keep their places in time, and the pairwise slopes need no week to stand for it.
    (Scaling such a week up from the days it kept would count a weekday that carries most
    of the traffic as an average one.)"""
    kept = [(x, t) for x, t in enumerate(totals) if t is not None]
    n = len(kept)
    if n < 2:
        return 0.0
    xs = [float(x) for x, _t in kept]
    logs = [math.log(max(0.0, t) + 1.0) for _x, t in kept]
    slope = _median([
        (logs[j] - logs[i]) / (xs[j] - xs[i]) for i in range(n) for j in range(i + 1, n)
    ])  # fmt: skip
    # Shrunk towards no growth by the slope's own uncertainty: the weeks' scatter about the
    # line (robustly, by the median absolute deviation; at least Poisson's 1/√total) over the
    # spread of the weeks. A small brand's 150 ± 12 tickets a week drew "trends" of a few
    # per cent a week out of noise, compounded over the weeks ahead.
    residuals = [y - slope * x for x, y in zip(xs, logs, strict=True)]
    centre = _median(residuals)
    scatter = max(
        1.4826 * _median([abs(r - centre) for r in residuals]),
        math.sqrt(sum(1.0 / (max(0.0, t) + 1.0) for _x, t in kept) / n),
    )
    mean_x = sum(xs) / n
    spread = math.sqrt(sum((x - mean_x) ** 2 for x in xs))
    shrunk = math.copysign(max(0.0, abs(slope) - TREND_SHRINK * scatter / spread), slope)
    return min(MAX_WEEKLY_GROWTH, max(MIN_WEEKLY_GROWTH, math.expm1(shrunk)))


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def damped_weeks(ahead: float) -> float:
    """How many weeks of growth an event ``ahead`` weeks past the history's end gets: the
    damped trend's ∫₀ʰ φᵗ dt = (1 − φʰ) ÷ −ln φ — about ``ahead`` next week, never more
    than 1 ÷ −ln φ (9.5 weeks at φ = 0.9), so an event months away is not planned for a
    growth compounded for months."""
    h = max(0.0, ahead)
    return (1.0 - math.pow(DAMPING, h)) / -math.log(DAMPING)


def trend_factor(growth: float, profile_weeks: float, ahead: float) -> float:
    """The profile's scale for an event ``ahead`` weeks after the history's end: the profile
    averages the last ``profile_weeks`` weeks, so its level is that of their middle,
    ``profile_weeks`` ÷ 2 weeks before the end (growth seen, not damped), and the event is
    ``ahead`` weeks after it (growth foreseen, damped). Bounded to [MIN_TREND_FACTOR,
    MAX_TREND_FACTOR]."""
    if growth <= -1:
        return MIN_TREND_FACTOR
    span = max(0.0, profile_weeks) / 2 + damped_weeks(ahead)
    factor = math.exp(math.log1p(growth) * span)
    return min(MAX_TREND_FACTOR, max(MIN_TREND_FACTOR, factor))


def trend(
    totals: Sequence[float | None], profile_weeks: float, ahead: float, *, off: bool = False
) -> Trend:
    """The trend of ``totals`` (whole weeks, oldest first, at most :data:`TREND_WEEKS` are
    used: the latest; None: a week of a sales event, left out) for an event ``ahead`` weeks
    after them; none below :data:`MIN_TREND_WEEKS` weeks kept. ``off``: fitted, to say what
    it would have been, but not applied (factor 1)."""
    used = list(totals)[-TREND_WEEKS:]
    kept = sum(t is not None for t in used)
    if kept < MIN_TREND_WEEKS:
        return Trend(kept, 0.0, 1.0, off)
    growth = weekly_growth(used)
    if off:
        return Trend(kept, growth, 1.0, True)
    return Trend(kept, growth, trend_factor(growth, profile_weeks, ahead))


# --------------------------------------------------------------------------------------------
# Days that look like sales events nobody recorded
# --------------------------------------------------------------------------------------------

UNUSUAL_RATIO: Final = 2.0  # a day at least twice its weekday's usual level …
UNUSUAL_SPREAD: Final = 5.0  # … and five robust standard deviations above it …
MIN_UNUSUAL_TICKETS: Final = 10  # … with ten tickets at least (two on a day of one is luck)
MIN_WEEKDAY_DAYS: Final = 3  # a weekday seen fewer times has no usual level to judge by


@dataclass(frozen=True, slots=True)
class UnusualDay:
    """A day whose ``tickets`` were far above ``usual``, its weekday's robust level (the
    median of the history's days of that weekday, at the day's point of the trend)."""

    day: date
    tickets: int
    usual: float

    @property
    def times(self) -> float:
        return self.tickets / self.usual if self.usual > 0 else math.inf


def unusual_days(
    totals: Sequence[int], first_day: date, excluded: Collection[date] = frozenset()
) -> list[UnusualDay]:
    """The days of ``totals`` (tickets of consecutive calendar days from ``first_day``) that
    look like a sales event: at least :data:`UNUSUAL_RATIO` × and :data:`UNUSUAL_SPREAD`
    robust standard deviations (1.4826 × the median absolute deviation, at least Poisson's
    √level) above the median of the other days of their weekday, with
    :data:`MIN_UNUSUAL_TICKETS` at least. Most recent first. Days ``excluded`` (the brand's
    recorded events) are neither judged nor judged by.

    A growing brand's last weeks lie above its weekday medians: the days are first brought to
    one level by the growth of their whole weeks (:func:`weekly_growth`; none below
    :data:`MIN_TREND_WEEKS` weeks), so 15 % a week is no sale. The median and MAD ignore a
    sale or two among a weekday's days, where a mean and standard deviation are pulled up by
    the very day they should flag. A suggestion only: nothing is left out until recorded."""
    days = [first_day + timedelta(days=i) for i in range(len(totals))]
    left_out = frozenset(excluded)
    weeks: list[float | None] = []
    for w in range(len(totals) // 7):
        week = range(7 * w, 7 * w + 7)
        weeks.append(
            None if any(days[i] in left_out for i in week) else float(sum(totals[i] for i in week))
        )
    growth = weekly_growth(weeks) if sum(t is not None for t in weeks) >= MIN_TREND_WEEKS else 0.0
    log_growth = math.log1p(max(growth, -0.99))
    # Each day at the level of the history's first day: ÷ (1 + growth) ^ (weeks since).
    level = [t / math.exp(log_growth * i / 7) for i, t in enumerate(totals)]
    found: list[UnusualDay] = []
    for i, day in enumerate(days):
        if day in left_out or totals[i] < MIN_UNUSUAL_TICKETS:
            continue
        others = [
            level[j] for j in range(i % 7, len(totals), 7) if j != i and days[j] not in left_out
        ]
        if len(others) + 1 < MIN_WEEKDAY_DAYS:
            continue
        centre = _median(others)
        spread = max(
            1.4826 * _median([abs(x - centre) for x in others]), math.sqrt(max(centre, 1.0))
        )
        if level[i] >= UNUSUAL_RATIO * centre and level[i] - centre >= UNUSUAL_SPREAD * spread:
            found.append(UnusualDay(day, totals[i], centre * math.exp(log_growth * i / 7)))
    return sorted(found, key=lambda u: u.day, reverse=True)


# --------------------------------------------------------------------------------------------
# A past event's lift: its arrivals ÷ what an ordinary week before it expected
# --------------------------------------------------------------------------------------------

MAX_LIFT_HOURS: Final = 168  # a past event's window: a week at most, as a plan


def expected_arrivals(
    profile: Mapping[HourOfWeek, float], start: datetime, hours: int, zone: ZoneInfo
) -> float:
    """The tickets ``profile`` expects in ``hours`` hours from ``start`` (hour by hour, in
    UTC steps as :func:`plan`)."""
    first = hour_start(start, zone).astimezone(ZoneInfo("UTC"))
    return sum(
        profile.get(hour_of_week(first + timedelta(hours=i), zone), 0.0) for i in range(hours)
    )


def hour_start(moment: datetime, zone: ZoneInfo) -> datetime:
    """The start of ``moment``'s hour on the brand's clock (in a zone half an hour off UTC,
    not UTC's)."""
    return moment.astimezone(zone).replace(minute=0, second=0, microsecond=0)


def lift_window_problem(start: datetime, hours: int, now: datetime) -> str | None:
    """Why a past event's window cannot be measured, as a code (None: it can): ``too_long``
    beyond :data:`MAX_LIFT_HOURS`, ``not_past`` when it has not ended by ``now``. (A window
    with no history before it is known only once its baseline is read: ``no_history``.)"""
    if not 1 <= hours <= MAX_LIFT_HOURS:
        return "too_long"
    if start + timedelta(hours=hours) > now:
        return "not_past"
    return None


def trended_expectation(
    profile: Mapping[HourOfWeek, float],
    start: datetime,
    hours: int,
    zone: ZoneInfo,
    history: tuple[date, date],
    growth: float,
    excluded: Collection[date] = frozenset(),
) -> float:
    """The tickets expected in ``hours`` hours from ``start`` by ``profile`` (the weeks of
    calendar days ``history`` = (first, last), in ``zone``, ``excluded`` days left out of
    it) moved on by ``growth`` a week: a brand growing 15 % a week had more ordinary traffic
    in the window than its weeks before averaged, and a lift measured against the average
    alone counts that growth as the event's.

    Each hour is scaled as the plan scales it (:func:`centred_scale`: from the middle of its
    weekday's days kept; 2.5 weeks for the day after a four-week history, 3.5 a week
    later), but without damping: the window is past and its growth happened (over a week
    ahead, damping at φ 0.9 would change the span by 5 %)."""
    middles = weekday_middles(*history, excluded)
    end = history[1] + timedelta(days=1)
    first = hour_start(start, zone).astimezone(ZoneInfo("UTC"))
    total = 0.0
    for i in range(hours):
        at = (first + timedelta(hours=i)).astimezone(zone)
        expected = profile.get(hour_of_week(at, zone), 0.0)
        if expected:
            total += expected * centred_scale(growth, middles, end, at.date(), damped=False)
    return total


def weekday_middles(
    first_day: date, last_day: date, excluded: Collection[date] = frozenset()
) -> tuple[float, ...]:
    """Where each weekday's profile cells stand in time (Monday first): the mean ordinal of
    the history's days of that weekday (``first_day`` … ``last_day``), the ``excluded`` days
    (sales events, left out of :func:`weekly_profile`) not counted. A cell averages those
    days, so its level is that of their middle — not the whole history's: in four whole
    weeks ending on a Sunday, Mondays stand 3 days before the middle and Sundays 3 days
    after it, and a left-out Monday moves its weekday's middle half a week. A weekday with
    no day kept is planned at the average day (:func:`weekly_profile`): the middle of all
    the days kept."""
    if last_day < first_day:
        raise ValueError("a history of at least one day")
    left_out = frozenset(excluded)
    days = [
        d
        for d in (first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1))
        if d not in left_out
    ] or [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    every = _mean([d.toordinal() for d in days])
    own = [[d.toordinal() for d in days if d.weekday() == w] for w in range(7)]
    return tuple(_mean(o) if o else every for o in own)


def centred_scale(
    growth: float, middles: Sequence[float], end: date, day: date, *, damped: bool = True
) -> float:
    """The scale of a profile cell of ``day``'s weekday (its days' middle: ``middles``,
    :func:`weekday_middles`) for that cell's hour on ``day``, at ``growth`` a week: the
    weeks from the middle to the history's ``end`` (the day after its last) grew as seen,
    not damped; those from ``end`` on are foreseen, damped (:func:`damped_weeks`) when
    ``damped``. (A cell's hours sit at the same hour of each of its days, so whole days
    measure the span exactly.) Bounded to [MIN_TREND_FACTOR, MAX_TREND_FACTOR]."""
    if growth <= -1:
        return MIN_TREND_FACTOR
    seen = (end.toordinal() - middles[day.weekday()]) / 7
    ahead = (day.toordinal() - end.toordinal()) / 7
    span = seen + (damped_weeks(ahead) if damped and ahead > 0 else ahead)
    scale = math.exp(math.log1p(growth) * span)
    return min(MAX_TREND_FACTOR, max(MIN_TREND_FACTOR, scale))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


@dataclass(frozen=True, slots=True)
class Lift:
    """A past event: ``observed`` tickets arrived in its ``hours`` from ``start`` where the
    weeks before it expected ``expected`` (their profile moved on by the brand's ``trend``
    then: :func:`trended_expectation`); ``lift`` = observed ÷ expected. ``baseline`` is what
    the weeks' average alone expected (``expected`` when no trend applied)."""

    start: datetime
    hours: int
    observed: int
    expected: float
    trend: Trend = NO_TREND
    baseline: float | None = None

    @property
    def lift(self) -> float | None:
        return self.observed / self.expected if self.expected > 0 else None


@dataclass(frozen=True, slots=True)
class PlanHour:
    start: datetime  # the hour's start, aware, in the brand's zone
    arrivals: float  # expected tickets in the hour (history × multiplier)
    slots: int
    experts: int  # online at once: slots ÷ tickets per expert, rounded up, plus absence
    staffing: Staffing
    trend: float = 1.0  # the hour's profile cell × this (the trend, :func:`centred_scale`)


@dataclass(frozen=True, slots=True)
class PlanInput:
    """What the planner asks: the event's hours and multiplier, the goal (share answered
    within the target), tickets per expert at once, and the share of online experts who are
    not taking work at a given moment (``shrinkage``: breaks, other tickets' follow-ups)."""

    start: datetime
    hours: int
    multiplier: float
    handle_s: float
    target_s: float
    goal: float = 0.8
    concurrency: int = 1
    shrinkage: float = 0.0
    max_occupancy: float = 0.85
    # The trend: the fitted growth a week (0: none, or switched off) and the profile's
    # history, its calendar days (first, last) and those left out (sales events), which say
    # where each weekday's cells stand in time (:func:`weekday_middles`).
    growth: float = 0.0
    history: tuple[date, date] | None = None
    excluded: frozenset[date] = frozenset()


def plan(profile: Mapping[HourOfWeek, float], spec: PlanInput, zone: ZoneInfo) -> list[PlanHour]:
    """The experts needed online in each hour of the event: the hour's profile cell × the
    multiplier × the trend from where that cell stands (:func:`centred_scale`, damped beyond
    the history's end). Dating the whole profile at the history's middle missed each
    weekday's own: at 15 % a week, a day planned (1.15)^0.5 off, more with a day left out."""
    if spec.hours < 1 or spec.concurrency < 1 or not 0 <= spec.shrinkage < 1:
        raise ValueError("hours ≥ 1, concurrency ≥ 1 and 0 ≤ shrinkage < 1")
    if spec.multiplier < 0 or spec.growth <= -1:
        raise ValueError("multiplier ≥ 0 and growth > −1")
    out: list[PlanHour] = []
    for start, scale in _hours_with_scale(spec, zone):
        arrivals = profile.get(hour_of_week(start, zone), 0.0) * spec.multiplier * scale
        fare = required_slots(
            Queue(arrivals, spec.handle_s), spec.target_s, spec.goal, spec.max_occupancy
        )
        experts = experts_needed(fare.slots, spec.concurrency, spec.shrinkage)
        out.append(PlanHour(start, arrivals, fare.slots, experts, fare, scale))
    return out


def _hours_with_scale(spec: PlanInput, zone: ZoneInfo) -> Iterator[tuple[datetime, float]]:
    """Each hour of the event (its start in ``zone``) and its trend scale (1: no growth, or
    no history yet — a brand whose first ticket came today)."""
    middles: tuple[float, ...] | None = None
    end = spec.start.date()
    if spec.growth != 0 and spec.history and spec.history[0] <= spec.history[1]:
        middles = weekday_middles(*spec.history, spec.excluded)
        end = spec.history[1] + timedelta(days=1)
    first = hour_start(spec.start, zone).astimezone(ZoneInfo("UTC"))
    for i in range(spec.hours):
        # Step in UTC and show in the zone: an hour is an hour across a clock change.
        start = (first + timedelta(hours=i)).astimezone(zone)
        scale = 1.0 if middles is None else centred_scale(spec.growth, middles, end, start.date())
        yield start, scale


def plan_trend_factor(
    profile: Mapping[HourOfWeek, float], spec: PlanInput, zone: ZoneInfo
) -> float:
    """What the plan scaled the event's ordinary traffic by, over all its hours: the
    ordinary tickets it planned ÷ the profile's for those hours (each hour's scale weighed
    by its cell; an event of empty cells, its hours' plain average)."""
    scaled = [
        (profile.get(hour_of_week(at, zone), 0.0), s) for at, s in _hours_with_scale(spec, zone)
    ]
    weight = sum(cell for cell, _s in scaled)
    if weight > 0:
        return sum(cell * s for cell, s in scaled) / weight
    return sum(s for _c, s in scaled) / len(scaled) if scaled else 1.0


def experts_needed(slots: int, concurrency: int, shrinkage: float) -> int:
    """Experts online for ``slots``: ``concurrency`` tickets each, ``shrinkage`` of them away.
    Rounded to nine places before the ceiling: 7 ÷ (1 − 0.3) is 10.000000000000002 in floating
    point, and one expert more than needed was planned for every such hour."""
    return math.ceil(round(slots / concurrency / (1 - shrinkage), 9))


def peak(hours: Iterable[PlanHour]) -> PlanHour | None:
    """The hour that needs the most experts (the earliest of equals)."""
    best: PlanHour | None = None
    for h in hours:
        if best is None or h.experts > best.experts:
            best = h
    return best


# --------------------------------------------------------------------------------------------
# Who actually shows up: experts online by hour of the week, from their presence intervals
# --------------------------------------------------------------------------------------------

Presence = tuple[datetime, datetime | None]  # online from, offline at (None: still online)

_SLICE = timedelta(minutes=15)  # every time zone's offset is a whole number of quarter hours
_EPOCH = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))


def online_by_hour(
    intervals: Iterable[Presence], since: datetime, until: datetime, zone: ZoneInfo
) -> dict[HourOfWeek, float]:
    """The average number of experts online in each hour of the week (the plan's grid, in
    ``zone``) over the window [``since``, ``until``): for each cell, expert-seconds online
    in the window's hours of that cell ÷ those hours' seconds. Intervals are clipped to the
    window; one still open runs to its end. Cells the window does not reach are absent.

    A sweep line: the count of experts online steps at each interval's ends, and is
    integrated over the window in quarter-hour slices (a slice lies within one local hour in
    every zone, even those half or three quarters of an hour off UTC), so the cost is the
    window's slices plus the intervals' ends, however long each interval is."""
    if until <= since:
        return {}
    steps: list[tuple[datetime, int]] = []
    for online_at, offline_at in intervals:
        start = max(online_at, since)
        end = until if offline_at is None else min(offline_at, until)
        if start < end:
            steps += [(start, 1), (end, -1)]
    steps.sort()
    online_s: dict[HourOfWeek, float] = {}
    span_s: dict[HourOfWeek, float] = {}
    count, i, t = 0, 0, since
    while t < until:
        nxt = min(t - (t - _EPOCH) % _SLICE + _SLICE, until)
        area, at = 0.0, t
        while i < len(steps) and steps[i][0] < nxt:
            moment, delta = steps[i]
            area += count * (moment - at).total_seconds()
            at, count, i = moment, count + delta, i + 1
        area += count * (nxt - at).total_seconds()
        cell = hour_of_week(t, zone)
        online_s[cell] = online_s.get(cell, 0.0) + area
        span_s[cell] = span_s.get(cell, 0.0) + (nxt - t).total_seconds()
        t = nxt
    return {cell: online_s[cell] / span_s[cell] for cell in span_s}


def short_by(needed: int, online: float) -> int:
    """How many experts short an hour is when ``online`` (an average) show up and ``needed``
    are needed: the whole experts missing, 0 when enough show up. Rounded to nine places
    before the ceiling, as :func:`experts_needed`."""
    return max(0, math.ceil(round(needed - online, 9)))
