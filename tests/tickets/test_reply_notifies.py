"""A customer who had left the site never learned that the expert had answered or asked them
something: a reply was only a live event for a page left open, never a notification (in the
list, the menu's count or the daily digest), so the ticket waited on a customer who did not
know. Now the first reply they have not read yet leaves one notification, in their language."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from tests.conftest import World
from tests.tickets.test_api import Desk


def test_a_reply_to_the_customer_is_a_notification_in_their_language(
    client: TestClient, world: World, db: Database
) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    with db.transaction() as uow:
        customer = uow.session.get(User, desk.customer.id)
        assert customer is not None
        customer.locale = "zh-Hans"
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200

    def notes() -> dict:
        response = desk.get("/notifications", desk.customer)
        assert response.status_code == 200
        return dict(response.json())

    assert notes()["unread"] == 0
    # An internal note is not for the customer.
    desk.post(f"/tickets/{tid}/messages", expert, {"body": "客户很着急", "internal": True})
    assert notes()["unread"] == 0
    sent = desk.post(f"/tickets/{tid}/messages", expert, {"body": "请告诉我您的订单号。"})
    assert sent.status_code == 201, sent.text
    listed = notes()
    assert listed["unread"] == 1
    (item,) = [i for i in listed["items"] if i["kind"] == "ticket_reply"]
    assert item["text"] == "您的工单“耳机无法连接蓝牙”有新的回复。"
    assert item["url"].endswith(f"/tickets/{tid}")
    # More replies before the customer reads them do not pile up.
    desk.post(f"/tickets/{tid}/messages", expert, {"body": "另外，请问是哪款耳机？"})
    assert notes()["unread"] == 1
    # The customer's own messages tell the customer nothing.
    desk.post("/notifications/read", desk.customer)
    desk.post(f"/tickets/{tid}/messages", desk.customer, {"body": "订单号是 LM-2026-000123"})
    assert notes()["unread"] == 0
    # Once read, the next reply is news again.
    desk.post(f"/tickets/{tid}/messages", expert, {"body": "收到，正在为您查询。"})
    assert notes()["unread"] == 1
