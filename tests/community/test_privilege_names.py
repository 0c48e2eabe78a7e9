"""A member without the reputation for an action is told which privilege they lack in their
own language: the refusal named the code ("需要權限「upvote」", "привилегия «flag»")."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def test_a_refused_vote_or_flag_names_the_privilege_in_the_readers_language(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Перезагрузите телефон и включите передачу данных.")
    newcomer = f.helpers[1]  # no reputation yet
    api = f.client.post(
        f.url(f"/posts/{aid}/vote"),
        json={"value": 1},
        headers={**newcomer.auth, "Accept-Language": "ru"},
    )
    assert api.status_code == 403, api.text
    assert api.json()["code"] == "privilege_required"
    assert "«Голосовать за»" in api.json()["detail"]  # not the button's bare «За»
    assert "upvote" not in api.json()["detail"]

    token = sign_in(client, newcomer)
    client.cookies.set("crowdcx_locale", "zh-Hant")
    voted = client.post(f"/b/{f.slug}/community/posts/{aid}/vote",
                        data={"csrf_token": token, "value": "1"})  # fmt: skip
    assert voted.status_code == 403
    assert "需要權限「按讚」" in voted.text
    assert "「upvote」" not in voted.text  # the page's data-locked="upvote" hook may stay
    flagged = client.post(f"/b/{f.slug}/community/posts/{aid}/flag",
                          data={"csrf_token": token, "reason": "spam"})  # fmt: skip
    assert flagged.status_code == 403
    assert "需要權限「舉報貼文」" in flagged.text
