"""The access log page as a brand admin reads it, in their language."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in


def test_the_access_log_names_who_looked_in_the_readers_language(
    client: TestClient, world: World
) -> None:
    """Each entry named the viewer's role by its code — "Сергей Эксперт (expert)" on a
    Russian page, "(agent)" on a Chinese one."""
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.get(f"/tickets/{tid}", desk.agent).status_code == 200
    sign_in(client, desk.admin)
    ru = client.get(f"/b/{desk.slug}/admin/access-log?lang=ru")
    assert ru.status_code == 200
    assert "(agent)" not in ru.text
    assert "(expert)" not in ru.text
    assert "王客服 (Сотрудник поддержки)" in ru.text
    assert "专家0 (Эксперт)" in ru.text
    hant = client.get(f"/b/{desk.slug}/admin/access-log?lang=zh-Hant").text
    assert "王客服（客服人員）" in hant  # full-width brackets, no space, in Chinese
    assert "专家0（專家）" in hant
