"""A community post has to say enough to help: a question a sentence that says what happened,
an answer a few words of what to do. A one-letter question ("a", 好) or a "+1" answer is
refused with 422 problem+json naming the body and saying what to write, in the reader's
language, and the HTML forms say it beside the field and keep what was typed. The minimum
is counted in kernel.markdown.substance: letters and digits, a Chinese character as three
(Chinese says in 5 characters what English says in 15 letters)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.community import rules
from crowdcx.kernel.db import Database
from crowdcx.kernel.markdown import substance
from crowdcx.tenancy.models import Brand
from tests.community.test_api import Forum
from tests.community.test_pages import textarea
from tests.conftest import World
from tests.tickets.test_pages import sign_in

ASK = {"community": "mobile", "title": "Не работает мобильный интернет"}
# What each language says when refused (a piece of the message a person reads).
TOLD = {"en": ("sentence or two", "vote for it"), "ru": ("одном-двух предложениях", "проголосуйте"),
        "zh-Hans": ("一两句话", "投票"), "zh-Hant": ("一兩句話", "投票")}  # fmt: skip


def _post(f: Forum, path: str, body: dict[str, str], language: str) -> dict[str, object]:
    r = f.client.post(f.url(path), json=body, headers={**f.asker.auth, "Accept-Language": language})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, object] = r.json()
    assert problem["code"] == "body_too_short"
    assert problem["field"] == "body"
    return problem


def test_a_question_or_answer_that_says_too_little_is_refused_in_every_language(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    with db.transaction() as uow:  # more posts in the hour than a new member may make
        brand = uow.session.query(Brand).filter_by(slug=f.slug).one()
        limits = {"member_posts_per_hour": 1000, "new_member_posts_per_hour": 1000}
        brand.settings = {**(brand.settings or {}), "community": limits}
    qid = f.ask()
    for language, (asked, answered) in TOLD.items():
        for body in ("a", "好", "+1", "？？？", "👍👍👍", "**a**", "Не грузит", "怎么办？"):
            problem = _post(f, "/questions", {**ASK, "body": body}, language)
            assert asked in str(problem["detail"]), (language, problem)
            assert "15" in str(problem["detail"])
            assert re.search(r"(?<!\d)5(?!\d)", str(problem["detail"]))
        for body in ("a", "+1", "好", "谢谢", "Спасибо!", "Thanks!"):
            problem = _post(f, f"/questions/{qid}/answers", {"body": body}, language)
            assert answered in str(problem["detail"]), (language, problem)
    assert f.get(f"/questions/{qid}").json()["answers"] == 0

    # A sentence is enough in each language; a few words of what to do for an answer.
    for body in ("左耳机没有声音，怎么办？", "左耳機沒有聲音", "My left earbud has no sound",
                 "Правый наушник не заряжается"):  # fmt: skip
        r = f.post("/questions", f.asker, {**ASK, "body": body})
        assert r.status_code == 201, (body, r.text)
    for body in ("重启手机", "Restart the phone", "Перезагрузите телефон"):
        r = f.post(f"/questions/{qid}/answers", f.helpers[0], {"body": body})
        assert r.status_code == 201, (body, r.text)


def test_an_edit_is_held_to_the_same_minimum(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Включите передачу данных.")
    r = f.client.patch(f.url(f"/posts/{aid}"), json={"body": "+1"}, headers=f.helpers[0].auth)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "body_too_short"


def test_the_forms_say_it_beside_the_field_and_keep_what_was_typed(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    token = sign_in(client, f.asker)
    client.cookies.set("crowdcx_locale", "zh-Hant")
    asked = client.post(f"/b/{f.slug}/community/ask",
                        data={"csrf_token": token, **ASK, "body": "好"})  # fmt: skip
    assert asked.status_code == 422
    assert textarea(asked.text, "a-body") == "好"
    assert 'value="Не работает мобильный интернет"' in asked.text
    beside = re.search(r'<div class="field has-error">\s*<label for="a-body">.*?'
                       r'<p class="error"[^>]*>([^<]*)</p>', asked.text, re.S)  # fmt: skip
    assert beside is not None, asked.text[:2000]
    assert "一兩句話" in beside.group(1)

    answered = client.post(f"/b/{f.slug}/community/questions/{qid}/answer",
                           data={"csrf_token": token, "body": "+1"})  # fmt: skip
    assert answered.status_code == 422
    assert textarea(answered.text, "ans-body") == "+1"
    beside = re.search(r'<label for="ans-body">.*?<p class="error"[^>]*>([^<]*)</p>',
                       answered.text, re.S)  # fmt: skip
    assert beside is not None
    assert "投票" in beside.group(1)


@given(st.text(max_size=40), st.text(max_size=40))
def test_substance_adds_up(a: str, b: str) -> None:
    assert substance(a + b) == substance(a) + substance(b)
    assert substance(a) <= 3 * len(a)


@given(st.text(alphabet=st.sampled_from(" !?.,+-*#👍…、。！？\u200b\t\n"), max_size=30))
def test_punctuation_symbols_and_spaces_say_nothing(typed: str) -> None:
    assert substance(typed) == 0
    assert substance(typed + "ok") == 2


@given(st.text(alphabet=st.sampled_from("好的谢谢重启"), min_size=1, max_size=12))
def test_chinese_counts_three_a_character(typed: str) -> None:
    assert substance(typed) == 3 * len(typed)
    refused = rules.body_problems(typed, False, rules.CommunityPolicy(), "answer")
    assert bool(refused) == (3 * len(typed) < rules.CommunityPolicy().min_answer_substance)
