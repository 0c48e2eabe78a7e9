"""Migration 0041 adds paid_work and work_totals, back-filled from the ledger and the
tickets (an earning not reversed, the time worked — a reopened ticket's stretches, not the
days it sat resolved), and takes them away again, on each backend; the expert's earnings
over HTTP read the back-filled rows, and transitions after the upgrade move them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.kernel.models import utcnow
from crowdcx.payouts import rules as pay
from crowdcx.tickets import service
from tests.conftest import World
from tests.migration_db import rows, table_names
from tests.tickets.test_api import Desk

REVISION, BEFORE = "0041", "0040"
WORK = "SELECT ticket_id, account, currency, earned_minor, counted_us FROM paid_work ORDER BY 1"
TOTALS = "SELECT account, currency, earned_minor, counted_us, tickets FROM work_totals ORDER BY 1"


def test_0041_paid_work_up_and_down(
    client: TestClient,
    world: World,
    db: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crowdcx.tickets import api

    desk = Desk(client, world, experts=1)  # every offer is theirs
    expert = desk.experts[0]
    desk.online(expert)
    t0 = utcnow() - timedelta(days=5)
    clock = [t0]
    monkeypatch.setattr(api, "now", lambda: clock[0])

    def at(minutes: int, path: str, who: object, body: object = None) -> None:
        clock[0] = t0 + timedelta(minutes=minutes)
        r = desk.post(path, who, body)  # type: ignore[arg-type]
        assert r.status_code == 200, r.text

    def ask(minutes: int) -> int:
        clock[0] = t0 + timedelta(minutes=minutes)
        return int(desk.ask()["id"])

    plain = ask(0)
    at(0, f"/tickets/{plain}/claim", expert)
    at(20, f"/tickets/{plain}/resolve", expert)
    reopened = ask(30)
    at(30, f"/tickets/{reopened}/claim", expert)
    at(40, f"/tickets/{reopened}/resolve", expert)
    at(3 * 24 * 60, f"/tickets/{reopened}/reopen", desk.customer)  # three days later
    at(3 * 24 * 60 + 5, f"/tickets/{reopened}/resolve", expert)
    reversed_ = ask(50)  # (the clock only orders each ticket's own history)
    at(50, f"/tickets/{reversed_}/claim", expert)
    at(51, f"/tickets/{reversed_}/resolve", expert)
    at(60, f"/tickets/{reversed_}/reopen", desk.customer)
    at(70, f"/tickets/{reversed_}/escalate", desk.agent, {"reason": "still broken"})
    monkeypatch.undo()
    account = pay.expert_earnings_account(str(expert.id))
    paid = desk.post("/payouts", desk.admin, {
        "account": account, "amount_minor": 100, "currency": "USD", "reference": "TX-1",
    })  # fmt: skip
    assert paid.status_code == 201, paid.text
    shown = desk.get("/earnings/me", expert).json()
    work = rows(database_url, WORK)
    assert [(w[0], w[4]) for w in work] == [(plain, 20 * 60 * 10**6), (reopened, 15 * 60 * 10**6)]
    totals = rows(database_url, TOTALS)
    earned = sum(w[3] for w in work)
    assert totals == [(account, "USD", earned, 35 * 60 * 10**6, 2)]
    with db.sessions() as session:  # what the whole history gives, as the old code read it
        from crowdcx.tenancy import service as tenancy

        old = service.earnings_from_ledger(
            session, tenancy.access_brand(session, desk.slug, None), expert.id
        )
    assert shown["effective_hourly"] == {c: str(m) for c, m in old.hourly.items()}
    db.engine.dispose()

    downgrade(database_url, BEFORE)
    assert not {"paid_work", "work_totals"} & set(table_names(database_url))
    upgrade(database_url, "heads")
    assert {"paid_work", "work_totals"} <= set(table_names(database_url))
    assert rows(database_url, WORK) == work  # back-filled from the ledger and the tickets
    assert rows(database_url, TOTALS) == totals
    assert desk.get("/earnings/me", expert).json() == shown

    # A transition after the upgrade moves the back-filled rows: the plain ticket reopened
    # and handed to staff no longer counts, amount and time.
    assert desk.post(f"/tickets/{plain}/reopen", desk.customer).status_code == 200
    r = desk.post(f"/tickets/{plain}/escalate", desk.agent, {"reason": "still broken"})
    assert r.status_code == 200, r.text
    assert [w[0] for w in rows(database_url, WORK)] == [reopened]
    assert rows(database_url, TOTALS) == [(account, "USD", work[1][3], 15 * 60 * 10**6, 1)]
    [(version,)] = rows(database_url, "SELECT version_num FROM alembic_version")
    assert version >= REVISION  # at the head, which later migrations move on
