"""Curation: a solved community question or a resolved ticket becomes a draft article."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_api import PHONE, Desk
from tests.tickets.test_pages import sign_in


def test_a_solved_question_becomes_a_draft_crediting_the_answer(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask("Не работает мобильный интернет после обновления")
    unsolved = f.post(f"/articles/from-question/{qid}", f.agent)
    assert unsolved.status_code == 409
    assert unsolved.json()["code"] == "question_not_solved"
    aid = f.answer(qid, f.helpers[0], "Проверьте точку доступа **internet.volga**.")
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid}).status_code == 200
    for who in (f.asker, f.helpers[1]):  # customers and helpers do not write articles
        assert f.post(f"/articles/from-question/{qid}", who).status_code == 403
    r = f.post(f"/articles/from-question/{qid}", f.agent)
    assert r.status_code == 201, r.text
    article = r.json()
    assert (article["state"], article["visibility"], article["language"]) == (
        "draft", "public", "ru",
    )  # fmt: skip
    assert article["title"] == "Не работает мобильный интернет после обновления"
    assert "internet.volga" in article["body"]
    assert "На основе ответа участника сообщества Помощник 0." in article["body"]
    # Nobody reads it before a review: the reader's search does not find it.
    found = f.get("/search", None, q="точка доступа internet.volga", kind="article").json()
    assert all(x["id"] != str(article["id"]) for x in found["results"])


def test_a_resolved_ticket_becomes_a_draft_for_experts_without_customer_data(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", desk.agent).status_code in (403, 409)
    early = desk.post(f"/articles/from-ticket/{tid}", desk.agent)
    assert early.status_code == 409  # not resolved yet
    reply = f"李伟您好，已为 {PHONE} 重置蓝牙配对，请在设置里忘记此设备后重新连接。"
    assert desk.post(f"/tickets/{tid}/messages", expert, {"body": reply}).status_code == 201
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    assert desk.post(f"/articles/from-ticket/{tid}", expert).status_code == 403  # staff only
    r = desk.post(f"/articles/from-ticket/{tid}", desk.agent)
    assert r.status_code == 201, r.text
    article = r.json()
    assert (article["visibility"], article["language"]) == ("experts", "zh-Hans")
    body = article["body"]
    assert "## 问题" in body
    assert "## 解决方法" in body
    assert "忘记此设备" in body
    for secret in (PHONE, "li.wei@example.com", "李伟"):
        assert secret not in body, secret
    # The page: the agent's ticket view offers it and opens the editor.
    sign_in(client, desk.agent)
    page = client.get(f"/b/{desk.slug}/tickets/{tid}").text
    assert 'data-testid="draft-article"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    done = client.post(f"/b/{desk.slug}/help/from-ticket/{tid}",
                       data={"csrf_token": token.group(1)}, follow_redirects=False)  # fmt: skip
    # The API made this ticket's draft already: the page opens that one, saying so.
    assert done.status_code == 303
    assert done.headers["location"] == (
        f"/b/{desk.slug}/help/articles/{article['id']}?draft=1&already=ticket"
    )


def _solved(f: Forum, title: str, answer: str, **extra: Any) -> int:
    qid = f.ask(title, **extra)
    aid = f.answer(qid, f.helpers[0], answer)
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid}).status_code == 200
    return qid


def test_the_draft_keeps_the_language_it_is_written_in(
    client: TestClient, world: World, db: Database
) -> None:
    """A question in a language the brand no longer lists is still in that language: the
    draft says so (the editor offers it), not the brand's default over English text."""
    from crowdcx.tenancy.models import Brand

    f = Forum(client, world, db)
    qid = _solved(f, "Mobile data stopped after the update", "Check the APN settings.",
                  language="en")  # fmt: skip
    with db.transaction() as uow:
        brand = uow.session.query(Brand).filter_by(slug=f.slug).one()
        brand.locales = ["ru", "zh-Hans"]
    r = f.post(f"/articles/from-question/{qid}", f.agent)
    assert r.status_code == 201, r.text
    assert r.json()["language"] == "en"
    assert "Based on the community answer by" in r.json()["body"]


def test_a_hidden_question_does_not_become_an_article(
    client: TestClient, world: World, db: Database
) -> None:
    from crowdcx.community.models import PostRow

    f = Forum(client, world, db)
    qid = _solved(f, "Как обойти блокировку SIM-карты чужого телефона", "Вставьте свою SIM.")
    with db.transaction() as uow:  # moderators hid it (flags, or a moderator's decision)
        uow.session.get(PostRow, qid).hidden = True
    r = f.post(f"/articles/from-question/{qid}", f.agent)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "question_hidden"


def test_a_question_and_answer_longer_than_an_article_is_a_clear_422(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask("Полный журнал ошибок модема", body="Журнал: " + "ошибка 42; " * 2700)
    aid = f.answer(qid, f.helpers[0], "Разбор: " + "перезапустите модем. " * 1400)
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid}).status_code == 200
    r = f.post(f"/articles/from-question/{qid}", f.agent)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "too_long_for_article"
    assert "50000" in problem["detail"] or "50 000" in problem["detail"], problem


def test_markdown_from_the_question_or_the_answerers_name_stays_in_its_place(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    trickster = world.member(f.slug, ["helper"], "[Служба поддержки](https://evil.example/login)")
    qid = f.ask("Модем пишет ошибку", body="Вот журнал:\n\n```\nERR 42 link down")  # unclosed
    aid = f.answer(qid, trickster, "Обновите прошивку модема.")
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid}).status_code == 200
    article = f.post(f"/articles/from-question/{qid}", f.agent).json()
    page = article["body_html"]
    assert "evil.example" not in page.replace("[Служба поддержки](https://evil.example/login)", "")
    assert "<a " not in page  # the name is credited as text, not as a link
    assert "<p>Обновите прошивку модема.</p>" in page  # not swallowed by the question's code
    assert "<code>ERR 42 link down" in page


def test_a_ticket_draft_drops_the_customer_however_the_reply_names_them(
    client: TestClient, world: World
) -> None:
    """Replies greet by first name, by surname and title, by the account's name, and quote
    the order number without its prefix: none of it reaches the draft."""
    desk = Desk(client, world)
    expert = desk.experts[0]
    desk.online(expert)
    fields = {"name": "Alice Wong", "order_number": "LM-2026-778899", "phone": PHONE}
    tid = desk.ask(customer_fields=fields)["id"]  # the account is 李伟's
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    reply = ("Hi Alice, 李先生您好! Ms. Wong, the headset of order #778899 is paired again: "
             "forget the device in Bluetooth settings, then reconnect.")  # fmt: skip
    assert desk.post(f"/tickets/{tid}/messages", expert, {"body": reply}).status_code == 201
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    r = desk.post(f"/articles/from-ticket/{tid}", desk.agent)
    assert r.status_code == 201, r.text
    body = r.json()["body"]
    assert "forget the device in Bluetooth settings" in body
    for secret in ("Alice", "Wong", "李先生", "778899"):
        assert secret not in body, (secret, body)
