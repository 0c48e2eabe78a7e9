"""What the author of a hidden post reads under it once a moderator has decided: the
moderator's note to them (typed in the review queue's "Note to the author" and shown
nowhere), and no appeal form after their appeal was upheld (it offered one, took what they
typed and answered "You already appealed; a moderator will review it")."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def test_the_author_reads_the_moderators_note_and_the_upheld_appeal(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask("Дешёвые часы тут http://spam.example")
    hide = {"decision": "hide", "note": "Реклама запрещена правилами"}
    assert f.post(f"/moderation/{qid}", f.agent, hide).status_code == 200
    sign_in(client, f.asker)
    client.cookies.set("crowdcx_locale", "en")
    page = client.get(f"/b/{f.slug}/community/questions/{qid}").text
    assert "Moderator's note: Реклама запрещена правилами" in page
    assert f"/posts/{qid}/appeal" in page  # hidden by a moderator: the author may appeal

    assert f.post(f"/posts/{qid}/appeal", f.asker, {"text": "Это не спам"}).status_code == 201
    uphold = {"decision": "uphold", "note": "Ссылка ведёт на магазин"}
    assert f.post(f"/moderation/{qid}", f.agent, uphold).status_code == 200
    page = client.get(f"/b/{f.slug}/community/questions/{qid}").text
    assert "Moderator's note: Ссылка ведёт на магазин" in page
    assert "A moderator reviewed your appeal" in page
    assert f"/posts/{qid}/appeal" not in page
    # Nobody else reads the note.
    sign_in(client, f.helpers[0])
    other = client.get(f"/b/{f.slug}/community/questions/{qid}")
    assert "Ссылка ведёт на магазин" not in other.text
