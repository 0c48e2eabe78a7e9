"""Reads for the brand's insights and its capacity plan: the rows of one period handed to
the pure summaries (analytics.rules) and to the staffing rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from crowdcx.analytics import rules
from crowdcx.analytics.models import CapacityEventRow
from crowdcx.community.models import PostRow
from crowdcx.identity.models import User
from crowdcx.kernel.db import begin_writing
from crowdcx.kernel.errors import AppError, invalid, not_found
from crowdcx.kernel.i18n import _
from crowdcx.kernel.pagination import decode_key_cursor, encode_key_cursor
from crowdcx.knowledge.models import Article
from crowdcx.search import service as search
from crowdcx.staffing import rules as staffing
from crowdcx.tenancy.service import BrandContext
from crowdcx.tickets import presence
from crowdcx.tickets.models import (
    ExpertProfileRow,
    TicketDeflectionRow,
    TicketRatingRow,
    TicketRow,
)
from crowdcx.tickets.rules import Role, State, Ticket
from crowdcx.tickets.service import load_policy

PERIODS = (7, 30, 90)  # days a brand admin can look back
HISTORY_WEEKS = 4  # the capacity plan's weekly profile
DEFAULT_HANDLE_S = 1800.0  # a brand without resolved tickets yet: half an hour each


@dataclass(frozen=True)
class TopExpert:
    user_id: int
    name: str
    resolved: int
    csat_average: float | None


@dataclass(frozen=True)
class SolvingSuggestion:
    """An article or community question customers said solved their ticket in the period."""

    kind: str  # article | question
    id: int
    title: str  # empty when it no longer exists
    cases: int  # deflected tickets, each once


@dataclass(frozen=True)
class Insights:
    since: datetime  # the first day's midnight in the brand's time zone (in UTC)
    days: int
    tickets: rules.TicketSummary
    satisfaction: rules.Satisfaction
    self_service: rules.SelfService
    community: rules.CommunitySummary
    top_experts: list[TopExpert]
    solved_by: list[SolvingSuggestion]  # the suggestions that solved the most tickets
    first_day: date  # the period's days in the brand's time zone, up to now
    last_day: date
    zone: str


def insights(session: Session, ctx: BrandContext, days: int, now: datetime) -> Insights:
    """The period's figures: ``days`` whole calendar days in the brand's time zone, today
    included (analytics.rules.period_days)."""
    zone = brand_zone(ctx)
    first_day, last_day, since = rules.period_days(now, days, zone)
    policy, _roster = load_policy(session, ctx)
    ticket_summary = rules.summarize_tickets(_tickets(session, ctx, since), policy.sla, now, since)
    ratings = session.execute(
        ctx.scoped(TicketRatingRow, select(TicketRatingRow.csat, TicketRatingRow.nps)).where(
            TicketRatingRow.at >= since
        )
    )
    events = search.deflection(session, ctx, since)
    self_service = rules.SelfService(
        events["shown"], events["opened"], events["solved"], events["no_answer"],
        # A deflected ticket is already among the solved cases (its "solved" event): one
        # case, not also a ticket.
        ticket_summary.created - ticket_summary.deflected,
    )  # fmt: skip
    return Insights(
        since,
        days,
        ticket_summary,
        rules.summarize_ratings((csat, nps) for csat, nps in ratings),
        self_service,
        rules.summarize_questions(_questions(session, ctx, since)),
        _top_experts(session, ctx, since),
        _solved_by(session, ctx, since),
        first_day,
        last_day,
        str(zone),
    )


_TICKET_COLUMNS = (
    TicketRow.id, TicketRow.status, TicketRow.escalated, TicketRow.resolved_by_role,
    TicketRow.created_at, TicketRow.case_started_at, TicketRow.first_response_at,
    TicketRow.community_response_at, TicketRow.resolved_at, TicketRow.reopened_at,
)  # fmt: skip


def _tickets(session: Session, ctx: BrandContext, since: datetime) -> Iterator[Ticket]:
    """The period's tickets with only what the summary reads: the timestamps and who resolved
    them, never a ticket's text or its customer's data (at 50,000 tickets, loading whole rows
    took seconds; these columns, read in batches, a fraction of it)."""
    stmt = ctx.scoped(TicketRow, select(*_TICKET_COLUMNS)).where(TicketRow.created_at >= since)
    for r in session.execute(stmt.execution_options(yield_per=5000)):
        yield Ticket(
            id=str(r.id), customer_id="", state=State(r.status), created_at=r.created_at,
            escalated=bool(r.escalated),
            resolved_by_role=Role(r.resolved_by_role) if r.resolved_by_role else None,
            case_started_at=r.case_started_at, first_response_at=r.first_response_at,
            community_response_at=r.community_response_at, resolved_at=r.resolved_at,
            reopened_at=r.reopened_at,
        )  # fmt: skip


def _questions(session: Session, ctx: BrandContext, since: datetime) -> Any:
    answer = aliased(PostRow)
    first_answer = (
        select(func.min(answer.created_at))
        .where(
            answer.question_id == PostRow.id,
            answer.hidden.is_(False),
            answer.author_id != PostRow.author_id,  # the asker's own follow-up is no answer
        )
        .correlate(PostRow)
        .scalar_subquery()
    )
    stmt = ctx.scoped(
        PostRow, select(PostRow.created_at, first_answer, PostRow.solved, PostRow.ticket_id)
    ).where(PostRow.kind == "question", PostRow.hidden.is_(False), PostRow.created_at >= since)
    for asked, answered, solved, ticket_id in session.execute(stmt):
        yield rules.QuestionFacts(asked, answered, bool(solved), ticket_id is not None)


def _top_experts(
    session: Session, ctx: BrandContext, since: datetime, limit: int = 10
) -> list[TopExpert]:
    stmt = (
        ctx.scoped(
            TicketRow,
            select(
                TicketRow.resolved_by,
                User.display_name,
                func.count(TicketRow.id),
                func.avg(TicketRatingRow.csat),
            ),
        )
        .join(User, User.id == TicketRow.resolved_by)
        .outerjoin(TicketRatingRow, TicketRatingRow.ticket_id == TicketRow.id)
        .where(
            TicketRow.resolved_by_role == "expert",
            TicketRow.resolved_at >= since,
            TicketRow.status.in_(("resolved", "closed")),
        )
        .group_by(TicketRow.resolved_by, User.display_name)
        .order_by(func.count(TicketRow.id).desc(), TicketRow.resolved_by)
        .limit(limit)
    )
    return [
        TopExpert(uid, name, int(n), float(avg) if avg is not None else None)
        for uid, name, n, avg in session.execute(stmt)
    ]


def _solved_by(
    session: Session, ctx: BrandContext, since: datetime, limit: int = 5
) -> list[SolvingSuggestion]:
    """The suggestions that solved the most tickets deflected since ``since``, by the
    ticket's own record of which one (tickets deflected without saying are not here)."""
    cases = func.count(TicketDeflectionRow.id)
    stmt = (
        ctx.scoped(
            TicketDeflectionRow,
            select(TicketDeflectionRow.kind, TicketDeflectionRow.ref_id, cases),
        )
        .where(TicketDeflectionRow.at >= since, TicketDeflectionRow.kind.is_not(None))
        .group_by(TicketDeflectionRow.kind, TicketDeflectionRow.ref_id)
        .order_by(cases.desc(), TicketDeflectionRow.kind, TicketDeflectionRow.ref_id)
        .limit(limit)
    )
    top = [(str(kind), int(ref), int(n)) for kind, ref, n in session.execute(stmt)]
    ids = {kind: [ref for k, ref, _n in top if k == kind] for kind in ("article", "question")}
    titles = {
        ("article", a.id): a.live_title or a.title
        for a in session.scalars(ctx.scoped(Article).where(Article.id.in_(ids["article"])))
    }
    titles |= {
        ("question", q.id): q.title
        for q in session.scalars(ctx.scoped(PostRow).where(PostRow.id.in_(ids["question"])))
    }
    return [SolvingSuggestion(k, ref, titles.get((k, ref), ""), n) for k, ref, n in top]


# --------------------------------------------------------------------------------------------
# Capacity plan for a sales event
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityPlan:
    spec: staffing.PlanInput
    hours: list[staffing.PlanHour]
    peak: staffing.PlanHour | None
    history_weeks: int  # how many weeks of history the profile averages
    history_first_day: date  # the history's calendar days in the brand's time zone
    history_last_day: date
    history_tickets: int
    experts_enrolled: int
    handle_from_history: bool  # False: no resolved ticket yet, DEFAULT_HANDLE_S assumed
    presence: Presence  # who actually showed up in these hours of the week
    trend: staffing.Trend  # the weekly growth (spec.growth); factor: the event's as a whole
    lift: staffing.Lift | None  # the past event the admin named, when named
    event_days: int = 0  # history days of the brand's sales events, left out of the profile


@dataclass(frozen=True)
class HourPresence:
    """Beside one hour of the plan: experts online on average in that hour of the week
    (None: the presence history has not seen it yet) and how many short of the plan."""

    online: float | None
    short_by: int | None


@dataclass(frozen=True)
class Presence:
    """The experts' presence history the plan compares with: whole calendar days in the
    brand's time zone, the last four weeks ending yesterday, from when presence was first
    recorded (``first_day`` is None: nothing recorded before today)."""

    first_day: date | None
    last_day: date
    by_hour: dict[staffing.HourOfWeek, float]

    def of(self, hour: staffing.PlanHour, zone: ZoneInfo) -> HourPresence:
        online = self.by_hour.get(staffing.hour_of_week(hour.start, zone))
        if online is None:
            return HourPresence(None, None)
        return HourPresence(online, staffing.short_by(hour.experts, online))


def brand_zone(ctx: BrandContext) -> ZoneInfo:
    return ZoneInfo(str(ctx.brand.settings.get("timezone") or "UTC"))


def plan_defaults(session: Session, ctx: BrandContext, now: datetime) -> dict[str, Any]:
    """What the form starts from: the SLA's first-response target as the wait target, the
    brand's limit of tickets per expert, the average claim → resolution time of the last
    weeks."""
    policy, _roster = load_policy(session, ctx)
    handle, _known = _handle_time(session, ctx, _handle_since(ctx, now))
    return {
        "target_s": policy.sla.first_response_s,
        "concurrency": policy.max_concurrent,
        "handle_s": handle,
    }


def _handle_since(ctx: BrandContext, now: datetime) -> datetime:
    """Handle times are read from the history's first midnight (analytics.rules.history_days,
    whole calendar days in the brand's time zone) up to now: an average over resolved tickets
    is not cut short by today's being unfinished, so today's resolutions count."""
    return rules.history_days(now, brand_zone(ctx), HISTORY_WEEKS, None).since


def _handle_time(session: Session, ctx: BrandContext, since: datetime) -> tuple[float, bool]:
    # What an expert's slot is held for: claim → resolution of tickets the expert resolved in
    # one go. A ticket handed to staff frees the expert at the hand-off (its time runs on with
    # staff), and a reopened one sat resolved for days between its stretches of work.
    rows = session.execute(
        ctx.scoped(TicketRow, select(TicketRow.claimed_at, TicketRow.resolved_at)).where(
            TicketRow.resolved_at >= since,
            TicketRow.claimed_at.is_not(None),
            TicketRow.resolved_at.is_not(None),
            TicketRow.resolved_by_role == "expert",
            TicketRow.escalated.is_(False),
            TicketRow.reopened_at.is_(None),
        )
    ).all()
    spans = [(r - c).total_seconds() for c, r in rows if r > c]
    if not spans:
        return DEFAULT_HANDLE_S, False
    return max(60.0, sum(spans) / len(spans)), True


def capacity_plan(
    session: Session,
    ctx: BrandContext,
    now: datetime,
    *,
    start: datetime,
    hours: int,
    multiplier: float,
    goal: float,
    target_s: float,
    concurrency: int,
    shrinkage: float,
    lift: staffing.Lift | None = None,
    remembered: list[staffing.SalesEvent] | None = None,
    trend_off: bool = False,
) -> CapacityPlan:
    """The plan for an event of ``hours`` from ``start`` at ``multiplier`` × an ordinary
    week, the ordinary week moved on by the brand's trend (:func:`trend`). The days of the
    brand's sales events (``remembered``, else read) are left out of the ordinary week and
    of the trend's weekly totals. ``trend_off``: the admin knows the growth has ended — the
    trend is fitted, to say what it would be, but the ordinary week is not moved on."""
    zone = brand_zone(ctx)
    first = _first_ticket(session, ctx)
    known_events = events(session, ctx) if remembered is None else remembered
    # Whole weeks of calendar days ending yesterday; a younger brand: the weeks it has existed.
    window = rules.history_days(now, zone, HISTORY_WEEKS, first)
    left_out = staffing.event_days(known_events, zone, _begun(window, first, zone), window.last_day)
    arrivals = list(
        session.scalars(
            ctx.scoped(TicketRow, select(TicketRow.created_at)).where(
                TicketRow.created_at >= window.since, TicketRow.created_at < window.until,
                _outside(left_out, zone),
            )
        )
    )  # fmt: skip
    profile = staffing.weekly_profile(arrivals, zone, window.weekdays, left_out)
    handle, known = _handle_time(session, ctx, _handle_since(ctx, now))
    middle = start + timedelta(hours=hours / 2)
    trend = staffing.trend(
        weekly_totals(session, ctx, now, first, known_events),
        profile_weeks=window.weeks,
        ahead=(middle - window.until) / timedelta(weeks=1),
        off=trend_off,
    )
    # Each hour moved on from where its weekday's days stand (staffing.centred_scale); the
    # trend reports the factor this gave the event's hours as a whole.
    spec = staffing.PlanInput(
        start=start, hours=hours, multiplier=multiplier, handle_s=handle, target_s=target_s,
        goal=goal, concurrency=concurrency, shrinkage=shrinkage,
        growth=trend.weekly_growth if trend.applied else 0.0,
        history=(_begun(window, first, zone), window.last_day), excluded=left_out,
    )  # fmt: skip
    if trend.applied:
        trend = replace(trend, factor=staffing.plan_trend_factor(profile, spec, zone))
    try:
        planned = staffing.plan(profile, spec, zone)
    except staffing.PlanTooLargeError:
        raise AppError(
            422, "plan_too_large",
            _("No plan can carry this traffic: it needs more than %(max)s ticket slots in an "
              "hour. Lower the traffic multiplier, or check why a ticket holds a slot for "
              "%(hours)s hours on average.")
            % {"max": staffing.MAX_SERVERS, "hours": f"{handle / 3600:.1f}"},
            field="multiplier",
        ) from None  # fmt: skip
    enrolled = session.scalar(ctx.scoped(ExpertProfileRow, select(func.count(ExpertProfileRow.id))))
    return CapacityPlan(
        spec, planned, staffing.peak(planned), window.weeks, window.first_day, window.last_day,
        len(arrivals), int(enrolled or 0), known, _presence(session, ctx, now, zone), trend,
        lift, len(left_out),
    )  # fmt: skip


def _first_ticket(session: Session, ctx: BrandContext) -> datetime | None:
    first: datetime | None = session.scalar(
        ctx.scoped(TicketRow, select(func.min(TicketRow.created_at)))
    )
    return first


def weekly_totals(
    session: Session,
    ctx: BrandContext,
    now: datetime,
    first: datetime | None,
    remembered: list[staffing.SalesEvent] = [],  # noqa: B006 (read, never changed)
) -> list[int | None]:
    """Tickets in each of the last whole weeks (up to staffing.TREND_WEEKS, calendar days in
    the brand's time zone ending yesterday, oldest first) — only weeks the brand existed all
    of: a week it began in mid-way would read as growth. A week one of the ``remembered``
    events touched is None: left out of the trend (staffing.weekly_growth). One grouped
    count."""
    zone = brand_zone(ctx)
    window = rules.history_days(now, zone, staffing.TREND_WEEKS, first)
    begun = window.first_day if first is None else max(
        window.first_day, first.astimezone(zone).date()
    )  # fmt: skip
    whole = min(window.weeks, ((window.last_day - begun).days + 1) // 7)
    if whole < 1:
        return []
    ends = [window.last_day + timedelta(days=1 - 7 * (whole - j)) for j in range(whole + 1)]
    bounds = [rules.midnight(day, zone) for day in ends]
    week = case(
        *[(TicketRow.created_at < bounds[j + 1], j) for j in range(whole)], else_=whole
    ).label("week")
    counted = session.execute(
        ctx.scoped(TicketRow, select(week, func.count())).where(
            TicketRow.created_at >= bounds[0], TicketRow.created_at < bounds[-1]
        ).group_by(week)
    ).all()  # fmt: skip
    totals: list[int | None] = [0] * whole
    for j, n in counted:
        totals[int(j)] = int(n)
    for day in staffing.event_days(remembered, zone, ends[0], window.last_day):
        totals[(day - ends[0]).days // 7] = None
    return totals


def unusual_days(
    session: Session, ctx: BrandContext, now: datetime, known: list[staffing.SalesEvent]
) -> list[staffing.UnusualDay]:
    """Days of the last whole weeks (up to staffing.TREND_WEEKS, ending yesterday, from the
    brand's first ticket's day) that look like a sales event nobody recorded — a suggestion
    for the capacity page: such a day raises the ordinary week until it is recorded. The
    ``known`` events' days are neither suggested nor judged by. One grouped count."""
    zone = brand_zone(ctx)
    first = _first_ticket(session, ctx)
    if first is None:
        return []
    window = rules.history_days(now, zone, staffing.TREND_WEEKS, first)
    begun = _begun(window, first, zone)
    days = (window.last_day - begun).days + 1
    if days < 1:
        return []
    bounds = [rules.midnight(begun + timedelta(days=i), zone) for i in range(days + 1)]
    day = case(*[(TicketRow.created_at < bounds[i + 1], i) for i in range(days)], else_=days).label(
        "day"
    )
    counted = session.execute(
        ctx.scoped(TicketRow, select(day, func.count())).where(
            TicketRow.created_at >= bounds[0], TicketRow.created_at < bounds[-1]
        ).group_by(day)
    ).all()  # fmt: skip
    totals = [0] * days
    for i, n in counted:
        totals[int(i)] = int(n)
    excluded = staffing.event_days(known, zone, begun, window.last_day)
    return staffing.unusual_days(totals, begun, excluded)


def _begun(window: rules.HistoryDays, first: datetime | None, zone: ZoneInfo) -> date:
    """The history's first day the brand had begun by (its first ticket's day, when later)."""
    return window.first_day if first is None else max(
        window.first_day, first.astimezone(zone).date()
    )  # fmt: skip


def _outside(days: frozenset[date], zone: ZoneInfo) -> Any:
    """A ticket condition: created on none of ``days`` (calendar days in ``zone``)."""
    if not days:
        return TicketRow.created_at.is_not(None)
    return not_(
        or_(*[
            and_(
                TicketRow.created_at >= rules.midnight(day, zone),
                TicketRow.created_at < rules.midnight(day + timedelta(days=1), zone),
            )
            for day in sorted(days)
        ])
    )  # fmt: skip


def past_lift(
    session: Session,
    ctx: BrandContext,
    now: datetime,
    start: datetime,
    hours: int,
    remembered: list[staffing.SalesEvent] = [],  # noqa: B006 (read, never changed)
) -> staffing.Lift:
    """A past event's lift: its tickets in ``hours`` from ``start`` ÷ what the brand's weekly
    profile of the (up to) four whole weeks before its first day expected in those hours —
    the weeks before it, not the last four: an event inside those would expect itself —,
    moved on by the brand's trend then (the weekly totals of up to twelve whole weeks before
    its day: staffing.trended_expectation), so a growing brand's lift is the event's, not
    also a few weeks of growth. 422 for a window too long, not over yet, or with no history
    before it."""
    problem = staffing.lift_window_problem(start, hours, now)
    if problem == "too_long":
        raise invalid(
            "lift_hours",
            _("A past event is measured over at most %(max)s hours; give a shorter window.")
            % {"max": staffing.MAX_LIFT_HOURS},
            code="lift_too_long",
        )
    if problem == "not_past":
        raise invalid(
            "lift_start",
            _("That event has not ended yet: name a past event's window, which ends before now."),
            code="lift_not_past",
        )
    return _lift(session, ctx, start, hours, remembered, _first_ticket(session, ctx))


def _lift(
    session: Session,
    ctx: BrandContext,
    start: datetime,
    hours: int,
    remembered: list[staffing.SalesEvent],
    first: datetime | None,
) -> staffing.Lift:
    """:func:`past_lift` of a window already checked, the brand's ``first`` ticket read."""
    zone = brand_zone(ctx)
    window = rules.history_days(start, zone, HISTORY_WEEKS, first)
    # The brand's other events in the weeks before are left out of the baseline, as in a plan.
    left_out = staffing.event_days(remembered, zone, _begun(window, first, zone), window.last_day)
    before = session.scalars(
        ctx.scoped(TicketRow, select(TicketRow.created_at)).where(
            TicketRow.created_at >= window.since, TicketRow.created_at < window.until,
            _outside(left_out, zone),
        )
    ).all()  # fmt: skip
    profile = staffing.weekly_profile(before, zone, window.weekdays, left_out) if before else {}
    baseline = staffing.expected_arrivals(profile, start, hours, zone)
    if baseline <= 0:
        raise invalid(
            "lift_start",
            _("There is no history before that event to compare it with: name an event at "
              "least a day after your first ticket, in hours that usually have tickets."),
            code="lift_no_history",
        )  # fmt: skip
    trend = staffing.trend(
        weekly_totals(session, ctx, start, first, remembered), window.weeks, ahead=0.0
    )
    expected = baseline
    if trend.applied:
        expected = staffing.trended_expectation(
            profile, start, hours, zone, (_begun(window, first, zone), window.last_day),
            trend.weekly_growth, left_out,
        )  # fmt: skip
    hour = staffing.hour_start(start, zone)
    observed = session.scalar(
        ctx.scoped(TicketRow, select(func.count())).where(
            TicketRow.created_at >= hour, TicketRow.created_at < hour + timedelta(hours=hours)
        )
    )
    return staffing.Lift(hour, hours, int(observed or 0), expected, trend, baseline)


def _presence(session: Session, ctx: BrandContext, now: datetime, zone: ZoneInfo) -> Presence:
    """Experts online by hour of the week over the plan's history days — from the first
    recorded interval on, when that is later: the time before presence was recorded (a
    brand upgraded this week) is unknown, not a time nobody was online."""
    window = rules.history_days(now, zone, HISTORY_WEEKS, None)
    recorded = presence.recorded_since(session, ctx.brand.id)
    if recorded is None or recorded >= window.until:
        return Presence(None, window.last_day, {})
    since = max(window.since, recorded)
    found = presence.intervals(session, ctx.brand.id, since, window.until)
    by_hour = staffing.online_by_hour(found, since, window.until, zone)
    return Presence(since.astimezone(zone).date(), window.last_day, by_hour)


# --------------------------------------------------------------------------------------------
# The brand's sales events
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RememberedEvent:
    """An event as listed: a past one with its measured lift (None: not measurable — no
    history before it, or it has not ended yet)."""

    event: staffing.SalesEvent
    past: bool
    lift: staffing.Lift | None


def events(session: Session, ctx: BrandContext) -> list[staffing.SalesEvent]:
    """The brand's sales events, earliest first."""
    rows = session.scalars(
        ctx.scoped(CapacityEventRow).order_by(CapacityEventRow.start_at, CapacityEventRow.id)
    )
    return [staffing.SalesEvent(r.id, r.name, r.start_at, r.hours, r.multiplier) for r in rows]


def _event_messages() -> dict[str, str]:
    return {
        "name_empty": _("Give the event a name, such as “Singles' Day”."),
        "name_too_long": _("Give the event a name of at most %(max)s characters.")
        % {"max": staffing.MAX_EVENT_NAME},
        "hours_out_of_range": _("An event lasts from 1 to %(max)s hours.")
        % {"max": staffing.MAX_EVENT_HOURS},
        "start_out_of_range": _(
            "Give a start from a year ago to two years ahead: older events no longer shape "
            "the plan."
        ),
        "overlaps": _(
            "This event overlaps another of your events: change its start or hours, or "
            "remove the other one first."
        ),
    }


def add_event(
    session: Session,
    ctx: BrandContext,
    user_id: int | None,
    now: datetime,
    *,
    name: str,
    start: datetime,
    hours: int,
    multiplier: float | None,
) -> staffing.SalesEvent:
    """Remember a sales event; 422 (field and code from staffing.event_problem) when it has
    no name or one too long, lasts outside 1–168 hours, starts out of range, or overlaps
    another of the brand's events."""
    if multiplier is not None and not 0 <= multiplier <= 100:
        raise invalid(
            "multiplier", _("Enter a number from %(low)s to %(high)s.") % {"low": 0, "high": 100}
        )
    _hold_events(session, ctx)  # the overlap check reads what no other add can change now
    problem = staffing.event_problem(name, start, hours, events(session, ctx), now)
    if problem is not None:
        field, code = problem
        raise invalid(field, _event_messages()[code], code=f"event_{code}")
    row = CapacityEventRow(
        brand_id=ctx.brand.id, name=name.strip(), start_at=start, hours=hours,
        multiplier=multiplier, created_by=user_id, created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return staffing.SalesEvent(row.id, row.name, start, hours, multiplier)


# A PostgreSQL advisory lock (two int4 keys: this, the brand's id) on a brand's events.
_EVENTS_LOCK = 0x657674  # "evt"


def _hold_events(session: Session, ctx: BrandContext) -> None:
    """Until commit, hold the brand's events: two admins adding overlapping events at once
    both passed the overlap check, each reading the events before the other's insert. The
    second now waits for the first to commit and then reads its event. PostgreSQL: a
    transaction-scoped advisory lock (a brand without events has no row to lock). SQLite:
    the one writer's lock, taken before the read (the read alone would not wait)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_EVENTS_LOCK, ctx.brand.id)))
    else:
        begin_writing(session)


def remove_event(session: Session, ctx: BrandContext, event_id: int) -> None:
    """Forget one of the brand's events (another brand's: 404)."""
    gone = session.execute(
        delete(CapacityEventRow).where(
            CapacityEventRow.id == event_id, CapacityEventRow.brand_id == ctx.brand.id
        )
    )
    if not getattr(gone, "rowcount", 0):
        raise not_found(_("There is no such event."), code="event_not_found")


# Past events listed on each view of the capacity page, each with its lift measured (three
# queries apiece), and tried in turn for the multiplier a plan learns: older ones are listed
# a page at a time on asking ("show older"), and are too far back to say how the next event
# will go.
PAST_LISTED: Final = 10


@dataclass(frozen=True)
class EventsListing:
    """The events as listed, earliest first: a page of :data:`PAST_LISTED` past events (the
    most recent, with every upcoming one; a cursor's, the next older ones: :func:`events_page`);
    ``older`` past events behind the page, ``next_cursor`` their page (None: none); and
    the lift the plan learns its multiplier from (:func:`latest_lift`)."""

    listed: list[RememberedEvent]
    older: int
    learned: tuple[staffing.SalesEvent, staffing.Lift] | None
    next_cursor: str | None = None


def recent_past(
    known: list[staffing.SalesEvent], now: datetime, limit: int | None = PAST_LISTED
) -> list[staffing.SalesEvent]:
    """The ``limit`` most recent past events (None: all), most recent first."""
    past = sorted((e for e in known if e.is_past(now)), key=lambda e: e.start, reverse=True)
    return past if limit is None else past[:limit]


def _measured(
    session: Session,
    ctx: BrandContext,
    now: datetime,
    event: staffing.SalesEvent,
    known: list[staffing.SalesEvent],
    first: datetime | None,
) -> staffing.Lift | None:
    """A past event's lift (:func:`past_lift`, the other events left out of its baseline;
    the brand's ``first`` ticket read once by the caller); None when it cannot be measured
    (no history before it)."""
    if staffing.lift_window_problem(event.start, event.hours, now) is not None:
        return None
    try:
        return _lift(session, ctx, event.start, event.hours,
                     [o for o in known if o.id != event.id], first)  # fmt: skip
    except AppError:
        return None


def remembered(
    session: Session,
    ctx: BrandContext,
    now: datetime,
    known: list[staffing.SalesEvent],
    cursor: str | None = None,
) -> EventsListing:
    """The events to list, each past one with its lift, and the learned lift. A view measures
    one page of :data:`PAST_LISTED` past events (``cursor``: the page of older ones
    :attr:`EventsListing.next_cursor` named; 422 for one this did not give out), however
    many the brand has; the learned lift reuses the first page's measurements, and a later
    page's view measures the most recent ones again for it (at most :data:`PAST_LISTED`)."""
    found = events_page(session, ctx, now, known, cursor, PAST_LISTED)
    lifts = {r.event.id: r.lift for r in found.listed if r.past}
    past = [e for e in known if e.is_past(now)]
    shown = [_past_key(r.event) for r in found.listed if r.past]
    older = sum(_past_key(e) < min(shown) for e in past) if shown else 0
    return EventsListing(
        found.listed, older, latest_lift(session, ctx, now, known, lifts), found.next_cursor
    )


def latest_lift(
    session: Session,
    ctx: BrandContext,
    now: datetime,
    known: list[staffing.SalesEvent],
    measured: Mapping[int, staffing.Lift | None] | None = None,
) -> tuple[staffing.SalesEvent, staffing.Lift] | None:
    """The most recent of the :data:`PAST_LISTED` most recent past events whose lift can be
    measured, with that lift: what the plan learns its multiplier from when none is typed —
    the same event on the page (which passes the lifts it ``measured`` for its list) and
    in the API (which measures one after another until one can be)."""
    first: datetime | None = None
    read = False
    for e in recent_past(known, now):
        if measured is not None and e.id in measured:
            lift = measured[e.id]
        else:
            if not read:
                first, read = _first_ticket(session, ctx), True
            lift = _measured(session, ctx, now, e, known, first)
        if lift is not None and lift.lift is not None:
            return e, lift
    return None


@dataclass(frozen=True)
class EventsPage:
    """One page of the brand's events, earliest first: the first page holds every upcoming
    event and the ``limit`` most recent past ones, each measured; a later page, the next
    older past ones. ``next_cursor``: the page of past events before these (None: none)."""

    listed: list[RememberedEvent]
    next_cursor: str | None


def _past_key(e: staffing.SalesEvent) -> tuple[int, int]:
    """A past event's place, most recent first: (start in microseconds since 1970, id)."""
    return (e.start - _UNIX) // timedelta(microseconds=1), e.id


_UNIX: Final = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


def events_page(
    session: Session,
    ctx: BrandContext,
    now: datetime,
    known: list[staffing.SalesEvent],
    cursor: str | None,
    limit: int,
) -> EventsPage:
    """A page of :func:`events` for the API: only its past events are measured (three
    statements each, and one for the brand's first ticket), however many the brand has. The
    cursor is the last listed past event's (start, id): an event added or removed between
    pages neither repeats nor skips another."""
    after = decode_key_cursor(cursor, (int, int))
    past = sorted((e for e in known if e.is_past(now)), key=_past_key, reverse=True)
    if after is not None:
        key = (int(after[0]), int(after[1]))
        past = [e for e in past if _past_key(e) < key]
    shown, more = past[:limit], len(past) > limit
    first = _first_ticket(session, ctx) if shown else None
    lifts = {e.id: _measured(session, ctx, now, e, known, first) for e in shown}
    listed = [
        RememberedEvent(e, e.is_past(now), lifts.get(e.id))
        for e in known
        if e.id in lifts or (after is None and not e.is_past(now))
    ]
    return EventsPage(listed, encode_key_cursor(_past_key(shown[-1])) if more else None)
