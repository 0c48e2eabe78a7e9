"""A question list counts votes in the reader's grammar: an English reader saw "1 votes"
under any question with one vote (Russian had dodged it as "голосов: 1")."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World


def test_one_vote_reads_as_one_vote(client: TestClient, world: World, db: Database) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    f.grant(f.helpers[0], 200)
    assert f.post(f"/posts/{qid}/vote", f.helpers[0], {"value": 1}).status_code == 200
    english = client.get(f"/b/{f.slug}/community?lang=en").text
    assert "1 vote ·" in english
    assert "1 votes" not in english
    assert "1 голос ·" in client.get(f"/b/{f.slug}/community?lang=ru").text
    assert "1 票 ·" in client.get(f"/b/{f.slug}/community?lang=zh-Hans").text
    f.grant(f.helpers[1], 200)
    assert f.post(f"/posts/{qid}/vote", f.helpers[1], {"value": 1}).status_code == 200
    assert "2 голоса ·" in client.get(f"/b/{f.slug}/community?lang=ru").text
