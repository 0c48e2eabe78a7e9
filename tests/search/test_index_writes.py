"""What the index's writes leave behind, on both backends: after any sequence of adds, re-adds
(same text or changed) and deletes, the stored tokens, document frequencies and statistics
equal a rebuild from scratch of the documents that remain, and those documents are the last
ones added. And what each kind of write costs, statement by statement (issue 5: an accept
writes a newly solved question's document, a vote re-adds an unchanged one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.pool import StaticPool

from crowdcx.search.index import (
    VISIBILITIES,
    IndexConfig,
    IndexDocument,
    PostgresSearchIndex,
    SqliteSearchIndex,
    analyse_document,
    create_sqlite_index,
)

CONFIG = IndexConfig()
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Few words in four languages, so that documents share terms (counts above 1 that move up
# and down) and a re-add often brings the very same text back.
WORDS = ["refund", "parcel", "roaming", "заказ", "роуминг", "интернет", "退款", "蓝牙耳机", "網路"]
TEXTS = st.lists(st.sampled_from(WORDS), min_size=0, max_size=4).map(" ".join)

Add = tuple[str, int, str, str, str, str, int]  # "add", brand, ref, visibility, title, body, votes
Delete = tuple[str, int, str]  # "delete", brand, ref

OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"), st.sampled_from([1, 2]), st.sampled_from(["a", "b", "c"]),
            st.sampled_from(VISIBILITIES), TEXTS, TEXTS, st.integers(0, 3),
        ),
        st.tuples(st.just("delete"), st.sampled_from([1, 2]), st.sampled_from(["a", "b", "c"])),
    ),
    max_size=14,
)  # fmt: skip


@pytest.fixture(params=BACKENDS)
def connect(request: pytest.FixtureRequest) -> Iterator[Callable[[], Any]]:
    """Opens a connection to an empty index in a transaction that the caller rolls back."""
    if request.param == "sqlite":

        def sqlite() -> Any:
            engine = create_engine("sqlite://", poolclass=StaticPool)
            conn = engine.connect()
            create_sqlite_index(conn)
            return conn

        yield sqlite
        return
    engine = create_engine(request.getfixturevalue("postgres_url"))  # migrated: has the tables

    def postgres() -> Any:
        conn = engine.connect()
        for table in ("search_document", "search_term", "search_stats"):
            conn.execute(text(f"DELETE FROM {table}"))  # undone by the caller's rollback
        return conn

    yield postgres
    engine.dispose()


def _index(conn: Connection) -> SqliteSearchIndex | PostgresSearchIndex:
    cls = PostgresSearchIndex if conn.dialect.name == "postgresql" else SqliteSearchIndex
    return cls(conn, CONFIG)


def _doc(op: Add) -> IndexDocument:
    _add, brand, ref, visibility, title, body, votes = op
    return IndexDocument(
        brand_id=brand, kind="question", ref_id=ref, language="ru",
        visibility=visibility,  # type: ignore[arg-type]
        title=title, body=body, helpful_votes=votes,
    )  # fmt: skip


def _stored(conn: Connection) -> dict[str, Any]:
    """Everything the index keeps but the ids: documents with their tokens, the nonzero
    document frequencies and the statistics that count anything."""
    if conn.dialect.name == "postgresql":
        tokens = "d.t_title, d.t_body, d.t_grams, CAST(d.tsv AS TEXT)"
        source = "search_document AS d"
    else:
        tokens = "f.title, f.body, f.grams, f.scope"
        source = "search_document AS d JOIN search_fts AS f ON f.rowid = d.id"
    documents = conn.execute(
        text(
            f"SELECT d.brand_id, d.ref_id, d.visibility, d.title, d.body, d.helpful_votes, "
            f"{tokens} FROM {source}"
        )
    ).all()
    terms = conn.execute(
        text("SELECT brand_id, visibility, field, term, df FROM search_term WHERE df <> 0")
    ).all()
    stats = conn.execute(
        text(
            "SELECT brand_id, visibility, documents, word_tokens, gram_tokens FROM search_stats "
            "WHERE documents <> 0 OR word_tokens <> 0 OR gram_tokens <> 0"
        )
    ).all()
    return {
        "documents": sorted(tuple(r) for r in documents),
        "terms": sorted((r[0], r[1], r[2].strip(), r[3], r[4]) for r in terms),
        "stats": sorted(tuple(r) for r in stats),
    }


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_any_writes_leave_what_a_rebuild_would(
    connect: Callable[[], Connection], ops: list[Add | Delete]
) -> None:
    conn = connect()
    try:
        index = _index(conn)
        expected: dict[tuple[int, str], IndexDocument] = {}
        for op in ops:
            if op[0] == "add":
                document = _doc(op)  # type: ignore[arg-type]
                index.add(document)
                expected[(document.brand_id, document.ref_id)] = document
            else:
                index.delete(op[1], "question", op[2])
                expected.pop((op[1], op[2]), None)
        written = _stored(conn)
        assert [(d[0], d[1], d[2], d[3], d[4], d[5]) for d in written["documents"]] == sorted(
            (d.brand_id, d.ref_id, d.visibility, d.title, d.body, d.helpful_votes)
            for d in expected.values()
        )
        assert index.reanalyse() == len(expected)
        assert _stored(conn) == written
    finally:
        conn.rollback()
        conn.close()


def _statements(conn: Connection, act: Callable[[], Any]) -> list[str]:
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:60])

    event.listen(conn, "before_cursor_execute", listen)
    try:
        act()
    finally:
        event.remove(conn, "before_cursor_execute", listen)
    return seen


def test_each_write_runs_a_fixed_few_statements(connect: Callable[[], Connection]) -> None:
    """A document never indexed (a newly solved question) is one read and its inserts: no
    delete; its hundreds of term counts move in one statement (an executemany on SQLite, an
    INSERT ... SELECT FROM unnest on PostgreSQL). The same text again (a vote)
    is the read and one update. Changed text deletes the old rows by id and moves only the
    counts that differ. PostgreSQL first takes the brand's statistics row, once."""
    conn = connect()
    try:
        index = _index(conn)
        pg = conn.dialect.name == "postgresql"
        first = IndexDocument(
            brand_id=1, kind="question", ref_id="7", language="ru", visibility="public",
            title="Не работает роуминг", body="Включите роуминг данных в настройках телефона",
        )  # fmt: skip
        new = _statements(conn, lambda: index.add(first))
        assert not any(s.startswith("DELETE") for s in new), new
        assert sum(s.startswith("INSERT INTO search_term") for s in new) == 1, new
        # PostgreSQL: lock, read, document, stats, terms; SQLite: read, document, FTS, ...
        assert len(new) == 5, new

        voted = IndexDocument(**{**_fields(first), "helpful_votes": 3})
        same = _statements(conn, lambda: index.add(voted))
        assert [s.split()[0] for s in same] == (
            ["INSERT", "SELECT", "UPDATE"] if pg else ["SELECT", "UPDATE"]
        )

        edited = IndexDocument(**{**_fields(first), "body": "Включите роуминг данных"})
        changed = _statements(conn, lambda: index.add(edited))
        assert sum(s.startswith("INSERT INTO search_term") for s in changed) == 1, changed
        assert len(changed) == (6 if pg else 7), changed
        words = conn.execute(
            text("SELECT term, df FROM search_term WHERE field = 'w' AND df <> 0")
        ).all()
        title, body, _grams = analyse_document(edited.title, edited.body, "ru", CONFIG)
        assert dict(tuple(w) for w in words) == dict.fromkeys(title.split() + body.split(), 1)
    finally:
        conn.rollback()
        conn.close()


def test_a_delete_of_what_is_not_there_is_one_read(connect: Callable[[], Connection]) -> None:
    """Every vote on an unsolved question deletes it from the index, where it never was: one
    probe of the (brand, kind, ref) unique index, no DELETE, and on PostgreSQL no lock on the
    brand's statistics row (its writers would queue behind each other). A document that is
    there is deleted as before, the brand's row taken first, its counts taken back."""
    conn = connect()
    try:
        index = _index(conn)
        pg = conn.dialect.name == "postgresql"
        stored = IndexDocument(
            brand_id=1, kind="question", ref_id="7", language="ru", visibility="public",
            title="Не работает роуминг", body="Включите роуминг данных",
        )  # fmt: skip
        index.add(stored)
        before = _stored(conn)
        for brand, kind, ref in ((1, "question", "8"), (2, "question", "7"), (1, "article", "7")):
            absent = _statements(conn, lambda b=brand, k=kind, r=ref: index.delete(b, k, r))
            assert len(absent) == 1, absent
            assert absent[0].startswith("SELECT 1 FROM search_document WHERE brand_id"), absent
        assert _stored(conn) == before
        present = _statements(conn, lambda: index.delete(1, "question", "7"))
        assert [s.split()[0] for s in present] == (
            ["SELECT", "INSERT", "DELETE", "INSERT", "INSERT"] if pg
            else ["SELECT", "DELETE", "SELECT", "DELETE", "INSERT", "INSERT"]
        )  # fmt: skip
        assert _stored(conn) == {"documents": [], "terms": [], "stats": []}
    finally:
        conn.rollback()
        conn.close()


def _fields(document: IndexDocument) -> dict[str, Any]:
    return {name: getattr(document, name) for name in IndexDocument.__slots__}
