"""The brand's sales events, remembered for the capacity plan: left out of the ordinary
week it is planned from, and each past one's lift learned for the next (staffing.rules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crowdcx.kernel.models import Base, BrandOwned, utcnow


class CapacityEventRow(BrandOwned, Base):
    """A sales event: ``hours`` from ``start_at``; ``multiplier`` the traffic expected of it
    (None: the plan learns it from the last past event). Events of a brand never overlap
    (checked on adding, staffing.rules.event_problem)."""

    __tablename__ = "capacity_events"
    __table_args__ = (Index("ix_capacity_events_brand_start", "brand_id", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    start_at: Mapped[datetime]
    hours: Mapped[int]
    multiplier: Mapped[float | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
