"""Settings from the environment (prefix ``CROWDCX_``). Nothing here runs at import time."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


def _default_database_url() -> str:
    return f"sqlite:///{REPO_ROOT / 'var' / 'crowdcx.db'}"


class Settings(BaseSettings):
    """Everything an operator can set. ``Settings()`` reads the environment; tests pass values."""

    model_config = SettingsConfigDict(env_prefix="CROWDCX_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = Field(default_factory=_default_database_url)
    # A fresh secret per process is safe only for one-process development: sessions do not
    # survive a restart. Production must set CROWDCX_SECRET_KEY.
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=0, ge=0, description="0 = one per CPU core in production")
    # Synchronous request handlers a worker runs at once; 0 = automatic: one per worker in
    # production on SQLite (writes queue for one lock anyway, and a worker's threads only
    # fight over the GIL: bench/inquiry_pipeline.py went from 136 to 310 inquiries/s), else
    # AnyIO's default of 40 (PostgreSQL waits on the network, where threads do help).
    threads: int = Field(default=0, ge=0, le=1000)
    max_body_bytes: int = 1_048_576
    session_days: int = 14
    api_token_days: int = 90
    # "fast" lowers argon2 cost for the test suite only; never use it in production.
    password_hash_profile: Literal["default", "fast"] = "default"  # noqa: S105
    # Cookies only over HTTPS; unset = whenever the public address is https:// (a production
    # behind TLS then needs no extra setting; a local http:// run keeps working).
    cookie_secure: bool | None = None
    log_level: str = "info"
    # Seconds between background sweeps (offer expiry, SLA escalation, auto-close); 0 = off.
    sweep_interval_s: float = Field(default=2.0, ge=0)
    # Seconds between looks for FAQ imports to run (an upload to this process wakes its
    # worker at once; the look finds those uploaded to other processes, and those a process
    # that died left behind); 0 = no import worker in this process.
    import_interval_s: float = Field(default=2.0, ge=0)
    # Outgoing mail for the notification digest (`crowdcx send-digests`, run from cron):
    # smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps://…; unset = no mail.
    smtp_url: str | None = None
    mail_from: str = "CrowdCX <no-reply@crowdcx.invalid>"
    # The address people use to reach this server, for links in mails.
    public_url: str = "http://127.0.0.1:8000"

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgres://")
        elif value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not (value.startswith("sqlite") or value.startswith("postgresql+psycopg://")):
            raise ValueError(
                "CROWDCX_DATABASE_URL must name a sqlite:/// file or a postgresql:// server"
            )
        return value

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.lower().startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def handler_threads(self) -> int | None:
        """The thread limit for synchronous handlers, or None for the framework's default."""
        if self.threads:
            return self.threads
        return 1 if self.env == "production" and self.is_sqlite else None
