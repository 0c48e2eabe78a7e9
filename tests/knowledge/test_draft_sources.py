"""Drafting an article from a ticket or a question twice opens the first draft: the API answers
201 for a new draft and 200 with the open one, the page opens it with a notice, presses at the
same moment make one draft, and the ticket and question pages link the draft for the staff.
Once the draft is published (or archived) the source may be drafted again."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in


def _resolved_ticket(desk: Desk) -> int:
    expert = desk.experts[0]
    desk.online(expert)
    tid = int(desk.ask()["id"])
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    reply = "您好，请在设置里忘记此设备，然后重新配对蓝牙耳机。"
    assert desk.post(f"/tickets/{tid}/messages", expert, {"body": reply}).status_code == 201
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    return tid


def _solved_question(f: Forum, title: str = "Не работает мобильный интернет") -> int:
    qid = f.ask(title)
    aid = f.answer(qid, f.helpers[0], "Проверьте точку доступа internet.volga.")
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid}).status_code == 200
    return qid


def _drafts_from(client: TestClient, slug: str, who: Any, kind: str, source: int) -> list[int]:
    r = client.get(f"/api/v1/brands/{slug}/articles?limit=100", headers=who.auth)
    assert r.status_code == 200, r.text
    return [
        a["id"] for a in r.json()["items"] if (a["source_kind"], a["source_id"]) == (kind, source)
    ]


def _press(client: TestClient, page_url: str, action: str) -> Any:
    page = client.get(page_url).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return client.post(action, data={"csrf_token": token.group(1)}, follow_redirects=False)


def test_drafting_a_ticket_twice_opens_the_first_draft(client: TestClient, world: World) -> None:
    desk = Desk(client, world)
    tid = _resolved_ticket(desk)
    first = desk.post(f"/articles/from-ticket/{tid}", desk.agent)
    assert first.status_code == 201, first.text
    article = first.json()
    assert (article["source_kind"], article["source_id"]) == ("ticket", tid)
    again = desk.post(f"/articles/from-ticket/{tid}", desk.agent)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == article["id"]
    # Another agent of the brand gets the same draft, not one of their own.
    other = world.member(desk.slug, ["agent"], "另一位客服")
    assert desk.post(f"/articles/from-ticket/{tid}", other).json()["id"] == article["id"]
    assert _drafts_from(client, desk.slug, desk.agent, "ticket", tid) == [article["id"]]

    # The page: the ticket links its draft, and the button opens that draft with a notice.
    sign_in(client, desk.agent)
    ticket_page = f"/b/{desk.slug}/tickets/{tid}"
    page = client.get(ticket_page).text
    link = re.search(r'<a href="([^"]+)" data-testid="drafted-article">([^<]+)</a>', page)
    assert link, page
    assert link.group(1) == f"/b/{desk.slug}/help/articles/{article['id']}?draft=1"
    assert link.group(2) == "Article drafted from this ticket"
    done = _press(client, ticket_page, f"/b/{desk.slug}/help/from-ticket/{tid}")
    assert done.status_code == 303
    location = done.headers["location"]
    assert location == f"/b/{desk.slug}/help/articles/{article['id']}?draft=1&already=ticket"
    opened = client.get(location).text
    assert 'data-testid="draft-exists"' in opened
    assert _drafts_from(client, desk.slug, desk.agent, "ticket", tid) == [article["id"]]


def test_a_question_drafted_twice_opens_the_first_draft_and_staff_see_the_link(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = _solved_question(f)
    question_page = f"/b/{f.slug}/community/questions/{qid}"
    sign_in(client, f.agent)
    assert 'data-testid="drafted-article"' not in client.get(question_page).text
    done = _press(client, question_page, f"/b/{f.slug}/help/from-question/{qid}")
    assert done.status_code == 303
    created = re.fullmatch(rf"/b/{f.slug}/help/articles/(\d+)/edit", done.headers["location"])
    assert created, done.headers["location"]
    aid = int(created.group(1))
    again = f.post(f"/articles/from-question/{qid}", f.agent)
    assert again.status_code == 200, again.text
    assert (again.json()["id"], again.json()["source_kind"]) == (aid, "question")
    assert again.json()["source_id"] == qid
    page = client.get(question_page).text
    assert f'href="/b/{f.slug}/help/articles/{aid}?draft=1" data-testid="drafted-article"' in page
    assert "Article drafted from this question" in page
    pressed = _press(client, question_page, f"/b/{f.slug}/help/from-question/{qid}")
    assert pressed.headers["location"] == (
        f"/b/{f.slug}/help/articles/{aid}?draft=1&already=question"
    )
    # Neither the asker nor a helper learns of the draft.
    for who in (f.asker, f.helpers[1]):
        sign_in(client, who)
        assert 'data-testid="drafted-article"' not in client.get(question_page).text
    # A reader does not get where an article came from.
    assert f.get(f"/articles/{aid}", f.asker).status_code == 404


def test_a_published_or_archived_draft_lets_the_source_be_drafted_again(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = _solved_question(f)
    first = f.post(f"/articles/from-question/{qid}", f.agent).json()
    for action, who in (("submit", f.agent), ("approve", f.admin), ("publish", f.admin)):
        r = f.post(f"/articles/{first['id']}/{action}", who)
        assert r.status_code == 200, r.text
    # Published: what the source says may have moved on, so a new draft may be written (and
    # the question links the newest of them).
    second = f.post(f"/articles/from-question/{qid}", f.agent)
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first["id"]
    assert f.post(f"/articles/from-question/{qid}", f.agent).json()["id"] == second.json()["id"]
    sign_in(client, f.agent)
    page = client.get(f"/b/{f.slug}/community/questions/{qid}").text
    assert f'/help/articles/{second.json()["id"]}?draft=1" data-testid' in page
    # Archived unpublished: no longer open, so the next press drafts anew.
    assert f.post(f"/articles/{second.json()['id']}/archive", f.agent).status_code == 200
    third = f.post(f"/articles/from-question/{qid}", f.agent)
    assert third.status_code == 201, third.text
    assert third.json()["id"] not in (first["id"], second.json()["id"])


def test_another_brands_draft_from_the_same_id_or_another_kind_does_not_collide(
    client: TestClient, world: World, db: Database
) -> None:
    """Sources are told apart by brand and kind: brand B's draft marked as drafted from brand
    A's ticket id is not A's draft of that ticket, nor is a draft of a ticket with a question's
    id the question's draft."""
    from crowdcx.knowledge.models import Article

    a, b = Desk(client, world), Desk(client, world)
    tid_a, tid_b = _resolved_ticket(a), _resolved_ticket(b)
    in_b = b.post(f"/articles/from-ticket/{tid_b}", b.agent).json()["id"]
    with db.transaction() as uow:  # ticket ids are global: give B's draft A's ticket's id
        uow.session.get(Article, in_b).source_id = tid_a
    r = a.post(f"/articles/from-ticket/{tid_a}", a.agent)
    assert r.status_code == 201, r.text
    in_a = r.json()["id"]
    assert in_a != in_b
    sign_in(client, a.agent)
    page = client.get(f"/b/{a.slug}/tickets/{tid_a}").text
    assert f"/help/articles/{in_a}?draft=1" in page
    assert f"/help/articles/{in_b}" not in page

    f = Forum(client, world, db)
    qid = _solved_question(f)
    drafted = f.post(f"/articles/from-question/{qid}", f.agent).json()["id"]
    with db.transaction() as uow:  # now the open draft of a ticket with the question's id
        uow.session.get(Article, drafted).source_kind = "ticket"
    mine = f.post(f"/articles/from-question/{qid}", f.agent)
    assert mine.status_code == 201, mine.text
    assert mine.json()["id"] != drafted


def test_presses_at_the_same_moment_make_one_draft(client: TestClient, world: World) -> None:
    desk = Desk(client, world)
    tid = _resolved_ticket(desk)

    def press(_: int) -> tuple[int, int]:
        r = desk.post(f"/articles/from-ticket/{tid}", desk.agent)
        return r.status_code, r.json().get("id", 0)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(press, range(8)))
    assert sorted(s for s, _ in answers) == [200] * 7 + [201], answers
    assert len({i for _, i in answers}) == 1
    assert _drafts_from(client, desk.slug, desk.agent, "ticket", tid) == [answers[0][1]]


def test_an_open_draft_above_the_writers_reading_level_is_a_clear_409(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = _solved_question(f)
    aid = f.post(f"/articles/from-question/{qid}", f.agent).json()["id"]
    r = client.patch(f.url(f"/articles/{aid}"), json={"visibility": "staff"}, headers=f.agent.auth)
    assert r.status_code == 200, r.text
    expert = world.member(f.slug, ["expert"], "Эксперт")  # writes articles, reads no staff ones
    refused = f.post(f"/articles/from-question/{qid}", expert)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "article_draft_exists"
    assert "id" not in refused.json()  # a problem, nothing of the draft
    sign_in(client, expert)
    page = client.get(f"/b/{f.slug}/community/questions/{qid}").text
    assert 'data-testid="drafted-article"' not in page
