"""Use cases for brands and memberships, and the access helpers: the only way to brand data.

``access_brand`` resolves a slug for a viewer and returns a :class:`BrandContext`; every
brand-owned query then goes through ``ctx.scoped(...)`` or ``ctx.get(Model, id)``, which add
the brand filter, so another brand's id is a 404, never a leak."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from crowdcx.identity.models import User
from crowdcx.identity.rules import clean_display_name
from crowdcx.identity.service import clean_email
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError, conflict, forbidden, invalid, not_found, unauthenticated
from crowdcx.kernel.i18n import _
from crowdcx.kernel.language import LOCALES, normalize_locale
from crowdcx.kernel.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor
from crowdcx.kernel.text import visible
from crowdcx.tenancy import rules
from crowdcx.tenancy.events import MemberAdded
from crowdcx.tenancy.models import Brand, Membership, MembershipRole

M = TypeVar("M")

DEFAULT_SETTINGS: dict[str, Any] = {
    "primary_color": "#1f4b99",
    "accent_color": "#e8eefb",
    "timezone": "UTC",
    "currency": "USD",
    "tagline": {},
    "membership": rules.DEFAULT_MEMBERSHIP,
}


def violation_error(v: rules.Violation) -> AppError:
    messages = {
        "slug_format": _(
            "Use 1–40 lower-case Latin letters, digits and hyphens for the address name, "
            "starting and ending with a letter or digit."
        ),
        "slug_reserved": _("This address name is reserved; choose another."),
        "locale_unknown": _("Unknown language; choose from: %(choices)s.")
        % {"choices": ", ".join(LOCALES)},
        "locales_empty": _("Enable at least one language."),
        "default_locale_not_enabled": _(
            "The default language must be one of the enabled languages."
        ),
        "locales_duplicate": _("A language is listed twice."),
        "roles_empty": _("Give the member at least one role."),
        "role_unknown": _("Unknown role; choose from: %(choices)s.")
        % {"choices": ", ".join(rules.ROLES)},
        "currency_format": _(
            "Give the currency as its three-letter ISO 4217 code, e.g. CNY, TWD, RUB or USD."
        ),
        "timezone_unknown": _("Unknown time zone; use an IANA name such as Asia/Shanghai."),
        "default_locale_removed": _(
            "The default language cannot be removed: it is the language of every page nobody "
            "chose one for."
        ),
        "membership_unknown": _(
            "Choose who may become a customer: “open” (anyone who signs up) or “invite_only” "
            "(only people a brand admin adds)."
        ),
    }
    return invalid(v.field, messages[v.code], v.code)


@dataclass(frozen=True)
class BrandContext:
    """A brand as seen by one viewer: the choke point for brand-owned reads."""

    brand: Brand
    user: User | None
    roles: frozenset[str]

    @property
    def is_platform_admin(self) -> bool:
        return bool(self.user and self.user.is_platform_admin)

    def can(self, permission: str) -> bool:
        return rules.can(self.roles, permission, self.is_platform_admin)

    def require(self, permission: str) -> None:
        if self.user is None:
            raise unauthenticated()
        if not self.can(permission):
            raise forbidden(
                _("Your roles in %(brand)s do not allow this.") % {"brand": self.brand.name},
                "role_required",
            )

    def scoped(self, model: type[M], stmt: Any = None) -> Any:
        stmt = stmt if stmt is not None else select(model)
        return stmt.where(model.brand_id == self.brand.id)  # type: ignore[attr-defined]

    def get(self, session: Session, model: type[M], ident: int, detail: str) -> M:
        obj = session.get(model, ident)
        if obj is None or obj.brand_id != self.brand.id:  # type: ignore[attr-defined]
            raise not_found(detail)
        return obj


def get_brand(session: Session, slug: str) -> Brand:
    brand: Brand | None = session.scalar(_brand_by_slug(), {"slug": slug})
    if brand is None:
        raise not_found(_("There is no brand “%(slug)s”.") % {"slug": slug}, "brand_not_found")
    return brand


def roles_in(session: Session, user: User | None, brand_id: int) -> frozenset[str]:
    if user is None:
        return frozenset()
    rows = session.scalars(
        select(MembershipRole.role)
        .join(Membership, Membership.id == MembershipRole.membership_id)
        .where(Membership.brand_id == brand_id, Membership.user_id == user.id)
    )
    return frozenset(rows)


# Every brand request runs one of these: built once (building a statement and its cache key
# costs more than running it on SQLite).
@cache
def _brand_by_slug() -> Any:
    return select(Brand).where(Brand.slug == bindparam("slug"))


@cache
def _brand_and_roles() -> Any:
    return (
        select(Brand, MembershipRole.role)
        .outerjoin(
            Membership,
            (Membership.brand_id == Brand.id) & (Membership.user_id == bindparam("user")),
        )
        .outerjoin(MembershipRole, MembershipRole.membership_id == Membership.id)
        .where(Brand.slug == bindparam("slug"))
    )


def access_brand(
    session: Session, slug: str, user: User | None, permission: str = ""
) -> BrandContext:
    if user is None:
        brand, roles = get_brand(session, slug), frozenset[str]()
    else:
        # The brand and the viewer's roles in it in one query: every brand request asks.
        rows = session.execute(_brand_and_roles(), {"slug": slug, "user": user.id}).all()
        if not rows:
            get_brand(session, slug)  # raises the brand's 404
        brand = rows[0][0]
        roles = frozenset(role for _brand, role in rows if role is not None)
    ctx = BrandContext(brand, user, roles)
    if permission:
        ctx.require(permission)
    return ctx


def create_brand(
    uow: UnitOfWork,
    *,
    slug: str,
    name: str,
    default_locale: str,
    locales: Sequence[str],
    settings: dict[str, Any] | None = None,
) -> Brand:
    slug = slug.strip().lower()
    name = clean_name(name)
    # zh_TW, ru-RU, en-US …: the spellings people and browsers use (an unknown one stays as
    # typed and is refused by name).
    default_locale = normalize_locale(default_locale) or default_locale
    locales = [normalize_locale(loc) or loc for loc in locales]
    if not name:
        raise invalid("name", _("Enter the brand's name."), "required")
    for problem in (
        rules.slug_problem(slug),
        rules.locales_problem(default_locale, list(locales), LOCALES),
    ):
        if problem is not None:
            raise violation_error(problem)
    merged = checked_settings({**DEFAULT_SETTINGS, **(settings or {})})
    session = uow.session
    if session.scalar(select(Brand.id).where(Brand.slug == slug)) is not None:
        raise _slug_taken()
    brand = Brand(
        slug=slug, name=name, default_locale=default_locale, locales=list(locales), settings=merged
    )
    session.add(brand)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise _slug_taken() from None
    return brand


EDITABLE_SETTINGS = frozenset(
    {"primary_color", "accent_color", "timezone", "tagline", "membership"}
)


def update_brand(
    uow: UnitOfWork,
    ctx: BrandContext,
    *,
    name: str | None,
    settings: dict[str, Any],
    locales: Sequence[str] | None = None,
    default_locale: str | None = None,
) -> Brand:
    """A brand admin changes the brand's name and look (colours, tagline per language, time
    zone), who may become a customer (``membership``), the languages it serves
    (``locales``: add any, remove any but the default; a tagline in a removed language goes
    with it) and its default language (``default_locale``: one it serves after the change).
    The ticket policy follows the languages in :func:`tickets.service.follow_brand_languages`,
    which the edges call. The currency is not among them: tickets, earnings and rewards are
    booked in it."""
    ctx.require("brand.manage")
    unknown = sorted(set(settings) - EDITABLE_SETTINGS)
    if unknown:
        raise invalid(
            f"settings.{unknown[0]}",
            _("This setting cannot be changed once the brand exists."),
            "setting_fixed",
        )
    brand = ctx.brand
    if name is not None:
        cleaned = clean_name(name)
        if not cleaned:
            raise invalid("name", _("Enter the brand's name."), "required")
        brand.name = cleaned
    if locales is not None or default_locale is not None:
        wanted = [normalize_locale(loc) or loc for loc in (locales or brand.locales)]
        default = (
            brand.default_locale
            if default_locale is None
            else normalize_locale(default_locale) or default_locale
        )
        problem = (  # a new default must be served; the kept one cannot be dropped
            rules.locales_problem(default, wanted, LOCALES)
            if default != brand.default_locale
            else rules.languages_change_problem(default, wanted, LOCALES)
        )
        if problem is not None:
            raise violation_error(problem)
        brand.locales, brand.default_locale = wanted, default
    if "tagline" in settings or locales is not None:
        tagline = settings["tagline"] if "tagline" in settings else brand.settings.get("tagline")
        tagline = {loc: text for loc, text in (tagline or {}).items() if loc in brand.locales}
        settings = {
            **settings,
            "tagline": {loc: text.strip() for loc, text in tagline.items() if str(text).strip()},
        }
    brand.settings = checked_settings({**DEFAULT_SETTINGS, **brand.settings, **settings})
    uow.session.flush()
    return brand


def clean_name(value: str) -> str:
    """A brand's or community's name as stored: cleaned as people's names are
    (:func:`identity.rules.clean_display_name`: composed, no zero-width or bidi controls),
    or a 422 ``blank_name`` when nothing visible is left of what was typed."""
    cleaned = clean_display_name(value)
    if value.strip() and not visible(cleaned):
        raise invalid(
            "name",
            _("This name has no visible characters; enter the name people will see."),
            "blank_name",
        )
    return cleaned


def checked_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A brand's settings as stored, or the 422 naming the first bad one: colours #RRGGBB, a
    known time zone, an ISO 4217 currency (``rub`` is stored ``RUB``: tickets are priced and
    paid in it, and the ledger takes only the upper-case code)."""
    out = {**settings, "currency": rules.normalize_currency(str(settings["currency"]))}
    for key in ("primary_color", "accent_color"):
        if not rules.HEX_COLOUR_RE.match(str(out[key])):
            raise invalid(
                f"settings.{key}",
                _("Colours are written as #RRGGBB, e.g. #1f4b99."),
                "colour_format",
            )
    for problem in (
        rules.timezone_problem(str(out["timezone"])),
        rules.currency_problem(out["currency"]),
        rules.membership_problem(out["membership"]),
    ):
        if problem is not None and problem.code == "currency_unknown":
            typed = {"typed": out["currency"], "code": problem.meant}
            raise invalid(
                problem.field,
                _("“%(typed)s” is not an ISO 4217 currency code; write %(code)s.") % typed
                if problem.meant
                else _(
                    "“%(typed)s” is no currency in ISO 4217; give its three-letter code, "
                    "e.g. CNY, TWD, RUB or USD."
                )
                % typed,
                problem.code,
            )
        if problem is not None:
            raise violation_error(problem)
    return out


def _slug_taken() -> AppError:
    error = conflict("slug_taken", _("Another brand already uses this address name."))
    error.field = "slug"
    return error


def list_brands(session: Session, cursor: str | None, limit: int) -> Page[Brand]:
    after = decode_cursor(cursor)
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = select(Brand).order_by(Brand.id).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(Brand.id > after)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more else None)


def add_member(uow: UnitOfWork, ctx: BrandContext, email: str, roles: Iterable[str]) -> Membership:
    role_list = sorted(set(roles))
    problem = rules.roles_problem(role_list)
    if problem is not None:
        raise violation_error(problem)
    session = uow.session
    address = clean_email(email)  # a typo is a typo, not "ask the person to register"
    user = session.scalar(select(User).where(User.email == address))
    if user is None:
        raise AppError(
            404,
            "user_not_found",
            _("No account uses this e-mail address; ask the person to register first."),
            field="email",
        )
    existing = session.scalar(
        select(Membership).where(Membership.brand_id == ctx.brand.id, Membership.user_id == user.id)
    )
    if existing is not None:
        raise conflict(
            "membership_exists",
            _("This person is already a member of the brand; change their roles instead."),
        )
    membership = Membership(brand_id=ctx.brand.id, user_id=user.id)
    membership.roles = [MembershipRole(brand_id=ctx.brand.id, role=r) for r in role_list]
    session.add(membership)
    session.flush()
    uow.publish(
        MemberAdded(ctx.brand.id, ctx.brand.slug, ctx.brand.name, user.id, tuple(role_list))
    )
    return membership


def join_as_customer(uow: UnitOfWork, ctx: BrandContext) -> tuple[Membership, bool]:
    """A signed-in person makes themselves the brand's customer: the way a customer who signs
    up gets in, since only a brand admin can hand out any other role. A member keeps the roles
    they have. An invite-only brand refuses anyone else (403 ``brand_invite_only``): a brand
    admin adds its customers. Returns the membership and whether it is new."""
    if ctx.user is None:
        raise unauthenticated()
    session = uow.session
    mine = (
        ctx.scoped(Membership)
        .where(Membership.user_id == ctx.user.id)
        .options(selectinload(Membership.roles))
    )
    existing: Membership | None = session.scalar(mine)
    if existing is not None:
        return existing, False
    if not rules.may_join_self(ctx.brand.settings):
        raise invite_only_error(ctx.brand.name)
    membership = Membership(brand_id=ctx.brand.id, user_id=ctx.user.id)
    membership.roles = [MembershipRole(brand_id=ctx.brand.id, role="customer")]
    try:
        with session.begin_nested():  # a double click: the other request made it
            session.add(membership)
    except IntegrityError:
        again: Membership | None = session.scalar(mine)
        if again is None:
            raise
        return again, False
    return membership, True


def invite_only_error(brand: str) -> AppError:
    return forbidden(
        _(
            "%(brand)s takes customers by invitation only. Ask %(brand)s to add you as a "
            "customer, giving them the e-mail address you signed in with."
        )
        % {"brand": brand},
        "brand_invite_only",
    )


def set_roles(
    uow: UnitOfWork, ctx: BrandContext, user_id: int, roles: Iterable[str], now: datetime
) -> Membership:
    """A member's roles become ``roles``. Taking the expert role away puts them offline in
    the brand at ``now`` and moves its roster version on, in this transaction."""
    role_list = sorted(set(roles))
    problem = rules.roles_problem(role_list)
    if problem is not None:
        raise violation_error(problem)
    session = uow.session
    membership: Membership | None = session.scalar(
        ctx.scoped(Membership)
        .where(Membership.user_id == user_id)
        .options(selectinload(Membership.roles))
    )
    if membership is None:
        raise not_found(_("This person is not a member of the brand."), "member_not_found")
    wanted = set(role_list)
    if "brand_admin" in membership.role_names and "brand_admin" not in wanted:
        _keep_an_admin(session, ctx, user_id)
    if "expert" in membership.role_names and "expert" not in wanted:
        # No longer an expert: offline, so the time after does not count as presence, and
        # out of the brand's cached candidate pool (its roster version moves on).
        from crowdcx.tickets import service as tickets  # tickets builds on tenancy

        tickets.take_offline(session, ctx, user_id, now)
    membership.roles = [r for r in membership.roles if r.role in wanted] + [
        MembershipRole(brand_id=ctx.brand.id, role=r)
        for r in role_list
        if r not in membership.role_names
    ]
    session.flush()
    return membership


def _keep_an_admin(session: Session, ctx: BrandContext, leaving: int) -> None:
    """Refuse to take the brand admin role from the brand's last brand admin: nobody but a
    platform admin could manage the brand again. On PostgreSQL the brand row is locked first,
    so two admins demoting each other at once cannot both pass (SQLite: one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Brand.id).where(Brand.id == ctx.brand.id).with_for_update())
    others = session.scalar(
        select(MembershipRole.id)
        .join(Membership, Membership.id == MembershipRole.membership_id)
        .where(
            MembershipRole.brand_id == ctx.brand.id,
            MembershipRole.role == "brand_admin",
            Membership.user_id != leaving,
        )
        .limit(1)
    )
    if others is None:
        raise conflict(
            "last_brand_admin",
            _("A brand needs at least one brand admin: make someone else brand admin first."),
        )


def list_members(
    session: Session, ctx: BrandContext, cursor: str | None, limit: int
) -> Page[tuple[Membership, User]]:
    after = decode_cursor(cursor)
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = (
        ctx.scoped(Membership, select(Membership, User))
        .join(User, User.id == Membership.user_id)
        .options(selectinload(Membership.roles))
        .order_by(Membership.id)
        .limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(Membership.id > after)
    rows = [(m, u) for m, u in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1][0].id) if more else None)


def memberships_of(session: Session, user: User) -> list[tuple[Membership, Brand]]:
    stmt = (
        select(Membership, Brand)
        .join(Brand, Brand.id == Membership.brand_id)
        .where(Membership.user_id == user.id)
        .options(selectinload(Membership.roles))
        .order_by(Brand.name)
    )
    return [(m, b) for m, b in session.execute(stmt)]


def membership_summary(session: Session, user_id: int) -> list[tuple[str, str, list[str]]]:
    """(brand slug, brand name, sorted roles) for a person: one query, no ORM entities —
    this runs on every ``GET /api/v1/me``."""
    rows = session.execute(
        select(Brand.slug, Brand.name, MembershipRole.role)
        .join(Membership, Membership.brand_id == Brand.id)
        .join(MembershipRole, MembershipRole.membership_id == Membership.id)
        .where(Membership.user_id == user_id)
        .order_by(Brand.name, MembershipRole.role)
    )
    summary: dict[str, tuple[str, str, list[str]]] = {}
    for slug, name, role in rows:
        summary.setdefault(slug, (slug, name, []))[2].append(role)
    return list(summary.values())
