"""The search index: one contract, two backends (SQLite FTS5, PostgreSQL tsvector + GIN).

Both backends store *pre-analysed* tokens (see :mod:`crowdcx.search.analysis`), so the
database never needs to know Chinese, Russian stemming or Traditional/Simplified folding:
SQLite splits the stored tokens on spaces (``unicode61``), PostgreSQL reads them with the
``simple`` configuration. The durable rows live in ``search_document`` (every row carries
``brand_id``); the text index is ``search_fts`` (SQLite) or the ``tsv`` column (PostgreSQL).

Visibility and brand are enforced *inside* the query: rows a viewer may not see are never
returned, counted or scored into a result list.

The caller (a unit of work) owns the transaction: nothing here commits.
"""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final, Literal, Protocol

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.exc import OperationalError

from crowdcx.search.analysis import AnalyzedText, analyze, analyze_query, gram_count

Kind = Literal["article", "question", "ticket"]
Visibility = Literal["public", "experts", "staff"]
KINDS: Final[tuple[Kind, ...]] = ("article", "question", "ticket")
VISIBILITIES: Final[tuple[Visibility, ...]] = ("public", "experts", "staff")


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """How documents are analysed and fields weighted. Documents and queries share it."""

    title_weight: float = 2.0
    body_weight: float = 1.0
    # Character trigrams of non-Han words as a second, typo-tolerant field (0 = off).
    gram_weight: float = 0.25
    # Whether trigrams generate FTS5 candidates for every query. Common trigrams have long
    # posting lists (p95 90 ms at 100k documents when they do), so by default they only score
    # the candidates the words found, and generate only when no query word is known to the
    # brand (a query of typos).
    gram_generate: bool = False
    # Trigrams score only the best this-many candidates by words (0 = all): the candidates'
    # trigram lists are long (a Russian article's run to thousands), and a document far down
    # the word order rarely reaches the top 10 on its trigrams. All candidates when trigrams
    # generated them (no query word known).
    gram_rerank: int = 30
    # Queries of more words than this get no trigrams: a pasted paragraph has enough words to
    # match on, and its hundreds of trigrams mostly match common substrings (noise and time).
    gram_max_words: int = 32
    jieba_words: bool = False
    # Re-rank FTS5's candidates with Lucene BM25 (IDF log(1 + (N - df + .5) / (df + .5)),
    # never negative, unlike FTS5's) using per-brand N and average length. 0 = FTS5 order.
    # Each one costs Python time (its stored tokens are counted); at 100k documents 99 % of
    # the final top 10 come from FTS5's best 100 once FTS5 orders by the whole query
    # (order_max_df), see bench/search_latency.py.
    rerank_candidates: int = 100
    # Tokens in more than this share of a large index (and more documents than the re-ranker
    # takes) do not generate candidates; they still count in the re-ranking score.
    candidate_max_df: float = 0.05
    # The rarest tokens generate candidates while their document frequencies add up to at
    # most this (FTS5 scores every document they match: this bounds what a query costs on a
    # large index). 0 = no budget.
    candidate_budget: int = 4000
    # Other query words in at most this share of the brand's documents take part in FTS5's
    # ordering of the candidates without generating any. 0 = off.
    order_max_df: float = 0.2
    # When the viewer may not see the whole index (another brand's documents, or ones of a
    # visibility they may not see), SQLite re-scores up to this many of their matches, not
    # only FTS5's best ``rerank_candidates``: FTS5's bm25() takes its statistics from the
    # whole index, so its window would move with documents the viewer cannot see (issue 4).
    # PostgreSQL's window (ts_rank, no idf) never depends on them. 0 = off, the default:
    # at 100,000 documents searched as a customer (80 % public) most queries match more
    # than the window, and re-scoring them cost p95 1.6x (500) to 5.6x (2,000) FTS5's
    # window (bench/search_latency.py --scoped-rescore), far over the 20 ms goal.
    scoped_rescore: int = 0
    # SQLite chooses the re-ranker's window by a score of the viewer's own statistics
    # instead of FTS5's bm25(): each document's sum of the (scoped) idf of the generating
    # and ordering tokens it holds, read from FTS5 rowid lists
    # (:meth:`SqliteSearchIndex._scoped_window`). Nothing outside the viewer's scope enters
    # it, so what they cannot see never chooses what is re-ranked (issue 4), at about the
    # cost of FTS5's ranked query (bench/search_scoped_window.py). Only when the viewer
    # may not see the whole index (FTS5's window is exact otherwise, and it counts repeats).
    scoped_window: bool = True
    k1: float = 1.5
    b: float = 0.75

    @property
    def grams(self) -> bool:
        return self.gram_weight > 0


@dataclass(frozen=True, slots=True)
class IndexDocument:
    """One searchable thing: a knowledge-base article, a community question, a ticket."""

    brand_id: int
    kind: Kind
    ref_id: str
    language: str
    visibility: Visibility
    title: str
    body: str
    helpful_votes: int = 0
    unhelpful_votes: int = 0
    accepted: bool = False
    brand_approved: bool = False
    updated_at: datetime = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Hit:
    """A matching document with its text relevance (higher is better) and ranking signals."""

    kind: Kind
    ref_id: str
    language: str
    visibility: Visibility
    title: str
    text_score: float
    helpful_votes: int
    unhelpful_votes: int
    accepted: bool
    brand_approved: bool
    updated_at: datetime


class SearchIndex(Protocol):
    """The one contract every backend fulfils."""

    config: IndexConfig

    def add(self, document: IndexDocument) -> None:
        """Add a document, replacing any with the same (brand_id, kind, ref_id)."""

    def add_many(self, documents: Iterable[IndexDocument]) -> None:
        """Add many documents (no replacement check: for a fresh index or a rebuild)."""

    def delete(self, brand_id: int, kind: Kind, ref_id: str) -> None:
        """Remove a document; unknown ids are ignored."""

    def search(
        self,
        brand_id: int,
        query_tokens: AnalyzedText,
        visibilities: Sequence[Visibility],
        kinds: Sequence[Kind] = KINDS,
        limit: int = 10,
    ) -> list[Hit]:
        """The best ``limit`` hits of one brand, only among ``visibilities`` and ``kinds``."""

    def max_score(
        self, brand_id: int, query: AnalyzedText, visibilities: Sequence[Visibility] = VISIBILITIES
    ) -> float | None:
        """An upper bound of ``text_score`` for this query in this brand, or None."""

    def reanalyse(self) -> int:
        """Analyse every stored document again under ``config``; rebuild the statistics."""

    def optimize(self) -> None:
        """Compact the index after bulk changes (an import, a re-analysis); results stay."""


def query_tokens(text_: str, config: IndexConfig) -> AnalyzedText:
    """Analyse what a user typed the way documents under ``config`` were analysed."""
    query = analyze_query(text_, grams=config.grams, jieba_words=config.jieba_words)
    if query.grams and len(query.words) > config.gram_max_words:
        return AnalyzedText(query.words, (), query.language, query.stem_grams)
    return query


# --- DDL ------------------------------------------------------------------------------------

_DOCUMENT_COLUMNS: Final = """
    brand_id BIGINT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    ref_id VARCHAR(64) NOT NULL,
    language VARCHAR(16) NOT NULL,
    visibility VARCHAR(16) NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    helpful_votes INTEGER NOT NULL DEFAULT 0,
    unhelpful_votes INTEGER NOT NULL DEFAULT 0,
    accepted BOOLEAN NOT NULL DEFAULT FALSE,
    brand_approved BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT ck_search_document_kind CHECK (kind IN ('article', 'question', 'ticket')),
    CONSTRAINT ck_search_document_visibility
        CHECK (visibility IN ('public', 'experts', 'staff')),
    CONSTRAINT uq_search_document_brand_id_kind_ref_id UNIQUE (brand_id, kind, ref_id)"""

SQLITE_DDL: Final[tuple[str, ...]] = (
    f"CREATE TABLE IF NOT EXISTS search_document (\n"
    f"    id INTEGER PRIMARY KEY,{_DOCUMENT_COLUMNS}\n)",
    "CREATE INDEX IF NOT EXISTS ix_search_document_brand_id_visibility "
    "ON search_document (brand_id, visibility, kind)",
    # Pre-analysed tokens, space separated; rowid = search_document.id. ``scope`` holds one
    # token per document, its brand and visibility (:func:`scope_token`), so that a small
    # brand's query matches only its own documents instead of every brand's (weight 0 in
    # bm25(): it never scores).
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "title, body, grams, scope, tokenize = 'unicode61 remove_diacritics 0')",
    # Document frequency of every token per brand and visibility (field 'w' = title/body
    # words, 'g' = grams): a viewer's statistics sum only the visibilities they may see.
    "CREATE TABLE IF NOT EXISTS search_term (\n"
    "    brand_id BIGINT NOT NULL,\n"
    "    visibility VARCHAR(16) NOT NULL,\n"
    "    field CHAR(1) NOT NULL,\n"
    "    term TEXT NOT NULL,\n"
    "    df INTEGER NOT NULL,\n"
    "    PRIMARY KEY (brand_id, term, field, visibility)\n) WITHOUT ROWID",
    # Document count and token totals per brand and visibility (BM25's N, average length).
    "CREATE TABLE IF NOT EXISTS search_stats (\n"
    "    brand_id BIGINT NOT NULL,\n"
    "    visibility VARCHAR(16) NOT NULL,\n"
    "    documents INTEGER NOT NULL DEFAULT 0,\n"
    "    word_tokens INTEGER NOT NULL DEFAULT 0,\n"
    "    gram_tokens INTEGER NOT NULL DEFAULT 0,\n"
    "    PRIMARY KEY (brand_id, visibility)\n)",
)

POSTGRES_DDL: Final[tuple[str, ...]] = (
    f"CREATE TABLE IF NOT EXISTS search_document (\n"
    f"    id BIGSERIAL PRIMARY KEY,{_DOCUMENT_COLUMNS},\n"
    f"    tsv TSVECTOR NOT NULL,\n"
    # The analysed tokens, space separated, for the BM25 re-ranker (tsv is what GIN finds).
    f"    t_title TEXT NOT NULL DEFAULT '',\n"
    f"    t_body TEXT NOT NULL DEFAULT '',\n"
    f"    t_grams TEXT NOT NULL DEFAULT ''\n)",
    "CREATE INDEX IF NOT EXISTS ix_search_document_brand_id_visibility "
    "ON search_document (brand_id, visibility, kind)",
    "CREATE INDEX IF NOT EXISTS ix_search_document_tsv ON search_document USING GIN (tsv)",
    "CREATE TABLE IF NOT EXISTS search_term (\n"
    "    brand_id BIGINT NOT NULL,\n"
    "    visibility VARCHAR(16) NOT NULL,\n"
    "    field CHAR(1) NOT NULL,\n"
    "    term TEXT NOT NULL,\n"
    "    df INTEGER NOT NULL,\n"
    "    PRIMARY KEY (brand_id, term, field, visibility)\n)",
    "CREATE TABLE IF NOT EXISTS search_stats (\n"
    "    brand_id BIGINT NOT NULL,\n"
    "    visibility VARCHAR(16) NOT NULL,\n"
    "    documents INTEGER NOT NULL DEFAULT 0,\n"
    "    word_tokens INTEGER NOT NULL DEFAULT 0,\n"
    "    gram_tokens INTEGER NOT NULL DEFAULT 0,\n"
    "    PRIMARY KEY (brand_id, visibility)\n)",
)

SQLITE_DDL_SQL: Final = ";\n".join(SQLITE_DDL) + ";\n"
POSTGRES_DDL_SQL: Final = ";\n".join(POSTGRES_DDL) + ";\n"


def create_sqlite_index(conn: Connection) -> None:
    for statement in SQLITE_DDL:
        conn.execute(text(statement))


def create_postgres_index(conn: Connection) -> None:
    for statement in POSTGRES_DDL:
        conn.execute(text(statement))


# --- shared helpers -------------------------------------------------------------------------
# SQL below is assembled only from module constants and generated placeholder names
# (":v0, :v1"); every value, token and filter travels as a bound parameter (hence S608 noqa).


def scope_token(brand_id: int, visibility: str) -> str:
    """The SQLite index's token for a brand and visibility ("s12public"): letters and digits
    only, so FTS5's tokenizer keeps it whole. Migration 0014 writes the same spelling."""
    return f"s{int(brand_id)}{visibility}"


_SCOPE_TOKEN: Final = re.compile(r"s\d+(?:public|experts|staff)")


def _analysed_fields(doc: IndexDocument, config: IndexConfig) -> tuple[str, str, str]:
    return analyse_document(doc.title, doc.body, doc.language, config)


@lru_cache(maxsize=64)
def analyse_document(
    title_: str, body_: str, language: str, config: IndexConfig
) -> tuple[str, str, str]:
    """A document's stored fields (title words, body words, trigrams). Remembered for the
    last few documents, so a use case can analyse one before it takes the write lock
    (``search.service.prepare``) and the index's add inside the lock finds it done."""
    # The document's language is known: skip detection (it costs as much as the analysis).
    lang: Any = language if language in ("zh-Hans", "zh-Hant", "ru", "en") else "en"
    title = analyze(title_, jieba_words=config.jieba_words, language=lang)
    body = analyze(body_, grams=config.grams, jieba_words=config.jieba_words, language=lang)
    grams = analyze(title_, grams=True, language=lang).grams + body.grams if config.grams else ()
    return " ".join(title.words), " ".join(body.words), " ".join(grams)


@lru_cache(maxsize=64)
def _sql(statement: str) -> TextClause:
    """A statement of the write path, parsed once: ``text()`` costs tens of µs a call (it
    scans for bind names), as much as SQLite takes to run a vote's re-add's read."""
    return text(statement)


def _row_params(doc: IndexDocument) -> dict[str, Any]:
    return {
        "brand_id": doc.brand_id,
        "kind": doc.kind,
        "ref_id": doc.ref_id,
        "language": doc.language,
        "visibility": doc.visibility,
        "title": doc.title,
        "body": doc.body,
        "helpful_votes": doc.helpful_votes,
        "unhelpful_votes": doc.unhelpful_votes,
        "accepted": doc.accepted,
        "brand_approved": doc.brand_approved,
        "updated_at": doc.updated_at,
    }


_INSERT_COLUMNS: Final = (
    "brand_id, kind, ref_id, language, visibility, title, body, helpful_votes, "
    "unhelpful_votes, accepted, brand_approved, updated_at"
)
_INSERT_VALUES: Final = (
    ":brand_id, :kind, :ref_id, :language, :visibility, :title, :body, :helpful_votes, "
    ":unhelpful_votes, :accepted, :brand_approved, :updated_at"
)
_HIT_COLUMNS: Final = (
    "d.kind, d.ref_id, d.language, d.visibility, d.title, d.helpful_votes, "
    "d.unhelpful_votes, d.accepted, d.brand_approved, d.updated_at"
)


def _checked(visibilities: Sequence[str], kinds: Sequence[str]) -> tuple[list[str], list[str]]:
    """Whitelist filter values (they become bound parameters, but unknown ones mean nothing)."""
    vis: list[str] = [v for v in dict.fromkeys(visibilities) if v in VISIBILITIES]
    knd: list[str] = [k for k in dict.fromkeys(kinds) if k in KINDS]
    return vis, knd


def _in_clause(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    keys = [f"{name}{i}" for i in range(len(values))]
    return ", ".join(f":{k}" for k in keys), dict(zip(keys, values, strict=True))


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _hit(row: Any, score: float) -> Hit:
    return Hit(
        kind=row.kind,
        ref_id=str(row.ref_id),
        language=row.language,
        visibility=row.visibility,
        title=row.title,
        text_score=float(score),
        helpful_votes=int(row.helpful_votes),
        unhelpful_votes=int(row.unhelpful_votes),
        accepted=bool(row.accepted),
        brand_approved=bool(row.brand_approved),
        updated_at=_as_datetime(row.updated_at),
    )


def _quoted(tokens: Iterable[str]) -> list[str]:
    return ['"' + t.replace('"', '""') + '"' for t in tokens if t]


# --- BM25 over either backend ----------------------------------------------------------------


class _Bm25Index(ABC):
    """What both backends share: per-brand statistics, candidate selection and Lucene BM25.

    The backend's own text index finds the candidates (FTS5 ``MATCH`` or a ``tsvector`` query,
    + brand + visibility + kind, ordered by its own rank); the best
    ``config.rerank_candidates`` of them are re-scored here with Lucene BM25: word fields
    (title weighted over body) plus ``gram_weight`` × BM25 on trigrams. So both backends rank
    alike and give scores on one scale (the out-of-scope threshold is calibrated on it, and
    :meth:`max_score` bounds it).

    What a query costs is what the text index scores: every document its generating tokens
    match, times the tokens in the expression. So only the query's rarer tokens generate
    candidates (see :meth:`_candidate_tokens`), the other informative ones only order them
    (:meth:`_ordering_tokens`), and every query token counts in the re-ranking score.

    Per-brand statistics (``search_stats``) and document frequencies (``search_term``) are
    kept in the writer's transaction. Those read by one object are cached in it (a search and
    its ``max_score`` read the same ones) and dropped on every write made through it; an
    object lives for one unit of work, so it never sees another's writes anyway.
    """

    def __init__(self, conn: Connection, config: IndexConfig | None = None) -> None:
        self.conn = conn
        self.config = config or IndexConfig()
        self._stats_cache: dict[tuple[int, tuple[str, ...]], tuple[int, float, float] | None]
        self._stats_cache = {}
        self._df_cache: dict[tuple[int, tuple[str, ...], str, str], int] = {}
        self._all_documents: int | None = None

    def _forget(self) -> None:
        self._stats_cache.clear()
        self._df_cache.clear()
        self._all_documents = None

    def _lock_brand(self, brand_id: int) -> None:  # noqa: B027 (a no-op unless overridden)
        """Called before any change to a brand's index: nothing to do where writers are
        serial anyway (SQLite); PostgresSearchIndex takes the brand's statistics row."""

    def _indexed(self, brand_id: int, kind: Kind, ref_id: str) -> bool:
        """Whether the document is stored, as far as this transaction can see: one probe of
        the (brand_id, kind, ref_id) unique index, taking no lock. A delete checks it first,
        because most find nothing (every vote on an unsolved question removes it from the
        index again, only solved ones being searchable): on PostgreSQL such a delete then
        neither takes the brand's statistics row nor waits for whoever holds it."""
        return (
            self.conn.execute(
                _sql(
                    "SELECT 1 FROM search_document "
                    "WHERE brand_id = :brand_id AND kind = :kind AND ref_id = :ref_id"
                ),
                {"brand_id": brand_id, "kind": kind, "ref_id": ref_id},
            ).first()
            is not None
        )

    def add(self, document: IndexDocument) -> None:
        self._lock_brand(document.brand_id)
        # One read says both whether the document is there unchanged and, when it is there
        # changed, what it counted for (its stored tokens), so that only the difference moves.
        params = _row_params(document)
        current = self.conn.execute(_sql(self._CURRENT_SQL), params).one_or_none()
        if current is not None and current.same:
            # A vote or a "helpful" click re-adds a document whose text is unchanged: then
            # only its ranking signals move (re-analysing it would rewrite hundreds of terms).
            self.conn.execute(
                _sql(
                    "UPDATE search_document SET helpful_votes = :helpful_votes, "
                    "unhelpful_votes = :unhelpful_votes, accepted = :accepted, "
                    "brand_approved = :brand_approved, updated_at = :updated_at WHERE id = :id"
                ),
                {**params, "id": current.id, "updated_at": self._timestamp(document.updated_at)},
            )
            return
        self._forget()
        tally = _Tally()
        if current is not None:  # (None: never indexed, as a newly solved question)
            self._drop(int(current.id))
            if current.t_title is not None:
                tally.add(document.brand_id, current.visibility, current.t_title,
                          current.t_body, current.t_grams, sign=-1)  # fmt: skip
        self._insert([document], tally, {document.brand_id})
        self._apply(tally)
        self._forget()

    def add_many(self, documents: Iterable[IndexDocument]) -> None:
        """Add many documents (no replacement check: for a fresh index or a rebuild)."""
        self._forget()
        tally = _Tally()
        self._insert(documents, tally, set())
        self._apply(tally)
        self._forget()

    def _timestamp(self, value: datetime) -> Any:
        """A timestamp as this backend stores it."""
        return _as_datetime(value)

    def _bump_stats(
        self, brand_id: int, visibility: str, documents: int, words: int, grams: int
    ) -> None:
        self.conn.execute(
            _sql(
                "INSERT INTO search_stats (brand_id, visibility, documents, word_tokens, "
                "gram_tokens) VALUES (:brand_id, :visibility, :n, :w, :g) "
                "ON CONFLICT (brand_id, visibility) DO UPDATE SET "
                "documents = search_stats.documents + excluded.documents, "
                "word_tokens = search_stats.word_tokens + excluded.word_tokens, "
                "gram_tokens = search_stats.gram_tokens + excluded.gram_tokens"
            ),
            {
                "brand_id": brand_id,
                "visibility": visibility,
                "n": documents,
                "w": words,
                "g": grams,
            },
        )

    @abstractmethod
    def _bump_terms(self, rows: Sequence[tuple[int, str, str, str, int]]) -> None:
        """Move the document frequencies of (brand, visibility, field, term) by ``df``, in
        the order given, in as few statements as the backend allows."""

    def search(
        self,
        brand_id: int,
        query_tokens: AnalyzedText,
        visibilities: Sequence[Visibility],
        kinds: Sequence[Kind] = KINDS,
        limit: int = 10,
    ) -> list[Hit]:
        vis, knd = _checked(visibilities, kinds)
        cfg = self.config
        rerank = cfg.rerank_candidates > 0
        if not vis or not knd or query_tokens.is_empty() or limit <= 0:
            return []
        scope = tuple(sorted(vis))
        stats = self._stats(brand_id, scope) if rerank else None
        if rerank and stats is None:
            return []  # nothing indexed for this brand
        generating = query_tokens
        ordering: tuple[str, ...] = ()
        dfs: tuple[dict[str, int], dict[str, int]] = ({}, {})
        if rerank and stats is not None:
            dfs = self._document_frequencies(
                brand_id, scope, query_tokens.words, query_tokens.grams if cfg.grams else ()
            )
            if not dfs[0] and not dfs[1]:
                return []  # no query token is in any document this viewer may see
            generating = self._candidate_tokens(query_tokens, dfs, stats[0])
            ordering = self._ordering_tokens(query_tokens, generating, dfs[0], stats[0])
        fetch = max(int(limit), cfg.rerank_candidates) if rerank else int(limit)
        ranked = self._ranked_ids(brand_id, generating, ordering, vis, knd, fetch)
        if not ranked:
            return []
        if rerank and stats is not None:
            tokens = self._tokens([doc_id for doc_id, _rank in ranked])
            found = [tokens[doc_id] for doc_id, _rank in ranked if doc_id in tokens]
            ids = [int(row.id) for row in found]
            scores = self._bm25(stats, query_tokens, dfs, found)
            if cfg.grams and query_tokens.grams:
                pick = sorted(range(len(found)), key=lambda i: (-scores[i], ids[i]))
                if cfg.gram_rerank > 0 and not generating.grams:
                    pick = pick[: cfg.gram_rerank]
                grams = self._grams([int(found[i].id) for i in pick])
                extra = self._bm25_grams(stats, query_tokens, dfs, grams)
                for i, doc_id in zip(pick, (int(found[i].id) for i in pick), strict=True):
                    scores[i] += extra.get(doc_id, 0.0)
            # Ties go to the older document, whatever order the backend found them in.
            order = sorted(range(len(found)), key=lambda i: (-scores[i], ids[i]))[: int(limit)]
            ranked = [(int(found[i].id), scores[i]) for i in order]
        else:
            ranked = [(doc_id, -rank) for doc_id, rank in ranked]
        rows = self._rows([doc_id for doc_id, _score in ranked])
        return [_hit(rows[doc_id], score) for doc_id, score in ranked if doc_id in rows]

    # --- what a backend provides ---

    # SELECT id, t_title, t_body / id, t_grams of the documents whose ids are ``{values}``.
    _TOKENS_SQL: str = ""
    _GRAMS_SQL: str = ""

    # The document of (brand_id, kind, ref_id) if any: its id and visibility, whether it has
    # the given language, visibility, title and body (``same``), and when it has not, its
    # stored tokens (``t_title``, ``t_body``, ``t_grams``: what it counts for).
    _CURRENT_SQL: str = ""

    @abstractmethod
    def _insert(self, documents: Iterable[IndexDocument], tally: _Tally, locked: set[int]) -> None:
        """Insert documents (no replacement check) and tally them; brands in ``locked`` are
        locked already."""

    @abstractmethod
    def _drop(self, doc_id: int) -> None:
        """Delete a stored document by id (its counts are the caller's to take back)."""

    @abstractmethod
    def delete(self, brand_id: int, kind: Kind, ref_id: str) -> None:
        """Remove a document; unknown ids are ignored."""

    @abstractmethod
    def _ranked_ids(
        self,
        brand_id: int,
        generating: AnalyzedText,
        ordering: Sequence[str],
        vis: list[str],
        knd: list[str],
        fetch: int,
    ) -> list[tuple[int, float]]:
        """The ``fetch`` best (id, backend rank: lower is better) among the brand's visible
        documents that ``generating`` matches, ordered by the query's tokens."""

    @abstractmethod
    def _select_in(
        self, sql: str, values: Sequence[Any], params: dict[str, Any] | None = None
    ) -> Sequence[Any]:
        """Run ``sql`` with ``{values}`` standing for a list of values (``x IN ({values})``)."""

    @abstractmethod
    def _rewrite(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store new analysed fields (``id``, ``title``, ``body``, ``grams``) of documents."""

    # --- shared ---

    def reanalyse(self) -> int:
        """Analyse every stored document again under this index's configuration and rebuild
        the statistics from them: after the analysis or the configuration changed (a
        migration or ``crowdcx reindex``). Returns how many documents were analysed."""
        self._forget()
        self.conn.execute(text("DELETE FROM search_term"))
        self.conn.execute(text("DELETE FROM search_stats"))
        tally = _Tally()
        done = last = 0
        while True:
            rows = self.conn.execute(
                text(
                    "SELECT id, brand_id, kind, ref_id, language, visibility, title, body "
                    "FROM search_document WHERE id > :last ORDER BY id LIMIT 500"
                ),
                {"last": last},
            ).all()
            if not rows:
                break
            batch: list[dict[str, Any]] = []
            for r in rows:
                doc = IndexDocument(
                    int(r.brand_id), r.kind, r.ref_id, r.language, r.visibility, r.title, r.body
                )
                title, body, grams = _analysed_fields(doc, self.config)
                batch.append(
                    {"id": int(r.id), "title": title, "body": body, "grams": grams,
                     "scope": scope_token(doc.brand_id, doc.visibility)}
                )  # fmt: skip
                tally.add(doc.brand_id, doc.visibility, title, body, grams)
            self._rewrite(batch)
            done += len(rows)
            last = int(rows[-1].id)
        self._apply(tally)
        self._forget()
        return done

    def optimize(self) -> None:
        """Compact the index after bulk changes; results stay the same. Both backends drop
        the term counts that fell to 0 (a term no document holds any more reads as unknown
        either way; the rows only grow with churn). PostgreSQL's autovacuum merges GIN
        pending lists by itself."""
        self.conn.execute(text("DELETE FROM search_term WHERE df <= 0"))
        self._forget()

    def _tokens(self, ids: Sequence[int]) -> dict[int, Any]:
        """The stored (analysed) words of documents by id, for the re-ranker."""
        rows = self._select_in(self._TOKENS_SQL, [int(i) for i in ids])
        return {int(row.id): row for row in rows}

    def _grams(self, ids: Sequence[int]) -> dict[int, tuple[str, int]]:
        """The stored trigrams of documents by id, and how many of them (the first ones)
        are the title's."""
        rows = self._select_in(self._GRAMS_SQL, [int(i) for i in ids])
        return {int(row.id): (str(row.t_grams), gram_count(str(row.title))) for row in rows}

    def _apply(self, tally: _Tally) -> None:
        """Move the brands' statistics and document frequencies by what was tallied (added
        documents count up, removed ones down): one statistics row per brand and visibility
        that moved, then the term counts that moved, in one order for every writer (so that
        concurrent PostgreSQL writers lock rows alike)."""
        for (brand_id, vis), (n, words, grams) in sorted(tally.totals.items()):
            if n or words or grams:
                self._bump_stats(brand_id, vis, n, words, grams)
        rows = [
            (brand_id, vis, f, t, n)
            for (brand_id, vis), counts in sorted(tally.terms.items())
            for (f, t), n in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0]))
            if t and n
        ]
        for start in range(0, len(rows), _TERM_CHUNK):
            self._bump_terms(rows[start : start + _TERM_CHUNK])

    def _rows(self, ids: Sequence[int]) -> dict[int, Any]:
        """The hit columns of documents by id."""
        if not ids:
            return {}
        keys, params = _in_clause("i", ids)
        rows = self.conn.execute(
            text(f"SELECT d.id, {_HIT_COLUMNS} FROM search_document AS d WHERE d.id IN ({keys})"),  # noqa: S608
            params,
        ).all()
        return {int(row.id): row for row in rows}

    def max_score(
        self, brand_id: int, query: AnalyzedText, visibilities: Sequence[Visibility] = VISIBILITIES
    ) -> float | None:
        """The most BM25 any document of this brand could score for ``query``: every token
        saturated (term frequency → ∞ gives idf × (k1 + 1)). A hit's score divided by this is
        the share of the query's evidence it holds (see search.rules.confidence). Tokens the
        brand has never seen count at full idf, so off-topic words lower the confidence. Like
        the scores, it counts only documents of ``visibilities``."""
        scope = tuple(sorted(_checked(visibilities, KINDS)[0]))
        stats = self._stats(brand_id, scope)
        if stats is None:
            return None
        n_docs = stats[0]
        cfg = self.config
        grams = query.grams if cfg.grams else ()
        df_words, df_grams = self._document_frequencies(brand_id, scope, query.words, grams)

        def idf(df: int) -> float:
            return _idf(df, n_docs)

        # A Han bigram the brand has never seen is mostly a cross-word boundary ("连不" of
        # 连不上), not missing evidence: it does not raise the bound. Unknown words in other
        # scripts (and unknown Han characters) do: they are what an off-topic query is made of.
        # Nor does a Chinese function word the brand never wrote (怎么办, 如何, 吗): a question
        # asked the way people talk is not off topic for it ("iPhone退款怎么办" was).
        # (Unless the query is nothing else: then there is nothing else it asks.)
        function = query.function_words if set(query.words) - query.function_words else ()
        total = sum(
            idf(df_words.get(t, 0))
            for t in dict.fromkeys(query.words)
            if df_words.get(t, 0) or not (_HAN_BIGRAM.fullmatch(t) or t in function)
        )
        total += cfg.gram_weight * sum(idf(df_grams.get(t, 0)) for t in dict.fromkeys(grams))
        return total * (cfg.k1 + 1)

    def _stats(self, brand_id: int, scope: tuple[str, ...]) -> tuple[int, float, float] | None:
        """(documents, average word tokens, average gram tokens) of one brand's documents of
        the visibilities in ``scope``: what a viewer may see is all their statistics count,
        so no score reveals a document they may not see."""
        key = (brand_id, scope)
        if key not in self._stats_cache:
            self._stats_cache[key] = self._read_stats(brand_id, scope)
        return self._stats_cache[key]

    def _read_stats(self, brand_id: int, scope: tuple[str, ...]) -> tuple[int, float, float] | None:
        if not scope:
            return None
        vis_sql, vis_params = _in_clause("v", scope)
        row = self.conn.execute(
            text(
                "SELECT sum(documents) AS documents, sum(word_tokens) AS word_tokens, "  # noqa: S608
                "sum(gram_tokens) AS gram_tokens, "
                "(SELECT sum(documents) FROM search_stats) AS all_documents FROM search_stats "
                f"WHERE brand_id = :brand_id AND visibility IN ({vis_sql})"
            ),
            {"brand_id": brand_id, **vis_params},
        ).one_or_none()
        if row is not None:
            self._all_documents = int(row.all_documents or 0)
        if row is None or int(row.documents or 0) <= 0:
            return None
        n = int(row.documents)
        return n, max(int(row.word_tokens) / n, 1.0), max(int(row.gram_tokens) / n, 1.0)

    def _brand_share(self, brand_id: int, scope: tuple[str, ...]) -> float:
        """The share of every indexed document that the brand/visibility filter lets through
        (1.0 for a one-brand index searched at every visibility)."""
        stats = self._stats(brand_id, scope)  # reads the total as well
        if stats is None:
            return 0.0
        if self._all_documents is None:
            total = self.conn.execute(text("SELECT sum(documents) FROM search_stats")).scalar()
            self._all_documents = int(total or 0)
        return stats[0] / max(self._all_documents, stats[0])

    def _candidate_tokens(
        self, query: AnalyzedText, dfs: tuple[dict[str, int], dict[str, int]], n_docs: int
    ) -> AnalyzedText:
        """The tokens whose documents become candidates.

        FTS5 scores every document any of them matches, so they are what a query costs.
        Unknown tokens match nothing; a Han character goes when a query bigram holding it
        generates (its documents hold the character too); tokens in more than
        ``candidate_max_df`` of a large index go; then the rarest stay while their document
        frequencies add up to ``candidate_budget`` (the rarest one always), at most
        ``_MAX_GENERATING`` of them (a long Chinese question has dozens of rare bigrams, and
        each one adds FTS5 work on every candidate). When no token is rare enough, the 3
        rarest generate. Every query token still counts in the order of
        the candidates (see :meth:`_ordering_tokens`) and in the re-ranking.
        """
        cfg = self.config
        cap = max(cfg.rerank_candidates, cfg.candidate_max_df * n_docs)
        budget = cfg.candidate_budget

        def keep(tokens: Sequence[str], df: dict[str, int], words: bool) -> tuple[str, ...]:
            rare = [t for t in tokens if 0 < df.get(t, 0) <= cap]
            if not rare:
                if not tokens:
                    return ()
                return tuple(sorted(tokens, key=lambda t: df.get(t, 0) or n_docs + 1)[:3])
            if not words:  # trigrams (typo tolerance) need many weak matches: no budget
                return tuple(rare)
            covered = {ch for t in rare if _HAN_BIGRAM.fullmatch(t) for ch in t}
            rare = [t for t in rare if t not in covered] or rare
            if budget <= 0:
                return tuple(rare)
            chosen: set[str] = set()
            total = 0
            for t in sorted(rare, key=lambda t: df[t]):
                total += df[t]
                if chosen and total > budget:
                    break
                chosen.add(t)
            if len(chosen) > _MAX_GENERATING:
                chosen = set(sorted(chosen, key=lambda t: df[t])[:_MAX_GENERATING])
            return tuple(t for t in rare if t in chosen)

        words = keep(query.words, dfs[0], True)
        grams: tuple[str, ...] = ()
        if cfg.gram_generate or not any(dfs[0].get(t, 0) for t in words):
            grams = keep(query.grams, dfs[1], False)  # no query word is known: all trigrams
        elif query.grams:
            # Words the brand has never seen are mostly typos ("my ordr"): their trigrams
            # generate too, the rarest within the budget, beside the known words.
            unknown = [t for t in query.words if not dfs[0].get(t, 0) and not _HAN_CHAR.search(t)]
            typed = dict(query.stem_grams)  # the trigrams of each word as it was typed
            of_unknown = {g for u in unknown for g in typed.get(u, ())}
            typo = [g for g in query.grams if g in of_unknown or any(g in u for u in unknown)]
            grams = keep(typo, dfs[1], True) if typo else ()
        return AnalyzedText(words, grams, query.language)

    def _ordering_tokens(
        self, query: AnalyzedText, generating: AnalyzedText, df: dict[str, int], n_docs: int
    ) -> tuple[str, ...]:
        """Query words that do not generate candidates but order them in FTS5 (so the best
        ``rerank_candidates`` by FTS5 are close to the best by the full query): known ones in
        at most ``order_max_df`` of the brand's documents, the rarest first, Han characters
        left out (their bigrams say more and they are the commonest tokens)."""
        cfg = self.config
        if cfg.order_max_df <= 0 or not generating.words:
            return ()
        taken = set(generating.words)
        cap = cfg.order_max_df * n_docs
        extra = [
            t
            for t in query.words
            if t not in taken and 0 < df.get(t, 0) <= cap and not _HAN_CHAR.fullmatch(t)
        ]
        return tuple(sorted(extra, key=lambda t: df[t])[:_MAX_ORDERING])

    def _bm25(
        self,
        stats: tuple[int, float, float],
        query: AnalyzedText,
        dfs: tuple[dict[str, int], dict[str, int]],
        rows: Sequence[Any],
    ) -> list[float]:
        """BM25F of the query's words for each row: Lucene's idf and saturation over one
        weighted term frequency, ``title_weight`` × the title's + ``body_weight`` × the
        body's divided by the document's length norm. Only the body is length-normalised:
        a title says what the whole document is about, so a long guide titled exactly as
        asked is not outranked by short articles sharing a word or two of it (with the
        title under the norm it scored a quarter of theirs). Without a title this is
        Lucene BM25 exactly."""
        cfg = self.config
        n_docs, avg_words, _avg_grams = stats
        idf_words = {t: _idf(dfs[0].get(t, 0), n_docs) for t in query.words}
        k1, b = cfg.k1, cfg.b
        w_title, w_body = cfg.title_weight, cfg.body_weight
        wanted = frozenset(idf_words).__contains__
        scores: list[float] = []
        for row in rows:
            # Term frequencies of the query's tokens only (the rest only count for length).
            title_tokens = row.t_title.split()
            body_tokens = row.t_body.split()
            length = len(title_tokens) + len(body_tokens)
            body_weight = w_body / (1 - b + b * length / avg_words)
            tf: dict[str, float] = {}
            for token in filter(wanted, title_tokens):
                tf[token] = tf.get(token, 0.0) + w_title
            for token in filter(wanted, body_tokens):
                tf[token] = tf.get(token, 0.0) + body_weight
            total = 0.0
            for token, f in tf.items():
                total += idf_words[token] * f * (k1 + 1) / (f + k1)
            scores.append(total)
        return scores

    def _bm25_grams(
        self,
        stats: tuple[int, float, float],
        query: AnalyzedText,
        dfs: tuple[dict[str, int], dict[str, int]],
        grams: dict[int, tuple[str, int]],
    ) -> dict[int, float]:
        """``gram_weight`` × BM25F of the query's trigrams, per document id: as for words
        (:meth:`_bm25`), the title's trigrams are not length-normalised, the body's are."""
        cfg = self.config
        n_docs, _avg_words, avg_grams = stats
        idf_grams = {t: _idf(dfs[1].get(t, 0), n_docs) for t in query.grams}
        wanted = frozenset(idf_grams).__contains__
        k1, b, weight = cfg.k1, cfg.b, cfg.gram_weight
        out: dict[int, float] = {}
        for doc_id, (stored, in_title) in grams.items():
            tokens = stored.split()
            body_weight = 1 / (1 - b + b * len(tokens) / avg_grams)
            tf: dict[str, float] = {}
            for t in filter(wanted, tokens[:in_title]):
                tf[t] = tf.get(t, 0.0) + 1.0
            for t in filter(wanted, tokens[in_title:]):
                tf[t] = tf.get(t, 0.0) + body_weight
            out[doc_id] = weight * sum(
                idf_grams[t] * g * (k1 + 1) / (g + k1) for t, g in tf.items()
            )
        return out

    def _document_frequencies(
        self, brand_id: int, scope: tuple[str, ...], words: Sequence[str], grams: Sequence[str]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Document frequency of each query token among the brand's documents of the
        visibilities in ``scope`` (0 when unknown there)."""
        cache = self._df_cache
        wanted = [("w", t) for t in dict.fromkeys(words)] + [("g", t) for t in dict.fromkeys(grams)]
        missing = list(dict.fromkeys(t for f, t in wanted if (brand_id, scope, f, t) not in cache))
        vis_sql, vis_params = _in_clause("v", scope or ("-",))
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for term in chunk:
                cache[(brand_id, scope, "w", term)] = cache[(brand_id, scope, "g", term)] = 0
            for term, fld, df in self._select_in(
                "SELECT term, field, sum(df) AS df FROM search_term "  # noqa: S608
                f"WHERE brand_id = :brand_id AND visibility IN ({vis_sql}) "
                "AND term IN ({values}) GROUP BY term, field",
                chunk,
                {"brand_id": brand_id, **vis_params},
            ):
                cache[(brand_id, scope, "g" if str(fld).strip() == "g" else "w", term)] = int(df)
        df_words: dict[str, int] = {}
        df_grams: dict[str, int] = {}
        for fld, term in wanted:
            df = cache[(brand_id, scope, fld, term)]
            if df:
                (df_grams if fld == "g" else df_words)[term] = df
        return df_words, df_grams


# --- SQLite FTS5 ----------------------------------------------------------------------------


class SqliteSearchIndex(_Bm25Index):
    """SQLite FTS5 over pre-analysed tokens (``search_fts``, rowid = search_document.id):
    FTS5 ``MATCH`` finds the candidates and orders them by its ``bm25()``."""

    _TOKENS_SQL = (
        "SELECT f.rowid AS id, f.title AS t_title, f.body AS t_body "
        "FROM search_fts AS f WHERE f.rowid IN ({values})"
    )
    _GRAMS_SQL = (
        "SELECT f.rowid AS id, f.grams AS t_grams, d.title FROM search_fts AS f "
        "JOIN search_document AS d ON d.id = f.rowid WHERE f.rowid IN ({values})"
    )

    _CURRENT_SQL = (
        "SELECT id, visibility, same, "
        "CASE WHEN same THEN NULL ELSE (SELECT title FROM search_fts WHERE rowid = d.id) END "
        "AS t_title, "
        "CASE WHEN same THEN NULL ELSE (SELECT body FROM search_fts WHERE rowid = d.id) END "
        "AS t_body, "
        "CASE WHEN same THEN NULL ELSE (SELECT grams FROM search_fts WHERE rowid = d.id) END "
        "AS t_grams "
        "FROM (SELECT id, visibility, (language = :language AND visibility = :visibility "
        "AND title = :title AND body = :body) AS same FROM search_document "
        "WHERE brand_id = :brand_id AND kind = :kind AND ref_id = :ref_id) AS d"
    )

    def _insert(self, documents: Iterable[IndexDocument], tally: _Tally, locked: set[int]) -> None:
        insert_doc = _sql(
            f"INSERT INTO search_document ({_INSERT_COLUMNS}) VALUES ({_INSERT_VALUES}) "  # noqa: S608
            "RETURNING id"
        )
        insert_fts = _sql(
            "INSERT INTO search_fts (rowid, title, body, grams, scope) "
            "VALUES (:id, :title, :body, :grams, :scope)"
        )
        fts_rows: list[dict[str, Any]] = []
        for doc in documents:
            params = _row_params(doc)
            params["updated_at"] = self._timestamp(doc.updated_at)
            doc_id = self.conn.execute(insert_doc, params).scalar_one()
            title, body, grams = _analysed_fields(doc, self.config)
            fts_rows.append(
                {"id": doc_id, "title": title, "body": body, "grams": grams,
                 "scope": scope_token(doc.brand_id, doc.visibility)}
            )  # fmt: skip
            tally.add(doc.brand_id, doc.visibility, title, body, grams)
            if len(fts_rows) >= 1000:
                self.conn.execute(insert_fts, fts_rows)
                fts_rows = []
        if fts_rows:
            self.conn.execute(insert_fts, fts_rows)

    def _drop(self, doc_id: int) -> None:
        self.conn.execute(_sql("DELETE FROM search_fts WHERE rowid = :id"), {"id": doc_id})
        self.conn.execute(_sql("DELETE FROM search_document WHERE id = :id"), {"id": doc_id})

    def _bump_terms(self, rows: Sequence[tuple[int, str, str, str, int]]) -> None:
        # An executemany: SQLite runs it in-process on one prepared statement. One INSERT ...
        # SELECT over json_each(:rows) was no faster (2026-12-07, ~200 rows: min 439 µs
        # against 378 of 9 runs), unlike PostgreSQL's unnest, which saves the round trips.
        self.conn.execute(
            _sql(
                "INSERT INTO search_term (brand_id, visibility, field, term, df) "
                "VALUES (:b, :v, :f, :t, :df) ON CONFLICT (brand_id, term, field, visibility) "
                "DO UPDATE SET df = search_term.df + excluded.df"
            ),
            [{"b": b, "v": v, "f": f, "t": t, "df": n} for b, v, f, t, n in rows],
        )

    def optimize(self) -> None:
        """FTS5 ``optimize``: merge the full-text index's segments into one. Each write
        transaction adds a segment and FTS5 merges them only in part as it goes, and a query
        reads every segment: at 100,000 documents a bulk-built index answered 4 % faster at
        p95 after it (bench/search_latency.py, A/B on one index), for 1.9 s of merging."""
        super().optimize()
        self.conn.execute(text("INSERT INTO search_fts (search_fts) VALUES ('optimize')"))

    def delete(self, brand_id: int, kind: Kind, ref_id: str) -> None:
        if not self._indexed(brand_id, kind, ref_id):
            return  # a read, where a DELETE would begin the write transaction
        self._forget()
        ids = self.conn.execute(
            _sql(
                "DELETE FROM search_document WHERE brand_id = :brand_id "
                "AND kind = :kind AND ref_id = :ref_id RETURNING id, visibility"
            ),
            {"brand_id": brand_id, "kind": kind, "ref_id": ref_id},
        ).all()
        tally = _Tally()
        for doc_id, visibility in ids:
            row = self.conn.execute(
                _sql("SELECT title, body, grams FROM search_fts WHERE rowid = :id"),
                {"id": doc_id},
            ).one_or_none()
            self.conn.execute(_sql("DELETE FROM search_fts WHERE rowid = :id"), {"id": doc_id})
            if row is not None:
                tally.add(brand_id, visibility, row.title, row.body, row.grams, sign=-1)
        self._apply(tally)

    def _timestamp(self, value: datetime) -> Any:
        return _as_datetime(value).isoformat()  # as every SQLite row of search_document

    def _rewrite(self, rows: Sequence[dict[str, Any]]) -> None:
        self.conn.execute(text("DELETE FROM search_fts WHERE rowid = :id"), list(rows))
        # Migration 0010 re-analyses with this code before 0014 adds the scope column.
        columns = {r[1] for r in self.conn.execute(text("PRAGMA table_info(search_fts)"))}
        scope = ("", "") if "scope" not in columns else (", scope", ", :scope")
        self.conn.execute(
            text(
                f"INSERT INTO search_fts (rowid, title, body, grams{scope[0]}) "  # noqa: S608
                f"VALUES (:id, :title, :body, :grams{scope[1]})"
            ),
            list(rows),
        )

    def match_expression(self, query: AnalyzedText, ordering: Sequence[str] = ()) -> str:
        """The FTS5 MATCH string: every token quoted (FTS5 syntax in a query is just text).

        ``ordering`` tokens do not widen the match, they only take part in FTS5's ``bm25()``
        (``G AND (G OR O)`` matches exactly what ``G`` does), so the candidates the
        re-ranker gets are ordered by the whole query, not only by its rarer words.
        """
        words = _quoted(query.words)
        grams = _quoted(query.grams) if self.config.grams else []
        order = _quoted(ordering) if words else []
        word_expr = " OR ".join(words)
        if order:
            word_expr = f"({word_expr}) AND ({word_expr} OR {' OR '.join(order)})"
        if not self.config.grams:
            # Without trigrams the grams column is empty (and weighs 0 in bm25()): a column
            # filter would only make FTS5 decode every position list it reads — unless a
            # word is spelled like a scope token, which must not match the scope column.
            if any(_SCOPE_TOKEN.fullmatch(t) for t in (*query.words, *ordering)):
                return "{title body} : (" + word_expr + ")" if word_expr else ""
            return word_expr
        # With them, a short word ("pay") is also some document's trigram: words look only
        # in title and body, trigrams only in the grams column.
        parts: list[str] = []
        if words:
            parts.append("{title body} : (" + word_expr + ")")
        if grams:
            parts.append("{grams} : (" + " OR ".join(grams) + ")")
        return " OR ".join(parts)

    def _ranked_ids(
        self,
        brand_id: int,
        generating: AnalyzedText,
        ordering: Sequence[str],
        vis: list[str],
        knd: list[str],
        fetch: int,
    ) -> list[tuple[int, float]]:
        """The ``fetch`` best (id, FTS5 bm25) of the brand's visible matches, best first.

        FTS5 has to score every match either way; joining each one to ``search_document``
        for the brand/visibility/kind filter costs as much again. When the brand holds most
        of the index, rank first and filter only the best few (exact: if enough of them pass,
        they are the best that pass). Otherwise the match itself is limited to the brand's
        visible documents by their scope tokens, so a small brand's query does not score
        every other brand's matches (at 100,000 documents in another brand, 30 → 5 ms per
        search); the join still checks brand, visibility and kind.
        """
        match = self.match_expression(generating, ordering)
        if not match:
            return []
        share = self._brand_share(brand_id, tuple(sorted(vis)))
        if share < 1.0 and self.config.scoped_window and self.config.rerank_candidates > 0:
            # Only then: FTS5's window is exact for a viewer who sees everything and better
            # than presence alone on one-word queries over documents of many repeats
            # (test_both_backends_agree_beyond_the_candidate_window). The price: whether the
            # index holds any document this viewer cannot see at all picks the window.
            fetch = max(fetch, self.config.scoped_rescore)
            found = self._scoped_window(
                brand_id, generating, ordering, vis, knd, fetch, share < _PREFILTER_SHARE
            )
            vis_params = _in_clause("v", vis)[1]
            kind_sql, kind_params = _in_clause("k", knd)
            scoped = {"brand_id": brand_id, **vis_params, **kind_params}
            return self._with_titles(found, generating, fetch, vis, kind_sql, scoped)
        if share < 1.0 and self.config.rerank_candidates > 0:
            # bm25()'s idf and average length count what this viewer cannot see: re-score
            # every match (up to scoped_rescore), so which ones do does not depend on it.
            fetch = max(fetch, self.config.scoped_rescore)
        vis_sql, vis_params = _in_clause("v", vis)
        kind_sql, kind_params = _in_clause("k", knd)
        params: dict[str, Any] = {
            "match": match,
            "brand_id": brand_id,
            "w_title": self.config.title_weight,
            "w_body": self.config.body_weight,
            "w_grams": self.config.gram_weight,
            **vis_params,
            **kind_params,
        }
        rank_sql = "bm25(search_fts, :w_title, :w_body, :w_grams, 0)"
        if share >= _PREFILTER_SHARE:
            over = fetch * _OVERFETCH
            rows = self.conn.execute(
                text(
                    f"WITH top AS (SELECT rowid AS id, {rank_sql} AS rank FROM search_fts "  # noqa: S608
                    "WHERE search_fts MATCH :match ORDER BY rank LIMIT :over) "
                    "SELECT top.id, top.rank, (d.brand_id = :brand_id "
                    f"AND d.visibility IN ({vis_sql}) AND d.kind IN ({kind_sql})) AS ok "
                    "FROM top LEFT JOIN search_document AS d ON d.id = top.id "
                    "ORDER BY top.rank, top.id"
                ),
                {**params, "over": over},
            ).all()
            passed = [(int(r.id), float(r.rank)) for r in rows if r.ok]
            if len(passed) >= fetch or len(rows) < over:
                return self._with_titles(passed[:fetch], generating, fetch, vis, kind_sql, params)
        rows = self.conn.execute(
            text(
                f"SELECT f.rowid AS id, {rank_sql} AS rank "  # noqa: S608
                "FROM search_fts AS f JOIN search_document AS d ON d.id = f.rowid "
                "WHERE search_fts MATCH :match AND d.brand_id = :brand_id "
                f"AND d.visibility IN ({vis_sql}) AND d.kind IN ({kind_sql}) "
                "ORDER BY rank, f.rowid LIMIT :limit"
            ),
            {**params, "match": self._scoped(brand_id, vis, match), "limit": fetch},
        ).all()
        found = [(int(r.id), float(r.rank)) for r in rows]
        return self._with_titles(found, generating, fetch, vis, kind_sql, params)

    def _scoped_window(
        self,
        brand_id: int,
        generating: AnalyzedText,
        ordering: Sequence[str],
        vis: list[str],
        knd: list[str],
        fetch: int,
        scoped: bool,
    ) -> list[tuple[int, float]]:
        """The ``fetch`` best (id, -window score) of the brand's visible documents that
        ``generating`` matches, by a score of the viewer's statistics only: the sum of the
        idf (over what the viewer may see) of each generating and ordering token the
        document holds (a word in its title or body, a trigram in its trigrams), a
        generating word in its title counting half as much again; ties go to the older
        document. These are the matches of :meth:`_ranked_ids`' FTS5 query; only which
        ``fetch`` of them get re-ranked differs, and no longer depends on documents the
        viewer cannot see (FTS5's bm25() counts them in its idf and average length).

        It reads FTS5 rowid lists, no ``bm25()``: two per generating word (its documents,
        and those holding it in their title), one per generating trigram, each within the
        viewer's scope tokens when ``scoped`` (a brand holding a small share of the index;
        otherwise intersecting every list with the scope's long one costs more than reading
        other documents and dropping them), and one per ordering word, within the
        documents holding a generating word. Weights are whole numbers (idf × 10⁶), so a
        sum does not depend on the order it was added in. Brand, visibility and kind are
        checked on ``search_document`` in the window's order, as many as it takes."""
        scope_key = tuple(sorted(vis))
        stats = self._stats(brand_id, scope_key)
        if stats is None:
            return []
        n_docs = stats[0]
        grams = generating.grams if self.config.grams else ()
        df_words, df_grams = self._document_frequencies(
            brand_id, scope_key, (*generating.words, *ordering), grams
        )
        scopes = " OR ".join(f'"{scope_token(brand_id, v)}"' for v in vis)
        scope = f"scope : ({scopes}) AND" if scoped else ""
        words = " OR ".join(_quoted(generating.words))
        # (FTS5 query, weight, whether it may add a document): a word's documents, and again
        # those holding it in their title (a title's word weighs more in BM25F), per token.
        lists: list[tuple[str, int, bool]] = []
        for t in filter(None, dict.fromkeys(generating.words)):
            idf = _idf(df_words.get(t, 0), n_docs)
            q = _quoted([t])[0]
            lists.append((f"{scope} {{title body}} : {q}", _weight(idf), True))
            lists.append((f"{scope} {{title}} : {q}", _weight(idf * _TITLE_BONUS), True))
        for t in filter(None, dict.fromkeys(grams)):
            idf = _idf(df_grams.get(t, 0), n_docs) * self.config.gram_weight
            lists.append((f"{scope} {{grams}} : {_quoted([t])[0]}", _weight(idf), True))
        for t in filter(None, dict.fromkeys(ordering) if words else ()):
            idf = _idf(df_words.get(t, 0), n_docs)
            q = _quoted([t])[0]
            among = f"{{title body}} : ({words}) AND"  # only the documents the words match
            lists.append((f"{among} {{title body}} : {q}", _weight(idf), False))
        score: dict[int, int] = {}
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for match, weight, adds in lists:
                for (doc_id,) in cursor.execute(_ROWIDS_SQL, (match,)):
                    if adds:
                        score[doc_id] = score.get(doc_id, 0) + weight
                    elif doc_id in score:
                        score[doc_id] += weight
        finally:
            cursor.close()
        if not score:
            return []
        ranked = sorted(score.items(), key=lambda item: (-item[1], item[0]))
        vis_sql, vis_params = _in_clause("v", vis)
        kind_sql, kind_params = _in_clause("k", knd)
        check = (
            "SELECT d.id FROM search_document AS d WHERE d.id IN ({values}) "  # noqa: S608
            f"AND d.brand_id = :brand_id AND d.visibility IN ({vis_sql}) "
            f"AND d.kind IN ({kind_sql})"
        )
        params = {"brand_id": brand_id, **vis_params, **kind_params}
        found: list[tuple[int, float]] = []
        start, step = 0, fetch * _OVERFETCH
        while len(found) < fetch and start < len(ranked):
            chunk = ranked[start : start + step]
            start += step
            ok = {int(r.id) for r in self._select_in(check, [i for i, _s in chunk], params)}
            found += [(doc_id, -s / 1e6) for doc_id, s in chunk if doc_id in ok]
        return found[:fetch]

    @staticmethod
    def _scoped(brand_id: int, vis: Sequence[str], match: str) -> str:
        scopes = " OR ".join(f'"{scope_token(brand_id, v)}"' for v in vis)
        return f"scope : ({scopes}) AND ({match})"

    def _with_titles(
        self,
        found: list[tuple[int, float]],
        generating: AnalyzedText,
        fetch: int,
        vis: Sequence[str],
        kind_sql: str,
        params: dict[str, Any],
    ) -> list[tuple[int, float]]:
        """``found`` and, when the window was full, the documents whose title holds every
        query word, shortest title first (``_TITLE_WINDOW`` of them). FTS5's ``bm25()``
        divides a title match by the whole document's length (its column weights do not
        change that), so a long article titled exactly as asked ranked below a hundred short
        ones sharing two of its words and never reached the re-ranker, which does not
        (BM25F); PostgreSQL re-scores up to 2,000 matches and found it."""
        if len(found) < fetch or not generating.words or self.config.rerank_candidates <= 0:
            return found  # every match is in the window already
        words = " AND ".join(_quoted(generating.words))
        vis_sql, _same = _in_clause("v", vis)  # the names params binds already
        rows = self.conn.execute(
            text(
                "SELECT f.rowid AS id FROM search_fts AS f "  # noqa: S608
                "JOIN search_document AS d ON d.id = f.rowid "
                "WHERE search_fts MATCH :match AND d.brand_id = :brand_id "
                f"AND d.visibility IN ({vis_sql}) AND d.kind IN ({kind_sql}) "
                "ORDER BY length(d.title), f.rowid LIMIT :limit"
            ),
            {
                **params,
                "match": self._scoped(params["brand_id"], vis, "{title} : (" + words + ")"),
                "limit": _TITLE_WINDOW,
            },
        ).all()
        have = {doc_id for doc_id, _rank in found}
        worst = found[-1][1] if found else 0.0
        return found + [(int(r.id), worst) for r in rows if int(r.id) not in have]

    def _select_in(
        self, sql: str, values: Sequence[Any], params: dict[str, Any] | None = None
    ) -> Sequence[Any]:
        """Run ``sql`` with ``{values}`` standing for a list of values: one JSON array bound
        once (``json_each``) rather than hundreds of bound parameters, which SQLAlchemy and
        SQLite would parse and prepare anew for every length (half the cost of the query)."""
        if not values:
            return []
        if _JSON_EACH[0]:
            try:
                return self.conn.execute(
                    text(sql.format(values="SELECT value FROM json_each(:values_json)")),
                    {**(params or {}), "values_json": json.dumps(list(values))},
                ).all()
            except OperationalError as exc:  # an SQLite built without the JSON functions
                if "json_each" not in str(exc):
                    raise
                _JSON_EACH[0] = False
        keys, bound = _in_clause("values", values)
        return self.conn.execute(text(sql.format(values=keys)), {**(params or {}), **bound}).all()


# SQLite's scoped window (SqliteSearchIndex._scoped_window): the rowids one FTS5 query
# matches (run on the DB-API cursor: thousands of one-integer rows), and what a title's
# word adds to a body's. BM25F with one occurrence and an average length scores a word in
# the title (weight 2) 1.43 times, in title and body 1.67 times, one in the body (k1 1.5);
# presence only cannot tell the last two apart, so 1.5.
_ROWIDS_SQL: Final = "SELECT rowid FROM search_fts WHERE search_fts MATCH ?"
_TITLE_BONUS: Final = 0.5


def _weight(value: float) -> int:
    """A token's weight in SQLite's scoped window: a whole number (idf × 10⁶), so a
    document's sum does not depend on the order its tokens were added in."""
    return round(value * 1_000_000)


def _idf(df: int, n_docs: int) -> float:
    """Lucene's BM25 idf, never negative: log(1 + (N - df + 0.5) / (df + 0.5))."""
    df = min(df, n_docs)
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


# Rank-then-filter (see SqliteSearchIndex._ranked_ids) when the brand holds at least this
# share of the index, taking this many times the wanted candidates before the filter.
# Documents added to a full candidate window by their title alone (SqliteSearchIndex).
_TITLE_WINDOW: Final = 20
_PREFILTER_SHARE: Final = 0.5
# At most this many generating / ordering-only tokens (each one costs FTS5 time on every
# candidate it scores).
_MAX_GENERATING: Final = 20
_MAX_ORDERING: Final = 8
_OVERFETCH: Final = 2
# Whether this SQLite has json_each (3.38+ always has; older builds may omit JSON).
_JSON_EACH: list[bool] = [True]

_HAN_BIGRAM: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2}")
_HAN_CHAR: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


def _count(tokens: str) -> int:
    return tokens.count(" ") + 1 if tokens else 0


# Term counts moved by one statement (a rebuild's millions of rows go in chunks of this many).
_TERM_CHUNK: Final = 20_000


class _Tally:
    """Document frequencies and token totals of analysed documents, per brand and visibility."""

    def __init__(self) -> None:
        self.terms: dict[tuple[int, str], Counter[tuple[str, str]]] = {}
        self.totals: dict[tuple[int, str], list[int]] = {}

    def add(
        self, brand_id: int, visibility: str, title: str, body: str, grams: str, sign: int = 1
    ) -> None:
        """Count a document in (``sign`` 1: added) or out (-1: removed)."""
        scope = (brand_id, visibility)
        terms = self.terms.setdefault(scope, Counter())
        tokens = [("w", t) for t in set(title.split()) | set(body.split())]
        tokens += [("g", t) for t in set(grams.split())]
        if sign > 0:
            terms.update(tokens)
        else:
            terms.subtract(tokens)
        total = self.totals.setdefault(scope, [0, 0, 0])
        total[0] += sign
        total[1] += sign * (_count(title) + _count(body))
        total[2] += sign * _count(grams)


# --- PostgreSQL -----------------------------------------------------------------------------


class PostgresSearchIndex(_Bm25Index):
    """PostgreSQL ``tsvector`` (``simple`` configuration) + GIN finds the candidates and orders
    them by ``ts_rank``; the BM25 re-ranking, statistics and score scale are the shared ones.

    Title tokens carry weight A, body tokens B and trigrams D, so a query asks for words in A
    or B (``'tok':AB``) and trigrams in D: a trigram never matches a word spelled alike.
    """

    _TOKENS_SQL = (
        "SELECT d.id, d.t_title, d.t_body FROM search_document AS d WHERE d.id IN ({values})"
    )
    _GRAMS_SQL = (
        "SELECT d.id, d.t_grams, d.title FROM search_document AS d WHERE d.id IN ({values})"
    )

    _CURRENT_SQL = (
        "SELECT id, visibility, same, CASE WHEN same THEN NULL ELSE t_title END AS t_title, "
        "CASE WHEN same THEN NULL ELSE t_body END AS t_body, "
        "CASE WHEN same THEN NULL ELSE t_grams END AS t_grams "
        "FROM (SELECT id, visibility, t_title, t_body, t_grams, (language = :language "
        "AND visibility = :visibility AND title = :title AND body = :body) AS same "
        "FROM search_document "
        "WHERE brand_id = :brand_id AND kind = :kind AND ref_id = :ref_id) AS d"
    )

    def _insert(self, documents: Iterable[IndexDocument], tally: _Tally, locked: set[int]) -> None:
        sql = _sql(
            f"INSERT INTO search_document ({_INSERT_COLUMNS}, tsv, t_title, t_body, t_grams) "  # noqa: S608
            f"VALUES ({_INSERT_VALUES}, {_PG_TSV}, :t_title, :t_body, :t_grams)"
        )
        batch: list[dict[str, Any]] = []
        for doc in documents:
            if doc.brand_id not in locked:
                self._lock_brand(doc.brand_id)
                locked.add(doc.brand_id)
            params = _row_params(doc)
            title, body, grams = _analysed_fields(doc, self.config)
            params.update(t_title=title, t_body=body, t_grams=grams)
            tally.add(doc.brand_id, doc.visibility, title, body, grams)
            batch.append(params)
            if len(batch) >= 1000:
                self.conn.execute(sql, batch)
                batch = []
        if batch:
            self.conn.execute(sql, batch)

    def _drop(self, doc_id: int) -> None:
        self.conn.execute(_sql("DELETE FROM search_document WHERE id = :id"), {"id": doc_id})

    def _bump_terms(self, rows: Sequence[tuple[int, str, str, str, int]]) -> None:
        columns = list(zip(*rows, strict=True))
        self.conn.execute(
            _sql(
                "INSERT INTO search_term (brand_id, visibility, field, term, df) "
                "SELECT b, v, f, t, n FROM unnest(CAST(:b AS bigint[]), CAST(:v AS text[]), "
                "CAST(:f AS text[]), CAST(:t AS text[]), CAST(:n AS integer[])) "
                "WITH ORDINALITY AS u(b, v, f, t, n, i) ORDER BY i "
                "ON CONFLICT (brand_id, term, field, visibility) "
                "DO UPDATE SET df = search_term.df + excluded.df"
            ),
            {k: list(c) for k, c in zip("bvftn", columns, strict=True)},
        )

    def _lock_brand(self, brand_id: int) -> None:
        """Take the brand's ``search_stats`` row lock (creating the row if needed) before
        touching anything else of its index: the brand's index writers then run one after the
        other until they commit, so two of them never wait on each other's term or document
        rows (a deadlock), nor insert the same document twice. SQLite has one writer anyway."""
        self.conn.execute(
            _sql(
                "INSERT INTO search_stats (brand_id, visibility) VALUES (:brand_id, 'public') "
                "ON CONFLICT (brand_id, visibility) "
                "DO UPDATE SET documents = search_stats.documents"
            ),
            {"brand_id": brand_id},
        )

    def delete(self, brand_id: int, kind: Kind, ref_id: str) -> None:
        # Nothing stored, nothing to change: no lock, no DELETE. A document another
        # transaction is inserting and has not committed reads as absent; then this delete
        # would have run before or after that insert depending on who took the lock first,
        # and now runs as if before it (the use cases decide from what they read anyway).
        if not self._indexed(brand_id, kind, ref_id):
            return
        self._forget()
        self._lock_brand(brand_id)
        rows = self.conn.execute(
            _sql(
                "DELETE FROM search_document "
                "WHERE brand_id = :brand_id AND kind = :kind AND ref_id = :ref_id "
                "RETURNING visibility, t_title, t_body, t_grams"
            ),
            {"brand_id": brand_id, "kind": kind, "ref_id": ref_id},
        ).all()
        tally = _Tally()
        for row in rows:
            tally.add(brand_id, row.visibility, row.t_title, row.t_body, row.t_grams, sign=-1)
        self._apply(tally)

    def _rewrite(self, rows: Sequence[dict[str, Any]]) -> None:
        self.conn.execute(
            text(
                "UPDATE search_document SET t_title = :t_title, t_body = :t_body, "  # noqa: S608
                f"t_grams = :t_grams, tsv = {_PG_TSV} WHERE id = :id"
            ),
            [
                {"id": r["id"], "t_title": r["title"], "t_body": r["body"], "t_grams": r["grams"]}
                for r in rows
            ],
        )

    def tsquery(self, query: AnalyzedText, ordering: Sequence[str] = ()) -> str:
        """``'tok1':AB | 'tok2':AB | 'gra':D ...`` with every lexeme quoted. As in FTS5,
        ``ordering`` words do not widen the match (``G & (G | O)``), they only rank."""

        def quoted(tokens: Iterable[str], weights: str) -> list[str]:
            return [
                "'" + t.replace("'", "''").replace("\\", "") + "':" + weights for t in tokens if t
            ]

        words = quoted(query.words, "AB")
        grams = quoted(query.grams, "D") if self.config.grams else []
        order = quoted(ordering, "AB") if words else []
        word_expr = " | ".join(words)
        if order:
            word_expr = f"({word_expr}) & ({word_expr} | {' | '.join(order)})"
        parts = ([f"({word_expr})"] if words else []) + grams
        return " | ".join(parts)

    def _ranked_ids(
        self,
        brand_id: int,
        generating: AnalyzedText,
        ordering: Sequence[str],
        vis: list[str],
        knd: list[str],
        fetch: int,
    ) -> list[tuple[int, float]]:
        tsq = self.tsquery(generating, ordering)
        if not tsq:
            return []
        cfg = self.config
        # ts_rank has no idf, so its best 100 are not BM25's: re-score many more (the
        # candidate budget keeps what the generating tokens match near this size anyway).
        fetch = max(fetch, _PG_RESCORE) if cfg.rerank_candidates > 0 else fetch
        rows = self.conn.execute(
            text(
                "SELECT d.id, ts_rank(CAST(:weights AS real[]), d.tsv, q, 1) AS rank "
                "FROM search_document AS d, to_tsquery('simple', :tsq) AS q "
                "WHERE d.tsv @@ q AND d.brand_id = :brand_id "
                "AND d.visibility = ANY(CAST(:vis AS text[])) "
                "AND d.kind = ANY(CAST(:kinds AS text[])) "
                "ORDER BY rank DESC, d.id LIMIT :limit"
            ),
            {
                "weights": [cfg.gram_weight / 4, 0.0, cfg.body_weight / 4, cfg.title_weight / 4],
                "tsq": tsq,
                "brand_id": brand_id,
                "vis": vis,
                "kinds": knd,
                "limit": int(fetch),
            },
        ).all()
        return [(int(r.id), -float(r.rank)) for r in rows]

    def _select_in(
        self, sql: str, values: Sequence[Any], params: dict[str, Any] | None = None
    ) -> Sequence[Any]:
        """One array parameter (``unnest``) instead of a bound parameter per value."""
        if not values:
            return []
        kind = "bigint[]" if isinstance(values[0], int) else "text[]"
        return self.conn.execute(
            text(sql.format(values=f"SELECT unnest(CAST(:values_arr AS {kind}))")),
            {**(params or {}), "values_arr": list(values)},
        ).all()


# PostgreSQL re-scores up to this many of its matches (by ts_rank) with BM25.
_PG_RESCORE: Final = 2000

_PG_TSV: Final = (
    "setweight(to_tsvector('simple', :t_title), 'A') "
    "|| setweight(to_tsvector('simple', :t_body), 'B') "
    "|| setweight(to_tsvector('simple', :t_grams), 'D')"
)


def index_class_for(conn: Connection) -> type[SqliteSearchIndex] | type[PostgresSearchIndex]:
    """The backend for a connection's database."""
    return PostgresSearchIndex if conn.dialect.name == "postgresql" else SqliteSearchIndex
