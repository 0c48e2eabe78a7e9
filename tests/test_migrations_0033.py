"""Migration 0033 adds expert_presence (and opens an interval, at the upgrade, for each
expert online then: their going offline later has one to close), and takes it away again,
on each backend."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import World
from tests.tickets.test_api import Desk


def test_0033_expert_presence_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    desk = Desk(client, world)
    online, offline = desk.experts
    desk.online(online)
    db.engine.dispose()

    def tables() -> set[str]:
        engine = create_engine(database_url)
        names = set(inspect(engine).get_table_names())
        engine.dispose()
        return names

    downgrade(database_url, "0032")
    assert "expert_presence" not in tables()
    before = datetime.now(UTC)
    upgrade(database_url, "heads")
    assert "expert_presence" in tables()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT user_id, online_at, offline_at FROM expert_presence")
        ).all()
    engine.dispose()
    [(user_id, online_at, offline_at)] = rows
    assert (user_id, offline_at) == (online.id, None)
    assert offline.id != user_id
    at = online_at if isinstance(online_at, datetime) else datetime.fromisoformat(online_at)
    assert (at if at.tzinfo else at.replace(tzinfo=UTC)) >= before.replace(microsecond=0)

    # After the upgrade the expert goes offline: the upgrade's interval closes, none opens.
    desk.online(online, False)
    desk.online(offline)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT user_id, offline_at IS NULL FROM expert_presence ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(online.id, False), (offline.id, True)]
