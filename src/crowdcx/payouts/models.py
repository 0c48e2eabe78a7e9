"""The money ledger: double-entry postings in integer minor units. Earnings (tickets),
reversals and rewards (community) all land here; a posting set shares one idempotency key,
so posting it twice is impossible."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crowdcx.kernel.models import Base, BrandOwned


class LedgerPosting(BrandOwned, Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        UniqueConstraint("brand_id", "idempotency_key", "account"),
        Index("ix_ledger_postings_brand_account", "brand_id", "account"),
        Index("ix_ledger_postings_brand_correlation", "brand_id", "correlation_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(80))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(20))
    correlation_key: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(120))
    memo: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime]


class PayeeBalanceRow(BrandOwned, Base):
    """A payee's running balance in one currency (``rules.balance_moves``): what they earned
    (earnings and rewards less reversals) and were paid, moved by the database
    (``SET earned_minor = earned_minor + …``) in the transaction that appends their postings.
    The statement reads these, one row per line, whatever the payee's history; the ledger
    stays the truth (``service.balances_from_ledger``). Payees only: the brand's own accounts
    would be one row that every posting of the brand waits on."""

    __tablename__ = "payee_balances"
    __table_args__ = (UniqueConstraint("brand_id", "account", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3))
    earned_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class PaidWorkRow(BrandOwned, Base):
    """One paid ticket as the payee's hourly rate counts it (``rules.WorkItem``): the earning
    (not reversed) and the time worked on it in microseconds, at least a minute. Written when
    a transition changes what the ticket counts — its earning, its reversal, a reopening and
    the resolution after it — and summed, moved by the difference, into ``work_totals``."""

    __tablename__ = "paid_work"
    __table_args__ = (UniqueConstraint("brand_id", "ticket_id", "account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int]
    account: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3))
    earned_minor: Mapped[int] = mapped_column(BigInteger)
    counted_us: Mapped[int] = mapped_column(BigInteger)


class WorkTotalRow(BrandOwned, Base):
    """A payee's ``paid_work`` summed per currency (``rules.hourly_from_sums``), moved by the
    database (``SET counted_us = counted_us + …``) in the transaction that changes a ticket's
    row there: the expert's hourly rate reads one row per currency, whatever their history."""

    __tablename__ = "work_totals"
    __table_args__ = (UniqueConstraint("brand_id", "account", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3))
    earned_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    counted_us: Mapped[int] = mapped_column(BigInteger, default=0)
    tickets: Mapped[int] = mapped_column(default=0)
