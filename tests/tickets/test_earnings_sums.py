"""An expert's earnings totals and hourly rate come from running sums (``payee_balances``,
``work_totals``) instead of every posting and every paid ticket's times: after any sequence
of earnings, reopenings, resolutions again, reversals (a reopened ticket handed to staff) and
payouts — on a clock that moves by seconds or by days, now and then by less than the minute a
ticket counts at least — the API answers the same numbers, to the minor unit, as the old
computation over the whole history (``service.earnings_from_ledger``), and the sums stay what
``crowdcx rebuild-balances`` would mend them to."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.payouts import rules as pay
from crowdcx.payouts.models import PaidWorkRow, WorkTotalRow
from crowdcx.tenancy import service as tenancy
from crowdcx.tickets import service
from tests.conftest import Person, World
from tests.tickets.test_api import Desk


def _shown(amounts: dict[str, Any]) -> dict[str, str]:
    return {cur: str(m) for cur, m in amounts.items()}


def _oracle(db: Database, slug: str, expert: Person) -> dict[str, dict[str, str]]:
    """What the old code answered: everything summed from the expert's whole history."""
    with db.sessions() as session:
        ctx = tenancy.access_brand(session, slug, None)
        old = service.earnings_from_ledger(session, ctx, expert.id)
    return {
        "totals": _shown(old.totals),
        "effective_hourly": _shown(old.hourly),
        "paid_out": _shown(old.paid),
        "owed": _shown(old.owed),
    }


def _answered(desk: Desk, expert: Person, query: str = "") -> dict[str, dict[str, str]]:
    r = desk.get(f"/earnings/me{query}", expert)
    assert r.status_code == 200, r.text
    body = r.json()
    return {k: body[k] for k in ("totals", "effective_hourly", "paid_out", "owed")}


def _totals_only(db: Database, slug: str, expert: Person) -> dict[str, dict[str, str]]:
    """The workspace's view (``limit=0``)."""
    with db.sessions() as session:
        ctx = tenancy.access_brand(session, slug, None)
        user = session.get(User, expert.id)
        assert user is not None
        e = service.earnings(session, ctx, user, limit=0)
    return {
        "totals": _shown(e.totals),
        "effective_hourly": _shown(e.hourly),
        "paid_out": _shown(e.paid),
        "owed": _shown(e.owed),
    }


def _mends(db: Database, slug: str) -> int:
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, slug, None)
        found = service.rebuild_work(uow.session, ctx, dry_run=True).mended
        uow.rollback()
    return found


@pytest.mark.parametrize("seed", [3, 11])
def test_the_running_sums_answer_what_the_whole_history_did(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    from crowdcx.tickets import api

    desk = Desk(client, world)
    rnd = random.Random(seed)
    clock = [utcnow() - timedelta(days=30)]
    monkeypatch.setattr(api, "now", lambda: clock[0])
    for expert in desk.experts:
        desk.online(expert)
    resolved: dict[int, Person] = {}  # paid, resolved, not reversed: may be reopened
    reopened: dict[int, Person] = {}  # with their expert again
    done = {"earn": 0, "reopen": 0, "resolve again": 0, "reverse": 0, "pay": 0}

    def tick() -> None:
        if rnd.random() < 0.3:  # now and then quicker than the minute a ticket counts
            step = timedelta(seconds=rnd.randrange(1, 40))
        elif rnd.random() < 0.1:  # a customer reopening days later
            step = timedelta(days=rnd.randrange(1, 4), seconds=rnd.randrange(0, 3600))
        else:
            step = timedelta(seconds=rnd.randrange(40, 5000))
        if seed == 11:  # fractions of a second too (the sums count microseconds)
            step += timedelta(microseconds=rnd.randrange(0, 1_000_000))
        clock[0] = clock[0] + step

    def act(path: str, who: Person, body: Any = None) -> bool:
        tick()
        r = desk.post(path, who, body)
        assert r.status_code == 200, (path, r.text)
        return True

    for _ in range(50):
        step = rnd.choice(["earn", "earn", "earn", "reopen", "resolve again", "resolve again",
                           "reverse", "pay"])  # fmt: skip
        if step == "earn":
            if reopened:
                continue  # keep a place free under max_concurrent for whoever is offered it
            tick()
            tid = desk.ask()["id"]
            offered = desk.get(f"/tickets/{tid}", desk.agent).json().get("offered_to")
            expert = next((e for e in desk.experts if e.id == offered), rnd.choice(desk.experts))
            clock[0] += timedelta(seconds=rnd.randrange(1, 60))  # before the offer runs out
            assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
            assert act(f"/tickets/{tid}/resolve", expert)
            resolved[tid] = expert
        elif step == "reopen" and resolved:
            tid = rnd.choice(sorted(resolved))
            assert act(f"/tickets/{tid}/reopen", desk.customer)
            reopened[tid] = resolved.pop(tid)
        elif step == "resolve again" and reopened:
            tid = rnd.choice(sorted(reopened))
            assert act(f"/tickets/{tid}/resolve", reopened[tid])
            resolved[tid] = reopened.pop(tid)
        elif step == "reverse" and reopened:
            tid = rnd.choice(sorted(reopened))
            assert act(f"/tickets/{tid}/escalate", desk.agent, {"reason": "still broken"})
            reopened.pop(tid)
            if rnd.random() < 0.5:  # else checked while it waits for staff
                assert act(f"/tickets/{tid}/resolve", desk.agent)
        elif step == "pay":
            expert = rnd.choice(desk.experts)
            owed = _oracle(db, desk.slug, expert)["owed"]
            if not owed:
                continue
            cur, text = next(iter(owed.items()))
            minor = int(text.split()[0].replace(".", ""))
            if minor <= 0:
                continue
            body = {"account": pay.expert_earnings_account(str(expert.id)),
                    "amount_minor": rnd.randrange(1, minor + 1), "currency": cur,
                    "reference": f"TX-{seed}-{sum(done.values())}"}  # fmt: skip
            r = desk.post("/payouts", desk.admin, body)
            assert r.status_code == 201, r.text
        else:
            continue
        done[step] += 1
        for expert in desk.experts:
            want = _oracle(db, desk.slug, expert)
            assert _answered(desk, expert) == want, (step, done)
            assert _answered(desk, expert, "?limit=1") == want
            assert _totals_only(db, desk.slug, expert) == want
    assert all(done.values()), done  # every kind of step happened
    assert any(_oracle(db, desk.slug, e)["effective_hourly"] for e in desk.experts)
    assert _mends(db, desk.slug) == 0


def test_rebuild_balances_mends_the_paid_work_too(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    """Rows written past the application — a ticket's times changed, its work row lost, a sum
    off — are found by ``crowdcx rebuild-balances --dry-run`` and mended by it, after which
    the API answers the old computation again."""
    from crowdcx.cli import app as cli

    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tids = []
    for _ in range(3):
        tid = desk.ask()["id"]
        assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
        assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
        tids.append(tid)
    assert _answered(desk, expert) == _oracle(db, desk.slug, expert)
    with db.transaction() as uow:
        from crowdcx.tickets.models import TicketRow

        claimed: datetime = utcnow() - timedelta(hours=2)
        uow.session.execute(
            update(TicketRow).where(TicketRow.id == tids[0]).values(claimed_at=claimed)
        )
        lost = uow.session.scalar(select(PaidWorkRow).where(PaidWorkRow.ticket_id == tids[1]))
        assert lost is not None
        uow.session.delete(lost)
        uow.session.execute(update(WorkTotalRow).values(tickets=WorkTotalRow.tickets + 5))
    assert _answered(desk, expert) != _oracle(db, desk.slug, expert)
    db.engine.dispose()
    env = {"CROWDCX_DATABASE_URL": database_url}
    runner = CliRunner()
    checked = runner.invoke(cli, ["rebuild-balances", "--brand", desk.slug, "--dry-run"], env=env)
    assert checked.exit_code == 1, checked.output
    assert "3 rows differ from" in checked.output, checked.output
    mended = runner.invoke(cli, ["rebuild-balances", "--brand", desk.slug], env=env)
    assert mended.exit_code == 0, mended.output
    assert _answered(desk, expert) == _oracle(db, desk.slug, expert)
    assert _mends(db, desk.slug) == 0
