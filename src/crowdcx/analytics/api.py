"""JSON API of the brand's insights and capacity plan (brand admins; see docs/api.md)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from crowdcx.analytics import rules, service
from crowdcx.kernel.errors import invalid
from crowdcx.kernel.i18n import _
from crowdcx.kernel.pagination import MAX_LIMIT
from crowdcx.staffing import rules as staffing
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.web.deps import CurrentUser, Uow, now

router = APIRouter(prefix="/api/v1/brands/{slug}", tags=["analytics"])


def _spread(s: rules.Spread) -> dict[str, Any]:
    return {"count": s.count, "median_s": s.median_s, "p90_s": s.p90_s}


def _share(s: rules.Share) -> dict[str, Any]:
    return {"part": s.part, "whole": s.whole, "rate": s.rate}


def insights_out(i: service.Insights) -> dict[str, Any]:
    t, sat, ss, c = i.tickets, i.satisfaction, i.self_service, i.community
    return {
        "since": i.since,
        "days": i.days,
        "tickets": {
            "created": t.created, "open": t.open, "resolved": t.resolved,
            "resolved_by_experts": t.by_experts, "resolved_by_staff": t.by_staff,
            "expert_share": _share(t.expert_share), "escalated": t.escalated,
            "deflected": t.deflected, "first_response": _spread(t.first_response),
            "resolution": _spread(t.resolution),
            "first_response_met": _share(t.first_response_met),
            "resolution_met": _share(t.resolution_met),
        },
        "satisfaction": {
            "ratings": sat.ratings, "csat_average": sat.csat_average,
            "csat_counts": list(sat.csat_counts), "satisfied": _share(sat.satisfied),
            "nps_answers": sat.nps_answers, "nps": sat.nps,
        },
        "self_service": {
            "suggestions_shown": ss.shown, "opened": ss.opened, "solved": ss.solved,
            "no_answer": ss.no_answer, "tickets": ss.tickets,
            "self_service_rate": _share(ss.self_service_rate),
        },
        "community": {
            "asked": c.asked, "answered": _share(c.answered), "solved": _share(c.solved),
            "escalated": c.escalated, "first_answer": _spread(c.first_answer),
        },
        "top_experts": [
            {"user_id": e.user_id, "name": e.name, "resolved": e.resolved,
             "csat_average": e.csat_average}
            for e in i.top_experts
        ],
        "solved_by": [
            {"kind": d.kind, "id": d.id, "title": d.title, "cases": d.cases}
            for d in i.solved_by
        ],
    }  # fmt: skip


@router.get("/insights")
def insights(
    slug: str, uow: Uow, user: CurrentUser, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> dict[str, Any]:
    """The last ``days`` days across the lanes: tickets and the SLA, satisfaction,
    self-service, the community and the experts who resolved the most."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    return insights_out(service.insights(uow.session, ctx, days, now()))


DEFAULT_MULTIPLIER = 10.0  # sales events bring about 10 × the traffic


def multiplier_of(
    typed: float | None, lift: staffing.Lift | None, learned: staffing.Lift | None = None
) -> tuple[float, str]:
    """The event's multiplier and where it came from: the one typed, else the named past
    event's lift (at most 100, as a typed one), else the lift ``learned`` from the brand's
    most recent past event, else the default."""
    if typed is not None:
        return typed, "typed"
    if lift is not None and lift.lift is not None:
        return round(min(100.0, lift.lift), 2), "lift"
    if learned is not None and learned.lift is not None:
        return round(min(100.0, learned.lift), 2), "last_event"
    return DEFAULT_MULTIPLIER, "default"


def trend_out(t: staffing.Trend) -> dict[str, Any]:
    return {
        "mode": "off" if t.off else "auto", "applied": t.applied, "weeks": t.weeks,
        "weekly_growth": round(t.weekly_growth, 4), "factor": round(t.factor, 4),
    }  # fmt: skip


def lift_out(lift: staffing.Lift | None) -> dict[str, Any] | None:
    if lift is None:
        return None
    baseline = lift.expected if lift.baseline is None else lift.baseline
    return {
        "start": lift.start.isoformat(), "hours": lift.hours, "observed_tickets": lift.observed,
        "expected_tickets": round(lift.expected, 2),
        "lift": None if lift.lift is None else round(lift.lift, 2),
        "average_expected_tickets": round(baseline, 2),
        "trend": {
            "applied": lift.trend.applied, "weeks": lift.trend.weeks,
            "weekly_growth": round(lift.trend.weekly_growth, 4),
        },
    }  # fmt: skip


TREND_MODES = ("auto", "off")


def trend_off(text: str) -> bool:
    """``trend``: ``auto`` (or empty: follow the brand's growth) or ``off`` (growth has
    ended: plan from the last weeks' average); anything else a 422."""
    mode = text.strip().lower() or "auto"
    if mode not in TREND_MODES:
        raise invalid(
            "trend",
            _("Give the trend as “auto” (follow your weekly growth) or “off” (plan from the "
              "last weeks' average, when growth has ended)."),
            code="trend_unknown",
        )  # fmt: skip
    return mode == "off"


def parse_start(ctx: BrandContext, text: str, at: datetime, field: str = "start") -> datetime:
    """An event's start as typed (ISO 8601; without an offset, in the brand's time zone)."""
    if not text.strip():
        return at
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        raise invalid(
            field, _("Give the start as a date and time, such as 2026-11-11T00:00.")
        ) from None
    if not 2000 <= start.year <= 2200:
        raise invalid(field, _("Give a start between the years 2000 and 2200."))
    if start.tzinfo is None:
        start = start.replace(tzinfo=service.brand_zone(ctx))
    return start


def hour_out(h: staffing.PlanHour, seen: service.HourPresence) -> dict[str, Any]:
    s = h.staffing
    return {
        "experts_online_avg": None if seen.online is None else round(seen.online, 2),
        "short_by": seen.short_by,
        "start": h.start.isoformat(), "expected_tickets": round(h.arrivals, 2),
        "slots": h.slots, "experts": h.experts, "service_level": round(s.service_level, 4),
        "wait_probability": round(s.wait_probability, 4),
        "average_wait_s": round(s.average_wait_s, 1) if math.isfinite(s.average_wait_s) else None,
        "occupancy": round(s.occupancy, 4),
    }  # fmt: skip


@router.get("/capacity-plan")
def capacity_plan(
    slug: str,
    uow: Uow,
    user: CurrentUser,
    start: Annotated[str, Query(max_length=40)] = "",
    hours: Annotated[int, Query(ge=1, le=168)] = 24,
    multiplier: Annotated[float | None, Query(ge=0, le=100)] = None,
    goal: Annotated[float, Query(ge=0.5, le=0.99)] = 0.8,
    target_s: Annotated[int | None, Query(ge=60, le=7 * 86400)] = None,
    concurrency: Annotated[int | None, Query(ge=1, le=50)] = None,
    shrinkage: Annotated[float, Query(ge=0, le=0.9)] = 0.0,
    lift_start: Annotated[str, Query(max_length=40)] = "",
    lift_hours: Annotated[int, Query(ge=1, le=100_000)] = 24,
    trend: Annotated[str, Query(max_length=20)] = "auto",
) -> dict[str, Any]:
    """Experts needed online, hour by hour, for an event bringing ``multiplier`` times the
    traffic of an ordinary week (the last four weeks: each weekday's volume spread over its
    hours as the brand's hours usually share it), moved on by the brand's weekly trend.
    ``lift_start`` and ``lift_hours`` name a past event: its lift (tickets ÷ what the weeks
    before it expected) is shown, and is the multiplier unless one is given. ``trend=off``:
    the ordinary week is the last weeks' average, not moved on by the trend."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    no_trend = trend_off(trend)
    at = now()
    defaults = service.plan_defaults(uow.session, ctx, at)
    lift = None
    if lift_start.strip():
        lift = service.past_lift(
            uow.session, ctx, at, parse_start(ctx, lift_start, at, "lift_start"), lift_hours
        )
    known = service.events(uow.session, ctx)
    latest = None
    if multiplier is None and lift is None:
        latest = service.latest_lift(uow.session, ctx, at, known)
    chosen, source = multiplier_of(multiplier, lift, latest[1] if latest else None)
    plan = service.capacity_plan(
        uow.session, ctx, at, start=parse_start(ctx, start, at), hours=hours,
        multiplier=chosen, goal=goal, target_s=target_s or defaults["target_s"],
        concurrency=concurrency or defaults["concurrency"], shrinkage=shrinkage, lift=lift,
        remembered=known, trend_off=no_trend,
    )  # fmt: skip
    p, zone, t = plan.presence, service.brand_zone(ctx), plan.trend
    return {
        "inputs": {
            "start": plan.spec.start.isoformat(), "hours": hours, "multiplier": chosen,
            "multiplier_from": source,
            "trend": trend_out(t),
            "lift": lift_out(lift),
            "learned_from": None if latest is None else {
                "event": event_out(latest[0]), "lift": lift_out(latest[1]),
            },
            "event_days_left_out": plan.event_days,
            "goal": goal, "target_s": plan.spec.target_s, "concurrency": plan.spec.concurrency,
            "shrinkage": shrinkage, "handle_s": round(plan.spec.handle_s, 1),
            "handle_from_history": plan.handle_from_history,
            "history_weeks": plan.history_weeks, "history_tickets": plan.history_tickets,
            "history_first_day": plan.history_first_day.isoformat(),
            "history_last_day": plan.history_last_day.isoformat(),
        },
        "experts_enrolled": plan.experts_enrolled,
        "presence": {
            "recorded": p.first_day is not None,
            "first_day": p.first_day.isoformat() if p.first_day else None,
            "last_day": p.last_day.isoformat() if p.first_day else None,
        },
        "peak": hour_out(plan.peak, p.of(plan.peak, zone)) if plan.peak else None,
        "hours": [hour_out(h, p.of(h, zone)) for h in plan.hours],
    }  # fmt: skip


def event_out(e: staffing.SalesEvent) -> dict[str, Any]:
    return {
        "id": e.id, "name": e.name, "start": e.start.isoformat(), "hours": e.hours,
        "multiplier": e.multiplier,
    }  # fmt: skip


class EventCreate(BaseModel):
    """A sales event to remember: ``start`` as ISO 8601 (without an offset, in the brand's
    time zone); ``multiplier`` the traffic expected of it, if known."""

    name: str = Field(max_length=1000)
    start: str = Field(max_length=40)
    hours: int = Field(ge=-1_000_000, le=1_000_000)
    multiplier: float | None = None


@router.get("/capacity/events")
def list_events(
    slug: str,
    uow: Uow,
    user: CurrentUser,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = service.PAST_LISTED,
) -> dict[str, Any]:
    """The brand's sales events, earliest first, each past one with its measured lift: the
    first page every upcoming event and the ``limit`` most recent past ones; ``next_cursor``
    the older past ones. Only the listed past events are measured."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    at = now()
    found = service.events_page(
        uow.session, ctx, at, service.events(uow.session, ctx), cursor, limit
    )
    return {
        "events": [
            {**event_out(r.event), "past": r.past, "lift": lift_out(r.lift)} for r in found.listed
        ],
        "next_cursor": found.next_cursor,
    }


@router.post("/capacity/events", status_code=201)
def add_event(slug: str, body: EventCreate, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    """Remember a sales event (422: no name or too long, hours outside 1–168, a start more
    than a year back or two years ahead, overlapping another event)."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    at = now()
    if not body.start.strip():
        raise invalid("start", _("Give the start as a date and time, such as 2026-11-11T00:00."))
    added = service.add_event(
        uow.session, ctx, user.id, at, name=body.name, start=parse_start(ctx, body.start, at),
        hours=body.hours, multiplier=body.multiplier,
    )  # fmt: skip
    uow.commit()
    return event_out(added)


@router.delete("/capacity/events/{event_id}", status_code=204)
def remove_event(slug: str, event_id: int, uow: Uow, user: CurrentUser) -> Response:
    """Forget one of the brand's events."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    service.remove_event(uow.session, ctx, event_id)
    uow.commit()
    return Response(status_code=204)
