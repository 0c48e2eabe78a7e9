"""A tag's page offers to follow the tag: following tags worked (a new question with the
tag notifies its followers) but no page had the button, so nobody could."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def test_a_member_follows_a_tag_from_its_page_and_hears_of_its_questions(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    follower = f.helpers[0]
    token = sign_in(client, follower)
    page = client.get(f"/b/{f.slug}/community?tag=Wi-Fi&lang=en").text
    form = re.search(r'<form method="post" action="[^"]*/community/follow".*?</form>', page, re.S)
    assert form, page[-3000:]
    assert 'name="kind" value="tag"' in form.group(0)
    assert 'name="target" value="Wi-Fi"' in form.group(0)
    assert ">Follow</button>" in form.group(0)
    back = re.search(r'name="back" value="([^"]*)"', form.group(0))
    assert back
    followed = client.post(
        f"/b/{f.slug}/community/follow",
        data={"csrf_token": token, "kind": "tag", "target": "Wi-Fi", "back": back.group(1)},
        follow_redirects=False,
    )
    assert followed.status_code == 303
    assert followed.headers["location"] == f"/b/{f.slug}/community?tag=Wi-Fi"
    again = client.get(f"/b/{f.slug}/community?tag=Wi-Fi&lang=en").text
    assert ">Unfollow</button>" in again
    f.ask("Роутер теряет Wi-Fi каждые пять минут", tags=["wi-fi"])
    notes = client.get(f"/b/{f.slug}/notifications?lang=en").text
    assert "Роутер теряет Wi-Fi каждые пять минут" in notes


def test_a_long_chinese_tag_can_be_followed_too(
    client: TestClient, world: World, db: Database
) -> None:
    """Its page's address, percent-encoded, is longer than 300 characters."""
    f = Forum(client, world, db)
    token = sign_in(client, f.helpers[0])
    tag = "蓝牙耳机固件升级" * 5
    page = client.get(f"/b/{f.slug}/community", params={"tag": tag, "lang": "zh-Hans"}).text
    back = re.search(r'name="back" value="([^"]*)"', page)
    assert back
    assert len(back.group(1)) > 300
    followed = client.post(
        f"/b/{f.slug}/community/follow",
        data={"csrf_token": token, "kind": "tag", "target": tag, "back": back.group(1)},
        follow_redirects=False,
    )
    assert followed.status_code == 303, followed.text[-2000:]
    again = client.get(f"/b/{f.slug}/community", params={"tag": tag, "lang": "zh-Hans"}).text
    assert ">取消关注</button>" in again
