"""The brand's ticket policy as form fields a person fills in, and back (pure).

The policy is a JSON document (``tickets.policy``); an admin should not have to write JSON to
change an SLA target or a rate. :func:`policy_to_form` writes the common settings as texts for
form fields — durations as a number and a unit, base amounts in the currency's major units,
numbers in the reader's :class:`~crowdcx.kernel.numbers.NumberStyle` — and
:func:`form_to_policy` reads them back into a JSON-shaped mapping of just those settings, to
lay over the stored policy with ``policy_from_dict``. The form covers the skills catalogue (a
row per skill, keyed by the saved name in a hidden field so that a name typed over is a
rename (:func:`skill_renames`), blank rows to add one, a box to remove one), the highest tier
the brand uses and the customer fields each tier 0–that sees unmasked, the rate card's
time-of-day bands (a row per band and a blank one), and business hours (a time zone and each
weekday's windows, a blank row under a day's last to add another; none at all is 24/7);
the languages experts answer in (a box each; kept in the policy's order, a newly ticked one
after them); the scorecard's weights stay as they are (the page edits them as JSON). A
valid policy whose business-hours windows are listed by weekday and which defines the tiers
0–N in order comes back unchanged:
``policy_from_dict(form_to_policy(policy_to_form(p)), p) == p``; another comes back with its
windows by weekday and every tier up to its highest defined (a tier left out sees what the
tiers below it see, so nothing a tier sees changes).

A field the parser cannot read comes back as a :class:`Violation` naming the field; the rest of
the checks are ``validate_policy``'s. :data:`EXPLANATIONS` holds a translatable explanation for
every code either can return, written to stand next to the field it names (no field path in
it); :func:`form_field` says which field a violation belongs beside.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import time
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from crowdcx.kernel.language import LOCALES
from crowdcx.kernel.money import minor_exponent
from crowdcx.kernel.numbers import NumberStyle, decimal_text, typed_decimal
from crowdcx.routing.rules import MAX_TIER, RoutingMode
from crowdcx.tickets.policy import (
    COMPLEXITIES,
    CUSTOMER_FIELDS,
    MAX_AMOUNT_MINOR,
    N_,
    BrandPolicy,
)
from crowdcx.tickets.rules import Violation

# Units a duration is typed in, in seconds; a stored duration is shown in the largest that
# divides it, so it comes back to the second.
UNITS: Final[Mapping[str, int]] = {"days": 86_400, "hours": 3600, "minutes": 60, "seconds": 1}
DURATIONS: Final[tuple[str, ...]] = (
    "sla.first_response_s",
    "sla.resolution_s",
    "auto_close_after_s",
)
COUNTS: Final[tuple[str, ...]] = ("offer_timeout_s", "max_concurrent", "max_rings")
QUALITY_COUNTS: Final[tuple[str, ...]] = ("quality.newcomer_reviews", "quality.pass_mark")
LOW_CSAT_CHOICES: Final[tuple[str, ...]] = ("", "1", "2", "3", "4", "5")
_MAX_TYPED: Final = 10**12  # a count or duration past this is a typo (the checks say so too)
TIERS: Final[tuple[int, ...]] = tuple(range(MAX_TIER + 1))
WEEKDAYS: Final[tuple[int, ...]] = tuple(range(7))  # 0 is Monday, as tickets.rules.Window
BLANK_SKILLS: Final = 2  # empty rows under the skills, to add one each
# A skill's row: skills.<row>.name (typed; on a saved skill's row, typed over to rename it),
# .original (hidden: the saved skill's name, the row's key), .required_tier,
# .requires_certification, .needs.<field>, .remove, and on a new row .base_minor (its base
# amount, as the rate card has none for it yet).
_SKILL_ROW: Final = re.compile(r"skills\.(\d{1,4})\.name")
# A time-of-day band: rate_card.time_of_day.<row>.start / .end / .multiplier / .label / .remove;
# "rate_card.time_of_day" says the bands are on the form (all emptied: no band).
BANDS_FIELD: Final = "rate_card.time_of_day"
BAND_PARTS: Final[tuple[str, ...]] = ("start", "end", "multiplier", "label")
_BAND_ROW: Final = re.compile(r"rate_card\.time_of_day\.(\d{1,2})\.(?:start|end|multiplier)")
_BAND_AT: Final = re.compile(r"rate_card\.time_of_day\.(\d+)(?:\.(start|end|multiplier))?")
TIERS_HIGHEST: Final = "tiers.highest"
# A business-hours window: sla.business_hours.<weekday>.<row>.start / .end.
_WINDOW_ROW: Final = re.compile(r"sla\.business_hours\.([0-6])\.(\d{1,2})\.(?:start|end)")
_WINDOW_AT: Final = re.compile(r"sla\.business_hours\.windows\.(\d+)(?:\.(start|end))?")
TIMEZONE_FIELD: Final = "sla.business_hours.timezone"

# The form parser's own codes, beside validate_policy's.
FORM_CODES: Final[tuple[str, ...]] = (
    "form_number",
    "form_whole_number",
    "form_amount_digits",
    "form_duration_seconds",
    "form_unit",
    "form_choice",
    "form_window_half",
    "form_band_half",
    "skill_name_taken",
)

# Every code the form parser and tickets.policy return, explained beside its field in the
# reader's language, filled in with the violation's params (only params it always carries).
EXPLANATIONS: Final[Mapping[str, str]] = {
    # The form's own
    "form_number": N_("Enter a number, such as 12.50 (digits, one decimal mark, no sign)."),
    "form_whole_number": N_("Enter a whole number, such as 3, without a sign or decimals."),
    "form_amount_digits": N_(
        "This currency has %(digits)s digits after the decimal mark; enter the amount with no "
        "more than that."
    ),
    "form_duration_seconds": N_("The time must come to a whole number of seconds."),
    "form_unit": N_("Choose a unit: minutes, hours, days or seconds."),
    "form_choice": N_("Choose one of the options offered."),
    "form_window_half": N_(
        "Enter both the opening and the closing time, or neither for a day that is closed."
    ),
    "form_band_half": N_(
        "A band needs its start, its end and its multiplier; empty all three to remove it."
    ),
    "skill_name_taken": N_(
        "Another skill is already called %(skill)s: choose a name no other skill has."
    ),
    "skill_name_too_long": N_("A skill's name can be at most %(limit)s characters."),
    "band_not_positive": N_("Enter a multiplier above 0, such as 1.25; 0 would pay nothing."),
    "bands_overlap": N_(
        "This band overlaps the band %(start)s–%(end)s: a moment of the day can fall in one "
        "band only."
    ),
    # Numbers and amounts
    "not_integer": N_("Enter a whole number."),
    "amount_not_integer": N_("Enter the amount as a number."),
    "negative_amount": N_("The amount cannot be negative."),
    "amount_too_large": N_("The amount can be at most %(limit)s."),
    "factor_invalid": N_("Enter a multiplier from 0 to %(limit)s, such as 1.25."),
    "currency_invalid": N_(
        "Enter the three-letter ISO 4217 code of a currency, such as CNY, TWD, RUB or USD."
    ),
    "price_too_large": N_(
        "The highest base amount times the highest multipliers prices a ticket at %(price)s, "
        "more than the %(limit)s a ticket can cost. Lower the base amount or the multipliers."
    ),
    "complexity_unknown": N_(
        "Tickets are priced at complexity low, normal or high; a multiplier for %(key)s is "
        "never used. Remove it."
    ),
    "skill_unpriced": N_(
        "The skill %(skill)s has no base amount, and there is no amount for other skills: "
        "enter one."
    ),
    "skill_unknown": N_("There is a base amount for %(skill)s, which is not a skill: remove it."),
    # Times
    "duration_too_long": N_("This can be at most %(days)s days."),
    "time_invalid": N_("Write a time of day as HH:MM, such as 09:30."),
    "time_offset": N_(
        "Write a local time without a UTC offset, such as 22:00; the policy's time zone applies."
    ),
    "timezone_unknown": N_("This time zone is unknown; use a name such as Asia/Shanghai."),
    "business_hours_empty": N_("Business hours need at least one window, or none at all."),
    "weekday_out_of_range": N_("A weekday is a number from 0 (Monday) to 6 (Sunday)."),
    "window_empty": N_("A business-hours window must end after it starts."),
    "sla_not_positive": N_("Both SLA targets must be more than zero."),
    "sla_order": N_("The first response cannot be due later than the resolution."),
    "sla_ratio": N_("The at-risk share must be between 0 and 1, such as 0.8."),
    # Limits and routing
    "count_too_large": N_("This can be at most %(limit)s."),
    "count_negative": N_("This cannot be negative."),
    "offer_timeout_range": N_("An offer lasts from 10 to 3,600 seconds."),
    "max_concurrent_range": N_("An expert must be able to hold at least one ticket."),
    "max_rings_range": N_("Offer a ticket to at least one expert before it goes to staff."),
    "auto_close_negative": N_("The delay before closing cannot be negative."),
    "routing_mode_unknown": N_("Choose how tickets reach experts: offered, taken, or both."),
    # Skills, languages and tiers
    "languages_empty": N_("The brand must serve at least one language."),
    "language_unknown": N_(
        "%(language)s is not a language CrowdCX serves; use zh-Hans, zh-Hant, ru or en."
    ),
    "skills_empty": N_("The catalogue needs at least one skill."),
    "skill_name_empty": N_("Every skill needs a name."),
    "skill_duplicate": N_("The skill %(skill)s is listed twice."),
    "field_unknown": N_(
        "A customer field is misspelled; the fields are name, phone, email, order_number and "
        "address."
    ),
    "tier_out_of_range": N_("A tier is a number from 0 to 3."),
    "tier_duplicate": N_("Tier %(tier)s is defined twice."),
    "tiers_empty": N_("Define at least tier 0."),
    "skill_unroutable": N_(
        "No expert can ever be offered %(skill)s: no tier it may go to sees the customer "
        "data it needs, or its tier is not defined. Change its tier or the tiers."
    ),
    "policy_shape": N_(
        "A part of the policy has the wrong shape (a list where an object belongs, or a name "
        "missing). Compare it with the policy as saved."
    ),
    # Quality
    "quality_not_object": N_("The quality settings must be a JSON object."),
    "rate_invalid": N_("Enter a share from 0 to 100 %%."),
    "not_boolean": N_("This is either on or off (true or false)."),
    "csat_invalid": N_("Choose a rating from 1 to 5, or none."),
    "pass_mark_invalid": N_("Enter a whole number from 0 to 100."),
    "criterion_unknown": N_("There is no criterion %(key)s; the criteria are %(known)s."),
    "weights_zero": N_("At least one criterion must weigh more than 0."),
}


# --------------------------------------------------------------------------------------------
# Policy → form
# --------------------------------------------------------------------------------------------


def duration_fields(seconds: int) -> tuple[int, str]:
    """``seconds`` as a count of the largest unit that divides it: 14400 → (4, "hours")."""
    for unit, size in UNITS.items():
        if seconds and seconds % size == 0:
            return seconds // size, unit
    return seconds, "seconds"


def amount_text(minor: object, currency: str, style: NumberStyle) -> str:
    """Minor units as the reader writes the amount in major units ("1 234,50"); a stored value
    that is not whole minor units is shown as stored, for the checks to name."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        return str(minor)
    digits = minor_exponent(currency)
    value = Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))
    return decimal_text(value, style, grouping=True)


def factor_text(value: object, style: NumberStyle) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        return decimal_text(value if value else Decimal(0), style)  # -0 is 0
    return str(value)


def share_text(rate: Fraction, style: NumberStyle) -> str:
    """A share 0–1 as a percentage, exactly when it is a terminating decimal (as stored)."""
    percent = rate * 100
    places = 0
    while percent.denominator != 1 and places < 20:
        percent *= 10
        places += 1
    if percent.denominator != 1:  # 1/3: no exact decimal; as close as a float goes
        return decimal_text(Decimal(repr(float(rate * 100))), style)
    return decimal_text(Decimal(percent.numerator).scaleb(-places), style)


def priced_complexities(p: BrandPolicy) -> tuple[str, ...]:
    """The complexities the form prices: the three, then any other the card has (for the
    checks to name)."""
    return (*COMPLEXITIES, *(k for k in p.rate_card.complexity if k not in COMPLEXITIES))


def price_languages(p: BrandPolicy) -> tuple[str, ...]:
    """The languages the form prices: the brand's, then any premium for another."""
    return (*p.languages, *(k for k in p.rate_card.language_premium if k not in p.languages))


def priced_skills(p: BrandPolicy) -> tuple[str, ...]:
    """The skills the form prices: the catalogue's, then any amount for a skill not in it."""
    names = tuple(s.name for s in p.skills)
    return (*names, *(k for k in p.rate_card.base_minor if k not in names))


def policy_to_form(p: BrandPolicy, style: NumberStyle) -> dict[str, str]:
    """The form's fields, named by the policy path a violation names (durations have a
    ``.unit`` beside them); an empty text is a setting left out."""
    card = p.rate_card
    out: dict[str, str] = {}
    for name, seconds in zip(
        DURATIONS,
        (p.sla.first_response_s, p.sla.resolution_s, p.auto_close_after_s),
        strict=True,
    ):
        count, unit = duration_fields(seconds)
        out[name], out[f"{name}.unit"] = str(count), unit
    out["offer_timeout_s"] = str(p.offer_timeout_s)
    out["max_concurrent"] = str(p.max_concurrent)
    out["max_rings"] = str(p.max_rings)
    out["routing_mode"] = p.routing_mode.value
    out["rate_card.currency"] = card.currency
    for skill in priced_skills(p):
        amount = card.base_minor.get(skill)
        out[f"rate_card.base_minor.{skill}"] = (
            "" if amount is None else amount_text(amount, card.currency, style)
        )
    dflt = card.default_base_minor
    out["rate_card.default_base_minor"] = (
        "" if dflt is None else amount_text(dflt, card.currency, style)
    )
    for key in priced_complexities(p):
        value = card.complexity.get(key)
        out[f"rate_card.complexity.{key}"] = "" if value is None else factor_text(value, style)
    for lang in price_languages(p):
        value = card.language_premium.get(lang)
        out[f"rate_card.language_premium.{lang}"] = (
            "" if value is None else factor_text(value, style)
        )
    sampling = p.quality.sampling
    out["quality.base_rate"] = share_text(sampling.base_rate, style)
    out["quality.newcomer_reviews"] = str(sampling.newcomer_reviews)
    out["quality.low_csat"] = "" if sampling.low_csat is None else str(sampling.low_csat)
    out["quality.reopened"] = "1" if sampling.reopened else ""
    out["quality.pass_mark"] = str(p.quality.scorecard.pass_mark)
    out |= _skills_form(p)
    out |= _bands_form(p, style)
    out[LANGUAGES_FIELD] = "1"  # the boxes are on the form (an unticked box sends nothing)
    for lang in LOCALES:
        out[f"{LANGUAGES_FIELD}.{lang}"] = "1" if lang in p.languages else ""
    out["tiers"] = "1"  # the grid is on the form (an unticked box sends nothing)
    out[TIERS_HIGHEST] = str(highest_tier(p))
    for tier in TIERS:
        own = next((t.unmasked for t in p.data_access.tiers if t.tier == tier), frozenset())
        for name in CUSTOMER_FIELDS:
            out[f"tiers.{tier}.{name}"] = "1" if name in own else ""
    bh = p.sla.business_hours
    out[TIMEZONE_FIELD] = p.rate_card.timezone if bh is None else bh.timezone
    for day in WEEKDAYS:
        windows = [w for w in (bh.windows if bh else ()) if w.weekday == day]
        # A blank row under a day's last window adds another (09:00–12:00, 13:00–18:00).
        times = [(time_text(w.start), time_text(w.end)) for w in windows] + [("", "")]
        for row, (start, end) in enumerate(times):
            out[f"sla.business_hours.{day}.{row}.start"] = start
            out[f"sla.business_hours.{day}.{row}.end"] = end
    return out


def highest_tier(p: BrandPolicy) -> int:
    """The highest tier the policy defines (within 0–3): the form defines every tier up to it."""
    defined = [t.tier for t in p.data_access.tiers if 0 <= t.tier <= MAX_TIER]
    return max(defined, default=MAX_TIER)


def chosen_highest_tier(form: Mapping[str, str]) -> int:
    """The highest tier the form says the brand uses (all of them when it says none)."""
    text = str(form.get(TIERS_HIGHEST, "")).strip()
    return int(text) if text in {str(t) for t in TIERS} else MAX_TIER


def _bands_form(p: BrandPolicy, style: NumberStyle) -> dict[str, str]:
    """A row per time-of-day band, then an empty one to add a band."""
    out = {BANDS_FIELD: "1"}
    rows = [*p.rate_card.time_of_day, None]
    for row, band in enumerate(rows):
        at = f"{BANDS_FIELD}.{row}"
        out[f"{at}.start"] = "" if band is None else time_text(band.start)
        out[f"{at}.end"] = "" if band is None else time_text(band.end)
        out[f"{at}.multiplier"] = "" if band is None else factor_text(band.multiplier, style)
        out[f"{at}.label"] = "" if band is None else band.label
        out[f"{at}.remove"] = ""
    return out


def _skills_form(p: BrandPolicy) -> dict[str, str]:
    """A row per skill of the catalogue, then :data:`BLANK_SKILLS` empty rows."""
    out: dict[str, str] = {}
    rows = [*p.skills, *([None] * BLANK_SKILLS)]
    for row, skill in enumerate(rows):
        at = f"skills.{row}"
        out[f"{at}.name"] = "" if skill is None else skill.name
        if skill is not None:
            out[f"{at}.original"] = skill.name
        out[f"{at}.required_tier"] = "0" if skill is None else str(skill.required_tier)
        out[f"{at}.requires_certification"] = "1" if skill and skill.requires_certification else ""
        for name in CUSTOMER_FIELDS:
            out[f"{at}.needs.{name}"] = "1" if skill and name in skill.needs_fields else ""
        out[f"{at}.remove"] = ""
        if skill is None:
            out[f"{at}.base_minor"] = ""
    return out


def time_text(value: time) -> str:
    """A time of day as a time input writes it: 09:30, or 09:30:15 when it has seconds."""
    whole_minute = not value.second and not value.microsecond
    value = value.replace(tzinfo=None)  # an offset stored before the check: shown as wall clock
    return value.isoformat(timespec="minutes") if whole_minute else value.isoformat()


def band_rows(form: Mapping[str, str]) -> list[int]:
    """The rows of the time-of-day bands the form has, in order."""
    return sorted({int(m.group(1)) for name in form if (m := _BAND_ROW.fullmatch(name))})


def typed_bands(form: Mapping[str, str]) -> list[int]:
    """The band rows with something typed and not ticked for removal, in the order the bands
    are saved: a validation's ``rate_card.time_of_day.<i>`` is the i-th of these."""
    return [
        row
        for row in band_rows(form)
        if not _typed(form, f"{BANDS_FIELD}.{row}.remove")
        and any(
            _typed(form, f"{BANDS_FIELD}.{row}.{part}") for part in ("start", "end", "multiplier")
        )
    ]


def skill_rows(form: Mapping[str, str]) -> list[int]:
    """The rows of the skills table the form has, in order."""
    return sorted({int(m.group(1)) for name in form if (m := _SKILL_ROW.fullmatch(name))})


def window_rows(form: Mapping[str, str]) -> dict[int, list[int]]:
    """Each weekday's window rows the form has, in order."""
    rows: dict[int, set[int]] = {day: set() for day in WEEKDAYS}
    for name in form:
        if m := _WINDOW_ROW.fullmatch(name):
            rows[int(m.group(1))].add(int(m.group(2)))
    return {day: sorted(found) or [0] for day, found in rows.items()}


def typed_windows(form: Mapping[str, str]) -> list[tuple[int, int]]:
    """The (weekday, row) of each window row with a time typed, in the order the windows are
    saved: a validation's ``sla.business_hours.windows.<i>`` is the i-th of these."""
    return [
        (day, row)
        for day, rows in window_rows(form).items()
        for row in rows
        if _typed(form, f"sla.business_hours.{day}.{row}.start")
        or _typed(form, f"sla.business_hours.{day}.{row}.end")
    ]


# The languages experts answer in: a box each (``languages.ru``), beside a marker saying the
# boxes were on the form.
LANGUAGES_FIELD: Final = "languages"


def checkboxes(form: Mapping[str, str]) -> list[str]:
    """The form's checkboxes: a browser sends nothing for one left unticked."""
    return [
        name
        for name in form
        if name == "quality.reopened"
        or name.startswith(f"{LANGUAGES_FIELD}.")
        or (name.startswith("tiers.") and name.count(".") == 2 and name != TIERS_HIGHEST)
        or (name.startswith(f"{BANDS_FIELD}.") and name.endswith(".remove"))
        or (
            name.startswith("skills.")
            and (name.endswith((".requires_certification", ".remove")) or ".needs." in name)
        )
    ]


def _typed(form: Mapping[str, str], name: str) -> bool:
    return bool(str(form.get(name, "")).strip())


# --------------------------------------------------------------------------------------------
# Form → policy
# --------------------------------------------------------------------------------------------


def _problem(code: str, field: str, **params: object) -> Violation:
    values = {k: str(v) for k, v in params.items()}
    return Violation(
        code, EXPLANATIONS[code] % values, field=field, kind="invalid", params=tuple(values.items())
    )


def _whole(text: str, field: str, problems: list[Violation]) -> int | None:
    value = typed_decimal(text, NumberStyle())  # counts: no thousands, either mark refused
    if value is None or value != value.to_integral_value() or value > _MAX_TYPED:
        problems.append(_problem("form_whole_number", field))
        return None
    return int(value)


def form_to_policy(
    fields: Mapping[str, str], base: BrandPolicy, style: NumberStyle
) -> tuple[dict[str, Any], list[Violation]]:
    """The JSON-shaped settings the form's ``fields`` say, to lay over ``base`` (whose skills
    and languages name the priced fields), and what could not be read, by field. A setting
    whose field is missing from ``fields`` is left out (it keeps ``base``'s value); the
    checks of ``validate_policy`` are left to the caller."""
    problems: list[Violation] = []
    data: dict[str, Any] = {}

    def text(name: str) -> str | None:
        value = fields.get(name)
        return None if value is None else str(value)

    durations: dict[str, int] = {}
    for name in DURATIONS:
        typed, unit = text(name), text(f"{name}.unit")
        if typed is None:
            continue
        if unit is None or unit not in UNITS:
            problems.append(_problem("form_unit", name))
            continue
        value = typed_decimal(typed, style)
        if value is None or value > _MAX_TYPED:
            problems.append(_problem("form_number", name))
            continue
        seconds = value * UNITS[unit]
        if seconds != seconds.to_integral_value():
            problems.append(_problem("form_duration_seconds", name))
            continue
        durations[name] = int(seconds)
    sla = {
        key: durations[f"sla.{key}"]
        for key in ("first_response_s", "resolution_s")
        if f"sla.{key}" in durations
    }
    if sla:
        data["sla"] = sla
    if "auto_close_after_s" in durations:
        data["auto_close_after_s"] = durations["auto_close_after_s"]
    for name in COUNTS:
        typed = text(name)
        if typed is not None and (count := _whole(typed, name, problems)) is not None:
            data[name] = count
    mode = text("routing_mode")
    if mode is not None:
        if mode in {m.value for m in RoutingMode}:
            data["routing_mode"] = mode
        else:
            problems.append(_problem("form_choice", "routing_mode"))
    card = _rate_card(fields, base, style, problems)
    skills = _skills(fields, base, style, problems)
    if skills is not None:
        catalogue, removed, amounts = skills
        data["skills"] = catalogue
        renames = skill_renames(fields, base)
        if removed or amounts or renames:
            # A removed skill's amount goes with it (the checks refuse a rate for an unknown
            # skill); a renamed one's goes with its new name; a new skill's comes from its row.
            kept = {s["name"] for s in catalogue}
            base_minor = dict(card.get("base_minor", base.rate_card.base_minor))
            for name in removed - kept:
                base_minor.pop(name, None)
            for old, new in renames.items():
                if old in base_minor:
                    base_minor[new] = base_minor.pop(old)
            card["base_minor"] = base_minor | amounts
    bands = _bands(fields, style, problems)
    if bands is not None:
        card["time_of_day"] = bands
    if card:
        data["rate_card"] = card
    if LANGUAGES_FIELD in fields:
        ticked = [lang for lang in LOCALES if _typed(fields, f"{LANGUAGES_FIELD}.{lang}")]
        data["languages"] = [lang for lang in base.languages if lang in ticked] + [
            lang for lang in ticked if lang not in base.languages
        ]
    if "tiers" in fields:
        if TIERS_HIGHEST in fields and str(fields[TIERS_HIGHEST]).strip() not in {
            str(t) for t in TIERS
        }:
            problems.append(_problem("form_choice", TIERS_HIGHEST))
        highest = chosen_highest_tier(fields)
        data["tiers"] = [
            {
                "tier": tier,
                "unmasked": [f for f in CUSTOMER_FIELDS if _typed(fields, f"tiers.{tier}.{f}")],
            }
            for tier in TIERS
            if tier <= highest
        ]
    if TIMEZONE_FIELD in fields:
        hours = _business_hours(fields, problems)
        data.setdefault("sla", {})["business_hours"] = hours
        zone = _zone_without_hours(fields, base) if hours is None else None
        if zone is not None:
            data.setdefault("rate_card", {})["timezone"] = zone
    quality = _quality(fields, style, problems)
    if quality:
        data["quality"] = quality
    return data, problems


def _digits(fields: Mapping[str, str], base: BrandPolicy) -> int:
    """Amounts are read in the currency the form names: a new currency takes new amounts."""
    typed = fields.get("rate_card.currency")
    currency = base.rate_card.currency if typed is None else str(typed)
    return minor_exponent(unicodedata.normalize("NFKC", currency).strip().upper())


def _amount(
    fields: Mapping[str, str], name: str, digits: int, style: NumberStyle, problems: list[Violation]
) -> int | None:
    value = typed_decimal(fields[name], style)
    if value is None or value > MAX_AMOUNT_MINOR * 10:
        problems.append(_problem("form_number", name))
        return None
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        problems.append(_problem("form_amount_digits", name, digits=digits))
        return None
    return int(minor)


def _rate_card(
    fields: Mapping[str, str], base: BrandPolicy, style: NumberStyle, problems: list[Violation]
) -> dict[str, Any]:
    card: dict[str, Any] = {}
    currency = fields.get("rate_card.currency")
    if currency is not None:
        # Full-width letters of a CJK input method ("ＲＵＢ") are the code's.
        card["currency"] = unicodedata.normalize("NFKC", str(currency)).strip().upper()
    digits = _digits(fields, base)

    def amount(name: str) -> int | None:
        return _amount(fields, name, digits, style, problems)

    def present(name: str) -> bool:
        return name in fields and bool(str(fields[name]).strip())

    amounts = [f"rate_card.base_minor.{skill}" for skill in priced_skills(base)]
    if any(name in fields for name in amounts):
        base_minor: dict[str, int] = {}
        for name in amounts:
            if present(name) and (minor := amount(name)) is not None:
                base_minor[name.removeprefix("rate_card.base_minor.")] = minor
        card["base_minor"] = base_minor
    if "rate_card.default_base_minor" in fields:
        name = "rate_card.default_base_minor"
        card["default_base_minor"] = amount(name) if present(name) else None
    for section, keys in (
        (
            "complexity",
            (*COMPLEXITIES, *(k for k in base.rate_card.complexity if k not in COMPLEXITIES)),
        ),
        ("language_premium", price_languages(base)),
    ):
        names = [f"rate_card.{section}.{key}" for key in keys]
        if not any(name in fields for name in names):
            continue
        factors: dict[str, str] = {}
        for key, name in zip(keys, names, strict=True):
            if not present(name):
                continue
            value = typed_decimal(fields[name], style)
            if value is None:
                problems.append(_problem("form_number", name))
            else:
                factors[key] = str(value)
        card[section] = factors
    return card


def _skills(
    fields: Mapping[str, str], base: BrandPolicy, style: NumberStyle, problems: list[Violation]
) -> tuple[list[dict[str, Any]], set[str], dict[str, int]] | None:
    """The catalogue the skill rows say, the names of the skills ticked for removal, and the
    base amounts typed on new rows; None when the form has no skill rows. A row without a
    name and nothing else typed is a blank row, and is ignored."""
    rows = skill_rows(fields)
    if not rows:
        return None
    digits = _digits(fields, base)
    catalogue: list[dict[str, Any]] = []
    removed: set[str] = set()
    amounts: dict[str, int] = {}
    saved = set(base.skill_map)
    for row in rows:
        at = f"skills.{row}"
        name = str(fields[f"{at}.name"]).strip()
        original = str(fields.get(f"{at}.original", "")).strip()
        needs = [f for f in CUSTOMER_FIELDS if _typed(fields, f"{at}.needs.{f}")]
        certified = _typed(fields, f"{at}.requires_certification")
        priced = _typed(fields, f"{at}.base_minor")
        if _typed(fields, f"{at}.remove"):
            if original in saved or name:
                removed.add(original if original in saved else name)
            continue
        if not name:
            if needs or certified or priced or original in saved:
                problems.append(_problem("skill_name_empty", f"{at}.name"))
            continue
        if original in saved and name != original and name in saved:
            # Renamed onto a skill the brand has (kept, removed or renamed in this save):
            # two skills' tickets, experts and rates would merge.
            problems.append(_problem("skill_name_taken", f"{at}.name", skill=name))
            continue
        tier = _whole(str(fields.get(f"{at}.required_tier", "0")), f"{at}.required_tier", problems)
        if priced:
            minor = _amount(fields, f"{at}.base_minor", digits, style, problems)
            if minor is not None:
                amounts[name] = minor
        catalogue.append(
            {
                "name": name,
                "required_tier": 0 if tier is None else tier,
                "requires_certification": certified,
                "needs_fields": needs,
            }
        )
    return catalogue, removed, amounts


def skill_renames(fields: Mapping[str, str], base: BrandPolicy) -> dict[str, str]:
    """The saved skills whose row has another name typed: saved name → new name. A row ticked
    for removal or emptied renames nothing."""
    out: dict[str, str] = {}
    for row in skill_rows(fields):
        at = f"skills.{row}"
        original = str(fields.get(f"{at}.original", "")).strip()
        name = str(fields[f"{at}.name"]).strip()
        removed = _typed(fields, f"{at}.remove")
        if original in base.skill_map and name and name != original and not removed:
            out[original] = name
    return out


def _time_of_day(typed: str, name: str, problems: list[Violation], *, end: bool) -> str | None:
    """A typed time of day as the JSON writes it; 24:00 ends a band at midnight (00:00)."""
    text = unicodedata.normalize("NFKC", typed).strip()
    if end and text in {"24:00", "24:00:00"}:
        return time(0).isoformat()
    try:
        return time.fromisoformat(text).isoformat()
    except ValueError:
        problems.append(_problem("time_invalid", name))
        return None


def _bands(
    fields: Mapping[str, str], style: NumberStyle, problems: list[Violation]
) -> list[dict[str, str]] | None:
    """The time-of-day bands the rows say, or None when the form has no band rows."""
    if BANDS_FIELD not in fields:
        return None
    bands: list[dict[str, str]] = []
    for row in typed_bands(fields):
        at = f"{BANDS_FIELD}.{row}"
        band: dict[str, str] = {"label": str(fields.get(f"{at}.label", "")).strip()}
        for part in ("start", "end", "multiplier"):
            name = f"{at}.{part}"
            typed = str(fields.get(name, ""))
            if not typed.strip():
                problems.append(_problem("form_band_half", name))
                continue
            if part == "multiplier":
                value = typed_decimal(typed, style)
                if value is None:
                    problems.append(_problem("form_number", name))
                else:
                    band[part] = str(value)
            elif (text := _time_of_day(typed, name, problems, end=part == "end")) is not None:
                band[part] = text
        if len(band) == 4:
            bands.append(band)
    return bands


def _business_hours(fields: Mapping[str, str], problems: list[Violation]) -> dict[str, Any] | None:
    """Business hours as the JSON has them, or None for 24/7 (no window typed)."""
    windows: list[dict[str, Any]] = []
    for day, row in typed_windows(fields):
        at = f"sla.business_hours.{day}.{row}"
        times: list[time] = []
        for end in ("start", "end"):
            name = f"{at}.{end}"
            typed = unicodedata.normalize("NFKC", str(fields.get(name, ""))).strip()
            if not typed:
                problems.append(_problem("form_window_half", name))
                continue
            try:
                times.append(time.fromisoformat(typed))
            except ValueError:
                problems.append(_problem("time_invalid", name))
        if len(times) == 2:
            windows.append(
                {"weekday": day, "start": times[0].isoformat(), "end": times[1].isoformat()}
            )
    if not windows:
        return None
    zone = unicodedata.normalize("NFKC", str(fields[TIMEZONE_FIELD])).strip()
    return {"timezone": zone, "windows": windows}


def _zone_without_hours(fields: Mapping[str, str], base: BrandPolicy) -> str | None:
    """A time zone typed while no day has hours: the brand's own (the rate card's, which
    the field shows then, which time-of-day bands are read in, and which business hours
    take when they are added), or None when the field still says what it showed. It was
    dropped: the next page showed the old zone as if nothing had been typed."""
    typed = unicodedata.normalize("NFKC", str(fields[TIMEZONE_FIELD])).strip()
    bh = base.sla.business_hours
    shown = base.rate_card.timezone if bh is None else bh.timezone
    return typed if typed and typed != shown and typed != base.rate_card.timezone else None


def _quality(
    fields: Mapping[str, str], style: NumberStyle, problems: list[Violation]
) -> dict[str, Any]:
    quality: dict[str, Any] = {}
    if "quality.base_rate" in fields:
        share = typed_decimal(fields["quality.base_rate"], style)
        if share is None:
            problems.append(_problem("form_number", "quality.base_rate"))
        else:
            # As the JSON path stores it: a float whose repr is the decimal typed.
            quality["base_rate"] = float(share.scaleb(-2))
    for name in QUALITY_COUNTS:
        if name in fields and (count := _whole(fields[name], name, problems)) is not None:
            quality[name.removeprefix("quality.")] = count
    if "quality.low_csat" in fields:
        low = str(fields["quality.low_csat"]).strip()
        if low in LOW_CSAT_CHOICES:
            quality["low_csat"] = int(low) if low else None
        else:
            problems.append(_problem("form_choice", "quality.low_csat"))
    if quality or "quality.reopened" in fields:
        # A checkbox left unticked sends nothing: the form always sends the other fields.
        quality["reopened"] = bool(fields.get("quality.reopened"))
    return quality


# --------------------------------------------------------------------------------------------
# Which field a violation stands beside
# --------------------------------------------------------------------------------------------


def form_field(violation: Violation, form: Mapping[str, str]) -> str:
    """The form field ``violation`` belongs beside: its own when the form has it; a skill's
    row (``skills.<row>``, or its name) for what is wrong with that skill; a business-hours
    window's time; a time-of-day band's field or row; else its section ("sla", "rate_card",
    "quality", "skills", "tiers"), else "json" — the part the form leaves to JSON
    (languages, the scorecard's weights)."""
    path = violation.field or ""
    if path in form:
        return path
    skill = violation.param("skill")
    if violation.code == "skill_unpriced" and skill is not None:
        name = f"rate_card.base_minor.{skill}"
        if name in form:
            return name
        row = _skill_row(form, skill)
        if row is not None and f"skills.{row}.base_minor" in form:
            return f"skills.{row}.base_minor"
    if (
        violation.code in {"skill_name_too_long", "skill_duplicate"}
        and skill is not None
        and (row := _skill_row(form, skill)) is not None
    ):
        return f"skills.{row}.name"
    if path == "skills" and skill is not None and (row := _skill_row(form, skill)) is not None:
        return f"skills.{row}"
    if (
        violation.code == "timezone_unknown"
        and path in {"sla", "rate_card"}
        and (TIMEZONE_FIELD in form)
    ):
        return TIMEZONE_FIELD
    if at := _WINDOW_AT.fullmatch(path):
        typed = typed_windows(form)
        if int(at.group(1)) < len(typed):
            day, row = typed[int(at.group(1))]
            return f"sla.business_hours.{day}.{row}.{at.group(2) or 'end'}"
    if (at := _BAND_AT.fullmatch(path)) and BANDS_FIELD in form:
        rows = typed_bands(form)
        if int(at.group(1)) < len(rows):
            band = f"{BANDS_FIELD}.{rows[int(at.group(1))]}"
            return f"{band}.{at.group(2)}" if at.group(2) else band
    if path.startswith(("sla.business_hours", "rate_card.time_of_day", "quality.weights")):
        return "json"
    if violation.code in {"business_hours_empty", "weekday_out_of_range", "sla_ratio",
                          "language_unknown", "timezone_unknown"}:  # fmt: skip
        return "json"
    section = path.split(".", 1)[0]
    return section if section in {"sla", "rate_card", "quality", "skills", "tiers"} else "json"


def _skill_row(form: Mapping[str, str], skill: str) -> int | None:
    """The last row naming ``skill`` that is not ticked for removal (a skill typed again on
    a new row is the one to mend)."""
    rows = [
        row
        for row in skill_rows(form)
        if str(form[f"skills.{row}.name"]).strip() == skill
        and not _typed(form, f"skills.{row}.remove")
    ]
    return rows[-1] if rows else None


def explanation_params(violation: Violation, currency: str, style: NumberStyle) -> dict[str, str]:
    """The violation's params for its explanation; amounts in minor units are written as the
    reader writes the amount (the form takes major units)."""
    params = dict(violation.params)
    if violation.code in {"amount_too_large", "price_too_large"}:
        for key in ("limit", "price"):
            if key in params and params[key].isdigit():
                params[key] = amount_text(int(params[key]), currency, style)
    if violation.code == "duration_too_long" and "days" not in params:
        params["days"] = "365"
    return params


def differences(typed: Mapping[str, str], saved: Mapping[str, str]) -> list[str]:
    """The fields of a form whose typed value is not the saved policy's (both as the form
    writes them; hidden bookkeeping fields aside), in the form's order."""
    return [
        name
        for name, value in typed.items()
        if name in saved and not name.endswith(".original") and value.strip() != saved[name].strip()
    ]
