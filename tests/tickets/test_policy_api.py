"""PUT /policy through HTTP: bad input is a 422 problem naming the field, never a 500, and a
policy it accepts never makes a later ticket intake fail."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

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
            "base_minor": {"orders": 10**9, "billing": 1200},
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
