"""Turning community questions into tickets: never a hidden one, and one question the
ticket lane cannot take does not stop the others."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text, update

from crowdcx.community.models import PostRow
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from tests.community.test_api import Forum
from tests.conftest import World


def _age(db: Database, qid: int, days: int = 3) -> None:
    with db.transaction() as uow:
        uow.session.execute(
            text("UPDATE community_posts SET created_at = :t WHERE id = :id"),
            {"t": utcnow() - timedelta(days=days), "id": qid},
        )


def _escalate(f: Forum, db: Database, qid: int) -> int:
    """The asker hands an old enough question to an expert: the ticket it became."""
    _age(db, qid)
    r = f.post(f"/questions/{qid}/escalate", f.asker)
    assert r.status_code == 201, r.text
    return int(r.json()["ticket_id"])


def test_hidden_question_cannot_be_escalated_by_its_asker(
    client: TestClient, world: World, db: Database
) -> None:
    """The sweeper refuses hidden questions (auto-hidden by trusted flaggers as spam/abuse);
    the asker's click must refuse them too, else a moderated-away post becomes a paid ticket."""
    f = Forum(client, world, db)
    qid = f.ask()
    _age(db, qid)
    with db.transaction() as uow:
        uow.session.execute(update(PostRow).where(PostRow.id == qid).values(hidden=True))
    r = f.post(f"/questions/{qid}/escalate", f.asker)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "question_hidden"


def test_one_oversized_question_does_not_block_auto_escalation(
    client: TestClient, world: World, db: Database
) -> None:
    """The community takes bodies up to 30,000 characters, tickets up to 20,000. An old
    question with a 25,000-char body makes auto_escalate raise, and (ordered by id) it heads
    every pass: no other question of any brand is escalated again."""
    from crowdcx.tenancy.models import Brand
    from crowdcx.tickets.sweeper import sweep_once

    f = Forum(client, world, db)
    long_body = ("Очень подробное описание проблемы с роумингом. " * 600)[:25_000]
    r = f.post(
        "/questions", f.asker, {"community": "mobile", "title": "Длинный вопрос", "body": long_body}
    )
    assert r.status_code == 201, r.text
    big = r.json()["id"]
    small = f.ask("Короткий вопрос про роуминг")
    with db.transaction() as uow:
        brand = uow.session.query(Brand).filter_by(slug=f.slug).one()
        brand.settings = {
            **(brand.settings or {}),
            "community": {"auto_escalate": True, "escalation_hours": 48},
        }
    later = utcnow() + timedelta(hours=49)
    done = sweep_once(db, later)
    assert f.get(f"/questions/{small}", f.asker).json()["ticket_id"], done
    # The long one became a ticket too, carrying its start and a link to the whole question.
    ticket_id = f.get(f"/questions/{big}", f.asker).json()["ticket_id"]
    assert ticket_id
    with db.sessions() as s:
        body = s.execute(text("SELECT body FROM tickets WHERE id = :i"), {"i": ticket_id}).scalar()
    assert body.startswith("Очень подробное")
    assert body.endswith(f"/community/questions/{big}")


def test_an_escalated_question_keeps_the_case_clock(
    client: TestClient, world: World, db: Database
) -> None:
    """One case travels every lane under one SLA clock: the customer has waited since they
    asked in the community, not since the question became a ticket. The ticket carries the
    case's start, so the sweeper hands it to staff when the brand's target (counted from the
    question) is at risk — with the clock restarted at escalation it waited days longer."""
    from crowdcx.tickets.sweeper import sweep_once

    f = Forum(client, world, db)
    week = 7 * 86_400
    r = client.put(
        f.url("/policy"), json={"sla": {"first_response_s": week, "resolution_s": week}},
        headers=f.admin.auth,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    qid = f.ask()
    _age(db, qid, days=3)
    asked = f.get(f"/questions/{qid}").json()["created_at"]
    r = f.post(f"/questions/{qid}/escalate", f.asker)
    assert r.status_code == 201, r.text
    tid = r.json()["ticket_id"]
    ticket = client.get(f.url(f"/tickets/{tid}"), headers=f.asker.auth).json()
    # The case began when asked; the ticket was written at the escalation (that moment was
    # only in the history: created_at carried the question's time).
    assert ticket["case_started_at"][:19] == asked[:19], (ticket["case_started_at"], asked)
    written = datetime.fromisoformat(ticket["created_at"])
    assert abs(written - utcnow()) < timedelta(minutes=1), (written, asked)
    # 80 % of the week from the question (5.6 days) is reached 2.6 days after the escalation.
    sweep_once(db, utcnow() + timedelta(days=3))
    ticket = client.get(f.url(f"/tickets/{tid}"), headers=f.agent.auth).json()
    assert ticket["escalated"], ticket


def test_the_asker_hears_in_notifications_when_the_escalated_ticket_is_resolved(
    client: TestClient, world: World, db: Database
) -> None:
    """The asker's notifications said "an expert is on it" when the question became a
    ticket, but its resolution was only a live notice: an asker not on the site at that
    moment never heard of it (nor did the digest mail tell them)."""
    f = Forum(client, world, db)
    qid = f.ask("Не работает роуминг в Турции")
    tid = _escalate(f, db, qid)
    r = client.post(f.url(f"/tickets/{tid}/resolve"), headers=f.agent.auth)
    assert r.status_code == 200, r.text
    items = client.get(
        f.url("/notifications"), headers={**f.asker.auth, "Accept-Language": "ru"}
    ).json()["items"]
    resolved = [n for n in items if n["kind"] == "ticket_resolved"]
    assert resolved, [n["kind"] for n in items]
    assert resolved[0]["url"] == f"/b/{f.slug}/tickets/{tid}"
    assert resolved[0]["text"] == (
        "Ваше обращение «Не работает роуминг в Турции» решено. Пожалуйста, оцените помощь."
    )
    # Asked three days ago, past the resolution target: staff took it, and the notice says
    # so (it said "an expert is on it" whoever took it).
    escalated = [n for n in items if n["kind"] == "escalated"]
    assert escalated[0]["text"] == (
        "Никто не решил «Не работает роуминг в Турции» вовремя, поэтому вопросом занялись "
        "сотрудники компании."
    )


def test_the_ticket_and_its_community_question_link_to_each_other(
    client: TestClient, world: World, db: Database
) -> None:
    """The expert or agent working a ticket made of a community question had no way back to
    the question (the answers and comments the community already gave); the agent on the
    question page was told "an expert is on this question" with no way to the ticket."""
    from tests.tickets.test_pages import sign_in

    f = Forum(client, world, db)
    qid = f.ask()
    tid = _escalate(f, db, qid)
    question_link = f'href="/b/{f.slug}/community/questions/{qid}"'
    ticket_link = f'href="/b/{f.slug}/tickets/{tid}"'
    for person in (f.agent, f.asker):
        sign_in(client, person)
        for lang, words in (
            ("en", "Asked first in the community"),
            ("ru", "Сначала вопрос задали в сообществе"),
            ("zh-Hans", "最初在社区提问"),
            ("zh-Hant", "最初在社群提問"),
        ):
            ticket_page = client.get(f"/b/{f.slug}/tickets/{tid}", params={"lang": lang})
            assert ticket_page.status_code == 200
            assert question_link in ticket_page.text, (person.id, lang)
            assert words in ticket_page.text, (person.id, lang)
        question_page = client.get(f"/b/{f.slug}/community/questions/{qid}")
        assert ticket_link in question_page.text, person.id
    other = f.ask("Другой вопрос без тикета")
    sign_in(client, f.agent)
    direct = client.post(
        f.url("/tickets"), headers=f.asker.auth,
        json={"subject": "Счёт за роуминг", "body": "Списали дважды.", "skill": "general"},
    )  # fmt: skip
    assert direct.status_code == 201, direct.text
    page = client.get(f"/b/{f.slug}/tickets/{direct.json()['id']}").text
    assert "/community/questions/" not in page
    assert f"/community/questions/{other}" not in page


def test_the_question_page_says_where_its_ticket_stands(
    client: TestClient, world: World, db: Database
) -> None:
    """The question page said "An expert is on this question" for ever, after the ticket had
    gone to staff and been resolved."""
    from tests.tickets.test_pages import sign_in

    f = Forum(client, world, db)
    qid = f.ask()
    tid = _escalate(f, db, qid)
    sign_in(client, f.asker)

    def stage(lang: str = "en") -> str:
        html = client.get(f"/b/{f.slug}/community/questions/{qid}", params={"lang": lang}).text
        return html.split('data-testid="ticket-stage">', 1)[1].split("<", 1)[0].strip()

    # Asked three days ago, past the resolution target: the case's clock sent it to staff.
    assert (
        client.get(f.url(f"/tickets/{tid}"), headers=f.agent.auth).json()["status"] == "escalated"
    )
    assert stage() == "The brand's staff are on this question."
    assert f.post(f"/tickets/{tid}/resolve", f.agent).status_code == 200
    assert stage() == "The ticket made of this question has been resolved."
    assert stage("ru") == "Обращение, созданное по этому вопросу, решено."
    assert stage("zh-Hant") == "由此問題建立的工單已解決。"


def test_the_ticket_names_its_question_within_its_brand(
    client: TestClient, world: World, db: Database
) -> None:
    """The ticket → question link was found among the customer's own questions (whichever
    named the ticket); the ticket now names its question (tickets.question_id), and a link
    naming another brand's question is never followed."""
    from crowdcx.tickets.models import TicketRow
    from tests.tickets.test_pages import sign_in

    f = Forum(client, world, db)
    qid = f.ask()
    tid = _escalate(f, db, qid)
    with db.sessions() as s:
        ticket = s.get(TicketRow, tid)
        assert ticket is not None
        assert ticket.question_id == qid
    # The question's own pointer back is not what the ticket page reads.
    with db.transaction() as uow:
        uow.session.execute(update(PostRow).where(PostRow.id == qid).values(ticket_id=None))
    sign_in(client, f.agent)
    page = client.get(f"/b/{f.slug}/tickets/{tid}").text
    assert f'href="/b/{f.slug}/community/questions/{qid}"' in page
    # Another brand's question is not this ticket's, whatever the column says.
    other = Forum(client, world, db)
    foreign = other.ask("Чужой вопрос")
    with db.transaction() as uow:
        uow.session.execute(
            update(TicketRow).where(TicketRow.id == tid).values(question_id=foreign)
        )
    page = client.get(f"/b/{f.slug}/tickets/{tid}").text
    assert "/community/questions/" not in page


def _forum_with_four_day_first_response(client: TestClient, world: World, db: Database) -> Forum:
    f = Forum(client, world, db)
    day = 86_400
    r = client.put(
        f.url("/policy"), json={"sla": {"first_response_s": 4 * day, "resolution_s": 30 * day}},
        headers=f.admin.auth,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return f


def test_a_community_answer_after_escalation_is_the_cases_first_response(
    client: TestClient, world: World, db: Database
) -> None:
    """An answer in the community after the question became a ticket did not stop the case's
    first-response clock: the sweeper handed a case the community was already answering to
    staff. It now meets the first-response target (community_response_at), while the
    ticket's first_response_at — the expert's own, which routing's response-time statistics
    read — stays unset. The asker's own answer is no response."""
    from crowdcx.tickets.models import TicketRow
    from crowdcx.tickets.sweeper import sweep_once

    f = _forum_with_four_day_first_response(client, world, db)
    helped, alone = f.ask(), f.ask("Второй вопрос про роуминг")
    tickets = {}
    for qid in (helped, alone):
        _age(db, qid, days=3)
        r = f.post(f"/questions/{qid}/escalate", f.asker)
        assert r.status_code == 201, r.text
        tickets[qid] = r.json()["ticket_id"]
    f.answer(alone, f.asker, "Сама нашла: перезагрузила телефон, не помогло.")
    f.answer(helped, f.helpers[0], "Проверьте точку доступа internet.volga.")
    f.answer(helped, f.helpers[1], "И перезагрузите телефон.")
    seen = client.get(f.url(f"/tickets/{tickets[helped]}"), headers=f.agent.auth).json()
    assert seen["community_response_at"] is not None
    assert seen["first_response_at"] is None
    # Four days from the question (3.2 at risk) pass a day after the escalation.
    sweep_once(db, utcnow() + timedelta(days=1))
    with db.sessions() as s:
        rows = {q: s.get(TicketRow, t) for q, t in tickets.items()}
        assert rows[helped] is not None
        assert rows[alone] is not None
        assert rows[alone].community_response_at is None
        assert rows[alone].status == "escalated"  # nobody answered: staff take it
        assert rows[helped].status == "queued", rows[helped].escalation_reason
        assert rows[helped].first_response_at is None
        first = rows[helped].community_response_at
    f.answer(helped, f.helpers[2], "Ещё вариант.")
    with db.sessions() as s:
        again = s.get(TicketRow, tickets[helped])
        assert again is not None
        assert again.community_response_at == first


def test_only_those_who_may_see_the_ticket_see_which_ticket_a_question_became(
    client: TestClient, world: World, db: Database
) -> None:
    """GET /questions/{id} (and the lists) showed the ticket_id of an escalated question to
    anyone, signed in or not; a ticket is a private inquiry. Its customer (the asker), the
    brand's agents and admins still see it, on the API and on the question page (with where
    it stands); everyone else reads only that the question was handed on."""
    from tests.tickets.test_pages import sign_in

    f = Forum(client, world, db)
    qid = f.ask()
    tid = _escalate(f, db, qid)
    for who in (f.asker, f.agent, f.admin):
        assert f.get(f"/questions/{qid}", who).json()["ticket_id"] == tid, who.id
    for who in (None, f.helpers[0]):
        assert f.get(f"/questions/{qid}", who).json()["ticket_id"] is None
        listed = {q["id"]: q for q in f.get("/questions", who, community="mobile").json()["items"]}
        assert listed[qid]["ticket_id"] is None
    assert f.get("/questions", f.asker, community="mobile").json()["items"][0]["ticket_id"] == tid
    link = f'href="/b/{f.slug}/tickets/{tid}"'
    sign_in(client, f.helpers[0])
    html = client.get(f"/b/{f.slug}/community/questions/{qid}", params={"lang": "ru"}).text
    assert link not in html
    assert "Этот вопрос передан в поддержку компании." in html
    assert "сотрудники" not in html.split('data-testid="ticket-stage">', 1)[1].split("<", 1)[0]
    sign_in(client, f.admin)
    html = client.get(f"/b/{f.slug}/community/questions/{qid}", params={"lang": "en"}).text
    assert link in html
    stage = html.split('data-testid="ticket-stage">', 1)[1].split("<", 1)[0].strip()
    assert stage == "The brand's staff are on this question.", stage


def test_answers_before_the_escalation_count_and_a_hidden_one_stops_counting(
    client: TestClient, world: World, db: Database
) -> None:
    """One case, one clock: a question answered by the community before it became a ticket
    had its response already, but only answers after the escalation were counted, so the
    sweeper handed staff a case the community had answered in its first hour. And an answer
    moderation hides answered nobody: the case's first response moves to the next visible
    answer, or goes, and the sweeper looks again at once."""
    from crowdcx.tickets.models import TicketRow
    from crowdcx.tickets.sweeper import sweep_once

    f = _forum_with_four_day_first_response(client, world, db)
    qid = f.ask()
    f.answer(qid, f.asker, "Уточню: это в Казани.")  # the asker's own is no response
    spam = f.answer(qid, f.helpers[0], "Купите наш усилитель сигнала!")
    later = f.answer(qid, f.helpers[1], "Проверьте точку доступа internet.volga.")
    with db.transaction() as uow:  # asked 3 days ago; answered 2 days and 1 day ago
        for pid, days in ((qid, 3), (spam, 2), (later, 1)):
            uow.session.execute(
                update(PostRow).where(PostRow.id == pid)
                .values(created_at=utcnow() - timedelta(days=days))
            )  # fmt: skip
    r = f.post(f"/questions/{qid}/escalate", f.asker)
    assert r.status_code == 201, r.text
    ticket_id = r.json()["ticket_id"]

    def ticket() -> TicketRow:
        with db.sessions() as s:
            row = s.get(TicketRow, ticket_id)
            assert row is not None
            return row

    first = ticket().community_response_at
    assert first is not None
    assert abs((utcnow() - timedelta(days=2) - first).total_seconds()) < 60
    # Moderation hides the first answer: the response is the next visible one.
    hidden = f.post(f"/moderation/{spam}", f.agent, {"decision": "hide", "note": "spam"})
    assert hidden.status_code in (200, 201), hidden.text
    moved = ticket().community_response_at
    assert moved is not None
    assert moved > first
    sweep_at = ticket().sweep_at
    assert sweep_at is not None
    assert sweep_at <= utcnow()  # the sweeper looks again at once
    # Both hidden: no response at all, and past four days from the question the sweeper
    # hands the case to staff.
    r = f.post(f"/moderation/{later}", f.agent, {"decision": "hide", "note": "не по теме"})
    assert r.status_code in (200, 201), r.text
    assert ticket().community_response_at is None
    sweep_once(db, utcnow() + timedelta(days=1, hours=1))
    assert ticket().status == "escalated"
    # Restored on appeal: the earliest visible answer is the response again.
    r = f.post(f"/moderation/{spam}", f.agent, {"decision": "restore", "note": "ошибка"})
    assert r.status_code in (200, 201), r.text
    assert ticket().community_response_at == first
