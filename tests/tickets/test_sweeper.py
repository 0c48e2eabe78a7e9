"""The sweeper isolates a ticket it fails on: logged with its id, looked at again a while
later, and every other ticket of the pass — in every brand — swept as usual."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.tenancy.models import Brand
from crowdcx.tickets import rules as lifecycle
from crowdcx.tickets import sweeper
from crowdcx.tickets.models import BrandPolicyRow, TicketRow
from crowdcx.tickets.sweeper import RETRY_AFTER, sweep_once
from tests.conftest import World
from tests.tickets.test_api import Desk


def sweep_at(db: Database, ticket_id: int) -> datetime | None:
    with db.sessions() as s:
        moment: datetime | None = s.scalar(
            select(TicketRow.sweep_at).where(TicketRow.id == ticket_id)
        )
        return moment


def store_legacy_policy(db: Database, slug: str, **sla: Any) -> None:
    """Write SLA targets the way a policy saved before they were bounded holds them, and have
    the sweeper look at the brand's tickets now, as saving a policy does."""
    with db.transaction() as uow:
        row = uow.session.scalar(
            select(BrandPolicyRow).join(Brand, Brand.id == BrandPolicyRow.brand_id)
            .where(Brand.slug == slug)
        )  # fmt: skip
        assert row is not None
        row.data = {**row.data, "sla": {**row.data["sla"], **sla}}
        row.updated_at = utcnow()
        uow.session.execute(
            update(TicketRow).where(TicketRow.brand_id == row.brand_id).values(sweep_at=utcnow())
        )


def test_one_brands_bad_ticket_does_not_stop_offers_expiring_in_another(
    client: TestClient, world: World, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    a = Desk(client, world, experts=0)
    poison = a.ask()["id"]  # queued in brand A
    b = Desk(client, world, experts=1)
    b.online(b.experts[0])
    offered = b.ask()
    assert offered["status"] == "offered"
    # Brand A saved a resolution target of 31 700 years before targets were bounded: its
    # ticket's SLA moment overflows, and it heads the queue (due now, B's offer in 120 s).
    store_legacy_policy(db, a.slug, resolution_s=10**12)
    later = utcnow() + timedelta(seconds=130)
    with caplog.at_level(logging.ERROR, logger="crowdcx.tickets.sweeper"):
        done = sweep_once(db, later)
    assert done == {"failed": 1, "expire": 1}
    assert b.get(f"/tickets/{offered['id']}", b.agent).json()["status"] == "queued"
    (record,) = caplog.records
    assert f"ticket {poison} failed" in record.getMessage()
    assert record.exc_info is not None  # the traceback is logged
    # Not at the head of every pass: looked at again RETRY_AFTER later, and only then.
    assert sweep_at(db, poison) == later + RETRY_AFTER
    assert sweep_once(db, later + RETRY_AFTER - timedelta(seconds=1)) == {}
    assert sweep_once(db, later + RETRY_AFTER) == {"failed": 1}
    # The admin fixes the policy: the ticket is looked at at once, under the new targets.
    fixed = a.put("/policy", {"sla": {"first_response_s": 3600, "resolution_s": 7200}}, a.admin)
    assert fixed.status_code == 200, fixed.text
    assert sweep_at(db, poison) <= utcnow()  # type: ignore[operator]
    assert sweep_once(db, utcnow() + timedelta(hours=1)) == {"escalate": 1}
    assert a.get(f"/tickets/{poison}", a.agent).json()["status"] == "escalated"


def test_a_failing_ticket_does_not_hold_back_the_rest_of_its_batch(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk(client, world, experts=1)
    desk.online(desk.experts[0])
    first = desk.ask()["id"]  # offered; the expert can hold two
    second = desk.ask()["id"]
    decide = lifecycle.decide_sweep

    def broken_for_first(ticket: lifecycle.Ticket, now: datetime, **policy: Any) -> Any:
        if ticket.id == str(first):
            raise RuntimeError("a bug that only this ticket meets")
        return decide(ticket, now, **policy)

    monkeypatch.setattr(lifecycle, "decide_sweep", broken_for_first)
    later = utcnow() + timedelta(seconds=130)
    assert sweep_once(db, later, batch=1) == {"failed": 1, "expire": 1}  # batch after batch
    assert desk.get(f"/tickets/{second}", desk.agent).json()["status"] == "queued"
    assert desk.get(f"/tickets/{first}", desk.agent).json()["status"] == "offered"
    monkeypatch.undo()  # the bug is fixed: the next look, RETRY_AFTER later, expires it
    assert sweep_once(db, later) == {}
    assert sweep_once(db, later + RETRY_AFTER) == {"expire": 1}


def test_a_database_failure_ends_the_pass_without_moving_the_tickets(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk(client, world, experts=1)
    desk.online(desk.experts[0])
    tid = desk.ask()["id"]
    moment = sweep_at(db, tid)

    def database_gone(*_args: Any) -> None:
        raise OperationalError("UPDATE tickets", {}, Exception("database is locked"))

    monkeypatch.setattr(sweeper, "sweep_ticket", database_gone)
    with pytest.raises(OperationalError):  # the Sweeper thread logs it and tries next pass
        sweep_once(db, utcnow() + timedelta(seconds=130))
    assert sweep_at(db, tid) == moment


def test_a_reopened_ticket_is_escalated_when_its_new_resolution_target_passes(
    client: TestClient, world: World, db: Database
) -> None:
    """Resolved in time once, a reopened ticket's resolution clock stayed stopped: it was
    never escalated however long the customer waited again. The target runs again from
    the reopening (migration 0022)."""
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/reopen", desk.customer).status_code == 200
    moment = sweep_at(db, tid)
    assert moment is not None  # before: None, nothing would ever wake the sweeper for it
    assert sweep_once(db, moment - timedelta(minutes=1)) == {}
    assert sweep_once(db, moment + timedelta(seconds=2)) == {"escalate": 1}
    assert desk.get(f"/tickets/{tid}", desk.agent).json()["status"] == "escalated"
