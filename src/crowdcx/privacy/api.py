"""JSON API for data protection: download my data, delete my account, and erasure by a
platform administrator (an account) or a brand admin (a customer's data in the brand's
tickets)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from crowdcx.identity import service as identity
from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError, invalid
from crowdcx.kernel.i18n import _
from crowdcx.privacy import rules, service
from crowdcx.tenancy.service import access_brand
from crowdcx.web.deps import CurrentUser, Uow, get_settings, now

router = APIRouter(prefix="/api/v1", tags=["privacy"])


class ExportThrottle:
    """When each person last downloaded their data, in this process (``app.state``): at most
    one export a minute (rules.EXPORT_INTERVAL_S). With several workers the limit holds per
    worker; an export is a read, so the worst case is a few more reads, never a wrong write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[int, datetime] = {}

    def take(self, user_id: int, at: datetime) -> int:
        """0 and the slot taken, or the seconds to wait."""
        with self._lock:
            wait = rules.export_wait(self._last.get(user_id), at)
            if not wait:
                if len(self._last) > 10_000:  # forget the stale ones
                    self._last = {k: v for k, v in self._last.items() if rules.export_wait(v, at)}
                self._last[user_id] = at
            return wait


def throttle(request: Request) -> ExportThrottle:
    state = request.app.state
    found: ExportThrottle | None = getattr(state, "export_throttle", None)
    if found is None:
        found = state.export_throttle = ExportThrottle()
    return found


def export_response(request: Request, uow: UnitOfWork, user: User) -> Response:
    """The person's data as a JSON file download, or the 429 ``export_too_soon``."""
    at = now()
    wait = throttle(request).take(user.id, at)
    if wait:
        raise AppError(
            429,
            "export_too_soon",
            _("You downloaded your data a moment ago. Try again in %(n)d seconds.") % {"n": wait},
            extra={"retry_after": wait},
        )
    data = service.export(uow.session, user, at)
    name = rules.export_filename(at.date())
    return Response(
        orjson.dumps(data, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


@router.get("/me/export")
def export_me(request: Request, user: CurrentUser, uow: Uow) -> Response:
    """Download my data: profile, memberships and per brand the person's tickets (their own
    fields unmasked, non-internal messages), ratings, posts, comments, votes cast, points,
    redemptions and notifications. Once a minute (429 ``export_too_soon``)."""
    return export_response(request, uow, user)


class EraseMeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=1024)


class ErasedOut(BaseModel):
    user_id: int
    tickets_erased: int


def confirm_password(request: Request, uow: UnitOfWork, user: User, password: str) -> None:
    """The account's password, checked with the sign-in back-off (guesses count)."""
    settings = get_settings(request)
    outcome = identity.authenticate(
        uow, user.email, password, now(), settings.password_hash_profile
    )
    if outcome.user is not None and outcome.user.id == user.id:
        return
    uow.rollback()
    if outcome.retry_after:
        raise AppError(
            429,
            "login_locked",
            _("Too many failed sign-ins for this address. Try again in %(n)d seconds.")
            % {"n": outcome.retry_after},
            extra={"retry_after": outcome.retry_after},
        )
    raise invalid(
        "password",
        _("The password is wrong. Enter the password you sign in with to delete your account."),
        "wrong_password",
    )


@router.post("/me/erase", response_model=ErasedOut)
def erase_me(body: EraseMeIn, request: Request, user: CurrentUser, uow: Uow) -> ErasedOut:
    """Delete my account (anonymised in place); confirm with the password. 409
    ``open_work`` while the person works on claimed tickets, ``last_brand_admin`` while they
    are a brand's only brand admin."""
    confirm_password(request, uow, user, body.password)
    erased = service.erase_account(uow, user, user, now(), self_service=True)
    uow.commit()
    return ErasedOut(user_id=user.id, tickets_erased=erased)


@router.post("/users/{user_id}/erase", response_model=ErasedOut)
def erase_user(user_id: int, user: CurrentUser, uow: Uow) -> ErasedOut:
    """A platform administrator deletes an account on the person's request."""
    service.check_erasable_by(user)
    target = service.find_user(uow.session, user_id)
    erased = service.erase_account(uow, target, user, now(), self_service=target.id == user.id)
    uow.commit()
    return ErasedOut(user_id=user_id, tickets_erased=erased)


@router.post("/brands/{slug}/customers/{user_id}/erase", response_model=ErasedOut)
def erase_customer(slug: str, user_id: int, user: CurrentUser, uow: Uow) -> ErasedOut:
    """A brand admin (or a platform administrator) erases a customer's data in the brand's
    tickets on the customer's request; the account itself stays."""
    ctx = access_brand(uow.session, slug, user, "members.manage")
    erased = service.erase_customer(uow, ctx, user_id, now())
    uow.commit()
    return ErasedOut(user_id=user_id, tickets_erased=erased)


class ErasureBrandOut(BaseModel):
    brand: str
    tickets_erased: int


class ErasureOut(BaseModel):
    id: int
    user_id: int
    actor_id: int
    actor_role: str
    scope: str
    tickets_erased: int
    at: datetime


class PlatformErasureOut(ErasureOut):
    brands: list[ErasureBrandOut]


class ErasurePage(BaseModel):
    items: list[ErasureOut]
    next_cursor: str | None


class PlatformErasurePage(BaseModel):
    items: list[PlatformErasureOut]
    next_cursor: str | None


@router.get("/erasures", response_model=PlatformErasurePage)
def list_erasures(
    user: CurrentUser,
    uow: Uow,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> PlatformErasurePage:
    """Every erasure, newest first (platform administrators)."""
    if not user.is_platform_admin:
        raise AppError(
            403,
            "platform_admin_required",
            _("Only a platform administrator can read the erasures of every brand."),
        )
    page = service.list_erasures(uow.session, cursor, limit)
    return PlatformErasurePage(
        items=[PlatformErasureOut(**item) for item in page.items], next_cursor=page.next_cursor
    )


@router.get("/brands/{slug}/erasures", response_model=ErasurePage)
def list_brand_erasures(
    slug: str,
    user: CurrentUser,
    uow: Uow,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ErasurePage:
    """The erasures that touched this brand, newest first (its brand admins)."""
    ctx = access_brand(uow.session, slug, user, "members.manage")
    page = service.list_brand_erasures(uow.session, ctx, cursor, limit)
    return ErasurePage(
        items=[ErasureOut(**item) for item in page.items], next_cursor=page.next_cursor
    )
