"""Deflection where people look for it, through HTTP: a deflected ticket (API and page, for
its customer and the brand's staff) names the suggestion that solved it while the viewer may
still read it, and never its title once it is gone; a community question shows the tickets
it solved; the period's "solved" figure, counted by the database, over several tickets and
days; the customer's data export holds their deflections, which an erasure keeps counted."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, update

from crowdcx.kernel.db import Database
from crowdcx.knowledge.models import SearchEvent
from crowdcx.search import rules
from crowdcx.search import service as search
from crowdcx.tenancy.service import access_brand
from crowdcx.tickets.models import TicketDeflectionRow, TicketRow
from tests.conftest import PASSWORD, Person, World
from tests.knowledge.test_api import Kb
from tests.knowledge.test_deflection import BLUETOOTH, INQUIRY
from tests.tickets.test_pages import sign_in

QUESTION = ("蓝牙耳机只有一边有声音", "左耳机连上了，右耳机一直没有声音，怎么办？")


def _ticket(kb: Kb, who: Person) -> int:
    r = kb.post("/tickets", who, INQUIRY)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _deflect(kb: Kb, who: Person, tid: int, body: dict[str, Any] | None) -> None:
    r = kb.post(f"/tickets/{tid}/deflect", who, body)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deflected"


def _solved_question(kb: Kb, world: World) -> int:
    """A community question with an accepted answer: a suggestion customers may name."""
    assert (
        kb.post("/communities", kb.reviewer, {"slug": "audio", "name": "耳机"}).status_code == 201
    )
    asker = world.member(kb.slug, ["customer"], "提问者")
    helper = world.member(kb.slug, ["helper"], "热心人")
    r = kb.post("/questions", asker, {"community": "audio", "title": QUESTION[0],
                                      "body": QUESTION[1]})  # fmt: skip
    assert r.status_code == 201, r.text
    qid = int(r.json()["id"])
    r = kb.post(f"/questions/{qid}/answers", helper, {"body": "把两只耳机放回充电盒，重新配对。"})
    assert r.status_code == 201, r.text
    r = kb.post(f"/questions/{qid}/accept", asker, {"answer_id": r.json()["id"]})
    assert r.status_code == 200, r.text
    return qid


def test_a_deflected_ticket_names_its_article_until_the_article_is_gone(
    client: TestClient, world: World
) -> None:
    """The customer and the brand's staff read which article solved the ticket, with its
    title and link, in the API and on the page; once the article is archived both read that
    the suggestion is no longer available, and its title appears nowhere."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write(*BLUETOOTH)
    kb.publish(aid)
    tid = _ticket(kb, kb.customer)
    assert kb.get(f"/tickets/{tid}", kb.customer).json()["solved_by"] is None  # not deflected
    _deflect(kb, kb.customer, tid, {"kind": "article", "id": aid})
    link = f"/b/{kb.slug}/help/articles/{aid}"
    for who in (kb.customer, kb.author):
        r = kb.get(f"/tickets/{tid}", who)
        assert r.status_code == 200, r.text
        assert r.json()["solved_by"] == {
            "kind": "article", "available": True, "id": aid, "title": BLUETOOTH[0], "url": link,
        }  # fmt: skip
        sign_in(client, who)
        page = client.get(f"/b/{kb.slug}/tickets/{tid}")
        assert page.status_code == 200
        assert 'data-testid="solved-by"' in page.text
        assert f'<a href="{link}">{BLUETOOTH[0]}</a>' in page.text

    assert kb.post(f"/articles/{aid}/archive", kb.reviewer).status_code == 200
    for who, said in ((kb.customer, "You said"), (kb.author, "The customer said")):
        assert kb.get(f"/tickets/{tid}", who).json()["solved_by"] == {
            "kind": "article", "available": False, "id": None, "title": None, "url": None,
        }  # fmt: skip
        sign_in(client, who)
        page = client.get(f"/b/{kb.slug}/tickets/{tid}?lang=en")
        assert f"{said} a suggestion solved it; it is no longer available." in page.text
        assert BLUETOOTH[0] not in page.text
        assert link not in page.text


def test_a_ticket_list_reads_its_suggestions_in_queries_the_page_size_fixes(
    client: TestClient, world: World, db: Database
) -> None:
    """A list page of eight tickets costs as many statements with two deflected tickets as
    with eight (naming articles, a community question, an article since archived, or none),
    for the customer and for the brand's staff; each listed ticket answers as it does
    alone, and the archived article's title appears nowhere in the list."""
    kb = Kb(client, world)
    kb.seed()
    kept = kb.write(*BLUETOOTH)
    kb.publish(kept)
    gone_title = "耳机充电盒的指示灯不亮"
    gone = kb.write(gone_title, "把充电盒接上电源充电 30 分钟，再按一下按钮。")
    kb.publish(gone)
    qid = _solved_question(kb, world)
    tids = [_ticket(kb, kb.customer) for _ in range(8)]
    said: list[dict[str, Any] | None] = [
        {"kind": "article", "id": kept}, {"kind": "question", "id": qid},
        {"kind": "article", "id": gone}, None,
    ] * 2  # fmt: skip

    def listed(who: Person) -> Any:
        r = kb.get("/tickets", who, limit=8)
        assert r.status_code == 200, r.text
        return r

    def statements(who: Person) -> int:
        listed(who)  # anything cached per brand is read before counting
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            listed(who)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    for tid, suggestion in zip(tids[:2], said[:2], strict=True):
        _deflect(kb, kb.customer, tid, suggestion)
    few = {who.id: statements(who) for who in (kb.customer, kb.author)}
    for tid, suggestion in zip(tids[2:], said[2:], strict=True):
        _deflect(kb, kb.customer, tid, suggestion)
    assert kb.post(f"/articles/{gone}/archive", kb.reviewer).status_code == 200
    assert {who.id: statements(who) for who in (kb.customer, kb.author)} == few

    available = {"article": f"/b/{kb.slug}/help/articles/{kept}",
                 "question": f"/b/{kb.slug}/community/questions/{qid}"}  # fmt: skip
    for who in (kb.customer, kb.author):
        r = listed(who)
        page = {t["id"]: t["solved_by"] for t in r.json()["items"]}
        assert set(page) == set(tids)
        for tid in tids:
            assert page[tid] == kb.get(f"/tickets/{tid}", who).json()["solved_by"]
        assert page[tids[0]] == {"kind": "article", "available": True, "id": kept,
                                 "title": BLUETOOTH[0], "url": available["article"]}  # fmt: skip
        assert page[tids[1]] == {"kind": "question", "available": True, "id": qid,
                                 "title": QUESTION[0], "url": available["question"]}  # fmt: skip
        assert page[tids[2]] == {"kind": "article", "available": False, "id": None,
                                 "title": None, "url": None}  # fmt: skip
        assert page[tids[3]] is None
        assert [page[t] for t in tids[4:]] == [page[t] for t in tids[:4]]
        assert gone_title not in r.text
        assert f"/help/articles/{gone}" not in r.text


def test_a_ticket_deflected_without_naming_says_nothing_of_a_suggestion(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    kb.seed()
    tid = _ticket(kb, kb.customer)
    _deflect(kb, kb.customer, tid, None)
    assert kb.get(f"/tickets/{tid}", kb.customer).json()["solved_by"] is None
    sign_in(client, kb.customer)
    assert 'data-testid="solved-by"' not in client.get(f"/b/{kb.slug}/tickets/{tid}").text


def test_a_question_shows_the_tickets_it_solved_and_hides_its_title_once_hidden(
    client: TestClient, world: World
) -> None:
    """Two customers' tickets solved by a community question: its page and API say 2 (each
    ticket once); a ticket names it by title and link; once moderation hides the question,
    the customer's ticket no longer gives its title."""
    kb = Kb(client, world)
    kb.seed()
    qid = _solved_question(kb, world)
    page = client.get(f"/b/{kb.slug}/community/questions/{qid}")
    assert page.status_code == 200
    assert 'data-testid="solved-cases"' not in page.text
    assert kb.get(f"/questions/{qid}").json()["solved_cases"] == 0
    other = world.member(kb.slug, ["customer"], "另一位顾客")
    first = _ticket(kb, kb.customer)
    for who in (kb.customer, other):
        _deflect(kb, who, _ticket(kb, who) if who is other else first,
                 {"kind": "question", "id": qid})  # fmt: skip
    assert kb.get(f"/questions/{qid}").json()["solved_cases"] == 2
    page = client.get(f"/b/{kb.slug}/community/questions/{qid}?lang=en")
    assert "Tickets this question solved, as their customers said: 2" in page.text
    link = f"/b/{kb.slug}/community/questions/{qid}"
    assert kb.get(f"/tickets/{first}", kb.customer).json()["solved_by"] == {
        "kind": "question", "available": True, "id": qid, "title": QUESTION[0], "url": link,
    }  # fmt: skip
    r = kb.post(f"/moderation/{qid}", kb.author, {"decision": "hide", "note": "spam"})
    assert r.status_code == 200, r.text
    shown = kb.get(f"/tickets/{first}", kb.customer).json()["solved_by"]
    assert shown == {"kind": "question", "available": False, "id": None, "title": None,
                     "url": None}  # fmt: skip
    sign_in(client, kb.customer)
    page = client.get(f"/b/{kb.slug}/tickets/{first}")
    assert QUESTION[0] not in page.text
    assert link not in page.text


def test_the_solved_figure_over_several_tickets_and_days(
    client: TestClient, world: World, db: Database
) -> None:
    """Three customers over three days: tickets deflected naming an article, naming none,
    and readers' own marks on the same and other days. The figure for the whole period and
    for its last two days counts each ticket once and each mark that is no ticket's case."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write(*BLUETOOTH)
    kb.publish(aid)
    other_article = kb.write("耳机电量显示不准", "充满电后重新插拔充电盒一次即可校准。")
    kb.publish(other_article)
    ann, bob = (world.member(kb.slug, ["customer"], n) for n in ("安", "博"))
    mark = {"event": "solved", "kind": "article", "id": str(aid), "source": "help"}
    named = _ticket(kb, ann)
    _deflect(kb, ann, named, {"kind": "article", "id": aid})
    unnamed = _ticket(kb, bob)
    _deflect(kb, bob, unnamed, None)
    for who, body in [(ann, mark), (bob, mark), (ann, {**mark, "id": str(other_article)}),
                      (kb.customer, mark)]:  # fmt: skip
        assert kb.post("/search/events", who, body).status_code == 204
    # Today: 2 tickets + ann's other article + kb.customer's mark (ann's and bob's marks on
    # the article are their tickets' cases).
    assert kb.get("/search/deflection", kb.reviewer, days=7).json()["solved"] == 4

    # Move everything back: ann's ticket written 3 days ago and deflected 2 days ago; bob's
    # deflected 2 days ago; ann's mark on the article 20 hours ago (after her deflection's day:
    # a case of its own), bob's 2 days ago (his deflection's day: his ticket's case).
    today = datetime.now(UTC)
    with db.transaction() as uow:
        s = uow.session
        s.execute(update(TicketRow).where(TicketRow.id == named)
                  .values(created_at=today - timedelta(days=3)))  # fmt: skip
        s.execute(update(TicketDeflectionRow).values(at=today - timedelta(days=2)))
        s.execute(update(SearchEvent).where(SearchEvent.event == "solved",
                                            SearchEvent.kind == "ticket")
                  .values(created_at=today - timedelta(days=2)))  # fmt: skip
        for who, ago in ((ann, timedelta(hours=20)), (bob, timedelta(days=2))):
            s.execute(update(SearchEvent).where(SearchEvent.visitor == f"u:{who.id}",
                                                SearchEvent.kind == "article",
                                                SearchEvent.ref_id == str(aid))
                      .values(created_at=today - ago))  # fmt: skip
        uow.commit()
    solved = kb.get("/search/deflection", kb.reviewer, days=7).json()["solved"]
    assert solved == 5  # 2 tickets, ann's two marks, kb.customer's; bob's mark is his ticket's
    # The last day: ann's two marks and kb.customer's (the tickets' events are older).
    assert kb.get("/search/deflection", kb.reviewer, days=1).json()["solved"] == 3
    insights = kb.get("/insights", kb.reviewer, days=7).json()
    assert insights["self_service"]["solved"] == solved


def test_the_database_count_agrees_with_the_rule_on_random_marks(
    client: TestClient, world: World, db: Database
) -> None:
    """Random tickets, deflections (naming an article, a question or nothing) and readers'
    marks over ten days: the SQL count of separate cases equals search.rules.separate_cases
    over the same rows, for several period starts."""
    kb = Kb(client, world)
    people = [world.member(kb.slug, ["customer"], f"顾客{i}") for i in range(6)]
    rnd = random.Random(34)
    base = datetime(2026, 11, 20, tzinfo=UTC)
    refs = [("article", "1"), ("article", "2"), ("question", "3")]
    marks: list[rules.SolvedMark] = []
    cases: list[rules.DeflectedCase] = []
    with db.transaction() as uow:
        s = uow.session
        ctx = access_brand(s, kb.slug, None)
        for i in range(40):
            who = rnd.choice(people)
            opened = base + timedelta(minutes=rnd.randrange(10 * 1440))
            at = opened + timedelta(minutes=rnd.randrange(3 * 1440))
            solved_by = rnd.choice([None, *refs])
            t = TicketRow(
                brand_id=ctx.brand.id, customer_id=who.id, subject=f"t{i}", body="b",
                status="deflected", created_at=opened, case_started_at=opened,
                language="zh-Hans", skill="general", customer_fields={}, rung=[],
            )  # fmt: skip
            s.add(t)
            s.flush()
            s.add(TicketDeflectionRow(brand_id=ctx.brand.id, ticket_id=t.id, at=at,
                                      kind=solved_by[0] if solved_by else None,
                                      ref_id=int(solved_by[1]) if solved_by else None))  # fmt: skip
            cases.append(rules.DeflectedCase(f"u:{who.id}", opened, at, solved_by))
        for i in range(150):
            visitor = rnd.choice([*(f"u:{p.id}" for p in people), "a:somebody", None])
            kind, ref = rnd.choice(refs)
            at = base + timedelta(minutes=rnd.randrange(13 * 1440))
            s.add(SearchEvent(brand_id=ctx.brand.id, event="solved", source="help", kind=kind,
                              ref_id=ref, visitor=visitor, created_at=at,
                              day=f"x{i}" if visitor else None))  # fmt: skip
            marks.append(rules.SolvedMark(visitor, kind, ref, at))
        uow.commit()
    with db.transaction() as uow:
        ctx = access_brand(uow.session, kb.slug, None)
        for days in (0, 2, 5, 9, 12):
            since = base + timedelta(days=days, hours=7)
            expected = rules.separate_cases(
                [m for m in marks if m.at >= since],
                [c for c in cases if c.at >= since - timedelta(days=1)],
            )
            assert search.deflection(uow.session, ctx, since)["solved"] == expected, days
        assert search.deflection(uow.session, ctx, base)["solved"] == rules.separate_cases(
            marks, cases
        )


def test_my_export_holds_my_deflections_and_an_erasure_keeps_them_counted(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write(*BLUETOOTH)
    kb.publish(aid)
    named, unnamed = _ticket(kb, kb.customer), _ticket(kb, kb.customer)
    _deflect(kb, kb.customer, named, {"kind": "article", "id": aid})
    _deflect(kb, kb.customer, unnamed, None)
    r = client.get("/api/v1/me/export", headers=kb.customer.auth)
    assert r.status_code == 200, r.text
    [section] = [b for b in r.json()["brands"] if b["brand"] == kb.slug]
    got = [(d["ticket_id"], d["kind"], d["id"]) for d in section["deflections"]]
    assert got == [(named, "article", aid), (unnamed, None, None)]
    assert all(datetime.fromisoformat(d["at"]) for d in section["deflections"])
    [mine] = [b for b in client.get("/api/v1/me/export", headers=kb.author.auth).json()["brands"]
              if b["brand"] == kb.slug]  # fmt: skip
    assert mine["deflections"] == []  # staff who saw the tickets: not theirs

    r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=kb.customer.auth)
    assert r.status_code == 200, r.text
    feedback = kb.get(f"/articles/{aid}/feedback", kb.author).json()
    assert feedback["solved_cases"] == 1  # the case stays counted; the ticket is scrubbed
    assert kb.get(f"/tickets/{named}", kb.author).json()["solved_by"]["title"] == BLUETOOTH[0]
