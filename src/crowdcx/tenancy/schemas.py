"""Request and response bodies for brands and members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class BrandSettingsIn(Strict):
    primary_color: str | None = Field(default=None, max_length=7)
    accent_color: str | None = Field(default=None, max_length=7)
    timezone: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    tagline: dict[str, str] | None = None
    membership: str | None = Field(default=None, max_length=20)  # open | invite_only


class BrandSettingsUpdate(Strict):
    primary_color: str | None = Field(default=None, max_length=7)
    accent_color: str | None = Field(default=None, max_length=7)
    timezone: str | None = Field(default=None, max_length=64)
    tagline: dict[str, str] | None = None
    membership: str | None = Field(default=None, max_length=20)  # open | invite_only


class BrandUpdate(Strict):
    """Partial: what is left out stays as it is (the currency is fixed once a brand exists)."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    # The whole new list: add any of the four, remove any but the default.
    locales: list[str] | None = Field(default=None, min_length=1, max_length=4)
    # One of the languages served (after this change): pages nobody chose a language for.
    default_locale: str | None = Field(default=None, max_length=16)
    settings: BrandSettingsUpdate | None = None


class BrandCreate(Strict):
    slug: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=120)
    default_locale: str = Field(max_length=16)
    locales: list[str] = Field(min_length=1, max_length=4)
    settings: BrandSettingsIn | None = None


class BrandOut(BaseModel):
    id: int
    slug: str
    name: str
    default_locale: str
    locales: list[str]
    settings: dict[str, Any]
    created_at: datetime


class BrandPage(BaseModel):
    items: list[BrandOut]
    next_cursor: str | None


class MemberCreate(Strict):
    email: str = Field(min_length=3, max_length=320)
    roles: list[str] = Field(min_length=1, max_length=5)


class RolesUpdate(Strict):
    roles: list[str] = Field(min_length=1, max_length=5)


class MemberOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    roles: list[str]
    since: datetime


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None
