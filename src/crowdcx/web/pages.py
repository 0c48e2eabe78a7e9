"""Pages every visitor sees: the start page, a brand's home, the language switch, live updates,
the site icon and the health check."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import select, text
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from crowdcx.kernel.db import Database
from crowdcx.kernel.errors import AppError, unauthenticated
from crowdcx.kernel.language import normalize_locale
from crowdcx.kernel.live import sse_stream
from crowdcx.tenancy.models import Brand
from crowdcx.tenancy.rules import can, may_join_self
from crowdcx.tenancy.service import access_brand, join_as_customer, memberships_of
from crowdcx.web.context import LOCALE_COOKIE
from crowdcx.web.deps import CsrfChecked, Uow, ViewerDep, get_db, get_viewer
from crowdcx.web.labels import role_labels
from crowdcx.web.redirects import safe_next
from crowdcx.web.templating import page

router = APIRouter(include_in_schema=False)
ops_router = APIRouter(tags=["operations"])


@router.get("/")
def home(request: Request, viewer: ViewerDep, uow: Uow) -> Response:
    brands = list(uow.session.scalars(select(Brand).order_by(Brand.name).limit(100)))
    memberships = memberships_of(uow.session, viewer.user) if viewer.user else []
    return page(
        request,
        "home.html",
        {"brands": brands, "memberships": memberships, "role_names": role_labels()},
    )


@router.get("/b/{slug}/")
def brand_home(slug: str, request: Request, viewer: ViewerDep, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, viewer.user)
    context = {
        "ctx": ctx,
        "role_names": role_labels(),
        "may_join": may_join_self(ctx.brand.settings),
    }
    return page(request, "brand_home.html", context)


@router.post("/b/{slug}/join", dependencies=[CsrfChecked])
def join_brand(slug: str, viewer: ViewerDep, uow: Uow) -> Response:
    """A signed-in person who is not yet a member becomes the brand's customer."""
    if viewer.user is None:
        raise unauthenticated()
    ctx = access_brand(uow.session, slug, viewer.user)
    join_as_customer(uow, ctx)
    uow.commit()
    return RedirectResponse(f"/b/{ctx.brand.slug}/", status_code=303)


@router.get("/b/{slug}")
def brand_home_slash(slug: str) -> Response:
    return RedirectResponse(f"/b/{slug}/", status_code=308)


@router.post("/locale", dependencies=[CsrfChecked])
def switch_locale(
    request: Request,
    viewer: ViewerDep,
    uow: Uow,
    locale: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    chosen = normalize_locale(locale) or "en"
    if viewer.user is not None and viewer.user.locale != chosen:
        viewer.user.locale = chosen  # the preference follows the person to other devices
        uow.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    settings = request.app.state.settings
    response.set_cookie(
        LOCALE_COOKIE, chosen, max_age=365 * 86400, samesite="lax", secure=settings.secure_cookies
    )
    return response


FAVICON = Path(__file__).resolve().parent / "static" / "favicon.ico"
# A year: the icon changes about never, and every page load asked for it (a 404 each time
# before there was one). A new icon would come under a new name, linked from base.html.
FAVICON_CACHE = "public, max-age=31536000"


@ops_router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """The site icon at the address browsers ask for on their own, with long cache
    headers; base.html links it too."""
    return FileResponse(
        FAVICON, media_type="image/vnd.microsoft.icon", headers={"Cache-Control": FAVICON_CACHE}
    )


@ops_router.get("/healthz")
def healthz(request: Request) -> Response:
    """Liveness and database reachability: 200 when a query round-trips, 503 otherwise."""
    db: Database = get_db(request)
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return Response(
            b'{"status":"unavailable","database":"unreachable"}',
            status_code=503,
            media_type="application/json",
        )
    return Response(b'{"status":"ok","database":"ok"}', media_type="application/json")


# How often an open stream checks that its listener may still hear its channels.
LIVE_RECHECK_S = 30.0


@router.get("/live")
async def live(request: Request) -> StreamingResponse:
    """Server-Sent Events for the signed-in viewer: their own channel plus the brands they
    belong to. Capabilities publish with ``app.state.broadcaster.publish(channel, event, data)``."""
    channels = await asyncio.to_thread(_live_channels, request)
    broadcaster = request.app.state.broadcaster

    async def still_allowed() -> bool:
        return await asyncio.to_thread(_same_channels, request, channels)

    return StreamingResponse(
        sse_stream(
            broadcaster,
            channels,
            request.is_disconnected,
            still_allowed=still_allowed,
            recheck_s=LIVE_RECHECK_S,
        ),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


def _same_channels(request: Request, channels: list[str]) -> bool:
    """Whether the viewer (looked up again: the session may have ended) would still be given
    exactly ``channels``."""
    request.state.viewer = None
    try:
        return set(_live_channels(request)) == set(channels)
    except AppError:
        return False


def _live_channels(request: Request) -> list[str]:
    db: Database = get_db(request)
    with db.uow() as uow:
        viewer = get_viewer(request, uow)
        if viewer.user is None:
            raise unauthenticated()
        # A brand's staff channel (escalations, with the ticket's subject) only for those who
        # work its staff queue; everyone else hears only what is addressed to them.
        staff = [
            m.brand_id
            for m, _b in memberships_of(uow.session, viewer.user)
            if viewer.user.is_platform_admin
            or can(frozenset(r.role for r in m.roles), "ticket.staff")
        ]
        return [f"user:{viewer.user.id}", *(f"staff:{b}" for b in staff)]
