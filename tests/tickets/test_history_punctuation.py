"""A ticket's history in Chinese: who moved it and why in full-width brackets and colon,
"（專家：…）", not "(專家: …)"; a reason is escaped once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in


def test_the_history_names_who_and_why_as_the_reader_writes_it(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    handed = desk.post(f"/tickets/{tid}/escalate", expert, {"reason": "退款 & 換貨"})
    assert handed.status_code == 200, handed.text
    sign_in(client, desk.agent)
    hant = client.get(f"/b/{desk.slug}/tickets/{tid}?lang=zh-Hant").text
    assert "（專家：退款 &amp; 換貨）" in hant
    assert "（顧客）" in hant
    ru = client.get(f"/b/{desk.slug}/tickets/{tid}?lang=ru").text
    assert " (Эксперт: 退款 &amp; 換貨)" in ru
