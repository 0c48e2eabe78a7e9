"""Migration 0026 adds quality_reviews and takes it away again, on each backend."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import World
from tests.migration_db import table_names


def test_0026_quality_reviews_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    from tests.quality.test_api import resolve, reviews
    from tests.tickets.test_api import Desk

    desk = Desk(client, world)
    tid = resolve(desk)
    [item] = reviews(desk)
    db.engine.dispose()

    downgrade(database_url, "0025")
    assert "quality_reviews" not in table_names(database_url)
    upgrade(database_url, "heads")
    assert "quality_reviews" in table_names(database_url)
    engine = create_engine(database_url)
    row = {"b": item["id"], "t": tid, "e": desk.experts[0].id}
    insert = text(
        "INSERT INTO quality_reviews (brand_id, ticket_id, expert_id, reasons, state, comment,"
        " created_at) SELECT brand_id, :t, :e, '[]', 'pending', '', created_at FROM tickets"
        " WHERE id = :t"
    )
    with engine.begin() as conn:
        conn.execute(insert, row)
    # One review per ticket and brand: the key the idempotent hooks rely on.
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, row)
    engine.dispose()
