"""Migration 0036 adds ``ix_articles_source`` (the articles drafted from a source, by brand,
source and id) to a database that has such articles, and takes it away again, on each
backend; the draft link's query on a ticket's or question's page goes down it (SQLite's
EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.knowledge.service import drafted_from_query
from tests.conftest import World
from tests.migration_db import rows
from tests.query_plans import plan_at
from tests.tickets.test_api import Desk


def _indexes(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    names = {str(i["name"]) for i in inspect(engine).get_indexes("articles")}
    engine.dispose()
    return names


def _plan(database_url: str, brand_id: int, ticket_id: int) -> str:
    """The database's plan for the draft link's query, exactly as SQLAlchemy sends it."""
    return plan_at(database_url, lambda _conn: drafted_from_query(brand_id, "ticket", ticket_id))


def test_0036_article_source_index_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    desk = Desk(client, world)
    expert = desk.experts[0]
    desk.online(expert)
    ticket = desk.ask()
    tid = ticket["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    reply = {"body": "请在设置里忘记此设备后重新连接蓝牙。"}
    assert desk.post(f"/tickets/{tid}/messages", expert, reply).status_code == 201
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    drafted = desk.post(f"/articles/from-ticket/{tid}", desk.agent)
    assert drafted.status_code == 201, drafted.text
    [(brand_id, article_id)] = rows(
        database_url,
        f"SELECT brand_id, id FROM articles WHERE source_id = {int(ticket['id'])}",
    )
    db.engine.dispose()
    assert "ix_articles_source" in _indexes(database_url)
    assert "ix_articles_source" in _plan(database_url, brand_id, ticket["id"])

    downgrade(database_url, "0035")
    assert "ix_articles_source" not in _indexes(database_url)
    assert "ux_articles_source_open" in _indexes(database_url)  # 0030's stays
    assert "ix_articles_source" not in _plan(database_url, brand_id, ticket["id"])
    upgrade(database_url, "heads")
    assert "ix_articles_source" in _indexes(database_url)
    assert "ix_articles_source" in _plan(database_url, brand_id, ticket["id"])
    # The draft is still there, and the ticket's page still links it.
    assert rows(database_url, f"SELECT id FROM articles WHERE source_id = {int(ticket['id'])}") == [
        (article_id,)
    ]
