from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.kernel.language import LOCALES
from crowdcx.tenancy import rules


def test_slug_rules() -> None:
    assert rules.slug_problem("acme") is None
    assert rules.slug_problem("acme-2") is None
    assert rules.slug_problem("-acme") is not None
    assert rules.slug_problem("Acme") is not None
    assert rules.slug_problem("api") is not None


def test_locales_rules() -> None:
    assert rules.locales_problem("ru", ["ru", "en"], LOCALES) is None
    problem = rules.locales_problem("ru", ["en"], LOCALES)
    assert problem is not None
    assert problem.code == "default_locale_not_enabled"
    dup = rules.locales_problem("ru", ["ru", "ru"], LOCALES)
    assert dup is not None
    assert dup.code == "locales_duplicate"


def test_currency_rules() -> None:
    assert rules.normalize_currency(" rub ") == "RUB"
    assert rules.currency_problem("RUB") is None
    assert rules.currency_problem("rub") is not None  # normalise first
    for typed in ("RU", "RUBL", "R1B", "ÄÖÜ", "ＲＵＢ", "ıno", ""):
        problem = rules.currency_problem(rules.normalize_currency(typed))
        assert problem == rules.Violation("settings.currency", "currency_format"), typed


def test_a_currency_must_be_a_current_iso_4217_code() -> None:
    for code in ("CNY", "TWD", "HKD", "MOP", "RUB", "BYN", "KZT", "USD", "EUR", "JPY", "KWD"):
        assert rules.currency_problem(code) is None, code
    # Shaped like a code, but no currency: the ledger would pay experts in it.
    for typed, meant in (("RMB", "CNY"), ("NTD", "TWD"), ("RUR", "RUB"), ("BYR", "BYN")):
        problem = rules.currency_problem(typed)
        assert problem == rules.Violation("settings.currency", "currency_unknown", meant), typed
    for typed in ("XYZ", "ABC", "XAU", "XXX"):  # made up; gold and "no currency" pay nobody
        assert rules.currency_problem(typed) == rules.Violation(
            "settings.currency", "currency_unknown"
        ), typed


def test_timezone_rules() -> None:
    assert rules.timezone_problem("Asia/Taipei") is None
    for bad in ("Mars/Olympus", "", "../etc/passwd", "UTC\x00"):
        assert rules.timezone_problem(bad) == rules.Violation(
            "settings.timezone", "timezone_unknown"
        )


def test_permissions_by_role() -> None:
    assert rules.can(frozenset({"brand_admin"}), "members.manage")
    assert not rules.can(frozenset({"agent", "expert"}), "members.manage")
    assert rules.can(frozenset(), "members.manage", platform_admin=True)
    assert rules.can(frozenset({"expert"}), "ticket.work")
    assert not rules.can(frozenset({"customer"}), "ticket.work")


@given(st.sets(st.sampled_from(rules.ROLES)), st.sets(st.sampled_from(rules.ROLES)))
def test_more_roles_never_mean_fewer_permissions(a: set[str], b: set[str]) -> None:
    assert rules.permissions_of(frozenset(a)) <= rules.permissions_of(frozenset(a | b))


def test_membership_rules() -> None:
    assert rules.membership_problem("open") is None
    assert rules.membership_problem("invite_only") is None
    for bad in ("", "closed", "Open", "invite-only"):
        assert rules.membership_problem(bad) == rules.Violation(
            "settings.membership", "membership_unknown"
        )
    assert rules.may_join_self({"membership": "open"})
    assert rules.may_join_self({})  # brands made before the setting: open
    assert not rules.may_join_self({"membership": "invite_only"})


def test_languages_change_rules() -> None:
    assert rules.languages_change_problem("ru", ["ru", "en"], LOCALES) is None
    assert rules.languages_change_problem("ru", ["en"], LOCALES) == rules.Violation(
        "locales", "default_locale_removed"
    )
    problem = rules.languages_change_problem("ru", ["ru", "xx"], LOCALES)
    assert problem is not None
    assert problem.code == "locale_unknown"
