"""paid_work and work_totals: what each paid ticket counts in its expert's effective hourly
rate (the earning not reversed, the time worked in microseconds, at least a minute) and its
sums per expert and currency, moved in the transaction of each ticket transition that changes
them — so the expert's workspace and earnings page read a row per currency instead of every
posting, every paid ticket's times and the reopened tickets' history on each view.
Back-filled from the ledger and the tickets with the rules the application uses.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 03:40:00
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0041'
down_revision: str | Sequence[str] | None = '0040'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('paid_work',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('earned_minor', sa.BigInteger(), nullable=False),
    sa.Column('counted_us', sa.BigInteger(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_paid_work_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paid_work')),
    sa.UniqueConstraint('brand_id', 'ticket_id', 'account', name=op.f('uq_paid_work_brand_id_ticket_id_account'))
    )
    with op.batch_alter_table('paid_work', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paid_work_brand_id'), ['brand_id'], unique=False)

    op.create_table('work_totals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('earned_minor', sa.BigInteger(), nullable=False),
    sa.Column('counted_us', sa.BigInteger(), nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_work_totals_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_totals')),
    sa.UniqueConstraint('brand_id', 'account', 'currency', name=op.f('uq_work_totals_brand_id_account_currency'))
    )
    with op.batch_alter_table('work_totals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_totals_brand_id'), ['brand_id'], unique=False)

    _backfill()


def _backfill() -> None:
    """Every expert earning not reversed whose ticket was claimed and resolved, with the time
    it counts (``WorkItem.counted_us``: claim → resolution, or the worked stretches of a
    reopened ticket), then their sums — with the pure rules the application uses."""
    from datetime import UTC, datetime

    from crowdcx.kernel.numbers import ascii_int
    from crowdcx.kernel.money import Money
    from crowdcx.payouts.rules import WorkItem, payee_of, worked_periods

    bind = op.get_bind()
    when = crowdcx.kernel.models.UTCDateTime(timezone=True)

    def aware(at: Any) -> Any:
        if isinstance(at, str):  # raw SQLite text, should the type not apply
            at = datetime.fromisoformat(at)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return at

    ledger = sa.table(
        "ledger_postings", sa.column("brand_id"), sa.column("account"), sa.column("kind"),
        sa.column("correlation_key"), sa.column("amount_minor"), sa.column("currency"),
    )
    earned: dict[tuple[int, int, str], Money] = {}
    reversed_: set[tuple[int, int, str]] = set()
    for brand_id, account, kind, key, minor, currency in bind.execute(
        sa.select(ledger.c.brand_id, ledger.c.account, ledger.c.kind, ledger.c.correlation_key,
                  ledger.c.amount_minor, ledger.c.currency)
        .where(ledger.c.account.like("expert:%:earnings"),
               ledger.c.kind.in_(("earning", "reversal")))
    ):
        n = ascii_int(key)
        payee = payee_of(account)
        if n is None or payee is None or payee.kind != "expert":
            continue
        if kind == "reversal":
            reversed_.add((brand_id, n, account))
        else:
            earned[(brand_id, n, account)] = Money(int(minor), currency)
    for k in reversed_:
        earned.pop(k, None)
    if not earned:
        return
    tickets = sa.table(
        "tickets", sa.column("id"), sa.column("brand_id"), sa.column("claimed_at", when),
        sa.column("resolved_at", when),
    )
    steps = sa.table(
        "ticket_transitions", sa.column("id"), sa.column("brand_id"), sa.column("ticket_id"),
        sa.column("action"), sa.column("at", when),
    )
    ids = sorted({n for _b, n, _a in earned})
    times: dict[tuple[int, int], tuple[Any, Any]] = {}
    history: dict[tuple[int, int], list[tuple[str, Any]]] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for tid, brand_id, claimed, resolved in bind.execute(
            sa.select(tickets.c.id, tickets.c.brand_id, tickets.c.claimed_at,
                      tickets.c.resolved_at).where(tickets.c.id.in_(chunk))
        ):
            times[(brand_id, tid)] = (aware(claimed), aware(resolved))
        reopened = sa.select(steps.c.ticket_id).where(
            steps.c.ticket_id.in_(chunk), steps.c.action == "reopen"
        )
        for brand_id, tid, action, at in bind.execute(
            sa.select(steps.c.brand_id, steps.c.ticket_id, steps.c.action, steps.c.at)
            .where(steps.c.ticket_id.in_(reopened)).order_by(steps.c.id)
        ):
            history.setdefault((brand_id, tid), []).append((action, aware(at)))
    rows = []
    for (brand_id, n, account), amount in earned.items():
        claimed, resolved = times.get((brand_id, n), (None, None))
        if claimed is None or resolved is None:
            continue
        has_reopen = any(a == "reopen" for a, _at in history.get((brand_id, n), []))
        periods = worked_periods(history[(brand_id, n)]) if has_reopen else ()
        item = WorkItem(amount, claimed, resolved, periods)
        rows.append({"brand_id": brand_id, "ticket_id": n, "account": account,
                     "currency": amount.currency, "earned_minor": amount.minor,
                     "counted_us": item.counted_us})
    if not rows:
        return
    work = sa.table(
        "paid_work", sa.column("brand_id"), sa.column("ticket_id"), sa.column("account"),
        sa.column("currency"), sa.column("earned_minor"), sa.column("counted_us"),
    )
    op.bulk_insert(work, rows)
    op.execute(
        "INSERT INTO work_totals (brand_id, account, currency, earned_minor, counted_us, tickets)"
        " SELECT brand_id, account, currency, sum(earned_minor), sum(counted_us), count(*)"
        " FROM paid_work GROUP BY brand_id, account, currency"
    )


def downgrade() -> None:
    with op.batch_alter_table('work_totals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_totals_brand_id'))

    op.drop_table('work_totals')
    with op.batch_alter_table('paid_work', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paid_work_brand_id'))

    op.drop_table('paid_work')
