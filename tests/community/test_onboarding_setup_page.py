"""A brand admin writes a closed community's rules and quiz on its page: they could create a
closed community there but set its rules and quiz only through the API, so new members of a
community made on the page went through no onboarding at all."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.community import rules
from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in

QUIZ = "提问前应该先做什么？\n直接发帖\n* 先搜索\n\n可以发布广告吗？\r\n可以\r\n＊不可以\n"


def test_the_quiz_box_reads_blocks_with_the_right_choice_starred() -> None:
    assert rules.quiz_from_text(QUIZ) == [
        {"q": "提问前应该先做什么？", "choices": ["直接发帖", "先搜索"], "answer": 1},
        {"q": "可以发布广告吗？", "choices": ["可以", "不可以"], "answer": 1},
    ]
    assert rules.quiz_from_text("  \n") == []
    stored = rules.parse_onboarding({"rules": "", "quiz": rules.quiz_from_text(QUIZ)})
    assert isinstance(stored, rules.Onboarding)
    assert rules.quiz_from_text(rules.quiz_to_text(stored)) == rules.quiz_from_text(QUIZ)


def test_a_block_without_one_starred_choice_is_named() -> None:
    for text, index in [("Q?\nA\nB", 0), (QUIZ + "\nQ3?\n* A\n* B", 2), ("Q?\n* only", 0)]:
        problem = rules.quiz_from_text(text)
        assert isinstance(problem, rules.Violation)
        assert dict(problem.params)["index"] == index


def test_an_admin_sets_the_rules_and_quiz_and_a_member_goes_through_them(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    token = sign_in(client, f.admin)
    client.cookies.set("crowdcx_locale", "zh-Hans")
    made = client.post(f"/b/{f.slug}/community/new", data={
        "csrf_token": token, "name": "会员专区", "slug": "members", "closed": "1"},
        follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    page = client.get(f"/b/{f.slug}/community/c/members").text
    assert 'action="/b/' + f.slug + '/community/c/members/setup"' in page
    unmarked = "可以发布广告吗？\n可以\n不可以"
    bad = client.post(
        f"/b/{f.slug}/community/c/members/setup",
        data={"csrf_token": token, "rules_text": "友善交流。", "quiz": unmarked},
    )
    assert bad.status_code == 422
    assert "测验第 1 题无法识别" in bad.text
    assert "可以发布广告吗？\n可以\n不可以</textarea>" in bad.text  # kept to fix
    saved = client.post(f"/b/{f.slug}/community/c/members/setup",
                        data={"csrf_token": token, "rules_text": "友善交流。", "quiz": QUIZ},
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    onboarding = f.get("/communities", f.admin).json()
    members = next(c for c in onboarding["items"] if c["slug"] == "members")
    assert members["closed"] is True
    member_token = sign_in(client, f.asker)
    client.post(f"/b/{f.slug}/community/c/members/join", data={"csrf_token": member_token})
    assert f.post(f"/communities/members/members/{f.asker.id}/admit", f.agent).status_code < 300
    page = client.get(f"/b/{f.slug}/community/c/members?lang=zh-Hans").text
    assert "友善交流。" in page
    assert "提问前应该先做什么？" in page
    assert "/setup" not in page  # a member does not see the admin's box
