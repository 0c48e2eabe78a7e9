"""An expert's own earnings: the totals (earned, paid, owed per currency) and the effective
hourly rate, as the workspace shows them (``limit=0``) and as the earnings page and the API
show them with a page of 50 lines; and the write side, ``--writes`` paid tickets reopened and
resolved again through the use case (what keeps the running sums moving). One brand, one expert with ``--tickets`` resolved, paid
tickets (every 9th reopened and resolved again, every 13th reopened and handed to staff, its
earning reversed) and a payout every 500 tickets, seeded straight into the tables; timed
through ``tickets.service.earnings`` as the API and the pages call it. Beside it, in the
same run, a reference that does not grow with anybody's history: the brand's payouts
statement, first page of 50 (``payouts.service.statement_page``, running balances).

    .venv/bin/python bench/expert_earnings.py [--tickets 2000,10000,40000] [--repeat 20]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_earnings]

Without ``--postgres`` only SQLite (a fresh file in a temporary directory); with it, both —
the PostgreSQL database is the bench's own: its ``public`` schema is dropped and made again.
The running sums the new code reads are filled as ``crowdcx rebuild-balances`` mends them
(when the code has them). To measure the code before a change in the same sitting, run
this script from an export of the older commit (``git archive <commit> src bench
migrations``); it only uses what both have.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from _timing import median_p95, timed  # noqa: E402

EXPERT_ID = 900_001
CUSTOMER_ID = 900_002


def seed(db: Any, tickets: int) -> str:
    from sqlalchemy import insert

    from crowdcx.identity.models import User
    from crowdcx.payouts.models import LedgerPosting
    from crowdcx.tenancy import service as tenancy
    from crowdcx.tickets.models import TicketRow, TicketTransitionRow

    with db.transaction() as uow:
        brand = tenancy.create_brand(uow, slug="bench", name="Bench", default_locale="en",
                                     locales=["en"])  # fmt: skip
        brand_id = brand.id
        for uid, name in ((EXPERT_ID, "Expert"), (CUSTOMER_ID, "Customer")):
            uow.session.add(User(id=uid, email=f"{uid}@bench.invalid", password_hash="x",
                                 display_name=name))  # fmt: skip
        uow.session.flush()
        ctx = tenancy.access_brand(uow.session, "bench", None)
        tenancy.add_member(uow, ctx, f"{EXPERT_ID}@bench.invalid", ["expert"])
        tenancy.add_member(uow, ctx, f"{CUSTOMER_ID}@bench.invalid", ["customer"])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    expert, payable = f"expert:{EXPERT_ID}:earnings", f"brand:{brand_id}:payable"
    ticket_rows: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    postings: list[dict[str, Any]] = []
    paid_so_far = earned_so_far = 0

    def post(account_amounts: Any, kind: str, key: str, corr: str, at: datetime) -> None:
        for account, amount in account_amounts:
            postings.append({"brand_id": brand_id, "account": account, "amount_minor": amount,
                             "currency": "USD", "kind": kind, "correlation_key": corr,
                             "idempotency_key": key, "memo": "", "at": at})  # fmt: skip

    def step(tid: int, action: str, frm: str, to: str, role: str, at: datetime) -> None:
        steps.append({"brand_id": brand_id, "ticket_id": tid, "from_state": frm,
                      "to_state": to, "action": action, "actor_role": role,
                      "actor_id": str(EXPERT_ID if role == "expert" else 0), "reason": "",
                      "at": at})  # fmt: skip

    def flush() -> None:
        with db.transaction() as uow:
            for model, rows in ((TicketRow, ticket_rows), (TicketTransitionRow, steps),
                                (LedgerPosting, postings)):  # fmt: skip
                if rows:
                    uow.session.execute(insert(model), rows)
                    rows.clear()

    for i in range(tickets):
        tid = 1_000_000 + i
        created = start + timedelta(minutes=7 * i)
        claimed = created + timedelta(seconds=30 + i % 50)
        resolved = claimed + timedelta(seconds=45 + (i * 37) % 3000)
        quote = 500 + (i * 13) % 2500
        reopened = i % 9 == 4
        handed = i % 13 == 6
        status, last, role, escalated = "closed", resolved, "expert", False
        step(tid, "claim", "offered", "claimed", "expert", claimed)
        step(tid, "resolve", "claimed", "resolved", "expert", resolved)
        post(((payable, -quote), (expert, quote)), "earning", f"earning:{tid}", str(tid), resolved)
        earned_so_far += quote
        if reopened or handed:
            again = resolved + timedelta(hours=3)
            step(tid, "reopen", "resolved", "reopened", "customer", again)
            last = again + timedelta(seconds=200 + i % 400)
            if handed:
                step(tid, "escalate", "reopened", "escalated", "system", last)
                post(((payable, quote), (expert, -quote)), "reversal", f"reversal:{tid}",
                     str(tid), last)  # fmt: skip
                earned_so_far -= quote
                status, role, escalated = "resolved", "agent", True
                last += timedelta(minutes=5)
                step(tid, "resolve", "escalated", "resolved", "agent", last)
            else:
                step(tid, "resolve", "reopened", "resolved", "expert", last)
                status = "resolved"
        ticket_rows.append({
            "id": tid, "brand_id": brand_id, "customer_id": CUSTOMER_ID,
            "subject": f"Order {i} never arrived", "body": "Where is it?", "language": "en",
            "skill": "billing", "customer_fields": {}, "status": status, "rung": [],
            "owner_id": None if status == "closed" else (0 if handed else EXPERT_ID),
            "owner_role": None if status == "closed" else role, "escalated": escalated,
            "claimed_at": claimed, "resolved_at": last, "reopened_at": None,
            "resolved_by": 0 if handed else EXPERT_ID, "resolved_by_role": role,
            "quote_minor": quote, "currency": "USD", "created_at": created,
            "case_started_at": created, "updated_at": last, "version": 4,
        })  # fmt: skip
        if i % 500 == 499 and earned_so_far > paid_so_far:
            amount = (earned_so_far - paid_so_far) // 2
            key = f"payout:{expert}:TX-{i}"
            post(((expert, -amount), (payable, amount)), "payout", key, f"payout:{expert}", last)
            paid_so_far += amount
        if len(postings) > 10_000:
            flush()
    flush()
    return "bench"


def fill_running_sums(db: Any, slug: str) -> list[str]:
    """The running sums, as the rebuild command mends them: the payees' balances (both the
    old and the new code) and, where the code has them, the experts' worked time."""
    from crowdcx.payouts import service as payouts
    from crowdcx.tenancy import service as tenancy
    from crowdcx.tickets import service as tickets

    filled = ["payee_balances"]
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, slug, None)
        payouts.rebuild_balances(uow.session, ctx)
        rebuild_work = getattr(tickets, "rebuild_work", None)
        if rebuild_work is not None:
            rebuild_work(uow.session, ctx)
            filled.append("paid work")
    return filled


def reopen_and_resolve(db: Any, slug: str, writes: int) -> tuple[float, float]:
    """The write side: ``writes`` paid tickets (resolved again before) reopened by the
    customer and resolved again by the expert through ``tickets.service.act``, each step its
    own transaction as over the API; p50/p95 of the pair."""
    from sqlalchemy import select

    from crowdcx.identity.models import User
    from crowdcx.tenancy import service as tenancy
    from crowdcx.tickets import rules as lifecycle
    from crowdcx.tickets import service as tickets
    from crowdcx.tickets.models import TicketRow

    with db.sessions() as session:
        ids = list(session.scalars(
            select(TicketRow.id).where(TicketRow.status == "resolved",
                                       TicketRow.resolved_by_role == "expert")
            .order_by(TicketRow.id.desc()).limit(writes)
        ))  # fmt: skip
    runs = []
    for tid in ids:
        started = time.perf_counter()
        for uid, action, minutes in ((CUSTOMER_ID, lifecycle.Action.REOPEN, 60),
                                     (EXPERT_ID, lifecycle.Action.RESOLVE, 65)):  # fmt: skip
            with db.transaction() as uow:
                user = uow.session.get(User, uid)
                ctx = tenancy.access_brand(uow.session, slug, user)
                row = uow.session.get(TicketRow, tid)
                assert row is not None
                assert row.resolved_at is not None
                at = max(row.resolved_at, row.updated_at) + timedelta(minutes=minutes)
                tickets.act(uow, ctx, user, tid, action, at)
        runs.append((time.perf_counter() - started) * 1000)
    return median_p95(runs)


def measure(url: str, tickets: int, repeat: int, writes: int) -> None:
    from sqlalchemy import create_engine, text

    from crowdcx.identity.models import User
    from crowdcx.kernel.db import Database
    from crowdcx.kernel.migrate import upgrade
    from crowdcx.payouts import service as payouts
    from crowdcx.tenancy import service as tenancy
    from crowdcx.tickets import service as tickets_service

    if url.startswith("postgresql"):  # the bench's own database, whichever code left it
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url, "heads")
    db = Database(url)
    started = time.perf_counter()
    slug = seed(db, tickets)
    filled = fill_running_sums(db, slug)
    seeded = time.perf_counter() - started
    with db.sessions() as session:
        session.execute(text("ANALYZE"))
        session.commit()
        ctx = tenancy.access_brand(session, slug, None)
        user = session.get(User, EXPERT_ID)
        assert user is not None
        tickets_service.clear_caches()
        shown = tickets_service.earnings(session, ctx, user, limit=0)
        figures = {
            "reference: statement, first page of 50": timed(
                lambda: payouts.statement_page(session, ctx, 50), repeat
            ),
            "earnings, totals only (limit=0, workspace)": timed(
                lambda: tickets_service.earnings(session, ctx, user, limit=0), repeat
            ),
            "earnings, totals + newest 50 lines (API, page)": timed(
                lambda: tickets_service.earnings(session, ctx, user, limit=50), repeat
            ),
        }
    figures["write: reopen + resolve again (2 transactions)"] = reopen_and_resolve(db, slug, writes)
    with db.sessions() as session:
        ctx = tenancy.access_brand(session, slug, None)
        user = session.get(User, EXPERT_ID)
        assert user is not None
        after = tickets_service.earnings(session, ctx, user, limit=0)
    db.engine.dispose()
    print(f"{db.engine.dialect.name}, 1 expert × {tickets} paid tickets "
          f"(seeded in {seeded:.0f} s; running sums: {', '.join(filled)}), "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    for name, amounts in (("earned", shown.totals), ("owed", shown.owed),
                          ("hourly", shown.hourly), ("hourly after the writes", after.hourly)):  # fmt: skip
        print(f"  {name}: " + ", ".join(str(v) for v in amounts.values()))
    ref = figures["reference: statement, first page of 50"][0]
    for name, (median, p95) in figures.items():
        print(f"  {name:48s} p50 {median:8.2f} ms   p95 {p95:8.2f} ms   "
              f"× reference {median / ref:7.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", default="2000,10000,40000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--writes", type=int, default=20, help="reopen + resolve pairs timed")
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL to measure there too")
    args = parser.parse_args()
    sizes = [int(n) for n in args.tickets.split(",")]
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            measure(f"sqlite:///{tmp}/bench.db", n, args.repeat, args.writes)
        if args.postgres:
            measure(args.postgres, n, args.repeat, args.writes)


if __name__ == "__main__":
    main()
