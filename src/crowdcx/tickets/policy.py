"""A brand's policy for the inquiry lifecycle, as frozen values, with its validation.

Pure, like the rules: the API turns a JSON body into a :class:`BrandPolicy` with
:func:`policy_from_dict`, asks :func:`validate_policy` for violations (data, mapped to 422),
stores :func:`policy_to_dict`, and hands the frozen object to the rules. A new brand gets
:func:`default_policy`.

The pieces the rules need live with those rules (``SlaPolicy``/``LifecyclePolicy`` in
``tickets.rules``, ``SkillDef``/``RoutingMode`` in ``routing.rules``, ``RateCard`` in
``payouts.rules``); this module composes them and checks them together — e.g. a skill that
needs tier 3 when the brand defines tiers only up to 1 is *unroutable*, and says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crowdcx.kernel.language import LOCALES
from crowdcx.kernel.money import Money
from crowdcx.payouts.rules import RateCard, TimeBand
from crowdcx.routing.rules import MAX_TIER, RoutingMode, RoutingWeights, SkillDef
from crowdcx.tickets.rules import (
    BusinessHours,
    LifecyclePolicy,
    SlaPolicy,
    Violation,
    Window,
)

CUSTOMER_FIELDS: Final[tuple[str, ...]] = ("name", "phone", "email", "order_number", "address")


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


def default_policy(currency: str = "CNY", timezone: str = "Asia/Shanghai") -> BrandPolicy:
    """What a new brand starts with: three skills, 4 h / 24 h SLA around the clock, tiered
    access (tier 0 sees only the name, tier 3 everything), push and pull."""
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
    card = RateCard(
        currency=currency,
        base_minor={"general": 500, "orders": 800, "billing": 1200},
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
        languages=LOCALES,
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
    return found


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
    if not 0 < sla.at_risk_ratio < 1:
        out.append(_v("sla_ratio", "the at-risk ratio must be between 0 and 1", "sla"))
    bh = sla.business_hours
    if bh is not None:
        if not _zone_ok(bh.timezone):
            out.append(_v("timezone_unknown", f"unknown timezone {bh.timezone!r}", "sla"))
        if not bh.windows:
            out.append(_v("business_hours_empty", "business hours need at least one window", "sla"))
        for w in bh.windows:
            if not 0 <= w.weekday <= 6:
                out.append(_v("weekday_out_of_range", "weekday must be 0 (Mon) – 6 (Sun)", "sla"))
            if w.end != time(0) and w.end <= w.start:
                out.append(_v("window_empty", f"window {w.start}–{w.end} is empty", "sla"))
    return out


def _check_rate_card(p: BrandPolicy) -> list[Violation]:
    card = p.rate_card
    out: list[Violation] = []
    try:
        Money(0, card.currency)
    except (ValueError, TypeError):
        out.append(
            _v("currency_invalid", f"{card.currency!r} is not an ISO 4217 code", "rate_card")
        )
    for skill, amount in card.base_minor.items():
        if isinstance(amount, bool) or not isinstance(amount, int):
            out.append(
                _v(
                    "amount_not_integer",
                    f"{skill}: amounts are integer minor units",
                    "rate_card",
                    skill=skill,
                )
            )
        elif amount < 0:
            out.append(
                _v("negative_amount", f"{skill}: base amount is negative", "rate_card", skill=skill)
            )
    if card.default_base_minor is not None and card.default_base_minor < 0:
        out.append(_v("negative_amount", "default base amount is negative", "rate_card"))
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
    factors: list[tuple[str, Decimal]] = [
        *((f"complexity {k}", v) for k, v in card.complexity.items()),
        *((f"language {k}", v) for k, v in card.language_premium.items()),
        *((f"time of day {b.label or b.start}", b.multiplier) for b in card.time_of_day),
    ]
    for label, value in factors:
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            out.append(
                _v(
                    "factor_invalid",
                    f"{label}: multiplier must be a finite Decimal ≥ 0",
                    "rate_card",
                )
            )
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
    return out


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
    if p.auto_close_after_s < 0:
        out.append(
            _v("auto_close_negative", "auto-close delay cannot be negative", "auto_close_after_s")
        )
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


def _time(value: Any) -> time:
    return time.fromisoformat(str(value))


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
    :func:`validate_policy` on the result for the semantic checks."""
    b = base or default_policy()
    try:
        langs = tuple(str(x) for x in data.get("languages", b.languages))
        skills = b.skills
        if "skills" in data:
            skills = tuple(
                SkillDef(
                    name=str(s["name"]),
                    requires_certification=bool(s.get("requires_certification", False)),
                    required_tier=int(s.get("required_tier", 0)),
                    needs_fields=frozenset(str(f) for f in s.get("needs_fields", ())),
                )
                for s in data["skills"]
            )
        sla = b.sla
        if "sla" in data:
            d = data["sla"]
            bh = None
            if d.get("business_hours"):
                h = d["business_hours"]
                bh = BusinessHours(
                    str(h.get("timezone", "UTC")),
                    tuple(
                        Window(int(w["weekday"]), _time(w["start"]), _time(w["end"]))
                        for w in h.get("windows", ())
                    ),
                )
            sla = SlaPolicy(
                first_response_s=int(d.get("first_response_s", b.sla.first_response_s)),
                resolution_s=int(d.get("resolution_s", b.sla.resolution_s)),
                business_hours=bh,
                at_risk_ratio=float(d.get("at_risk_ratio", b.sla.at_risk_ratio)),
            )
        card = b.rate_card
        if "rate_card" in data:
            r = data["rate_card"]
            base_minor = {str(k): v for k, v in r.get("base_minor", card.base_minor).items()}
            dflt = r.get("default_base_minor", card.default_base_minor)
            card = RateCard(
                currency=str(r.get("currency", card.currency)),
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
                        _time(t["start"]),
                        _time(t["end"]),
                        _dec(t["multiplier"]),
                        str(t.get("label", "")),
                    )
                    for t in r["time_of_day"]
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
                    TierAccess(int(t["tier"]), frozenset(str(f) for f in t.get("unmasked", ())))
                    for t in data["tiers"]
                )
            )
        mode_raw = str(data.get("routing_mode", b.routing_mode.value))
        if mode_raw not in {m.value for m in RoutingMode}:
            return [
                _v("routing_mode_unknown", "routing mode is push, pull or both", "routing_mode")
            ]
        return BrandPolicy(
            languages=langs,
            skills=skills,
            sla=sla,
            rate_card=card,
            data_access=access,
            offer_timeout_s=int(data.get("offer_timeout_s", b.offer_timeout_s)),
            max_concurrent=int(data.get("max_concurrent", b.max_concurrent)),
            routing_mode=RoutingMode(mode_raw),
            auto_close_after_s=int(data.get("auto_close_after_s", b.auto_close_after_s)),
            max_rings=int(data.get("max_rings", b.max_rings)),
            routing_weights=b.routing_weights,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
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
    }
