"""A customer who reopened a ticket sent it back to the expert who had resolved it, but the
expert was told nothing unless their workspace happened to be open: the ticket sat in
"Your tickets" until they came back and looked. Now the expert gets a notification, with the
subject as their tier may read it (customer data it quotes masked)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.tickets.test_api import PHONE, Desk


def test_the_expert_is_told_of_a_reopened_ticket(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=1)  # tier 0: sees no phone
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask(subject=f"请回电 {PHONE}")["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    desk.post("/notifications/read", expert)
    reopened = desk.post(f"/tickets/{tid}/reopen", desk.customer, {"reason": "还是不行"})
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "reopened"
    listed = desk.get("/notifications", expert).json()
    (item,) = [i for i in listed["items"] if i["kind"] == "ticket_reopened"]
    # In the brand's language (the reader's), the phone masked for tier 0.
    assert item["text"] == "顾客重新打开了“请回电 138****5678”，工单已回到您这里。"
    assert item["url"].endswith(f"/tickets/{tid}")
    assert listed["unread"] == 1
    # The customer is not told of their own action.
    assert not [
        i
        for i in desk.get("/notifications", desk.customer).json()["items"]
        if i["kind"] == "ticket_reopened"
    ]
