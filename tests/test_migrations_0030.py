"""Migration 0030 adds articles.source_kind and source_id with one open draft per source
(``ux_articles_source_open``) to a database that has articles, and takes them away again,
on each backend."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import World

# A copy of article :id drafted from ticket 424242, in state :state, published or not.
COPY = text(
    "INSERT INTO articles (brand_id, language, title, body, tags, skills, visibility, state,"
    " version, helpful, unhelpful, views, created_at, updated_at, published_at, source_kind,"
    " source_id) SELECT brand_id, language, title, body, tags, skills, visibility, :state,"
    " version, 0, 0, 0, created_at, updated_at, :published, 'ticket', 424242 FROM articles"
    " WHERE id = :id"
)


def test_0030_article_sources_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    slug = world.brand()
    agent = world.member(slug, ["agent"])
    body = {"title": "Roaming abroad", "body": "Turn on roaming in the settings.",
            "language": "en", "visibility": "public", "tags": []}  # fmt: skip
    r = client.post(f"/api/v1/brands/{slug}/articles", json=body, headers=agent.auth)
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    db.engine.dispose()

    def columns() -> set[str]:
        engine = create_engine(database_url)
        names = {c["name"] for c in inspect(engine).get_columns("articles")}
        engine.dispose()
        return names

    def indexes() -> set[str]:
        engine = create_engine(database_url)
        names = {str(i["name"]) for i in inspect(engine).get_indexes("articles")}
        engine.dispose()
        return names

    downgrade(database_url, "0029")
    assert not {"source_kind", "source_id"} & columns()
    assert "ux_articles_source_open" not in indexes()
    upgrade(database_url, "0030")
    assert {"source_kind", "source_id"} <= columns()
    assert "ux_articles_source_open" in indexes()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT title, source_kind, source_id FROM articles WHERE id = :id"), {"id": aid}
        ).one()
    assert tuple(row) == ("Roaming abroad", None, None)  # kept, drafted from nothing
    with engine.begin() as conn:
        conn.execute(COPY, {"id": aid, "state": "draft", "published": None})
    # A second open draft of the same source and brand is refused…
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(COPY, {"id": aid, "state": "in_review", "published": None})
    # …but published and archived ones are not open drafts.
    with engine.begin() as conn:
        conn.execute(COPY, {"id": aid, "state": "published", "published": "2026-12-01 10:00:00"})
        conn.execute(COPY, {"id": aid, "state": "archived", "published": None})
        n = conn.execute(text("SELECT count(*) FROM articles WHERE source_id = 424242")).scalar()
    assert n == 3
    engine.dispose()

    downgrade(database_url, "0029")
    assert not {"source_kind", "source_id"} & columns()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        same_brand = "SELECT brand_id FROM articles WHERE id = :id"
        n = conn.execute(
            text(f"SELECT count(*) FROM articles WHERE brand_id = ({same_brand})"), {"id": aid}
        ).scalar()
    engine.dispose()
    assert n == 4  # the articles stay, only where they came from is forgotten
    upgrade(database_url, "heads")
    assert "ux_articles_source_open" in indexes()
