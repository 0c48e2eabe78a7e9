"""Brand admins' insights across the lanes, and the capacity plan for a sales event."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from crowdcx.analytics import service
from crowdcx.analytics.api import parse_start, trend_off
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import N_, _
from crowdcx.quality import service as quality
from crowdcx.staffing import rules as staffing
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.web.deps import CsrfChecked, CurrentUser, Uow, now
from crowdcx.web.templating import NavItem, page, register_nav

router = APIRouter(include_in_schema=False)
register_nav(NavItem(N_("Insights"), "admin/insights", "brand.manage", order=10))


@router.get("/b/{slug}/admin/insights")
def insights(
    slug: str, request: Request, user: CurrentUser, uow: Uow, days: str = "30"
) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    period = int(days) if days in {str(p) for p in service.PERIODS} else 30
    found = service.insights(uow.session, ctx, period, now())
    qa = quality.period_quality(uow.session, ctx, found.since)
    return page(
        request,
        "analytics/insights.html",
        {"ctx": ctx, "i": found, "qa": qa, "periods": service.PERIODS},
    )


def _number(text: str, low: float, high: float, default: float, field: str,
            errors: dict[str, str]) -> float:  # fmt: skip
    """A number typed in the form (a decimal comma and full-width digits are fine)."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", ".").rstrip("%")
    if not cleaned:
        return default
    try:
        value = float(cleaned)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails too
        errors[field] = _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
        return default
    return value


@router.get("/b/{slug}/admin/capacity")
def capacity(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    start: str = "",
    hours: str = "",
    multiplier: str = "",
    goal: str = "",
    target_min: str = "",
    concurrency: str = "",
    shrinkage: str = "",
    lift_start: str = "",
    lift_hours: str = "",
    older: Annotated[str, Query(max_length=500)] = "",
    trend: str = "",
) -> Response:
    """The form and, once asked, the plan: experts needed online in each hour of the event.
    The events list shows the last service.PAST_LISTED past events; ``older`` (the cursor
    its "show older" link gives) the page of past events before them, as the API pages."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    at = now()
    defaults = service.plan_defaults(uow.session, ctx, at)
    zone = service.brand_zone(ctx)
    tomorrow = (at.astimezone(zone) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                                 microsecond=0)  # fmt: skip
    form = {
        "start": start[:40] or tomorrow.strftime("%Y-%m-%dT%H:%M"),
        "hours": hours[:10] or "24",
        "multiplier": multiplier[:10] or "10",
        "goal": goal[:10] or "80",
        "target_min": target_min[:10] or f"{defaults['target_s'] / 60:g}",
        "concurrency": concurrency[:10] or str(defaults["concurrency"]),
        "shrinkage": shrinkage[:10] or "20",
        "lift_start": lift_start[:40],
        "lift_hours": lift_hours[:10] or "24",
        "trend": trend[:20] or "auto",
    }
    errors: dict[str, str] = {}
    no_trend = False
    try:
        no_trend = trend_off(form["trend"])
    except AppError as error:
        errors["trend"] = error.detail
    plan: Any = None
    lift: staffing.Lift | None = None
    known = service.events(uow.session, ctx)
    events_error = None
    try:
        listing = service.remembered(uow.session, ctx, at, known, older.strip() or None)
    except AppError as error:  # a cursor this page did not give out: the first page
        events_error = error.detail
        listing = service.remembered(uow.session, ctx, at, known)
    learned = None
    if not multiplier.strip() and not form["lift_start"].strip():
        # The API's learned lift (service.latest_lift), from the lifts the list just measured.
        learned = listing.learned
        if learned is not None and learned[1].lift is not None:
            form["multiplier"] = f"{round(min(100.0, learned[1].lift), 2):g}"
    if form["lift_start"].strip():
        hours_back = _number(form["lift_hours"], 1, 100_000, 24, "lift_hours", errors)
        try:
            lift = service.past_lift(
                uow.session, ctx, at, parse_start(ctx, form["lift_start"], at, "lift_start"),
                int(hours_back),
            )  # fmt: skip
        except AppError as error:
            errors[error.field or "lift_start"] = error.detail
        if lift is not None and lift.lift is not None and not multiplier.strip():
            form["multiplier"] = f"{round(min(100.0, lift.lift), 2):g}"
    # The plan asked for, not only the list (``events``: the list's former link, kept).
    if set(request.query_params) - {"events", "older"}:
        values = {
            "hours": _number(form["hours"], 1, 168, 24, "hours", errors),
            "multiplier": _number(form["multiplier"], 0, 100, 10, "multiplier", errors),
            "goal": _number(form["goal"], 50, 99, 80, "goal", errors),
            "target_min": _number(form["target_min"], 1, 7 * 1440, 240, "target_min", errors),
            "concurrency": _number(form["concurrency"], 1, 50, 1, "concurrency", errors),
            "shrinkage": _number(form["shrinkage"], 0, 90, 0, "shrinkage", errors),
        }
        begin: datetime = at
        try:
            begin = parse_start(ctx, form["start"], at)
        except AppError as error:
            errors["start"] = error.detail
        if not errors:
            try:
                plan = service.capacity_plan(
                    uow.session, ctx, at, start=begin, hours=int(values["hours"]),
                    multiplier=values["multiplier"], goal=values["goal"] / 100,
                    target_s=values["target_min"] * 60, concurrency=int(values["concurrency"]),
                    shrinkage=values["shrinkage"] / 100, lift=lift, remembered=known,
                    trend_off=no_trend,
                )  # fmt: skip
            except AppError as error:
                errors[error.field or "multiplier"] = error.detail
    seen = [plan.presence.of(h, zone) for h in plan.hours] if plan else []
    peak_seen = plan.presence.of(plan.peak, zone) if plan and plan.peak else None
    return page(
        request,
        "analytics/capacity.html",
        {"ctx": ctx, "form": form, "errors": errors, "plan": plan, "zone": str(zone),
         "seen": seen, "peak_seen": peak_seen, "lift": lift,
         "use_lift": _with_multiplier(request, lift), "learned": learned,
         **_events_context(ctx, listing, zone, older_page=bool(older.strip()) and not events_error),
         "events_error": events_error,
         "unusual": service.unusual_days(uow.session, ctx, at, known)},
        status=422 if errors or events_error else 200,
    )  # fmt: skip


def _events_context(
    ctx: BrandContext,
    listing: service.EventsListing,
    zone: Any,
    event_form: dict[str, str] | None = None,
    event_errors: dict[str, str] | None = None,
    older_page: bool = False,
) -> dict[str, Any]:
    """The events list and the add form: a future event links to its own plan; the older
    past events not listed, behind a link to their page (and a later page, a link back)."""
    listed = listing.listed
    plans = {
        r.event.id: f"/b/{ctx.brand.slug}/admin/capacity?" + urlencode({
            "start": r.event.start.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "hours": r.event.hours,
            **({"multiplier": f"{r.event.multiplier:g}"} if r.event.multiplier is not None
               else {}),
        })
        for r in listed
        if not r.past
    }  # fmt: skip
    return {
        "events": listed,
        "older_events": listing.older,
        "older_next": min(listing.older, service.PAST_LISTED),  # what the next page shows
        "older_page": None if listing.next_cursor is None else
        f"/b/{ctx.brand.slug}/admin/capacity?" + urlencode({"older": listing.next_cursor})
        + "#events",
        "latest_page": f"/b/{ctx.brand.slug}/admin/capacity#events" if older_page else None,
        "event_plans": plans,
        "event_starts": {
            r.event.id: r.event.start.astimezone(zone).strftime("%Y-%m-%d %H:%M") for r in listed
        },
        "event_form": event_form or {"event_name": "", "event_start": "", "event_hours": "24",
                                     "event_multiplier": ""},
        "event_errors": event_errors or {},
    }  # fmt: skip


@router.post("/b/{slug}/admin/capacity/events", dependencies=[CsrfChecked])
def add_event(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    event_name: Annotated[str, Form(max_length=1000, title=N_("Event name"))] = "",
    event_start: Annotated[str, Form(max_length=40, title=N_("Start"))] = "",
    event_hours: Annotated[str, Form(max_length=10, title=N_("Hours"))] = "",
    event_multiplier: Annotated[str, Form(max_length=10, title=N_("Traffic multiplier (×)"))] = "",
) -> Response:
    """Remember a sales event from the capacity page; the page again with the errors."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    at = now()
    form = {"event_name": event_name, "event_start": event_start, "event_hours": event_hours,
            "event_multiplier": event_multiplier}  # fmt: skip
    errors: dict[str, str] = {}
    hours = _number(event_hours or "24", -1e6, 1e6, 24, "event_hours", errors)
    multiplier = (
        _number(event_multiplier, 0, 100, 10, "event_multiplier", errors)
        if event_multiplier.strip() else None
    )  # fmt: skip
    start = at
    try:
        if not event_start.strip():
            raise AppError(422, "invalid", _("Give the start as a date and time, such as "
                                             "2026-11-11T00:00."), field="start")  # fmt: skip
        start = parse_start(ctx, event_start, at)
    except AppError as error:
        errors["event_start"] = error.detail
    if not errors:
        try:
            service.add_event(
                uow.session, ctx, user.id, at, name=event_name, start=start, hours=int(hours),
                multiplier=multiplier,
            )  # fmt: skip
        except AppError as error:
            uow.rollback()
            errors[f"event_{error.field or 'name'}"] = error.detail
    if errors:
        return _events_page(request, uow, ctx, form, errors)
    uow.commit()
    return RedirectResponse(f"/b/{slug}/admin/capacity#events", status_code=303)


@router.post("/b/{slug}/admin/capacity/events/{event_id}/remove", dependencies=[CsrfChecked])
def remove_event(slug: str, event_id: int, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    service.remove_event(uow.session, ctx, event_id)
    uow.commit()
    return RedirectResponse(f"/b/{slug}/admin/capacity#events", status_code=303)


def _events_page(
    request: Request,
    uow: UnitOfWork,
    ctx: BrandContext,
    event_form: dict[str, str],
    event_errors: dict[str, str],
) -> Response:
    """The capacity form (not planned) with the events and the add form's errors (422)."""
    at = now()
    zone = service.brand_zone(ctx)
    defaults = service.plan_defaults(uow.session, ctx, at)
    known = service.events(uow.session, ctx)
    listing = service.remembered(uow.session, ctx, at, known)
    form = {
        "start": "", "hours": "24", "multiplier": "10", "goal": "80",
        "target_min": f"{defaults['target_s'] / 60:g}", "concurrency":
        str(defaults["concurrency"]), "shrinkage": "20", "lift_start": "", "lift_hours": "24",
        "trend": "auto",
    }  # fmt: skip
    return page(
        request,
        "analytics/capacity.html",
        {"ctx": ctx, "form": form, "errors": {}, "plan": None, "zone": str(zone), "seen": [],
         "peak_seen": None, "lift": None, "use_lift": None, "learned": None,
         **_events_context(ctx, listing, zone, event_form, event_errors), "events_error": None,
         "unusual": service.unusual_days(uow.session, ctx, at, known)},
        status=422,
    )  # fmt: skip


def _with_multiplier(request: Request, lift: staffing.Lift | None) -> str | None:
    """This page's query with the past event's lift as the multiplier (the "use it" link)."""
    if lift is None or lift.lift is None:
        return None
    query = {**request.query_params, "multiplier": f"{round(min(100.0, lift.lift), 2):g}"}
    return f"{request.url.path}?{urlencode(query)}"
