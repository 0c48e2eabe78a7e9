"""Migration 0040 (policy history) adds policy_changes and takes it away again, on each
backend; after the upgrade a policy save over HTTP writes its row again. The one place the
migration's revision ids are named in the tests (the integrator renumbers them)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import World
from tests.migration_db import rows, table_names

REVISION, DOWN_REVISION = "0040", "0039"
CHANGES = "SELECT kind, user_id FROM policy_changes ORDER BY id"


def test_policy_changes_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    url = f"/api/v1/brands/{slug}/policy"
    assert client.put(url, json={"offer_timeout_s": 300}, headers=admin.auth).status_code == 200
    assert rows(database_url, CHANGES) == [("save", admin.id)]
    db.engine.dispose()

    downgrade(database_url, DOWN_REVISION)
    assert "policy_changes" not in table_names(database_url)
    # The policy itself is kept: the history only starts again.
    assert client.get(url, headers=admin.auth).json()["offer_timeout_s"] == 300
    upgrade(database_url, REVISION)
    assert rows(database_url, CHANGES) == []
    upgrade(database_url, "heads")
    assert client.put(url, json={"offer_timeout_s": 200}, headers=admin.auth).status_code == 200
    assert rows(database_url, CHANGES) == [("save", admin.id)]
    history = client.get(f"{url}/history", headers=admin.auth).json()["items"]
    assert [c["after"] for c in history[0]["changes"]] == [200]
