"""Reviews of expert resolutions: one per ticket and brand, pending until staff decide it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crowdcx.kernel.models import Base, BrandOwned, utcnow


class QualityReviewRow(BrandOwned, Base):
    """A sampled expert resolution. ``reasons`` says why it was sampled (quality.rules.Reason
    as dicts); ``scores`` holds the scorecard (criterion → 1..5) once decided, ``score`` its
    weighted 0–100, ``pass_mark`` the brand's pass mark and ``weights`` the scorecard's
    criteria and weights (``[[code, weight], …]`` in the card's order) it was decided by, so
    neither whether it passed nor how its score was weighed changes when the brand's
    scorecard does. Decided once: the decision is a conditional update on ``state``."""

    __tablename__ = "quality_reviews"
    __table_args__ = (
        UniqueConstraint("brand_id", "ticket_id"),
        Index("ix_quality_reviews_brand_state", "brand_id", "state", "id"),
        Index("ix_quality_reviews_brand_expert", "brand_id", "expert_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done
    scores: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    score: Mapped[int | None] = mapped_column(default=None)
    pass_mark: Mapped[int | None] = mapped_column(default=None)
    weights: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
