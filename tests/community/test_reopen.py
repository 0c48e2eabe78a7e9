"""A closed question can be reopened by those who may close it: a mistaken close (or a
"duplicate" that was not one) was final, with no way back on the page or in the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def test_an_agent_reopens_a_question_closed_as_a_duplicate_by_mistake(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    original = f.ask("Нет 4G после обновления телефона")
    qid = f.ask()
    closed = f.post(f"/questions/{qid}/close", f.agent, {"duplicate_of": original})
    assert closed.status_code == 200, closed.text
    token = sign_in(client, f.agent)
    page = client.get(f"/b/{f.slug}/community/questions/{qid}?lang=en").text
    assert f'action="/b/{f.slug}/community/questions/{qid}/reopen"' in page
    assert ">Reopen the question</button>" in page
    r = client.post(f"/b/{f.slug}/community/questions/{qid}/reopen",
                    data={"csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    question = f.get(f"/questions/{qid}", f.asker).json()
    assert question["closed"] is False
    assert question["duplicate_of"] is None
    assert f.answer(qid, f.helpers[0], "Проверьте точку доступа internet.volga.")


def test_reopening_needs_the_close_privilege_and_a_closed_question(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    open_one = f.post(f"/questions/{qid}/reopen", f.agent)
    assert open_one.status_code == 409
    assert open_one.json()["code"] == "not_closed"
    assert f.post(f"/questions/{qid}/close", f.agent, {}).status_code == 200
    refused = f.post(f"/questions/{qid}/reopen", f.asker)
    assert refused.status_code == 403
    assert refused.json()["code"] == "privilege_required"
    sign_in(client, f.asker)
    assert "/reopen" not in client.get(f"/b/{f.slug}/community/questions/{qid}").text
