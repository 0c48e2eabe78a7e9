"""Brand policy: defaults, validation as data, the unroutable-skill explanation, JSON shape."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from crowdcx.routing.rules import SkillDef
from crowdcx.tickets.policy import (
    DataAccessPolicy,
    TierAccess,
    default_policy,
    policy_from_dict,
    policy_to_dict,
    validate_policy,
)


def codes(policy: object) -> set[str]:
    return {v.code for v in validate_policy(policy)}  # type: ignore[arg-type]


def test_default_policy_is_valid_and_has_the_documented_defaults() -> None:
    p = default_policy()
    assert validate_policy(p) == []
    assert p.offer_timeout_s == 120
    assert p.lifecycle.offer_timeout_s == 120
    assert set(p.languages) == {"zh-Hans", "zh-Hant", "ru", "en"}


def test_unknown_language_and_negative_amount_are_reported() -> None:
    p = default_policy()
    card = replace(p.rate_card, base_minor={**p.rate_card.base_minor, "general": -1})
    bad = replace(p, languages=("zh-Hans", "fr"), rate_card=card)
    found = validate_policy(bad)
    assert {v.code for v in found} == {"language_unknown", "negative_amount"}
    lang = next(v for v in found if v.code == "language_unknown")
    assert lang.param("language") == "fr"
    assert lang.kind == "invalid"


def test_skill_requiring_an_undefined_tier_is_unroutable_with_explanation() -> None:
    p = default_policy()
    access = DataAccessPolicy((TierAccess(0, frozenset({"name"})), TierAccess(1, frozenset())))
    p = replace(p, data_access=access, skills=(SkillDef("vip", required_tier=3),))
    p = replace(p, rate_card=replace(p.rate_card, base_minor={"vip": 100}))
    (v,) = validate_policy(p)
    assert v.code == "skill_unroutable"
    assert "tier 3" in v.message
    assert "up to 1" in v.message
    assert v.param("skill") == "vip"


def test_skill_needing_fields_no_eligible_tier_sees_is_unroutable() -> None:
    p = default_policy()
    skills = (SkillDef("delivery", required_tier=1, needs_fields=frozenset({"address"})),)
    access = DataAccessPolicy(
        (TierAccess(0, frozenset({"address"})), TierAccess(1, frozenset({"name"})))
    )
    ok = replace(
        p,
        skills=skills,
        data_access=access,
        rate_card=replace(p.rate_card, base_minor={"delivery": 300}),
    )
    assert validate_policy(ok) == []  # tier 1 inherits tier 0's address
    hidden = replace(
        ok, data_access=DataAccessPolicy((TierAccess(0, frozenset()), TierAccess(1, frozenset())))
    )
    (v,) = validate_policy(hidden)
    assert v.code == "skill_unroutable"
    assert "address" in v.message


def test_unpriced_skill_and_bad_factors_and_limits() -> None:
    p = default_policy()
    card = replace(
        p.rate_card,
        base_minor={"general": 100, "orders": 100},
        complexity={"normal": Decimal("-1")},
        currency="yen",
    )
    bad = replace(p, rate_card=card, offer_timeout_s=1, max_concurrent=0, max_rings=0)
    assert {
        "skill_unpriced",
        "factor_invalid",
        "currency_invalid",
        "offer_timeout_range",
        "max_concurrent_range",
        "max_rings_range",
    } <= codes(bad)


def test_dict_round_trip_and_partial_update() -> None:
    p = default_policy()
    again = policy_from_dict(policy_to_dict(p))
    assert again == p
    changed = policy_from_dict({"offer_timeout_s": 90, "routing_mode": "pull"}, base=p)
    assert not isinstance(changed, list)
    assert (changed.offer_timeout_s, changed.routing_mode.value) == (90, "pull")
    assert changed.skills == p.skills


def test_malformed_dict_returns_violations_not_exceptions() -> None:
    for body in (
        {"skills": [{"nom": "x"}]},
        {"sla": {"business_hours": {"windows": [{"weekday": 1, "start": "9am", "end": 5}]}}},
        {"routing_mode": "broadcast"},
        {"tiers": "all"},
    ):
        result = policy_from_dict(body)
        assert isinstance(result, list), body
        assert result, body
