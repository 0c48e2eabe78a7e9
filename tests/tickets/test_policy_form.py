"""The ticket policy as a form: the common settings as fields in the reader's way of writing
numbers, and back; every violation explained beside its field in the reader's language."""

from __future__ import annotations

import ast
import html
import re
from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crowdcx.kernel.db import Database
from crowdcx.kernel.i18n import catalog_path, number_style, use_locale
from crowdcx.kernel.numbers import NumberStyle, typed_decimal
from crowdcx.payouts.rules import RateCard, TimeBand
from crowdcx.quality.rules import QualityPolicy, SamplingPolicy
from crowdcx.routing.rules import RoutingMode, SkillDef
from crowdcx.tenancy import service as tenancy
from crowdcx.tickets import policy as policy_mod
from crowdcx.tickets import policy_form
from crowdcx.tickets.models import BrandPolicyRow
from crowdcx.tickets.policy import (
    COMPLEXITIES,
    CUSTOMER_FIELDS,
    MAX_AMOUNT_MINOR,
    MAX_DURATION_S,
    BrandPolicy,
    DataAccessPolicy,
    TierAccess,
    default_policy,
    policy_from_dict,
    validate_policy,
)
from crowdcx.tickets.rules import BusinessHours, SlaPolicy, Window
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in

LOCALES = ("en", "ru", "zh-Hans", "zh-Hant")
STYLES = {}
for _locale in LOCALES:
    with use_locale(_locale):
        STYLES[_locale] = number_style()
SRC = Path(policy_mod.__file__).parent

# ------------------------------------------------------------------------------------------
# Policy → form → policy, for valid policies
# ------------------------------------------------------------------------------------------

factors = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)
amounts = st.integers(0, MAX_AMOUNT_MINOR)


fields = st.frozensets(st.sampled_from(CUSTOMER_FIELDS))
SKILL_NAMES = ("general", "orders", "billing", "Гарантия", "退货", "退換貨", "vip support")
ZONES = ("Asia/Shanghai", "Asia/Taipei", "Europe/Moscow", "UTC", "America/New_York")


@st.composite
def times_of_day(draw: st.DrawFn) -> time:
    """Times a time input writes (HH:MM), and now and then one with seconds."""
    return time(
        draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.sampled_from([0, 0, 30]))
    )


@st.composite
def business_hours(draw: st.DrawFn) -> BusinessHours | None:
    """None (24/7) or a zone and windows listed by weekday, as the form lists them."""
    windows = []
    for day in range(7):
        for _ in range(draw(st.integers(0, 2))):
            start = draw(times_of_day())
            end = draw(times_of_day().filter(lambda t, s=start: t > s) | st.just(time(0)))
            windows.append(Window(day, start, end))
    if not windows:
        return None
    return BusinessHours(draw(st.sampled_from(ZONES)), tuple(windows))


@st.composite
def catalogues(draw: st.DrawFn) -> tuple[tuple[SkillDef, ...], DataAccessPolicy]:
    """Tiers 0–N (N up to 3), each seeing some fields, and skills that some tier can serve."""
    highest = draw(st.integers(0, 3))
    tiers = DataAccessPolicy(tuple(TierAccess(t, draw(fields)) for t in range(highest + 1)))
    seen = tiers.unmasked_for(highest)
    names = draw(st.lists(st.sampled_from(SKILL_NAMES), min_size=1, max_size=4, unique=True))
    skills = tuple(
        SkillDef(
            name,
            requires_certification=draw(st.booleans()),
            required_tier=draw(st.integers(0, highest)),
            needs_fields=draw(st.frozensets(st.sampled_from(sorted(seen))))
            if seen
            else frozenset(),
        )
        for name in names
    )
    return skills, tiers


# Bands that never overlap one another, whichever are drawn (their times as typed).
BAND_TIMES = ((time(22), time(7)), (time(7), time(9)), (time(12), time(13, 30)),
              (time(18), time(22)), (time(9, 15, 30), time(11)))  # fmt: skip


@st.composite
def bands(draw: st.DrawFn) -> tuple[TimeBand, ...]:
    chosen = draw(st.lists(st.sampled_from(BAND_TIMES[:4]), unique=True, max_size=3))
    if draw(st.booleans()):
        chosen.append(BAND_TIMES[4])
    return tuple(
        TimeBand(
            start, end, draw(factors.filter(bool)), draw(st.sampled_from(["", "night", "午间"]))
        )
        for start, end in chosen
    )


@st.composite
def valid_policies(draw: st.DrawFn) -> BrandPolicy:
    languages = tuple(draw(st.lists(st.sampled_from(LOCALES), min_size=1, unique=True)))
    currency = draw(st.sampled_from(["CNY", "RUB", "TWD", "USD", "JPY", "KWD", "CLF"]))
    base = default_policy(currency, "Asia/Shanghai", languages)
    catalogue, tiers = draw(catalogues())
    base = replace(base, skills=catalogue, data_access=tiers)
    skills = [s.name for s in base.skills]
    default_base = draw(st.none() | amounts)
    base_minor = {
        name: amount
        for name in skills
        if (amount := draw(amounts if default_base is None else st.none() | amounts)) is not None
    }
    complexity = draw(st.dictionaries(st.sampled_from(COMPLEXITIES), factors))
    premium = draw(st.dictionaries(st.sampled_from(LOCALES), factors))
    first = draw(st.integers(1, MAX_DURATION_S))
    share = draw(st.decimals(min_value=0, max_value=1, places=6, allow_nan=False))
    card = base.rate_card
    policy = replace(
        base,
        sla=SlaPolicy(
            first, draw(st.integers(first, MAX_DURATION_S)), business_hours=draw(business_hours())
        ),
        rate_card=RateCard(
            currency=currency,
            base_minor=base_minor,
            complexity=complexity,
            language_premium=premium,
            time_of_day=draw(bands()),
            timezone=card.timezone,
            default_base_minor=default_base,
        ),
        offer_timeout_s=draw(st.integers(10, 3600)),
        max_concurrent=draw(st.integers(1, 100)),
        max_rings=draw(st.integers(1, 100)),
        routing_mode=draw(st.sampled_from(list(RoutingMode))),
        auto_close_after_s=draw(st.integers(0, MAX_DURATION_S)),
        quality=QualityPolicy(
            SamplingPolicy(
                base_rate=Fraction(repr(float(share))),  # as a saved policy holds it
                newcomer_reviews=draw(st.integers(0, 1000)),
                low_csat=draw(st.none() | st.integers(1, 5)),
                reopened=draw(st.booleans()),
            ),
            replace(base.quality.scorecard, pass_mark=draw(st.integers(0, 100))),
        ),
    )
    assume(not validate_policy(policy))
    return policy


def covered(p: BrandPolicy) -> tuple[Any, ...]:
    """What the form edits (everything else is kept from the policy it is laid over)."""
    card = p.rate_card
    return (
        p.sla.first_response_s,
        p.sla.resolution_s,
        p.auto_close_after_s,
        p.offer_timeout_s,
        p.max_concurrent,
        p.max_rings,
        p.routing_mode,
        card.currency,
        card.base_minor,
        card.default_base_minor,
        card.complexity,
        card.language_premium,
        p.quality.sampling,
        p.quality.scorecard.pass_mark,
        p.skills,
        p.data_access,
        p.sla.business_hours,
        card.time_of_day,
    )


# No deadline: a pure function, timed on machines whose cores are shared.
@settings(max_examples=200, suppress_health_check=[HealthCheck.filter_too_much], deadline=None)
@given(policy=valid_policies(), locale=st.sampled_from(LOCALES))
def test_a_valid_policy_comes_back_from_its_form_unchanged(
    policy: BrandPolicy, locale: str
) -> None:
    style = STYLES[locale]
    form = policy_form.policy_to_form(policy, style)
    data, problems = policy_form.form_to_policy(form, policy, style)
    assert problems == []
    assert policy_from_dict(data, policy) == policy
    # The form carries every setting it shows: laid over another policy, it gives them all.
    other = default_policy("EUR", "Europe/Moscow", policy.languages)
    assert covered(policy_from_dict(data, other)) == covered(policy)  # type: ignore[arg-type]


def test_the_form_writes_settings_as_a_reader_would() -> None:
    policy = default_policy("RUB", "Europe/Moscow", ("ru", "en"))
    card = replace(policy.rate_card, base_minor={**policy.rate_card.base_minor, "billing": 123456})
    form = policy_form.policy_to_form(replace(policy, rate_card=card), STYLES["ru"])
    assert (form["sla.first_response_s"], form["sla.first_response_s.unit"]) == ("4", "hours")
    assert (form["sla.resolution_s"], form["sla.resolution_s.unit"]) == ("1", "days")
    assert form["rate_card.base_minor.billing"] == "1\u00a0234,56"
    assert form["rate_card.complexity.high"] == "1,5"
    assert form["quality.base_rate"] == "10"  # per cent
    en = policy_form.policy_to_form(replace(policy, rate_card=card), STYLES["en"])
    assert en["rate_card.base_minor.billing"] == "1,234.56"


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [
        ("7,50", "ru", Decimal("7.50")),
        ("1 234,5", "ru", Decimal("1234.5")),
        ("1\u00a0234,5", "ru", Decimal("1234.5")),
        ("7.5", "ru", Decimal("7.5")),  # a dot separates no thousands in Russian
        ("１２，５", "ru", Decimal("12.5")),  # full width
        ("1,234.5", "en", Decimal("1234.5")),
        ("12,50", "en", None),  # not thousands, not a decimal mark there: refused, not 1250
        ("12,50", "zh-Hans", None),
        ("1,2,3", "en", None),
        ("-5", "ru", None),
        ("1e3", "en", None),
        ("NaN", "en", None),
        ("", "en", None),
        ("5,", "ru", None),
    ],
)
def test_numbers_are_read_as_the_reader_writes_them(
    text: str, locale: str, value: Decimal | None
) -> None:
    assert typed_decimal(text, STYLES[locale]) == value


def test_what_the_form_cannot_read_is_named_by_field() -> None:
    policy = default_policy("CNY")
    form = policy_form.policy_to_form(policy, STYLES["en"])
    form |= {
        "sla.first_response_s": "soon",
        "sla.resolution_s.unit": "weeks",
        "max_concurrent": "2.5",
        "routing_mode": "broadcast",
        "rate_card.base_minor.general": "5.001",  # CNY has two decimals
        "auto_close_after_s": "0.5",
        "auto_close_after_s.unit": "seconds",
        "quality.low_csat": "9",
    }
    _data, problems = policy_form.form_to_policy(form, policy, STYLES["en"])
    assert {(p.field, p.code) for p in problems} == {
        ("sla.first_response_s", "form_number"),
        ("sla.resolution_s", "form_unit"),
        ("max_concurrent", "form_whole_number"),
        ("routing_mode", "form_choice"),
        ("rate_card.base_minor.general", "form_amount_digits"),
        ("auto_close_after_s", "form_duration_seconds"),
        ("quality.low_csat", "form_choice"),
    }


def test_a_currency_typed_in_full_width_or_lower_case_is_its_code() -> None:
    policy = default_policy("CNY")
    form = policy_form.policy_to_form(policy, STYLES["zh-Hans"]) | {"rate_card.currency": "ｔｗｄ"}
    data, problems = policy_form.form_to_policy(form, policy, STYLES["zh-Hans"])
    assert problems == []
    assert data["rate_card"]["currency"] == "TWD"


# ------------------------------------------------------------------------------------------
# Every violation code has a translated explanation that its params fill in
# ------------------------------------------------------------------------------------------


def call_sites() -> dict[str, list[set[str] | None]]:
    """Each code tickets.policy and policy_form raise → the params each call site passes
    (None: some are passed on with ** and cannot be read here)."""
    sites: dict[str, list[set[str] | None]] = {}
    for module, makers in ((policy_mod, {"_v", "_m"}), (policy_form, {"_problem"})):
        tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in makers
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                continue
            names = {kw.arg for kw in node.keywords}
            params = None if None in names else {str(n) for n in names}
            if params is not None and node.func.id == "_m":
                params.add("field")
            sites.setdefault(str(node.args[0].value), []).append(params)
    return sites


def placeholders(template: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", template))


def test_every_violation_code_has_an_explanation_its_params_fill_in() -> None:
    sites = call_sites()
    assert len(sites) > 40  # the scan found the calls
    assert set(policy_form.FORM_CODES) <= set(sites)
    missing = sorted(set(sites) - set(policy_form.EXPLANATIONS))
    assert missing == [], f"codes without an explanation: {missing}"
    for code, passed in sites.items():
        needed = placeholders(policy_form.EXPLANATIONS[code])
        for params in passed:
            if params is not None:
                assert needed <= params, (code, needed, params)
            else:  # params passed on: only those the explanation does not need
                assert not needed - {"limit", "days"}, code


@pytest.mark.parametrize("locale", ["ru", "zh_Hans", "zh_Hant"])
def test_every_explanation_is_translated_with_the_same_placeholders(locale: str) -> None:
    with catalog_path(locale).open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    for code, template in policy_form.EXPLANATIONS.items():
        message = catalog.get(template)
        assert message is not None, (locale, code)
        assert message.string, (locale, code)
        assert placeholders(str(message.string)) == placeholders(template), (locale, code)
        assert str(message.string).count("%%") == template.count("%%"), (locale, code)


# ------------------------------------------------------------------------------------------
# Through HTTP
# ------------------------------------------------------------------------------------------


def form_fields(page: str) -> dict[str, str]:
    """The policy form's fields as a browser would send them (unticked boxes send nothing)."""
    start = page.index('action="/b/')
    start = page.index("/admin/policy/form", start)
    body = page[start : page.index("</form>", start)]
    out: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", body):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        out[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
    for name, options in re.findall(r'<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>', body):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        first = re.search(r'<option value="([^"]*)"', options)
        out[html.unescape(name)] = html.unescape((chosen or first).group(1))  # type: ignore[union-attr]
    return out


def beside(page: str, field: str) -> str:
    """The error texts shown beside ``field``'s input."""
    return " ".join(
        html.unescape(m)
        for m in re.findall(rf'<p class="error" id="err-{re.escape(field)}-\d+">(.*?)</p>', page)
    )


def test_saving_the_form_changes_the_policy_in_russian(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=0)
    before = desk.get("/policy", desk.admin).json()
    token = sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "ru")
    page = client.get(f"/b/{desk.slug}/admin/policy")
    assert page.status_code == 200
    fields = form_fields(page.text)
    assert fields["rate_card.base_minor.general"] == "5,00"  # the reader's decimal comma
    fields |= {
        "csrf_token": token,
        "sla.first_response_s": "45",
        "sla.first_response_s.unit": "minutes",
        "sla.resolution_s": "1,5",
        "sla.resolution_s.unit": "days",
        "rate_card.base_minor.general": "7,50",
        "rate_card.base_minor.billing": "1 234,5",
        "rate_card.language_premium.ru": "1,35",
        "routing_mode": "pull",
    }
    saved = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields, follow_redirects=False)
    assert saved.status_code == 303, beside(saved.text, "json") or saved.text[:2000]
    after = desk.get("/policy", desk.admin).json()
    assert after["sla"]["first_response_s"] == 45 * 60
    assert after["sla"]["resolution_s"] == 36 * 3600
    assert after["rate_card"]["base_minor"] == {"general": 750, "orders": 800, "billing": 123450}
    assert after["rate_card"]["language_premium"]["ru"] == "1.35"
    assert after["routing_mode"] == "pull"
    # What the form did not touch is as it was: the rest of the card, quality, tiers, skills.
    for key in ("skills", "tiers", "languages", "quality", "max_concurrent", "offer_timeout_s"):
        assert after[key] == before[key], key
    assert after["rate_card"]["time_of_day"] == before["rate_card"]["time_of_day"]
    again = client.get(f"/b/{desk.slug}/admin/policy?saved=1")
    assert "Сохранено" in again.text
    assert form_fields(again.text)["sla.resolution_s"] == "36"  # 1,5 days is 36 hours


def _russian_admin_form(
    client: TestClient, world: World
) -> tuple[Desk, dict[str, Any], str, dict[str, str]]:
    """A desk, its saved policy, and its admin's policy form as a Russian reader gets it."""
    desk = Desk(client, world, experts=0)
    before = desk.get("/policy", desk.admin).json()
    token = sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "ru")
    return desk, before, token, form_fields(client.get(f"/b/{desk.slug}/admin/policy").text)


def test_a_bad_value_is_explained_beside_it_and_the_rest_stays_typed(
    client: TestClient, world: World
) -> None:
    desk, before, token, fields = _russian_admin_form(client, world)
    fields |= {
        "csrf_token": token,
        "sla.first_response_s": "50",
        "sla.first_response_s.unit": "minutes",
        "rate_card.base_minor.general": "12,345",  # three decimals in a two-decimal currency
        "max_concurrent": "много",
    }
    refused = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields)
    assert refused.status_code == 422
    assert "знака(ов) после запятой" in beside(refused.text, "rate_card.base_minor.general")
    assert "целое число" in beside(refused.text, "max_concurrent")
    again = form_fields(refused.text)
    assert again["sla.first_response_s"] == "50"
    assert again["rate_card.base_minor.general"] == "12,345"
    assert again["max_concurrent"] == "много"
    assert desk.get("/policy", desk.admin).json() == before

    # Read, but refused by the policy's checks: each explained beside its own field.
    fields |= {
        "rate_card.base_minor.general": "5",
        "max_concurrent": "0",
        "rate_card.currency": "рубли",
        "offer_timeout_s": "5",
        "sla.first_response_s": "3",
        "sla.first_response_s.unit": "days",
    }
    refused = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields)
    assert refused.status_code == 422
    assert "хотя бы одно обращение" in beside(refused.text, "max_concurrent")
    assert "ISO 4217" in beside(refused.text, "rate_card.currency")
    assert "от 10 до 3600" in beside(refused.text, "offer_timeout_s")
    assert "позже срока решения" in beside(refused.text, "sla")
    assert form_fields(refused.text)["rate_card.currency"] == "рубли"
    assert "must" not in " ".join(re.findall(r'<p class="error"[^>]*>(.*?)</p>', refused.text))
    assert desk.get("/policy", desk.admin).json() == before


def _store_as_saved(db: Database, slug: str, stored: dict[str, Any]) -> None:
    """Write a policy document as an earlier release could have saved it (no checks)."""
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, slug, None)
        row = uow.session.query(BrandPolicyRow).filter_by(brand_id=ctx.brand.id).one()
        row.data = stored
        row.updated_at = datetime.now(UTC)


def test_a_stored_policy_that_breaks_a_check_is_shown_with_its_errors(
    client: TestClient, world: World, db: Database
) -> None:
    """A policy saved before a check existed (a currency "rubles", an amount as text) opens
    with the problem beside its field, in Chinese here, and the form mends it."""
    desk = Desk(client, world, experts=0)
    stored = desk.get("/policy", desk.admin).json()
    stored["rate_card"]["currency"] = "rubles"
    stored["rate_card"]["base_minor"]["orders"] = "8.00"
    _store_as_saved(db, desk.slug, stored)
    token = sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "zh-Hans")
    page = client.get(f"/b/{desk.slug}/admin/policy")
    assert page.status_code == 200
    assert "ISO 4217 货币代码" in beside(page.text, "rate_card.currency")
    assert "以数字输入金额" in beside(page.text, "rate_card.base_minor.orders")
    fields = form_fields(page.text)
    assert fields["rate_card.currency"] == "RUBLES"
    fields |= {"csrf_token": token, "rate_card.currency": "rub", "rate_card.base_minor.orders": "8"}
    saved = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    card = desk.get("/policy", desk.admin).json()["rate_card"]
    assert (card["currency"], card["base_minor"]["orders"]) == ("RUB", 800)


def test_a_stored_policy_that_cannot_be_read_says_so_beside_the_field(
    client: TestClient, world: World, db: Database
) -> None:
    """Unreadable, the saved document gives way to the brand's defaults (load_policy): the
    page says so, and which value broke it, instead of showing the defaults as if saved."""
    desk = Desk(client, world, experts=0)
    stored = desk.get("/policy", desk.admin).json()
    stored["sla"]["first_response_s"] = "soon"
    _store_as_saved(db, desk.slug, stored)
    sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "ru")
    page = client.get(f"/b/{desk.slug}/admin/policy")
    assert page.status_code == 200
    assert "не удалось прочитать" in html.unescape(page.text)
    assert beside(page.text, "sla.first_response_s") == "Введите целое число."


def test_the_api_explains_every_policy_violation_in_the_readers_language(
    client: TestClient, world: World
) -> None:
    """Codes without a template in tickets.policy.MESSAGES were English in the problem."""
    desk = Desk(client, world, experts=0)
    refused = client.put(
        desk.url("/policy"),
        json={"sla": {"first_response_s": 7200, "resolution_s": 3600}},
        headers={**desk.admin.auth, "Accept-Language": "ru"},
    )
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert errors[0]["code"] == "sla_order"
    assert "позже срока решения" in errors[0]["message"]


def test_a_style_without_grouping_reads_its_own_amounts() -> None:
    """A style whose group mark is a dot (as some locales write) still reads what it wrote."""
    style = NumberStyle(",", ".")
    policy = default_policy("EUR")
    card = replace(policy.rate_card, base_minor={"general": 123456789, "orders": 1, "billing": 0})
    policy = replace(policy, rate_card=card)
    form = policy_form.policy_to_form(policy, style)
    assert form["rate_card.base_minor.general"] == "1.234.567,89"
    data, problems = policy_form.form_to_policy(form, policy, style)
    assert problems == []
    assert policy_from_dict(data, policy) == policy


def test_intake_refused_by_a_stored_bad_currency_says_why_in_the_readers_language(
    client: TestClient, world: World, db: Database
) -> None:
    """A rate card saved before the currency check cannot price an inquiry: the refusal was
    the pricing rule's English ("'RUBLES' is not an ISO 4217 code") under a Chinese title."""
    desk = Desk(client, world, experts=0)
    stored = desk.get("/policy", desk.admin).json()
    stored["rate_card"]["currency"] = "rubles"
    _store_as_saved(db, desk.slug, stored)
    body = {"subject": "耳机无法连接蓝牙", "body": "重启也没用。", "skill": "general"}
    r = client.post(
        desk.url("/tickets"), json=body,
        headers={**desk.customer.auth, "Accept-Language": "zh-CN"},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "currency_invalid"
    assert "ISO 4217" in r.json()["detail"]
    assert "is not an ISO 4217 code" not in r.json()["detail"]
    assert re.search(r"[\u4e00-\u9fff]", r.json()["detail"]), r.json()["detail"]


# ------------------------------------------------------------------------------------------
# Skills, tiers and business hours through the form
# ------------------------------------------------------------------------------------------


def new_row(fields: dict[str, str]) -> str:
    """The first empty skill row's prefix ("skills.3")."""
    rows = policy_form.skill_rows(fields)
    return next(f"skills.{r}" for r in rows if not fields[f"skills.{r}.name"])


def test_a_skill_added_through_the_form_can_be_given_to_an_expert_and_routed(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    token = sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "en")
    fields = form_fields(client.get(f"/b/{desk.slug}/admin/policy").text)
    at = new_row(fields)
    fields |= {
        "csrf_token": token,
        f"{at}.name": "保修",
        f"{at}.required_tier": "2",
        f"{at}.requires_certification": "1",
        f"{at}.needs.email": "1",
        f"{at}.base_minor": "9.90",
    }
    saved = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    policy = desk.get("/policy", desk.admin).json()
    assert policy["skills"][-1] == {
        "name": "保修",
        "requires_certification": True,
        "required_tier": 2,
        "needs_fields": ["email"],
    }
    assert policy["rate_card"]["base_minor"]["保修"] == 990
    # Saved, the new skill is a row like the others, priced in the rate card section.
    again = form_fields(client.get(f"/b/{desk.slug}/admin/policy").text)
    assert again["rate_card.base_minor.保修"] == "9.90"
    # Routable: a certified tier-2 expert may hold it, and is offered its ticket.
    body = {"skills": {"保修": 4}, "languages": ["zh-Hans"], "tier": 2, "certifications": []}
    body["certifications"] = ["保修"]
    assert desk.put(f"/experts/{expert.id}", body, desk.admin).status_code == 200
    desk.online(expert)
    ticket = desk.ask(skill="保修")
    assert (ticket["status"], ticket["offered_to"]) == ("offered", expert.id)
    assert ticket["rate_minor"] >= 990


def test_the_tiers_grid_changes_what_a_tier_sees(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.admin)
    fields = form_fields(client.get(f"/b/{desk.slug}/admin/policy").text)
    assert fields["tiers.0.name"] == "1"
    assert "tiers.1.phone" not in fields  # unticked
    del fields["tiers.0.name"]  # untick: the browser sends nothing
    fields |= {"csrf_token": token, "tiers.1.phone": "1", "tiers.1.name": "1"}
    saved = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    tiers = desk.get("/policy", desk.admin).json()["tiers"]
    assert tiers == [
        {"tier": 0, "unmasked": []},
        {"tier": 1, "unmasked": ["name", "order_number", "phone"]},
        {"tier": 2, "unmasked": ["email"]},
        {"tier": 3, "unmasked": ["address", "phone"]},
    ]


def test_business_hours_are_set_day_by_day_and_cleared_for_24_7(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "zh-Hant")
    page = client.get(f"/b/{desk.slug}/admin/policy").text
    assert 'data-testid="hours-24-7"' in page
    fields = form_fields(page) | {"csrf_token": token}
    fields[policy_form.TIMEZONE_FIELD] = "Asia/Taipei"
    for day in range(5):
        fields |= {f"sla.business_hours.{day}.0.start": "09:00"}
        fields |= {f"sla.business_hours.{day}.0.end": "18:00"}
    fields |= {"sla.business_hours.5.0.start": "１０：００", "sla.business_hours.5.0.end": "00:00"}
    saved = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    hours = desk.get("/policy", desk.admin).json()["sla"]["business_hours"]
    assert hours["timezone"] == "Asia/Taipei"
    assert hours["windows"][0] == {"weekday": 0, "start": "09:00:00", "end": "18:00:00"}
    assert hours["windows"][5] == {"weekday": 5, "start": "10:00:00", "end": "00:00:00"}
    assert len(hours["windows"]) == 6  # Sunday is closed
    page = client.get(f"/b/{desk.slug}/admin/policy").text
    assert 'data-testid="hours-24-7"' not in page
    fields = form_fields(page) | {"csrf_token": token}
    assert fields["sla.business_hours.5.0.start"] == "10:00"
    for name in [n for n in fields if n.startswith("sla.business_hours.") and n[-1] in "td"]:
        fields[name] = ""  # .start / .end emptied: around the clock again
    saved = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    assert desk.get("/policy", desk.admin).json()["sla"]["business_hours"] is None


def test_a_bad_zone_or_window_is_explained_beside_it_and_the_rest_stays_typed(
    client: TestClient, world: World
) -> None:
    desk, before, token, fields = _russian_admin_form(client, world)
    at = new_row(fields)
    fields |= {
        "csrf_token": token,
        policy_form.TIMEZONE_FIELD: "Europe/Moskva",
        "sla.business_hours.0.0.start": "09:00",
        "sla.business_hours.0.0.end": "18:00",
        "sla.business_hours.1.0.start": "18:00",
        "sla.business_hours.1.0.end": "09:00",  # ends before it starts
        "tiers.3.email": "1",
        f"{at}.name": "Гарантия",
        f"{at}.base_minor": "3",
    }
    refused = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields)
    assert refused.status_code == 422
    assert "Неизвестный часовой пояс" in beside(refused.text, policy_form.TIMEZONE_FIELD)
    assert "заканчиваться позже" in beside(refused.text, "sla.business_hours.1.0.end")
    kept = form_fields(refused.text)
    for name in (policy_form.TIMEZONE_FIELD, "sla.business_hours.1.0.end", f"{at}.name"):
        assert kept[name] == fields[name], name
    assert kept["tiers.3.email"] == "1"
    assert desk.get("/policy", desk.admin).json() == before

    # Half a window, and a time that is no time: each beside its own input.
    fields |= {
        policy_form.TIMEZONE_FIELD: "Europe/Moscow",
        "sla.business_hours.1.0.end": "",
        "sla.business_hours.2.0.start": "9 утра",
        "sla.business_hours.2.0.end": "17:00",
    }
    refused = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields)
    assert refused.status_code == 422
    assert "время открытия, и время закрытия" in beside(refused.text, "sla.business_hours.1.0.end")
    assert "ЧЧ:ММ" in beside(refused.text, "sla.business_hours.2.0.start")
    assert desk.get("/policy", desk.admin).json() == before


def test_a_skill_open_tickets_need_is_kept_and_the_form_says_why(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=1)
    desk.ask(skill="orders")
    token = sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "zh-Hans")
    fields = form_fields(client.get(f"/b/{desk.slug}/admin/policy").text)
    row = next(r for r in policy_form.skill_rows(fields) if fields[f"skills.{r}.name"] == "orders")
    at = new_row(fields)
    fields |= {"csrf_token": token, f"skills.{row}.remove": "1", "max_rings": "4"}
    fields |= {f"{at}.name": "退货", f"{at}.base_minor": "6"}
    refused = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields)
    assert refused.status_code == 409
    assert "orders" in beside(refused.text, "skills")
    assert re.search(r"[\u4e00-\u9fff]", beside(refused.text, "skills"))
    kept = form_fields(refused.text)
    assert kept[f"skills.{row}.remove"] == "1"
    assert kept["max_rings"] == "4"
    assert kept[f"{at}.name"] == "退货"
    policy = desk.get("/policy", desk.admin).json()
    assert [s["name"] for s in policy["skills"]] == ["general", "orders", "billing"]


def test_removing_a_skill_takes_its_rate_with_it_and_a_new_one_needs_a_price(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.admin)
    fields = form_fields(client.get(f"/b/{desk.slug}/admin/policy").text) | {"csrf_token": token}
    at = new_row(fields)
    fields |= {"skills.2.remove": "1", f"{at}.name": "returns"}  # billing out; no price
    refused = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields)
    assert refused.status_code == 422
    assert "has no base amount" in beside(refused.text, f"{at}.base_minor")
    fields[f"{at}.base_minor"] = "4.50"
    saved = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    policy = desk.get("/policy", desk.admin).json()
    assert [s["name"] for s in policy["skills"]] == ["general", "orders", "returns"]
    assert policy["rate_card"]["base_minor"] == {"general": 500, "orders": 800, "returns": 450}


def test_a_blank_skill_row_is_ignored_and_a_nameless_one_with_settings_is_not() -> None:
    policy = default_policy("CNY")
    form = policy_form.policy_to_form(policy, STYLES["en"])
    data, problems = policy_form.form_to_policy(form, policy, STYLES["en"])
    assert problems == []
    assert len(data["skills"]) == 3
    at = new_row(form)
    form[f"{at}.requires_certification"] = "1"
    _data, problems = policy_form.form_to_policy(form, policy, STYLES["en"])
    assert [(p.code, p.field) for p in problems] == [("skill_name_empty", f"{at}.name")]
