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
