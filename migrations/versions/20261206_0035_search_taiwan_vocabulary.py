"""search: Chinese folded phrase by phrase, so Taiwan words find the mainland's

The analysis now folds Traditional Chinese with OpenCC ``tw2sp`` (Taiwan phrases in mainland
words: 網路 → 网络, 登入 → 登录, 簡訊 → 短信) instead of character by character, and gives
text that either script could have written (登入, 程式) its mainland reading beside its own.
Documents analysed before would not match the queries analysed now, so every stored
document is analysed again, on either database (what ``crowdcx reindex`` does).

The downgrade changes nothing: it cannot bring the older analysis back (that is the
installed code's). After going back to the code before this revision, run
``crowdcx reindex`` with that code.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 22:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from crowdcx.search.index import IndexConfig, PostgresSearchIndex, SqliteSearchIndex

revision: str = '0035'
down_revision: str | Sequence[str] | None = '0034'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the documents are analysed with, written out here rather than taken from the
# defaults of the day (as 0010 does). The analysis itself is the installed crowdcx's.
ANALYSIS = IndexConfig(gram_weight=0.25, jieba_words=False)


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    (PostgresSearchIndex if postgres else SqliteSearchIndex)(bind, ANALYSIS).reanalyse()


def downgrade() -> None:
    pass
