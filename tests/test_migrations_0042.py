"""The capacity_events migration adds the brand's sales events and takes them away again,
on each backend; events added over HTTP after the upgrade are stored and listed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import World
from tests.migration_db import rows, table_names

REVISION, BEFORE = "0042", "0041"
EVENT = {"name": "Black Friday", "start": "2026-11-27T00:00", "hours": 24, "multiplier": 8}


def test_capacity_events_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    url = f"/api/v1/brands/{slug}/capacity/events"
    assert client.post(url, headers=admin.auth, json=EVENT).status_code == 201
    assert rows(database_url, "SELECT name, hours, multiplier FROM capacity_events") == [
        ("Black Friday", 24, 8.0)
    ]
    db.engine.dispose()

    downgrade(database_url, BEFORE)
    assert "capacity_events" not in table_names(database_url)
    upgrade(database_url, REVISION)
    assert "capacity_events" in table_names(database_url)
    upgrade(database_url, "heads")
    assert client.get(url, headers=admin.auth).json()["events"] == []
    assert client.post(url, headers=admin.auth, json=EVENT).status_code == 201
    assert [e["name"] for e in client.get(url, headers=admin.auth).json()["events"]] == [
        "Black Friday"
    ]
