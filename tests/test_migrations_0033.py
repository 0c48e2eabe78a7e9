"""Migration 0033 adds expert_presence (and opens an interval, at the upgrade, for each
expert online then: their going offline later has one to close), and takes it away again,
on each backend."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import World
from tests.migration_db import rows, table_names
from tests.tickets.test_api import Desk


def test_0033_expert_presence_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    desk = Desk(client, world)
    online, offline = desk.experts
    desk.online(online)
    db.engine.dispose()

    downgrade(database_url, "0032")
    assert "expert_presence" not in table_names(database_url)
    before = datetime.now(UTC)
    upgrade(database_url, "heads")
    assert "expert_presence" in table_names(database_url)
    [(user_id, online_at, offline_at)] = rows(
        database_url, "SELECT user_id, online_at, offline_at FROM expert_presence"
    )
    assert (user_id, offline_at) == (online.id, None)
    assert offline.id != user_id
    at = online_at if isinstance(online_at, datetime) else datetime.fromisoformat(online_at)
    assert (at if at.tzinfo else at.replace(tzinfo=UTC)) >= before.replace(microsecond=0)

    # After the upgrade the expert goes offline: the upgrade's interval closes, none opens.
    desk.online(online, False)
    desk.online(offline)
    assert rows(
        database_url, "SELECT user_id, offline_at IS NULL FROM expert_presence ORDER BY id"
    ) == [
        (online.id, False),
        (offline.id, True),
    ]
