"""Brands (tenants) and who belongs to them in which roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowdcx.kernel.models import Base, BrandOwned, Timestamped


class Brand(Timestamped, Base):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    default_locale: Mapped[str] = mapped_column(String(16))
    locales: Mapped[list[str]]
    # Presentation and defaults: colours, tagline per locale, time zone, currency.
    settings: Mapped[dict[str, Any]]


class Membership(BrandOwned, Timestamped, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("brand_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    roles: Mapped[list[MembershipRole]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="MembershipRole.role"
    )

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)


class MembershipRole(BrandOwned, Base):
    """One role of one member. A row per role keeps "all experts of brand X" an index scan."""

    __tablename__ = "membership_roles"
    __table_args__ = (UniqueConstraint("membership_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), index=True)
