"""The erasure audit through HTTP: every erasure leaves a row (who, whose, when, how many
tickets; ids only) that platform administrators read in full and a brand's admins read for
their brand; a claim racing an erasure never leaves a ticket owned by an erased account;
the members page erases a customer's data after a confirmation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from crowdcx.tickets import service as tickets_service
from tests.conftest import PASSWORD, World
from tests.tickets.test_api import PHONE, Desk
from tests.tickets.test_pages import sign_in


def _erasures(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    r = client.get(url, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_every_erasure_is_audited_without_personal_data(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    admin = world.person("Platform admin", platform_admin=True)
    # 1. Someone with no tickets deletes their own account: a row all the same.
    quiet = world.member(desk.slug, ["customer"], "Quiet Quentin")
    r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=quiet.auth)
    assert r.status_code == 200, r.text
    # 2. The brand admin erases a customer's data in the brand's tickets.
    tid = int(desk.ask(language="en")["id"])
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    url = f"/api/v1/brands/{desk.slug}/customers/{desk.customer.id}/erase"
    assert client.post(url, headers=desk.admin.auth).status_code == 200
    assert client.post(url, headers=desk.admin.auth).status_code == 200  # a repeat: no row
    # 3. A platform administrator deletes an account that never joined a brand.
    loner = world.person("Lonely Lena")
    assert client.post(f"/api/v1/users/{loner.id}/erase", headers=admin.auth).status_code == 200
    assert client.post(f"/api/v1/users/{loner.id}/erase", headers=admin.auth).status_code == 200

    every = _erasures(client, "/api/v1/erasures", admin.auth)
    got = [
        (e["user_id"], e["actor_id"], e["actor_role"], e["scope"], e["tickets_erased"], e["brands"])
        for e in every["items"]
    ]
    assert got == [
        (loner.id, admin.id, "platform", "account", 0, []),
        (desk.customer.id, desk.admin.id, "staff", "brand", 1,
         [{"brand": desk.slug, "tickets_erased": 1}]),
        (quiet.id, quiet.id, "customer", "account", 0, [{"brand": desk.slug, "tickets_erased": 0}]),
    ]  # fmt: skip
    assert every["next_cursor"] is None
    assert all(e["at"] for e in every["items"])
    for personal in ("Quentin", "Lena", "李伟", quiet.email, loner.email, "example"):
        assert personal not in str(every), personal
    # Paged, newest first.
    first = _erasures(client, "/api/v1/erasures", admin.auth, limit=2)
    assert [e["user_id"] for e in first["items"]] == [loner.id, desk.customer.id]
    rest = _erasures(client, "/api/v1/erasures", admin.auth, limit=2, cursor=first["next_cursor"])
    assert [e["user_id"] for e in rest["items"]] == [quiet.id]
    assert rest["next_cursor"] is None

    # The brand's admins read their brand's erasures; nobody else does.
    mine = _erasures(client, f"/api/v1/brands/{desk.slug}/erasures", desk.admin.auth)
    assert [(e["user_id"], e["scope"], e["tickets_erased"]) for e in mine["items"]] == [
        (desk.customer.id, "brand", 1),
        (quiet.id, "account", 0),
    ]
    assert "brands" not in mine["items"][0]
    elsewhere = Desk(client, world, experts=0)
    theirs = _erasures(client, f"/api/v1/brands/{elsewhere.slug}/erasures", elsewhere.admin.auth)
    assert theirs["items"] == []
    r = client.get(f"/api/v1/brands/{desk.slug}/erasures", headers=elsewhere.admin.auth)
    assert r.status_code == 403
    for who in (desk.agent, expert):
        r = client.get(f"/api/v1/brands/{desk.slug}/erasures", headers=who.auth)
        assert r.status_code == 403, r.text
    r = client.get("/api/v1/erasures", headers=desk.admin.auth)
    assert r.status_code == 403
    assert r.json()["code"] == "platform_admin_required"
    r = client.get("/api/v1/erasures", params={"cursor": "nonsense"}, headers=admin.auth)
    assert r.status_code == 422


def test_a_claim_racing_an_erasure_never_leaves_a_ticket_with_an_erased_owner(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim has authenticated its expert; the erasure commits before the claim writes
    (no claimed ticket yet, so it is not refused). The claim must then fail."""
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    admin = world.person("Platform admin", platform_admin=True)
    ticket = desk.ask()
    assert ticket["offered_to"] == expert.id
    load_policy = tickets_service.load_policy
    erased: list[int] = []

    def erase_meanwhile(*args: Any, **kwargs: Any) -> Any:
        if not erased:
            r = client.post(f"/api/v1/users/{expert.id}/erase", headers=admin.auth)
            erased.append(r.status_code)
        return load_policy(*args, **kwargs)

    monkeypatch.setattr(tickets_service, "load_policy", erase_meanwhile)
    r = desk.post(f"/tickets/{ticket['id']}/claim", expert)
    assert erased == [200]
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "account_inactive"
    monkeypatch.setattr(tickets_service, "load_policy", load_policy)
    seen = desk.get(f"/tickets/{ticket['id']}", desk.agent).json()
    assert seen["owner_id"] is None
    assert seen["status"] != "claimed"


def test_the_members_page_erases_a_customers_data_after_a_confirmation(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = int(desk.ask(language="en")["id"])
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    token = sign_in(client, desk.admin)
    members = f"/b/{desk.slug}/admin/members"
    listing = client.get(members)
    assert listing.status_code == 200
    assert f'href="{members}/{desk.customer.id}/erase"' in listing.text
    for staff in (desk.admin, desk.agent, expert):  # staff and experts: not from here
        assert f"{members}/{staff.id}/erase" not in listing.text
        assert client.get(f"{members}/{staff.id}/erase").status_code == 404
    confirm = client.get(f"{members}/{desk.customer.id}/erase", params={"lang": "zh-Hant"})
    assert confirm.status_code == 200
    assert "李伟" in confirm.text
    assert desk.customer.email in confirm.text
    assert "清除這位客戶的資料" in confirm.text, confirm.text
    # CSRF-protected; only the brand's admin.
    no_token = client.post(f"{members}/{desk.customer.id}/erase", follow_redirects=False)
    assert no_token.status_code == 403
    assert desk.get(f"/tickets/{tid}", desk.admin).json()["customer_fields"]["phone"] == PHONE

    done = client.post(
        f"{members}/{desk.customer.id}/erase",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{members}?erased=1"
    result = client.get(done.headers["location"] + "&lang=ru")
    assert "Данные клиента удалены из обращений бренда (обращений: 1)" in result.text, result.text
    seen = desk.get(f"/tickets/{tid}", desk.admin).json()
    assert not any(seen["customer_fields"].values())
    log = _erasures(client, f"/api/v1/brands/{desk.slug}/erasures", desk.admin.auth)
    assert [(e["user_id"], e["actor_id"], e["scope"]) for e in log["items"]] == [
        (desk.customer.id, desk.admin.id, "brand")
    ]
    # An agent of the brand may not.
    sign_in(client, desk.agent)
    assert client.get(f"{members}/{desk.customer.id}/erase").status_code == 403
