"""The background sweeper: expires offers, escalates SLA risks and rings without a taker,
auto-closes resolved tickets, and turns community questions left unsolved past the brand's
delay into tickets where the brand asks for it. Jobs take ids and reload state; each ticket
is decided by ``tickets.rules.decide_sweep`` and written with the same conditional update as
every other transition, so running it twice, or on several instances at once, changes
nothing twice.

In embedded mode a daemon thread runs it every few seconds; with several workers each runs
one, and the version check makes the races harmless (on PostgreSQL the candidates are also
picked with ``FOR UPDATE SKIP LOCKED`` so instances share the work instead of colliding).

A ticket the sweeper fails on (a bug, or a brand's policy it cannot compute with) is logged
and looked at again :data:`RETRY_AFTER` later; the others of the pass, in every brand, are
swept as usual. A database that fails is not a ticket's fault: that ends the pass."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from crowdcx.kernel.db import Database
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.models import utcnow
from crowdcx.search import service as search
from crowdcx.tenancy.models import Brand
from crowdcx.tenancy.service import BrandContext
from crowdcx.tickets import presence, service
from crowdcx.tickets import rules as lifecycle
from crowdcx.tickets.models import TicketRow

log = logging.getLogger(__name__)
SWEEPABLE = service.SWEEPABLE
RETRY_AFTER: Final = timedelta(minutes=5)


def due_ids(db: Database, now: datetime, batch: int = 200) -> list[int]:
    """Tickets whose ``sweep_at`` has come (rules.next_sweep_at: an offer ran out, an SLA is at
    risk or breached, an auto-close is due), the longest-waiting first: an index range read,
    however many tickets are open."""
    with db.sessions() as session:
        stmt = (
            select(TicketRow.id)
            .where(TicketRow.sweep_at <= now)
            .order_by(TicketRow.sweep_at, TicketRow.id)
            .limit(batch)
        )
        if not db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        return list(session.scalars(stmt))


def sweep_ticket(db: Database, ticket_id: int, now: datetime) -> str | None:
    """Reload one ticket, decide, apply. Returns the action taken, if any. With nothing to do
    (looked at early, or the policy changed), store its next moment instead."""
    with db.uow() as uow:
        row = uow.session.get(TicketRow, ticket_id)
        if row is None:
            return None
        brand = uow.session.get_one(Brand, row.brand_id)
        ctx = BrandContext(brand, None, frozenset())
        policy, _roster = service.load_policy(uow.session, ctx)
        ticket = service.to_rules(row)
        decision = None
        if row.status in SWEEPABLE:
            decision = lifecycle.decide_sweep(
                ticket, now, lifecycle=policy.lifecycle, sla=policy.sla
            )
        if decision is None:
            wake = lifecycle.next_sweep_at(ticket, lifecycle=policy.lifecycle, sla=policy.sla)
            # Never again at once: an early moment (rounding) is retried a second later.
            later = None if wake is None else max(wake, now + timedelta(seconds=1))
            # Only if nobody moved the ticket or its moment meanwhile (a transition, or a
            # policy change setting it to now, which this policy may predate).
            uow.session.execute(
                update(TicketRow)
                .where(
                    TicketRow.id == row.id,
                    TicketRow.version == row.version,
                    TicketRow.sweep_at == row.sweep_at,
                )
                .values(sweep_at=later)
                .execution_options(synchronize_session=False)
            )
            uow.commit()
            return None
        try:
            service.system_action(uow, ctx, row, decision, now)
            uow.commit()
        except AppError as error:  # another instance or a person got there first
            log.debug("sweep of ticket %s skipped: %s", ticket_id, error.code)
            return None
        return decision.action.value


def retry_later(db: Database, ticket_id: int, now: datetime) -> None:
    """Move a ticket the sweeper failed on ``RETRY_AFTER`` past ``now``, so that it does not
    head every pass's batch — unless its moment was moved past ``now`` meanwhile (a
    transition, or a policy change, which stores a moment of its own)."""
    with db.transaction() as uow:
        uow.session.execute(
            update(TicketRow)
            .where(TicketRow.id == ticket_id, TicketRow.sweep_at <= now)
            .values(sweep_at=now + RETRY_AFTER)
            .execution_options(synchronize_session=False)
        )


def sweep_once(
    db: Database, now: datetime | None = None, batch: int = 200, budget_s: float = 1.0
) -> dict[str, int]:
    """Sweep the due tickets, batch after batch while batches come full and the time budget
    lasts (a backlog — after a policy change, or an instance that was down — drains in a few
    passes instead of 200 tickets per interval)."""
    at = now or utcnow()
    done: dict[str, int] = {}
    started = time.monotonic()
    while True:
        ids = due_ids(db, at, batch)
        for ticket_id in ids:
            try:
                action = sweep_ticket(db, ticket_id, at)
            except OperationalError:
                raise  # the database, not this ticket: the next pass tries again
            except Exception:
                log.exception(
                    "sweep of ticket %s failed; looking at it again in %s", ticket_id, RETRY_AFTER
                )
                retry_later(db, ticket_id, at)
                done["failed"] = done.get("failed", 0) + 1
                continue
            if action:
                done[action] = done.get(action, 0) + 1
        if len(ids) < batch or time.monotonic() - started > budget_s:
            break
    from crowdcx.community import service as community  # community builds on tickets

    escalated = community.auto_escalate(db, at)
    if escalated:
        done["question_escalated"] = escalated
    return done


def housekeep(db: Database, now: datetime | None = None) -> dict[str, int]:
    """Hourly chores (idempotent; on several instances each just finds less to do): drop the
    daily-cap totals of past days, the FAQ import jobs that ended more than
    ``knowledge.jobs.KEEP_FINISHED`` ago and the experts' presence intervals that ended more
    than ``tickets.presence.KEEP`` (twelve weeks) ago, count the search events of the days
    that ended (``search.service.roll_up_events``), and have the sweeper look again at open
    tickets without a sweep moment — a reopened ticket resolved in time has none by right, but so
    would one written by a process of the release before migration 0017 still running
    after it."""
    from crowdcx.knowledge import jobs as imports  # the help center builds on tickets
    from crowdcx.reputation import service as points  # reputation builds on nothing here

    at = now or utcnow()
    done: dict[str, int] = {}
    with db.transaction() as uow:
        pruned = points.prune_cap_totals(uow.session, at)
        imports_pruned = imports.prune_finished(uow.session, at)
        presence_pruned = presence.prune(uow.session, at)
        days_rolled = search.roll_up_events(uow.session, at)
        unset = uow.session.execute(
            update(TicketRow)
            .where(TicketRow.sweep_at.is_(None), TicketRow.status.in_(SWEEPABLE))
            .values(sweep_at=at)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    if pruned:
        done["cap_totals_pruned"] = pruned
    if imports_pruned:
        done["import_jobs_pruned"] = imports_pruned
    if presence_pruned:
        done["presence_pruned"] = presence_pruned
    if unset:
        done["sweep_rechecked"] = int(unset)
    if days_rolled:
        done["search_event_days"] = days_rolled
    return done


class Sweeper:
    """A daemon thread calling :func:`sweep_once` every ``interval`` seconds, and
    :func:`housekeep` every ``housekeeping`` seconds."""

    def __init__(self, db: Database, interval: float = 2.0, housekeeping: float = 3600.0) -> None:
        self.db = db
        self.interval = interval
        self.housekeeping = housekeeping
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crowdcx-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        chores_due = time.monotonic()
        while not self._stop.wait(self.interval):
            try:
                sweep_once(self.db)
            except Exception:
                log.exception("sweeper pass failed")
            if time.monotonic() >= chores_due:
                chores_due = time.monotonic() + self.housekeeping
                try:
                    housekeep(self.db)
                except Exception:
                    log.exception("housekeeping failed")
