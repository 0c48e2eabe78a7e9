"""Faults a review of the community lane found, each met through HTTP as a member would meet
it: duplicate links that loop or lead to a hidden question, reviewers who overrule the brand's
staff, closed communities open to comments and edits from outsiders, flags that hide what the
brand approved, review decisions taken twice, and profiles of people outside the brand."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import Person, World
from tests.tickets.test_pages import sign_in


def _decide(f: Forum, who: Person, post_id: int, decision: str) -> Any:
    return f.post(f"/moderation/{post_id}", who, {"decision": decision})


def test_duplicate_links_never_form_a_loop(client: TestClient, world: World, db: Database) -> None:
    f = Forum(client, world, db)
    f.grant(f.asker, 20)  # past the new member's three posts an hour
    a, b, c = (f.ask(f"Роуминг {n}") for n in "абв")
    assert f.post(f"/questions/{a}/close", f.agent, {"duplicate_of": b}).status_code == 200
    assert f.post(f"/questions/{b}/close", f.agent, {"duplicate_of": c}).status_code == 200
    # c → a would lead a → b → c → back to c: refused, and c stays open.
    loop = f.post(f"/questions/{c}/close", f.agent, {"duplicate_of": a})
    assert loop.status_code == 422, loop.text
    assert loop.headers["content-type"].startswith("application/problem+json")
    assert loop.json()["code"] == "duplicate_cycle"
    assert f.get(f"/questions/{c}").json()["closed"] is False
    # A link to the end of a chain goes straight to the original.
    d = f.ask("Роуминг г")
    r = f.post(f"/questions/{d}/close", f.agent, {"duplicate_of": a})
    assert r.json()["duplicate_of"] == c


def test_a_question_is_not_a_duplicate_of_a_hidden_one(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    f.grant(f.asker, 20)
    hidden, other = f.ask("Спам про часы"), f.ask("Как включить роуминг?")
    assert _decide(f, f.agent, hidden, "hide").status_code == 200
    r = f.post(f"/questions/{other}/close", f.agent, {"duplicate_of": hidden})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "duplicate_hidden"
    assert f.get(f"/questions/{other}").json()["closed"] is False
    # Nor through a chain whose original was hidden after the link was made.
    first, second, third = (f.ask(f"Вопрос {n}") for n in "абв")
    f.post(f"/questions/{first}/close", f.agent, {"duplicate_of": second})
    _decide(f, f.agent, second, "hide")
    r = f.post(f"/questions/{third}/close", f.agent, {"duplicate_of": first})
    assert r.json()["code"] == "duplicate_hidden", r.text


def test_a_duplicate_of_another_brands_question_is_not_found(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    g = Forum(client, world, db)
    mine, theirs = f.ask("Мой вопрос"), g.ask("Чужой вопрос")
    r = f.post(f"/questions/{mine}/close", f.agent, {"duplicate_of": theirs})
    assert r.status_code == 404, r.text
    assert f.get(f"/questions/{mine}").json()["closed"] is False


def test_a_member_reviewer_does_not_overrule_the_brands_staff(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    f.grant(f.asker, 20)
    reviewer = f.helpers[0]
    f.grant(reviewer, 600)  # review_queue at 500
    qid = f.ask("Спорный вопрос")
    assert _decide(f, f.agent, qid, "hide").status_code == 200
    r = _decide(f, reviewer, qid, "restore")
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "staff_decision"
    assert f.get(f"/questions/{qid}").status_code == 404  # still hidden
    assert f.get("/moderation/queue", reviewer).json()["items"] == []  # the staff's to decide
    # Staff restored a flagged answer: a member reviewer does not hide it again.
    other = f.ask("Другой вопрос")
    aid = f.answer(other, f.helpers[1], "Ответ по существу")
    f.grant(f.helpers[2], 20)
    f.post(f"/posts/{aid}/flag", f.helpers[2], {"reason": "rude"})
    assert _decide(f, f.agent, aid, "dismiss").status_code == 200
    r = _decide(f, reviewer, aid, "hide")
    assert r.json()["code"] == "staff_decision", r.text
    # The brand approved an answer: a member reviewer does not hide it.
    approved = f.answer(other, f.helpers[3], "Официально верный ответ")
    assert f.post(f"/answers/{approved}/approve", f.agent).status_code == 200
    r = _decide(f, reviewer, approved, "hide")
    assert r.json()["code"] == "staff_decision", r.text
    assert f.get(f"/questions/{other}").json()["answer_list"][0]["hidden"] is False
    # Nor a comment the staff restored.
    cid = f.post(f"/posts/{other}/comments", f.asker, {"body": "Комментарий"}).json()["id"]
    assert f.post(f"/comments/{cid}/moderate", f.agent, {"action": "hide"}).status_code == 200
    assert f.post(f"/comments/{cid}/moderate", f.agent, {"action": "restore"}).status_code == 200
    r = f.post(f"/comments/{cid}/moderate", reviewer, {"action": "hide"})
    assert r.json()["code"] == "staff_decision", r.text
    # Staff may still overrule a member reviewer's decision.
    third = f.ask("Третий вопрос")
    assert _decide(f, reviewer, third, "hide").status_code == 200
    assert _decide(f, f.agent, third, "restore").status_code == 200


def test_a_review_decision_is_taken_once(client: TestClient, world: World, db: Database) -> None:
    f = Forum(client, world, db)
    f.grant(f.asker, 20)
    reviewers = f.helpers[:2]
    for h in reviewers:
        f.grant(h, 600)
    qid = f.ask("Дешёвые часы http://spam.example")
    for h in [*reviewers, f.helpers[2]]:
        f.grant(h, 600)
        f.post(f"/posts/{qid}/flag", h, {"reason": "spam"})
    assert f.get(f"/questions/{qid}").status_code == 404  # hidden by three trusted flags
    first = _decide(f, reviewers[0], qid, "uphold")
    assert first.status_code == 200, first.text
    for who, decision in ((reviewers[1], "restore"), (reviewers[1], "uphold"),
                          (reviewers[0], "uphold")):  # fmt: skip
        again = _decide(f, who, qid, decision)
        assert again.status_code == 409, (decision, again.text)
        assert again.json()["code"] == "already_decided"
    assert f.get(f"/questions/{qid}").status_code == 404  # the uphold stands
    # The author's appeal opens it again; then one decision again.
    assert f.post(f"/posts/{qid}/appeal", f.asker, {"text": "Это не спам"}).status_code == 201
    assert _decide(f, reviewers[1], qid, "restore").status_code == 200
    again = _decide(f, reviewers[0], qid, "restore")
    assert again.json()["code"] == "already_decided"
    # Dismissing flags: once, until someone flags again.
    other = f.ask("Обычный вопрос")
    f.post(f"/posts/{other}/flag", f.helpers[2], {"reason": "rude"})
    assert _decide(f, reviewers[0], other, "dismiss").status_code == 200
    again = _decide(f, reviewers[1], other, "dismiss")
    assert again.status_code == 409
    assert again.json()["code"] == "already_decided"
    # A hidden comment kept hidden is decided too.
    cid = f.post(f"/posts/{other}/comments", f.asker, {"body": "Комментарий"}).json()["id"]
    assert f.post(f"/comments/{cid}/moderate", reviewers[0], {"action": "hide"}).status_code == 200
    kept = f.post(f"/comments/{cid}/moderate", reviewers[1], {"action": "uphold"})
    assert kept.status_code == 200, kept.text
    again = f.post(f"/comments/{cid}/moderate", reviewers[0], {"action": "restore"})
    assert again.json()["code"] == "already_decided", again.text


def test_flags_do_not_hide_a_brand_approved_answer(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Официальная инструкция")
    assert f.post(f"/answers/{aid}/approve", f.agent).status_code == 200
    for h in f.helpers[1:4]:
        f.grant(h, 600)
        r = f.post(f"/posts/{aid}/flag", h, {"reason": "spam"})
        assert r.status_code == 201
        assert r.json()["hidden"] is False, r.text
    answers = f.get(f"/questions/{qid}").json()["answer_list"]
    assert [(a["id"], a["hidden"]) for a in answers] == [(aid, False)]
    # It waits for the brand's staff in the review queue, not for member reviewers.
    staff_queue = f.get("/moderation/queue", f.agent).json()["items"]
    assert [i["post"]["id"] for i in staff_queue] == [aid]
    assert f.get("/moderation/queue", f.helpers[1]).json()["items"] == []
    assert _decide(f, f.agent, aid, "hide").status_code == 200


def test_a_closed_community_takes_comments_and_edits_from_members_only(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    beta = {"slug": "beta", "name": "Бета", "closed": True}
    assert f.post("/communities", f.admin, beta).status_code == 201
    member = f.asker
    f.post("/communities/beta/join", member)
    f.post(f"/communities/beta/members/{member.id}/admit", f.agent)
    asked = {"community": "beta", "title": "Вопрос", "body": "Нет сети после обновления"}
    r = f.post("/questions", member, asked)
    assert r.status_code == 201, r.text
    qid = r.json()["id"]
    outsider = f.helpers[0]
    f.grant(outsider, 2500)  # comment (50) and edit_others (2,000): only membership is missing
    comment = f.post(f"/posts/{qid}/comments", outsider, {"body": "Я не участник"})
    assert comment.status_code == 403, comment.text
    assert comment.json()["code"] == "membership_required"
    edit = client.patch(f.url(f"/posts/{qid}"), json={"body": "Переписал чужой вопрос"},
                        headers=outsider.auth)  # fmt: skip
    assert edit.status_code == 403, edit.text
    assert edit.json()["code"] == "membership_required"
    assert f.get(f"/questions/{qid}").json()["body"] == "Нет сети после обновления"
    # The member comments and edits; the brand's staff moderate without joining.
    assert f.post(f"/posts/{qid}/comments", member, {"body": "Уточнение"}).status_code == 201
    mine = client.patch(f.url(f"/posts/{qid}"), json={"body": "Текст, уточнённый"},
                        headers=member.auth)  # fmt: skip
    assert mine.status_code == 200, mine.text
    staff = client.patch(f.url(f"/posts/{qid}"), json={"body": "Текст без телефона"},
                         headers=f.agent.auth)  # fmt: skip
    assert staff.status_code == 200, staff.text


def test_a_profile_of_someone_outside_the_brand_is_not_found(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    elsewhere = world.brand()
    stranger = world.member(elsewhere, ["helper"], "Незнакомец Чужой")
    assert f.get(f"/users/{stranger.id}/reputation").status_code == 404
    page = client.get(f"/b/{f.slug}/community/users/{stranger.id}")
    assert page.status_code == 404
    assert "Незнакомец Чужой" not in page.text
    # A member's profile answers, as before.
    assert f.get(f"/users/{f.helpers[0].id}/reputation").status_code == 200
    assert client.get(f"/b/{f.slug}/community/users/{f.helpers[0].id}").status_code == 200
    sign_in(client, f.helpers[1])
    assert client.get(f"/b/{f.slug}/community/users/{stranger.id}").status_code == 404


def test_a_comment_under_a_hidden_question_is_not_found(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask("Спам про часы")
    aid = f.answer(qid, f.helpers[0], "Ответ под вопросом")
    cid = f.post(f"/posts/{aid}/comments", f.asker, {"body": "Комментарий к ответу"}).json()["id"]
    assert _decide(f, f.agent, qid, "hide").status_code == 200
    outsider = f.helpers[1]
    f.grant(outsider, 20)  # may flag
    assert f.get(f"/posts/{aid}/comments", outsider).status_code == 404  # as before
    r = f.post(f"/comments/{cid}/flag", outsider, {"reason": "spam"})
    assert (r.status_code, r.json()["code"]) == (404, "comment_not_found"), r.text
    token = sign_in(client, outsider)
    page = client.post(f"/b/{f.slug}/community/comments/{cid}/flag",
                       data={"csrf_token": token, "reason": "spam"})  # fmt: skip
    assert page.status_code == 404, page.status_code
    assert "Спам про часы" not in page.text
    # The staff still reach it.
    assert f.post(f"/comments/{cid}/flag", f.agent, {"reason": "spam"}).status_code == 201


def test_a_hidden_post_earns_no_points_until_it_is_restored(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    author, voter = f.helpers[0], f.helpers[1]
    f.grant(voter, 20)  # may upvote
    aid = f.answer(qid, author, "Купите дешёвые часы http://spam.example")
    assert f.post(f"/posts/{aid}/vote", voter, {"value": 1}).status_code == 200
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid}).status_code == 200
    assert f.rep(author)["points"] == 25  # 10 for the upvote, 15 for the accept
    assert _decide(f, f.agent, aid, "hide").status_code == 200
    assert f.rep(author)["points"] == 0
    assert f.rep(f.asker)["points"] == 2  # the asker keeps the bonus for accepting
    assert _decide(f, f.agent, aid, "restore").status_code == 200
    assert f.rep(author)["points"] == 25
    # What a restore gave back is undone like the original: the voter withdraws the upvote.
    assert f.post(f"/posts/{aid}/vote", voter, {"value": 0}).status_code == 200
    assert f.rep(author)["points"] == 15
    # Flagged and hidden again, restored again: the accept comes back once, the vote not.
    f.grant(f.helpers[2], 20)
    f.post(f"/posts/{aid}/flag", f.helpers[2], {"reason": "spam"})
    assert _decide(f, f.agent, aid, "hide").status_code == 200
    assert f.rep(author)["points"] == 0
    assert _decide(f, f.agent, aid, "restore").status_code == 200
    assert f.rep(author)["points"] == 15
    # Trusted members' flags hide a question, and its upvote's points with it.
    spam = f.ask("Купите часы")
    assert f.post(f"/posts/{spam}/vote", voter, {"value": 1}).status_code == 200
    before = f.rep(f.asker)["points"]
    for h in f.helpers[1:4]:
        f.grant(h, 600)
        f.post(f"/posts/{spam}/flag", h, {"reason": "spam"})
    assert f.get(f"/questions/{spam}").status_code == 404
    assert f.rep(f.asker)["points"] == before - 5
