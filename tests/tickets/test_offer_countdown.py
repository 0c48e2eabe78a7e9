"""An offer in the expert's workspace says what its countdown counts: the time left to claim
it, in the reader's language, already counted by the server (not a bare "1:55" beside the
rate, nor "expires soon" until the script runs)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import ask_by_form, sign_in

LABELS = {
    "en": r"<span class=\"countdown\"[^>]*>(\d+:\d\d)</span> left to claim",
    "zh-Hans": r"接单剩余时间 <span class=\"countdown\"[^>]*>(\d+:\d\d)</span>",
    "zh-Hant": r"接單剩餘時間 <span class=\"countdown\"[^>]*>(\d+:\d\d)</span>",
    "ru": r"Осталось <span class=\"countdown\"[^>]*>(\d+:\d\d)</span>, чтобы взять",
}


@pytest.mark.parametrize("lang", sorted(LABELS))
def test_offer_countdown_is_labelled_and_counted(
    client: TestClient, world: World, lang: str
) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    token = sign_in(client, expert)
    client.post(f"/b/{desk.slug}/workspace/availability", data={"csrf_token": token, "online": "1"})
    token = sign_in(client, desk.customer)
    ask_by_form(client, desk.slug, token, "订单没有收到", "我上周下的订单还没有收到。")

    sign_in(client, expert)
    for path in ("/workspace/offers", "/workspace"):
        page = client.get(f"/b/{desk.slug}{path}?lang={lang}")
        assert page.status_code == 200
        found = re.search(LABELS[lang], page.text)
        assert found, page.text[page.text.find("offer") :][:1500]
        minutes, seconds = (int(x) for x in found.group(1).split(":"))
        assert 60 <= minutes * 60 + seconds <= 120  # the policy's two minutes, counted
