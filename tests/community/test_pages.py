"""Community pages through HTTP forms, as a browser submits them: a refused form comes back
with what the person typed and chose, and long lists page on."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def textarea(page: str, element_id: str) -> str:
    """The text inside the textarea with this id, unescaped as a browser shows it."""
    found = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, element_id
    return html.unescape(found.group(1))


def test_a_refused_comment_keeps_what_was_typed(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Включите передачу данных.")
    token = sign_in(client, f.asker)
    typed = "Спасибо, <помогло>! " + "я" * 600
    refused = client.post(f"/b/{f.slug}/community/posts/{aid}/comment",
                          data={"csrf_token": token, "body": typed})  # fmt: skip
    assert refused.status_code == 422
    assert textarea(refused.text, f"new-comment-{aid}") == typed
    assert textarea(refused.text, f"new-comment-{qid}") == ""  # only the form it came from
    assert re.search(rf'<details class="inline" open>\s*<summary[^>]*>[^<]*</summary>\s*'
                     rf'<form[^>]*posts/{aid}/comment', refused.text)  # fmt: skip
    blank = client.post(f"/b/{f.slug}/community/posts/{qid}/comment",
                        data={"csrf_token": token, "body": " \n "})  # fmt: skip
    assert blank.status_code == 422
    assert 'id="e-comment-' in blank.text


def test_a_refused_redemption_keeps_the_amount_and_kind(
    client: TestClient, world: World, db: Database
) -> None:
    """A helper with 300 points asked for 500 as a charity donation: the page said why and
    came back with an empty amount and "Account credit" chosen."""
    f = Forum(client, world, db)
    f.grant(f.helpers[0], 300)
    token = sign_in(client, f.helpers[0])
    rewards = f"/b/{f.slug}/community/rewards"
    refused = client.post(rewards, data={"csrf_token": token, "amount": "500", "kind": "charity"})
    assert refused.status_code == 422
    assert re.search(r'<input id="r-amount" name="amount" value="500"', refused.text)
    assert re.findall(r'<option value="(\w+)" selected>', refused.text) == ["charity"]
    typo = client.post(rewards, data={"csrf_token": token, "amount": "2OO", "kind": "cash"})
    assert typo.status_code == 422
    assert re.search(r'<input id="r-amount" name="amount" value="2OO"', typo.text)
    assert re.findall(r'<option value="(\w+)" selected>', typo.text) == ["cash"]


def test_a_member_short_of_the_minimum_is_told_instead_of_given_a_form(
    client: TestClient, world: World, db: Database
) -> None:
    """The rewards form was offered to a member with no points, only to refuse them."""
    f = Forum(client, world, db)
    rewards = f"/b/{f.slug}/community/rewards"
    sign_in(client, f.helpers[1])
    client.cookies.set("crowdcx_locale", "zh-Hans")
    page = client.get(rewards)
    assert page.status_code == 200
    assert 'data-testid="rewards-short"' in page.text
    assert "即可兑换" in page.text
    assert 'id="r-amount"' not in page.text
    f.grant(f.helpers[0], 300)
    sign_in(client, f.helpers[0])
    page = client.get(rewards)
    assert 'id="r-amount"' in page.text
    assert 'data-testid="rewards-short"' not in page.text


def test_browser_line_breaks_count_as_one_character(
    client: TestClient, world: World, db: Database
) -> None:
    """A textarea sends each line break as CR LF: a 599-character comment of 60 short lines
    reached the server as 658 characters and was refused as longer than 600."""
    f = Forum(client, world, db)
    qid = f.ask()
    token = sign_in(client, f.asker)
    lines = ["Спасибо!!"] * 60  # 9 characters + a line break each
    typed = "\r\n".join(lines)
    assert len(typed.replace("\r\n", "\n")) == 599 < 600 < len(typed)
    form = {"csrf_token": token, "body": typed}
    posted = client.post(f"/b/{f.slug}/community/posts/{qid}/comment", data=form,
                         follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303, posted.text[:500]
    bodies = [c["body"] for c in f.get(f"/posts/{qid}/comments").json()["items"]]
    assert bodies == ["\n".join(lines)]  # stored with one kind of line break
    answer = "\r\n\r\n".join(["Проверьте настройки APN."] * 3)
    client.post(f"/b/{f.slug}/community/questions/{qid}/answer",
                data={"csrf_token": token, "body": answer})  # fmt: skip
    stored = f.get(f"/questions/{qid}").json()["answer_list"][0]["body"]
    assert "\r" not in stored


def _listed(page: str, section: str) -> list[int]:
    part = page.split(f'id="{section}"', 1)[1]
    return [int(i) for i in re.findall(r'href="/b/[^/]+/community/questions/(\d+)"', part)]


def _walk(client: TestClient, url: str, section: str) -> list[list[int]]:
    """Every page of a question list, following its "Next page" links."""
    pages = []
    for _ in range(10):
        page = client.get(url)
        assert page.status_code == 200, page.text[:500]
        pages.append(_listed(page.text, section))
        found = re.search(r'<a rel="next" href="([^"]+)"', page.text)
        if found is None:
            return pages
        url = url.split("?", 1)[0] + html.unescape(found.group(1))
    raise AssertionError("the list does not end")


def test_question_lists_page_on_to_every_question(
    client: TestClient, world: World, db: Database
) -> None:
    """The community's question list showed its first 20 (a community's page its first 30)
    and nothing led to the others; sorted by votes, no list had a next page even in the
    API."""
    from sqlalchemy import update

    from crowdcx.community.models import PostRow
    from crowdcx.tenancy.models import Brand

    f = Forum(client, world, db)
    with db.transaction() as uow:
        brand = uow.session.query(Brand).filter_by(slug=f.slug).one()
        limits = {"member_posts_per_hour": 1000, "new_member_posts_per_hour": 1000}
        brand.settings = {**(brand.settings or {}), "community": limits}
    qids = [f.ask(f"Вопрос номер {i}") for i in range(33)]
    with db.transaction() as uow:  # scores with ties, so a page may end inside a tie
        for i, qid in enumerate(qids):
            uow.session.execute(update(PostRow).where(PostRow.id == qid).values(up=i % 4))
    newest = sorted(qids, reverse=True)
    by_votes = sorted(qids, key=lambda q: (qids.index(q) % 4, q), reverse=True)

    pages = _walk(client, f"/b/{f.slug}/community", "new-h")
    assert [len(p) for p in pages] == [20, 13]
    assert [q for p in pages for q in p] == newest
    pages = _walk(client, f"/b/{f.slug}/community?sort=votes", "new-h")
    assert [q for p in pages for q in p] == by_votes
    pages = _walk(client, f"/b/{f.slug}/community/c/mobile", "q-h")
    assert [len(p) for p in pages] == [30, 3]
    assert [q for p in pages for q in p] == newest
    # The API pages on by votes too.
    seen: list[int] = []
    cursor = None
    while True:
        params = {"sort": "votes", "limit": 7, **({"cursor": cursor} if cursor else {})}
        body = f.get("/questions", **params).json()
        seen += [q["id"] for q in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == by_votes
    assert client.get(f"/b/{f.slug}/community", params={"cursor": "nonsense"}).status_code == 422


def test_a_refused_quiz_keeps_the_answers_chosen(
    client: TestClient, world: World, db: Database
) -> None:
    """A new member of a closed community answered a two-question quiz, one answer wrong
    (or forgot to tick the rules): the page came back with every choice cleared."""
    f = Forum(client, world, db)
    beta = {"slug": "beta", "name": "Бета", "closed": True}
    assert f.post("/communities", f.admin, beta).is_success
    quiz = {"rules": "Будьте вежливы.", "quiz": [
        {"q": "Можно ли публиковать чужие номера?", "choices": ["Да", "Нет"], "answer": 1},
        {"q": "Где искать ответ сначала?", "choices": ["В поиске", "В личке", "Нигде"],
         "answer": 0},
    ]}  # fmt: skip
    assert client.put(f.url("/communities/beta/onboarding"), headers=f.admin.auth,
                      json=quiz).is_success  # fmt: skip
    f.post("/communities/beta/join", f.asker)
    f.post(f"/communities/beta/members/{f.asker.id}/admit", f.agent)
    token = sign_in(client, f.asker)
    url = f"/b/{f.slug}/community/c/beta/onboarding"
    wrong = client.post(url, data={"csrf_token": token, "rules_accepted": "yes", "q0": "1",
                                   "q1": "2"})  # fmt: skip
    assert wrong.status_code == 422
    chosen = re.findall(r'name="(q\d)" value="(\d)"[^>]*\bchecked\b', wrong.text)
    assert chosen == [("q0", "1"), ("q1", "2")]
    assert re.search(r'name="rules_accepted" value="yes"[^>]*\bchecked\b', wrong.text)
    no_rules = client.post(url, data={"csrf_token": token, "q0": "1", "q1": "0"})
    assert no_rules.status_code == 422
    chosen = re.findall(r'name="(q\d)" value="(\d)"[^>]*\bchecked\b', no_rules.text)
    assert chosen == [("q0", "1"), ("q1", "0")]
    assert not re.search(r'name="rules_accepted" value="yes"[^>]*\bchecked\b', no_rules.text)


def test_points_typed_in_full_width_digits_are_redeemed(
    client: TestClient, world: World, db: Database
) -> None:
    """ "１００" typed with a Chinese input method was refused: "Enter a whole number"."""
    f = Forum(client, world, db)
    f.grant(f.helpers[0], 300)
    token = sign_in(client, f.helpers[0])
    done = client.post(
        f"/b/{f.slug}/community/rewards",
        data={"csrf_token": token, "amount": "１００", "kind": "credit"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:500]
