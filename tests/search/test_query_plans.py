"""The search service's own reads go through an index at any brand size."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from crowdcx.search import service
from tests.query_plans import plan


def test_snippet_bodies_are_read_by_the_unique_key(sqlite_template: Path) -> None:
    """The results' bodies: an OR of (kind, ref_id) pairs made SQLite read every document of
    the brand through its (brand_id, visibility) index (~90 ms a search at 100,000)."""
    engine = create_engine(f"sqlite:///{sqlite_template}")
    found = plan(engine, service._BODIES, {"brand_id": 1, "kind": "article", "refs": ["1", "2"]})
    engine.dispose()
    assert "autoindex_search_document" in found, found
    assert "SCAN" not in found, found
