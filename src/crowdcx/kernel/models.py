"""The ORM base: typed columns, a constraint naming convention, UTC timestamps, and the
``BrandOwned`` mixin that every brand-owned table uses (a test walks the metadata to prove it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class BrandOwned:
    """Mixin for every table whose rows belong to one brand."""

    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Tables that belong to the platform, not to a brand. Anything else must carry brand_id.
PLATFORM_TABLES = frozenset(
    {"brands", "users", "auth_tokens", "login_throttles", "erasures"}  # erasures: privacy.models
)

# Tables made by raw SQL in migrations, not mapped (the search index: crowdcx.search.index),
# in the order they can be dropped. search_fts is an FTS5 index keyed by search_document.id;
# the others carry brand_id.
RAW_SQL_TABLES: tuple[str, ...] = ("search_fts", "search_term", "search_stats", "search_document")
