"""The brand's staff are not offered to apply to a closed community they already post and
moderate in: an agent clicking "Apply to join" put themselves in its applications list."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def test_staff_see_no_apply_button_on_a_closed_community(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    made = f.post("/communities", f.admin, {"slug": "vip", "name": "VIP", "closed": True})
    assert made.status_code == 201, made.text
    sign_in(client, f.agent)
    page = client.get(f"/b/{f.slug}/community/c/vip?lang=en").text
    assert "/community/c/vip/join" not in page
    assert "without joining" in page
    assert "/community/ask?community=vip" in page
    sign_in(client, f.asker)
    assert ">Apply to join</button>" in client.get(f"/b/{f.slug}/community/c/vip?lang=en").text


def test_the_community_list_tells_staff_of_waiting_applications(
    client: TestClient, world: World, db: Database
) -> None:
    """An application waited unseen: nothing told the brand's staff of it unless they opened
    that closed community's page."""
    f = Forum(client, world, db)
    assert (
        f.post("/communities", f.admin, {"slug": "vip", "name": "VIP", "closed": True}).status_code
        == 201
    )
    for person in (f.asker, f.helpers[0]):
        assert f.post("/communities/vip/join", person).status_code == 200
    sign_in(client, f.agent)
    home = client.get(f"/b/{f.slug}/community?lang=en").text
    assert f'<a href="/b/{f.slug}/community/c/vip#apps-h">2 applications waiting</a>' in home
    assert f.post(f"/communities/vip/members/{f.asker.id}/admit", f.agent).status_code == 200
    assert ">1 application waiting</a>" in client.get(f"/b/{f.slug}/community?lang=en").text
    sign_in(client, f.helpers[1])
    assert "applications waiting" not in client.get(f"/b/{f.slug}/community?lang=en").text
