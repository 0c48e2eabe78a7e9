"""One contract, every backend: SQLite FTS5 always, PostgreSQL when CROWDCX_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.pool import StaticPool

from crowdcx.search.index import (
    POSTGRES_DDL_SQL,
    SQLITE_DDL_SQL,
    IndexConfig,
    IndexDocument,
    PostgresSearchIndex,
    SearchIndex,
    SqliteSearchIndex,
    Visibility,
    create_postgres_index,
    create_sqlite_index,
    query_tokens,
)

PG_URL = os.environ.get("CROWDCX_TEST_POSTGRES_URL")
CONFIG = IndexConfig()


@pytest.fixture
def sqlite_index() -> Iterator[SearchIndex]:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    with engine.connect() as conn:
        create_sqlite_index(conn)
        yield SqliteSearchIndex(conn, CONFIG)
        conn.rollback()
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("CROWDCX_TEST_POSTGRES_URL is not set")
    name = f"crowdcx_search_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_index(postgres_url: str) -> Iterator[SearchIndex]:
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        create_postgres_index(conn)
        yield PostgresSearchIndex(conn, CONFIG)
        conn.rollback()  # every test starts from empty tables
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def index(request: pytest.FixtureRequest) -> SearchIndex:
    return request.getfixturevalue(f"{request.param}_index")  # type: ignore[no-any-return]


def doc(ref: str, title: str, body: str = "", **kw: Any) -> IndexDocument:
    fields: dict[str, Any] = {
        "brand_id": 1,
        "kind": "article",
        "language": "en",
        "visibility": "public",
    }
    fields.update(kw)
    return IndexDocument(ref_id=ref, title=title, body=body, **fields)


def refs(index: SearchIndex, query: str, **kw: Any) -> list[str]:
    args: dict[str, Any] = {"visibilities": ("public",), "brand_id": 1}
    args.update(kw)
    hits = index.search(
        args["brand_id"],
        query_tokens(query, index.config),
        args["visibilities"],
        args.get("kinds", ("article", "question", "ticket")),
        args.get("limit", 10),
    )
    return [h.ref_id for h in hits]


def test_finds_and_ranks_by_relevance(index: SearchIndex) -> None:
    index.add_many(
        [
            doc("1", "Reset your password", "Use the reset link we email you."),
            doc("2", "Shipping times", "Parcels arrive in five days."),
            doc("3", "Password rules", "At least twelve characters."),
        ]
    )
    found = refs(index, "how do I reset my password")
    assert found[0] == "1"
    assert set(found) == {"1", "3"}
    assert refs(index, "parcel") == ["2"]


def test_hits_carry_signals_and_positive_scores(index: SearchIndex) -> None:
    index.add(doc("1", "Refunds", "Refund in 14 days", helpful_votes=7, accepted=True))
    (hit,) = index.search(1, query_tokens("refund", index.config), ("public",))
    assert hit.text_score > 0
    assert (hit.helpful_votes, hit.accepted, hit.kind) == (7, True, "article")
    assert hit.updated_at.tzinfo is not None


def test_russian_any_case_and_form(index: SearchIndex) -> None:
    index.add(doc("1", "Как отменить заказ", language="ru"))
    assert refs(index, "ОТМЕНА ЗАКАЗОВ") == ["1"]


def test_traditional_and_simplified_find_each_other(index: SearchIndex) -> None:
    index.add(doc("hans", "如何申请退款", language="zh-Hans"))
    index.add(doc("hant", "訂單查詢", language="zh-Hant"))
    assert refs(index, "申請退款") == ["hans"]
    assert refs(index, "订单") == ["hant"]


def test_visibility_is_enforced_in_the_query(index: SearchIndex) -> None:
    index.add_many(
        [
            doc("pub", "refund policy", visibility="public"),
            doc("exp", "refund policy internals", visibility="experts"),
            doc("staff", "refund policy escalation", visibility="staff"),
        ]
    )
    assert refs(index, "refund") == ["pub"]
    assert set(refs(index, "refund", visibilities=("public", "experts"))) == {"pub", "exp"}
    assert len(refs(index, "refund", visibilities=("public", "experts", "staff"))) == 3
    assert refs(index, "refund", visibilities=()) == []
    assert refs(index, "refund", visibilities=("everyone",)) == []
    # A hidden document never takes a slot: the customer still gets a full page of public ones.
    assert refs(index, "refund", limit=1) == ["pub"]


def test_restricted_documents_do_not_move_a_customers_scores(index: SearchIndex) -> None:
    """Statistics count only what the viewer may see: adding an experts-only or staff-only
    document that shares the query's words changes neither a customer's scores nor the
    out-of-scope bound (so no score can reveal that a word occurs in restricted material)."""
    index.add_many([doc("p1", "Refund policy", "Refunds within 14 days"),
                    doc("p2", "Delivery times", "Parcels arrive in five days")])  # fmt: skip
    customer = ("public",)
    t = query_tokens("refund bluefalcon", index.config)

    def seen(vis: tuple[Visibility, ...]) -> tuple[list[tuple[str, float]], float | None]:
        hits = [(h.ref_id, round(h.text_score, 9)) for h in index.search(1, t, vis)]
        return hits, index.max_score(1, t, vis)

    before = seen(customer)
    index.add(doc("x1", "Bluefalcon refund override", "bluefalcon refund", visibility="experts"))
    index.add(doc("s1", "Refund refund refund", "internal refund notes", visibility="staff"))
    assert seen(customer) == before
    staff = seen(("public", "experts", "staff"))
    assert {r for r, _ in staff[0]} == {"p1", "x1", "s1"}
    assert staff[1] != before[1]  # staff statistics do count them


def test_brands_are_isolated(index: SearchIndex) -> None:
    index.add(doc("a", "warranty claim", brand_id=1))
    index.add(doc("b", "warranty claim", brand_id=2))
    assert refs(index, "warranty", brand_id=1) == ["a"]
    assert refs(index, "warranty", brand_id=2) == ["b"]
    assert refs(index, "warranty", brand_id=3) == []


def test_a_small_brand_beside_a_large_one_sees_only_its_own(index: SearchIndex) -> None:
    """A brand holding a small share of the index is searched through its scope tokens (on
    SQLite): the same answers, its visibility rules kept, and nothing of the large brand."""
    index.add_many(
        doc(f"big{i}", "warranty claim refund", f"warranty {i}", brand_id=2,
            visibility=("public", "experts", "staff")[i % 3])
        for i in range(30)
    )  # fmt: skip
    index.add_many(
        [
            doc("pub", "warranty claim", "how to claim the warranty"),
            doc("exp", "warranty claim internals", visibility="experts"),
            doc("kb", "warranty claim steps", kind="question"),
        ]
    )
    assert set(refs(index, "warranty claim")) == {"pub", "kb"}
    assert set(refs(index, "warranty", visibilities=("public", "experts"))) == {"pub", "exp", "kb"}
    assert refs(index, "warranty", kinds=("question",)) == ["kb"]
    assert refs(index, "refund") == []  # only the large brand's documents hold it
    assert len(refs(index, "warranty", brand_id=2, visibilities=("public",))) == 10
    # A word spelled like a scope token is searched as a word, not as a scope.
    index.add(doc("odd", "s1public s2staff"))
    assert refs(index, "s1public") == ["odd"]
    if isinstance(index, SqliteSearchIndex):  # without trigrams words have no column filter
        words_only = SqliteSearchIndex(index.conn, IndexConfig(gram_weight=0.0))
        assert refs(words_only, "s1public") == ["odd"]


def test_kind_filter(index: SearchIndex) -> None:
    index.add(doc("a", "battery drains", kind="article"))
    index.add(doc("q", "battery drains fast", kind="question"))
    assert refs(index, "battery", kinds=("question",)) == ["q"]
    assert refs(index, "battery", kinds=("nonsense",)) == []


def test_replace_and_delete(index: SearchIndex) -> None:
    index.add(doc("1", "old title about invoices"))
    index.add(doc("1", "new title about receipts"))
    assert refs(index, "invoices") == []
    assert refs(index, "receipts") == ["1"]
    index.delete(1, "article", "1")
    assert refs(index, "receipts") == []
    index.delete(1, "article", "does-not-exist")


def test_same_text_again_moves_only_the_signals(index: SearchIndex) -> None:
    index.add(doc("1", "Refunds", "Refund in 14 days"))
    index.add(doc("2", "Refund rules", "Refund within a month"))
    before = index.search(1, query_tokens("refund", index.config), ("public",))
    index.add(doc("1", "Refunds", "Refund in 14 days", helpful_votes=9, accepted=True))
    after = index.search(1, query_tokens("refund", index.config), ("public",))
    assert [(h.ref_id, h.text_score) for h in after] == [(h.ref_id, h.text_score) for h in before]
    hit = next(h for h in after if h.ref_id == "1")
    assert (hit.helpful_votes, hit.accepted) == (9, True)
    index.add(doc("1", "Refunds", "Refund in 14 days", visibility="staff"))  # not the same
    assert refs(index, "refund") == ["2"]


def test_optimize_keeps_every_answer(index: SearchIndex) -> None:
    for i in range(12):  # one write each: several segments on SQLite
        index.add(doc(str(i), f"coupon code {i}", "Заказ можно отменить" if i % 2 else "退款"))
    queries = ("coupon", "отмена заказа", "退款", "code 7")
    before = {q: [(h.ref_id, h.text_score) for h in _hits(index, q)] for q in queries}
    index.optimize()
    assert {q: [(h.ref_id, h.text_score) for h in _hits(index, q)] for q in queries} == before
    assert before["coupon"]


def test_optimize_drops_term_counts_that_fell_to_zero(index: SearchIndex) -> None:
    index.add(doc("1", "Coupon code", "Скидка по купону"))
    index.add(doc("2", "Refunds", "退款 within 14 days"))
    index.delete(1, "article", "1")  # its terms now count 0
    conn = index.conn  # type: ignore[attr-defined]
    zero = "SELECT count(*) FROM search_term WHERE df <= 0"
    assert conn.execute(text(zero)).scalar() > 0
    before = {q: _hits(index, q) for q in ("coupon", "退款", "скидка")}
    index.optimize()
    assert conn.execute(text(zero)).scalar() == 0
    assert {q: _hits(index, q) for q in before} == before
    assert [h.ref_id for h in before["退款"]] == ["2"]
    assert before["coupon"] == []


def _hits(index: SearchIndex, query: str) -> list[Any]:
    return index.search(1, query_tokens(query, index.config), ("public",))


def test_limit_is_respected(index: SearchIndex) -> None:
    index.add_many([doc(str(i), f"coupon code {i}") for i in range(30)])
    assert len(refs(index, "coupon", limit=5)) == 5
    assert refs(index, "coupon", limit=0) == []


HOSTILE = [
    '"',
    "* ( NEAR AND - :",
    "'; DROP TABLE search_document; --",
    "NEAR(refund policy, 2)",
    "title: refund OR body:*",
    "\ud800",
    "😀",
    "' | ! & <-> :*",
    "",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(index: SearchIndex, query: str) -> None:
    index.add(doc("1", "refund policy near you"))
    refs(index, query)
    assert refs(index, "refund") == ["1"]  # the table survived


def test_ddl_strings_match_the_functions() -> None:
    assert "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5" in SQLITE_DDL_SQL
    assert "USING GIN (tsv)" in POSTGRES_DDL_SQL
    engine = create_engine("sqlite://", poolclass=StaticPool)
    with engine.connect() as conn:
        raw: Connection = conn
        for statement in SQLITE_DDL_SQL.split(";\n"):
            if statement.strip():
                raw.execute(text(statement))
        names = {r[0] for r in raw.execute(text("SELECT name FROM sqlite_master"))}
    assert {"search_document", "search_fts", "search_stats", "search_term"} <= names


def test_max_score_bounds_every_hit(index: SearchIndex) -> None:
    index.add_many(
        IndexDocument(1, "article", str(i), "en", "public", t, b)
        for i, (t, b) in enumerate(
            [("Reset password", "reset reset password"), ("Roaming", "roaming abroad"),
             ("Refund", "money back"), ("蓝牙", "耳机蓝牙配对")]
        )
    )  # fmt: skip
    for q in ["reset password", "roaming", "蓝牙耳机", "unknown words here", "pasword resett"]:
        t = query_tokens(q, index.config)
        bound = index.max_score(1, t)
        assert bound is not None
        for hit in index.search(1, t, ("public",), limit=10):
            assert hit.text_score <= bound + 1e-9
    assert index.max_score(2, query_tokens("reset", index.config)) is None  # no such brand


def test_a_query_of_typos_still_finds_by_trigrams(index: SearchIndex) -> None:
    """Words the brand has never seen generate candidates by their trigrams, alone or beside
    common known words."""
    filler = [doc(f"f{i}", f"How is my {w} today", "my account is fine") for i, w in
              enumerate(["parcel", "invoice", "card", "plan", "bill", "phone"] * 20)]  # fmt: skip
    index.add_many([doc("1", "Roaming charges abroad"), doc("2", "Password reset"), *filler])
    assert refs(index, "roamng chargs")[0] == "1"
    assert refs(index, "pasword")[0] == "2"
    assert refs(index, "how is my pasword")[0] == "2"


def test_a_typos_trigrams_come_from_the_word_as_typed_not_its_stem(index: SearchIndex) -> None:
    """The typo "zzngies" stems to "zzngi"; "ies", the only trigram it shares with "qgies",
    exists only in what was typed. Beside a known word ("apple"), an unknown word's
    trigrams generate candidates, so "qgies" is found."""
    index.add_many([doc("1", "qgies"), doc("2", "apple pie")])
    assert refs(index, "apple zzngies") == ["2", "1"]


def test_a_long_query_of_short_words_does_not_match_trigrams(index: SearchIndex) -> None:
    """Over gram_max_words the query has no trigrams: its words must not match documents'
    trigrams either ("pay" is a trigram of "payment")."""
    index.add(doc("1", "Payment methods"))
    long = "pay " + " ".join(f"zzq{i}x" for i in range(40))
    assert refs(index, long) == []


def test_ties_go_to_the_older_document(index: SearchIndex) -> None:
    index.add(doc("B", "价格", "退款 退款", language="zh-Hans"))
    index.add(doc("A", "退款", "价格 价格", language="zh-Hans"))
    hits = index.search(1, query_tokens("退款", index.config), ("public",))
    assert hits[0].text_score == pytest.approx(hits[1].text_score)
    assert [h.ref_id for h in hits] == ["B", "A"]


@pytest.mark.postgres
def test_both_backends_rank_and_score_alike(
    sqlite_index: SearchIndex, postgres_index: SearchIndex
) -> None:
    """One ranking on either database: same candidates, same BM25 re-ranking, same scores
    (the out-of-scope threshold is calibrated on that scale)."""
    docs = [
        doc("1", "Reset your password", "Use the reset link we email you. Reset again."),
        doc("2", "Password rules", "At least twelve characters in a password."),
        doc("3", "Roaming abroad", "Turn on roaming before you travel."),
        doc("4", "Как сбросить пароль", "Ссылка для сброса пароля придёт на почту.", language="ru"),
        doc("5", "如何重设密码", "我们会把重设密码的链接发到您的邮箱。", language="zh-Hans"),
        doc("6", "訂單查詢", "在帳戶頁面查看訂單。", language="zh-Hant"),
    ]
    sqlite_index.add_many(docs)
    postgres_index.add_many(docs)
    for q in ["reset password", "сброс пароля", "重设密码", "订单", "roamng", "nothing here"]:
        t = query_tokens(q, CONFIG)
        a = sqlite_index.search(1, t, ("public",))
        b = postgres_index.search(1, t, ("public",))
        assert [h.ref_id for h in a] == [h.ref_id for h in b], q
        assert [round(h.text_score, 9) for h in a] == [round(h.text_score, 9) for h in b], q
        assert sqlite_index.max_score(1, t) == pytest.approx(postgres_index.max_score(1, t))


@pytest.mark.postgres
def test_both_backends_agree_beyond_the_candidate_window(
    sqlite_index: SearchIndex, postgres_index: SearchIndex
) -> None:
    """600 documents over 20 words: every query matches hundreds. Each backend picks its
    candidates by its own index order (FTS5 bm25, ts_rank); both must still return the
    top 10 of an exhaustive BM25 ranking."""
    import random
    from dataclasses import replace

    rnd = random.Random(7)
    vocab = ["order", "refund", "parcel", "password", "roaming", "invoice", "account",
             "delivery", "battery", "screen", "charge", "cancel", "payment", "card", "email",
             "login", "update", "return", "warranty", "shipping"]  # fmt: skip

    def words(n: int) -> str:
        return " ".join(rnd.choice(vocab[: rnd.randint(3, 20)]) for _ in range(n))

    docs = [doc(str(i), words(rnd.randint(1, 6)), words(rnd.randint(0, 60))) for i in range(600)]
    sqlite_index.add_many(docs)
    postgres_index.add_many(docs)
    exact = replace(CONFIG, rerank_candidates=5000, gram_rerank=0)
    for q in ["order", "refund order", "battery screen charge", "ordr", "paymnt card"]:
        t = query_tokens(q, CONFIG)
        best = [h.ref_id for h in type(sqlite_index)(sqlite_index.conn, exact).search(  # type: ignore[attr-defined]
            1, t, ("public",))]  # fmt: skip
        assert [h.ref_id for h in sqlite_index.search(1, t, ("public",))] == best, q
        assert [h.ref_id for h in postgres_index.search(1, t, ("public",))] == best, q


def test_a_long_document_titled_as_asked_is_found_among_hundreds_of_matches(
    index: SearchIndex,
) -> None:
    """FTS5's bm25() divides a title match by the whole document's length: with more than
    the candidate window of short articles sharing some of its words, a long guide titled
    exactly as asked never reached the re-ranker on SQLite (PostgreSQL re-scores 2,000)."""
    import random

    rnd = random.Random(3)
    filler = "open the admin page sign in then go to system tools and wait for the lights"
    docs = [doc(str(i), f"Reset the model {i} router", f"Hold the pin of model {i}.")
            for i in range(80)]  # fmt: skip
    docs += [doc(str(100 + i), f"Change the model {i} router password", f"Use app {i}.")
             for i in range(80)]  # fmt: skip
    docs.append(doc("guide", "Reset the router password",
                    " ".join(rnd.choices(filler.split(), k=1500))))  # fmt: skip
    index.add_many(docs)
    assert refs(index, "reset the router password")[0] == "guide"
    assert refs(index, "router")[:1] != ["guide"]  # an ordinary match stays where it ranks


@pytest.mark.postgres
def test_concurrent_writers_keep_the_statistics_exact(postgres_url: str) -> None:
    """Four writers re-index overlapping documents at once on PostgreSQL: nobody deadlocks
    on the shared term rows, and the document frequencies and totals equal a recount."""
    import random
    import threading

    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        create_postgres_index(conn)
    words = ["refund", "order", "parcel", "password", "roaming", "invoice", "заказ", "退款"]
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rnd = random.Random(seed)
        try:
            for _ in range(12):
                with engine.begin() as conn:
                    index = PostgresSearchIndex(conn, CONFIG)
                    for _ in range(3):
                        ref = str(rnd.randrange(6))
                        if rnd.random() < 0.2:
                            index.delete(1, "article", ref)
                        else:
                            index.add(doc(ref, " ".join(rnd.sample(words, 3)), rnd.choice(words)))
        except BaseException as exc:  # reported below, with the thread's seed
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT t_title, t_body, t_grams FROM search_document")).all()
            recount: dict[tuple[str, str], int] = {}
            for row in rows:
                for field, tokens in (
                    ("w", set(row.t_title.split()) | set(row.t_body.split())),
                    ("g", set(row.t_grams.split())),
                ):
                    for token in tokens:
                        recount[(field, token)] = recount.get((field, token), 0) + 1
            stored = {
                (r.field.strip(), r.term): r.df
                for r in conn.execute(text("SELECT field, term, df FROM search_term WHERE df <> 0"))
            }
            assert stored == recount
            documents = conn.execute(text("SELECT documents FROM search_stats")).scalar()
            assert documents == len(rows)
    finally:
        with engine.begin() as conn:
            for table in ("search_document", "search_term", "search_stats"):
                conn.execute(text(f"DELETE FROM {table}"))
        engine.dispose()


def test_what_a_customer_cannot_see_never_moves_their_results(index: SearchIndex) -> None:
    """Issue 4: a customer's results are a function of what they may see. With more of the
    customer's matches than the candidate window, SQLite's FTS5 bm25() would choose the
    window by an idf over the whole index: experts-only, staff-only and another brand's
    documents holding "refund" make it nearly worthless there, so FTS5's window fills with
    "card" documents and the customer's best "refund" ones are never re-ranked (a side
    channel: the results tell that hidden documents hold the word). SQLite's scoped window
    (the default) and PostgreSQL's window (ts_rank, no idf) do not move."""
    _hidden_documents_never_move(index, lambda: index)


def test_sqlite_re_scoring_every_match_closes_the_side_channel(sqlite_index: SearchIndex) -> None:
    """With ``scoped_rescore`` (opt-in) and the scoped window off, SQLite re-scores every
    match of a viewer who cannot see the whole index: what they cannot see no longer
    chooses what is re-ranked either."""
    conn = sqlite_index.conn  # type: ignore[attr-defined]
    rescoring = replace(CONFIG, scoped_rescore=2000, scoped_window=False)  # one per search
    _hidden_documents_never_move(sqlite_index, lambda: SqliteSearchIndex(conn, rescoring))


def test_sqlite_fts5_window_is_what_moved(sqlite_index: SearchIndex) -> None:
    """The side channel the scoped window closes: FTS5's own window (scoped window off, no
    re-scoring of every match) does move once hidden documents share the query's words."""
    conn = sqlite_index.conn  # type: ignore[attr-defined]
    fts5_window = replace(CONFIG, scoped_rescore=0, scoped_window=False)
    with pytest.raises(AssertionError):
        _hidden_documents_never_move(sqlite_index, lambda: SqliteSearchIndex(conn, fts5_window))
    assert _seen(SqliteSearchIndex(conn, fts5_window))["refund card"][0][0].startswith("c")


def test_sqlite_scoped_window_checks_kind_and_ranks_by_scoped_idf(
    sqlite_index: SearchIndex,
) -> None:
    """The scoped window keeps only the kinds asked for, however many of the best-scoring
    matches are of another kind, and orders the window by what the viewer may see: a
    document holding the viewer's rarer word comes first, and its score is the re-ranker's
    (the window score never reaches a result)."""
    conn = sqlite_index.conn  # type: ignore[attr-defined]
    small = replace(CONFIG, rerank_candidates=5)
    questions = [
        doc(f"q{i}", f"refund card {i}", "refund card", kind="question") for i in range(30)
    ]
    articles = [doc(f"a{i}", f"card {i}", "card " * (1 + i % 3)) for i in range(20)]
    rare = [doc(f"r{i}", f"refund {i}", "refund") for i in range(3)]
    hidden = [doc(f"h{i}", f"card {i}", "card", visibility="staff") for i in range(400)]
    sqlite_index.add_many([*questions, *articles, *rare, *hidden])
    ix = SqliteSearchIndex(conn, small)
    hits = ix.search(1, query_tokens("refund card", small), ["public"], ["article"], 3)
    assert [h.ref_id for h in hits] == ["r0", "r1", "r2"]
    assert {h.kind for h in hits} == {"article"}
    rescored = SqliteSearchIndex(conn, replace(small, scoped_window=False, scoped_rescore=2000))
    again = rescored.search(1, query_tokens("refund card", small), ["public"], ["article"], 3)
    assert [(h.ref_id, h.text_score) for h in hits] == [(h.ref_id, h.text_score) for h in again]


_SIDE_QUERIES = ("refund card", "card refund", "card")


def _seen(ix: SearchIndex) -> dict[str, list[tuple[str, float]]]:
    return {q: [(h.ref_id, round(h.text_score, 9)) for h in _hits(ix, q)] for q in _SIDE_QUERIES}


def _hidden_documents_never_move(index: SearchIndex, searcher: Callable[[], SearchIndex]) -> None:
    """Index public documents in ``index``; ``searcher``'s customer results must not move
    when experts-only, staff-only and another brand's documents holding "refund" follow."""
    filler = [doc(f"f{i}", f"opening hours {i}", "we open at nine") for i in range(290)]
    refund = [doc(f"r{i}", f"refund {i}", "how to ask " * (i % 7) + "refund") for i in range(60)]
    card = [doc(f"c{i}", f"card {i}", "card " * (1 + i % 4)) for i in range(100)]
    index.add_many([*filler, *refund, *card])
    alone = _seen(searcher())
    assert [r[0] for r, *_ in alone["refund card"]] == ["r"] * 10  # rarer for the customer

    def hidden(start: int, count: int) -> list[IndexDocument]:
        return [
            doc(f"h{i}", f"refund {i}", "refund refund", brand_id=2 if i % 3 == 0 else 1,
                visibility=("public", "experts", "staff")[i % 3])
            for i in range(start, start + count)
        ]  # fmt: skip

    # The brand still holds most of the index (SQLite ranks first, then filters) …
    index.add_many(hidden(0, 390))
    assert _seen(searcher()) == alone
    # … and then only a small part of it (the match is limited to the brand's scope).
    index.add_many(hidden(390, 1200))
    assert _seen(searcher()) == alone
