"""The search_event_days migration adds the daily counts of search events and takes them
away again, on each backend; the housekeeping after the upgrade rolls up the past days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.knowledge.models import SearchEvent
from crowdcx.tenancy.service import access_brand
from crowdcx.tickets.sweeper import housekeep
from tests.conftest import World
from tests.migration_db import rows, table_names

REVISION, BEFORE = "0043", "0042"


def test_search_event_days_up_and_down(world: World, db: Database, database_url: str) -> None:
    slug = world.brand()
    now = datetime.now(UTC)
    with db.transaction() as uow:
        brand_id = access_brand(uow.session, slug, None).brand.id
        for days in (3, 3, 2):
            uow.session.add(SearchEvent(brand_id=brand_id, event="shown", source="help",
                                        created_at=now - timedelta(days=days)))  # fmt: skip
        uow.commit()
    db.engine.dispose()

    downgrade(database_url, BEFORE)
    assert "search_event_days" not in table_names(database_url)
    upgrade(database_url, REVISION)
    assert "search_event_days" in table_names(database_url)
    assert rows(database_url, "SELECT COUNT(*) FROM search_event_days") == [(0,)]
    upgrade(database_url, "heads")
    assert housekeep(db, now)["search_event_days"] == 2
    assert rows(database_url, "SELECT n FROM search_event_days ORDER BY day") == [(2,), (1,)]
