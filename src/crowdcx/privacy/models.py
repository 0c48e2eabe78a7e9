"""The erasure audit: who erased whose data, when, and how many tickets were scrubbed — ids
and counts only, never personal data.

``erasures`` is a platform table (an account belongs to no brand, and an account with no
tickets and no membership must leave a record too): one row per erasure of any kind.
``brand_erasures`` ties an erasure to each brand whose data it touched — the one brand of a
brand admin's erasure, or every brand an erased account was a member or ticket customer
of — so a brand admin reads their brand's erasures and nothing else."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crowdcx.kernel.models import Base, BrandOwned


class ErasureRow(Base):
    __tablename__ = "erasures"
    __table_args__ = (Index("ix_erasures_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # whose data
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # who erased
    actor_role: Mapped[str] = mapped_column(String(10))  # customer | staff | platform
    scope: Mapped[str] = mapped_column(String(10))  # account | brand
    tickets_erased: Mapped[int]
    at: Mapped[datetime]


class BrandErasureRow(BrandOwned, Base):
    __tablename__ = "brand_erasures"
    __table_args__ = (
        UniqueConstraint("brand_id", "erasure_id"),
        Index("ix_brand_erasures_brand_user", "brand_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    erasure_id: Mapped[int] = mapped_column(ForeignKey("erasures.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tickets_erased: Mapped[int]  # in this brand
