"""SQLite's query plan for a statement exactly as SQLAlchemy sends it: tests that a hot read
finds its rows through an index instead of scanning a brand's rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


def plan(engine: Engine, stmt: Any, params: dict[str, Any]) -> str:
    """SQLite's plan for ``stmt`` as SQLAlchemy sends it (same SQL, same bound values)."""

    def explain(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any,
                executemany: bool) -> tuple[str, Any]:  # fmt: skip
        return f"EXPLAIN QUERY PLAN {sql}", parameters

    event.listen(engine, "before_cursor_execute", explain, retval=True)
    try:
        with engine.connect() as conn:
            return " | ".join(str(r[-1]) for r in conn.execute(stmt, params))
    finally:
        event.remove(engine, "before_cursor_execute", explain)
