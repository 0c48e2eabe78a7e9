"""PUT /policy through HTTP: bad input is a 422 problem naming the field, never a 500, and a
policy it accepts never makes a later ticket intake fail."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crowdcx.kernel.db import Database
from crowdcx.tickets.models import ExpertProfileRow
from tests.conftest import World
from tests.tickets.test_api import Desk


@pytest.fixture
def desk(client: TestClient, world: World) -> Desk:
    d = Desk(client, world, experts=0)
    d.client = TestClient(client.app, raise_server_exceptions=False)  # a 500 as a status
    return d


def intake(desk: Desk, skill: str = "general") -> Any:
    body = {"subject": "Help", "body": "My order is late", "skill": skill}
    return desk.post("/tickets", desk.customer, body)


NIGHT = {"start": "22:00", "end": "07:00", "multiplier": "1.25", "label": "night"}


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"rate_card": {"default_base_minor": "500"}},
         "rate_card.default_base_minor", "amount_not_integer"),
        ({"rate_card": {"default_base_minor": 12.5}},
         "rate_card.default_base_minor", "amount_not_integer"),
        ({"rate_card": {"base_minor": {"general": True, "orders": 800, "billing": 1200}}},
         "rate_card.base_minor.general", "amount_not_integer"),
        ({"rate_card": {"language_premium": {"ru": "1e30"}}},
         "rate_card.language_premium.ru", "factor_invalid"),
        ({"rate_card": {"currency": "R$"}}, "rate_card.currency", "currency_invalid"),
        ({"rate_card": {"time_of_day": [{**NIGHT, "start": "00:00+08:00"}]}},
         "rate_card.time_of_day.0.start", "time_offset"),
        ({"sla": {"business_hours": {"timezone": "Asia/Shanghai", "windows": [
            {"weekday": 0, "start": "09:00+08:00", "end": "18:00"}]}}},
         "sla.business_hours.windows.0.start", "time_offset"),
        ({"sla": {"first_response_s": 3600, "resolution_s": 10**12}},
         "sla.resolution_s", "duration_too_long"),
        ({"sla": {"first_response_s": 60.5}}, "sla.first_response_s", "not_integer"),
        # Accepted before and never applied: urgent tickets are priced as "high", and the
        # card's low/normal/high factors (0.8/1/1.5) silently became 1.
        ({"rate_card": {"complexity": {"urgent": "2"}}},
         "rate_card.complexity.urgent", "complexity_unknown"),

        ({"quality": {"base_rate": 1.5}}, "quality.base_rate", "rate_invalid"),
        ({"quality": {"base_rate": "10%"}}, "quality.base_rate", "rate_invalid"),
        ({"quality": {"newcomer_reviews": -5}}, "quality.newcomer_reviews", "count_negative"),
        ({"quality": {"low_csat": 0}}, "quality.low_csat", "csat_invalid"),
        ({"quality": {"reopened": "no"}}, "quality.reopened", "not_boolean"),
        ({"quality": {"pass_mark": 700}}, "quality.pass_mark", "pass_mark_invalid"),
        ({"quality": {"weights": {"speed": 10}}}, "quality.weights.speed", "criterion_unknown"),
        ({"quality": {"weights": {"tone": -15}}}, "quality.weights.tone", "count_negative"),
        ({"quality": {"weights": {"solved": 0, "accuracy": 0, "tone": 0, "policy": 0}}},
         "quality.weights", "weights_zero"),
        ({"quality": None}, "quality", "quality_not_object"),
    ],
)  # fmt: skip
def test_bad_policy_input_is_a_422_naming_the_field(
    desk: Desk, body: dict[str, Any], field: str, code: str
) -> None:
    r = desk.put("/policy", body, desk.admin)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert (problem["field"], problem["code"]) == (field, code), problem
    assert field in problem["detail"]
    assert intake(desk).status_code == 201  # the policy in force is unchanged


def test_a_number_past_a_float_is_a_422_not_an_overflow(desk: Desk) -> None:
    """JSON's 1e400 reads as infinity, which int() refused with an OverflowError."""
    r = desk.client.put(
        desk.url("/policy"),
        content='{"sla": {"first_response_s": 60, "resolution_s": 1e400}}',
        headers={**desk.admin.auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert (r.json()["field"], r.json()["code"]) == ("sla.resolution_s", "not_integer")


def test_the_limits_themselves_are_accepted_and_tickets_still_come_in(desk: Desk) -> None:
    body = {
        "sla": {"first_response_s": 365 * 86_400, "resolution_s": 365 * 86_400},
        "rate_card": {
            "currency": "twd",
            "default_base_minor": 0,
            "base_minor": {"orders": 10**7, "billing": 1200},
            "complexity": {"normal": "100"},
            "time_of_day": [{**NIGHT, "start": "00:00", "end": "23:59"}],
        },
    }
    r = desk.put("/policy", body, desk.admin)
    assert r.status_code == 200, r.text
    assert r.json()["rate_card"]["currency"] == "TWD"
    created = intake(desk)
    assert created.status_code == 201, created.text
    assert created.json()["currency"] == "TWD"
    # The largest base amount is accepted too, with multipliers that keep the price in range.
    body = {"rate_card": {"base_minor": {"orders": 10**9, "billing": 1200},
                          "complexity": {"low": "1", "normal": "1", "high": "1"},
                          "language_premium": {}, "time_of_day": []}}  # fmt: skip
    assert desk.put("/policy", body, desk.admin).status_code == 200
    created = intake(desk, "orders")
    assert created.status_code == 201, created.text
    assert created.json()["rate_minor"] == 10**9


def test_a_rate_card_pricing_a_ticket_past_what_it_can_hold_is_refused(desk: Desk) -> None:
    """Base 10^9 and factors up to 100 were each accepted, and so was their product: every
    ticket priced above 2^31 - 1 minor units was then refused at intake on PostgreSQL
    (number_out_of_range; SQLite kept it), e.g. a high-priority Russian ticket at night with
    the default multipliers (1.5 × 1.2 × 1.25) and a base of 10^9."""
    body = {"rate_card": {"base_minor": {"general": 10**9, "orders": 800, "billing": 1200}}}
    r = desk.put("/policy", body, desk.admin)
    assert r.status_code == 422, r.text
    assert (r.json()["field"], r.json()["code"]) == ("rate_card", "price_too_large")
    assert "2250000000" in r.json()["detail"]
    assert intake(desk).status_code == 201  # the policy in force is unchanged
    # The most a card may price a ticket at is accepted, and that ticket comes in.
    top = {"start": "00:00", "end": "00:00", "multiplier": "1.25", "label": "always"}
    body = {"rate_card": {"base_minor": {"general": 2**31 - 1, "orders": 800, "billing": 1200},
                          "complexity": {"low": "0.8", "normal": "1", "high": "1"},
                          "language_premium": {"ru": "0.8"}, "time_of_day": [top]}}  # fmt: skip
    assert desk.put("/policy", body, desk.admin).status_code == 422  # 2^31 - 1 > 10^9
    body["rate_card"]["base_minor"]["general"] = 10**9
    body["rate_card"]["complexity"]["high"] = "1.7"
    r = desk.put("/policy", body, desk.admin)
    assert r.status_code == 200, r.text  # 10^9 × 1.7 × 1 × 1.25 = 2 125 000 000
    urgent = {"subject": "Помогите", "body": "Заказ не пришёл", "skill": "general",
              "priority": "urgent", "language": "en"}  # fmt: skip
    created = desk.post("/tickets", desk.customer, urgent)
    assert created.status_code == 201, created.text
    assert created.json()["rate_minor"] == 2_125_000_000


def test_a_policy_problem_reads_in_the_admins_language(desk: Desk) -> None:
    body = {"rate_card": {"default_base_minor": 12.5}}
    r = desk.client.put(
        desk.url("/policy"), json=body, headers={**desk.admin.auth, "Accept-Language": "ru"}
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("rate_card.default_base_minor")
    assert "копе" in r.json()["detail"], r.json()["detail"]  # "whole number of kopecks"
    r = desk.client.put(
        desk.url("/policy"), json=body, headers={**desk.admin.auth, "Accept-Language": "zh-TW"}
    )
    assert "rate_card.default_base_minor" in r.json()["detail"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"]), r.json()["detail"]


def test_changing_an_sla_target_keeps_the_business_hours(desk: Desk) -> None:
    """PUT /policy keeps what a body leaves out, but an "sla" without "business_hours" turned
    the business hours off: an admin who shortened the first-response target had the SLA
    clock run through nights and weekends, and tickets escalated at 3 a.m."""
    weekdays = [{"weekday": i, "start": "09:00", "end": "18:00"} for i in range(5)]
    hours = {"timezone": "Asia/Shanghai", "windows": weekdays}
    assert desk.put("/policy", {"sla": {"business_hours": hours}}, desk.admin).status_code == 200
    r = desk.put("/policy", {"sla": {"first_response_s": 7200}}, desk.admin)
    assert r.status_code == 200, r.text
    assert r.json()["sla"]["first_response_s"] == 7200
    assert (
        r.json()["sla"]["business_hours"]
        == desk.get("/policy", desk.admin).json()["sla"]["business_hours"]
    )
    assert r.json()["sla"]["business_hours"]["timezone"] == "Asia/Shanghai"
    assert len(r.json()["sla"]["business_hours"]["windows"]) == 5
    off = desk.put("/policy", {"sla": {"business_hours": None}}, desk.admin)  # around the clock
    assert off.status_code == 200, off.text
    assert off.json()["sla"]["business_hours"] is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/policy", {"max_concurrent": True}),
        ("/policy", {"offer_timeout_s": "120"}),
        ("expert", {"skills": {"general": 3}, "languages": ["en"], "tier": True}),
        ("expert", {"skills": {"general": True}, "languages": ["en"], "tier": 1}),
    ],
)
def test_true_false_and_quoted_numbers_are_not_read_as_numbers(
    desk: Desk, world: World, path: str, body: dict[str, Any]
) -> None:
    """A tier of `true` was stored as tier 1 (and skill levels, timeouts, loads the same): a
    typo in a script changed what experts see and are offered without a word."""
    expert = world.member(desk.slug, ["expert"], "Expert")
    target = f"/experts/{expert.id}" if path == "expert" else path
    r = desk.put(target, body, desk.admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_quality_settings_are_part_of_the_policy_and_their_problems_read_in_the_admins_language(
    desk: Desk,
) -> None:
    got = desk.get("/policy", desk.admin).json()["quality"]
    assert got == {
        "base_rate": 0.1, "newcomer_reviews": 5, "low_csat": 2, "reopened": True,
        "pass_mark": 70, "weights": {"solved": 40, "accuracy": 25, "tone": 15, "policy": 20},
    }  # fmt: skip
    r = desk.put("/policy", {"quality": {"pass_mark": 80, "low_csat": None}}, desk.admin)
    assert r.status_code == 200, r.text
    assert (r.json()["quality"]["pass_mark"], r.json()["quality"]["low_csat"]) == (80, None)
    assert r.json()["quality"]["base_rate"] == 0.1  # left out: kept
    # Another section saved without "quality" keeps the brand's quality settings.
    assert desk.put("/policy", {"max_rings": 4}, desk.admin).json()["quality"]["pass_mark"] == 80
    # Several problems at once: one error each, naming its field.
    bad = {"quality": {"pass_mark": 101, "weights": {"tone": -1, "speed": 1}}}
    r = desk.client.put(
        desk.url("/policy"), json=bad, headers={**desk.admin.auth, "Accept-Language": "ru"}
    )
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(errors) == {"quality.pass_mark", "quality.weights.tone", "quality.weights.speed"}
    for field, message in errors.items():
        assert message.startswith(field), message
        assert any("\u0400" <= ch <= "\u04ff" for ch in message), message
    r = desk.client.put(
        desk.url("/policy"), json=bad, headers={**desk.admin.auth, "Accept-Language": "zh-TW"}
    )
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"]), r.json()["detail"]
    assert desk.get("/policy", desk.admin).json()["quality"]["pass_mark"] == 80  # unchanged


def test_a_skill_is_removed_once_no_open_ticket_needs_it_and_experts_let_go_of_it(
    client: TestClient, world: World, db: Database
) -> None:
    """A skill taken out of the policy stayed in the experts' profiles: saving such an
    expert's profile was then refused ("unknown skill orders") until someone found the stale
    one, and a queued ticket of that skill could no longer be routed or priced. Now the save
    is refused while an open ticket needs the skill, and the profiles let go of it after."""
    desk = Desk(client, world, experts=2)
    queued = desk.ask(skill="orders")
    assert queued["status"] == "queued", queued
    policy = desk.get("/policy", desk.admin).json()
    without = {
        **policy,
        "skills": [s for s in policy["skills"] if s["name"] != "orders"],
        "rate_card": {
            **policy["rate_card"],
            "base_minor": {k: v for k, v in policy["rate_card"]["base_minor"].items()
                           if k != "orders"},
        },
    }  # fmt: skip
    refused = desk.put("/policy", without, desk.admin)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "skill_in_use"
    assert "orders" in refused.json()["detail"]
    assert "共 1 个" in refused.json()["detail"]  # the brand speaks Simplified Chinese
    assert desk.get("/policy", desk.admin).json() == policy  # nothing half-written
    assert desk.post(f"/tickets/{queued['id']}/deflect", desk.customer).status_code == 200
    saved = desk.put("/policy", without, desk.admin)
    assert saved.status_code == 200, saved.text
    expert = desk.experts[0]
    again = desk.put(
        f"/experts/{expert.id}",
        {"skills": {"general": 4}, "languages": ["zh-Hans"], "tier": 0, "certifications": []},
        desk.admin,
    )
    assert again.status_code == 200, again.text
    with db.sessions() as session:
        other = session.scalars(
            select(ExpertProfileRow.skills).where(ExpertProfileRow.user_id == desk.experts[1].id)
        ).one()
    assert other == {"general": 4}  # was {"general": 4, "orders": 3}


def test_an_unreadable_saved_policy_is_logged_once_when_the_defaults_stand_in(
    client: TestClient, world: World, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Intake, routing and pay fall back to the brand's defaults when the saved document
    cannot be read (a policy saved by an older release): the operator's log says so, once
    per saved version, naming the brand and the field — it was silent everywhere but the
    policy page."""
    from tests.tickets.test_policy_form import _store_as_saved

    desk = Desk(client, world, experts=0)
    stored = desk.get("/policy", desk.admin).json()
    stored["sla"]["first_response_s"] = "soon"
    _store_as_saved(db, desk.slug, stored)
    with caplog.at_level("WARNING", logger="crowdcx.tickets.service"):
        desk.ask()
        desk.ask()
    warnings = [r.getMessage() for r in caplog.records if r.name == "crowdcx.tickets.service"]
    assert len(warnings) == 1, warnings
    assert desk.slug in warnings[0]
    assert "sla.first_response_s" in warnings[0]
