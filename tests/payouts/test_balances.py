"""The payees' running balances (``payee_balances``), which the statement reads instead of
summing every payee's ledger on each page: after any sequence of earnings, reversals,
rewards, payouts — refused ones and a posting set sent twice among them — they equal the
ledger summed, and two postings for one payee at once both count."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crowdcx.kernel.db import Database
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.models import utcnow
from crowdcx.kernel.money import Money
from crowdcx.payouts import rules as pay
from crowdcx.payouts import service as ledger
from crowdcx.payouts.models import PayeeBalanceRow
from crowdcx.tenancy import service as tenancy
from crowdcx.tickets.rules import Violation
from tests.conftest import World
from tests.overlapping import second_waits_for_first
from tests.payouts.test_api import _resolve
from tests.tickets.test_api import Desk

Lines = dict[tuple[str, str], tuple[int, int]]


def _running(db: Database, slug: str) -> Lines:
    """The brand's running balances as stored: (account, currency) → (earned, paid)."""
    with db.sessions() as session:
        ctx = tenancy.access_brand(session, slug, None)
        rows = session.execute(
            ctx.scoped(
                PayeeBalanceRow,
                select(PayeeBalanceRow.account, PayeeBalanceRow.currency,
                       PayeeBalanceRow.earned_minor, PayeeBalanceRow.paid_minor),
            )
        )  # fmt: skip
        return {(a, c): (int(e), int(p)) for a, c, e, p in rows}


def _from_ledger(db: Database, slug: str) -> Lines:
    """The same summed from the brand's ledger, the truth."""
    with db.sessions() as session:
        ctx = tenancy.access_brand(session, slug, None)
        return {
            pay.statement_key(b): (b.earned.minor, b.paid.minor)
            for b in ledger.balances_from_ledger(session, ctx)
        }


def _post(db: Database, slug: str, posting_set: pay.PostingSet) -> None:
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, slug, None)
        ledger.post(uow.session, ctx.brand.id, posting_set)


@pytest.mark.parametrize("seed", [1, 2])
def test_running_balances_equal_the_ledger_after_a_random_sequence_of_operations(
    client: TestClient, world: World, db: Database, seed: int
) -> None:
    slug = world.brand()
    with db.sessions() as session:
        brand_id = str(tenancy.access_brand(session, slug, None).brand.id)
    rnd = random.Random(seed)
    posted: list[pay.PostingSet] = []
    history: list[pay.Posting] = []
    expected: Lines = {}  # what the committed sets moved, kept by the test itself
    refused = replayed = 0

    def committed(ps: pay.PostingSet) -> None:
        posted.append(ps)
        history.extend(ps.postings)
        for key, (earned, paid) in pay.balance_moves(ps.postings).items():
            e, p = expected.get(key, (0, 0))
            expected[key] = (e + earned, p + paid)

    for n in range(60):
        currency = rnd.choice(["USD", "USD", "EUR"])
        step = rnd.choice(["earn", "earn", "reverse", "reward", "pay", "pay", "again"])
        decided: pay.PostingSet | Violation | None = None
        if step == "earn":
            amount = Money(rnd.randrange(0, 5000), currency)
            expert = str(rnd.randrange(3))
            decided = pay.decide_earning(f"t{n}", brand_id, expert, False, amount, [], utcnow())
        elif step == "reverse":
            earned = [ps for ps in posted if ps.kind == "earning"]
            if earned:
                ticket = rnd.choice(earned).correlation_key
                decided = pay.decide_reversal(ticket, history, utcnow())
        elif step == "reward":
            kind = rnd.choice(["cash", "credit", "charity"])
            amount = Money(rnd.randrange(1, 3000), currency)
            decided = pay.post_reward(
                str(n), brand_id, str(rnd.randrange(3)), kind, amount, utcnow()
            )
        elif step == "pay" and expected:
            account, cur = rnd.choice(sorted(expected))
            owed = expected[(account, cur)][0] - expected[(account, cur)][1]
            amount = Money(rnd.randrange(1, max(2, owed + 500)), cur)  # now and then too much
            try:
                with db.transaction() as uow:
                    ctx = tenancy.access_brand(uow.session, slug, None)
                    done = ledger.record_payout(uow.session, ctx, account, amount, f"TX-{n}",
                                                utcnow())  # fmt: skip
                committed(done.posting_set)
            except AppError:
                refused += 1
                assert amount.minor > owed
        elif step == "again" and posted:
            try:  # a posting set sent twice is refused on its key, and moves nothing
                _post(db, slug, rnd.choice(posted))
            except IntegrityError:
                replayed += 1
        if isinstance(decided, pay.PostingSet):
            _post(db, slug, decided)
            committed(decided)
        assert _running(db, slug) == expected
    assert refused  # the sequence met each kind of step (seeds chosen so)
    assert replayed
    assert any(ps.kind == "reversal" for ps in posted)
    assert _running(db, slug) == _from_ledger(db, slug) == expected


def test_two_postings_for_one_payee_at_once_both_count(
    client: TestClient, world: World, db: Database
) -> None:
    """The first transaction has moved the payee's balance and not committed when the second
    posts for the same payee: the second waits for it (PostgreSQL: the row's lock; SQLite:
    the one writer), then adds to what the first left. Read, add and write back in the
    service would have lost the first's 100."""
    slug = world.brand()
    with db.sessions() as session:
        brand_id = str(tenancy.access_brand(session, slug, None).brand.id)
    earlier = pay.decide_earning("0", brand_id, "7", False, Money(1, "USD"), [], utcnow())
    assert isinstance(earlier, pay.PostingSet)
    _post(db, slug, earlier)  # the payee's row is there: both transactions update it

    def earn(ticket: str, minor: int, pause: Callable[[], None] | None = None) -> None:
        decided = pay.decide_earning(ticket, brand_id, "7", False, Money(minor, "USD"), [],
                                     utcnow())  # fmt: skip
        assert isinstance(decided, pay.PostingSet)
        with db.transaction() as uow:
            ctx = tenancy.access_brand(uow.session, slug, None)
            ledger.post(uow.session, ctx.brand.id, decided)
            if pause is not None:
                pause()

    second_waits_for_first(lambda pause: earn("a", 100, pause), lambda: earn("b", 20))
    account = pay.expert_earnings_account("7")
    assert _running(db, slug) == _from_ledger(db, slug) == {(account, "USD"): (121, 0)}


def test_a_resolved_ticket_and_a_payout_over_http_move_the_running_balance(
    client: TestClient, world: World, db: Database
) -> None:
    desk = Desk(client, world)
    rate = _resolve(desk, 1)
    account = pay.expert_earnings_account(str(desk.experts[0].id))
    currency = next(c for a, c in _running(db, desk.slug) if a == account)
    assert _running(db, desk.slug) == {(account, currency): (rate, 0)}
    paid = client.post(f"/api/v1/brands/{desk.slug}/payouts", headers=desk.admin.auth, json={
        "account": account, "amount_minor": 1, "currency": currency, "reference": "TX-1",
    })  # fmt: skip
    assert paid.status_code == 201, paid.text
    assert (
        _running(db, desk.slug) == _from_ledger(db, desk.slug) == {(account, currency): (rate, 1)}
    )


def test_rebuild_balances_mends_them_to_the_ledger(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    """`crowdcx rebuild-balances`: balances gone wrong (a partial restore, a row written past
    the application) are found by --dry-run, which writes nothing, and mended to the
    ledger's sums — a wrong row, a missing one and one the ledger does not give."""
    from sqlalchemy import delete, update
    from typer.testing import CliRunner

    from crowdcx.cli import app as cli

    desk = Desk(client, world)
    rate = _resolve(desk, 2)
    truth = _from_ledger(db, desk.slug)
    assert _running(db, desk.slug) == truth
    stranger = (pay.expert_earnings_account("999999"), "USD")
    with db.transaction() as uow:
        brand_id = tenancy.access_brand(uow.session, desk.slug, None).brand.id
        uow.session.execute(update(PayeeBalanceRow).values(earned_minor=rate + 7))
        account, currency = stranger
        uow.session.add(
            PayeeBalanceRow(brand_id=brand_id, account=account, currency=currency, earned_minor=5)
        )
    broken = _running(db, desk.slug)
    env = {"CROWDCX_DATABASE_URL": database_url}

    def run(*extra: str) -> Any:
        return CliRunner().invoke(cli, ["rebuild-balances", "--brand", desk.slug, *extra], env=env)

    checked = run("--dry-run")
    assert checked.exit_code == 1, checked.output
    assert f"{len(truth)} payee lines in the ledger; 2 differ from it" in checked.output
    assert _running(db, desk.slug) == broken  # nothing written
    mended = run()
    assert mended.exit_code == 0, mended.output
    assert "2 mended to match it" in mended.output
    assert _running(db, desk.slug) == truth
    assert run("--dry-run").exit_code == 0  # nothing left to mend
    with db.transaction() as uow:  # a line lost altogether comes back
        uow.session.execute(delete(PayeeBalanceRow))
    assert run().exit_code == 0
    assert _running(db, desk.slug) == truth


def _plan(db: Database, stmt: Any) -> str:
    """The database's plan for ``stmt`` (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN with
    sequential scans priced out: a test brand's rows fit one page, and the question is whether
    the index serves the query, not whether it beats reading a page)."""
    sqlite = db.engine.dialect.name == "sqlite"
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        if not sqlite:
            conn.exec_driver_sql("SET enable_seqscan = off")
        found = conn.exec_driver_sql(f"{'EXPLAIN QUERY PLAN' if sqlite else 'EXPLAIN'} {sql}")
        return " | ".join(str(r[-1]) for r in found)


def test_a_page_is_a_range_of_the_running_balances_index_either_way(
    client: TestClient, world: World, db: Database
) -> None:
    slug = world.brand()
    with db.sessions() as session:
        ctx = tenancy.access_brand(session, slug, None)
    key = (pay.expert_earnings_account("50"), "USD")
    for kwargs in ({"after": key}, {"before": key}):
        plan = _plan(db, ledger.page_query(ctx, True, 101, **kwargs))
        if db.engine.dialect.name == "sqlite":
            assert "USING INDEX sqlite_autoindex_payee_balances" in plan, plan
            assert "(account,currency)" in plan, plan  # the key's range, not a filter
        else:
            assert "Index Scan" in plan, plan
            assert "uq_payee_balances_brand_id_account_currency" in plan, plan
            assert "Index Cond: ((brand_id = " in plan, plan
            assert "ROW((account)::text, (currency)::text)" in plan, plan
