"""Who hears and works what: escalation notices only reach the brand's staff, an expert whose
role or account is gone is offered nothing, and staff resolve alike through the API and the
ticket page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

import crowdcx.web.pages as web_pages
from crowdcx.identity.models import User
from tests.conftest import Person, World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in


def _channels(client: TestClient, person: Person, monkeypatch: Any) -> list[str]:
    """The channels GET /live subscribes ``person`` to (the real route, the stream stubbed)."""
    seen: list[list[str]] = []

    async def fake_stream(_b: Any, channels: Any, _d: Any, **_kw: Any) -> AsyncIterator[bytes]:
        seen.append(list(channels))
        yield b"done\n"

    monkeypatch.setattr(web_pages, "sse_stream", fake_stream)
    assert client.get("/live", headers=person.auth).status_code == 200
    return seen[-1]


def test_an_escalation_notice_reaches_staff_and_no_other_customer(
    app: FastAPI, client: TestClient, world: World, monkeypatch: Any
) -> None:
    desk = Desk(client, world, experts=1)
    snooper = world.member(desk.slug, ["customer"], "Other customer")
    theirs = _channels(client, snooper, monkeypatch)
    staff = _channels(client, desk.agent, monkeypatch)
    published: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(
        app.state.broadcaster, "publish", lambda c, e, d: published.append((c, e, d))
    )
    expert = desk.experts[0]
    desk.online(expert)
    ticket = desk.ask(subject="My private refund SECRET-SUBJECT")
    assert desk.post(f"/tickets/{ticket['id']}/claim", expert).status_code == 200
    r = desk.post(f"/tickets/{ticket['id']}/escalate", expert, {"reason": "needs staff"})
    assert r.status_code == 200, r.text
    secret = [(c, d) for c, _e, d in published if "SECRET-SUBJECT" in str(d)]
    assert [c for c, _d in secret if c in theirs] == []  # was: every member's brand channel
    assert [c for c, _d in secret if c in staff], (secret, staff)


def test_demoted_expert_is_not_offered_tickets(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    # The brand admin takes the expert role away (e.g. the person left the crowd).
    r = client.put(
        f"/api/v1/brands/{desk.slug}/members/{expert.id}",
        json={"roles": ["customer"]},
        headers=desk.admin.auth,
    )
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["customer"]
    # They can no longer work tickets...
    assert desk.get("/offers", expert).status_code == 403
    ticket = desk.ask()
    # ...so a new ticket must not be offered to them.
    assert ticket["offered_to"] != expert.id, ticket


def test_deactivated_expert_is_not_offered_tickets(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    with world.db.transaction() as uow:  # the operator deactivates the account
        uow.session.execute(update(User).where(User.id == expert.id).values(is_active=False))
    assert desk.get("/offers", expert).status_code == 401  # the account is locked out...
    ticket = desk.ask()
    assert ticket["offered_to"] != expert.id, ticket  # ...but still gets the customer's ticket


def test_a_brand_admin_resolves_an_escalated_ticket_by_api_as_by_page(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=1)
    t1 = desk.ask()
    t2 = desk.ask(subject="second one")
    for t in (t1, t2):
        r = desk.post(f"/tickets/{t['id']}/escalate", desk.agent, {"reason": "x"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "escalated"
    # The admin's own view of the ticket says "resolve" is allowed for them.
    view = desk.get(f"/tickets/{t1['id']}", desk.admin).json()
    assert "resolve" in view["allowed_actions"]
    api = desk.post(f"/tickets/{t1['id']}/resolve", desk.admin)
    token = sign_in(client, desk.admin)
    client.post(
        f"/b/{desk.slug}/tickets/{t2['id']}/act",
        data={"csrf_token": token, "action": "resolve"},
        follow_redirects=False,
    )
    page_status = desk.get(f"/tickets/{t2['id']}", desk.agent).json()["status"]
    assert page_status == "resolved"
    assert api.status_code == 200, (api.status_code, api.text)  # was 403 role_required


def test_an_open_stream_ends_when_its_listener_loses_the_staff_role(
    client: TestClient, world: World, monkeypatch: Any
) -> None:
    """An agent whose role was taken away kept hearing escalations (with their subjects) on a
    stream opened before, for as long as it stayed open. The stream checks again and ends;
    the browser reconnects and hears only what it may hear now."""
    import threading

    desk = Desk(client, world, experts=1)
    monkeypatch.setattr(web_pages, "LIVE_RECHECK_S", 0.2)
    original = web_pages.sse_stream

    def quick(*args: Any, **kw: Any) -> Any:
        return original(*args, **{**kw, "keepalive_s": 0.1})

    monkeypatch.setattr(web_pages, "sse_stream", quick)
    body: list[bytes] = []
    listening = threading.Thread(
        target=lambda: body.append(client.get("/live", headers=desk.agent.auth).content),
        daemon=True,
    )
    listening.start()
    listening.join(1.0)
    assert listening.is_alive()  # still listening while the role holds
    r = client.put(
        f"/api/v1/brands/{desk.slug}/members/{desk.agent.id}",
        json={"roles": ["customer"]},
        headers=desk.admin.auth,
    )
    assert r.status_code == 200, r.text
    listening.join(10.0)
    assert not listening.is_alive(), "the stream went on after the role was taken away"
    assert body[0].startswith(b"retry: 3000")
