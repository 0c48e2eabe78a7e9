"""Tickets that travel more than once: reopened and resolved again, reversed earnings, staff
taking up a reopened ticket, and an expert who is also a customer of the brand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.kernel.money import Money
from crowdcx.payouts.models import LedgerPosting
from crowdcx.tickets.models import ExpertProfileRow, TicketTransitionRow
from crowdcx.tickets.sweeper import sweep_once
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.web.test_formats import shown


@pytest.fixture
def desk(client: TestClient, world: World) -> Desk:
    return Desk(client, world)


def _profile(db: Database, user_id: int) -> ExpertProfileRow:
    with db.sessions() as s:
        row = s.scalar(select(ExpertProfileRow).where(ExpertProfileRow.user_id == user_id))
        assert row is not None
        return row


def test_reopen_and_resolve_again_counts_one_resolution(desk: Desk, db: Database) -> None:
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    for _ in range(3):  # the customer (or a colluding one) reopens, the expert resolves again
        assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
        assert desk.post(f"/tickets/{tid}/reopen", desk.customer).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    with db.sessions() as s:
        earnings = s.scalars(select(LedgerPosting).where(LedgerPosting.kind == "earning")).all()
    assert len(earnings) == 2  # one balanced earning: paid once
    row = _profile(db, expert.id)
    assert row.load == 0
    # The resolution rate routing scores by (and the tickets_resolved badge) counts it once.
    assert row.resolved == 1, f"one ticket counted as {row.resolved} resolutions"


def test_effective_hourly_rate_after_the_earning_was_reversed(desk: Desk) -> None:
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    desk.post(f"/tickets/{tid}/claim", expert)
    desk.post(f"/tickets/{tid}/resolve", expert)
    desk.post(f"/tickets/{tid}/reopen", desk.customer)
    assert (
        desk.post(f"/tickets/{tid}/escalate", desk.agent, {"reason": "still broken"}).status_code
        == 200
    )
    assert desk.post(f"/tickets/{tid}/resolve", desk.agent).status_code == 200
    mine = desk.get("/earnings/me", expert).json()
    assert sum(line["amount_minor"] for line in mine["lines"]) == 0
    # Net earnings are zero: the reversed ticket is no paid time.
    for cur, text in mine["effective_hourly"].items():
        amount = text.split()[0]
        assert float(amount) == 0, f"hourly rate {text} while the total is {mine['totals'][cur]}"


def test_a_resolution_staff_had_to_finish_keeps_no_points_and_no_resolution(
    desk: Desk, db: Database
) -> None:
    """Reopened and finished by staff, the earning was reversed but the expert kept the
    resolution's reputation points and it still counted as resolved in the routing score
    (beside the escalation): both are taken back with the earning, once."""
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    desk.post(f"/tickets/{tid}/claim", expert)
    desk.post(f"/tickets/{tid}/resolve", expert)

    def points() -> int:
        return int(desk.get(f"/users/{expert.id}/reputation", expert).json()["points"])

    earned = points()
    assert earned > 0
    assert _profile(db, expert.id).resolved == 1
    desk.post(f"/tickets/{tid}/reopen", desk.customer)
    desk.post(f"/tickets/{tid}/escalate", desk.agent, {"reason": "still broken"})
    assert desk.post(f"/tickets/{tid}/resolve", desk.agent).status_code == 200
    assert points() == 0
    assert _profile(db, expert.id).resolved == 0
    desk.post(f"/tickets/{tid}/reopen", desk.customer)  # and again: nothing taken twice
    assert desk.post(f"/tickets/{tid}/resolve", desk.agent).status_code == 200
    assert points() == 0
    assert _profile(db, expert.id).resolved == 0


def test_expert_is_never_routed_their_own_ticket(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=0)
    both = world.member(desk.slug, ["customer", "expert"], "Пётр")
    body = {
        "skills": {"general": 5},
        "languages": ["zh-Hans", "en", "ru"],
        "tier": 0,
        "certifications": [],
    }
    assert desk.put(f"/experts/{both.id}", body, desk.admin).status_code == 200
    desk.online(both)
    t = desk.post(
        "/tickets",
        both,
        {"subject": "Refund", "body": "Where is my refund?", "skill": "general", "language": "en"},
    ).json()
    assert t["offered_to"] != both.id  # not offered (push)...
    claimed = desk.post(f"/tickets/{t['id']}/claim", both)  # ...nor taken from the queue
    assert claimed.status_code == 409, claimed.json()
    assert claimed.json()["code"] == "own_ticket"
    assert desk.get("/earnings/me", both).json()["lines"] == []


def test_another_agent_can_work_a_reopened_staff_ticket(
    client: TestClient, world: World, db: Database
) -> None:
    desk = Desk(client, world, experts=0)
    other_agent = world.member(desk.slug, ["agent"], "Анна")
    tid = desk.ask()["id"]  # nobody online: queued
    assert desk.post(f"/tickets/{tid}/escalate", desk.agent, {"reason": "vip"}).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", desk.agent).status_code == 200
    assert desk.post(f"/tickets/{tid}/reopen", desk.customer).status_code == 200
    sweep_once(db, utcnow() + timedelta(hours=1))  # the first agent is on holiday
    state = desk.get(f"/tickets/{tid}", other_agent).json()
    assert state["status"] == "reopened"
    assert "resolve" in state["allowed_actions"], state["allowed_actions"]
    sweep_once(db, utcnow() + timedelta(days=30))  # ...for a month: the new target passes
    state = desk.get(f"/tickets/{tid}", other_agent).json()
    assert state["status"] == "escalated"  # back in the staff queue, nobody's
    assert "resolve" in state["allowed_actions"], state["allowed_actions"]
    resolve = desk.post(f"/tickets/{tid}/resolve", other_agent)
    assert resolve.status_code == 200, resolve.json()
    # Resolving made the second agent its one owner; the first cannot act on it twice.
    assert desk.post(f"/tickets/{tid}/resolve", desk.agent).status_code == 409


def test_the_ledger_pages_through_every_posting_of_the_brand_only(
    desk: Desk, client: TestClient, world: World
) -> None:
    """GET /ledger showed the newest 200 postings and no way to the older ones: a brand past
    100 paid tickets could no longer read its early earnings (limit and cursor were ignored)."""
    other = Desk(client, world, experts=1)  # another brand's earnings stay out of this ledger
    other.online(other.experts[0])
    elsewhere = other.ask()["id"]
    other.post(f"/tickets/{elsewhere}/claim", other.experts[0])
    assert other.post(f"/tickets/{elsewhere}/resolve", other.experts[0]).status_code == 200
    expert = desk.experts[0]
    desk.online(expert)
    for _ in range(3):
        tid = desk.ask()["id"]
        desk.post(f"/tickets/{tid}/claim", expert)
        assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    seen: list[int] = []
    cursor = ""
    for _page in range(10):
        page = desk.get(f"/ledger?limit=4{'&cursor=' + cursor if cursor else ''}", desk.admin)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["postings"]) <= 4
        assert body["balance"] == {"USD": 0}
        seen += [p["id"] for p in body["postings"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    everything = desk.get("/ledger", desk.admin).json()["postings"]
    assert len(everything) == 6
    assert seen == [p["id"] for p in everything]  # newest first, each once
    theirs = other.get("/ledger", other.admin).json()["postings"]
    assert len(theirs) == 2
    assert not {p["id"] for p in theirs} & set(seen)
    assert desk.get("/ledger?cursor=nonsense", desk.admin).status_code == 422
    assert desk.get("/ledger", expert).status_code == 403


def test_the_hourly_rate_counts_the_time_worked_not_the_days_a_ticket_sat_resolved(
    desk: Desk, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claim → resolve took 10 minutes; the customer reopened it three days later and the
    expert fixed it in 5. The rate divided the pay by claim → last resolution (3 days): 0.07
    an hour instead of 20. (The days pass on the API's clock: the rate is a running sum moved
    by each transition as it happens, so rewriting the history afterwards would not move it.)"""
    from crowdcx.tickets import api

    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    t0 = utcnow() - timedelta(days=4)
    for action, who, at in (
        ("claim", expert, t0),
        ("resolve", expert, t0 + timedelta(minutes=10)),
        ("reopen", desk.customer, t0 + timedelta(days=3)),
        ("resolve", expert, t0 + timedelta(days=3, minutes=5)),
    ):
        monkeypatch.setattr(api, "now", lambda at=at: at)
        assert desk.post(f"/tickets/{tid}/{action}", who).status_code == 200
    monkeypatch.undo()
    mine = desk.get("/earnings/me", expert).json()
    # The price, not a constant: the default rate card pays 1.25× between 22:00 and 07:00,
    # and this test failed in CI when run at night.
    rate = desk.get(f"/tickets/{tid}", desk.agent).json()["rate_minor"]
    assert [line["amount_minor"] for line in mine["lines"]] == [rate]
    # 5.00 USD (6.25 at night) for 15 minutes of work: four times that an hour.
    hourly = f"{Decimal(rate * 4) / 100:.2f} USD"
    assert mine["effective_hourly"] == {"USD": hourly}, mine["effective_hourly"]
    with db.sessions() as s:  # the history, as it happened over days
        steps = s.scalars(
            select(TicketTransitionRow.action).where(TicketTransitionRow.ticket_id == tid)
        ).all()
    assert [a for a in steps if a in ("claim", "resolve", "reopen")] == [
        "claim", "resolve", "reopen", "resolve",
    ]  # fmt: skip


def test_earnings_come_a_page_at_a_time_with_totals_over_all_of_them(
    desk: Desk, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /earnings/me answered every posting at once — and the workspace read them all, each
    with its ticket, on every view: a busy expert's pages grew with their whole history."""
    expert = desk.experts[0]
    desk.online(expert)
    paid = []
    for _ in range(3):
        tid = desk.ask()["id"]
        assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
        assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
        paid.append(tid)
    everything = desk.get("/earnings/me", expert).json()
    assert [line["ticket_id"] for line in everything["lines"]] == paid[::-1]
    assert everything["next_cursor"] is None
    first = desk.get("/earnings/me?limit=2", expert).json()
    assert [line["ticket_id"] for line in first["lines"]] == paid[:0:-1]
    assert first["totals"] == everything["totals"]  # over all of them, not this page
    assert first["effective_hourly"] == everything["effective_hourly"]
    second = desk.get(f"/earnings/me?limit=2&cursor={first['next_cursor']}", expert).json()
    assert [line["ticket_id"] for line in second["lines"]] == paid[:1]
    assert second["next_cursor"] is None
    assert second["totals"] == everything["totals"]
    for bad in ("nonsense", "eyJhZnRlciI6IDEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwfQ"):  # 10^22
        r = desk.get(f"/earnings/me?cursor={bad}", expert)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    # The pages: the earnings list links to the older page; the workspace shows the totals.
    from crowdcx.tickets import pages

    monkeypatch.setattr(pages, "EARNINGS_PAGE", 2)
    html = client.get(f"/b/{desk.slug}/earnings", headers=expert.auth).text
    assert html.count(f"/b/{desk.slug}/tickets/") == 2
    link = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    older = client.get(link.replace("&amp;", "&"), headers=expert.auth).text
    assert f'/b/{desk.slug}/tickets/{paid[0]}"' in older
    assert 'rel="next"' not in older
    total = Money.from_decimal(everything["totals"]["USD"].split()[0], "USD")
    workspace = client.get(f"/b/{desk.slug}/workspace", headers=expert.auth).text
    assert shown(workspace, total) in workspace
