"""Around the Q&A core, through HTTP: badges granted once and back-filled, level-ups and
other notifications, follows, appeals and the review queue, closed communities with an
application and an onboarding quiz, super-user discovery, the pages, and the e-mail digest
through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.notifications import service as notes
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def kinds(f: Forum, who: Any) -> list[str]:
    return [n["kind"] for n in f.get("/notifications", who).json()["items"]]


def test_badges_levels_and_notifications_follow_the_events(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    helper = f.helpers[0]
    f.grant(helper, 130)  # level 1 (Apple's level 2 starts at 150)
    for h in f.helpers[1:3]:
        f.grant(h, 20)
    assert f.rep(helper)["level"] == 1
    qid = f.ask()
    assert f.rep(f.asker)["badges"] == ["first_question"]
    aid = f.answer(qid, helper, "Включите передачу данных в роуминге.")
    assert "answer" in kinds(f, f.asker)
    assert f.rep(helper)["badges"] == ["first_answer"]
    f.post(f"/posts/{aid}/vote", f.helpers[1], {"value": 1})  # +10 -> 140
    assert "upvoted" in kinds(f, helper)
    assert "level" not in kinds(f, helper)
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid}).status_code == 200
    card = f.rep(helper)
    assert card["points"] == 155
    assert card["level"] == 2
    assert card["badges"] == ["first_answer", "first_accepted"]
    got = kinds(f, helper)
    assert {"accepted", "level", "badge"} <= set(got)
    texts = [n["text"] for n in f.get("/notifications", helper).json()["items"]]
    assert "Ваш ответ на «Не работает мобильный интернет» принят." in texts  # brand locale ru
    # Idempotent: back-filling grants nothing new; a brand rule added later is back-filled.
    assert f.post("/badges/backfill", f.admin).json() == {"granted": 0}
    with db.transaction() as uow:
        from crowdcx.tenancy.models import Brand

        brand = uow.session.query(Brand).filter_by(slug=f.slug).one()
        brand.settings = {
            **(brand.settings or {}),
            "community": {"badges": [{"code": "first_upvote", "metric": "upvotes_received",
                                      "threshold": 1, "tier": "bronze"}]},
        }  # fmt: skip
    assert f.post("/badges/backfill", f.admin).json() == {"granted": 1}
    assert f.rep(helper)["badges"][-1] == "first_upvote"
    assert f.post("/badges/backfill", f.helpers[1]).status_code == 403
    unread = f.get("/notifications", helper).json()["unread"]
    assert unread > 0
    assert f.get("/notifications/unread", helper).json() == {"count": unread}
    f.post("/notifications/read", helper)
    assert f.get("/notifications", helper).json()["unread"] == 0
    assert f.get("/notifications/unread", helper).json() == {"count": 0}


def test_upvotes_in_three_languages_earn_the_polyglot_badge(
    client: TestClient, world: World, db: Database
) -> None:
    """An upvote that makes an answer helpful moves its language; a second upvote on the same
    answer does not (the badge check then skips reading languages) — the badge still comes
    when the third language does, and only once."""
    f = Forum(client, world, db)
    helper, voters = f.helpers[0], f.helpers[1:3]
    for v in voters:
        f.grant(v, 20)
    answers = [
        f.answer(f.ask(title, language=lang), helper, text)
        for title, lang, text in [
            ("Не работает интернет", "ru", "Перезагрузите роутер."),
            ("Roaming does not connect", "en", "Turn data roaming on."),
            ("蓝牙耳机连不上手机", "zh-Hans", "请先重新配对耳机。"),
        ]
    ]
    for aid in answers[:2]:
        for v in voters:  # the second upvote keeps the language count where it is
            assert f.post(f"/posts/{aid}/vote", v, {"value": 1}).status_code == 200
    assert "polyglot_3" not in f.rep(helper)["badges"]
    assert f.post(f"/posts/{answers[2]}/vote", voters[0], {"value": 1}).status_code == 200
    assert f.rep(helper)["badges"].count("polyglot_3") == 1
    assert f.post(f"/posts/{answers[2]}/vote", voters[1], {"value": 1}).status_code == 200
    assert f.rep(helper)["badges"].count("polyglot_3") == 1


def test_a_badge_granted_meanwhile_is_not_an_error(
    client: TestClient, world: World, db: Database, monkeypatch: Any, caplog: Any
) -> None:
    """Badges are granted just after the event commits; when a concurrent event granted the
    same badge in between, the unique key refuses the second grant quietly and the event
    itself stands."""
    from crowdcx.community import engagement

    f = Forum(client, world, db)
    qid = f.ask()
    assert f.rep(f.asker)["badges"] == ["first_question"]
    monkeypatch.setattr(engagement, "badges_of", lambda *_args: [])  # sees none: a race
    second = f.ask("Роуминг не подключается")
    assert second != qid
    assert f.rep(f.asker)["badges"] == ["first_question"]
    assert "after-commit effect failed" not in caplog.text


def test_follows_bring_new_questions(client: TestClient, world: World, db: Database) -> None:
    f = Forum(client, world, db)
    follower = f.helpers[0]
    assert (
        f.post("/follows", follower, {"kind": "community", "target": "mobile"}).status_code == 201
    )
    assert f.post("/follows", follower, {"kind": "tag", "target": "eSIM"}).json()["following"] == [
        "community:mobile", "tag:esim"]  # fmt: skip
    f.ask("Как перенести eSIM?", tags=["esim"])
    assert kinds(f, follower).count("followed") == 1  # one note, though two follows match
    bad = f.post("/follows", follower, {"kind": "planet", "target": "x"})
    assert bad.status_code == 422
    client.request("DELETE", f.url("/follows"), json={"kind": "community", "target": "mobile"},
                   headers=follower.auth)  # fmt: skip
    client.request("DELETE", f.url("/follows"), json={"kind": "tag", "target": "esim"},
                   headers=follower.auth)  # fmt: skip
    f.ask("Ещё вопрос про роуминг")
    assert kinds(f, follower).count("followed") == 1


def test_hidden_post_is_explained_appealed_reviewed_and_restored(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask("Дешёвые часы тут http://spam.example")
    for h in f.helpers[:3]:
        f.grant(h, 600)
    for h in f.helpers[:3]:
        f.post(f"/posts/{qid}/flag", h, {"reason": "spam"})
    assert f.get(f"/questions/{qid}").status_code == 404
    # Nor through its history or comments; the author still sees it.
    assert f.get(f"/posts/{qid}/revisions").status_code == 404
    assert f.get(f"/posts/{qid}/comments", f.helpers[3]).status_code == 404
    assert f.get(f"/posts/{qid}/comments", f.asker).status_code == 200
    note = f.get("/notifications", f.asker).json()["items"][0]
    assert note["kind"] == "hidden"
    assert "доверенные участники (3)" in note["text"]
    # A 500-point member may review; a newcomer may not.
    assert f.get("/moderation/queue", f.helpers[3]).status_code == 403
    queue = f.get("/moderation/queue", f.helpers[0]).json()["items"]
    assert [i["post"]["id"] for i in queue] == [qid]
    assert queue[0]["flags"] == 3
    # Only its author appeals: to anyone else (not an agent) a hidden post is not there.
    assert f.post(f"/posts/{qid}/appeal", f.helpers[1], {"text": "нет"}).status_code == 404
    assert f.post(f"/posts/{qid}/appeal", f.asker, {"text": " "}).status_code == 422
    assert f.post(f"/posts/{qid}/appeal", f.asker, {"text": "Это не спам"}).status_code == 201
    dup = f.post(f"/posts/{qid}/appeal", f.asker, {"text": "Ещё раз"})
    assert dup.json()["code"] == "already_appealed"
    queue = f.get("/moderation/queue", f.agent).json()["items"]
    assert queue[0]["appeal"] == "Это не спам"
    assert f.post(f"/moderation/{qid}", f.agent, {"decision": "hide"}).json()["code"] == (
        "already_hidden"
    )
    r = f.post(f"/moderation/{qid}", f.agent, {"decision": "restore", "note": "ок"})
    assert r.json()["hidden"] is False
    assert f.get(f"/questions/{qid}").status_code == 200
    assert "restored" in kinds(f, f.asker)
    assert f.get("/moderation/queue", f.agent).json()["items"] == []


def test_closed_community_application_and_onboarding_quiz(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    r = f.post("/communities", f.admin, {"slug": "beta", "name": "Бета", "closed": True})
    assert r.status_code == 201
    question = {"q": "Можно ли публиковать чужие номера?", "choices": ["Да", "Нет"], "answer": 1}
    quiz = {"rules": "Будьте вежливы.", "quiz": [question]}
    bad = client.put(f.url("/communities/beta/onboarding"), headers=f.admin.auth,
                     json={"quiz": [{"q": "?", "choices": ["один"], "answer": 3}]})  # fmt: skip
    assert bad.status_code == 422
    assert "(вопрос 1)" in bad.json()["detail"]
    ok = client.put(f.url("/communities/beta/onboarding"), headers=f.admin.auth, json=quiz)
    assert ok.status_code == 200
    body = {"community": "beta", "title": "Вопрос", "body": "Нет сети после обновления"}
    assert f.post("/questions", f.asker, body).json()["code"] == "membership_required"
    assert f.post("/communities/beta/join", f.asker).json()["status"] == "applied"
    assert f.post("/questions", f.asker, body).json()["code"] == "membership_required"
    apps = f.get("/communities/beta/applications", f.agent).json()["items"]
    assert [a["user_id"] for a in apps] == [f.asker.id]
    assert f.get("/communities/beta/applications", f.asker).status_code == 403
    admitted = f.post(f"/communities/beta/members/{f.asker.id}/admit", f.agent).json()
    assert admitted == {"user_id": f.asker.id, "status": "member", "onboarding_done": False}
    assert f.post("/questions", f.asker, body).json()["code"] == "onboarding_incomplete"
    wrong = f.post("/communities/beta/onboarding", f.asker,
                   {"rules_accepted": True, "answers": [0]})  # fmt: skip
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "quiz_failed"
    no_rules = f.post("/communities/beta/onboarding", f.asker, {"answers": [1]})
    assert no_rules.json()["code"] == "rules_not_accepted"
    done = f.post("/communities/beta/onboarding", f.asker, {"rules_accepted": True, "answers": [1]})
    assert done.json()["onboarding_done"] is True
    assert f.post("/questions", f.asker, body).status_code == 201
    assert "membership" in kinds(f, f.asker)


def test_super_user_discovery_and_invitation(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    with db.transaction() as uow:
        from crowdcx.tenancy.models import Brand

        brand = uow.session.query(Brand).filter_by(slug=f.slug).one()
        discovery = {"min_accepted": 1, "min_reputation": 10}
        brand.settings = {**(brand.settings or {}), "community": {"discovery": discovery}}
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Ответ по существу")
    f.answer(qid, f.helpers[1], "Другой ответ")
    f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid})
    assert f.get("/super-users", f.helpers[0]).status_code == 403
    items = f.get("/super-users", f.admin).json()["items"]
    assert [i["user_id"] for i in items] == [f.helpers[0].id]
    assert items[0]["acceptance_rate"] == 1.0
    assert f.post(f"/super-users/{f.helpers[0].id}/invite", f.admin).status_code == 201
    assert "invited" in kinds(f, f.helpers[0])


def test_pages_walk_answer_vote_accept_profile_leaderboard_and_review(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    for h in f.helpers[1:]:
        f.grant(h, 600)
    qid = f.ask("Как включить VoLTE?")
    token = sign_in(client, f.helpers[0])
    home = client.get(f"/b/{f.slug}/community")
    assert home.status_code == 200
    assert "Как включить VoLTE?" in home.text
    empty = client.post(f"/b/{f.slug}/community/questions/{qid}/answer",
                        data={"csrf_token": token, "body": "  "})  # fmt: skip
    assert empty.status_code == 422
    posted = client.post(
        f"/b/{f.slug}/community/questions/{qid}/answer",
        data={"csrf_token": token, "body": "Настройки → Сеть → **VoLTE** <script>x()</script>"},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    page = client.get(f"/b/{f.slug}/community/questions/{qid}")
    assert "<strong>VoLTE</strong>" in page.text
    assert "<script>x()" not in page.text
    aid = int(page.text.split('class="card answer')[1].split('id="post-')[1].split('"')[0])
    own_vote = client.post(f"/b/{f.slug}/community/posts/{aid}/vote",
                           data={"csrf_token": token, "value": "1"})  # fmt: skip
    assert own_vote.status_code == 403
    token = sign_in(client, f.helpers[1])
    client.post(f"/b/{f.slug}/community/posts/{aid}/vote", data={"csrf_token": token, "value": "1"})
    token = sign_in(client, f.asker)
    r = client.post(
        f"/b/{f.slug}/community/questions/{qid}/accept",
        data={"csrf_token": token, "answer_id": str(aid)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Accepted answer" in client.get(f"/b/{f.slug}/community/questions/{qid}").text
    prof = client.get(f"/b/{f.slug}/community/users/{f.helpers[0].id}")
    assert 'data-testid="points">25<' in prof.text
    assert "First accepted answer" in prof.text
    follow = client.post(
        f"/b/{f.slug}/community/follow",
        data={"csrf_token": token, "kind": "user", "target": str(f.helpers[0].id),
              "back": f"/b/{f.slug}/community/users/{f.helpers[0].id}"},
        follow_redirects=True,
    )  # fmt: skip
    assert ">Unfollow<" in follow.text
    board = client.get(f"/b/{f.slug}/community/leaderboard", params={"period": "week"})
    assert f"/community/users/{f.helpers[0].id}" in board.text
    similar = client.get(f"/b/{f.slug}/community/similar", params={"title": "VoLTE включить"})
    assert f"/community/questions/{qid}" in similar.text
    asked = client.post(f"/b/{f.slug}/community/ask", data={
        "csrf_token": token, "community": "mobile", "title": "", "body": "x"})  # fmt: skip
    assert asked.status_code == 422
    # Review queue: closed to newcomers, open to 500+ reputation.
    assert client.get(f"/b/{f.slug}/community/moderation").status_code == 403
    for h in f.helpers[1:]:
        token = sign_in(client, h)
        client.post(f"/b/{f.slug}/community/posts/{qid}/flag",
                    data={"csrf_token": token, "reason": "spam"})  # fmt: skip
    queue = client.get(f"/b/{f.slug}/community/moderation")
    assert queue.status_code == 200
    assert "Как включить VoLTE?" in queue.text
    token = sign_in(client, f.asker)
    assert "hidden automatically" in client.get(f"/b/{f.slug}/notifications").text
    rewards = client.post(
        f"/b/{f.slug}/community/rewards",
        data={"csrf_token": token, "amount": "abc", "kind": "credit"},
    )
    assert rewards.status_code == 422


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_digest_is_one_mail_per_user_in_their_language(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    with db.transaction() as uow:
        from crowdcx.identity.models import User

        uow.session.get(User, f.asker.id).locale = "ru"  # type: ignore[union-attr]
    qid = f.ask()
    for h in f.helpers[:3]:
        f.answer(qid, h, f"Ответ номер {h.id}")
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        send = notes.smtp_sender(f"smtp://127.0.0.1:{port}", "CrowdCX <help@example.com>")
        now = utcnow()
        with db.sessions() as session:
            assert notes.send_digests(session, send, now) == 4  # asker + 3 helpers (badges)
            assert notes.send_digests(session, send, now + timedelta(hours=1)) == 0
        mails = [m for m in inbox.messages if m["To"] == f.asker.email]
        assert len(mails) == 1
        mail = mails[0]
        assert mail["From"] == "CrowdCX <help@example.com>"
        body = mail.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
        assert body.count("ответил(а) на ваш вопрос") == 3  # in the asker's language
        assert "Не работает мобильный интернет" in body
        assert "/community/questions/" in body
        f.answer(qid, f.helpers[3], "Ещё один ответ")
        with db.sessions() as session:
            # The new helper's first digest goes out; the asker's waits until a day has passed.
            assert notes.send_digests(session, send, now + timedelta(hours=2)) == 1
            assert len([m for m in inbox.messages if m["To"] == f.asker.email]) == 1
            assert notes.send_digests(session, send, now + timedelta(hours=25)) == 1
        assert len([m for m in inbox.messages if m["To"] == f.asker.email]) == 2
    finally:
        controller.stop()


def test_cli_sends_digests_and_backfills_badges(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    from typer.testing import CliRunner

    from crowdcx.cli import app as cli

    f = Forum(client, world, db)
    qid = f.ask()
    f.answer(qid, f.helpers[0], "Ответ по существу")
    runner = CliRunner()
    env = {"CROWDCX_DATABASE_URL": database_url}
    no_smtp = runner.invoke(cli, ["send-digests"], env={**env, "CROWDCX_SMTP_URL": ""})
    assert no_smtp.exit_code == 2
    assert "CROWDCX_SMTP_URL" in no_smtp.output
    port = _free_port()
    down = runner.invoke(cli, ["send-digests"],
                         env={**env, "CROWDCX_SMTP_URL": f"smtp://127.0.0.1:{port}"})  # fmt: skip
    assert down.exit_code == 1
    assert "did not answer" in down.output
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        out = runner.invoke(
            cli, ["send-digests"],
            env={**env, "CROWDCX_SMTP_URL": f"smtp://127.0.0.1:{port}",
                 "CROWDCX_PUBLIC_URL": "https://help.example.com"},
        )  # fmt: skip
        assert out.exit_code == 0, out.output
        assert "2 digests sent" in out.output  # the asker and the helper
        body = inbox.messages[0].get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
        assert "https://help.example.com/b/" in body
    finally:
        controller.stop()
    again = runner.invoke(cli, ["backfill-badges", "--brand", f.slug], env=env)
    assert again.exit_code == 0, again.output
    assert "0 badges granted" in again.output


def test_close_as_duplicate_edit_with_history_and_comments(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    original = f.ask("Как включить роуминг?")
    dup = f.ask("Как включить роуминг за границей?")
    dup_of_dup = f.ask("Роуминг не включается")
    # Closing takes 3,000 reputation or an agent; chains collapse to the original.
    assert f.post(f"/questions/{dup}/close", f.helpers[0], {}).json()["code"] == (
        "privilege_required"
    )
    assert (
        f.post(f"/questions/{dup}/close", f.agent, {"duplicate_of": original}).json()[
            "duplicate_of"
        ]
        == original
    )
    assert f.post(f"/questions/{dup}/close", f.agent, {}).json()["code"] == "already_closed"
    f.grant(f.helpers[0], 3000)
    r = f.post(f"/questions/{dup_of_dup}/close", f.helpers[0], {"duplicate_of": dup})
    assert r.json()["duplicate_of"] == original
    self_dup = f.post(f"/questions/{original}/close", f.agent, {"duplicate_of": original})
    assert self_dup.status_code == 422
    assert f.post(f"/questions/{dup}/answers", f.helpers[1], {"body": "x"}).json()["code"] == (
        "question_closed"
    )
    # Editing keeps the history; others need 2,000 reputation.
    edit = {"title": "Как включить роуминг в Турции?", "body": "Новый текст вопроса",
            "note": "уточнил"}  # fmt: skip
    patched = client.patch(f.url(f"/posts/{original}"), json=edit, headers=f.asker.auth)
    assert patched.status_code == 200
    assert patched.json()["title"] == "Как включить роуминг в Турции?"
    other = client.patch(f.url(f"/posts/{original}"), json={"body": "спам"},
                         headers=f.helpers[1].auth)  # fmt: skip
    assert other.json()["code"] == "privilege_required"
    empty = client.patch(f.url(f"/posts/{original}"), json={"title": " ", "body": "x"},
                         headers=f.asker.auth)  # fmt: skip
    assert empty.status_code == 422
    history = f.get(f"/posts/{original}/revisions").json()["items"]
    assert [(h["title"], h["note"]) for h in history] == [("Как включить роуминг?", "уточнил")]
    # Comments: on your own post or question always; elsewhere at 50 reputation.
    aid = f.answer(original, f.helpers[1], "Включите передачу данных.")
    assert f.post(f"/posts/{aid}/comments", f.asker, {"body": "Спасибо!"}).status_code == 201
    assert f.post(f"/posts/{original}/comments", f.helpers[2], {"body": "+1"}).json()["code"] == (
        "privilege_required"
    )
    f.grant(f.helpers[2], 60)
    assert f.post(f"/posts/{original}/comments", f.helpers[2], {"body": "+1"}).status_code == 201
    long = f.post(f"/posts/{aid}/comments", f.asker, {"body": "я" * 601})
    assert long.status_code == 422
    script = f.post(f"/posts/{aid}/comments", f.asker, {"body": "<script>x()</script>**ok**"})
    assert "<script>" not in script.json()["body_html"]
    bodies = [c["body"] for c in f.get(f"/posts/{aid}/comments").json()["items"]]
    assert bodies[:1] == ["Спасибо!"]
    token = sign_in(client, f.asker)
    page = client.get(f"/b/{f.slug}/community/questions/{dup}")
    assert "Closed as a duplicate of" in page.text
    assert f"/community/questions/{original}" in page.text
    page = client.get(f"/b/{f.slug}/community/questions/{original}")
    assert "Спасибо!" in page.text
    form = client.post(f"/b/{f.slug}/community/posts/{original}/edit",
                       data={"csrf_token": token, "title": "", "body": "x"})  # fmt: skip
    assert form.status_code == 422
    assert "Edit history" in client.get(f"/b/{f.slug}/community/posts/{original}/edit").text


def test_cli_recomputes_reputation_totals(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    from sqlalchemy import update
    from typer.testing import CliRunner

    from crowdcx.cli import app as cli
    from crowdcx.community import activity
    from crowdcx.community.models import ActivityRow, HelpedLanguageRow, PostRow

    f = Forum(client, world, db)
    f.grant(f.helpers[0], 42)
    f.grant(f.helpers[1], 20)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Включите роуминг.")
    f.post(f"/posts/{aid}/vote", f.helpers[1], {"value": 1})
    with db.transaction() as uow:  # counters gone wrong (a bug, a restore from backup…)
        uow.session.execute(update(ActivityRow).values(answers=7, upvotes_received=0))
        uow.session.execute(update(HelpedLanguageRow).values(answers=0))
    out = CliRunner().invoke(cli, ["recompute-reputation", "--brand", f.slug],
                             env={"CROWDCX_DATABASE_URL": database_url})  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "ledger rows summed, activity of 2 members counted" in out.output
    assert f.rep(f.helpers[0])["points"] == 52
    with db.sessions() as session:
        brand_id = session.get_one(PostRow, aid).brand_id
        counted = activity.counters(session, brand_id, f.helpers[0].id)
        assert counted == activity.recount(session, brand_id, f.helpers[0].id)
        assert (counted.answers, counted.upvotes_received, counted.languages) == (1, 1, {"ru"})


def test_migration_0012_counts_the_activity_already_posted(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    """Badges read counters since 0012; a brand upgraded with posts already in it gets them
    counted, the same as the posts say."""
    from crowdcx.community import activity
    from crowdcx.community.models import PostRow
    from crowdcx.kernel.migrate import downgrade, upgrade

    f = Forum(client, world, db)
    for h in f.helpers[1:]:
        f.grant(h, 20)
    qid = f.ask()
    first = f.answer(qid, f.helpers[0], "Включите роуминг.")
    second = f.answer(
        qid,
        f.helpers[0],
        "Turn on roaming.",
    )
    f.answer(qid, f.helpers[1], "Перезагрузите телефон.")
    f.post(f"/posts/{first}/vote", f.helpers[2], {"value": 1})
    f.post(f"/posts/{second}/vote", f.helpers[3], {"value": 1})
    f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": second})
    db.dispose()
    downgrade(database_url, "0011")
    upgrade(database_url, "heads")
    with db.sessions() as session:
        brand_id = session.get_one(PostRow, qid).brand_id
        for person in (f.asker, *f.helpers):
            counted = activity.counters(session, brand_id, person.id)
            assert counted == activity.recount(session, brand_id, person.id), person
        helper = activity.counters(session, brand_id, f.helpers[0].id)
        assert (helper.answers, helper.accepted_answers, helper.upvotes_received) == (2, 1, 2)
        assert helper.languages == {"ru", "en"}


def test_unsolved_questions_become_tickets_automatically_where_the_brand_wants(
    client: TestClient, world: World, db: Database
) -> None:
    from crowdcx.tickets.sweeper import sweep_once

    f = Forum(client, world, db)
    old = f.ask("Никто не отвечает про роуминг")
    solved = f.ask("Вопрос с ответом")
    aid = f.answer(solved, f.helpers[0], "Ответ по существу")
    f.post(f"/questions/{solved}/accept", f.asker, {"answer_id": aid})
    later = utcnow() + timedelta(hours=49)
    assert sweep_once(db, later).get("question_escalated") is None  # the brand did not ask
    with db.transaction() as uow:
        from crowdcx.tenancy.models import Brand

        brand = uow.session.query(Brand).filter_by(slug=f.slug).one()
        community = {"auto_escalate": True, "escalation_hours": 48}
        brand.settings = {**(brand.settings or {}), "community": community}
    assert sweep_once(db, utcnow()).get("question_escalated") is None  # too early
    assert sweep_once(db, later)["question_escalated"] == 1
    assert sweep_once(db, later).get("question_escalated") is None  # once
    q = f.get(f"/questions/{old}", f.asker).json()
    assert q["ticket_id"]
    assert f.get(f"/questions/{solved}", f.asker).json()["ticket_id"] is None
    ticket = client.get(f.url(f"/tickets/{q['ticket_id']}"), headers=f.asker.auth).json()
    assert ticket["subject"] == "Никто не отвечает про роуминг"
    assert "escalated" in kinds(f, f.asker)


def test_flagged_comment_is_hidden_explained_and_restored_by_an_agent(
    client: TestClient, world: World, db: Database
) -> None:
    from sqlalchemy import select

    from crowdcx.community.models import ModerationRow

    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Проверьте точку доступа.")
    r = f.post(f"/posts/{aid}/comments", f.asker, {"body": "Дешёвые часы http://spam.example"})
    assert r.status_code == 201
    assert r.json()["hidden"] is False
    cid = r.json()["id"]
    # A newcomer (0 points) may not flag; nobody flags their own comment; one flag each.
    denied = f.post(f"/comments/{cid}/flag", f.helpers[3], {"reason": "spam"})
    assert denied.status_code == 403
    assert denied.json()["code"] == "privilege_required"
    own = f.post(f"/comments/{cid}/flag", f.asker, {"reason": "spam"})
    assert (own.status_code, own.json()["code"]) == (403, "self_flag")
    for h in f.helpers[:3]:
        f.grant(h, 600)  # trusted_flagger and review_queue at 500
    assert f.post(f"/comments/{cid}/flag", f.helpers[0], {"reason": "nonsense"}).status_code == 422
    first = f.post(f"/comments/{cid}/flag", f.helpers[0], {"reason": "spam"})
    assert (first.status_code, first.json()) == (201, {"hidden": False, "flags": 1})
    again = f.post(f"/comments/{cid}/flag", f.helpers[0], {"reason": "rude"})
    assert (again.status_code, again.json()["code"]) == (409, "already_flagged")
    assert "комментарий" in again.json()["detail"]  # worded for a comment, in Russian
    second = f.post(f"/comments/{cid}/flag", f.helpers[1], {"reason": "spam"})
    assert second.json() == {"hidden": False, "flags": 2}
    third = f.post(f"/comments/{cid}/flag", f.helpers[2], {"reason": "rude"})
    assert third.json() == {"hidden": True, "flags": 3}
    # The author is told why, in their language (the brand's Russian here).
    note = f.get("/notifications", f.asker).json()["items"][0]
    assert note["kind"] == "comment_hidden"
    assert "доверенные участники (3)" in note["text"]
    assert "Спам" in note["text"]
    assert note["url"].endswith(f"/community/questions/{qid}#post-{aid}")
    # Gone for everyone else, through the API and the page; the author sees it marked hidden.
    assert f.get(f"/posts/{aid}/comments").json()["items"] == []
    assert f.get(f"/posts/{aid}/comments", f.helpers[0]).json()["items"] == []
    assert f.get(f"/posts/{aid}/comments", f.agent).json()["items"] == []
    mine = f.get(f"/posts/{aid}/comments", f.asker).json()["items"]
    assert [(c["id"], c["hidden"]) for c in mine] == [(cid, True)]
    assert "доверенные участники (3)" in mine[0]["hidden_reason"]
    assert "spam.example" not in client.get(f"/b/{f.slug}/community/questions/{qid}").text
    sign_in(client, f.helpers[1])
    assert "spam.example" not in client.get(f"/b/{f.slug}/community/questions/{qid}").text
    sign_in(client, f.asker)
    page = client.get(f"/b/{f.slug}/community/questions/{qid}").text
    assert "spam.example" in page
    assert "Hidden automatically because 3 trusted members flagged it (Spam)." in page
    # A hidden comment cannot be flagged further by those who no longer see it.
    gone = f.post(f"/comments/{cid}/flag", f.helpers[3], {"reason": "spam"})
    assert (gone.status_code, gone.json()["code"]) == (404, "comment_not_found")
    # Reviewers find it in the queue (apart from posts); an agent restores it.
    queue = f.get("/moderation/queue", f.helpers[0]).json()
    assert queue["items"] == []
    assert [(c["comment"]["id"], c["flags"]) for c in queue["comments"]] == [(cid, 3)]
    newcomer = f.post(f"/comments/{cid}/moderate", f.helpers[3], {"action": "restore"})
    assert (newcomer.status_code, newcomer.json()["code"]) == (403, "privilege_required")
    bad = f.post(f"/comments/{cid}/moderate", f.agent, {"action": "dismiss"})
    assert bad.status_code == 422
    restored = f.post(f"/comments/{cid}/moderate", f.agent, {"action": "restore", "note": "ок"})
    assert restored.status_code == 200
    assert restored.json()["hidden"] is False
    again = f.post(f"/comments/{cid}/moderate", f.agent, {"action": "restore"})
    assert (again.status_code, again.json()["code"]) == (409, "already_decided")
    assert [c["id"] for c in f.get(f"/posts/{aid}/comments").json()["items"]] == [cid]
    assert "comment_restored" in kinds(f, f.asker)
    assert f.get("/moderation/queue", f.agent).json()["comments"] == []
    # The audit log holds both actions on the comment, the restore with its actor.
    with db.sessions() as session:
        log = session.scalars(
            select(ModerationRow).where(ModerationRow.comment_id == cid).order_by(ModerationRow.id)
        ).all()
        assert [(m.action, m.automatic, m.actor_id, m.post_id) for m in log] == [
            ("hide", True, None, aid), ("restore", False, f.agent.id, aid)]  # fmt: skip
    sign_in(client, f.agent)
    queue_page = client.get(f"/b/{f.slug}/community/moderation").text
    assert queue_page.count(f"comment #{cid}") == 2
    # Another brand's comment is not found, for its flags and its moderation alike.
    other = world.brand()
    stranger = world.member(other, ["agent"])
    for path, body in ((f"/comments/{cid}/flag", {"reason": "spam"}),
                       (f"/comments/{cid}/moderate", {"action": "hide"})):  # fmt: skip
        r = client.post(f"/api/v1/brands/{other}{path}", json=body, headers=stranger.auth)
        assert (r.status_code, r.json()["code"]) == (404, "comment_not_found")


def test_comment_flag_and_hide_controls_on_the_pages(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    f.grant(f.helpers[0], 600)  # flag and review queue
    f.grant(f.helpers[1], 20)  # flag only
    qid = f.ask("Как включить VoLTE?")
    cid = f.post(f"/posts/{qid}/comments", f.asker, {"body": "Грубый комментарий"}).json()["id"]
    url = f"/b/{f.slug}/community/questions/{qid}"
    sign_in(client, f.helpers[3])  # a newcomer sees the comment but no controls
    page = client.get(url).text
    assert "Грубый комментарий" in page
    assert f"/comments/{cid}/flag" not in page
    assert f"/comments/{cid}/moderate" not in page
    token = sign_in(client, f.helpers[1])
    page = client.get(url).text
    assert f"/comments/{cid}/flag" in page
    assert f"/comments/{cid}/moderate" not in page
    flagged = client.post(f"/b/{f.slug}/community/comments/{cid}/flag",
                          data={"csrf_token": token, "reason": "rude"},
                          follow_redirects=False)  # fmt: skip
    assert flagged.status_code == 303
    twice = client.post(f"/b/{f.slug}/community/comments/{cid}/flag",
                        data={"csrf_token": token, "reason": "rude"})  # fmt: skip
    assert twice.status_code == 409
    assert "You already flagged this comment." in twice.text
    no_hide = client.post(f"/b/{f.slug}/community/comments/{cid}/moderate",
                          data={"csrf_token": token, "action": "hide"})  # fmt: skip
    assert no_hide.status_code == 403
    token = sign_in(client, f.helpers[0])  # a reviewer hides it from the question page
    assert f"/comments/{cid}/moderate" in client.get(url).text
    hidden = client.post(f"/b/{f.slug}/community/comments/{cid}/moderate",
                         data={"csrf_token": token, "action": "hide"},
                         follow_redirects=False)  # fmt: skip
    assert hidden.status_code == 303
    assert "Грубый комментарий" not in client.get(url).text
    token = sign_in(client, f.asker)
    assert "Hidden by a moderator." in client.get(url).text
    assert "comment_hidden" in kinds(f, f.asker)
    # The review queue lists it with Restore and Keep hidden; keeping it hidden decides it.
    token = sign_in(client, f.agent)
    queue = client.get(f"/b/{f.slug}/community/moderation").text
    assert f'id="review-comment-{cid}"' in queue
    assert "Грубый комментарий" in queue
    assert "Keep hidden" in queue
    kept = client.post(f"/b/{f.slug}/community/comments/{cid}/moderate",
                       data={"csrf_token": token, "action": "uphold", "back": "queue"},
                       follow_redirects=False)  # fmt: skip
    assert kept.status_code == 303
    assert kept.headers["location"] == f"/b/{f.slug}/community/moderation"
    queue = client.get(f"/b/{f.slug}/community/moderation").text
    assert f'id="review-comment-{cid}"' not in queue
    assert "Nothing to review." in queue
    assert "Грубый комментарий" not in client.get(url).text  # still hidden


def test_page_views_count_without_a_write_per_view(
    client: TestClient, world: World, db: Database, app: Any
) -> None:
    """A view adds to an in-memory tally (the page shows it at once) that the background
    flush writes in one transaction: reading a question never queues for the write lock."""
    from sqlalchemy import select

    from crowdcx.community.models import PostRow

    f = Forum(client, world, db)
    qid = f.ask("Сколько просмотров?")
    counters = app.state.counters
    counters.stop()  # no background flush while we look

    def shows(n: int) -> bool:
        text = client.get(f"/b/{f.slug}/community/questions/{qid}").text
        return re.search(rf"\b{n} (просмотр|просмотра|просмотров|views?)\b", text) is not None

    for n in (1, 2, 3):
        assert shows(n)
    with db.sessions() as session:
        assert session.scalar(select(PostRow.views).where(PostRow.id == qid)) == 0
    assert counters.flush() == 1
    with db.sessions() as session:
        assert session.scalar(select(PostRow.views).where(PostRow.id == qid)) == 3
    assert counters.pending(PostRow, "views", qid) == 0
    assert shows(4)  # 3 stored + this view, pending


def _hidden_comment(f: Forum, author: Any) -> int:
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Проверьте точку доступа.")
    r = f.post(f"/posts/{aid}/comments", author, {"body": "spam http://spam.example"})
    cid = int(r.json()["id"])
    flaggers = [h for h in f.helpers if h is not author][:3]
    for h in flaggers:
        f.grant(h, 600)
        r = f.post(f"/comments/{cid}/flag", h, {"reason": "spam"})
    assert r.json()["hidden"] is True
    return cid


def test_nobody_reviews_their_own_comment(client: TestClient, world: World, db: Database) -> None:
    f = Forum(client, world, db)
    author = f.helpers[3]
    f.grant(author, 600)  # holds the review queue privilege (500)
    cid = _hidden_comment(f, author)
    r = f.post(f"/comments/{cid}/moderate", author, {"action": "restore"})
    assert r.status_code == 403
    assert r.json()["code"] == "own_content"
    assert f.post(f"/comments/{cid}/moderate", f.agent, {"action": "restore"}).status_code == 200


def test_flags_judged_by_a_moderator_do_not_count_again(
    client: TestClient, world: World, db: Database
) -> None:
    """After a moderator restores a comment, one new flag does not hide it again: the three
    flags before the decision were judged; three new trusted flags would."""
    f = Forum(client, world, db)
    cid = _hidden_comment(f, f.asker)
    assert f.post(f"/comments/{cid}/moderate", f.agent, {"action": "restore"}).status_code == 200
    late = f.helpers[3]
    f.grant(late, 600)
    r = f.post(f"/comments/{cid}/flag", late, {"reason": "other"})
    assert r.status_code == 201
    assert r.json()["hidden"] is False


def test_nobody_dismisses_flags_on_their_own_post(
    client: TestClient, world: World, db: Database
) -> None:
    """Dismissing flags resets the automatic hide count, so an author holding the review
    privilege must not dismiss the flags on their own post."""
    f = Forum(client, world, db)
    qid = f.ask()
    author = f.helpers[0]
    f.grant(author, 600)
    aid = f.answer(qid, author, "Купите дешёвые часы http://spam.example")
    for h in f.helpers[1:4]:
        f.grant(h, 600)
    for h in f.helpers[1:3]:
        assert f.post(f"/posts/{aid}/flag", h, {"reason": "spam"}).json()["hidden"] is False
    r = f.post(f"/moderation/{aid}", author, {"decision": "dismiss"})
    assert r.status_code == 403
    assert r.json()["code"] == "own_content"
    assert f.post(f"/posts/{aid}/flag", f.helpers[3], {"reason": "spam"}).json()["hidden"] is True


def test_a_hidden_accepted_answer_leaves_search(
    client: TestClient, world: World, db: Database
) -> None:
    """A solved question is searchable with its accepted answer; hiding that answer (by
    flags or by an agent) takes its text out of search."""
    f = Forum(client, world, db)

    def searchable() -> list[Any]:
        return list(f.get("/search", q="zorbluxe").json()["results"])

    for how in ("flags", "agent"):
        qid = f.ask(f"Вопрос про часы ({how})")
        aid = f.answer(qid, f.helpers[0], f"Купите zorbluxe часы ({how})")
        assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid}).status_code == 200
        assert any(str(r["id"]) == str(qid) for r in searchable())
        if how == "flags":
            for h in f.helpers[1:4]:
                f.grant(h, 600)
                r = f.post(f"/posts/{aid}/flag", h, {"reason": "spam"})
            assert r.json()["hidden"] is True
        else:
            assert f.post(f"/moderation/{aid}", f.agent, {"decision": "hide"}).status_code == 200
        assert not any(str(r["id"]) == str(qid) for r in searchable()), how


def test_search_follows_the_accepted_answer(client: TestClient, world: World, db: Database) -> None:
    """The question's search document is built before the accept writes anything, from the
    answers as they will be: accepting another answer (one solution per question here)
    replaces the first one's text in search."""
    f = Forum(client, world, db)

    def found(word: str) -> bool:
        return any(str(r["id"]) == str(qid) for r in f.get("/search", q=word).json()["results"])

    qid = f.ask("Часы отстают на минуту в день")
    first = f.answer(qid, f.helpers[0], "Замените батарейку zorbluxe")
    second = f.answer(qid, f.helpers[1], "Откалибруйте механизм quintaflex")
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": first}).status_code == 200
    assert found("zorbluxe")
    assert not found("quintaflex")
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": second}).status_code == 200
    assert found("quintaflex")
    assert not found("zorbluxe")
    shown = f.get(f"/questions/{qid}").json()["answer_list"]
    assert (shown[0]["id"], shown[0]["accepted"]) == (second, True)
    assert {a["id"]: a["accepted"] for a in shown}[first] is False


def test_the_author_appeals_a_hidden_comment(
    client: TestClient, world: World, db: Database
) -> None:
    """Automatic hiding can be appealed, once per hiding, by the author only; the appeal
    waits beside the comment in the review queue until a reviewer decides."""
    f = Forum(client, world, db)
    cid = _hidden_comment(f, f.asker)
    sign_in(client, f.asker)
    question_page = f"/b/{f.slug}/community/questions/{_question_of(f, cid)}"
    assert f"/comments/{cid}/appeal" in client.get(question_page).text  # the author's form
    assert f.post(f"/comments/{cid}/appeal", f.helpers[3], {"text": "Не моё"}).status_code == 404
    empty = f.post(f"/comments/{cid}/appeal", f.asker, {"text": "  "})
    assert (empty.status_code, empty.json()["code"]) == (422, "required")
    r = f.post(f"/comments/{cid}/appeal", f.asker, {"text": "Это была ссылка на инструкцию."})
    assert r.status_code == 201
    assert r.json()["comment_id"] == cid
    again = f.post(f"/comments/{cid}/appeal", f.asker, {"text": "Ещё раз"})
    assert (again.status_code, again.json()["code"]) == (409, "already_appealed")
    queue = f.get("/moderation/queue", f.agent).json()["comments"]
    assert [(c["comment"]["id"], c["appeal"]) for c in queue] == [
        (cid, "Это была ссылка на инструкцию.")
    ]
    page = client.get(question_page).text
    assert f"/comments/{cid}/appeal" not in page  # the form gives way to "waiting"
    assert "Ваша апелляция ждёт модератора." in page or "appeal is waiting" in page
    assert f.post(f"/comments/{cid}/moderate", f.agent, {"action": "restore"}).status_code == 200
    after = f.post(f"/comments/{cid}/appeal", f.asker, {"text": "?"})
    assert (after.status_code, after.json()["code"]) == (409, "not_hidden")


def _question_of(f: Forum, comment_id: int) -> int:
    from crowdcx.community.models import CommentRow, PostRow

    with f.db.sessions() as session:
        post = session.get(PostRow, session.get(CommentRow, comment_id).post_id)  # type: ignore[union-attr]
        assert post is not None
        return int(post.question_id or post.id)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["up", "down", "withdraw", "accept", "approve"]),
            st.integers(0, 3),  # who acts (a voter)
            st.integers(0, 3),  # on which answer
        ),
        max_size=14,
    )
)
def test_activity_counters_always_equal_a_recount_of_the_posts(
    client: TestClient, world: World, db: Database, events: list[tuple[str, int, int]]
) -> None:
    """Whatever mix of votes, withdrawals, accepts (re-accepting moves it) and approvals
    happens, what badges read equals what the posts say."""
    from crowdcx.community import activity
    from crowdcx.community.models import PostRow

    f = Forum(client, world, db)
    for h in f.helpers:
        f.grant(h, 200)
    qid = f.ask()
    langs = ["Включите роуминг.", "Turn roaming on.", "打开漫游。", "Перезагрузите телефон."]
    answers = [f.answer(qid, f.helpers[i], text) for i, text in enumerate(langs)]
    for op, who, which in events:
        aid = answers[which]
        if op in ("up", "down", "withdraw"):
            value = {"up": 1, "down": -1, "withdraw": 0}[op]
            f.post(f"/posts/{aid}/vote", f.helpers[who], {"value": value})
        elif op == "accept":
            f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid})
        else:
            f.post(f"/answers/{aid}/approve", f.agent)
    with db.sessions() as session:
        brand_id = session.get_one(PostRow, qid).brand_id
        for person in (f.asker, *f.helpers):
            assert activity.counters(session, brand_id, person.id) == activity.recount(
                session, brand_id, person.id
            )


def test_the_review_queue_reads_the_same_few_tables_however_long_it_is(
    client: TestClient, world: World, db: Database
) -> None:
    """Looking at the queue costs the same number of statements with 2 or 8 flagged posts
    (it ran four queries per post), and lists them all, oldest first, with their flags."""
    from sqlalchemy import event

    f = Forum(client, world, db)
    f.grant(f.asker, 3000)  # past the new members' posting limits
    for h in f.helpers[:2]:
        f.grant(h, 600)  # flag and review

    def flagged(n: int) -> list[int]:
        ids = [f.ask(f"Подозрительный вопрос {i}") for i in range(n)]
        for qid in ids:
            assert f.post(f"/posts/{qid}/flag", f.helpers[1], {"reason": "spam"}).is_success
        return ids

    def look() -> tuple[list[tuple[int, int]], int]:
        count = [0]

        def seen(*_args: Any) -> None:
            count[0] += 1

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            items = f.get("/moderation/queue", f.helpers[0]).json()["items"]
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        return [(i["post"]["id"], i["flags"]) for i in items], count[0]

    first = flagged(2)
    few, statements = look()
    assert few == [(q, 1) for q in first]
    more = first + flagged(6)
    many, statements_then = look()
    assert many == [(q, 1) for q in more]
    assert statements_then == statements


def test_a_brand_invites_only_its_own_people_to_apply_as_experts(
    client: TestClient, world: World, db: Database
) -> None:
    """Any account's id on the platform took the brand's invitation (a notification in a
    brand they never joined), and the 201 against a 404 told which ids exist."""
    f = Forum(client, world, db)
    stranger = world.person("Чужой")
    other_brand = world.brand()
    elsewhere = world.member(other_brand, ["helper"], "Из другого бренда")
    for person in (stranger, elsewhere):
        refused = f.post(f"/super-users/{person.id}/invite", f.admin)
        assert refused.status_code == 404, refused.text
        assert refused.json()["code"] == "user_not_found"
    assert f.post(f"/super-users/{f.helpers[0].id}/invite", f.admin).status_code == 201
