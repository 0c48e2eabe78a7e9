"""The reads every post, vote and accept makes find their rows through an index (SQLite's
plan), not by scanning the brand's posts or follows: a brand with 100,000 posts would pay
that scan on each event."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event

from crowdcx.community import activity, engagement, service


def _plan(engine: Engine, stmt: Any, params: dict[str, Any]) -> str:
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


@pytest.mark.parametrize(
    ("stmt", "params", "index"),
    [
        (
            service._posts_since,
            {"brand": 1, "user": 2, "since": datetime(2026, 1, 1, tzinfo=UTC)},
            "brand_author",
        ),
        (activity._counters, {"brand": 1, "user": 2}, "autoindex_community_activity"),
        (activity._languages, {"brand": 1, "user": 2}, "autoindex_community_helped_languages"),
        (engagement._followers, {"brand": 1, "targets": ["4g", "mobile"]}, "follows_target"),
    ],
)
def test_per_author_and_follower_reads_use_an_index(
    sqlite_template: Path, stmt: Any, params: dict[str, Any], index: str
) -> None:
    engine = create_engine(f"sqlite:///{sqlite_template}")
    plan = _plan(engine, stmt(), params)
    engine.dispose()
    assert index in plan, plan
    assert "SCAN" not in plan, plan
