"""Alembic environment: the URL comes from the caller (``crowdcx migrate``, tests) or from
CROWDCX_DATABASE_URL. SQLite uses batch mode so ALTERs work."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy.exc import SAWarning

from crowdcx.all_models import metadata
from crowdcx.config import Settings
from crowdcx.kernel.db import make_engine

config = context.config

# SQLite's reflection cannot read expression indexes (ix_community_posts_popular / _score,
# migration 0016). A batch migration reflects the tables a foreign key names and warns on
# every `crowdcx migrate` and `make run`; it recreates none of those tables, and a test
# checks the indexes survive a full upgrade (tests/test_migrations.py).
warnings.filterwarnings(
    "ignore", r"Skipped unsupported reflection of expression-based index", SAWarning
)
url = (
    config.attributes.get("database_url")
    or config.get_main_option("sqlalchemy.url")
    or Settings().database_url
)


def mapped_only(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate ignores the raw-SQL search index tables (kernel.models.RAW_SQL_TABLES)."""
    from crowdcx.kernel.models import RAW_SQL_TABLES

    if type_ == "table" and name is not None:
        return not any(name == t or name.startswith(f"{t}_") for t in RAW_SQL_TABLES)
    return True


def run_migrations_offline() -> None:
    context.configure(
        include_name=mapped_only,
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode drops a column by rebuilding the table (copy, DROP TABLE, rename); with
        # foreign keys on, that DROP cascades to every child row (downgrading 0017 emptied
        # the tickets' history, 0006 the communities' posts). Alembic's advice: keep them off
        # while migrating. The pragma only takes effect outside a transaction.
        _foreign_keys(connection, "OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
            compare_type=True,
            include_name=mapped_only,
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()
    finally:
        if sqlite:
            _foreign_keys(connection, "ON")


def _foreign_keys(connection, state: str) -> None:  # type: ignore[no-untyped-def]
    if connection.in_transaction():
        connection.commit()
    connection.exec_driver_sql(f"PRAGMA foreign_keys={state}")
    if connection.in_transaction():
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
