"""JSON API for accounts: /api/v1/auth/register, /api/v1/auth/token, /api/v1/me."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from crowdcx.identity import service
from crowdcx.identity.models import User
from crowdcx.identity.schemas import (
    MembershipOut,
    MeOut,
    MeUpdate,
    RegisterIn,
    TokenIn,
    TokenOut,
    UserOut,
)
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import _
from crowdcx.tenancy.service import membership_summary
from crowdcx.web.deps import CurrentUser, Uow, ViewerDep, get_settings, now

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        locale=user.locale,
        is_platform_admin=user.is_platform_admin,
        created_at=user.created_at,
    )


def me_out(uow: UnitOfWork, user: User) -> MeOut:
    memberships = [
        MembershipOut(brand_slug=slug, brand_name=name, roles=roles)
        for slug, name, roles in membership_summary(uow.session, user.id)
    ]
    return MeOut(**user_out(user).model_dump(), memberships=memberships)


@router.post("/auth/register", status_code=201, response_model=UserOut)
def register(body: RegisterIn, uow: Uow, request: Request) -> UserOut:
    settings = get_settings(request)
    user = service.register(
        uow,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        locale=body.locale,
        hash_profile=settings.password_hash_profile,
    )
    uow.commit()
    return user_out(user)


def signed_in_or_raise(uow: UnitOfWork, email: str, password: str, request: Request) -> User:
    settings = get_settings(request)
    outcome = service.authenticate(uow, email, password, now(), settings.password_hash_profile)
    uow.commit()  # the failure count must persist even though we answer with an error
    if outcome.user is not None:
        return outcome.user
    if outcome.retry_after:
        raise AppError(
            429,
            "login_locked",
            _("Too many failed sign-ins for this address. Try again in %(n)d seconds.")
            % {"n": outcome.retry_after},
            extra={"retry_after": outcome.retry_after},
        )
    raise AppError(401, "invalid_credentials", _("The e-mail address or password is wrong."))


@router.post("/auth/token", response_model=TokenOut)
def token(body: TokenIn, uow: Uow, request: Request) -> TokenOut:
    user = signed_in_or_raise(uow, body.email, body.password, request)
    settings = get_settings(request)
    raw, tok = service.issue_token(
        uow, user, "api", timedelta(days=settings.api_token_days), now(), body.name or "API"
    )
    uow.commit()
    return TokenOut(access_token=raw, expires_at=tok.expires_at)


@router.delete("/auth/token", status_code=204)
def revoke(request: Request, viewer: ViewerDep, uow: Uow) -> Response:
    auth = request.headers.get("authorization", "")
    if viewer.via == "api":
        service.revoke_token(uow, auth.partition(" ")[2].strip(), now())
        uow.commit()
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser, uow: Uow) -> MeOut:
    return me_out(uow, user)


@router.patch("/me", response_model=MeOut)
def update_me(body: MeUpdate, user: CurrentUser, uow: Uow) -> MeOut:
    changes = body.model_dump(exclude_unset=True)
    service.update_profile(uow, user, **changes)
    uow.commit()
    return me_out(uow, user)
