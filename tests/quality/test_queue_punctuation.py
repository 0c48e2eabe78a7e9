"""The quality queue names each review's ticket in brackets as the reader writes them:
"（#12）" in Chinese, " (#12)" otherwise; the link inside stays a link."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.quality.test_api import resolve, reviews
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in


def test_the_queue_brackets_the_ticket_as_the_reader_writes_them(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world)
    tid = resolve(desk)
    assert reviews(desk)
    sign_in(client, desk.agent)
    link = f'<a href="/b/{desk.slug}/tickets/{tid}">#{tid}</a>'
    hant = client.get(f"/b/{desk.slug}/quality?lang=zh-Hant").text
    assert f'<span class="meta">（{link}）</span>' in hant
    ru = client.get(f"/b/{desk.slug}/quality?lang=ru").text
    assert f'<span class="meta"> ({link})</span>' in ru
