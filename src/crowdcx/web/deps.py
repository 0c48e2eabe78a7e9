"""FastAPI dependencies shared by the API and the pages: the unit of work, the viewer, CSRF."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from crowdcx.config import Settings
from crowdcx.identity import service as identity
from crowdcx.identity.models import User
from crowdcx.kernel.db import Database, UnitOfWork
from crowdcx.kernel.deferred import DeferredCounters
from crowdcx.kernel.errors import AppError, unauthenticated
from crowdcx.kernel.i18n import _
from crowdcx.kernel.models import utcnow
from crowdcx.web.context import CSRF_COOKIE, SESSION_COOKIE

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def counters(request: Request) -> DeferredCounters:
    """Page-view counters written in the background (kernel.deferred)."""
    deferred: DeferredCounters = request.app.state.counters
    return deferred


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    # Async on purpose: opening a session does no I/O, and a sync dependency would cost a
    # thread-pool hop per request. The session's first query runs in the endpoint's thread.
    with get_db(request).uow() as uow:
        yield uow


def now() -> datetime:
    return utcnow()


Uow = Annotated[UnitOfWork, Depends(get_uow)]


@dataclass(frozen=True)
class Viewer:
    user: User | None
    via: str  # "session" | "api" | ""
    session_token: str = ""


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _sep, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = submitted or request.headers.get("x-csrf-token", "")
    return bool(expected) and hmac.compare_digest(expected, given)


def csrf_error() -> AppError:
    return AppError(
        403,
        "csrf_failed",
        _("This form has expired or came from another site. Reload the page and try again."),
    )


def get_viewer(request: Request, uow: Uow) -> Viewer:
    cached: Viewer | None = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    at = now()
    bearer = _bearer(request)
    if bearer is not None:
        user = identity.user_for_token(uow.session, bearer, "api", at)
        if user is None:
            raise unauthenticated(
                _("The API token is unknown, expired or revoked; request a new one."),
                "invalid_token",
            )
        viewer = Viewer(user, "api")
    else:
        raw = request.cookies.get(SESSION_COOKIE, "")
        user = identity.user_for_token(uow.session, raw, "session", at) if raw else None
        viewer = Viewer(user, "session" if user else "", raw if user else "")
        # Cookie-authenticated writes to the JSON API must echo the CSRF token in a header;
        # page forms are checked by `verified_form` (the token may be in the body there).
        if (
            user is not None
            and request.method in UNSAFE_METHODS
            and request.url.path.startswith("/api/")
            and not csrf_ok(request, None)
        ):
            raise csrf_error()
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def visitor_key(request: Request, viewer: Viewer) -> str:
    """Who counts once in feedback and deflection figures: the person when signed in,
    otherwise their address, keyed with the server's secret (no address is stored). People
    signed out behind one address count as one; a script cannot count twice by dropping its
    cookies."""
    if viewer.user is not None:
        return f"u:{viewer.user.id}"
    address = request.client.host if request.client else ""
    secret = get_settings(request).secret_key.encode()
    return "a:" + hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:40]


async def require_user(viewer: ViewerDep) -> User:
    if viewer.user is None:
        raise unauthenticated()
    return viewer.user


CurrentUser = Annotated[User, Depends(require_user)]


# Form fields never shown back on the refusal page: secrets and where-to-go-next fields.
_NOT_SHOWN_BACK = ("csrf", "password", "token", "next", "back")


async def verified_form(request: Request) -> None:
    """For page POSTs: the form (or the HTMX header) must carry the CSRF token. Refused, the
    error page shows what the person typed (``request.state.unsent``) so that a form left
    open too long does not lose it: as text to copy, never as a form that would re-send it
    (that would hand a cross-site post a one-click way around the check). The same when a
    field is refused at the edge (too long, not a number) and the error page stands in for
    the form."""
    form = await request.form()
    request.state.unsent = [
        value
        for name, value in form.multi_items()
        if isinstance(value, str)
        and value.strip()
        and not any(word in name.lower() for word in _NOT_SHOWN_BACK)
    ][:20]
    token = form.get("csrf_token")
    if not csrf_ok(request, token if isinstance(token, str) else None):
        raise csrf_error()


CsrfChecked = Depends(verified_form)
