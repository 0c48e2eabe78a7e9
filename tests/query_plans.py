"""The database's query plan for a statement exactly as SQLAlchemy sends it: tests that a hot
read finds its rows through an index instead of scanning a brand's rows; and the statements
a request sends, for tests that count or read them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

_EXPLAINED = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")


@contextmanager
def recording(engine: Engine) -> Iterator[list[str]]:
    """While open, the SQL of every statement sent on ``engine``, in order."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


@contextmanager
def explaining(engine: Engine) -> Iterator[None]:
    """While open, each query or change on ``engine`` (SELECT, WITH, INSERT, UPDATE, DELETE)
    returns its plan instead of running (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN),
    the same SQL with the same bound values; settings (SET) run as they are."""
    verb = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"

    def explain(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any,
                executemany: bool) -> tuple[str, Any]:  # fmt: skip
        if not sql.lstrip().upper().startswith(_EXPLAINED):
            return sql, parameters
        return f"{verb} {sql}", parameters

    event.listen(engine, "before_cursor_execute", explain, retval=True)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", explain)


def plan(engine: Engine, stmt: Any, params: dict[str, Any]) -> str:
    """SQLite's plan for ``stmt`` as SQLAlchemy sends it (same SQL, same bound values)."""
    with explaining(engine), engine.connect() as conn:
        return " | ".join(str(r[-1]) for r in conn.execute(stmt, params))


def plan_at(database_url: str, statement: Callable[[Connection], Any]) -> str:
    """The plan for the SELECT that ``statement`` makes for a connection, on a database
    read apart from the application's engine (migration tests). On PostgreSQL sequential
    scans are priced out: a test brand's few rows fit one page, and the question is whether
    an index serves the query, not whether it beats reading a page."""
    engine = create_engine(database_url)
    try:
        with explaining(engine), engine.connect() as conn:
            if engine.dialect.name != "sqlite":
                conn.exec_driver_sql("SET enable_seqscan = off")
            return " | ".join(str(r[-1]) for r in conn.execute(statement(conn)))
    finally:
        engine.dispose()
