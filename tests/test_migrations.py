"""Migrations build the schema the models describe, on every backend, and can be undone."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from crowdcx.all_models import metadata
from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.kernel.models import RAW_SQL_TABLES
from tests.conftest import World


def mapped_only(name: str | None, type_: str, parent_names: object) -> bool:
    """Skip the raw-SQL search index tables (and FTS5's shadow tables) in the comparison."""
    if type_ == "table" and name is not None:
        return not any(name == t or name.startswith(f"{t}_") for t in RAW_SQL_TABLES)
    return True


# Alembic cannot reflect expression indexes, so it skips them (with these warnings); the test
# below checks that they exist by name instead, and tests/community/test_query_plans.py that
# SQLite uses them.
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_empty_database_upgrades_to_head_and_matches_the_models(database_url: str) -> None:
    # database_url is already at head (the fixture migrates); go down to nothing and back up.
    downgrade(database_url, "base")
    upgrade(database_url, "heads")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": mapped_only}
        )
        diff = compare_metadata(ctx, metadata)
        names = (
            conn.execute(
                text("SELECT indexname FROM pg_indexes")
                if engine.dialect.name == "postgresql"
                else text("SELECT name FROM sqlite_master WHERE type = 'index'")
            )
            .scalars()
            .all()
        )
        expression_indexes = {
            i.name for t in metadata.tables.values() for i in t.indexes if i.expressions
            and any(not hasattr(e, "table") for e in i.expressions)
        }  # fmt: skip
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert expression_indexes <= set(names), expression_indexes
    assert {"ix_community_posts_score", "ix_community_posts_popular"} <= expression_indexes


def test_upgrade_analyses_stored_search_documents_again(database_url: str) -> None:
    """0010: documents indexed before it (no trigrams; on PostgreSQL no BM25 columns or
    statistics) are analysed again, so a query of typos finds them and scores are bounded."""
    from sqlalchemy import text

    from crowdcx.search.analysis import analyze
    from crowdcx.search.index import PostgresSearchIndex, SqliteSearchIndex, query_tokens

    downgrade(database_url, "0009")
    engine = create_engine(database_url)
    postgres = engine.dialect.name == "postgresql"
    words = " ".join(analyze("Roaming charges abroad", language="en").words)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM search_document"))
        params = {"words": words, "at": "2026-11-30T10:00:00+00:00"}
        insert = (
            "INSERT INTO search_document (brand_id, kind, ref_id, language, visibility, title, "
            "body, updated_at{tsv}) VALUES (77, 'article', '1', 'en', 'public', "
            "'Roaming charges abroad', '', :at{tsv_value})"
        )
        if postgres:
            conn.execute(
                text(insert.format(tsv=", tsv", tsv_value=", to_tsvector('simple', :words)")),
                params,
            )
        else:
            conn.execute(text("DELETE FROM search_fts"))
            conn.execute(text(insert.format(tsv="", tsv_value="")), params)
            conn.execute(
                text("INSERT INTO search_fts (rowid, title, body, grams) VALUES "
                     "((SELECT max(id) FROM search_document), :words, '', '')"),
                params,
            )  # fmt: skip
    upgrade(database_url, "heads")
    with engine.connect() as conn:
        index = (PostgresSearchIndex if postgres else SqliteSearchIndex)(conn)
        for q in ["roaming", "roamng chargs"]:
            tokens = query_tokens(q, index.config)
            hits = index.search(77, tokens, ("public",))
            assert [h.ref_id for h in hits] == ["1"], q
            bound = index.max_score(77, tokens)
            assert bound is not None
            assert hits[0].text_score <= bound
    engine.dispose()


def test_downgrade_of_0010_leaves_no_trigrams(database_url: str) -> None:
    """The code before 0010 does not filter trigrams out of word matches: a downgrade must
    remove them, or "pay" would find "Payment methods" through its trigram."""
    from sqlalchemy import text

    from crowdcx.search.index import IndexConfig, IndexDocument, index_class_for

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM search_document"))
        index = index_class_for(conn)(conn)
        index.add_many([IndexDocument(77, "article", "1", "en", "public", "Payment methods", "")])
    downgrade(database_url, "0009")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            lexemes = conn.execute(text("SELECT tsv::text FROM search_document")).scalar()
            assert "'pay':" not in str(lexemes)  # the word's stem is 'payment'
        else:
            grams = conn.execute(text("SELECT grams FROM search_fts")).scalar()
            assert grams == ""
    upgrade(database_url, "heads")
    with engine.connect() as conn:
        index = index_class_for(conn)(conn, IndexConfig())
        from crowdcx.search.index import query_tokens

        hits = index.search(77, query_tokens("paymnt", index.config), ("public",))
        assert [h.ref_id for h in hits] == ["1"]
    engine.dispose()


def test_0014_scope_tokens_are_derived_from_the_stored_documents(database_url: str) -> None:
    """0014 rebuilds SQLite's full-text table with a scope token per document, taken from
    search_document: a small brand beside a large one then finds its documents at its
    visibility, after a downgrade and an upgrade alike (PostgreSQL: unchanged, same answers)."""
    from sqlalchemy import text

    from crowdcx.search.index import IndexDocument, index_class_for, query_tokens

    engine = create_engine(database_url)

    def refs(visibilities: tuple[str, ...]) -> set[str]:
        with engine.connect() as conn:
            index = index_class_for(conn)(conn)
            hits = index.search(77, query_tokens("warranty", index.config), visibilities)  # type: ignore[arg-type]
            return {h.ref_id for h in hits}

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM search_document"))
        if engine.dialect.name == "sqlite":
            conn.execute(text("DELETE FROM search_fts"))
        index_class_for(conn)(conn).add_many(
            [IndexDocument(78, "article", str(i), "en", "public", "Warranty", "") for i in range(9)]
            + [IndexDocument(77, "article", "pub", "en", "public", "Warranty claim", ""),
               IndexDocument(77, "article", "exp", "en", "experts", "Warranty internals", "")]
        )  # fmt: skip
    assert refs(("public",)) == {"pub"}
    downgrade(database_url, "0013")
    upgrade(database_url, "heads")
    assert refs(("public",)) == {"pub"}
    assert refs(("public", "experts")) == {"pub", "exp"}
    engine.dispose()


def test_downgrades_keep_the_rows_of_tables_they_rebuild(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    """On SQLite a downgrade that drops a column rebuilds the table (copy, DROP, rename):
    with foreign keys on, the DROP cascaded to every child row — going below 0017 emptied
    the tickets' history and messages, below 0006 the communities' posts. Migrations now run
    with foreign keys off; every row comes back."""
    from tests.community.test_api import Forum
    from tests.tickets.test_api import Desk

    desk = Desk(client, world, mode="pull", experts=1)
    desk.online(desk.experts[0])
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", desk.experts[0]).status_code == 200
    assert desk.post(f"/tickets/{tid}/messages", desk.experts[0], {"body": "Hi"}).is_success
    forum = Forum(client, world, db)
    forum.answer(forum.ask(), forum.helpers[0], "Перезагрузите роутер.")
    tables = ("tickets", "ticket_transitions", "ticket_messages", "community_posts")

    def counts() -> dict[str, int]:
        engine = create_engine(database_url)
        with engine.connect() as conn:
            found = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
            }
        engine.dispose()
        return found

    before = counts()
    assert all(before.values()), before
    db.engine.dispose()  # the app's pooled connections must not hold the tables
    downgrade(database_url, "0005")
    upgrade(database_url, "heads")
    assert counts() == before


def test_0020_back_fills_live_tags_and_revision_visibility(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    """0020 gives published articles' live copies their tags, and each revision a visibility:
    the working and live revisions theirs, any other revision ``staff`` (unknown)."""
    from tests.knowledge.test_api import Kb

    kb = Kb(client, world)
    shown = kb.write("Roaming", "Roaming is free in the EU.", "en", tags=["roaming"])
    kb.publish(shown)
    lowered = kb.write("Refunds", "Internal: ask Anna, ext. 8801.", "en", visibility="staff")
    kb.publish(lowered)
    r = client.patch(kb.url(f"/articles/{lowered}"),
                     json={"body": "Refunds over 500 go to staff.", "visibility": "experts"},
                     headers=kb.author.auth)  # fmt: skip
    assert r.status_code == 200, r.text
    kb.publish(lowered)
    r = client.patch(kb.url(f"/articles/{lowered}"),
                     json={"body": "Refunds over 500 go to our staff.", "tags": ["refund"]},
                     headers=kb.author.auth)  # fmt: skip
    assert r.status_code == 200, r.text
    db.engine.dispose()
    downgrade(database_url, "0019")
    upgrade(database_url, "heads")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        tags = {  # SQLite hands JSON back as text
            aid: json.loads(v) if isinstance(v, str) else v
            for aid, v in conn.execute(text("SELECT id, live_tags FROM articles"))
        }
        seen = conn.execute(
            text("SELECT version, visibility FROM article_versions WHERE article_id = :a"),
            {"a": lowered},
        ).all()
    engine.dispose()
    assert tags[shown] == ["roaming"]
    assert tags[lowered] is None  # a revision was pending: unknown, shown as none
    assert sorted(seen) == [(1, "staff"), (2, "experts"), (3, "experts")]
    assert "Anna" not in kb.get(f"/articles/{lowered}/versions", kb.expert).text


def test_0022_back_fills_reopened_at_from_the_history(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    """A ticket reopened before 0022 gets its last reopening from its transitions, and the
    sweeper is asked to look at it again."""
    from tests.tickets.test_api import Desk

    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    for _ in range(2):
        assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
        assert desk.post(f"/tickets/{tid}/reopen", desk.customer).status_code == 200
    db.engine.dispose()
    downgrade(database_url, "0021")
    upgrade(database_url, "heads")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        last = conn.execute(
            text(
                "SELECT max(at) FROM ticket_transitions WHERE ticket_id = :t AND action = 'reopen'"
            ),
            {"t": tid},
        ).scalar_one()
        reopened, sweep, updated = conn.execute(
            text("SELECT reopened_at, sweep_at, updated_at FROM tickets WHERE id = :t"), {"t": tid}
        ).one()
    engine.dispose()
    assert reopened is not None
    assert reopened == last
    assert sweep == updated


def test_0023_back_fills_the_case_start_the_question_and_the_community_response(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    """Before 0023 an escalated question's ticket carried the question's asked time in
    created_at and found its question among the customer's own. After it: case_started_at is
    that time, created_at the escalation (its submit transition), question_id the question,
    community_response_at its first answer by someone else after the escalation — and since
    0032, its first visible answer by someone else at all, written before the escalation
    too. Downgrading puts the case's start back into created_at."""
    from datetime import timedelta

    from crowdcx.kernel.models import utcnow
    from tests.community.test_api import Forum

    f = Forum(client, world, db)
    qid = f.ask()
    asked = utcnow() - timedelta(days=3)
    with db.transaction() as uow:
        uow.session.execute(
            text("UPDATE community_posts SET created_at = :t WHERE id = :i"), {"t": asked, "i": qid}
        )
    earlier = f.answer(qid, f.helpers[1], "Before the escalation: the community's part.")
    r = f.post(f"/questions/{qid}/escalate", f.asker)
    assert r.status_code == 201, r.text
    tid = r.json()["ticket_id"]
    f.answer(qid, f.helpers[0], "Перезагрузите роутер.")
    direct = f.post(
        "/tickets", f.asker, {"subject": "Счёт", "body": "Списали дважды.", "skill": "general"}
    )
    assert direct.status_code == 201, direct.text
    db.engine.dispose()

    def read(ticket: int) -> tuple[object, ...]:
        engine = create_engine(database_url)
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT created_at, case_started_at, question_id, community_response_at"
                     " FROM tickets WHERE id = :t"), {"t": ticket},
            ).one()  # fmt: skip
            submitted = conn.execute(
                text("SELECT min(at) FROM ticket_transitions WHERE ticket_id = :t"
                     " AND action = 'submit'"), {"t": ticket},
            ).scalar_one()  # fmt: skip
            answered = conn.execute(
                text("SELECT created_at FROM community_posts WHERE id = :a"), {"a": earlier}
            ).scalar_one()
        engine.dispose()
        return (*row, submitted, answered)

    before = read(tid)
    downgrade(database_url, "0022")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        old_created = conn.execute(
            text("SELECT created_at FROM tickets WHERE id = :t"), {"t": tid}
        ).scalar_one()
    engine.dispose()
    assert str(old_created)[:19] == str(before[1])[:19]  # the case's start, as before 0023
    upgrade(database_url, "heads")
    created, started, question, responded, submitted, answered = read(tid)
    assert (created, started, question, responded) == before[:4]
    assert question == qid
    assert created == submitted
    assert created != started
    assert responded == answered
    created, started, question, responded, submitted, _ = read(direct.json()["id"])
    assert created == started == submitted
    assert question is None
    assert responded is None
