"""payee_balances: each payee's running balance per currency (earned, paid), moved in the
transaction that appends their ledger postings, so the payouts statement reads one row per
payee and currency — its pages, totals and count no longer sum every payee's whole ledger.
Back-filled from the ledger (the truth): a payout is a debit of the payee's account and adds
to ``paid``; everything else (earnings, rewards, reversals) to ``earned``. The brand's own
accounts get no row.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07 01:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0038'
down_revision: str | Sequence[str] | None = '0037'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The payee accounts as crowdcx.payouts.rules.payee_of read them when this was written.
PAYEE_ACCOUNTS = ("expert:%:earnings", "member:%:credit", "member:%:cash", "member:%:charity")


def upgrade() -> None:
    op.create_table('payee_balances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('earned_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_minor', sa.BigInteger(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_payee_balances_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payee_balances')),
    sa.UniqueConstraint('brand_id', 'account', 'currency', name=op.f('uq_payee_balances_brand_id_account_currency'))
    )
    with op.batch_alter_table('payee_balances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payee_balances_brand_id'), ['brand_id'], unique=False)

    payee = " OR ".join(f"account LIKE :p{i}" for i in range(len(PAYEE_ACCOUNTS)))
    op.execute(
        sa.text(
            "INSERT INTO payee_balances (brand_id, account, currency, earned_minor, paid_minor)"
            " SELECT brand_id, account, currency,"
            " sum(CASE WHEN kind = :payout THEN 0 ELSE amount_minor END),"
            " -sum(CASE WHEN kind = :payout THEN amount_minor ELSE 0 END)"
            f" FROM ledger_postings WHERE {payee}"
            " GROUP BY brand_id, account, currency"
        ).bindparams(payout="payout", **{f"p{i}": a for i, a in enumerate(PAYEE_ACCOUNTS)})
    )


def downgrade() -> None:
    with op.batch_alter_table('payee_balances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payee_balances_brand_id'))

    op.drop_table('payee_balances')
