"""Brand policy: defaults, validation as data, the unroutable-skill explanation, JSON shape,
and the bounds that keep an accepted policy from breaking intake later."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.payouts.rules import Quote, TimeBand, price_ticket
from crowdcx.quality.rules import DEFAULT_QUALITY, weighted_score
from crowdcx.routing.rules import SkillDef
from crowdcx.tickets.policy import (
    MAX_AMOUNT_MINOR,
    MAX_DURATION_S,
    MAX_PRICE_MINOR,
    MESSAGES,
    DataAccessPolicy,
    TierAccess,
    default_policy,
    highest_price_minor,
    policy_from_dict,
    policy_to_dict,
    validate_policy,
)
from crowdcx.tickets.rules import BusinessHours, Window


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


def problems(body: dict[str, Any]) -> dict[str, str]:
    """field → code of everything wrong with ``body`` over the defaults (shape, then rules)."""
    parsed = policy_from_dict(body)
    found = parsed if isinstance(parsed, list) else validate_policy(parsed)
    return {str(v.field): v.code for v in found}


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("500", "amount_not_integer"),
        (12.5, "amount_not_integer"),
        (500.0, "amount_not_integer"),
        (True, "amount_not_integer"),
        (None, "amount_not_integer"),
        (-1, "negative_amount"),
        (10**30, "amount_too_large"),
        (0, None),
        (MAX_AMOUNT_MINOR, None),
    ],
)
def test_amounts_are_whole_minor_units(amount: object, code: str | None) -> None:
    per_skill = {"general": amount, "orders": 1, "billing": 1}
    if code is None:  # (multipliers of 1: the largest amount times the defaults is too much)
        flat = {"complexity": {}, "language_premium": {}, "time_of_day": []}
        assert problems({"rate_card": {"default_base_minor": amount, **flat}}) == {}
        assert problems({"rate_card": {"base_minor": per_skill, **flat}}) == {}
    else:
        if amount is not None:  # a null default means "none": each skill has its own
            assert problems({"rate_card": {"default_base_minor": amount}}) == {
                "rate_card.default_base_minor": code
            }
        assert problems({"rate_card": {"base_minor": per_skill}}) == {
            "rate_card.base_minor.general": code
        }


def test_an_amount_violation_names_the_field_and_the_skill() -> None:
    card = {"base_minor": {"general": 12.5, "orders": 800, "billing": 1200}}
    parsed = policy_from_dict({"rate_card": card})
    assert not isinstance(parsed, list)
    (v,) = validate_policy(parsed)
    assert (v.code, v.field, v.kind, v.param("skill")) == (
        "amount_not_integer", "rate_card.base_minor.general", "invalid", "general",
    )  # fmt: skip
    assert v.message.startswith("rate_card.base_minor.general must be a whole number")


@pytest.mark.parametrize(
    ("value", "ok"),
    [("1.5", True), (1.5, True), (0, True), ("100", True), ("100.01", False), (-0.1, False),
     ("abc", False), (True, False), (None, False), ("NaN", False), ("Infinity", False),
     ("1e999999", False), ([1], False)],
)  # fmt: skip
def test_multipliers_are_decimals_from_0_to_100(value: object, ok: bool) -> None:
    band = {"start": "22:00", "end": "07:00", "multiplier": value}
    body = {
        "rate_card": {
            "complexity": {"high": value},
            "language_premium": {"ru": value},
            "time_of_day": [band],
        }
    }
    expected = {
        "rate_card.complexity.high": "factor_invalid",
        "rate_card.language_premium.ru": "factor_invalid",
        "rate_card.time_of_day.0.multiplier": "factor_invalid",
    }
    if value == 0:  # a complexity or language at 0 is allowed; a band at 0 pays nothing
        expected = {"rate_card.time_of_day.0.multiplier": "band_not_positive"}
    assert problems(body) == ({} if ok and value != 0 else expected)


BAND = {"start": "22:00", "end": "07:00", "multiplier": "1.25"}


@pytest.mark.parametrize(
    ("second", "overlaps"),
    [
        ({"start": "07:00", "end": "09:00"}, False),  # touches the night band's end
        ({"start": "12:00", "end": "22:00"}, False),  # ends where it starts
        ({"start": "06:00", "end": "08:00"}, True),  # the night band's morning
        ({"start": "23:00", "end": "23:30"}, True),  # inside it
        ({"start": "21:00", "end": "00:00"}, True),  # to midnight
        ({"start": "12:00", "end": "12:00"}, True),  # the whole day
        ({"start": "20:00", "end": "06:00"}, True),  # both wrap past midnight
    ],
)
def test_time_of_day_bands_may_not_overlap(second: dict[str, str], overlaps: bool) -> None:
    bands = [BAND, {**second, "multiplier": "1.1"}]
    expected = {"rate_card.time_of_day.1": "bands_overlap"} if overlaps else {}
    assert problems({"rate_card": {"time_of_day": bands}}) == expected
    parsed = policy_from_dict({"rate_card": {"time_of_day": bands}})
    assert not isinstance(parsed, list)
    if overlaps:
        (v,) = validate_policy(parsed)
        assert (v.param("start"), v.param("end")) == ("22:00", "07:00")


def test_a_skill_name_fits_its_tickets_column() -> None:
    skills = [{"name": "x" * 61}, {"name": "y" * 60}]
    card = {"base_minor": {}, "default_base_minor": 100}
    assert problems({"skills": skills, "rate_card": card}) == {"skills": "skill_name_too_long"}


def test_times_of_day_are_local_wall_clock_without_an_offset() -> None:
    band = {"start": "22:00+08:00", "end": "07:00Z", "multiplier": "1.25"}
    assert problems({"rate_card": {"time_of_day": [band]}}) == {
        "rate_card.time_of_day.0.start": "time_offset",
        "rate_card.time_of_day.0.end": "time_offset",
    }
    mixed = {"weekday": 0, "start": "09:00+08:00", "end": "18:00"}  # aware < naive raised
    hours = {"timezone": "Asia/Shanghai", "windows": [{"weekday": 1, "start": "09:00",
                                                       "end": "18:00"}, mixed]}  # fmt: skip
    assert problems({"sla": {"business_hours": hours}}) == {
        "sla.business_hours.windows.1.start": "time_offset"
    }
    bad = {"start": "9am", "end": "07:00", "multiplier": "1"}
    assert problems({"rate_card": {"time_of_day": [bad]}}) == {
        "rate_card.time_of_day.0.start": "time_invalid"
    }


def test_times_with_an_offset_are_refused_when_built_in_code_too() -> None:
    p = default_policy()
    aware = time(22, tzinfo=timezone(timedelta(hours=8)))
    card = replace(p.rate_card, time_of_day=(TimeBand(aware, time(7), Decimal("1.25")),))
    hours = BusinessHours("Asia/Shanghai", (Window(0, aware, time(23)),))
    bad = replace(p, rate_card=card, sla=replace(p.sla, business_hours=hours))
    assert codes(bad) == {"time_offset"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sla": {"first_response_s": 3600, "resolution_s": 10**12}}, "sla.resolution_s"),
        ({"sla": {"first_response_s": 366 * 86_400, "resolution_s": 400 * 86_400}},
         "sla.first_response_s"),
        ({"auto_close_after_s": 366 * 86_400}, "auto_close_after_s"),
    ],
)  # fmt: skip
def test_durations_are_at_most_a_year(body: dict[str, Any], field: str) -> None:
    parsed = policy_from_dict(body)
    assert not isinstance(parsed, list)
    found = {v.field: v for v in validate_policy(parsed)}
    assert found[field].code == "duration_too_long"
    assert found[field].param("limit") == str(MAX_DURATION_S)
    assert "31536000 seconds (365 days)" in found[field].message
    year = {"sla": {"first_response_s": 3600, "resolution_s": MAX_DURATION_S},
            "auto_close_after_s": MAX_DURATION_S}  # fmt: skip
    assert problems(year) == {}


def test_counts_and_offer_timeout_are_bounded() -> None:
    assert problems({"max_concurrent": 101, "max_rings": 10**9}) == {
        "max_concurrent": "count_too_large",
        "max_rings": "count_too_large",
    }
    assert problems({"offer_timeout_s": 86_400}) == {"offer_timeout_s": "offer_timeout_range"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sla": {"resolution_s": 3600.5}}, "sla.resolution_s"),
        ({"sla": {"first_response_s": "600"}}, "sla.first_response_s"),
        ({"offer_timeout_s": True}, "offer_timeout_s"),
        ({"max_rings": 1e400}, "max_rings"),  # JSON's 1e400 is inf: int() raised OverflowError
        ({"skills": [{"name": "general", "required_tier": 0.5}]}, "skills.0.required_tier"),
        ({"tiers": [{"tier": "0"}]}, "tiers.0.tier"),
        ({"sla": {"business_hours": {"windows": [{"weekday": True, "start": "09:00",
                                                  "end": "17:00"}]}}},
         "sla.business_hours.windows.0.weekday"),
    ],
)  # fmt: skip
def test_whole_numbers_are_json_integers(body: dict[str, Any], field: str) -> None:
    (v,) = policy_from_dict(body)  # type: ignore[misc]
    assert (v.code, v.field) == ("not_integer", field)


def test_currency_is_an_upper_case_iso_code() -> None:
    parsed = policy_from_dict({"rate_card": {"currency": " rub"}})
    assert not isinstance(parsed, list)
    assert parsed.rate_card.currency == "RUB"
    assert validate_policy(parsed) == []
    for bad in ("RUBL", "R1B", "ÄÖÜ", "", 643):
        assert problems({"rate_card": {"currency": bad}}) == {
            "rate_card.currency": "currency_invalid"
        }, bad
    assert default_policy("rub").rate_card.currency == "RUB"  # a brand saved before the check


def test_every_message_template_is_filled_in_from_its_params() -> None:
    bodies: list[dict[str, Any]] = [
        {"rate_card": {"default_base_minor": "1", "currency": "x", "complexity": {"a": "x"},
                       "base_minor": {"general": -1, "orders": 10**12, "billing": 1}}},
        {"rate_card": {"time_of_day": [{"start": "01:00+01:00", "end": "02:00",
                                        "multiplier": 1}]}},
        {"sla": {"resolution_s": 10**9}, "max_rings": 1000},
        {"sla": {"resolution_s": 1.5}},
        {"rate_card": {"time_of_day": [{"start": "x", "end": "2:00", "multiplier": 1}]}},
        {"rate_card": {"base_minor": {"general": 10**9, "orders": 1, "billing": 1}}},
        {"rate_card": {"time_of_day": [{"start": "01:00", "end": "02:00", "multiplier": 0},
                                       {"start": "01:30", "end": "03:00", "multiplier": 1}]}},
        {"skills": [{"name": "z" * 61}], "rate_card": {"default_base_minor": 1}},
        {"quality": []},
        {"quality": {"base_rate": "0.1"}},
        {"quality": {"reopened": "yes"}},
        {"quality": {"newcomer_reviews": -1, "low_csat": 6, "pass_mark": 101,
                     "weights": {"speed": 1}}},
        {"quality": {"weights": {"solved": 0, "accuracy": 0, "tone": 0, "policy": 0}}},
    ]  # fmt: skip
    seen = set()
    for body in bodies:
        parsed = policy_from_dict(body)
        for v in parsed if isinstance(parsed, list) else validate_policy(parsed):
            if v.code in MESSAGES:
                seen.add(v.code)
                assert v.message == MESSAGES[v.code] % dict(v.params)
                assert v.param("field") == v.field
    assert seen == set(MESSAGES)


@given(
    base=st.integers(0, MAX_AMOUNT_MINOR),
    factors=st.lists(st.decimals("0", "100", places=3), min_size=5, max_size=5),
    priority=st.sampled_from(["low", "normal", "high"]),
    language=st.sampled_from(["zh-Hans", "zh-Hant", "ru", "en"]),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_an_accepted_rate_card_never_prices_past_the_limit(
    base: int, factors: list[Decimal], priority: str, language: str, minute: int
) -> None:
    """Whatever a valid card prices a ticket at fits the ticket's price column."""
    low, high, ru, en, night = factors
    parsed = policy_from_dict({"rate_card": {
        "base_minor": {"general": base, "orders": 1, "billing": 1},
        "complexity": {"low": str(low), "high": str(high)},
        "language_premium": {"ru": str(ru), "en": str(en)},
        "time_of_day": [{"start": "22:00", "end": "07:00", "multiplier": str(night)}],
    }})  # fmt: skip
    assert not isinstance(parsed, list)
    at = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=minute)
    quote = price_ticket(parsed.rate_card, "general", priority, language, at)
    assert isinstance(quote, Quote)
    too_much = quote.amount.minor > MAX_PRICE_MINOR
    if too_much:  # refused: for its price, or first for another fault (a band priced at 0)
        codes = {v.code for v in validate_policy(parsed)}
        assert codes, "a card pricing past the limit was accepted"
        assert "price_too_large" in codes or night == 0, codes
    assert highest_price_minor(parsed) >= quote.amount.minor


def test_business_hours_without_a_time_zone_keep_the_brands() -> None:
    """Business hours sent without a time zone were read as UTC: a Shanghai brand's 09–18 ran
    17:00–02:00 local, and every SLA deadline with it."""
    weekdays = [{"weekday": i, "start": "09:00", "end": "18:00"} for i in range(5)]
    shanghai = default_policy("CNY", "Asia/Shanghai")
    parsed = policy_from_dict({"sla": {"business_hours": {"windows": weekdays}}}, shanghai)
    assert not isinstance(parsed, list)
    assert parsed.sla.business_hours is not None
    assert parsed.sla.business_hours.timezone == "Asia/Shanghai"
    # Business hours already in force keep their zone; a zone sent with the rate card is it.
    moscow = replace(shanghai, sla=replace(shanghai.sla, business_hours=BusinessHours(
        "Europe/Moscow", (Window(0, time(9), time(18)),))))  # fmt: skip
    again = policy_from_dict({"sla": {"business_hours": {"windows": weekdays}}}, moscow)
    assert not isinstance(again, list)
    assert again.sla.business_hours is not None
    assert again.sla.business_hours.timezone == "Europe/Moscow"
    body = {
        "rate_card": {"timezone": "Asia/Taipei"},
        "sla": {"business_hours": {"windows": weekdays}},
    }
    both = policy_from_dict(body, shanghai)
    assert not isinstance(both, list)
    assert both.sla.business_hours is not None
    assert both.sla.business_hours.timezone == "Asia/Taipei"


# --------------------------------------------------------------------------------------------
# The "quality" section: review sampling and the scorecard
# --------------------------------------------------------------------------------------------


def test_quality_defaults_are_the_former_constants_and_a_policy_without_them_gets_them() -> None:
    q = default_policy().quality
    assert q == DEFAULT_QUALITY
    assert (q.sampling.base_rate, q.sampling.newcomer_reviews) == (Fraction(1, 10), 5)
    assert (q.sampling.low_csat, q.sampling.reopened) == (2, True)
    assert q.scorecard.pass_mark == 70
    assert {c.code: c.weight for c in q.scorecard.criteria} == {
        "solved": 40, "accuracy": 25, "tone": 15, "policy": 20
    }  # fmt: skip
    stored = policy_to_dict(default_policy())
    assert stored["quality"] == {
        "base_rate": 0.1, "newcomer_reviews": 5, "low_csat": 2, "reopened": True,
        "pass_mark": 70, "weights": {"solved": 40, "accuracy": 25, "tone": 15, "policy": 20},
    }  # fmt: skip
    del stored["quality"]  # a policy saved before quality was part of it
    old = policy_from_dict(stored)
    assert not isinstance(old, list)
    assert old.quality == DEFAULT_QUALITY


def test_quality_round_trip_and_partial_update() -> None:
    body = {"quality": {"base_rate": 1, "newcomer_reviews": 0, "low_csat": None,
                        "reopened": False, "pass_mark": 90, "weights": {"tone": 0}}}  # fmt: skip
    p = policy_from_dict(body)
    assert not isinstance(p, list)
    assert validate_policy(p) == []
    assert p.quality.sampling.base_rate == 1
    assert p.quality.sampling.low_csat is None
    assert p.quality.sampling.reopened is False
    assert p.quality.scorecard.pass_mark == 90
    # Criteria left out of "weights" keep theirs; the order of the scorecard stays.
    assert [(c.code, c.weight) for c in p.quality.scorecard.criteria] == [
        ("solved", 40), ("accuracy", 25), ("tone", 0), ("policy", 20)
    ]  # fmt: skip
    assert policy_from_dict(policy_to_dict(p)) == p
    # Keys left out of "quality" keep the policy's own.
    again = policy_from_dict({"quality": {"pass_mark": 60}}, base=p)
    assert not isinstance(again, list)
    assert again.quality.scorecard.pass_mark == 60
    assert again.quality.sampling == p.quality.sampling
    assert again.quality.scorecard.criteria == p.quality.scorecard.criteria


@pytest.mark.parametrize(
    ("quality", "field", "code"),
    [
        ([], "quality", "quality_not_object"),
        ({"weights": [40, 25, 15, 20]}, "quality.weights", "quality_not_object"),
        ({"base_rate": "0.1"}, "quality.base_rate", "rate_invalid"),
        ({"base_rate": True}, "quality.base_rate", "rate_invalid"),
        ({"base_rate": float("nan")}, "quality.base_rate", "rate_invalid"),
        ({"base_rate": float("inf")}, "quality.base_rate", "rate_invalid"),
        ({"base_rate": 1.01}, "quality.base_rate", "rate_invalid"),
        ({"base_rate": -0.1}, "quality.base_rate", "rate_invalid"),
        ({"newcomer_reviews": 2.5}, "quality.newcomer_reviews", "not_integer"),
        ({"newcomer_reviews": -1}, "quality.newcomer_reviews", "count_negative"),
        ({"newcomer_reviews": 10**6}, "quality.newcomer_reviews", "count_too_large"),
        ({"low_csat": 0}, "quality.low_csat", "csat_invalid"),
        ({"low_csat": 6}, "quality.low_csat", "csat_invalid"),
        ({"low_csat": "2"}, "quality.low_csat", "not_integer"),
        ({"reopened": "false"}, "quality.reopened", "not_boolean"),
        ({"reopened": 1}, "quality.reopened", "not_boolean"),
        ({"pass_mark": 101}, "quality.pass_mark", "pass_mark_invalid"),
        ({"pass_mark": -1}, "quality.pass_mark", "pass_mark_invalid"),
        ({"pass_mark": 70.5}, "quality.pass_mark", "not_integer"),
        ({"weights": {"speed": 10}}, "quality.weights.speed", "criterion_unknown"),
        ({"weights": {"tone": -1}}, "quality.weights.tone", "count_negative"),
        ({"weights": {"tone": 10**6}}, "quality.weights.tone", "count_too_large"),
        ({"weights": {"tone": "15"}}, "quality.weights.tone", "not_integer"),
        ({"weights": {"solved": 0, "accuracy": 0, "tone": 0, "policy": 0}},
         "quality.weights", "weights_zero"),
    ],
)  # fmt: skip
def test_each_quality_problem_names_its_field(quality: object, field: str, code: str) -> None:
    assert problems({"quality": quality}) == {field: code}


def test_the_quality_limits_themselves_are_accepted() -> None:
    for quality in (
        {"base_rate": 0, "newcomer_reviews": 0, "low_csat": 1, "pass_mark": 0},
        {"base_rate": 1.0, "newcomer_reviews": 1000, "low_csat": 5, "pass_mark": 100},
        {"weights": {"solved": 1000, "accuracy": 0, "tone": 0, "policy": 0}},
    ):
        assert problems({"quality": quality}) == {}, quality


@given(
    rate=st.floats(0, 1),
    newcomer=st.integers(0, 1000),
    low_csat=st.none() | st.integers(1, 5),
    reopened=st.booleans(),
    pass_mark=st.integers(0, 100),
    weights=st.lists(st.integers(0, 1000), min_size=4, max_size=4).filter(any),
    scores=st.lists(st.integers(1, 5), min_size=4, max_size=4),
)
def test_an_accepted_quality_section_round_trips_and_scores_0_to_100(
    rate: float,
    newcomer: int,
    low_csat: int | None,
    reopened: bool,
    pass_mark: int,
    weights: list[int],
    scores: list[int],
) -> None:
    codes_ = ("solved", "accuracy", "tone", "policy")
    body = {"quality": {"base_rate": rate, "newcomer_reviews": newcomer, "low_csat": low_csat,
                        "reopened": reopened, "pass_mark": pass_mark,
                        "weights": dict(zip(codes_, weights, strict=True))}}  # fmt: skip
    parsed = policy_from_dict(body)
    assert not isinstance(parsed, list)
    assert validate_policy(parsed) == []
    stored = policy_to_dict(parsed)
    assert stored["quality"] == body["quality"]
    assert policy_from_dict(stored) == parsed
    card = parsed.quality.scorecard
    assert 0 <= weighted_score(card, dict(zip(codes_, scores, strict=True))) <= 100


@pytest.mark.parametrize(
    ("currency", "general"),
    [("CNY", 500), ("USD", 500), ("rub", 5000), ("TWD", 2500), ("INR", 5000), ("KRW", 5000),
     ("EUR", 500)],
)  # fmt: skip
def test_a_new_brand_starts_at_round_sums_worth_paying_in_its_currency(
    currency: str, general: int
) -> None:
    """5.00 in every currency paid a rouble brand's experts 5 ₽ (a twentieth of a dollar) a
    ticket: currencies whose unit is worth a few cents start at multiples of it."""
    card = default_policy(currency).rate_card
    assert card.base_minor["general"] == general
    assert card.base_minor["orders"] * 5 == general * 8  # the three skills keep their ratio
    assert card.base_minor["billing"] * 5 == general * 12
    assert validate_policy(default_policy(currency)) == []
