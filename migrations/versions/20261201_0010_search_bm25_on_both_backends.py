"""search: BM25 re-ranking and statistics on PostgreSQL too, trigrams on by default

PostgreSQL gets what SQLite had since 0004: the analysed tokens beside the tsvector
(t_title, t_body, t_grams) and the statistics (search_term, search_stats), so both backends
rank alike and the out-of-scope bound works on both. The statistics are now kept per brand
*and visibility* on both, so a customer's scores count only what customers may see. The default configuration now
indexes character trigrams (IndexConfig.gram_weight 0.25), so every stored document is
analysed again on either database.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from crowdcx.search.index import IndexConfig, PostgresSearchIndex, SqliteSearchIndex

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Statistics per brand and visibility: a viewer's BM25 counts only what they may see.
STATS_TABLES: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS search_term (\n"
    "    brand_id BIGINT NOT NULL,\n"
    "    visibility VARCHAR(16) NOT NULL,\n"
    "    field CHAR(1) NOT NULL,\n"
    "    term TEXT NOT NULL,\n"
    "    df INTEGER NOT NULL,\n"
    "    PRIMARY KEY (brand_id, term, field, visibility)\n){without_rowid}",
    "CREATE TABLE IF NOT EXISTS search_stats (\n"
    "    brand_id BIGINT NOT NULL,\n"
    "    visibility VARCHAR(16) NOT NULL,\n"
    "    documents INTEGER NOT NULL DEFAULT 0,\n"
    "    word_tokens INTEGER NOT NULL DEFAULT 0,\n"
    "    gram_tokens INTEGER NOT NULL DEFAULT 0,\n"
    "    PRIMARY KEY (brand_id, visibility)\n)",
)
POSTGRES_UP: tuple[str, ...] = (
    "ALTER TABLE search_document ADD COLUMN IF NOT EXISTS t_title TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE search_document ADD COLUMN IF NOT EXISTS t_body TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE search_document ADD COLUMN IF NOT EXISTS t_grams TEXT NOT NULL DEFAULT ''",
)
POSTGRES_DOWN: tuple[str, ...] = (
    "DROP TABLE IF EXISTS search_stats",
    "DROP TABLE IF EXISTS search_term",
    "ALTER TABLE search_document DROP COLUMN IF EXISTS t_grams",
    "ALTER TABLE search_document DROP COLUMN IF EXISTS t_body",
    "ALTER TABLE search_document DROP COLUMN IF EXISTS t_title",
)
# SQLite before this revision: the same statistics per brand only (0004's tables).
SQLITE_DOWN: tuple[str, ...] = (
    "CREATE TABLE search_term_0009 (\n"
    "    brand_id BIGINT NOT NULL,\n"
    "    field CHAR(1) NOT NULL,\n"
    "    term TEXT NOT NULL,\n"
    "    df INTEGER NOT NULL,\n"
    "    PRIMARY KEY (brand_id, term, field)\n) WITHOUT ROWID",
    "INSERT INTO search_term_0009 (brand_id, field, term, df) "
    "SELECT brand_id, field, term, sum(df) FROM search_term GROUP BY brand_id, field, term",
    "CREATE TABLE search_stats_0009 (\n"
    "    brand_id BIGINT PRIMARY KEY,\n"
    "    documents INTEGER NOT NULL DEFAULT 0,\n"
    "    word_tokens INTEGER NOT NULL DEFAULT 0,\n"
    "    gram_tokens INTEGER NOT NULL DEFAULT 0\n)",
    "INSERT INTO search_stats_0009 (brand_id, documents, word_tokens, gram_tokens) "
    "SELECT brand_id, sum(documents), sum(word_tokens), sum(gram_tokens) FROM search_stats "
    "GROUP BY brand_id",
    "DROP TABLE search_term",
    "DROP TABLE search_stats",
    "ALTER TABLE search_term_0009 RENAME TO search_term",
    "ALTER TABLE search_stats_0009 RENAME TO search_stats",
)

# What the documents are analysed with, written out here rather than taken from the
# defaults of the day (a later default must not change what this revision did). The analysis
# itself (normalisation, stemming, segmentation) is the installed crowdcx's.
WITH_TRIGRAMS = IndexConfig(gram_weight=0.25, jieba_words=False)
WITHOUT_TRIGRAMS = IndexConfig(gram_weight=0.0, jieba_words=False)


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        for statement in POSTGRES_UP:
            op.execute(statement)
    else:  # 0004's per-brand tables; re-analysis below fills the new ones
        op.execute("DROP TABLE IF EXISTS search_term")
        op.execute("DROP TABLE IF EXISTS search_stats")
    for statement in STATS_TABLES:
        op.execute(statement.format(without_rowid="" if postgres else " WITHOUT ROWID"))
    (PostgresSearchIndex if postgres else SqliteSearchIndex)(bind, WITH_TRIGRAMS).reanalyse()


def downgrade() -> None:
    # Back to documents without trigrams: the code before this revision would otherwise match
    # a short word against them (SQLite's grams column, PostgreSQL's D-weighted lexemes).
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        PostgresSearchIndex(bind, WITHOUT_TRIGRAMS).reanalyse()
        for statement in POSTGRES_DOWN:
            op.execute(statement)
    else:
        SqliteSearchIndex(bind, WITHOUT_TRIGRAMS).reanalyse()
        for statement in SQLITE_DOWN:
            op.execute(statement)
