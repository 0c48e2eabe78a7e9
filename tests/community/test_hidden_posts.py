"""A post hidden by moderation is gone for everyone but its author and the brand's agents, on
every path: the edit form, profiles, duplicate links, votes, accepts, answers — and its author
still sees it, with the reason and the appeal."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in

SECRET_TITLE = "СЕКРЕТНЫЙ заголовок 隐藏的问题"
SECRET_BODY = "ТАЙНОЕ тело поста 不应被看到的内容"


def _hide(f: Forum, post_id: int) -> None:
    r = f.post(f"/moderation/{post_id}", f.agent, {"decision": "hide", "note": "spam"})
    assert r.status_code == 200, r.text
    assert r.json()["hidden"] is True


def test_the_edit_form_of_a_hidden_post_is_not_found(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask(SECRET_TITLE, body=SECRET_BODY)
    _hide(f, qid)
    outsider = f.helpers[3]  # no privileges, not the author, not an agent
    assert f.get(f"/questions/{qid}", outsider).status_code == 404  # API hides it
    sign_in(client, outsider)
    assert client.get(f"/b/{f.slug}/community/questions/{qid}").status_code == 404
    page = client.get(f"/b/{f.slug}/community/posts/{qid}/edit")
    assert SECRET_BODY not in page.text, "hidden body shown on the edit form"
    assert page.status_code == 404, page.status_code


def test_the_edit_form_needs_the_right_to_edit(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask("Видимый вопрос", body="Обычный текст вопроса")
    sign_in(client, f.helpers[3])  # neither the author, nor 2,000 reputation, nor an agent
    page = client.get(f"/b/{f.slug}/community/posts/{qid}/edit")
    assert page.status_code == 403, page.status_code
    sign_in(client, f.asker)
    assert client.get(f"/b/{f.slug}/community/posts/{qid}/edit").status_code == 200


def test_a_profile_does_not_list_a_hidden_question(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask(SECRET_TITLE)
    f.answer(qid, f.helpers[0], "Ответ на скрытый вопрос.")
    _hide(f, qid)
    client.cookies.clear()
    assert client.get(f"/b/{f.slug}/community/questions/{qid}").status_code == 404
    profile = client.get(f"/b/{f.slug}/community/users/{f.helpers[0].id}")
    assert profile.status_code == 200
    assert SECRET_TITLE not in profile.text


def test_a_duplicate_does_not_name_a_hidden_original(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    original = f.ask(SECRET_TITLE)
    dup = f.ask("Обычный вопрос про 4G")
    r = f.post(f"/questions/{dup}/close", f.agent, {"duplicate_of": original})
    assert r.status_code == 200, r.text
    _hide(f, original)
    client.cookies.clear()
    assert client.get(f"/b/{f.slug}/community/questions/{original}").status_code == 404
    page = client.get(f"/b/{f.slug}/community/questions/{dup}")
    assert page.status_code == 200
    assert SECRET_TITLE not in page.text


def test_the_author_of_a_hidden_answer_sees_it_and_can_appeal_on_the_page(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    body = "Мой скрытый ответ 我的被隐藏的回答"
    aid = f.answer(qid, f.helpers[0], body)
    _hide(f, aid)
    assert f.get(f"/posts/{aid}/revisions", f.helpers[0]).status_code == 200
    ids = [a["id"] for a in f.get(f"/questions/{qid}", f.helpers[0]).json()["answer_list"]]
    sign_in(client, f.helpers[0])
    page = client.get(f"/b/{f.slug}/community/questions/{qid}")
    assert page.status_code == 200
    assert f"/community/posts/{aid}/appeal" in page.text, "no appeal form for own hidden answer"
    assert aid in ids
    assert body in page.text
    # Anyone else: neither the answer nor its text.
    others = [a["id"] for a in f.get(f"/questions/{qid}", f.helpers[1]).json()["answer_list"]]
    assert aid not in others


def test_a_hidden_post_cannot_be_voted_on_by_someone_who_cannot_see_it(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Ответ, который потом скроют.")
    _hide(f, aid)
    voter = f.helpers[2]
    f.grant(voter, 20)
    assert f.get(f"/posts/{aid}/revisions", voter).status_code == 404  # not readable to them
    r = f.post(f"/posts/{aid}/vote", voter, {"value": 1})
    assert r.status_code == 404, (r.status_code, f.rep(f.helpers[0]))
    # Nor can they answer, comment on or flag a hidden question.
    _hide(f, qid)
    assert f.post(f"/questions/{qid}/answers", voter, {"body": "Ещё ответ"}).status_code == 404
    assert f.post(f"/posts/{qid}/comments", voter, {"body": "Комментарий"}).status_code == 404
    assert f.post(f"/posts/{qid}/flag", voter, {"reason": "spam"}).status_code == 404


def test_the_asker_cannot_accept_a_hidden_answer(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Спам-ответ, скрытый модератором.")
    _hide(f, aid)
    r = f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid})
    assert r.status_code == 409, (r.status_code, f.rep(f.helpers[0]))
    assert r.json()["code"] == "answer_hidden"
    assert f.rep(f.helpers[0])["points"] == 0


def test_an_appeal_typed_in_the_page_counts_each_line_break_once(
    client: TestClient, world: World, db: Database
) -> None:
    """A browser sends a textarea's line breaks as CR LF: an appeal of 2,000 characters as the
    author saw them (and as the textarea's maxlength allowed) is taken whole, not refused for
    being twice as long nor cut short; one character more is refused with a clear message."""
    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Ответ, который скрыли по ошибке.")
    _hide(f, aid)
    token = sign_in(client, f.helpers[0])
    url = f"/b/{f.slug}/community/posts/{aid}/appeal"
    lines = ["Это не спам: я ответил по делу."] * 60
    text = "\n".join(lines)
    text += "я" * (2000 - len(text))
    typed = text.replace("\n", "\r\n")
    too_long = client.post(url, data={"csrf_token": token, "text": typed + "!"})
    assert too_long.status_code == 422, too_long.status_code
    assert "Keep the appeal to 2000 characters; it has 2001." in too_long.text
    sent = client.post(
        url, data={"csrf_token": token, "text": text.replace("\n", "\r\n")}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    queue = f.get("/moderation/queue", f.agent).json()
    appeals = [i["appeal"] for i in queue["items"] if i.get("appeal")]
    assert text in appeals, appeals
