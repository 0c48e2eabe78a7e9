"""The policy form's second round: a saved skill renamed (everything that names it follows),
the rate card's time-of-day bands, a second business-hours window on one day, and the
number of tiers — through the form in the four languages and through the API."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crowdcx.kernel.db import Database
from crowdcx.tickets import policy_form
from crowdcx.tickets.models import ExpertProfileRow, TicketRow
from crowdcx.tickets.policy import BrandPolicy, policy_from_dict, validate_policy
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in
from tests.tickets.test_policy_form import STYLES, beside, form_fields, valid_policies

LOCALES = tuple(STYLES)


@settings(max_examples=100, suppress_health_check=[HealthCheck.filter_too_much], deadline=None)
@given(policy=valid_policies(), locale=st.sampled_from(LOCALES), data=st.data())
def test_a_name_typed_over_renames_the_skill_and_its_rate(
    policy: BrandPolicy, locale: str, data: st.DataObject
) -> None:
    style = STYLES[locale]
    form = policy_form.policy_to_form(policy, style)
    row = data.draw(st.sampled_from(range(len(policy.skills))))
    old = policy.skills[row].name
    new = data.draw(st.sampled_from(["Гарантийный ремонт", "保修 服务", "returns"]))
    assume(new not in policy.skill_map)
    form[f"skills.{row}.name"] = f" {new} "
    assert policy_form.skill_renames(form, policy) == {old: new}
    fields, problems = policy_form.form_to_policy(form, policy, style)
    assert problems == []
    after = policy_from_dict(fields, policy)
    assert isinstance(after, BrandPolicy)
    assert validate_policy(after) == []
    assert [s.name for s in after.skills] == [
        new if s.name == old else s.name for s in policy.skills
    ]
    assert after.skills[row] == replace(policy.skills[row], name=new)
    expected = {new if k == old else k: v for k, v in policy.rate_card.base_minor.items()}
    assert dict(after.rate_card.base_minor) == expected


def admin_form(client: TestClient, desk: Desk, locale: str) -> tuple[str, dict[str, str]]:
    token = sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", locale)
    page = client.get(f"/b/{desk.slug}/admin/policy")
    assert page.status_code == 200
    return token, form_fields(page.text) | {"csrf_token": token}


def post_form(client: TestClient, desk: Desk, fields: dict[str, str]) -> Any:
    return client.post(f"/b/{desk.slug}/admin/policy/form", data=fields, follow_redirects=False)


def skill_row(fields: dict[str, str], name: str) -> str:
    row = next(
        r for r in policy_form.skill_rows(fields) if fields.get(f"skills.{r}.original") == name
    )
    return f"skills.{row}"


# ------------------------------------------------------------------------------------------
# Renaming a skill
# ------------------------------------------------------------------------------------------


def test_renaming_a_skill_carries_its_tickets_experts_rate_and_articles(
    client: TestClient, world: World, db: Database
) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    body = {"skills": {"general": 4, "orders": 3}, "languages": ["zh-Hans"], "tier": 1}
    body["certifications"] = ["orders"]
    assert desk.put(f"/experts/{expert.id}", body, desk.admin).status_code == 200
    desk.online(expert)
    open_ticket = desk.ask(skill="orders")  # offered to the expert: an open ticket of it
    assert open_ticket["status"] == "offered"
    article = desk.post(
        "/articles",
        desk.agent,
        {"title": "退货流程", "body": "如何办理退货。", "language": "zh-Hans",
         "skills": ["orders", "general"]},
    )  # fmt: skip
    assert article.status_code == 201, article.text
    before = desk.get("/policy", desk.admin).json()

    _token, fields = admin_form(client, desk, "zh-Hans")
    at = skill_row(fields, "orders")
    assert fields[f"{at}.name"] == "orders"  # typed over to rename
    fields |= {f"{at}.name": "退货", f"{at}.needs.email": "1", "max_rings": "4"}
    saved = post_form(client, desk, fields)
    assert saved.status_code == 303, beside(saved.text, f"{at}.name") or saved.text[:3000]

    after = desk.get("/policy", desk.admin).json()
    assert [s["name"] for s in after["skills"]] == ["general", "退货", "billing"]
    assert after["skills"][1]["needs_fields"] == ["email", "order_number"]  # the row's edit too
    assert after["rate_card"]["base_minor"] == {"general": 500, "退货": 800, "billing": 1200}
    assert after["max_rings"] == 4
    assert after["tiers"] == before["tiers"]
    # The open ticket follows, and so do the expert's proficiency and certification.
    assert desk.get(f"/tickets/{open_ticket['id']}", desk.agent).json()["skill"] == "退货"
    with db.transaction() as uow:
        profile = uow.session.scalars(
            select(ExpertProfileRow).where(ExpertProfileRow.user_id == expert.id)
        ).one()
        assert profile.skills == {"general": 4, "退货": 3}
        assert profile.certifications == ["退货"]
        skills = uow.session.scalars(select(TicketRow.skill)).all()
        assert "orders" not in skills
    assert desk.get(f"/articles/{article.json()['id']}", desk.agent).json()["skills"] == [
        "退货",
        "general",
    ]
    # The ticket is still the expert's to take and is paid at the renamed skill's rate.
    claimed = desk.post(f"/tickets/{open_ticket['id']}/claim", expert)
    assert claimed.status_code == 200, claimed.text
    resolved = desk.post(f"/tickets/{open_ticket['id']}/resolve", expert)
    assert resolved.status_code == 200, resolved.text
    earnings = desk.get("/earnings/me", expert).json()
    assert earnings["lines"][0]["amount_minor"] == open_ticket["rate_minor"]
    # A new ticket of the new name is routed to the same expert.
    again = desk.ask(skill="退货")
    assert (again["status"], again["offered_to"]) == ("offered", expert.id)
    # The form now keys the row by the new name.
    _token, fields = admin_form(client, desk, "zh-Hans")
    assert fields[f"{skill_row(fields, '退货')}.name"] == "退货"
    assert fields["rate_card.base_minor.退货"] == "8.00"


@pytest.mark.parametrize(
    ("locale", "says"),
    [
        ("en", "Another skill is already called billing"),
        ("ru", "Навык с названием billing уже есть"),
        ("zh-Hans", "已有名为 billing 的技能"),
        ("zh-Hant", "已有名為 billing 的技能"),
    ],
)
def test_a_rename_onto_a_saved_name_is_refused_beside_the_field(
    client: TestClient, world: World, locale: str, says: str
) -> None:
    desk = Desk(client, world, experts=0)
    before = desk.get("/policy", desk.admin).json()
    _token, fields = admin_form(client, desk, locale)
    at = skill_row(fields, "orders")
    fields |= {f"{at}.name": "billing", "max_rings": "7"}
    refused = post_form(client, desk, fields)
    assert refused.status_code == 422
    assert says in beside(refused.text, f"{at}.name")
    kept = form_fields(refused.text)
    assert (kept[f"{at}.name"], kept[f"{at}.original"]) == ("billing", "orders")
    assert kept["max_rings"] == "7"
    assert desk.get("/policy", desk.admin).json() == before


def test_a_saved_skill_emptied_or_renamed_onto_a_new_row_is_refused(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=0)
    before = desk.get("/policy", desk.admin).json()
    _token, fields = admin_form(client, desk, "ru")
    at = skill_row(fields, "orders")
    fields[f"{at}.name"] = " "
    refused = post_form(client, desk, fields)
    assert refused.status_code == 422
    assert "должно быть название" in beside(refused.text, f"{at}.name")
    # Renamed to what a new row adds: listed twice, said beside the name.
    new = next(
        f"skills.{r}" for r in policy_form.skill_rows(fields) if not fields[f"skills.{r}.name"]
    )
    fields |= {f"{at}.name": "Гарантия", f"{new}.name": "Гарантия", f"{new}.base_minor": "1"}
    refused = post_form(client, desk, fields)
    assert refused.status_code == 422
    assert "указан дважды" in beside(refused.text, f"{new}.name")
    assert desk.get("/policy", desk.admin).json() == before


def test_a_skill_removed_while_another_is_renamed_keeps_the_open_ticket_rule(
    client: TestClient, world: World
) -> None:
    """Removing a skill open tickets need is still refused when the save renames another."""
    desk = Desk(client, world, experts=1)
    desk.ask(skill="general")
    _token, fields = admin_form(client, desk, "en")
    fields[f"{skill_row(fields, 'general')}.remove"] = "1"
    fields[f"{skill_row(fields, 'orders')}.name"] = "returns"
    refused = post_form(client, desk, fields)
    assert refused.status_code == 409
    assert "general" in beside(refused.text, "skills")
    names = [s["name"] for s in desk.get("/policy", desk.admin).json()["skills"]]
    assert names == ["general", "orders", "billing"]


def test_the_api_renames_a_skill_and_refuses_with_problem_details(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=1)
    ticket = desk.ask(skill="orders")
    renamed = desk.post("/policy/skills/rename", desk.admin, {"name": "orders", "new_name": "返品"})
    assert renamed.status_code == 200, renamed.text
    assert [s["name"] for s in renamed.json()["skills"]] == ["general", "返品", "billing"]
    assert renamed.json()["rate_card"]["base_minor"]["返品"] == 800
    assert desk.get(f"/tickets/{ticket['id']}", desk.agent).json()["skill"] == "返品"

    headers = {**desk.admin.auth, "Accept-Language": "ru"}
    taken = client.post(
        desk.url("/policy/skills/rename"), json={"name": "返品", "new_name": "general"},
        headers=headers,
    )  # fmt: skip
    assert taken.status_code == 409
    assert taken.headers["content-type"].startswith("application/problem+json")
    assert taken.json()["code"] == "skill_name_taken"
    assert "уже есть" in taken.json()["detail"]
    unknown = client.post(
        desk.url("/policy/skills/rename"), json={"name": "orders", "new_name": "x"},
        headers=headers,
    )  # fmt: skip
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "skill_unknown"
    too_long = desk.post(
        "/policy/skills/rename", desk.admin, {"name": "返品", "new_name": "z" * 61}
    )
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "skill_name_too_long"
    blank = desk.post("/policy/skills/rename", desk.admin, {"name": "返品", "new_name": "  "})
    assert blank.status_code == 422
    assert blank.headers["content-type"].startswith("application/problem+json")
    experts_only = desk.post(
        "/policy/skills/rename", desk.experts[0], {"name": "返品", "new_name": "y"}
    )
    assert experts_only.status_code == 403
    assert [s["name"] for s in desk.get("/policy", desk.admin).json()["skills"]] == [
        "general",
        "返品",
        "billing",
    ]


# ------------------------------------------------------------------------------------------
# Time-of-day bands
# ------------------------------------------------------------------------------------------


def band(fields: dict[str, str], row: int) -> str:
    return f"{policy_form.BANDS_FIELD}.{row}"


def test_bands_are_added_edited_and_removed_in_the_form(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=0)
    _token, fields = admin_form(client, desk, "ru")
    assert policy_form.band_rows(fields) == [0, 1]  # the night band and an empty row
    assert (fields["rate_card.time_of_day.0.start"], fields["rate_card.time_of_day.0.end"]) == (
        "22:00",
        "07:00",
    )
    assert fields["rate_card.time_of_day.0.multiplier"] == "1,25"  # the reader's comma
    fields |= {
        "rate_card.time_of_day.0.end": "06:00",
        "rate_card.time_of_day.0.multiplier": "1,3",
        "rate_card.time_of_day.1.start": "06:00",
        "rate_card.time_of_day.1.end": "09:00",
        "rate_card.time_of_day.1.multiplier": "1,1",
        "rate_card.time_of_day.1.label": "утро",
    }
    saved = post_form(client, desk, fields)
    assert saved.status_code == 303, saved.text[:3000]
    bands = desk.get("/policy", desk.admin).json()["rate_card"]["time_of_day"]
    assert bands == [
        {"start": "22:00:00", "end": "06:00:00", "multiplier": "1.3", "label": "night"},
        {"start": "06:00:00", "end": "09:00:00", "multiplier": "1.1", "label": "утро"},
    ]
    _token, fields = admin_form(client, desk, "zh-Hant")
    assert policy_form.band_rows(fields) == [0, 1, 2]
    fields["rate_card.time_of_day.0.remove"] = "1"  # the night band out
    for part in ("start", "end", "multiplier"):  # the morning band emptied: out too
        fields[f"rate_card.time_of_day.1.{part}"] = ""
    saved = post_form(client, desk, fields)
    assert saved.status_code == 303, saved.text[:3000]
    assert desk.get("/policy", desk.admin).json()["rate_card"]["time_of_day"] == []


@pytest.mark.parametrize(
    ("locale", "overlap", "zero", "half"),
    [
        ("en", "overlaps the band 22:00–07:00", "above 0", "its start, its end"),
        ("ru", "пересекается с интервалом 22:00–07:00", "больше 0", "начало, конец"),
        ("zh-Hans", "与时段 22:00–07:00 重叠", "大于 0", "开始时间、结束时间"),
        ("zh-Hant", "與時段 22:00–07:00 重疊", "大於 0", "開始時間、結束時間"),
    ],
)
def test_a_bad_band_is_explained_beside_it_in_the_readers_language(
    client: TestClient, world: World, locale: str, overlap: str, zero: str, half: str
) -> None:
    desk = Desk(client, world, experts=0)
    before = desk.get("/policy", desk.admin).json()
    _token, fields = admin_form(client, desk, locale)
    fields |= {
        "rate_card.time_of_day.1.start": "06:00",  # inside the night band (22:00–07:00)
        "rate_card.time_of_day.1.end": "08:00",
        "rate_card.time_of_day.1.multiplier": "1",
    }
    refused = post_form(client, desk, fields)
    assert refused.status_code == 422
    assert overlap in beside(refused.text, "rate_card.time_of_day.1")
    assert 'class="hours-row band-row has-error"' in refused.text
    kept = form_fields(refused.text)
    assert kept["rate_card.time_of_day.1.start"] == "06:00"

    fields |= {"rate_card.time_of_day.1.start": "08:00", "rate_card.time_of_day.1.end": "10:00"}
    fields["rate_card.time_of_day.1.multiplier"] = "0"
    refused = post_form(client, desk, fields)
    assert refused.status_code == 422
    assert zero in beside(refused.text, "rate_card.time_of_day.1.multiplier")

    fields |= {"rate_card.time_of_day.1.multiplier": "", "rate_card.time_of_day.0.start": "25:00"}
    refused = post_form(client, desk, fields)
    assert refused.status_code == 422
    assert half in beside(refused.text, "rate_card.time_of_day.1.multiplier")
    assert "HH:MM" in beside(refused.text, "rate_card.time_of_day.0.start") or "ЧЧ:ММ" in beside(
        refused.text, "rate_card.time_of_day.0.start"
    )
    assert desk.get("/policy", desk.admin).json() == before


def test_a_band_may_end_at_24_00_and_prices_the_ticket(client: TestClient, world: World) -> None:
    """24:00 typed for an end is midnight; a whole-day band prices every ticket."""
    desk = Desk(client, world, experts=1)
    _token, fields = admin_form(client, desk, "en")
    fields |= {
        "rate_card.time_of_day.0.start": "00:00",
        "rate_card.time_of_day.0.end": "２４：００",  # full-width, as a CJK input method types
        "rate_card.time_of_day.0.multiplier": "2",
    }
    saved = post_form(client, desk, fields)
    assert saved.status_code == 303, saved.text[:3000]
    (only,) = desk.get("/policy", desk.admin).json()["rate_card"]["time_of_day"]
    assert (only["start"], only["end"]) == ("00:00:00", "00:00:00")  # the whole day
    desk.online(desk.experts[0])
    assert desk.ask()["rate_minor"] == 2 * 500  # general, normal complexity, zh-Hans at 1


# ------------------------------------------------------------------------------------------
# A second business-hours window, and the tiers the brand uses
# ------------------------------------------------------------------------------------------


def test_a_day_gets_a_second_window_after_a_lunch_break(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=0)
    _token, fields = admin_form(client, desk, "zh-Hans")
    fields |= {
        policy_form.TIMEZONE_FIELD: "Asia/Shanghai",
        "sla.business_hours.0.0.start": "09:00",
        "sla.business_hours.0.0.end": "12:00",
    }
    assert post_form(client, desk, fields).status_code == 303
    _token, fields = admin_form(client, desk, "zh-Hans")
    assert fields["sla.business_hours.0.1.start"] == ""  # Monday's row for another window
    assert "sla.business_hours.1.1.start" not in fields  # a closed day has one row
    page = client.get(f"/b/{desk.slug}/admin/policy").text
    assert "星期一：另一个时段" in page
    fields |= {"sla.business_hours.0.1.start": "13:00", "sla.business_hours.0.1.end": "18:00"}
    assert post_form(client, desk, fields).status_code == 303
    hours = desk.get("/policy", desk.admin).json()["sla"]["business_hours"]
    assert hours["windows"] == [
        {"weekday": 0, "start": "09:00:00", "end": "12:00:00"},
        {"weekday": 0, "start": "13:00:00", "end": "18:00:00"},
    ]
    _token, fields = admin_form(client, desk, "zh-Hans")
    assert fields["sla.business_hours.0.1.end"] == "18:00"
    assert fields["sla.business_hours.0.2.start"] == ""
    # The second window's mistake is named beside its own input.
    fields |= {"sla.business_hours.0.1.start": "17:00", "sla.business_hours.0.1.end": "16:00"}
    refused = post_form(client, desk, fields)
    assert refused.status_code == 422
    assert beside(refused.text, "sla.business_hours.0.1.end")
    assert not beside(refused.text, "sla.business_hours.0.0.end")


def test_the_admin_chooses_how_many_tiers_the_brand_uses(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=0)
    _token, fields = admin_form(client, desk, "ru")
    assert fields[policy_form.TIERS_HIGHEST] == "3"
    fields[policy_form.TIERS_HIGHEST] = "1"
    refused = post_form(client, desk, fields)  # billing needs tier 2
    assert refused.status_code == 422
    assert "billing" in beside(refused.text, skill_row(fields, "billing"))
    fields[f"{skill_row(fields, 'billing')}.required_tier"] = "1"
    fields["tiers.1.email"] = "1"  # what billing needs, seen at tier 1
    saved = post_form(client, desk, fields)
    assert saved.status_code == 303, saved.text[:3000]
    tiers = desk.get("/policy", desk.admin).json()["tiers"]
    assert tiers == [
        {"tier": 0, "unmasked": ["name"]},
        {"tier": 1, "unmasked": ["email", "order_number"]},
    ]
    page = client.get(f"/b/{desk.slug}/admin/policy").text
    fields = form_fields(page)
    assert fields[policy_form.TIERS_HIGHEST] == "1"
    assert 'name="tiers.2.' not in page  # only the tiers in use have a row
    assert "Уровни с 0 по 1" in page
    fields[policy_form.TIERS_HIGHEST] = "9"
    refused = post_form(client, desk, fields | {"csrf_token": _token})
    assert refused.status_code == 422
    assert beside(refused.text, policy_form.TIERS_HIGHEST)


def test_the_admin_chooses_the_languages_experts_answer_in(
    client: TestClient, world: World
) -> None:
    """The policy's languages were only in the JSON editor: a box each now. Unticked ones
    are dropped, a ticked one comes after those kept, and none ticked is refused beside the
    boxes in the reader's language, saving nothing."""
    desk = Desk(client, world, experts=0)
    token, fields = admin_form(client, desk, "zh-Hant")
    before = desk.get("/policy", desk.admin).json()["languages"]
    assert len(before) > 1
    assert {k for k in fields if k.startswith("languages.")} == {f"languages.{x}" for x in before}
    for lang in before[:-1]:  # a browser sends nothing for an unticked box
        del fields[f"languages.{lang}"]
    saved = post_form(client, desk, fields)
    assert saved.status_code == 303, saved.text[:2000]
    assert desk.get("/policy", desk.admin).json()["languages"] == before[-1:]
    fields = form_fields(client.get(f"/b/{desk.slug}/admin/policy").text) | {"csrf_token": token}
    del fields[f"languages.{before[-1]}"]
    refused = post_form(client, desk, fields)
    assert refused.status_code == 422
    assert beside(refused.text, "languages") == "品牌至少要支援一種語言。"
    assert desk.get("/policy", desk.admin).json()["languages"] == before[-1:]
    fields[f"languages.{before[0]}"] = fields[f"languages.{before[-1]}"] = "1"
    assert post_form(client, desk, fields).status_code == 303
    assert desk.get("/policy", desk.admin).json()["languages"] == [before[-1], before[0]]
    # A form from before the boxes (no marker) leaves the languages as they are.
    fields = form_fields(client.get(f"/b/{desk.slug}/admin/policy").text) | {"csrf_token": token}
    old_page = {k: v for k, v in fields.items() if not k.startswith("languages")}
    assert post_form(client, desk, old_page).status_code == 303
    assert desk.get("/policy", desk.admin).json()["languages"] == [before[-1], before[0]]


@pytest.mark.parametrize(
    ("new_name", "locale", "shown"),
    [
        ("Billing and payments", "ru", "Оплата и счета"),  # as the English page names it
        ("Billing", "zh-Hant", "帳單與付款"),
        ("Оплата  и счета", "en", "Billing and payments"),  # as the Russian page names it
        ("Refunds", "ru", "Refunds"),  # a new meaning: as the admin wrote it
    ],
)
def test_a_renamed_default_skill_keeps_its_translation_while_it_keeps_its_meaning(
    client: TestClient, world: World, new_name: str, locale: str, shown: str
) -> None:
    desk = Desk(client, world, experts=0)
    r = desk.post("/policy/skills/rename", desk.admin, {"name": "billing", "new_name": new_name})
    assert r.status_code == 200, r.text
    sign_in(client, desk.customer)
    client.cookies.set("crowdcx_locale", locale)
    form = client.get(f"/b/{desk.slug}/tickets/new")
    assert form.status_code == 200
    options = re.findall(r'<option value="([^"]*)" *(?:selected)?>([^<]*)</option>', form.text)
    assert (new_name, shown) in options, options
