"""A time zone typed in the policy form while no day has business hours was dropped without a
word: the page came back with the old zone. It is the brand's zone then (the rate card's,
which the field shows), so it is kept there, and business hours added later take it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.tickets import policy_form
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in
from tests.tickets.test_policy_form import beside, form_fields

ZONE = policy_form.TIMEZONE_FIELD


def _form(client: TestClient, desk: Desk, token: str) -> dict[str, str]:
    return form_fields(client.get(f"/b/{desk.slug}/admin/policy").text) | {"csrf_token": token}


def test_a_zone_typed_around_the_clock_is_kept_and_used_by_later_hours(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "zh-Hant")
    before = desk.get("/policy", desk.admin).json()
    assert before["sla"]["business_hours"] is None
    fields = _form(client, desk, token)
    assert fields[ZONE] == before["rate_card"]["timezone"] != "Asia/Taipei"
    fields[ZONE] = " Asia/Taipei "
    url = f"/b/{desk.slug}/admin/policy/form"
    saved = client.post(url, data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    after = desk.get("/policy", desk.admin).json()
    assert after["sla"]["business_hours"] is None  # still around the clock
    assert after["rate_card"]["timezone"] == "Asia/Taipei"
    fields = _form(client, desk, token)
    assert fields[ZONE] == "Asia/Taipei"  # the page shows what was typed
    # Hours added later, the zone untouched: they are Taipei's hours.
    fields |= {"sla.business_hours.0.0.start": "09:00", "sla.business_hours.0.0.end": "18:00"}
    saved = client.post(url, data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    hours = desk.get("/policy", desk.admin).json()["sla"]["business_hours"]
    assert hours["timezone"] == "Asia/Taipei"


def test_clearing_the_hours_leaves_the_brands_zone_alone(client: TestClient, world: World) -> None:
    """The field shows the hours' zone while there are hours: emptying every day, the zone
    left as it was is not a new zone for the brand."""
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.admin)
    brand_zone = desk.get("/policy", desk.admin).json()["rate_card"]["timezone"]
    url = f"/b/{desk.slug}/admin/policy/form"
    fields = _form(client, desk, token) | {
        ZONE: "Europe/Moscow",
        "sla.business_hours.0.0.start": "09:00",
        "sla.business_hours.0.0.end": "18:00",
    }
    assert client.post(url, data=fields, follow_redirects=False).status_code == 303
    fields = _form(client, desk, token)
    assert fields[ZONE] == "Europe/Moscow"
    fields |= {"sla.business_hours.0.0.start": "", "sla.business_hours.0.0.end": ""}
    assert client.post(url, data=fields, follow_redirects=False).status_code == 303
    after = desk.get("/policy", desk.admin).json()
    assert after["sla"]["business_hours"] is None
    assert after["rate_card"]["timezone"] == brand_zone


def test_an_unknown_zone_around_the_clock_is_explained_beside_the_field(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.admin)
    before = desk.get("/policy", desk.admin).json()
    fields = _form(client, desk, token) | {ZONE: "Asia/Taibei"}
    refused = client.post(f"/b/{desk.slug}/admin/policy/form", data=fields)
    assert refused.status_code == 422
    assert "time zone is unknown" in beside(refused.text, ZONE)
    assert form_fields(refused.text)[ZONE] == "Asia/Taibei"  # kept as typed
    assert desk.get("/policy", desk.admin).json() == before
