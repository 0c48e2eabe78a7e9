"""Alembic environment: the URL comes from the caller (``crowdcx migrate``, tests) or from
CROWDCX_DATABASE_URL. SQLite uses batch mode so ALTERs work."""

from __future__ import annotations

from alembic import context

from crowdcx.all_models import metadata
from crowdcx.config import Settings
from crowdcx.kernel.db import make_engine

config = context.config
url = (
    config.attributes.get("database_url")
    or config.get_main_option("sqlalchemy.url")
    or Settings().database_url
)


def run_migrations_offline() -> None:
    context.configure(
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
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
