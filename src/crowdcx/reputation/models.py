"""The points ledger shared by the community and the ticket lanes: append-only rows with a
reason; an undo is a new row that names the key it reverses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from crowdcx.kernel.models import Base, BrandOwned


class PointsEntryRow(BrandOwned, Base):
    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("brand_id", "key"),
        Index("ix_points_entries_brand_user_at", "brand_id", "user_id", "at"),
        Index("ix_points_entries_brand_at", "brand_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    key: Mapped[str] = mapped_column(String(120))
    reverses: Mapped[str | None] = mapped_column(String(120), default=None)
    actor_id: Mapped[int | None] = mapped_column(default=None)
    capped: Mapped[bool] = mapped_column(default=False)
    # What moderation took back (hiding) or gave back (restoring): not counted on the daily
    # cap (``rules.PointsEntry.outside_cap``).
    outside_cap: Mapped[bool] = mapped_column(default=False, server_default=false())
    at: Mapped[datetime]


class ReputationTotalRow(BrandOwned, Base):
    """Running totals per user and scope (``all``, ``week:…``, ``month:…``), moved in the
    transaction that appends to the ledger. Leaderboards and cards read these; the ledger
    stays the truth and ``crowdcx recompute-reputation`` rebuilds them from it."""

    __tablename__ = "reputation_totals"
    __table_args__ = (
        UniqueConstraint("brand_id", "scope", "user_id"),
        Index("ix_reputation_totals_rank", "brand_id", "scope", "earned"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(20))
    earned: Mapped[int] = mapped_column(default=0)
    balance: Mapped[int] = mapped_column(default=0)
    # Scope ``all`` only: the highest point count whose levels and privileges the person still
    # holds (demotion only below 90 % of a threshold; ``rules.standing_after``).
    standing: Mapped[int] = mapped_column(default=0, server_default="0")
