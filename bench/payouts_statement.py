"""The payouts statement a page at a time: one brand with ``--payees`` payees (experts and
members, one currency) and ``--postings`` ledger rows each (earnings, a reversal now and
then, payouts), read through ``payouts.service.statement_page`` as the API and the page call
it: the first page and a page from the middle (by its cursor), ``--repeat`` times each, and
the CSV export (every payee). Since the ninth session they read the running balances
(``payee_balances``, a row per payee and currency), which the seed fills from the ledger as
migration 0038 does; beside them, what summing the payees' ledger costs (what every page
did for its totals until then, and the CSV). A page should cost the same whatever the
payees' history: compare the default with a long history (``--payees 2000 --postings 200``).

    .venv/bin/python bench/payouts_statement.py [--payees 20000] [--postings 10] [--repeat 20]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]

Without ``--database-url`` a fresh SQLite file in a temporary directory. To measure the code
before a change in the same sitting, run this script from an export of the older commit
(``git archive <commit> src bench migrations``).
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from _timing import timed  # noqa: E402


def seed(db: Any, payees: int, postings: int) -> str:
    from sqlalchemy import case, func, insert, select

    from crowdcx.payouts.models import LedgerPosting, PayeeBalanceRow
    from crowdcx.tenancy import service as tenancy

    with db.transaction() as uow:
        brand = tenancy.create_brand(uow, slug="bench", name="Bench", default_locale="en",
                                     locales=["en"])  # fmt: skip
        brand_id = brand.id
    rnd = random.Random(7)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    n = 0
    for i in range(payees):
        account = (f"expert:{10_000 + i}:earnings" if i % 2 else
                   f"member:{10_000 + i}:{rnd.choice(['cash', 'credit', 'charity'])}")  # fmt: skip
        for j in range(postings):
            n += 1
            kind = "payout" if j % 4 == 3 else ("reversal" if j % 7 == 6 else "earning")
            minor = rnd.randrange(100, 5000)
            signed = -minor if kind in ("payout", "reversal") else minor
            for acc, amount in ((account, signed), (f"brand:{brand_id}:payable", -signed)):
                rows.append({"brand_id": brand_id, "account": acc, "amount_minor": amount,
                             "currency": "USD", "kind": kind, "correlation_key": f"c{n}",
                             "idempotency_key": f"k{n}", "memo": "", "at": at})  # fmt: skip
        if len(rows) > 20_000:
            with db.transaction() as uow:
                uow.session.execute(insert(LedgerPosting), rows)
            rows = []
    if rows:
        with db.transaction() as uow:
            uow.session.execute(insert(LedgerPosting), rows)
    with db.transaction() as uow:  # the running balances, as migration 0038 back-fills them
        is_payout = LedgerPosting.kind == "payout"
        amount = LedgerPosting.amount_minor
        uow.session.execute(
            insert(PayeeBalanceRow).from_select(
                ["brand_id", "account", "currency", "earned_minor", "paid_minor"],
                select(
                    LedgerPosting.brand_id, LedgerPosting.account, LedgerPosting.currency,
                    func.sum(case((is_payout, 0), else_=amount)),
                    -func.sum(case((is_payout, amount), else_=0)),
                )
                .where(LedgerPosting.brand_id == brand_id,
                       LedgerPosting.account.not_like("brand:%"))
                .group_by(LedgerPosting.brand_id, LedgerPosting.account, LedgerPosting.currency),
            )
        )  # fmt: skip
    return "bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payees", type=int, default=20_000)
    parser.add_argument("--postings", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from sqlalchemy import text

    from crowdcx.kernel.db import Database
    from crowdcx.kernel.migrate import downgrade, upgrade
    from crowdcx.payouts import service
    from crowdcx.tenancy import service as tenancy

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{tmp.name}/bench.db"
    if args.database_url:
        downgrade(url, "base")
    upgrade(url, "heads")
    db = Database(url)
    slug = seed(db, args.payees, args.postings)
    with db.sessions() as session:
        if db.engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE ledger_postings"))
            session.execute(text("ANALYZE payee_balances"))
        else:
            session.execute(text("ANALYZE"))
        session.commit()
        ctx = tenancy.access_brand(session, slug, None)
        first = service.statement_page(session, ctx, 100)
        cursor = first.next_cursor
        for _ in range(args.payees // 200):  # halfway through
            cursor = service.statement_page(session, ctx, 100, cursor=cursor).next_cursor

        figures = {
            "the payees' ledger summed (every payee)": timed(
                lambda: service.balances_from_ledger(session, ctx), args.repeat
            ),
            "first page": timed(lambda: service.statement_page(session, ctx, 100), args.repeat),
            "middle page": timed(
                lambda: service.statement_page(session, ctx, 100, cursor=cursor), args.repeat
            ),
            "middle page, owed only": timed(
                lambda: service.statement_page(session, ctx, 100, owed_only=True, cursor=cursor),
                args.repeat,
            ),
            "middle page's lines only, no totals": timed(
                lambda: service._walk(session, ctx, False, 101, after=service._key(cursor)),
                args.repeat,
            ),
            "CSV export (every payee)": timed(
                lambda: service.statement_csv(service.statement(session, ctx)),
                max(3, args.repeat // 5),
            ),
        }
    db.engine.dispose()
    print(f"{db.engine.dialect.name}, {args.payees} payees × {args.postings} postings "
          f"({args.payees * args.postings * 2} ledger rows), {platform.python_version()}")  # fmt: skip
    for name, (median, p95) in figures.items():
        print(f"  {name:48s} median {median:8.1f} ms   p95 {p95:8.1f} ms")


if __name__ == "__main__":
    main()
