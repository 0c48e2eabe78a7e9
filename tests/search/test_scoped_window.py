"""SQLite's scoped window (issue 4): what a viewer cannot see never moves their results.

Property: on any small index whose candidate window is smaller than the matches, adding
documents of another brand or of a visibility the customer may not see leaves the
customer's hits (ids and scores) exactly as they were. (The index holds one document of
another brand from the start: a viewer who sees the whole index gets FTS5's window, so the
first hidden document ever indexed may still move their results — a known limit.) FTS5's
own window moving is shown in test_index_contract.py (test_sqlite_fts5_window_is_what_moved).
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from crowdcx.search.index import (
    IndexConfig,
    IndexDocument,
    SqliteSearchIndex,
    Visibility,
    create_sqlite_index,
    query_tokens,
)

# Few candidates, so the window is full and which matches enter it matters.
CONFIG = IndexConfig(rerank_candidates=3)
WORDS = ("refund", "card", "parcel", "late", "invoice", "password", "roaming", "order")

texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
documents = st.lists(st.tuples(texts, texts), min_size=4, max_size=25)
hidden_documents = st.lists(
    st.tuples(texts, texts, st.sampled_from(["other brand", "experts", "staff"])),
    min_size=1,
    max_size=25,
)
queries = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)


def _search(index: SqliteSearchIndex, query: str) -> list[tuple[str, float]]:
    hits = index.search(1, query_tokens(query, CONFIG), ("public",), ("article",), 2)
    return [(h.ref_id, round(h.text_score, 9)) for h in hits]


def _doc(ref: str, title: str, body: str, brand_id: int, visibility: Visibility) -> IndexDocument:
    return IndexDocument(brand_id, "article", ref, "en", visibility, title, body)


def _hidden(rows: Sequence[tuple[str, str, str]]) -> list[IndexDocument]:
    out = []
    for i, (title, body, where) in enumerate(rows):
        brand_id = 2 if where == "other brand" else 1
        visibility: Visibility = "public" if where == "other brand" else where  # type: ignore[assignment]
        out.append(_doc(f"h{i}", title, body, brand_id, visibility))
    return out


@settings(max_examples=40, deadline=None)
@given(public=documents, hidden=hidden_documents, query=queries)
def test_hidden_documents_never_move_a_customers_hits(
    public: list[tuple[str, str]], hidden: list[tuple[str, str, str]], query: str
) -> None:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with engine.connect() as conn:
            create_sqlite_index(conn)
            index = SqliteSearchIndex(conn, CONFIG)
            index.add_many(_doc(f"p{i}", t, b, 1, "public") for i, (t, b) in enumerate(public))
            index.add_many([_doc("elsewhere", "opening hours", "nine", 3, "public")])
            alone = _search(SqliteSearchIndex(conn, CONFIG), query)
            index.add_many(_hidden(hidden))
            assert _search(SqliteSearchIndex(conn, CONFIG), query) == alone
            # The hidden documents are there: a viewer who may see them can find them.
            everyone = SqliteSearchIndex(conn, CONFIG).search(
                2 if hidden[0][2] == "other brand" else 1,
                query_tokens(" ".join(hidden[0][:2]), CONFIG),
                ("public", "experts", "staff"),
                limit=100,
            )
            assert "h0" in {h.ref_id for h in everyone}
    finally:
        engine.dispose()
