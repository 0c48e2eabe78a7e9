"""Migration 0037 widens the readers' marks index to (brand_id, event, created_at, kind,
ref_id, visitor) and adds the deflections' (ticket_id, at, kind, ref_id), on a database with
a deflected ticket and marks, and takes them away again, on each backend. With them the
deflection count's statement, exactly as search.service sends it, reads the marks and their
deflections from the indexes alone (SQLite's EXPLAIN QUERY PLAN: COVERING INDEX; PostgreSQL's
EXPLAIN names the deflections' index and reads the marks through an index: at this size any of
theirs ties, and at scale it is the wider one, bench/deflection_count.py --explain), and its
answer is the same on either side of the migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect
from sqlalchemy.orm import Session

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.search.service import separate_marks
from crowdcx.tenancy.service import access_brand
from tests.conftest import World
from tests.knowledge.test_api import Kb
from tests.knowledge.test_deflection import BLUETOOTH, INQUIRY
from tests.query_plans import plan_at

NEW = ("ix_search_events_brand_event_mark", "ix_ticket_deflections_case")


def _indexes(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    found = inspect(engine)
    names = {str(i["name"]) for t in ("search_events", "ticket_deflections")
             for i in found.get_indexes(t)}  # fmt: skip
    engine.dispose()
    return names


def _count(database_url: str, brand_id: int, since: datetime) -> int:
    """The count of marks apart from tickets' cases, as search.service.deflection reads it."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(separate_marks(Session(conn), brand_id, since)).scalar_one())
    finally:
        engine.dispose()


def _plan(database_url: str, brand_id: int, since: datetime) -> str:
    return plan_at(database_url, lambda conn: separate_marks(Session(conn), brand_id, since))


def test_0037_deflection_count_indexes_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write(*BLUETOOTH)
    kb.publish(aid)
    r = kb.post("/tickets", kb.customer, INQUIRY)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    r = kb.post(f"/tickets/{tid}/deflect", kb.customer, {"kind": "article", "id": aid})
    assert r.status_code == 200, r.text
    mark = {"event": "solved", "kind": "article", "id": str(aid), "source": "help"}
    other = world.member(kb.slug, ["customer"], "另一位")
    for who in (kb.customer, other):  # the customer's own mark is their ticket's case
        assert kb.post("/search/events", who, mark).status_code == 204
    with db.sessions() as s:
        brand_id = access_brand(s, kb.slug, None).brand.id
    since = datetime.now(UTC) - timedelta(days=7)
    db.engine.dispose()

    assert set(NEW) <= _indexes(database_url)
    assert "ix_search_events_brand_event" not in _indexes(database_url)
    assert _count(database_url, brand_id, since) == 1
    plan = _plan(database_url, brand_id, since)
    assert "ix_ticket_deflections_case" in plan, plan
    if database_url.startswith("sqlite"):
        assert "COVERING INDEX ix_search_events_brand_event_mark" in plan, plan
        assert "COVERING INDEX ix_ticket_deflections_case" in plan, plan
    else:  # one brand's two marks: any index of them ties (at scale, bench/deflection_count.py)
        assert "Seq Scan on search_events" not in plan, plan

    downgrade(database_url, "0036")
    assert not set(NEW) & _indexes(database_url)
    assert "ix_search_events_brand_event" in _indexes(database_url)
    assert _count(database_url, brand_id, since) == 1
    assert "COVERING" not in _plan(database_url, brand_id, since)
    upgrade(database_url, "heads")
    assert set(NEW) <= _indexes(database_url)
    assert _count(database_url, brand_id, since) == 1
