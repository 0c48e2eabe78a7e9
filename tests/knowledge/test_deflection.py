"""Which suggestion solved a deflected ticket, through HTTP: the deflect names it (checked:
one the brand has and the customer may read), the deflection figures count the case once by
its ticket, and the article's authors and the brand's admins see the tickets it solved."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.knowledge.test_api import Kb
from tests.tickets.test_pages import sign_in

BLUETOOTH = ("耳机无法连接蓝牙怎么办？", "长按充电盒按钮 10 秒，然后重新配对蓝牙。")
INQUIRY = {"subject": "蓝牙耳机连不上手机", "body": "配对总是失败", "skill": "general"}


def _ticket(kb: Kb) -> dict[str, Any]:
    r = kb.post("/tickets", kb.customer, INQUIRY)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _solved_cases(kb: Kb, aid: int) -> int:
    r = kb.get(f"/articles/{aid}/feedback", kb.author)
    assert r.status_code == 200, r.text
    return int(r.json()["solved_cases"])


def _solved(kb: Kb) -> int:
    return int(kb.get("/search/deflection", kb.reviewer).json()["solved"])


def test_a_deflect_naming_its_article_counts_the_case_once_by_ticket(
    client: TestClient, world: World
) -> None:
    """The customer names the suggested article that solved it: the article's authors see one
    ticket solved (a second deflect is refused and moves nothing), the customer's own "this
    solved it" on that article is the same case, and the same customer's mark on another
    article that day is a case of its own (the same-day rule counted it as the ticket's)."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write(*BLUETOOTH)
    kb.publish(aid)
    other = kb.write("耳机电量显示不准", "充满电后重新插拔充电盒一次即可校准。")
    kb.publish(other)
    ticket = _ticket(kb)
    assert [s["id"] for s in ticket["suggestions"]][:1] == [aid]
    assert _solved_cases(kb, aid) == 0

    r = kb.post(f"/tickets/{ticket['id']}/deflect", kb.customer, {"kind": "article", "id": aid})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deflected"
    assert _solved_cases(kb, aid) == 1
    assert _solved(kb) == 1
    again = kb.post(f"/tickets/{ticket['id']}/deflect", kb.customer, {"kind": "article", "id": aid})
    assert again.status_code == 409
    assert (_solved_cases(kb, aid), _solved(kb)) == (1, 1)

    mark = {"event": "solved", "kind": "article", "id": str(aid), "source": "help"}
    assert kb.post("/search/events", kb.customer, mark).status_code == 204
    assert _solved(kb) == 1  # the ticket's case again
    assert kb.post("/search/events", kb.customer, {**mark, "id": str(other)}).status_code == 204
    assert _solved(kb) == 2  # another problem the customer solved without a ticket
    assert _solved_cases(kb, other) == 0

    insights = kb.get("/insights", kb.reviewer)
    assert insights.status_code == 200, insights.text
    assert insights.json()["solved_by"] == [
        {"kind": "article", "id": aid, "title": BLUETOOTH[0], "cases": 1}
    ]


def test_a_deflect_without_a_suggestion_stays_and_keeps_the_same_day_rule(
    client: TestClient, world: World
) -> None:
    """The body-less deflect still works; it names no article, so no article's count moves,
    and the customer's mark that day is taken for the ticket's case as before."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write(*BLUETOOTH)
    kb.publish(aid)
    ticket = _ticket(kb)
    r = kb.post(f"/tickets/{ticket['id']}/deflect", kb.customer)
    assert r.status_code == 200, r.text
    assert _solved_cases(kb, aid) == 0
    mark = {"event": "solved", "kind": "article", "id": str(aid)}
    assert kb.post("/search/events", kb.customer, mark).status_code == 204
    assert _solved(kb) == 1
    assert kb.get("/insights", kb.reviewer).json()["solved_by"] == []


def test_a_deflect_naming_a_suggestion_the_customer_cannot_have_is_refused(
    client: TestClient, world: World
) -> None:
    """Another brand's article, a staff-only one, a draft, an unknown id, a kind that is no
    suggestion or half a name: 422 problem+json saying what to send, the ticket still open."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write(*BLUETOOTH)
    kb.publish(aid)
    staff = kb.write("蓝牙配对的内部说明", "客服可远程重置耳机的配对列表。", visibility="staff")
    kb.publish(staff)
    draft = kb.write("蓝牙耳机固件升级", "在 App 中检查固件更新。")
    elsewhere = Kb(client, world)
    theirs = elsewhere.write(*BLUETOOTH)
    elsewhere.publish(theirs)
    ticket = _ticket(kb)
    for body, field in [
        ({"kind": "article", "id": theirs}, "id"),
        ({"kind": "article", "id": staff}, "id"),
        ({"kind": "article", "id": draft}, "id"),
        ({"kind": "article", "id": 999999}, "id"),
        ({"kind": "question", "id": aid}, "id"),
        ({"kind": "ticket", "id": ticket["id"]}, "kind"),
        ({"kind": "article"}, "id"),
        ({"id": aid}, "kind"),
    ]:
        r = kb.post(f"/tickets/{ticket['id']}/deflect", kb.customer, body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"] == field, r.json()
        assert r.json()["detail"]
    assert kb.get(f"/tickets/{ticket['id']}", kb.customer).json()["status"] != "deflected"
    assert kb.post(f"/tickets/{ticket['id']}/deflect", kb.customer, {"id": "x"}).status_code == 422
    assert _solved_cases(kb, aid) == 0


def test_the_ticket_page_names_the_suggestion_that_solved_it(
    client: TestClient, world: World
) -> None:
    """The ticket page's "This solved it" beside a suggestion deflects the ticket naming it;
    the article page shows its authors the ticket it solved, the insights page its title."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write(*BLUETOOTH)
    kb.publish(aid)
    ticket = _ticket(kb)
    token = sign_in(client, kb.customer)
    url = f"/b/{kb.slug}/tickets/{ticket['id']}"
    page = client.get(url)
    assert f'data-testid="solved-by-article-{aid}"' in page.text
    bad = client.post(
        f"{url}/act", data={"csrf_token": token, "action": "deflect", "suggestion": "article:x"}
    )
    assert bad.status_code == 422
    done = client.post(
        f"{url}/act",
        data={"csrf_token": token, "action": "deflect", "suggestion": f"article:{aid}"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert kb.get(f"/tickets/{ticket['id']}", kb.customer).json()["status"] == "deflected"
    sign_in(client, kb.author)
    article = client.get(f"/b/{kb.slug}/help/articles/{aid}")
    assert 'data-testid="solved-cases"' in article.text
    assert _solved_cases(kb, aid) == 1
    sign_in(client, kb.reviewer)
    insights = client.get(f"/b/{kb.slug}/admin/insights")
    assert insights.status_code == 200
    assert f'/help/articles/{aid}">{BLUETOOTH[0]}</a>' in insights.text
