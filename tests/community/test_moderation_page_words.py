"""The review queue shows the author's appeal under a noun: it was labelled with the appeal
button's word, "Обжаловать:" ("To appeal:") on a Russian page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def test_the_queue_labels_the_appeal_as_the_authors_not_as_the_button(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask("Дешёвые часы тут http://spam.example")
    r = f.post(f"/moderation/{qid}", f.agent, {"decision": "hide", "note": "spam"})
    assert r.status_code == 200, r.text
    assert f.post(f"/posts/{qid}/appeal", f.asker, {"text": "Это не спам"}).status_code == 201
    sign_in(client, f.agent)
    client.cookies.set("crowdcx_locale", "en")
    en = client.get(f"/b/{f.slug}/community/moderation").text
    assert "<strong>Author's appeal: </strong>Это не спам" in en
    client.cookies.set("crowdcx_locale", "ru")
    ru = client.get(f"/b/{f.slug}/community/moderation").text
    assert "Это не спам" in ru
    assert "Обжаловать:" not in ru
