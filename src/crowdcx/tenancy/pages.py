"""Brand administration pages: creating a brand (platform administrator), members and their
roles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crowdcx.identity.models import User
from crowdcx.kernel.errors import AppError, forbidden
from crowdcx.kernel.i18n import N_, _
from crowdcx.kernel.language import LOCALES
from crowdcx.tenancy import service
from crowdcx.tenancy.rules import DEFAULT_MEMBERSHIP, ROLES
from crowdcx.tickets import service as tickets_service
from crowdcx.web.deps import CsrfChecked, CurrentUser, Uow, now
from crowdcx.web.labels import role_labels
from crowdcx.web.templating import NavItem, page, register_nav

router = APIRouter(include_in_schema=False)
register_nav(NavItem(N_("Members"), "admin/members", "members.manage"))
register_nav(NavItem(N_("Brand settings"), "admin/brand", "brand.manage"))


def _page(
    request: Request, ctx: service.BrandContext, uow: Uow, cursor: str | None, **extra: object
) -> Response:
    status = int(extra.pop("status", 200))  # type: ignore[call-overload]
    listing = service.list_members(uow.session, ctx, cursor, 50)
    context = {
        "ctx": ctx,
        "page": listing,
        "roles": ROLES,
        "role_names": role_labels(),
        "form": {},
        "errors": {},
        **extra,
    }
    return page(request, "members.html", context, status=status)


@router.get("/b/{slug}/admin/members")
def members(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    cursor: str | None = None,
    added: int = 0,
    changed: int = 0,
    created: int = 0,
    erased: int | None = None,
) -> Response:
    ctx = service.access_brand(uow.session, slug, user, "members.manage")
    message = (
        _(
            "The customer's data is erased from %(n)d of the brand's tickets. Their account "
            "stays: only they or a platform administrator can delete it."
        )
        % {"n": erased}
        if erased is not None and erased >= 0
        else _("Member added.")
        if added
        else _("Roles saved.")
        if changed
        else _("The brand is ready. Make someone its brand admin: add them here by e-mail.")
        if created
        else ""
    )
    return _page(request, ctx, uow, cursor, message=message)


@router.post("/b/{slug}/admin/members", dependencies=[CsrfChecked])
def add_member(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    email: Annotated[str, Form(max_length=320, title=N_("E-mail address"))] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    ctx = service.access_brand(uow.session, slug, user, "members.manage")
    try:
        service.add_member(uow, ctx, email, roles or [])
    except AppError as error:
        uow.rollback()
        form = {"email": email, "roles": roles or []}
        field = error.field or "email"
        return _page(
            request, ctx, uow, None, form=form, errors={field: error.detail}, status=error.status
        )
    uow.commit()
    return RedirectResponse(f"/b/{slug}/admin/members?added=1", status_code=303)


@router.post("/b/{slug}/admin/members/{user_id}", dependencies=[CsrfChecked])
def change_roles(
    slug: str,
    user_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """A member's roles, changed from their row: how a customer who signed up becomes an
    expert, or an admin hands the brand on."""
    ctx = service.access_brand(uow.session, slug, user, "members.manage")
    try:
        service.set_roles(uow, ctx, user_id, roles or [], now())
    except AppError as error:
        uow.rollback()
        return _page(
            request,
            ctx,
            uow,
            None,
            errors={f"roles-{user_id}": error.detail},
            status=error.status,
        )
    uow.commit()
    return RedirectResponse(f"/b/{slug}/admin/members?changed=1", status_code=303)


# Currencies and time zones offered while typing (any ISO 4217 code / IANA zone is taken).
CURRENCY_CHOICES = ("CNY", "TWD", "HKD", "RUB", "USD", "EUR", "KZT", "BYN", "SGD", "MOP")
TIMEZONE_CHOICES = (
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Hong_Kong",
    "Europe/Moscow",
    "Asia/Yekaterinburg",
    "Asia/Novosibirsk",
    "Asia/Vladivostok",
    "UTC",
)


def _require_platform_admin(user: User) -> None:
    if not user.is_platform_admin:
        raise forbidden(
            _("Only a platform administrator can create brands."), "platform_admin_required"
        )


def _brand_form(
    request: Request, form: dict[str, object], errors: dict[str, str], status: int = 200
) -> Response:
    context = {
        "form": form,
        "errors": errors,
        "currencies": CURRENCY_CHOICES,
        "timezones": TIMEZONE_CHOICES,
    }
    return page(request, "brand_new.html", context, status=status)


@router.get("/admin/brands/new")
def new_brand_form(request: Request, user: CurrentUser) -> Response:
    _require_platform_admin(user)
    form: dict[str, object] = {
        "default_locale": user.locale,
        "locales": [user.locale],
        "currency": "",
        "timezone": "",
    }
    return _brand_form(request, form, {})


@router.post("/admin/brands/new", dependencies=[CsrfChecked])
def create_brand(
    request: Request,
    user: CurrentUser,
    uow: Uow,
    slug: Annotated[str, Form(max_length=40, title=N_("Address name"))] = "",
    name: Annotated[str, Form(max_length=120, title=N_("Brand name"))] = "",
    default_locale: Annotated[str, Form(max_length=16)] = "",
    locales: Annotated[list[str] | None, Form()] = None,
    currency: Annotated[str, Form(max_length=8, title=N_("Currency"))] = "",
    timezone: Annotated[str, Form(max_length=64, title=N_("Time zone"))] = "",
) -> Response:
    """What ``POST /api/v1/brands`` and ``crowdcx create-brand`` do, from a form; then on to
    the new brand's members page, where the operator makes someone its brand admin."""
    _require_platform_admin(user)
    chosen = [loc for loc in LOCALES if loc in (locales or [])] + [
        loc for loc in (locales or []) if loc not in LOCALES
    ]
    form: dict[str, object] = {
        "slug": slug,
        "name": name,
        "default_locale": default_locale,
        "locales": chosen,
        "currency": currency,
        "timezone": timezone,
    }
    settings = {
        key: value.strip()
        for key, value in (("currency", currency), ("timezone", timezone))
        if value.strip()
    }
    try:
        brand = service.create_brand(
            uow,
            slug=slug,
            name=name,
            default_locale=default_locale,
            locales=chosen,
            settings=settings,
        )
    except AppError as error:
        uow.rollback()
        field = (error.field or "slug").removeprefix("settings.")
        return _brand_form(request, form, {field: error.detail}, error.status)
    uow.commit()
    request.app.state.brand_locales.forget(brand.slug)
    return RedirectResponse(f"/b/{brand.slug}/admin/members?created=1", status_code=303)


def _settings_page(
    request: Request,
    ctx: service.BrandContext,
    form: dict[str, object],
    errors: dict[str, str],
    status: int = 200,
    message: str = "",
) -> Response:
    context = {
        "ctx": ctx,
        "form": form,
        "errors": errors,
        "message": message,
        "timezones": TIMEZONE_CHOICES,
    }
    return page(request, "brand_settings.html", context, status=status)


@router.get("/b/{slug}/admin/brand")
def brand_settings(
    slug: str, request: Request, user: CurrentUser, uow: Uow, saved: int = 0
) -> Response:
    ctx = service.access_brand(uow.session, slug, user, "brand.manage")
    brand = ctx.brand
    form: dict[str, object] = {
        "name": brand.name,
        "primary_color": brand.settings.get("primary_color", ""),
        "accent_color": brand.settings.get("accent_color", ""),
        "timezone": brand.settings.get("timezone", ""),
        "tagline": dict(brand.settings.get("tagline") or {}),
        "membership": brand.settings.get("membership", DEFAULT_MEMBERSHIP),
        "locales": list(brand.locales),
        "default_locale": brand.default_locale,
    }
    return _settings_page(request, ctx, form, {}, message=_("Saved.") if saved else "")


def _tagline(alias: str | None = None) -> Any:
    """A tagline field: a refusal names it by the fieldset's legend."""
    return Form(alias=alias, max_length=300, title=N_("Tagline on the brand's page, per language"))


@router.post("/b/{slug}/admin/brand", dependencies=[CsrfChecked])
def save_brand_settings(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    name: Annotated[str, Form(max_length=120, title=N_("Brand name"))] = "",
    primary_color: Annotated[str, Form(max_length=7, title=N_("Main colour (#RRGGBB)"))] = "",
    accent_color: Annotated[
        str, Form(max_length=7, title=N_("Light accent colour (#RRGGBB)"))
    ] = "",
    timezone: Annotated[str, Form(max_length=64, title=N_("Time zone"))] = "",
    tagline_zh_hans: Annotated[str, _tagline("tagline_zh-Hans")] = "",
    tagline_zh_hant: Annotated[str, _tagline("tagline_zh-Hant")] = "",
    tagline_ru: Annotated[str, _tagline()] = "",
    tagline_en: Annotated[str, _tagline()] = "",
    membership: Annotated[str, Form(max_length=20)] = "",
    locales: Annotated[list[str] | None, Form()] = None,
    default_locale: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Name, colours, time zone, a tagline per language the brand serves, who may become
    a customer, and the default language."""
    ctx = service.access_brand(uow.session, slug, user, "brand.manage")
    before = list(ctx.brand.locales)
    # The default's box cannot be unticked (a disabled box is not sent): it is always kept,
    # also when another default is chosen (it can be unticked on the next save).
    default = default_locale.strip() or ctx.brand.default_locale
    ticked = [ctx.brand.default_locale, default, *(locales or before)]
    chosen = [loc for loc in LOCALES if loc in ticked]
    typed = {"zh-Hans": tagline_zh_hans, "zh-Hant": tagline_zh_hant, "ru": tagline_ru,
             "en": tagline_en}  # fmt: skip
    tagline = {loc: typed[loc] for loc in chosen if loc in typed}
    form: dict[str, object] = {
        "name": name,
        "primary_color": primary_color.strip(),
        "accent_color": accent_color.strip(),
        "timezone": timezone.strip(),
        "tagline": tagline,
        "membership": membership or ctx.brand.settings.get("membership", DEFAULT_MEMBERSHIP),
        "default_locale": default,
    }
    settings = {
        "primary_color": primary_color.strip(),
        "accent_color": accent_color.strip(),
        "timezone": timezone.strip() or "UTC",
        "tagline": tagline,
        "membership": form["membership"],
    }
    try:
        service.update_brand(
            uow, ctx, name=name, settings=settings, locales=chosen, default_locale=default
        )
        if chosen != before:
            tickets_service.follow_brand_languages(uow, ctx, before, now())
    except AppError as error:
        uow.rollback()
        field = (error.field or "name").removeprefix("settings.")
        return _settings_page(request, ctx, form, {field: error.detail}, error.status)
    uow.commit()
    request.app.state.brand_locales.forget(slug)
    return RedirectResponse(f"/b/{slug}/admin/brand?saved=1", status_code=303)
