"""Migrations build the schema the models describe, on every backend, and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from crowdcx.all_models import metadata
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.kernel.models import RAW_SQL_TABLES


def mapped_only(name: str | None, type_: str, parent_names: object) -> bool:
    """Skip the raw-SQL search index tables (and FTS5's shadow tables) in the comparison."""
    if type_ == "table" and name is not None:
        return not any(name == t or name.startswith(f"{t}_") for t in RAW_SQL_TABLES)
    return True


def test_empty_database_upgrades_to_head_and_matches_the_models(database_url: str) -> None:
    # database_url is already at head (the fixture migrates); go down to nothing and back up.
    downgrade(database_url, "base")
    upgrade(database_url, "heads")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": mapped_only}
        )
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
