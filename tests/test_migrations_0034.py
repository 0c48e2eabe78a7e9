"""Migration 0034 adds ticket_deflections (and gives each ticket deflected before it a row
that names no suggestion, dated by its deflect transition), and takes it away again, on
each backend."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import World
from tests.migration_db import rows, table_names
from tests.tickets.test_api import Desk


def test_0034_ticket_deflections_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    desk = Desk(client, world)
    deflected, still_open = desk.ask()["id"], desk.ask()["id"]
    assert desk.post(f"/tickets/{deflected}/deflect", desk.customer).status_code == 200
    db.engine.dispose()

    [(deflected_at,)] = rows(
        database_url,
        f"SELECT at FROM ticket_transitions WHERE ticket_id = {deflected}"
        " AND to_state = 'deflected'",
    )
    downgrade(database_url, "0033")
    assert "ticket_deflections" not in table_names(database_url)
    upgrade(database_url, "heads")
    assert "ticket_deflections" in table_names(database_url)
    assert rows(database_url, "SELECT ticket_id, kind, ref_id, at FROM ticket_deflections") == [
        (deflected, None, None, deflected_at)
    ]
    assert still_open != deflected

    # After the upgrade the open ticket is deflected too: its own row, none twice.
    assert desk.post(f"/tickets/{still_open}/deflect", desk.customer).status_code == 200
    assert rows(database_url, "SELECT ticket_id FROM ticket_deflections ORDER BY ticket_id") == [
        (deflected,),
        (still_open,),
    ]
