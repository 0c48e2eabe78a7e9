"""The money ledger as the shell sees it: write a posting set (checked balanced first); the
brand's statement of what it owes its payees, and recording what it paid them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, case, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crowdcx.identity.models import User
from crowdcx.kernel.db import begin_writing
from crowdcx.kernel.errors import AppError, conflict, invalid
from crowdcx.kernel.i18n import _, format_money
from crowdcx.kernel.money import Money
from crowdcx.kernel.pagination import decode_key_cursor, encode_key_cursor
from crowdcx.knowledge.rules import csv_cell
from crowdcx.notifications.service import notify
from crowdcx.payouts import rules as pay
from crowdcx.payouts.models import LedgerPosting, PayeeBalanceRow, WorkTotalRow
from crowdcx.tenancy.models import Brand
from crowdcx.tenancy.service import BrandContext
from crowdcx.tickets.rules import Violation


def post(session: Session, brand_id: int, posting_set: pay.PostingSet) -> None:
    """Append a balanced posting set, and move its payees' running balances in the same
    transaction; an unbalanced set is a bug, refused before any row. The rows are written
    first: a set posted before fails on its key there, before any balance moves."""
    problems = pay.validate_posting_set(posting_set)
    if problems:
        raise AppError(500, "ledger_unbalanced", problems[0].message)
    for p in posting_set.postings:
        session.add(
            LedgerPosting(
                brand_id=brand_id,
                account=p.account,
                amount_minor=p.amount.minor,
                currency=p.amount.currency,
                kind=p.kind,
                correlation_key=p.correlation_key,
                idempotency_key=p.idempotency_key,
                memo=p.memo[:200],
                at=p.at,
            )
        )
    moves = pay.balance_moves(posting_set.postings)
    if moves:
        session.flush()
        session.execute(
            _balance_upsert(session.get_bind().dialect.name),
            [
                {"brand_id": brand_id, "account": account, "currency": currency,
                 "earned_minor": earned, "paid_minor": paid}
                for (account, currency), (earned, paid) in moves.items()
            ],
        )  # fmt: skip


def _balance_upsert(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO UPDATE SET earned_minor = earned_minor + excluded.…``: the
    database adds to the row as it holds it, so two postings for one payee at once both count
    (on PostgreSQL the second waits for the first's row lock, then adds to its sum). Rows are
    moved in key order (``balance_moves`` sorts): two sets lock shared rows in one order and
    never deadlock."""
    return _adding_upsert(dialect, "payee_balances", ("earned_minor", "paid_minor"))


@cache
def _adding_upsert(dialect: str, table_name: str, sums: tuple[str, ...]) -> Any:
    """The upsert that adds to ``sums`` of a running-sum row keyed (brand, account, currency)."""
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    table = {"payee_balances": PayeeBalanceRow, "work_totals": WorkTotalRow}[table_name].__table__
    assert isinstance(table, Table)
    stmt = insert_(table)
    return stmt.on_conflict_do_update(
        index_elements=["brand_id", "account", "currency"],
        set_={c: table.c[c] + stmt.excluded[c] for c in sums},
    )


# (account, currency) → (earned minor, counted microseconds, tickets) to add to a payee's
# ``work_totals`` row: what their hourly rate sums (``rules.hourly_from_sums``).
WorkMoves = dict[tuple[str, str], tuple[int, int, int]]


def move_work(session: Session, brand_id: int, moves: WorkMoves) -> None:
    """Add ``moves`` to the payees' running work totals in this transaction, in key order (two
    transactions lock shared rows in one order), the database adding to the row as it holds
    it, as :func:`post` moves the balances."""
    if not moves:
        return
    session.flush()
    session.execute(
        _adding_upsert(
            session.get_bind().dialect.name, "work_totals",
            ("earned_minor", "counted_us", "tickets"),
        ),
        [
            {"brand_id": brand_id, "account": account, "currency": currency,
             "earned_minor": minor, "counted_us": micros, "tickets": n}
            for (account, currency), (minor, micros, n) in sorted(moves.items())
        ],
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Settlement: the brand's statement of what it owes, and recording what it paid
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    balance: pay.PayeeBalance
    name: str
    email: str


# The accounts that name a payee (pay.payee_of): an expert's earnings, a member's rewards.
_PAYEE_ACCOUNTS = (
    LedgerPosting.account.like("expert:%:earnings")
    | LedgerPosting.account.like("member:%:credit")
    | LedgerPosting.account.like("member:%:cash")
    | LedgerPosting.account.like("member:%:charity")
)


def _payee_sums(session: Session, ctx: BrandContext) -> Any:
    stmt = ctx.scoped(
        LedgerPosting,
        select(
            LedgerPosting.account,
            LedgerPosting.kind,
            LedgerPosting.currency,
            func.sum(LedgerPosting.amount_minor),
        ),
    )
    stmt = stmt.where(_PAYEE_ACCOUNTS).group_by(
        LedgerPosting.account, LedgerPosting.kind, LedgerPosting.currency
    )
    return ((a, k, c, int(m)) for a, k, c, m in session.execute(stmt))


def _named(session: Session, balances: Iterable[pay.PayeeBalance]) -> list[StatementLine]:
    """The lines with the name and e-mail address the brand pays each payee by."""
    balances = list(balances)
    people: dict[int, tuple[str, str]] = {}
    wanted = sorted({b.payee.user_id for b in balances})
    for start in range(0, len(wanted), 1000):
        for uid, name, email in session.execute(
            select(User.id, User.display_name, User.email).where(
                User.id.in_(wanted[start : start + 1000])
            )
        ):
            people[uid] = (name, email)
    return [StatementLine(b, *people.get(b.payee.user_id, ("", ""))) for b in balances]


def balances_from_ledger(session: Session, ctx: BrandContext) -> list[pay.PayeeBalance]:
    """Every payee's balance summed from the ledger, the truth the running balances
    (``payee_balances``) must always equal; it reads the brand's whole ledger."""
    return pay.statement(_payee_sums(session, ctx))


@dataclass(frozen=True)
class BalanceRepair:
    lines: int  # payee lines the ledger gives
    mended: int  # rows written, added or removed to make the balances equal it


def rebuild_balances(
    session: Session, ctx: BrandContext, *, dry_run: bool = False
) -> BalanceRepair:
    """Make the brand's running balances equal its ledger summed (``crowdcx
    rebuild-balances``): for a database restored in part, or rows written past
    :func:`post`. Postings wait meanwhile — PostgreSQL: a table lock that conflicts with
    their row writes (a posting in flight either committed before the sums are read, or moves
    its rows after this commits); SQLite: the one writer's lock. ``dry_run`` counts what it
    would mend and writes nothing."""
    hold_for_rebuild(session, "payee_balances")
    truth = {
        pay.statement_key(b): (b.earned.minor, b.paid.minor)
        for b in balances_from_ledger(session, ctx)
    }
    stored = {(r.account, r.currency): r for r in session.scalars(ctx.scoped(PayeeBalanceRow))}
    mended = 0
    for (account, currency), (earned, paid) in truth.items():
        row = stored.pop((account, currency), None)
        if row is not None and (row.earned_minor, row.paid_minor) == (earned, paid):
            continue
        mended += 1
        if dry_run:
            continue
        if row is None:
            session.add(PayeeBalanceRow(brand_id=ctx.brand.id, account=account,
                                        currency=currency, earned_minor=earned,
                                        paid_minor=paid))  # fmt: skip
        else:
            row.earned_minor, row.paid_minor = earned, paid
    for row in stored.values():  # a line the ledger does not give
        mended += 1
        if not dry_run:
            session.delete(row)
    return BalanceRepair(len(truth), mended)


def hold_for_rebuild(session: Session, tables: str) -> None:
    """Make writers of running sums wait until this transaction ends — PostgreSQL: a lock of
    ``tables`` that conflicts with their row writes; SQLite: the one writer's lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE"))
    else:
        begin_writing(session)


def _lines(rows: Iterable[Any]) -> list[pay.PayeeBalance]:
    """Statement lines from ``payee_balances`` rows (account, currency, earned, paid)."""
    found = (pay.payee_line(a, c, int(e), int(p)) for a, c, e, p in rows)
    return [line for line in found if line is not None]


def _balances(ctx: BrandContext, owed_only: bool) -> Any:
    """The brand's running balances, (account, currency, earned, paid) in statement order."""
    b = PayeeBalanceRow
    stmt = ctx.scoped(b, select(b.account, b.currency, b.earned_minor, b.paid_minor))
    if owed_only:
        stmt = stmt.where(b.earned_minor > b.paid_minor)
    return stmt.order_by(b.account, b.currency)


def statement(
    session: Session, ctx: BrandContext, *, owed_only: bool = False
) -> list[StatementLine]:
    """Every payee of the brand with what they earned, were paid and are owed, in the
    statement's order (by account, then currency), with the name and e-mail address the
    brand pays them by: the CSV export, whole (a row per payee and currency)."""
    return _named(session, _lines(session.execute(_balances(ctx, owed_only))))


@dataclass(frozen=True)
class StatementPage:
    lines: list[StatementLine]
    owed: dict[str, Money]  # per currency, over the whole statement, not just this page
    count: int  # lines in the whole statement
    next_cursor: str | None
    previous_cursor: str | None  # for ``before``: the page ending where this one starts


_KEY_SHAPE = (str, str)  # pay.StatementKey


def _key(cursor: str | None) -> pay.StatementKey | None:
    key = decode_key_cursor(cursor, _KEY_SHAPE)
    return None if key is None else (str(key[0]), str(key[1]))


def _walk(
    session: Session,
    ctx: BrandContext,
    owed_only: bool,
    want: int,
    *,
    after: pay.StatementKey | None = None,
    before: pay.StatementKey | None = None,
) -> list[pay.PayeeBalance]:
    """Up to ``want`` lines of the statement just after the key ``after``, in its order (or
    just before ``before``, nearest first)."""
    return _lines(session.execute(page_query(ctx, owed_only, want, after=after, before=before)))


def page_query(
    ctx: BrandContext,
    owed_only: bool,
    want: int,
    *,
    after: pay.StatementKey | None = None,
    before: pay.StatementKey | None = None,
) -> Any:
    """The running balances of a page: a range of their (brand, account, currency) index, cut
    by ``LIMIT`` — a page costs its own rows, not the payees' history."""
    b = PayeeBalanceRow
    stmt = _balances(ctx, owed_only)
    key = tuple_(b.account, b.currency)
    if before is not None:
        stmt = stmt.where(key < tuple_(*before))
        stmt = stmt.order_by(None).order_by(b.account.desc(), b.currency.desc())
    elif after is not None:
        stmt = stmt.where(key > tuple_(*after))
    return stmt.limit(want)


def _totals(session: Session, ctx: BrandContext, owed_only: bool) -> tuple[dict[str, Money], int]:
    """What the whole statement owes per currency (a payee paid ahead counts as owed
    nothing) and how many lines it has, summed by the database over the running balances:
    a row per payee and currency, not their history."""
    b = PayeeBalanceRow
    owed = b.earned_minor - b.paid_minor
    stmt = ctx.scoped(
        b, select(b.currency, func.sum(case((owed > 0, owed), else_=0)), func.count())
    ).group_by(b.currency)
    if owed_only:
        stmt = stmt.where(owed > 0)
    totals: dict[str, Money] = {}
    count = 0
    for currency, total, n in session.execute(stmt):
        totals[currency] = Money(int(total), currency)
        count += int(n)
    return dict(sorted(totals.items())), count


def statement_page(
    session: Session,
    ctx: BrandContext,
    limit: int,
    *,
    owed_only: bool = False,
    cursor: str | None = None,
    before: str | None = None,
) -> StatementPage:
    """``limit`` lines of the statement after ``cursor`` (or before ``before``), in its
    order — by payee account, then currency — and the totals of the whole statement. The
    cursors are keys (account, currency), not offsets, and a line's key does not change
    when its payee is paid: a client walking the pages while payouts are recorded meets
    every payee once (one paid off in full before their page is reached drops out of the
    owed-only statement, as they are no longer owed). The page is summed and cut by the
    database (``LIMIT``), not built from every payee's balance."""
    after, until = _key(cursor), _key(before)  # a bad cursor is refused before any read
    if until is not None:
        found = _walk(session, ctx, owed_only, limit + 1, before=until)
        lines = list(reversed(found[:limit]))
        more_before = len(found) > limit
        more_after = bool(lines) and bool(
            _walk(session, ctx, owed_only, 1, after=pay.statement_key(lines[-1]))
        )
    else:
        found = _walk(session, ctx, owed_only, limit + 1, after=after)
        lines = found[:limit]
        more_after = len(found) > limit
        more_before = (
            after is not None
            and bool(lines)
            and bool(_walk(session, ctx, owed_only, 1, before=pay.statement_key(lines[0])))
        )
    owed, count = _totals(session, ctx, owed_only)
    return StatementPage(
        _named(session, lines),
        owed,
        count,
        encode_key_cursor(pay.statement_key(lines[-1])) if more_after else None,
        encode_key_cursor(pay.statement_key(lines[0])) if more_before else None,
    )


def _lock_payouts(session: Session, ctx: BrandContext) -> None:
    """Hold the brand's payouts until commit, so two admins paying the same payee at once
    cannot both pay what is owed once. PostgreSQL: the brand row ``FOR UPDATE``. SQLite: a
    write first (a no-op update of the brand row), which makes this transaction the one
    writer before it reads the balance; a plain read would see the balance as it was before
    another payout that commits in between."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Brand.id).where(Brand.id == ctx.brand.id).with_for_update())
    else:
        session.execute(update(Brand).where(Brand.id == ctx.brand.id).values(slug=Brand.slug))


def _messages() -> dict[str, str]:
    return {
        "payout_reference": _(
            "Give the payout a reference of 1 to 60 characters, such as the bank transfer's."
        ),
        "payout_currency": _("This payee is owed %(currency)s: pay in that currency."),
        "payout_amount": _("Enter an amount above zero."),
        "payout_exceeds_owed": _("Only %(owed)s is owed to this payee."),
    }


@dataclass(frozen=True)
class Payout:
    posting_set: pay.PostingSet
    replayed: bool  # the same payout was recorded before under this reference
    owed_after: Money


def record_payout(
    session: Session,
    ctx: BrandContext,
    account: str,
    amount: Money,
    reference: str,
    at: datetime,
) -> Payout:
    """Record that the brand paid a payee. The same reference for the same payee and amount is
    the same payout (answered again, not paid twice); with another amount it is refused."""
    payee = pay.payee_of(account)
    if payee is None:
        raise invalid("account", _("There is no payee “%(account)s”.") % {"account": account})
    _lock_payouts(session, ctx)
    ref = pay.clean_reference(reference)
    key = pay.payout_key(account, ref)
    earlier = list(
        session.scalars(ctx.scoped(LedgerPosting).where(LedgerPosting.idempotency_key == key))
    )
    mine_only = ctx.scoped(PayeeBalanceRow).where(PayeeBalanceRow.account == account)
    rows = session.scalars(mine_only.order_by(PayeeBalanceRow.currency))
    balances = {
        b.currency: b
        for b in _lines((r.account, r.currency, r.earned_minor, r.paid_minor) for r in rows)
    }
    if earlier:
        mine = next(p for p in earlier if p.account == account)
        if mine.amount_minor != -amount.minor or mine.currency != amount.currency:
            raise conflict(
                "payout_reference_used",
                _(
                    "A payout to this payee was already recorded under this reference, with "
                    "another amount. Use the new transfer's own reference."
                ),
            )
        owed = balances[mine.currency].owed
        return Payout(_as_set(earlier), True, owed)
    balance = balances.get(amount.currency) or next(iter(balances.values()), None)
    if balance is None:
        balance = pay.PayeeBalance(payee, Money.zero(amount.currency), Money.zero(amount.currency))
    decision = pay.decide_payout(str(ctx.brand.id), balance, amount, ref, at)
    if isinstance(decision, Violation):
        template = _messages().get(decision.code)
        # The amount in the reader's way of writing money; `extra` keeps the plain "6.00 RUB".
        shown = {**dict(decision.params), "owed": format_money(balance.owed)}
        detail = template % shown if template else decision.message
        status = 422 if decision.kind == "invalid" else 409
        raise AppError(status, decision.code, detail, field=decision.field,
                       extra=dict(decision.params))  # fmt: skip
    post(session, ctx.brand.id, decision)
    # The payee hears of it (in-app and in their digest): what was paid, under which reference.
    page = "earnings" if payee.kind == "expert" else "community/rewards"
    if session.get(User, payee.user_id) is not None:  # an account closed since is paid, not told
        notify(
            session, ctx.brand.id, [payee.user_id], "paid",
            {"brand": ctx.brand.name, "amount": str(amount), "reference": ref},
            f"/b/{ctx.brand.slug}/{page}", at,
        )  # fmt: skip
    session.flush()
    return Payout(decision, False, balance.owed - amount)


def _as_set(rows: list[LedgerPosting]) -> pay.PostingSet:
    postings = tuple(
        pay.Posting(
            r.account,
            Money(r.amount_minor, r.currency),
            r.kind,  # type: ignore[arg-type]
            r.correlation_key,
            r.idempotency_key,
            r.at,
            r.memo,
        )
        for r in rows
    )
    return pay.PostingSet(rows[0].idempotency_key, rows[0].correlation_key, "payout", postings)


STATEMENT_COLUMNS = (
    "account", "payee_kind", "user_id", "reward_kind", "name", "email", "currency",
    "earned", "paid", "owed",
)  # fmt: skip


def statement_csv(lines: list[StatementLine]) -> str:
    """The statement as CSV: amounts in major units as the currency writes them (12.50), names
    and e-mail addresses never read as a spreadsheet formula."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS)
    for line in lines:
        b = line.balance
        writer.writerow([
            b.payee.account, b.payee.kind, b.payee.user_id, b.payee.reward_kind,
            csv_cell(line.name), csv_cell(line.email), b.currency,
            b.earned.to_decimal(), b.paid.to_decimal(), b.owed.to_decimal(),
        ])  # fmt: skip
    return out.getvalue()
