"""Migration 0029 adds the erasure audit (erasures, brand_erasures) and takes it away again,
on each backend."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import PASSWORD, World
from tests.migration_db import table_names


def test_0029_erasure_audit_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    slug = world.brand()
    person = world.member(slug, ["customer"], "Erased Person")
    r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=person.auth)
    assert r.status_code == 200, r.text
    db.engine.dispose()

    downgrade(database_url, "0028")
    assert not {"erasures", "brand_erasures"} & table_names(database_url)
    upgrade(database_url, "heads")
    assert {"erasures", "brand_erasures"} <= table_names(database_url)
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO erasures (user_id, actor_id, actor_role, scope, tickets_erased, at)"
                " VALUES (:u, :u, 'customer', 'account', 0, CURRENT_TIMESTAMP)"
            ),
            {"u": person.id},
        )
        n = conn.execute(text("SELECT count(*) FROM erasures")).scalar()
    assert n == 1
    engine.dispose()
