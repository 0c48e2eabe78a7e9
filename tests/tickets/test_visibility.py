"""What each person sees of a ticket: their own tickets listed whatever else they do in the
brand, nothing of a ticket they handed on, customer data masked wherever an expert reads it,
and messages that say something."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import Person, World
from tests.tickets.test_api import PHONE, Desk
from tests.tickets.test_pages import sign_in

PROFILE = {
    "skills": {"general": 5},
    "languages": ["zh-Hans", "en"],
    "tier": 0,
    "certifications": [],
}
# A brand that hides the customer's name from tier 0.
NAME_HIDDEN = [
    {"tier": 0, "unmasked": []},
    {"tier": 1, "unmasked": ["name", "order_number"]},
    {"tier": 2, "unmasked": ["email"]},
    {"tier": 3, "unmasked": ["phone", "address"]},
]


def _ask(desk: Desk, who: Person, subject: str) -> int:
    r = desk.post("/tickets", who, {"subject": subject, "body": "Where is it?", "skill": "general"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_an_expert_who_asks_as_a_customer_finds_their_ticket(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=0)
    both = world.member(desk.slug, ["customer", "expert"], "Пётр")
    assert desk.put(f"/experts/{both.id}", PROFILE, desk.admin).status_code == 200
    tid = _ask(desk, both, "My own refund")
    listed = desk.get("/tickets", both).json()["items"]
    assert tid in [t["id"] for t in listed]  # was: only tickets they work on
    sign_in(client, both)
    assert "My own refund" in client.get(f"/b/{desk.slug}/tickets").text  # was: "nothing yet"


def test_an_agent_who_asks_as_a_customer_finds_an_older_ticket(
    client: TestClient, world: World
) -> None:
    """ "My tickets" read the brand's newest hundred tickets and kept the viewer's own: an
    agent's ticket behind a hundred newer ones of other customers disappeared."""
    desk = Desk(client, world, experts=0)
    both = world.member(desk.slug, ["customer", "agent"], "Анна")
    _ask(desk, both, "Agent's own question")
    for i in range(100):
        _ask(desk, desk.customer, f"other {i}")
    sign_in(client, both)
    assert "Agent&#39;s own question" in client.get(f"/b/{desk.slug}/tickets").text


def test_an_expert_who_hands_a_reopened_ticket_to_staff_no_longer_reads_it(
    client: TestClient, world: World
) -> None:
    """Handing a ticket to staff ends an expert's view of it (the page sends them back to the
    workspace); a ticket they had resolved once, reopened by the customer, stayed readable —
    with every internal note staff wrote after — because they were still its resolver."""
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/reopen", desk.customer).status_code == 200
    handed = desk.post(f"/tickets/{tid}/escalate", expert, {"reason": "refund needs staff"})
    assert handed.status_code == 200, handed.text
    note = {"body": "Staff only: refund approved by finance", "internal": True}
    assert desk.post(f"/tickets/{tid}/messages", desk.agent, note).status_code == 201
    assert desk.get(f"/tickets/{tid}", expert).status_code == 404
    assert desk.get(f"/tickets/{tid}/messages", expert).status_code == 404
    mine = desk.get("/tickets?mine=true", expert).json()["items"]
    assert tid not in [t["id"] for t in mine]
    sign_in(client, expert)
    page = client.get(f"/b/{desk.slug}/tickets/{tid}")
    assert page.status_code == 404
    assert "refund approved" not in page.text


def test_customer_data_quoted_in_the_text_is_masked_for_the_experts_tier(
    app: FastAPI, client: TestClient, world: World, monkeypatch: Any
) -> None:
    """A tier-0 expert sees the phone, e-mail address and order number masked in the fields,
    and read them in full wherever the customer (or staff) wrote them in the subject, the
    description or a message: the ticket, its messages, the offers list, the live offer, the
    workspace and ticket pages, the earnings."""
    published: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(
        app.state.broadcaster, "publish", lambda c, e, d: published.append((c, e, d))
    )
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask(
        subject="订单 lm-2026-000123 没到",
        body="请打 138 1234 5678 或发邮件 Li.Wei@example.com，地址 Москва, ул. Тверская, д. 1",
        customer_fields={
            "name": "李伟",
            "phone": PHONE,
            "email": "li.wei@example.com",
            "order_number": "LM-2026-000123",
            "address": "Москва, ул. Тверская, д. 1",
        },
    )["id"]
    secrets = ["000123", "1234 5678", "i.Wei@", "Тверская"]

    def leaks(text: str) -> list[str]:
        return [s for s in secrets if s in text]

    offer = [d for c, e, d in published if e == "offer" and c == f"user:{expert.id}"]
    assert offer
    assert not leaks(str(offer))
    assert not leaks(str(desk.get("/offers", expert).json()))
    sign_in(client, expert)
    assert not leaks(client.get(f"/b/{desk.slug}/workspace").text)
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    said = {"body": "Звонил на +86 138-1234-5678, заказ LM-2026-000123"}
    assert desk.post(f"/tickets/{tid}/messages", desk.agent, said).status_code == 201
    view = desk.get(f"/tickets/{tid}", expert).json()
    assert not leaks(view["subject"] + view["body"]), view
    assert "**-****-**0123" in view["subject"]  # masked as the field is, not removed
    assert not leaks(str(desk.get(f"/tickets/{tid}/messages", expert).json()))
    assert not leaks(client.get(f"/b/{desk.slug}/workspace").text)
    assert not leaks(client.get(f"/b/{desk.slug}/tickets/{tid}").text)
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    assert not leaks(str(desk.get("/earnings/me", expert).json()))
    assert not leaks(client.get(f"/b/{desk.slug}/earnings").text)
    # The customer and staff read what was written.
    for who in (desk.customer, desk.agent):
        mine = desk.get(f"/tickets/{tid}", who).json()
        assert "lm-2026-000123" in mine["subject"]
        assert "138 1234 5678" in mine["body"]
    assert "LM-2026-000123" in str(desk.get(f"/tickets/{tid}/messages", desk.customer).json())


def _found_ticket(client: TestClient, desk: Desk, who: Person, query: str, tid: int) -> str:
    """What ``who`` reads of the one resolved ticket a search finds: title and snippet."""
    found = client.get(
        f"/api/v1/brands/{desk.slug}/search",
        params={"q": query, "kind": "ticket"},
        headers=who.auth,
    ).json()["results"]
    assert [r["id"] for r in found] == [str(tid)]
    return str(found[0]["title"] + found[0]["snippet"]).lower()


def test_past_ticket_search_shows_no_customer_data_in_another_form(
    client: TestClient, world: World
) -> None:
    """Resolved tickets are searchable by every expert of the brand, with the customer's data
    removed — only where it was written exactly as in the fields: in another letter case, an
    address's parts in another order or the phone with dots, it reached other experts."""
    desk = Desk(client, world, experts=2)
    expert, other = desk.experts
    desk.online(expert)
    tid = desk.ask(
        subject="Refund for order lm-2026-000123 headphones",
        body="Headphones refund. I am ivan petrov, call 138.1234.5678, "
        "I live at ул. тверская, д. 1, Москва",
        language="en",
        customer_fields={
            "name": "Ivan Petrov",
            "phone": PHONE,
            "order_number": "LM-2026-000123",
            "address": "Москва, ул. Тверская, д. 1",
        },
    )["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    reply = {"body": "Dear IVAN PETROV, the refund for LM-2026-000123 is on its way"}
    assert desk.post(f"/tickets/{tid}/messages", expert, reply).status_code == 201
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    seen = _found_ticket(client, desk, other, "headphones refund", tid)
    for secret in ("lm-", "ivan", "petrov", "1234", "тверская", "москва"):
        assert secret not in seen, (secret, seen)


def test_a_message_or_ticket_that_shows_nothing_is_refused(
    client: TestClient, world: World
) -> None:
    """Zero-width characters, or Markdown that renders to nothing, made a blank message —
    and, the expert's first, it stopped the first-response clock; a ticket likewise."""
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    for blank in ("\u200b", "\u200b\u2060\ufeff", "[]()", "\x01\x02"):
        r = desk.post(f"/tickets/{tid}/messages", expert, {"body": blank})
        assert r.status_code == 422, (blank, r.text)
        assert r.json()["code"] == "required"
    assert desk.get(f"/tickets/{tid}/messages", expert).json() == []
    assert desk.post(f"/tickets/{tid}/messages", expert, {"body": "好"}).status_code == 201
    assert desk.post(f"/tickets/{tid}/messages", expert, {"body": "?"}).status_code == 201
    blank_ticket = {"subject": "\u200b", "body": "\u200b\u200b", "skill": "general"}
    r = desk.post("/tickets", desk.customer, blank_ticket)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "subject"


def test_a_brand_admin_reads_the_whole_access_log(client: TestClient, world: World) -> None:
    """The access log showed the newest 200 views and nothing before them, by API or page:
    a morning's work of one agent hid who had looked at what the day before."""
    desk = Desk(client, world, experts=0)
    first = desk.ask()["id"]
    assert desk.get(f"/tickets/{first}", desk.agent).status_code == 200  # the oldest view
    later = desk.ask(subject="another one")["id"]
    for _ in range(200):
        assert desk.get(f"/tickets/{later}", desk.agent).status_code == 200
    seen: list[int] = []
    url = "/access-log?limit=150"
    while True:
        page = desk.get(url, desk.admin).json()
        seen += [e["ticket_id"] for e in page]
        if len(page) < 150:
            break
        url = f"/access-log?limit=150&before={page[-1]['id']}"
    assert seen == [later] * 200 + [first]
    assert desk.get(f"/access-log?before={2**70}", desk.admin).status_code == 422
    sign_in(client, desk.admin)
    html = client.get(f"/b/{desk.slug}/admin/access-log").text
    older = re.search(r'href="(/b/[^"]+/admin/access-log\?before=\d+)"', html)
    assert older, "no link to older entries"
    assert f"#{first}<" in client.get(older.group(1)).text


def test_an_expert_who_may_not_see_the_name_does_not_read_it_beside_the_messages(
    client: TestClient, world: World
) -> None:
    """A brand may hide the customer's name from tier 0; the name field was masked, but the
    customer's account name signed each of their messages in full (API and page)."""
    desk = Desk(client, world, experts=1)
    assert desk.put("/policy", {"tiers": NAME_HIDDEN}, desk.admin).status_code == 200
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/messages", desk.customer, {"body": "谢谢"}).status_code == 201
    view = desk.get(f"/tickets/{tid}", expert).json()
    assert view["customer_fields"]["name"] == "李*"
    said = desk.get(f"/tickets/{tid}/messages", expert).json()
    assert [m["author_name"] for m in said] == ["李*"]
    sign_in(client, expert)
    assert "李伟" not in client.get(f"/b/{desk.slug}/tickets/{tid}").text
    # The customer and staff read it as it is.
    assert desk.get(f"/tickets/{tid}/messages", desk.agent).json()[0]["author_name"] == "李伟"


def test_the_resolved_notice_speaks_the_customers_language(
    app: FastAPI, client: TestClient, world: World, monkeypatch: Any
) -> None:
    """The live notice "your ticket was resolved" was written in the language of the expert's
    request (here Russian), not in the customer's."""
    published: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(
        app.state.broadcaster, "publish", lambda c, e, d: published.append((c, e, d))
    )
    desk = Desk(client, world, experts=1)  # the customer reads English
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    r = client.post(
        desk.url(f"/tickets/{tid}/resolve"), headers={**expert.auth, "Accept-Language": "ru"}
    )
    assert r.status_code == 200, r.text
    to_customer = [d for c, _e, d in published if c == f"user:{desk.customer.id}"]
    [notice] = [d for d in to_customer if d.get("kind") == "ticket_resolved"]
    assert notice["text"].startswith("Your ticket"), notice


def test_reindex_tickets_rebuilds_old_documents_with_the_current_scrubbing(
    client: TestClient, world: World, database_url: str
) -> None:
    """Tickets indexed before an upgrade that scrubs more keep their old text: `crowdcx
    reindex` only re-analyses what is stored. `--tickets` rebuilds them from the tickets."""
    from typer.testing import CliRunner

    from crowdcx import cli as cli_module
    from crowdcx.kernel.models import utcnow
    from crowdcx.search import service as search

    desk = Desk(client, world, experts=2)
    expert, other = desk.experts
    desk.online(expert)
    fields = {"name": "Ivan Petrov", "phone": PHONE}
    tid = desk.ask(subject="Headphones refund", body="Headphones refund, IVAN PETROV here.",
                   language="en", customer_fields=fields)["id"]  # fmt: skip
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    with world.db.transaction() as uow:  # as an earlier release indexed it
        brand = uow.session.execute(
            __import__("sqlalchemy").text("SELECT brand_id FROM tickets WHERE id = :t"),
            {"t": tid},
        ).scalar_one()
        search.upsert(uow.session, search.document(
            brand, "ticket", tid, language="en", visibility="experts",
            title="Headphones refund", markdown="Headphones refund, IVAN PETROV here.",
            updated_at=utcnow(),
        ))  # fmt: skip

    def seen() -> str:
        found = client.get(
            f"/api/v1/brands/{desk.slug}/search",
            params={"q": "headphones refund", "kind": "ticket"},
            headers=other.auth,
        ).json()["results"]
        return " ".join(r["title"] + r["snippet"] for r in found).lower()

    assert "petrov" in seen()
    world.db.engine.dispose()
    out = CliRunner().invoke(
        cli_module.app, ["reindex", "--tickets"], env={"CROWDCX_DATABASE_URL": database_url}
    )
    assert out.exit_code == 0, out.output
    assert "1 tickets rebuilt" in out.output
    assert "headphones" in seen()
    assert "petrov" not in seen()


def test_a_russian_name_that_drops_a_vowel_is_masked_and_scrubbed(
    client: TestClient, world: World
) -> None:
    """A customer named Лев Толстой wrote "передайте Льву Толстому": the dative drops the
    vowel and was shown in full to an expert whose tier hides the name, and indexed for
    search. The ordinary words around it stay readable."""
    desk = Desk(client, world, experts=2)
    assert desk.put("/policy", {"tiers": NAME_HIDDEN}, desk.admin).status_code == 200
    expert, other = desk.experts
    desk.online(expert)
    body = "Наушники для всего мира не работают. Передайте Льву Толстому, что заказ у Льва."
    fields = {"name": "Лев Толстой", "phone": PHONE}
    tid = desk.ask(
        subject="Наушники не работают", body=body, language="en", customer_fields=fields
    )["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    shown = str(desk.get(f"/tickets/{tid}", expert).json())
    assert "Льв" not in shown
    assert "Толст" not in shown
    assert "для всего мира" in shown
    sign_in(client, expert)
    page = client.get(f"/b/{desk.slug}/tickets/{tid}").text
    assert "Льву" not in page
    assert "Льва" not in page
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    seen = _found_ticket(client, desk, other, "наушники не работают", tid)
    assert "льв" not in seen
    assert "толст" not in seen
