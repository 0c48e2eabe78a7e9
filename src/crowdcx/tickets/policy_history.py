"""The ticket policy's history as a brand admin reads it: each stored change
(tickets.policy.PolicyChange, as the history row keeps it) as one line in the reader's
language — the field by the name the policy page gives it, skills by the names the policy
gives them, amounts as money, durations as durations. The shell of the admin pages (the
changes page in tickets.pages); the API hands out the changes as data."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from babel.dates import get_day_names
from babel.units import format_unit

from crowdcx.kernel.i18n import N_, _, current_locale, format_money, list_separator
from crowdcx.kernel.language import LOCALE_NAMES
from crowdcx.kernel.money import Money
from crowdcx.web.templating import aside, format_duration, format_share

ABSENT = "—"

# What the policy page calls each field (the same catalog entries), by the change's field.
_FIELDS: Mapping[str, str] = {
    "languages": N_("Languages experts answer in"),
    "skills[].required_tier": N_("Lowest tier that may take it"),
    "skills[].requires_certification": N_("Only certified experts"),
    "skills[].needs_fields": N_("Customer fields it needs unmasked"),
    "skills.order": N_("Order of the skills"),
    "sla.first_response_s": N_("First response within"),
    "sla.resolution_s": N_("Resolution within"),
    "sla.at_risk_ratio": N_("Share of an SLA target after which a ticket is at risk"),
    "auto_close_after_s": N_("Close a resolved ticket the customer does not answer after"),
    "routing_mode": N_("How tickets reach experts"),
    "offer_timeout_s": N_("An offer expires after (seconds)"),
    "max_concurrent": N_("Tickets an expert holds at once, at most"),
    "max_rings": N_("Experts offered a ticket before it goes to staff"),
    "tiers[].unmasked": N_("Customer data each tier sees"),
    "tiers.order": N_("Customer data each tier sees"),
    "rate_card.currency": N_("Currency"),
    "rate_card.base_minor[]": N_("Base amount per skill"),
    "rate_card.default_base_minor": N_("Any other skill"),
    "rate_card.time_of_day": N_("Time of day"),
    "rate_card.timezone": N_("Time zone"),
    "quality.newcomer_reviews": N_("A newcomer's first resolutions, all reviewed"),
    "quality.low_csat": N_("Review every resolution rated at most"),
    "quality.reopened": N_("Review every reopened ticket"),
    "quality.pass_mark": N_("Pass mark (0–100)"),
    "quality.base_rate": N_("Share of resolutions reviewed at random"),
    "quality.weights[]": N_("Scorecard"),
}
KINDS: Mapping[str, str] = {
    "save": N_("Policy saved"),
    "rename_skill": N_("Skill renamed"),
    "remove_skill": N_("Skill removed"),
    "languages": N_("The brand's languages changed"),
}


def kind_label(kind: str) -> str:
    return _(KINDS[kind]) if kind in KINDS else kind


def change_lines(changes: Sequence[Mapping[str, Any]], currency: str) -> list[str]:
    """Each change of one save as a line the reader can read (``currency``: the rate
    card's after the save, for its amounts)."""
    return [change_line(c, currency) for c in changes]


def change_line(change: Mapping[str, Any], currency: str) -> str:
    field, op, key = str(change.get("field", "")), str(change.get("op", "")), change.get("key")
    before, after = change.get("before"), change.get("after")
    if field == "skills[]":
        if op == "renamed":
            return _("Skill %(old)s renamed %(new)s") % {"old": before, "new": after}
        if op == "added":
            return _("Skill %(skill)s added") % {"skill": key}
        if op == "removed":
            return _("Skill %(skill)s removed") % {"skill": key}
    if field == "tiers[]":
        name = _("Tier %(tier)s") % {"tier": key}
        if op == "added":
            return _("%(field)s added: %(value)s") % {
                "field": name,
                "value": _value("tiers[].unmasked", _unmasked(after), currency),
            }
        if op == "removed":
            return _("%(field)s removed") % {"field": name}
    label = _label(field, key, change.get("path", field))
    return _("%(field)s: %(before)s → %(after)s") % {
        "field": label,
        "before": ABSENT if op == "added" else _value(field, before, currency),
        "after": ABSENT if op == "removed" else _value(field, after, currency),
    }


def _unmasked(tier: Any) -> Any:
    return tier.get("unmasked") if isinstance(tier, Mapping) else tier


def _label(field: str, key: Any, path: Any) -> str:
    if field.startswith("sla.business_hours"):
        return _("Business hours")
    if field == "rate_card.complexity[]":
        names = {"low": _("Low"), "normal": _("Normal"), "high": _("High")}
        return _("Complexity: %(level)s") % {"level": names.get(str(key), key)}
    if field == "rate_card.language_premium[]":
        return _("Language: %(language)s") % {"language": LOCALE_NAMES.get(str(key), key)}
    template = _FIELDS.get(field)
    if template is None:
        return str(path)  # a field this page has no name for: as the API names it
    label = _(template)
    if field.startswith("skills[]."):
        return _("Skill %(skill)s: %(field)s") % {"skill": key, "field": label}
    if field.startswith("tiers[]."):
        return label + aside(_("Tier %(tier)s") % {"tier": key})
    if field == "quality.weights[]":
        from crowdcx.quality.service import criterion_labels  # quality reads tickets

        return label + aside(criterion_labels().get(str(key), (key, ""))[0])
    if field.endswith("[]"):
        return label + aside(key)
    return label


def _value(field: str, value: Any, currency: str) -> str:
    if value is None:
        return ABSENT
    shown = _SHOWN.get(field)
    if shown is not None:
        try:
            return shown(value, currency)
        except (TypeError, ValueError, KeyError):
            pass  # not the shape it should have: as JSON below
    if isinstance(value, bool):
        return _("ticked") if value else _("not ticked")
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return list_separator().join(str(v) for v in value) or ABSENT
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _duration(value: Any, _currency: str) -> str:
    """As the reader writes a duration; one not in whole hours also in whole minutes or
    seconds, which the rounded figure may not show ("1.5 hr (90 min)")."""
    seconds = int(value)
    shown = format_duration(seconds)
    if seconds % 3600 == 0 or seconds < 60:
        return shown
    exact = (
        (seconds // 60, "duration-minute") if seconds % 60 == 0 else (seconds, "duration-second")
    )
    locale = current_locale().replace("-", "_")
    written = str(format_unit(exact[0], exact[1], length="short", locale=locale))
    return shown if written == shown else shown + aside(written)


def _share(value: Any, _currency: str) -> str:
    return format_share(float(value))


def _amount(value: Any, currency: str) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(value)
    return format_money(Money(value, currency))


def _languages(value: Any, _currency: str) -> str:
    return list_separator().join(LOCALE_NAMES.get(str(v), str(v)) for v in value)


def _fields(value: Any, _currency: str) -> str:
    from crowdcx.tickets.pages import field_labels

    names = field_labels()
    return list_separator().join(names.get(str(v), str(v)) for v in value) or ABSENT


def _routing(value: Any, _currency: str) -> str:
    from crowdcx.tickets.pages import routing_mode_labels

    return routing_mode_labels()[str(value)]


def _bands(value: Any, _currency: str) -> str:
    return (
        list_separator().join(
            f"{b['start']}–{b['end']} ×{b['multiplier']}"
            + (aside(b["label"]) if b["label"] else "")
            for b in value
        )
        or ABSENT
    )


def _windows(value: Any, _currency: str) -> str:
    """Business-hours windows as the reader names the days: "Mon 09:00–18:00"."""
    days = get_day_names("abbreviated", locale=current_locale().replace("-", "_"))
    return (
        list_separator().join(
            f"{days[int(w['weekday'])]} {_clock(w['start'])}–{_clock(w['end'])}" for w in value
        )
        or ABSENT
    )


def _clock(value: Any) -> str:
    text = str(value)
    return text[:5] if text.endswith(":00") and len(text) == 8 else text


def _hours(value: Any, currency: str) -> str:
    """Business hours as a whole (set or taken away): the windows, then the zone aside."""
    if not isinstance(value, Mapping):
        raise TypeError(value)
    windows = _windows(value.get("windows") or [], currency)
    zone = value.get("timezone")
    return windows + aside(str(zone)) if zone else windows


_SHOWN: Mapping[str, Callable[[Any, str], str]] = {
    "sla.business_hours": _hours,
    "sla.business_hours.windows": _windows,
    "sla.first_response_s": _duration,
    "sla.resolution_s": _duration,
    "auto_close_after_s": _duration,
    "rate_card.base_minor[]": _amount,
    "rate_card.default_base_minor": _amount,
    "languages": _languages,
    "skills[].needs_fields": _fields,
    "tiers[].unmasked": _fields,
    "routing_mode": _routing,
    "rate_card.time_of_day": _bands,
    "quality.base_rate": _share,
    "sla.at_risk_ratio": _share,
}
