"""Pure rules of tenancy: the roles, what each may do, and what a brand must look like."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crowdcx.kernel.money import ISO_4217

Role = Literal["customer", "helper", "expert", "agent", "brand_admin"]
ROLES: Final[tuple[Role, ...]] = ("customer", "helper", "expert", "agent", "brand_admin")

# Permissions by role. A platform administrator holds every permission in every brand.
PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "customer": frozenset({"brand.view", "ticket.create", "question.ask"}),
    "helper": frozenset({"brand.view", "question.ask", "question.answer"}),
    "expert": frozenset({"brand.view", "ticket.work", "question.answer"}),
    "agent": frozenset(
        {"brand.view", "ticket.work", "ticket.staff", "question.answer", "answer.approve"}
    ),
    "brand_admin": frozenset(
        {"brand.view", "brand.manage", "members.manage", "ticket.staff", "answer.approve"}
    ),
}
ALL_PERMISSIONS: Final = frozenset().union(*PERMISSIONS.values())

SLUG_RE: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
RESERVED_SLUGS: Final = frozenset({"admin", "api", "static", "login", "logout", "register", "new"})
HEX_COLOUR_RE: Final = re.compile(r"^#[0-9a-fA-F]{6}$")
CURRENCY_RE: Final = re.compile(r"[A-Z]{3}")  # ISO 4217: three upper-case Latin letters

# Who may become a customer: anyone signed in who asks ("open"), or only the people a brand
# admin adds ("invite_only"). Brands made before the setting existed are open.
Membership = Literal["open", "invite_only"]
MEMBERSHIPS: Final[tuple[Membership, ...]] = ("open", "invite_only")
DEFAULT_MEMBERSHIP: Final[Membership] = "open"


def permissions_of(roles: frozenset[str], platform_admin: bool = False) -> frozenset[str]:
    if platform_admin:
        return ALL_PERMISSIONS
    granted: set[str] = set()
    for role in roles:
        granted |= PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def can(roles: frozenset[str], permission: str, platform_admin: bool = False) -> bool:
    return permission in permissions_of(roles, platform_admin)


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    code: str
    meant: str = ""  # what the person probably meant, when it is known


# What people write for a currency instead of its ISO 4217 code.
CURRENCY_HABITS: Final[dict[str, str]] = {
    "RMB": "CNY",  # renminbi
    "NTD": "TWD",  # New Taiwan dollar
    "NTS": "TWD",
    "RUR": "RUB",  # the rouble before 1998
    "BYR": "BYN",  # the Belarusian rouble before 2016
    "HKT": "HKD",
    "YEN": "JPY",
}


def slug_problem(slug: str) -> Violation | None:
    if not SLUG_RE.match(slug):
        return Violation("slug", "slug_format")
    if slug in RESERVED_SLUGS:
        return Violation("slug", "slug_reserved")
    return None


def locales_problem(
    default_locale: str, locales: list[str], known: tuple[str, ...]
) -> Violation | None:
    unknown = [loc for loc in locales if loc not in known]
    if unknown or default_locale not in known:
        return Violation("locales" if unknown else "default_locale", "locale_unknown")
    if not locales:
        return Violation("locales", "locales_empty")
    if default_locale not in locales:
        return Violation("default_locale", "default_locale_not_enabled")
    if len(set(locales)) != len(locales):
        return Violation("locales", "locales_duplicate")
    return None


def roles_problem(roles: list[str]) -> Violation | None:
    if not roles:
        return Violation("roles", "roles_empty")
    if any(role not in ROLES for role in roles):
        return Violation("roles", "role_unknown")
    return None


def normalize_currency(raw: str) -> str:
    """``" rub"`` → ``"RUB"``: the ledger's Money takes only the upper-case code."""
    return raw.strip().upper() if raw.isascii() else raw


def currency_problem(code: str) -> Violation | None:
    if not CURRENCY_RE.fullmatch(code):
        return Violation("settings.currency", "currency_format")
    if code not in ISO_4217:
        return Violation("settings.currency", "currency_unknown", CURRENCY_HABITS.get(code, ""))
    return None


def is_currency(code: object) -> bool:
    """A current ISO 4217 code, upper-case (what the ledger's Money takes)."""
    return isinstance(code, str) and currency_problem(code) is None


def timezone_problem(name: str) -> Violation | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return Violation("settings.timezone", "timezone_unknown")
    return None


def membership_problem(value: object) -> Violation | None:
    if value not in MEMBERSHIPS:
        return Violation("settings.membership", "membership_unknown")
    return None


def may_join_self(settings: Mapping[str, object]) -> bool:
    """Whether a signed-in person may make themselves the brand's customer."""
    return settings.get("membership", DEFAULT_MEMBERSHIP) == "open"


def languages_change_problem(
    default_locale: str, locales: list[str], known: tuple[str, ...]
) -> Violation | None:
    """A brand's languages as changed by its admin: any known ones, without repeats, always
    with the default (the language of every page nobody chose one for)."""
    if default_locale not in locales and all(loc in known for loc in locales):
        return Violation("locales", "default_locale_removed")
    return locales_problem(default_locale, locales, known)
