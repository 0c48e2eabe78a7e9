"""search scope tokens (SQLite): the full-text table gains a ``scope`` column holding one
token per document, its brand and visibility ("s12public"), so a small brand's query matches
only its own visible documents instead of scoring every brand's matches and filtering them
afterwards (a brand of a few dozen articles beside one of 100,000 documents: 30 → 5 ms per
search). FTS5 cannot add a column: the table is rebuilt from its own rows. PostgreSQL's
index filters by brand in SQL and is unchanged.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZE = "tokenize = 'unicode61 remove_diacritics 0'"
# The spelling of crowdcx.search.index.scope_token, frozen here.
UP = (
    f"CREATE VIRTUAL TABLE search_fts_0014 USING fts5(title, body, grams, scope, {TOKENIZE})",
    "INSERT INTO search_fts_0014 (rowid, title, body, grams, scope) "
    "SELECT f.rowid, f.title, f.body, f.grams, 's' || d.brand_id || d.visibility "
    "FROM search_fts AS f JOIN search_document AS d ON d.id = f.rowid",
    "DROP TABLE search_fts",
    "ALTER TABLE search_fts_0014 RENAME TO search_fts",
    "INSERT INTO search_fts (search_fts) VALUES ('optimize')",
)
DOWN = (
    f"CREATE VIRTUAL TABLE search_fts_0013 USING fts5(title, body, grams, {TOKENIZE})",
    "INSERT INTO search_fts_0013 (rowid, title, body, grams) "
    "SELECT rowid, title, body, grams FROM search_fts",
    "DROP TABLE search_fts",
    "ALTER TABLE search_fts_0013 RENAME TO search_fts",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in DOWN:
            op.execute(statement)
