"""Request and response bodies for accounts. Requests refuse unknown fields."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class RegisterIn(Strict):
    # Checked by identity.service.clean_email, as on the sign-up form: EmailStr refused the
    # full-width "＠" the form folds into "@".
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    display_name: str = Field(min_length=1, max_length=80)
    locale: str = Field(default="en", max_length=16)


class TokenIn(Strict):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="", max_length=80)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_at: datetime


class MembershipOut(BaseModel):
    brand_slug: str
    brand_name: str
    roles: list[str]


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    locale: str
    is_platform_admin: bool
    created_at: datetime


class MeOut(UserOut):
    memberships: list[MembershipOut]


class MeUpdate(Strict):
    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    locale: str | None = Field(default=None, max_length=16)
