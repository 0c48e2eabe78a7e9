"""Data protection through HTTP (PIPL, Taiwan's PDPA, Russia's 152-FZ): a person downloads
a copy of their data and nothing of anybody else's; a person deletes their account, a
platform administrator deletes one, a brand admin erases a customer's data in the brand's
tickets — anonymised in place, with the money untouched and the community's answers kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crowdcx.payouts.models import LedgerPosting
from tests.conftest import PASSWORD, Person, World
from tests.tickets.test_api import PHONE, Desk
from tests.tickets.test_pages import sign_in


def _community(desk: Desk) -> None:
    r = desk.post("/communities", desk.admin, {"slug": "help", "name": "Help"})
    assert r.status_code == 201, r.text


def _question(desk: Desk, who: Person, title: str, body: str) -> int:
    r = desk.post("/questions", who, {"community": "help", "title": title, "body": body})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _claimed_ticket(desk: Desk, expert: Person, **ticket: Any) -> int:
    tid = int(desk.ask(**ticket)["id"])
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    return tid


def _ledger(world: World) -> list[tuple[str, int]]:
    with world.db.sessions() as session:
        rows = session.execute(
            select(LedgerPosting.account, func.sum(LedgerPosting.amount_minor))
            .group_by(LedgerPosting.account)
            .order_by(LedgerPosting.account)
        ).all()
    return [(a, int(n)) for a, n in rows]


def _search(client: TestClient, desk: Desk, who: Person, q: str) -> list[dict[str, Any]]:
    r = client.get(
        f"/api/v1/brands/{desk.slug}/search", params={"q": q, "kind": "ticket"}, headers=who.auth
    )
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def test_my_data_holds_my_own_and_nothing_of_anybody_else(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    _community(desk)
    tid = _claimed_ticket(desk, expert, subject="Refund for my headphones", language="en")
    r = desk.post(f"/tickets/{tid}/messages", desk.customer, {"body": "MY-OWN-MESSAGE here"})
    assert r.status_code == 201, r.text
    r = desk.post(f"/tickets/{tid}/messages", expert, {"body": "Your refund is on its way"})
    assert r.status_code == 201, r.text
    note = {"body": "STAFF-INTERNAL-NOTE about this customer", "internal": True}
    assert desk.post(f"/tickets/{tid}/messages", desk.agent, note).status_code == 201
    # Another customer of the brand, with their own data.
    other = world.member(desk.slug, ["customer"], "Другой Клиент")
    fields = {"name": "Другой Клиент", "phone": "+7 912 345 67 89", "email": "other@example.com"}
    body = {"subject": "OTHER-SUBJECT", "body": "OTHER-BODY text", "skill": "general",
            "customer_fields": fields}  # fmt: skip
    assert desk.post("/tickets", other, body).status_code == 201
    qid = _question(desk, desk.customer, "MY-QUESTION title", "How do I pair the headphones?")
    _question(desk, other, "OTHER-QUESTION title", "Someone else's question body")
    assert desk.post(f"/posts/{qid}/vote", other, {"value": 1}).status_code in (200, 403)

    r = client.get("/api/v1/me/export", headers=desk.customer.auth)
    assert r.status_code == 200, r.text
    today = datetime.now(UTC).date().isoformat()
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;"), disposition
    assert today in disposition, disposition
    data = r.json()
    text = r.text
    assert data["profile"]["email"] == desk.customer.email
    assert data["profile"]["display_name"] == "李伟"
    assert [m["roles"] for m in data["memberships"]] == [["customer"]]
    (brand,) = data["brands"]
    (ticket,) = brand["tickets"]
    assert ticket["customer_fields"]["phone"] == PHONE  # their own data, unmasked
    bodies = [m["body"] for m in ticket["messages"]]
    assert "MY-OWN-MESSAGE here" in bodies
    assert "Your refund is on its way" in bodies
    assert [p["title"] for p in brand["community_posts"]] == ["MY-QUESTION title"]
    for foreign in ("STAFF-INTERNAL-NOTE", "OTHER-", "Другой", "345 67 89", "other@example.com",
                    "专家0", "王客服", expert.email, desk.agent.email):  # fmt: skip
        assert foreign not in text, foreign

    again = client.get("/api/v1/me/export", headers=desk.customer.auth)
    assert again.status_code == 429, again.text
    assert again.json()["code"] == "export_too_soon"
    assert 1 <= int(again.headers["retry-after"]) <= 60
    assert client.get("/api/v1/me/export").status_code == 401


def test_the_account_page_downloads_my_data(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=0)
    sign_in(client, desk.customer)
    page = client.get("/account")
    assert 'href="/account/export"' in page.text
    r = client.get("/account/export")
    assert r.status_code == 200
    assert re.match(r'attachment; filename="crowdcx-my-data-\d{4}-\d\d-\d\d\.json"',
                    r.headers["content-disposition"])  # fmt: skip
    assert r.json()["profile"]["email"] == desk.customer.email
    too_soon = client.get("/account/export", headers={"accept-language": "zh-CN"})
    assert too_soon.status_code == 429
    assert "text/html" in too_soon.headers["content-type"]


def test_deleting_my_account_erases_me_everywhere_and_keeps_the_money(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=2)
    expert, other_expert = desk.experts
    desk.online(expert)
    _community(desk)
    ivan = world.member(desk.slug, ["customer"], "Ivan Petrov")
    desk.customer = ivan
    # The name is the account's, not a field of the ticket: search kept it until erasure.
    tid = _claimed_ticket(
        desk,
        expert,
        subject="Headphones refund for Ivan Petrov",
        body="Headphones refund please. I am Ivan Petrov, call 138.1234.5678 or ivan@example.org",
        language="en",
        customer_fields={"phone": PHONE, "email": "ivan@example.org"},
    )
    mine = {"body": "Thanks, Ivan Petrov here, my number is 13812345678"}
    assert desk.post(f"/tickets/{tid}/messages", ivan, mine).status_code == 201
    reply = {"body": "Dear Ivan Petrov, the headphones refund is on its way"}
    assert desk.post(f"/tickets/{tid}/messages", expert, reply).status_code == 201
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    rating = {"csat": 5, "comment": "Great help, Ivan Petrov says thanks"}
    assert desk.post(f"/tickets/{tid}/rating", ivan, rating).status_code == 201
    qid = _question(desk, ivan, "Pairing headphones with a laptop", "Which menu pairs them?")
    assert _search(client, desk, other_expert, "Petrov"), "the name was findable before"
    ledger_before = _ledger(world)
    assert ledger_before, "the resolution posted an earning"

    wrong = client.post("/api/v1/me/erase", json={"password": "not it"}, headers=ivan.auth)
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["code"] == "wrong_password"
    assert wrong.json()["field"] == "password"
    missing = client.post("/api/v1/me/erase", json={}, headers=ivan.auth)
    assert missing.status_code == 422
    r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=ivan.auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": ivan.id, "tickets_erased": 1}

    # Signed out everywhere, and no way back in.
    assert client.get("/api/v1/me", headers=ivan.auth).status_code == 401
    login = {"email": ivan.email, "password": PASSWORD}
    assert client.post("/api/v1/auth/token", json=login).status_code == 401
    # Nothing of theirs left in the ticket, its messages or the search index.
    seen = desk.get(f"/tickets/{tid}", desk.agent).json()
    messages = desk.get(f"/tickets/{tid}/messages", desk.agent).json()
    everything = str(seen) + str(messages)
    for secret in ("Ivan", "Petrov", "138.1234", "12345678", "ivan@example.org"):
        assert secret not in everything, (secret, everything)
    assert not any(seen["customer_fields"].values())
    for q in ("Petrov", "Ivan Petrov", PHONE, "138.1234.5678"):
        assert _search(client, desk, other_expert, q) == [], q
    for hit in _search(client, desk, other_expert, "ivan@example.org"):  # "example", "org"
        assert "ivan" not in (hit["title"] + hit["snippet"]).lower(), hit
    assert _search(client, desk, other_expert, "headphones refund")  # the case stays useful
    # The money and the community's answer stay, by "Deleted user".
    assert _ledger(world) == ledger_before
    assert (
        desk.get(f"/questions/{qid}", expert).json()["title"] == "Pairing headphones with a laptop"
    )
    page = client.get(f"/b/{desk.slug}/community/questions/{qid}", params={"lang": "zh-Hans"})
    assert "已删除的用户" in page.text
    assert "Ivan" not in page.text
    # Recorded: who erased whom, and when — no personal data.
    log = desk.get("/access-log", desk.admin).json()
    erasures = [e for e in log if e["fields"] == ["erased"]]
    assert [(e["ticket_id"], e["viewer_id"], e["viewer_role"]) for e in erasures] == [
        (tid, ivan.id, "customer")
    ]
    # A second erasure (by a platform administrator) is harmless.
    admin = world.person("Platform admin", platform_admin=True)
    again = client.post(f"/api/v1/users/{ivan.id}/erase", headers=admin.auth)
    assert again.status_code == 200, again.text
    assert again.json()["tickets_erased"] == 0
    assert (
        len([e for e in desk.get("/access-log", desk.admin).json() if e["fields"] == ["erased"]])
        == 1
    )
    assert _ledger(world) == ledger_before


def test_who_may_erase_whom(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = _claimed_ticket(desk, expert, subject="Order LM-2026-000123 is late", language="en")
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    elsewhere = Desk(client, world, experts=0)
    url = f"/api/v1/brands/{{}}/customers/{desk.customer.id}/erase"

    # A brand admin of another brand: not their customer (404), not their brand (403).
    r = client.post(url.format(elsewhere.slug), headers=elsewhere.admin.auth)
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "customer_not_found"
    assert client.post(url.format(desk.slug), headers=elsewhere.admin.auth).status_code == 403
    # The brand's agent, or an expert, may not.
    for who in (desk.agent, expert):
        r = client.post(url.format(desk.slug), headers=who.auth)
        assert r.status_code == 403, r.text
    # Only a platform administrator or the person deletes an account.
    r = client.post(f"/api/v1/users/{desk.customer.id}/erase", headers=desk.admin.auth)
    assert r.status_code == 403
    assert r.json()["code"] == "platform_admin_required"
    assert client.post("/api/v1/users/999999/erase", headers=desk.admin.auth).status_code == 403
    admin = world.person("Platform admin", platform_admin=True)
    assert client.post("/api/v1/users/999999/erase", headers=admin.auth).status_code == 404
    # Not a customer of the brand (the expert): 404.
    r = client.post(f"/api/v1/brands/{desk.slug}/customers/{expert.id}/erase",
                    headers=desk.admin.auth)  # fmt: skip
    assert r.status_code == 404

    # The brand's admin erases the customer's data in the brand's tickets.
    r = client.post(url.format(desk.slug), headers=desk.admin.auth)
    assert r.status_code == 200, r.text
    assert r.json()["tickets_erased"] == 1
    seen = desk.get(f"/tickets/{tid}", desk.admin).json()
    assert not any(seen["customer_fields"].values())
    assert "000123" not in seen["subject"]
    assert _search(client, desk, expert, "LM-2026-000123") == []
    assert _search(client, desk, expert, PHONE) == []
    log = [e for e in desk.get("/access-log", desk.admin).json() if e["fields"] == ["erased"]]
    assert [(e["ticket_id"], e["viewer_id"], e["viewer_role"]) for e in log] == [
        (tid, desk.admin.id, "staff")
    ]
    # ...but the account is the person's: they still sign in.
    assert client.get("/api/v1/me", headers=desk.customer.auth).status_code == 200


def test_an_expert_with_claimed_tickets_cannot_delete_their_account(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = _claimed_ticket(desk, expert)
    r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=expert.auth)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "open_work"
    assert "1" in r.json()["detail"]
    assert client.get("/api/v1/me", headers=expert.auth).status_code == 200  # nothing changed
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=expert.auth)
    assert r.status_code == 200, r.text
    # The only brand admin of a brand neither.
    r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=desk.admin.auth)
    assert r.status_code == 409
    assert r.json()["code"] == "last_brand_admin"


def test_deleting_my_account_from_the_account_page(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.customer)
    wrong = client.post("/account/delete?lang=ru", data={"csrf_token": token, "password": "wrong"})
    assert wrong.status_code == 422
    assert "Неверный пароль" in wrong.text, wrong.text
    done = client.post("/account/delete", data={"csrf_token": token, "password": PASSWORD})
    assert done.status_code == 200
    assert "/account/export" not in done.text
    assert client.get("/account", follow_redirects=False).status_code in (303, 401)
    login = {"email": desk.customer.email, "password": PASSWORD}
    assert client.post("/api/v1/auth/token", json=login).status_code == 401


def test_an_erased_answerer_is_named_deleted_user_in_other_peoples_notices(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=0)
    _community(desk)
    helper = world.member(desk.slug, ["helper"], "Helpful Hannah")
    qid = _question(
        desk, desk.customer, "Headphones keep disconnecting", "Any idea why this happens?"
    )
    r = desk.post(f"/questions/{qid}/answers", helper, {"body": "Reset the pairing list first."})
    assert r.status_code == 201, r.text
    before = desk.get("/notifications", desk.customer).json()
    assert "Helpful Hannah" in str(before)
    r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=helper.auth)
    assert r.status_code == 200, r.text
    after = client.get(
        f"/api/v1/brands/{desk.slug}/notifications",
        params={"lang": "ru"},
        headers=desk.customer.auth,
    )
    assert "Hannah" not in after.text
    assert "Удалённый пользователь" in after.text, after.text
    answers = desk.get(f"/questions/{qid}", desk.customer).json()["answer_list"]
    assert ["Reset the pairing list first." in a["body_html"] for a in answers] == [True]


def test_the_erasure_rules() -> None:
    from crowdcx.privacy import rules

    assert rules.erased_email(42) == "deleted-42@erased.invalid"
    assert rules.is_erased(rules.erased_email(42))
    values = rules.scrub_values({"phone": PHONE, "name": ""}, "Ivan Petrov", "ivan@example.org")
    assert values == {"phone": PHONE, "email": "ivan@example.org", "name": "Ivan Petrov"}
    both = rules.scrub_values({"name": "Иван"}, "Ivan Petrov", "i@example.org")
    assert both["name"] == "Иван"
    assert both["account_name"] == "Ivan Petrov"
    assert rules.scrub_values({}, "Al", "a@example.org") == {"email": "a@example.org"}
    assert rules.scrub_values({}, rules.DELETED_NAME, rules.erased_email(1)) == {}
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.export_wait(None, at) == 0
    assert rules.export_wait(at, at + timedelta(seconds=59.5)) == 1
    assert rules.export_wait(at, at + timedelta(seconds=60)) == 0
    assert rules.export_wait(at, at - timedelta(seconds=5)) == 0  # a clock set back


def test_nobody_takes_the_deleted_accounts_name(client: TestClient, world: World) -> None:
    """A person named "Deleted user" would pass for an erased account on every page."""
    person = world.person()
    for name in ("Deleted user", "  deleted USER "):
        r = client.patch("/api/v1/me", json={"display_name": name}, headers=person.auth)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "name_reserved"
