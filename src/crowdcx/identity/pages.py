"""Sign-in, registration, sign-out and the account page (profile and API tokens)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crowdcx.identity import service
from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import N_, _, use_locale
from crowdcx.web.context import LOCALE_COOKIE, SESSION_COOKIE
from crowdcx.web.deps import CsrfChecked, CurrentUser, Uow, ViewerDep, get_settings, now
from crowdcx.web.redirects import safe_next, with_next
from crowdcx.web.templating import page

router = APIRouter(include_in_schema=False)


def _sign_in_response(request: Request, uow: UnitOfWork, user: User, target: str) -> Response:
    settings = get_settings(request)
    raw, _token = service.issue_token(
        uow, user, "session", timedelta(days=settings.session_days), now()
    )
    uow.commit()
    response = RedirectResponse(safe_next(target), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    # The person's language preference follows them to this browser.
    response.set_cookie(LOCALE_COOKIE, user.locale, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/login")
def login_page(request: Request, viewer: ViewerDep, next: str = "/") -> Response:
    target = safe_next(next)
    context = {"next": target, "email": "", "errors": {}, **_detours(target)}
    return page(request, "login.html", context)


def _detours(target: str) -> dict[str, str]:
    """The links between the sign-in and sign-up pages, keeping where to go afterwards."""
    return {
        "login_link": with_next("/login", target),
        "register_link": with_next("/register", target),
    }


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    uow: Uow,
    email: Annotated[str, Form(max_length=1024, title=N_("E-mail address"))] = "",
    password: Annotated[str, Form(max_length=1024, title=N_("Password"))] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    settings = get_settings(request)
    missing = _missing_sign_in_fields(email, password)
    if missing:  # nothing to check yet: say what to fill in, and count no failed attempt
        return page(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "email": email,
                "errors": missing,
                "message": _first_message(missing),
                **_detours(safe_next(next)),
            },
            status=422,
        )
    outcome = service.authenticate(uow, email, password, now(), settings.password_hash_profile)
    uow.commit()
    if outcome.user is not None:
        return _sign_in_response(request, uow, outcome.user, next)
    if outcome.retry_after:
        message = _("Too many failed sign-ins for this address. Try again in %(n)d seconds.") % {
            "n": outcome.retry_after
        }
        status = 429
    else:
        message = _("The e-mail address or password is wrong.")
        status = 401
    return page(
        request,
        "login.html",
        {
            "next": safe_next(next),
            "email": email,
            "errors": {},
            "message": message,
            **_detours(safe_next(next)),
        },
        status=status,
    )


def _missing_sign_in_fields(email: str, password: str) -> dict[str, str]:
    """The sign-in form's blank fields (field → what to fill in, in the reader's language):
    a blank address is not a wrong one, and saying "wrong" sends the person looking for a
    typo that is not there."""
    missing: dict[str, str] = {}
    if not email.strip():
        missing["email"] = _("Enter your e-mail address.")
    if not password:
        missing["password"] = _("Enter your password.")
    return missing


def _first_message(messages: dict[str, str]) -> str:
    """The first message, for the alert at the top of the form."""
    return next(iter(messages.values()))


@router.get("/register")
def register_page(request: Request, viewer: ViewerDep, next: str = "/") -> Response:
    target = safe_next(next)
    context = {"form": {}, "errors": {}, "next": target, **_detours(target)}
    return page(request, "register.html", context)


@router.post("/register", dependencies=[CsrfChecked])
def register(
    request: Request,
    uow: Uow,
    email: Annotated[str, Form(max_length=1024, title=N_("E-mail address"))] = "",
    password: Annotated[str, Form(max_length=1024, title=N_("Password"))] = "",
    display_name: Annotated[str, Form(max_length=1024, title=N_("Your name"))] = "",
    locale: Annotated[str, Form(max_length=16)] = "en",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """A new account, signed in, then on to ``next`` when it is a page of this site (the
    same check as signing in)."""
    settings = get_settings(request)
    target = safe_next(next)
    form = {"email": email, "display_name": display_name, "locale": locale}
    problems = service.registration_problems(
        email=email, password=password, display_name=display_name, locale=locale
    )
    if problems:  # every field's problem at once, not one per attempt
        context = {"form": form, "errors": problems, "next": target, **_detours(target)}
        return page(request, "register.html", context, status=422)
    try:
        user = service.register(
            uow,
            email=email,
            password=password,
            display_name=display_name,
            locale=locale,
            hash_profile=settings.password_hash_profile,
        )
    except AppError as error:
        uow.rollback()
        return page(
            request,
            "register.html",
            {
                "form": form,
                "errors": {error.field or "": error.detail},
                "message": error.detail,
                "next": target,
                **_detours(target),
            },
            status=error.status,
        )
    with use_locale(user.locale):
        return _sign_in_response(request, uow, user, target)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, viewer: ViewerDep, uow: Uow) -> Response:
    if viewer.session_token:
        service.revoke_token(uow, viewer.session_token, now())
        uow.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def account_page(request: Request, uow: UnitOfWork, user: User, **extra: object) -> Response:
    """The account page (privacy.pages shows it again with its refusals)."""
    status = int(extra.pop("status", 200))  # type: ignore[call-overload]
    tokens = service.api_tokens(uow.session, user, now())
    context = {"tokens": tokens, "errors": {}, "delete_errors": {}, **extra}
    return page(request, "account.html", context, status=status)


_account = account_page


@router.get("/account")
def account(request: Request, user: CurrentUser, uow: Uow, saved: int = 0) -> Response:
    return _account(request, uow, user, message=_("Saved.") if saved else "")


@router.post("/account", dependencies=[CsrfChecked])
def update_account(
    request: Request,
    user: CurrentUser,
    uow: Uow,
    display_name: Annotated[str, Form(max_length=80, title=N_("Your name"))] = "",
    locale: Annotated[str, Form(max_length=16)] = "en",
) -> Response:
    try:
        service.update_profile(uow, user, display_name=display_name, locale=locale)
    except AppError as error:
        uow.rollback()
        return _account(
            request, uow, user, errors={error.field or "": error.detail}, status=error.status
        )
    uow.commit()
    response = RedirectResponse("/account?saved=1", status_code=303)
    response.set_cookie(LOCALE_COOKIE, user.locale, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/account/tokens", dependencies=[CsrfChecked])
def create_token(
    request: Request,
    user: CurrentUser,
    uow: Uow,
    name: Annotated[str, Form(max_length=80, title=N_("Token name"))] = "",
) -> Response:
    settings = get_settings(request)
    raw, _tok = service.issue_token(
        uow, user, "api", timedelta(days=settings.api_token_days), now(), name.strip() or "API"
    )
    uow.commit()
    return _account(request, uow, user, new_token=raw)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
def revoke_token(token_id: int, user: CurrentUser, uow: Uow) -> Response:
    service.revoke_api_token(uow, user, token_id, now())
    uow.commit()
    return RedirectResponse("/account", status_code=303)
