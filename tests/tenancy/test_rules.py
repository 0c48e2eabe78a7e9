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


def test_permissions_by_role() -> None:
    assert rules.can(frozenset({"brand_admin"}), "members.manage")
    assert not rules.can(frozenset({"agent", "expert"}), "members.manage")
    assert rules.can(frozenset(), "members.manage", platform_admin=True)
    assert rules.can(frozenset({"expert"}), "ticket.work")
    assert not rules.can(frozenset({"customer"}), "ticket.work")


@given(st.sets(st.sampled_from(rules.ROLES)), st.sets(st.sampled_from(rules.ROLES)))
def test_more_roles_never_mean_fewer_permissions(a: set[str], b: set[str]) -> None:
    assert rules.permissions_of(frozenset(a)) <= rules.permissions_of(frozenset(a | b))
