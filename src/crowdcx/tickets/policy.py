"""A brand's policy for the inquiry lifecycle, as frozen values, with its validation.

Pure, like the rules: the API turns a JSON body into a :class:`BrandPolicy` with
:func:`policy_from_dict`, asks :func:`validate_policy` for violations (data, mapped to 422),
stores :func:`policy_to_dict`, and hands the frozen object to the rules. A new brand gets
:func:`default_policy`.

The pieces the rules need live with those rules (``SlaPolicy``/``LifecyclePolicy`` in
``tickets.rules``, ``SkillDef``/``RoutingMode`` in ``routing.rules``, ``RateCard`` in
``payouts.rules``, ``QualityPolicy`` — review sampling and scorecard — in ``quality.rules``);
this module composes them and checks them together — e.g. a skill that needs tier 3 when the
brand defines tiers only up to 1 is *unroutable*, and says why.

Everything a policy carries is bounded here, so that an accepted policy never breaks intake or
the sweeper later: amounts are whole minor units up to :data:`MAX_AMOUNT_MINOR`, multipliers
0–:data:`MAX_FACTOR`, durations at most :data:`MAX_DURATION_S`, times of day brand-local wall
clock (no UTC offset), the currency an ISO 4217 code.

Violation messages are English (logs, tests); the catalogs carry the templates of
:data:`MESSAGES`, marked with ``N_``, for the shell to translate by code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crowdcx.kernel.language import LOCALES
from crowdcx.payouts.rules import RateCard, TimeBand
from crowdcx.quality.rules import (
    CRITERIA,
    DEFAULT_QUALITY,
    Criterion,
    QualityPolicy,
    SamplingPolicy,
    Scorecard,
)
from crowdcx.routing.rules import MAX_TIER, RoutingMode, RoutingWeights, SkillDef
from crowdcx.tenancy.rules import is_currency
from crowdcx.tickets.rules import (
    BusinessHours,
    LifecyclePolicy,
    SlaPolicy,
    Violation,
    Window,
)

CUSTOMER_FIELDS: Final[tuple[str, ...]] = ("name", "phone", "email", "order_number", "address")
# The complexities a ticket is priced at (its priority maps to one of them).
COMPLEXITIES: Final[tuple[str, ...]] = ("low", "normal", "high")

MAX_DURATION_S: Final = 365 * 86_400  # SLA targets, auto-close delay: a year at most
MAX_AMOUNT_MINOR: Final = 10**9  # a base amount: 10 000 000.00 in a two-decimal currency
MAX_FACTOR: Final = Decimal(100)  # complexity, language and time-of-day multipliers
MAX_COUNT: Final = 100  # tickets an expert holds at once, experts rung before staff
# The most a ticket's price may be: a ticket keeps its quote in a 32-bit column, so a price
# above this is refused by PostgreSQL at intake (SQLite would take it).
MAX_PRICE_MINOR: Final = 2**31 - 1
MAX_NEWCOMER_REVIEWS: Final = 1000  # an expert's first resolutions all reviewed: at most these
MAX_WEIGHT: Final = 1000  # a scorecard criterion's weight
# A skill's name is stored in each of its tickets (tickets.skill, 60 characters).
MAX_SKILL_NAME: Final = 60


def N_(message: str) -> str:  # noqa: N802 - the gettext marker Babel extracts
    """Mark a message template for the catalogs; this pure module never translates."""
    return message


# Templates of the violations below, by code: the English message is the template filled in
# with the violation's params (which always include ``field``); the shell may translate the
# template and fill in the same params.
MESSAGES: Final[Mapping[str, str]] = {
    "not_integer": N_("%(field)s must be a whole number, e.g. 3600."),
    "amount_not_integer": N_(
        "%(field)s must be a whole number of minor units (cents, fen, kopecks), e.g. 500."
    ),
    "negative_amount": N_("%(field)s cannot be negative."),
    "amount_too_large": N_("%(field)s must be at most %(limit)s minor units."),
    "factor_invalid": N_('%(field)s must be a number from 0 to %(limit)s, e.g. "1.25".'),
    "currency_invalid": N_(
        "%(field)s must be a three-letter ISO 4217 currency code, e.g. CNY, TWD, RUB or USD."
    ),
    "time_invalid": N_("%(field)s must be a time of day written HH:MM, e.g. 09:30."),
    "time_offset": N_(
        "%(field)s must be a local time without a UTC offset, e.g. 22:00; the policy's time "
        "zone applies."
    ),
    "duration_too_long": N_("%(field)s must be at most %(limit)s seconds (%(days)s days)."),
    "count_too_large": N_("%(field)s must be at most %(limit)s."),
    "complexity_unknown": N_(
        "%(field)s: tickets are priced at complexity low, normal or high (their priority "
        "decides: urgent is priced as high); %(key)s is never used."
    ),
    "price_too_large": N_(
        "%(field)s: the highest base amount times the highest multipliers prices a ticket at "
        "%(price)s minor units; a ticket's price can be at most %(limit)s. Lower the base "
        "amount or the multipliers."
    ),
    "quality_not_object": N_(
        '%(field)s must be a JSON object, e.g. {"base_rate": 0.1, "pass_mark": 70}.'
    ),
    "rate_invalid": N_(
        "%(field)s must be a number from 0 to 1: the share of resolutions reviewed at random, "
        "e.g. 0.1 for one in ten."
    ),
    "count_negative": N_("%(field)s cannot be negative."),
    "not_boolean": N_("%(field)s must be true or false (without quotes)."),
    "csat_invalid": N_(
        "%(field)s must be a rating from 1 to 5 (ratings at or below it are reviewed), or null "
        "to review no resolution for its rating."
    ),
    "pass_mark_invalid": N_("%(field)s must be a whole number from 0 to 100, e.g. 70."),
    "criterion_unknown": N_(
        "%(field)s: there is no criterion %(key)s; the scorecard's criteria are %(known)s."
    ),
    "weights_zero": N_(
        "%(field)s: at least one criterion must weigh more than 0, or no review has a score."
    ),
    "skill_name_too_long": N_("%(field)s: a skill's name can be at most %(limit)s characters."),
    "band_not_positive": N_(
        "%(field)s: a time-of-day multiplier must be more than 0 (a band at 0 pays nothing)."
    ),
    "bands_overlap": N_(
        "%(field)s overlaps the band %(start)s–%(end)s: a moment of the day can fall in one "
        "band only."
    ),
}


@dataclass(frozen=True, slots=True)
class TierAccess:
    """Customer fields a tier sees unmasked (higher tiers also see what lower tiers see)."""

    tier: int
    unmasked: frozenset[str]


@dataclass(frozen=True, slots=True)
class DataAccessPolicy:
    tiers: tuple[TierAccess, ...]

    @property
    def defined_tiers(self) -> frozenset[int]:
        return frozenset(t.tier for t in self.tiers)

    def unmasked_for(self, tier: int) -> frozenset[str]:
        """Fields tier ``tier`` sees unmasked: the union over defined tiers ≤ ``tier``."""
        out: set[str] = set()
        for t in self.tiers:
            if t.tier <= tier:
                out |= t.unmasked
        return frozenset(out)


@dataclass(frozen=True, slots=True)
class BrandPolicy:
    languages: tuple[str, ...]
    skills: tuple[SkillDef, ...]
    sla: SlaPolicy
    rate_card: RateCard
    data_access: DataAccessPolicy
    offer_timeout_s: int = 120
    max_concurrent: int = 3
    routing_mode: RoutingMode = RoutingMode.BOTH
    auto_close_after_s: int = 72 * 3600
    max_rings: int = 5
    routing_weights: RoutingWeights = field(default_factory=RoutingWeights)
    quality: QualityPolicy = DEFAULT_QUALITY

    @property
    def lifecycle(self) -> LifecyclePolicy:
        return LifecyclePolicy(self.offer_timeout_s, self.auto_close_after_s, self.max_rings)

    @property
    def skill_map(self) -> dict[str, SkillDef]:
        return {s.name: s for s in self.skills}

    def skill(self, name: str) -> SkillDef | None:
        return next((s for s in self.skills if s.name == name), None)


# --------------------------------------------------------------------------------------------
# Defaults for a new brand
# --------------------------------------------------------------------------------------------


# A new brand pays 5 / 8 / 12 units of its currency per resolved ticket of its three default
# skills (general, orders, billing) — except where a unit is worth a few cents: there 5.00
# paid a Russian expert 5 ₽ (a twentieth of a dollar). Those currencies multiply the amounts
# to round sums of about the same pay or more (50 ₽, NT$25, ₹50, ₩5,000). Every brand sets
# its own in the policy; these are only where it starts.
DEFAULT_BASE_MINOR: Final = (500, 800, 1200)
SMALL_UNIT_FACTOR: Final[Mapping[str, int]] = {
    "RUB": 10, "UAH": 5, "KZT": 100, "TWD": 5, "INR": 10, "TRY": 5, "KRW": 10, "THB": 5,
    "PHP": 10, "IDR": 10_000, "VND": 100,
}  # fmt: skip


def default_policy(
    currency: str = "CNY", timezone: str = "Asia/Shanghai", languages: tuple[str, ...] = LOCALES
) -> BrandPolicy:
    """What a new brand starts with: its own languages, three skills, 4 h / 24 h SLA around
    the clock, tiered access (tier 0 sees only the name, tier 3 everything), push and pull."""
    skills = (
        SkillDef("general"),
        SkillDef("orders", required_tier=1, needs_fields=frozenset({"order_number"})),
        SkillDef(
            "billing",
            requires_certification=True,
            required_tier=2,
            needs_fields=frozenset({"order_number", "email"}),
        ),
    )
    code = currency.strip().upper()  # brands saved "rub" before their currency was checked
    factor = SMALL_UNIT_FACTOR.get(code, 1)
    general, orders, billing = (amount * factor for amount in DEFAULT_BASE_MINOR)
    card = RateCard(
        currency=code,
        base_minor={"general": general, "orders": orders, "billing": billing},
        complexity={"low": Decimal("0.8"), "normal": Decimal(1), "high": Decimal("1.5")},
        language_premium={
            "zh-Hans": Decimal(1),
            "zh-Hant": Decimal("1.1"),
            "ru": Decimal("1.2"),
            "en": Decimal(1),
        },
        time_of_day=(TimeBand(time(22), time(7), Decimal("1.25"), "night"),),
        timezone=timezone,
    )
    access = DataAccessPolicy(
        (
            TierAccess(0, frozenset({"name"})),
            TierAccess(1, frozenset({"order_number"})),
            TierAccess(2, frozenset({"email"})),
            TierAccess(3, frozenset({"phone", "address"})),
        )
    )
    return BrandPolicy(
        languages=tuple(lang for lang in languages if lang in LOCALES) or LOCALES,
        skills=skills,
        sla=SlaPolicy(first_response_s=4 * 3600, resolution_s=24 * 3600),
        rate_card=card,
        data_access=access,
    )


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _v(code: str, message: str, field: str, **params: object) -> Violation:
    return Violation(
        code,
        message,
        field=field,
        kind="invalid",
        params=tuple((k, str(v)) for k, v in params.items()),
    )


def _m(code: str, field: str, **params: object) -> Violation:
    """A violation whose message is :data:`MESSAGES` ``[code]`` filled in with its params."""
    values = {"field": field, **{k: str(v) for k, v in params.items()}}
    return Violation(
        code,
        MESSAGES[code] % values,
        field=field,
        kind="invalid",
        params=tuple(values.items()),
    )


def _amount(value: object, field: str, **params: object) -> list[Violation]:
    """Money is integer minor units (never a float, a string or a bool), 0–MAX_AMOUNT_MINOR."""
    if isinstance(value, bool) or not isinstance(value, int):
        return [_m("amount_not_integer", field, **params)]
    if value < 0:
        return [_m("negative_amount", field, **params)]
    if value > MAX_AMOUNT_MINOR:
        return [_m("amount_too_large", field, limit=MAX_AMOUNT_MINOR, **params)]
    return []


def _duration(value: int, field: str) -> list[Violation]:
    if value > MAX_DURATION_S:
        return [_m("duration_too_long", field, limit=MAX_DURATION_S, days=MAX_DURATION_S // 86_400)]
    return []


def _wall_clock(value: time, field: str) -> list[Violation]:
    return [_m("time_offset", field)] if value.tzinfo is not None else []


def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate_policy(policy: BrandPolicy) -> list[Violation]:
    """Everything wrong with ``policy``, as data (empty list: valid)."""
    found: list[Violation] = []
    found += _check_languages(policy)
    found += _check_skills(policy)
    found += _check_sla(policy.sla)
    found += _check_rate_card(policy)
    found += _check_access(policy)
    found += _check_limits(policy)
    found += _check_routability(policy)
    found += _check_quality(policy.quality)
    return found


def _check_quality(q: QualityPolicy) -> list[Violation]:
    out: list[Violation] = []
    sampling, card = q.sampling, q.scorecard
    if not 0 <= sampling.base_rate <= 1:
        out.append(_m("rate_invalid", "quality.base_rate"))
    if sampling.newcomer_reviews < 0:
        out.append(_m("count_negative", "quality.newcomer_reviews"))
    elif sampling.newcomer_reviews > MAX_NEWCOMER_REVIEWS:
        out.append(_m("count_too_large", "quality.newcomer_reviews", limit=MAX_NEWCOMER_REVIEWS))
    if sampling.low_csat is not None and not 1 <= sampling.low_csat <= 5:
        out.append(_m("csat_invalid", "quality.low_csat"))
    if not isinstance(sampling.reopened, bool):
        out.append(_m("not_boolean", "quality.reopened"))
    if not 0 <= card.pass_mark <= 100:
        out.append(_m("pass_mark_invalid", "quality.pass_mark"))
    known = ", ".join(CRITERIA)
    for c in card.criteria:
        name = f"quality.weights.{c.code}"
        if c.code not in CRITERIA:
            out.append(_m("criterion_unknown", name, key=c.code, known=known))
        elif c.weight < 0:
            out.append(_m("count_negative", name))
        elif c.weight > MAX_WEIGHT:
            out.append(_m("count_too_large", name, limit=MAX_WEIGHT))
    if not any(c.weight > 0 for c in card.criteria if c.code in CRITERIA):
        out.append(_m("weights_zero", "quality.weights"))
    return out


def _check_languages(p: BrandPolicy) -> list[Violation]:
    out = [
        _v(
            "language_unknown",
            f"unknown language {lang!r}; use one of {', '.join(LOCALES)}",
            "languages",
            language=lang,
        )
        for lang in p.languages
        if lang not in LOCALES
    ]
    if not p.languages:
        out.append(_v("languages_empty", "the brand must serve at least one language", "languages"))
    return out


def _check_skills(p: BrandPolicy) -> list[Violation]:
    out: list[Violation] = []
    if not p.skills:
        out.append(_v("skills_empty", "the catalogue needs at least one skill", "skills"))
    seen: set[str] = set()
    for s in p.skills:
        if not s.name.strip():
            out.append(_v("skill_name_empty", "a skill needs a name", "skills"))
        if s.name in seen:
            out.append(
                _v("skill_duplicate", f"skill {s.name!r} is listed twice", "skills", skill=s.name)
            )
        seen.add(s.name)
        if len(s.name) > MAX_SKILL_NAME:
            out.append(_m("skill_name_too_long", "skills", limit=MAX_SKILL_NAME, skill=s.name))
        if not 0 <= s.required_tier <= MAX_TIER:
            out.append(
                _v(
                    "tier_out_of_range",
                    f"skill {s.name!r}: tier must be 0–{MAX_TIER}",
                    "skills",
                    skill=s.name,
                    tier=s.required_tier,
                )
            )
        unknown = sorted(s.needs_fields - set(CUSTOMER_FIELDS))
        if unknown:
            out.append(
                _v(
                    "field_unknown",
                    f"skill {s.name!r} needs unknown fields {unknown}",
                    "skills",
                    skill=s.name,
                )
            )
    return out


def _check_sla(sla: SlaPolicy) -> list[Violation]:
    out: list[Violation] = []
    if sla.first_response_s <= 0 or sla.resolution_s <= 0:
        out.append(_v("sla_not_positive", "SLA targets must be positive", "sla"))
    elif sla.first_response_s > sla.resolution_s:
        out.append(
            _v("sla_order", "the first-response target cannot exceed the resolution target", "sla")
        )
    out += _duration(sla.first_response_s, "sla.first_response_s")
    out += _duration(sla.resolution_s, "sla.resolution_s")
    if not 0 < sla.at_risk_ratio < 1:
        out.append(_v("sla_ratio", "the at-risk ratio must be between 0 and 1", "sla"))
    bh = sla.business_hours
    if bh is not None:
        if not _zone_ok(bh.timezone):
            out.append(_v("timezone_unknown", f"unknown timezone {bh.timezone!r}", "sla"))
        if not bh.windows:
            out.append(_v("business_hours_empty", "business hours need at least one window", "sla"))
        for i, w in enumerate(bh.windows):
            if not 0 <= w.weekday <= 6:
                out.append(_v("weekday_out_of_range", "weekday must be 0 (Mon) – 6 (Sun)", "sla"))
            offsets = _wall_clock(w.start, f"sla.business_hours.windows.{i}.start")
            offsets += _wall_clock(w.end, f"sla.business_hours.windows.{i}.end")
            if offsets:  # an aware time does not compare with a naive one
                out += offsets
            elif w.end != time(0) and w.end <= w.start:
                out.append(
                    _v(
                        "window_empty",
                        f"window {w.start}–{w.end} is empty",
                        f"sla.business_hours.windows.{i}",
                    )
                )
    return out


def _check_rate_card(p: BrandPolicy) -> list[Violation]:
    card = p.rate_card
    out: list[Violation] = []
    if not is_currency(card.currency):
        out.append(_m("currency_invalid", "rate_card.currency"))
    for skill, amount in card.base_minor.items():
        out += _amount(amount, f"rate_card.base_minor.{skill}", skill=skill)
    if card.default_base_minor is not None:
        out += _amount(card.default_base_minor, "rate_card.default_base_minor")
    for name in p.skill_map:
        if name not in card.base_minor and card.default_base_minor is None:
            out.append(
                _v("skill_unpriced", f"skill {name!r} has no base amount", "rate_card", skill=name)
            )
    for skill in card.base_minor:
        if skill not in p.skill_map:
            out.append(
                _v("skill_unknown", f"rate for unknown skill {skill!r}", "rate_card", skill=skill)
            )
    factors: list[tuple[str, object]] = [
        *((f"rate_card.complexity.{k}", v) for k, v in card.complexity.items()),
        *((f"rate_card.language_premium.{k}", v) for k, v in card.language_premium.items()),
        *((f"rate_card.time_of_day.{i}.multiplier", b.multiplier)
          for i, b in enumerate(card.time_of_day)),
    ]  # fmt: skip
    for key in card.complexity:
        if key not in COMPLEXITIES:
            out.append(_m("complexity_unknown", f"rate_card.complexity.{key}", key=key))
    for name, value in factors:
        if not (isinstance(value, Decimal) and value.is_finite() and 0 <= value <= MAX_FACTOR):
            out.append(_m("factor_invalid", name, limit=MAX_FACTOR))
    for i, band in enumerate(card.time_of_day):
        out += _wall_clock(band.start, f"rate_card.time_of_day.{i}.start")
        out += _wall_clock(band.end, f"rate_card.time_of_day.{i}.end")
        if isinstance(band.multiplier, Decimal) and band.multiplier == 0:
            out.append(_m("band_not_positive", f"rate_card.time_of_day.{i}.multiplier"))
    out += _check_band_overlap(card.time_of_day)
    for lang in card.language_premium:
        if lang not in LOCALES:
            out.append(
                _v(
                    "language_unknown",
                    f"premium for unknown language {lang!r}",
                    "rate_card",
                    language=lang,
                )
            )
    if not _zone_ok(card.timezone):
        out.append(_v("timezone_unknown", f"unknown timezone {card.timezone!r}", "rate_card"))
    if not out:
        highest = highest_price_minor(p)
        if highest > MAX_PRICE_MINOR:
            out.append(_m("price_too_large", "rate_card", price=highest, limit=MAX_PRICE_MINOR))
    return out


_DAY_S: Final = 86_400


def band_spans(band: TimeBand) -> list[tuple[int, int]]:
    """The seconds of the day ``band`` covers, as [start, end) spans within 0–86 400: a band
    whose start equals its end is the whole day, one that ends before it starts wraps past
    midnight (an end of 00:00 is midnight at the end of the day)."""

    def second(t: time) -> int:
        return t.hour * 3600 + t.minute * 60 + t.second

    start, end = second(band.start), second(band.end)
    if start == end:
        return [(0, _DAY_S)]
    if start < end:
        return [(start, end)]
    return [(start, _DAY_S), *([(0, end)] if end else [])]


def _check_band_overlap(bands: tuple[TimeBand, ...]) -> list[Violation]:
    """A moment of the day in two bands would be priced by whichever is listed first: each
    band that overlaps an earlier one is named, with the earlier band's times."""
    out: list[Violation] = []
    for i, band in enumerate(bands):
        if band.start.tzinfo is not None or band.end.tzinfo is not None:
            continue  # time_offset says what is wrong with it
        for other in bands[:i]:
            if other.start.tzinfo is not None or other.end.tzinfo is not None:
                continue
            if any(a < d and c < b for a, b in band_spans(band) for c, d in band_spans(other)):
                out.append(
                    _m(
                        "bands_overlap",
                        f"rate_card.time_of_day.{i}",
                        start=other.start.isoformat(timespec="minutes"),
                        end=other.end.isoformat(timespec="minutes"),
                    )
                )
                break
    return out


def highest_price_minor(p: BrandPolicy) -> int:
    """An upper bound of what the rate card can price a ticket at: the highest base amount
    times the highest complexity, language and time-of-day factors (a key left out is
    factor 1). Call on a card whose amounts and factors are valid."""
    card = p.rate_card
    bases = [*card.base_minor.values()]
    if card.default_base_minor is not None:
        bases.append(card.default_base_minor)

    def top(factors: list[Decimal], complete: bool) -> Decimal:
        return max([*factors, *([] if complete and factors else [Decimal(1)])])

    complexity = top(
        [card.complexity[k] for k in COMPLEXITIES if k in card.complexity],
        all(k in card.complexity for k in COMPLEXITIES),
    )
    language = top(
        [card.language_premium[k] for k in p.languages if k in card.language_premium],
        all(k in card.language_premium for k in p.languages),
    )
    band = top([b.multiplier for b in card.time_of_day], False)
    product = Decimal(max(bases, default=0)) * complexity * language * band
    return int(product.to_integral_value(rounding=ROUND_CEILING))


def _check_access(p: BrandPolicy) -> list[Violation]:
    out: list[Violation] = []
    seen: set[int] = set()
    for t in p.data_access.tiers:
        if not 0 <= t.tier <= MAX_TIER:
            out.append(_v("tier_out_of_range", f"tier must be 0–{MAX_TIER}", "tiers", tier=t.tier))
        if t.tier in seen:
            out.append(
                _v("tier_duplicate", f"tier {t.tier} is defined twice", "tiers", tier=t.tier)
            )
        seen.add(t.tier)
        unknown = sorted(t.unmasked - set(CUSTOMER_FIELDS))
        if unknown:
            out.append(
                _v(
                    "field_unknown",
                    f"tier {t.tier}: unknown fields {unknown}",
                    "tiers",
                    tier=t.tier,
                )
            )
    if not p.data_access.tiers:
        out.append(_v("tiers_empty", "define at least tier 0", "tiers"))
    return out


def _check_limits(p: BrandPolicy) -> list[Violation]:
    out: list[Violation] = []
    if p.offer_timeout_s < 10 or p.offer_timeout_s > 3600:
        out.append(_v("offer_timeout_range", "offer timeout must be 10–3600 s", "offer_timeout_s"))
    if p.max_concurrent < 1:
        out.append(
            _v(
                "max_concurrent_range",
                "experts must be able to hold at least one ticket",
                "max_concurrent",
            )
        )
    if p.max_rings < 1:
        out.append(_v("max_rings_range", "ring at least one expert before escalating", "max_rings"))
    for name, count in (("max_concurrent", p.max_concurrent), ("max_rings", p.max_rings)):
        if count > MAX_COUNT:
            out.append(_m("count_too_large", name, limit=MAX_COUNT))
    if p.auto_close_after_s < 0:
        out.append(
            _v("auto_close_negative", "auto-close delay cannot be negative", "auto_close_after_s")
        )
    out += _duration(p.auto_close_after_s, "auto_close_after_s")
    if not isinstance(p.routing_mode, RoutingMode):
        out.append(_v("routing_mode_unknown", "routing mode is push, pull or both", "routing_mode"))
    return out


def _check_routability(p: BrandPolicy) -> list[Violation]:
    """A skill no expert could ever be routed: explain which requirement can never be met."""
    out: list[Violation] = []
    defined = sorted(t.tier for t in p.data_access.tiers if 0 <= t.tier <= MAX_TIER)
    for s in p.skills:
        usable = [t for t in defined if t >= s.required_tier]
        if not usable:
            highest = defined[-1] if defined else None
            out.append(
                _v(
                    "skill_unroutable",
                    f"skill {s.name!r} requires tier {s.required_tier}, but the brand defines "
                    f"tiers only up to {highest}: no expert can ever be routed it",
                    "skills",
                    skill=s.name,
                    required_tier=s.required_tier,
                )
            )
            continue
        if s.needs_fields and not any(
            s.needs_fields <= p.data_access.unmasked_for(t) for t in usable
        ):
            top = usable[-1]
            missing = sorted(s.needs_fields - p.data_access.unmasked_for(top))
            out.append(
                _v(
                    "skill_unroutable",
                    f"skill {s.name!r} needs {', '.join(sorted(s.needs_fields))} unmasked, but "
                    f"even tier {top} does not see {', '.join(missing)}: no tier that may take "
                    "it can work it",
                    "skills",
                    skill=s.name,
                    missing=",".join(missing),
                )
            )
    return out


# --------------------------------------------------------------------------------------------
# JSON-shaped dicts ↔ BrandPolicy (for the API body and the stored column)
# --------------------------------------------------------------------------------------------


class _ShapeError(ValueError):
    """A value of the wrong shape, with the violation that says which and why."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation


def _time(value: Any, field: str) -> time:
    """A time of day as written (an offset is kept: :func:`validate_policy` refuses it)."""
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise _ShapeError(_m("time_invalid", field))


def _whole(value: Any, field: str) -> int:
    """A JSON integer: not a bool, a fraction or a string of digits."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _ShapeError(_m("not_integer", field))
    return value


def _rate(value: Any, field: str) -> Fraction:
    """A JSON number (not a bool or a string), exactly as written: 0.1 is one in ten."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _ShapeError(_m("rate_invalid", field))
    try:
        return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    except (ValueError, OverflowError):  # NaN, or 1e400 read as infinity
        raise _ShapeError(_m("rate_invalid", field)) from None


def _quality(data: Any, base: QualityPolicy) -> QualityPolicy:
    """The "quality" section: keys left out keep ``base``, and so do criteria left out of
    "weights" (a criterion not on the scorecard is kept for the validation to name)."""
    if not isinstance(data, Mapping):
        raise _ShapeError(_m("quality_not_object", "quality"))
    s, card = base.sampling, base.scorecard
    low_csat = data.get("low_csat", s.low_csat)
    reopened = data.get("reopened", s.reopened)
    if not isinstance(reopened, bool):
        raise _ShapeError(_m("not_boolean", "quality.reopened"))
    weights = {c.code: c.weight for c in card.criteria}
    given = data.get("weights", {})
    if not isinstance(given, Mapping):
        raise _ShapeError(_m("quality_not_object", "quality.weights"))
    for code, weight in given.items():
        weights[str(code)] = _whole(weight, f"quality.weights.{code}")
    return QualityPolicy(
        SamplingPolicy(
            base_rate=_rate(data["base_rate"], "quality.base_rate")
            if "base_rate" in data
            else s.base_rate,
            newcomer_reviews=_whole(
                data.get("newcomer_reviews", s.newcomer_reviews), "quality.newcomer_reviews"
            ),
            low_csat=None if low_csat is None else _whole(low_csat, "quality.low_csat"),
            reopened=reopened,
        ),
        Scorecard(
            tuple(Criterion(code, weight) for code, weight in weights.items()),
            pass_mark=_whole(data.get("pass_mark", card.pass_mark), "quality.pass_mark"),
        ),
    )


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("NaN")


def policy_from_dict(
    data: Mapping[str, Any], base: BrandPolicy | None = None
) -> BrandPolicy | list[Violation]:
    """Build a policy from a JSON-shaped mapping; keys left out keep ``base`` (default policy).

    Shape errors (wrong types, bad times) come back as violations, never as exceptions; run
    :func:`validate_policy` on the result for the semantic checks. Amounts are kept as given
    (a string or a fraction there is the validation's ``amount_not_integer``)."""
    b = base or default_policy()
    try:
        langs = tuple(str(x) for x in data.get("languages", b.languages))
        skills = b.skills
        if "skills" in data:
            skills = tuple(
                SkillDef(
                    name=str(s["name"]),
                    requires_certification=bool(s.get("requires_certification", False)),
                    required_tier=_whole(s.get("required_tier", 0), f"skills.{i}.required_tier"),
                    needs_fields=frozenset(str(f) for f in s.get("needs_fields", ())),
                )
                for i, s in enumerate(data["skills"])
            )
        sla = b.sla
        if "sla" in data:
            d = data["sla"]
            # Left out, business hours stay as they are (null or {} turns them off); their
            # time zone, left out, stays too, or is the brand's (the rate card's), never UTC.
            bh = b.sla.business_hours
            if "business_hours" in d and not d["business_hours"]:
                bh = None
            elif d.get("business_hours"):
                h = d["business_hours"]
                at = "sla.business_hours.windows"
                card_data = data.get("rate_card")
                zone = (
                    bh.timezone
                    if bh is not None
                    else str(card_data.get("timezone", b.rate_card.timezone))
                    if isinstance(card_data, Mapping)
                    else b.rate_card.timezone
                )
                bh = BusinessHours(
                    str(h.get("timezone", zone)),
                    tuple(
                        Window(
                            _whole(w["weekday"], f"{at}.{i}.weekday"),
                            _time(w["start"], f"{at}.{i}.start"),
                            _time(w["end"], f"{at}.{i}.end"),
                        )
                        for i, w in enumerate(h.get("windows", ()))
                    ),
                )
            sla = SlaPolicy(
                first_response_s=_whole(
                    d.get("first_response_s", b.sla.first_response_s), "sla.first_response_s"
                ),
                resolution_s=_whole(d.get("resolution_s", b.sla.resolution_s), "sla.resolution_s"),
                business_hours=bh,
                at_risk_ratio=float(d.get("at_risk_ratio", b.sla.at_risk_ratio)),
            )
        card = b.rate_card
        if "rate_card" in data:
            r = data["rate_card"]
            base_minor = {str(k): v for k, v in r.get("base_minor", card.base_minor).items()}
            dflt = r.get("default_base_minor", card.default_base_minor)
            card = RateCard(
                currency=str(r.get("currency", card.currency)).strip().upper(),
                base_minor=base_minor,
                complexity={
                    str(k): _dec(v) for k, v in r.get("complexity", card.complexity).items()
                },
                language_premium={
                    str(k): _dec(v)
                    for k, v in r.get("language_premium", card.language_premium).items()
                },
                time_of_day=tuple(
                    TimeBand(
                        _time(t["start"], f"rate_card.time_of_day.{i}.start"),
                        _time(t["end"], f"rate_card.time_of_day.{i}.end"),
                        _dec(t["multiplier"]),
                        str(t.get("label", "")),
                    )
                    for i, t in enumerate(r["time_of_day"])
                )
                if "time_of_day" in r
                else card.time_of_day,
                timezone=str(r.get("timezone", card.timezone)),
                default_base_minor=dflt,
            )
        access = b.data_access
        if "tiers" in data:
            access = DataAccessPolicy(
                tuple(
                    TierAccess(
                        _whole(t["tier"], f"tiers.{i}.tier"),
                        frozenset(str(f) for f in t.get("unmasked", ())),
                    )
                    for i, t in enumerate(data["tiers"])
                )
            )
        mode_raw = str(data.get("routing_mode", b.routing_mode.value))
        if mode_raw not in {m.value for m in RoutingMode}:
            return [
                _v("routing_mode_unknown", "routing mode is push, pull or both", "routing_mode")
            ]

        def top(name: str, current: int) -> int:
            return _whole(data.get(name, current), name)

        return BrandPolicy(
            languages=langs,
            skills=skills,
            sla=sla,
            rate_card=card,
            data_access=access,
            offer_timeout_s=top("offer_timeout_s", b.offer_timeout_s),
            max_concurrent=top("max_concurrent", b.max_concurrent),
            routing_mode=RoutingMode(mode_raw),
            auto_close_after_s=top("auto_close_after_s", b.auto_close_after_s),
            max_rings=top("max_rings", b.max_rings),
            routing_weights=b.routing_weights,
            quality=_quality(data["quality"], b.quality) if "quality" in data else b.quality,
        )
    except _ShapeError as error:
        return [error.violation]
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        return [_v("policy_shape", f"malformed policy: {exc.__class__.__name__}: {exc}", "policy")]


def policy_to_dict(p: BrandPolicy) -> dict[str, Any]:
    """JSON-ready; ``policy_from_dict(policy_to_dict(p)) == p`` (weights aside)."""
    bh = p.sla.business_hours
    return {
        "languages": list(p.languages),
        "skills": [
            {
                "name": s.name,
                "requires_certification": s.requires_certification,
                "required_tier": s.required_tier,
                "needs_fields": sorted(s.needs_fields),
            }
            for s in p.skills
        ],
        "sla": {
            "first_response_s": p.sla.first_response_s,
            "resolution_s": p.sla.resolution_s,
            "at_risk_ratio": p.sla.at_risk_ratio,
            "business_hours": None
            if bh is None
            else {
                "timezone": bh.timezone,
                "windows": [
                    {"weekday": w.weekday, "start": w.start.isoformat(), "end": w.end.isoformat()}
                    for w in bh.windows
                ],
            },
        },
        "rate_card": {
            "currency": p.rate_card.currency,
            "base_minor": dict(p.rate_card.base_minor),
            "default_base_minor": p.rate_card.default_base_minor,
            "complexity": {k: str(v) for k, v in p.rate_card.complexity.items()},
            "language_premium": {k: str(v) for k, v in p.rate_card.language_premium.items()},
            "time_of_day": [
                {
                    "start": b.start.isoformat(),
                    "end": b.end.isoformat(),
                    "multiplier": str(b.multiplier),
                    "label": b.label,
                }
                for b in p.rate_card.time_of_day
            ],
            "timezone": p.rate_card.timezone,
        },
        "tiers": [{"tier": t.tier, "unmasked": sorted(t.unmasked)} for t in p.data_access.tiers],
        "offer_timeout_s": p.offer_timeout_s,
        "max_concurrent": p.max_concurrent,
        "routing_mode": p.routing_mode.value,
        "auto_close_after_s": p.auto_close_after_s,
        "max_rings": p.max_rings,
        "quality": {
            "base_rate": float(p.quality.sampling.base_rate),
            "newcomer_reviews": p.quality.sampling.newcomer_reviews,
            "low_csat": p.quality.sampling.low_csat,
            "reopened": p.quality.sampling.reopened,
            "pass_mark": p.quality.scorecard.pass_mark,
            "weights": {c.code: c.weight for c in p.quality.scorecard.criteria},
        },
    }


def policy_version(p: BrandPolicy) -> str:
    """What a policy save names as the version it was read at (``version`` in the API, a
    hidden field on the page): a digest of the policy as read, so any save that changed
    it — another admin's, a rename, the brand's languages followed — makes another, and
    nothing else does (a roster bump, or the defaults stored as they were). A save naming
    an older one is refused (``policy_changed``) instead of overwriting what came since."""
    return document_version(policy_to_dict(p))


def document_version(doc: Mapping[str, Any]) -> str:
    """:func:`policy_version` of the policy whose :func:`policy_to_dict` is ``doc``."""
    text = json.dumps(doc, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# --------------------------------------------------------------------------------------------
# What a save changed
# --------------------------------------------------------------------------------------------

# Lists whose items are keyed (a skill by its name, a tier by its number): compared item by
# item under ``path[key]``, so a removed skill is one change, not a shifted list.
_KEYED_LISTS: Final[Mapping[str, str]] = {"skills": "name", "tiers": "tier"}
# Mappings whose keys are the brand's data (skill, complexity, language, criterion), not
# field names: written ``path[key]``.
_DATA_MAPS: Final = frozenset(
    {
        "rate_card.base_minor",
        "rate_card.complexity",
        "rate_card.language_premium",
        "quality.weights",
    }
)
CHANGE_OPS: Final = ("added", "removed", "changed", "renamed")


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """One difference between two policy documents: at ``path`` (``sla.first_response_s``,
    ``skills[billing].required_tier``, ``rate_card.base_minor[billing]``), ``op`` one of
    :data:`CHANGE_OPS`; ``before``/``after`` are JSON values (None where the op has none:
    nothing before an addition, after a removal). ``key`` is the skill's, tier's or map
    entry's own name (the last ``[…]`` of the path), ``field`` the path without keys
    (``skills[].required_tier``): what the shell names the change by."""

    path: str
    op: str
    before: Any = None
    after: Any = None
    field: str = ""
    key: str | None = None


def policy_diff(
    before: Mapping[str, Any], after: Mapping[str, Any], renames: Mapping[str, str] | None = None
) -> tuple[PolicyChange, ...]:
    """What changed from policy document ``before`` to ``after`` (both as
    :func:`policy_to_dict` writes them): empty exactly when they are equal. ``renames`` (old
    skill name → new) says which skills of ``before`` are ``after``'s under a new name: each
    is one ``renamed`` change, and its other fields and rate are compared with the new
    name's, not reported removed and added."""
    renames = {old: new for old, new in (renames or {}).items() if old != new}
    out: list[PolicyChange] = []
    if renames:
        before = _renamed(before, renames)
        for old, new in renames.items():
            out.append(PolicyChange(f"skills[{old}]", "renamed", old, new, "skills[]", old))
    _diff_value(before, after, "", "", out)
    return tuple(out)


def _renamed(doc: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """``doc`` with the renamed skills and their rate under the new names."""
    out = dict(doc)
    skills = doc.get("skills")
    if isinstance(skills, list):
        out["skills"] = [
            {**s, "name": renames.get(s["name"], s["name"])}
            if isinstance(s, Mapping) and isinstance(s.get("name"), str)
            else s
            for s in skills
        ]
    card = doc.get("rate_card")
    if isinstance(card, Mapping) and isinstance(card.get("base_minor"), Mapping):
        out["rate_card"] = {
            **card,
            "base_minor": {renames.get(k, k): v for k, v in card["base_minor"].items()},
        }
    return out


def _keyed(items: Any, key: str) -> dict[str, Any] | None:
    """A list of objects by their ``key`` (as text), or None when it is not one (a key
    missing or repeated: then the list is compared whole)."""
    if not isinstance(items, list):
        return None
    out: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, Mapping) or key not in item or str(item[key]) in out:
            return None
        out[str(item[key])] = item
    return out


def _diff_value(
    before: Any, after: Any, path: str, field: str, out: list[PolicyChange], key: str | None = None
) -> None:
    if _same(before, after):
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        data_map = field in _DATA_MAPS
        for name in [*before, *(k for k in after if k not in before)]:
            sub, sub_field = (
                (f"{path}[{name}]", f"{field}[]")
                if data_map
                else (_join(path, name), _join(field, name))
            )
            sub_key = str(name) if data_map else key
            if name not in after:
                out.append(PolicyChange(sub, "removed", before[name], None, sub_field, sub_key))
            elif name not in before:
                out.append(PolicyChange(sub, "added", None, after[name], sub_field, sub_key))
            else:
                _diff_value(before[name], after[name], sub, sub_field, out, sub_key)
        return
    item_key = _KEYED_LISTS.get(field)
    old = _keyed(before, item_key) if item_key else None
    new = _keyed(after, item_key) if item_key else None
    if old is not None and new is not None:
        for name in [*old, *(k for k in new if k not in old)]:
            sub, sub_field = f"{path}[{name}]", f"{field}[]"
            if name not in new:
                out.append(PolicyChange(sub, "removed", old[name], None, sub_field, name))
            elif name not in old:
                out.append(PolicyChange(sub, "added", None, new[name], sub_field, name))
            else:
                _diff_value(old[name], new[name], sub, sub_field, out, name)
        if [k for k in old if k in new] != [k for k in new if k in old]:
            out.append(
                PolicyChange(f"{path}.order", "changed", list(old), list(new), f"{field}.order")
            )
        return
    out.append(PolicyChange(path, "changed", before, after, field, key))


def _same(a: Any, b: Any) -> bool:
    """Equal, and of one type (1 is not true); Python's equality, which runs in C, below
    that: within equal lists and mappings 1 == 1.0 == true, which a policy document never
    mixes (its fields have one type each)."""
    return bool(a == b) and type(a) is type(b)


def _join(path: str, name: object) -> str:
    return f"{path}.{name}" if path else str(name)


# The kinds of save the history names: a whole save (API, form, JSON), a save that only
# renamed skills, one that only removed skills (and their rates), the brand's languages
# followed (tickets.service.follow_brand_languages says so itself).
CHANGE_KINDS: Final = ("save", "rename_skill", "remove_skill", "languages")


def change_kind(changes: Sequence[PolicyChange]) -> str:
    """What kind of save made ``changes``: only renames of skills, only removals of skills
    (with their rates), or a save of anything else."""
    if all(c.op == "renamed" for c in changes):
        return "rename_skill"
    gone = {c.key for c in changes if c.field == "skills[]" and c.op == "removed"}
    if gone and all(
        c.op == "removed" and c.field in {"skills[]", "rate_card.base_minor[]"} and c.key in gone
        for c in changes
    ):
        return "remove_skill"
    return "save"
