"""Migration 0031 records on each decided quality review the pass mark it was decided by,
back-filled from each brand's scorecard at the upgrade, and takes it away again."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, inspect, select, text, update

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.tickets.models import BrandPolicyRow
from tests.conftest import World

FOURS = {"solved": 4, "accuracy": 4, "tone": 4, "policy": 4}


def test_0031_back_fills_each_brands_pass_mark_on_decided_reviews(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    from tests.quality.test_api import resolve, reviews
    from tests.tickets.test_api import Desk

    def decided_one(desk: Desk) -> int:
        tid = resolve(desk)
        [item] = reviews(desk)
        r = desk.post(f"/quality/reviews/{item['id']}", desk.agent, {"scores": FOURS})
        assert r.status_code == 200, r.text
        return tid

    lenient = Desk(client, world)  # its policy says 60
    assert lenient.put("/policy", {"quality": {"pass_mark": 60}}, lenient.admin).status_code == 200
    lenient_done = decided_one(lenient)
    lenient_pending = resolve(lenient)
    no_section = Desk(client, world)  # a policy stored before it had a "quality" section
    no_section_done = decided_one(no_section)
    no_policy = Desk(client, world)  # no stored policy at all
    no_policy_done = decided_one(no_policy)
    db.engine.dispose()

    policies = BrandPolicyRow.__table__
    engine = create_engine(database_url)
    with engine.begin() as conn:
        brand_of = dict(conn.execute(text("SELECT id, brand_id FROM tickets")).all())
        data = conn.execute(
            select(policies.c.data).where(policies.c.brand_id == brand_of[no_section_done])
        ).scalar_one()
        data.pop("quality")
        conn.execute(
            update(policies)
            .where(policies.c.brand_id == brand_of[no_section_done])
            .values(data=data)
        )
        conn.execute(delete(policies).where(policies.c.brand_id == brand_of[no_policy_done]))
    engine.dispose()

    def columns() -> set[str]:
        engine = create_engine(database_url)
        names = {c["name"] for c in inspect(engine).get_columns("quality_reviews")}
        engine.dispose()
        return names

    def marks() -> dict[int, int | None]:
        engine = create_engine(database_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT ticket_id, pass_mark FROM quality_reviews")).all()
        engine.dispose()
        return dict(rows)

    assert marks()[lenient_done] == 60  # recorded by the decision itself
    downgrade(database_url, "0030")
    assert "pass_mark" not in columns()
    upgrade(database_url, "heads")
    assert "pass_mark" in columns()
    assert marks() == {
        lenient_done: 60,
        lenient_pending: None,  # decided later, at the mark of that day
        no_section_done: 70,  # quality.rules' default
        no_policy_done: 70,
    }
