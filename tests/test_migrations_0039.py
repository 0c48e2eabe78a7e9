"""Migration 0039 adds ``quality_reviews.weights`` to a database with decided reviews (which
keep NULL: their weights were not recorded, so they show today's) and takes it away again,
on each backend; a review decided after the upgrade records its weights."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import World
from tests.migration_db import rows
from tests.quality.test_api import GOOD, resolve, reviews
from tests.tickets.test_api import Desk


def _columns(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    names = {str(c["name"]) for c in inspect(engine).get_columns("quality_reviews")}
    engine.dispose()
    return names


def test_0039_review_weights_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    desk = Desk(client, world)
    resolve(desk)
    [item] = reviews(desk)
    db.engine.dispose()
    downgrade(database_url, "0038")
    assert "weights" not in _columns(database_url)
    # A review decided under 0038 (as the code of then wrote it: no weights).
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE quality_reviews SET state = 'done', score = 89, pass_mark = 70 "
            f"WHERE id = {int(item['id'])}"
        )
    engine.dispose()
    upgrade(database_url, "heads")
    assert "weights" in _columns(database_url)
    assert rows(database_url, f"SELECT weights FROM quality_reviews WHERE id = {item['id']}") == [
        (None,)
    ]
    detail = desk.get(f"/quality/reviews/{item['id']}", desk.agent).json()
    assert detail["scorecard_as_decided"] is False

    resolve(desk)
    [pending] = reviews(desk)
    done = desk.post(f"/quality/reviews/{pending['id']}", desk.agent, {"scores": GOOD})
    assert done.status_code == 200, done.text
    sql = f"SELECT weights FROM quality_reviews WHERE id = {int(pending['id'])}"
    [(kept,)] = rows(database_url, sql)
    assert kept is not None
    assert "solved" in str(kept)
