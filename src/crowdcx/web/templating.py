"""Jinja2 templates with Babel translations bound per render, and role-based navigation.

Each capability registers its navigation entries (label, URL pattern, required permission);
the layout shows the entries the viewer's roles allow in the brand being viewed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_interval
from babel.numbers import format_decimal
from babel.units import format_unit
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import HTMLResponse

from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import (
    N_,
    current_locale,
    format_money,
    gettext,
    label_separator,
    list_separator,
    ngettext,
    percent_text,
)
from crowdcx.kernel.language import LOCALE_NAMES, LOCALES
from crowdcx.kernel.money import Money
from crowdcx.privacy.rules import DELETED_NAME
from crowdcx.tenancy.service import BrandContext
from crowdcx.web.redirects import register_url, return_path, sign_in_url

TEMPLATE_DIRS = [Path(__file__).resolve().parent / "templates"]


@dataclass(frozen=True)
class NavItem:
    label: str  # an English msgid, translated at render time
    path: str  # relative to the brand, e.g. "admin/members"
    permission: str = "brand.view"
    signed_in: bool = True
    roles: frozenset[str] = frozenset()  # when set, only viewers holding one of these roles
    # An API path relative to the brand ("notifications/unread") answering {"count": n}: the
    # page shows n beside the entry (fetched after the page loads, so no page waits for it).
    count: str = ""
    order: int = 0  # entries of a higher order come after (whatever the import order)


class NavLink(NamedTuple):
    label: str
    href: str
    count_src: str  # "" when the entry shows no count


NAV: list[NavItem] = []


def register_nav(item: NavItem) -> None:
    if item not in NAV:
        NAV.append(item)
        NAV.sort(key=lambda i: i.order)  # stable: the same order keeps registration order


def nav_for(ctx: BrandContext | None) -> list[NavLink]:
    if ctx is None:
        return []
    items = []
    for item in NAV:
        if item.signed_in and ctx.user is None:
            continue
        if item.permission and ctx.user is not None and not ctx.can(item.permission):
            continue
        if item.roles and not (item.roles & ctx.roles):
            continue
        count_src = f"/api/v1/brands/{ctx.brand.slug}/{item.count}" if item.count else ""
        items.append(NavLink(item.label, f"/b/{ctx.brand.slug}/{item.path}", count_src))
    return items


def _babel_locale() -> str:
    return current_locale().replace("-", "_")


def format_duration(seconds: float | None) -> str:
    """Seconds as the reader writes a duration: "45 мин", "2.3 小时", "1.5 days"; "–" if none."""
    if seconds is None:
        return "–"
    if seconds < 60:
        value, unit = seconds, "duration-second"
    elif seconds < 3600:
        value, unit = seconds / 60, "duration-minute"
    elif seconds < 2 * 86400:
        value, unit = seconds / 3600, "duration-hour"
    else:
        value, unit = seconds / 86400, "duration-day"
    return str(format_unit(round(value, 1), unit, length="short", locale=_babel_locale(),
                           format="#,##0.#"))  # fmt: skip


def format_share(rate: float | None) -> str:
    """A share 0–1 as a percentage in the reader's locale ("87,3 %" in Russian); "–" if none."""
    if rate is None:
        return "–"
    # Rounded to what is shown first, so a tiny negative share reads "0 %", not "-0 %" (a
    # flat brand's trend of −0.00003 a week read "每週 -0%").
    shown = round(rate, 3) + 0.0
    return percent_text(shown)


def format_days(first: date, last: date) -> str:
    """A run of calendar days as the reader writes it: "Dec 1 – 7, 2026", "1–7 дек. 2026 г.",
    "2026年12月1日至7日"."""
    return str(format_interval(first, last, "yMMMd", locale=_babel_locale()))


def format_decimal_1(value: float | None) -> str:
    """A number with one decimal in the reader's locale ("0,5" in Russian); "–" if none."""
    if value is None:
        return "–"
    return str(format_decimal(round(value, 1), locale=_babel_locale(), format="#,##0.0"))


def format_decimal_2(value: float | None) -> str:
    """A number with two decimals in the reader's locale ("4,21" in Russian); "–" if none."""
    if value is None:
        return "–"
    return str(format_decimal(round(value, 2), locale=_babel_locale(), format="#,##0.00"))


def brand_zone(brand: Any) -> tzinfo:
    """The brand's time zone (its settings' IANA name), UTC without a brand or a known name."""
    name = str((getattr(brand, "settings", None) or {}).get("timezone") or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_moment(moment: date | None, pattern: str, zone: tzinfo) -> str:
    """A stored moment (aware, UTC) as the wall-clock time in ``zone``; a naive value is
    already a wall-clock time and is shown as it is; "–" if none."""
    if moment is None:
        return "–"
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.strftime(pattern)


@pass_context
def _local_time(context: Context, moment: date | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """``{{ t.created_at|local }}``: a moment as the brand's people read it, in the brand's
    time zone (Lumen's Shanghai, Volga's Moscow), not the server's UTC."""
    return format_moment(moment, pattern, brand_zone(context.get("brand")))


def aside(text: object) -> Markup:
    """``{{ _("poor")|aside }}``: a remark in brackets after what it qualifies, as the reader
    writes it — " (poor)" in Russian and English, "（很差）" with full-width brackets and no
    space in Chinese ("1 (很差)" read as foreign punctuation). Text is escaped once: markup
    (a value built with ``~`` in an autoescaped page) is kept as it is."""
    if current_locale().startswith("zh"):
        return Markup("（{}）").format(text)
    return Markup(" ({})").format(text)


# The marker as a message, so the catalogs carry its translation.
assert N_("Deleted user") == DELETED_NAME


def _finalize(value: Any) -> Any:
    """Every ``{{ … }}`` value on its way out: an erased account's name is the marker
    ``DELETED_NAME``, shown in the reader's language wherever a page prints a person's name."""
    if isinstance(value, Money):  # {{ total }}: an amount prints as the reader writes it
        return format_money(value)
    return gettext(DELETED_NAME) if value == DELETED_NAME else value


def make_environment(extra_dirs: list[Path] | None = None) -> Environment:
    env = Environment(
        finalize=_finalize,
        loader=FileSystemLoader([*(extra_dirs or []), *TEMPLATE_DIRS]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # The i18n functions read the request's locale from the context variable the web
    # context middleware sets, so one environment serves every reader.
    env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda minor, currency: format_money(Money(int(minor), str(currency)))
    env.filters["duration"] = format_duration
    env.filters["percent"] = format_share
    env.filters["days"] = format_days
    env.filters["decimal1"] = format_decimal_1
    env.filters["decimal2"] = format_decimal_2
    env.filters["local"] = _local_time
    env.filters["aside"] = aside
    env.globals["LOCALES"] = LOCALES
    env.globals["LOCALE_NAMES"] = LOCALE_NAMES
    env.globals["list_sep"] = list_separator
    env.globals["label_sep"] = label_separator
    return env


class Renderer:
    def __init__(self, env: Environment) -> None:
        self.env = env

    def __call__(
        self, request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
    ) -> HTMLResponse:
        return HTMLResponse(self.render(request, name, context), status_code=status)

    def render(self, request: Request, name: str, context: dict[str, Any] | None = None) -> str:
        locale = getattr(request.state, "locale", "en")
        viewer = getattr(request.state, "viewer", None)
        ctx: BrandContext | None = (context or {}).get("ctx")
        values: dict[str, Any] = {
            "request": request,
            "locale": locale,
            "html_lang": locale,
            "csrf_token": getattr(request.state, "csrf_token", ""),
            "user": viewer.user if viewer else None,
            "nav": nav_for(ctx),
            "brand": ctx.brand if ctx else None,
            "here": return_path(request),
            "sign_in_url": sign_in_url(request),
            "register_url": register_url(request),
        }
        values.update(context or {})
        return self.env.get_template(name).render(values)

    def error_page(self, request: Request, error: AppError) -> HTMLResponse:
        # A refused form's typed text, kept by the CSRF check (deps.verified_form): refused
        # by that check, or by a field's own (validation_failed) before the page could be
        # shown again with it.
        refused = error.code in ("csrf_failed", "validation_failed")
        unsent = getattr(request.state, "unsent", []) if refused else []
        return self(request, "error.html", {"error": error, "unsent": unsent}, status=error.status)


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a template for this request with the app's renderer."""
    renderer: Renderer = request.app.state.render
    return renderer(request, name, context, status)
