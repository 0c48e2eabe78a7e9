"""Reading a migrated database apart from the application's engine (the migration tests
dispose of it first): its table names and the rows of a query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect, text


def table_names(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return found
