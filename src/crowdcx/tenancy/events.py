"""Domain events of tenancy, published inside a unit of work and handled after commit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MemberAdded:
    brand_id: int
    brand_slug: str
    brand_name: str
    user_id: int
    roles: tuple[str, ...]
