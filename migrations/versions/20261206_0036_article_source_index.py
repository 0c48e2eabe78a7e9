"""articles (brand_id, source_kind, source_id, id) for the articles drafted from a source:
the draft link on a ticket's or question's page reads the newest article drafted from it,
open or published (``knowledge.service.drafted_from``). ``ux_articles_source_open`` covers
open drafts only, so a published one was found by the brand's index and a filter over the
brand's articles; this one finds it in one step down the index, and holds only articles
drafted from something.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 23:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0036'
down_revision: str | Sequence[str] | None = '0035'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in crowdcx.knowledge.models.DRAFTED_FROM_SOMETHING when this revision was written.
DRAFTED = "source_id IS NOT NULL"


def upgrade() -> None:
    op.create_index('ix_articles_source', 'articles',
                    ['brand_id', 'source_kind', 'source_id', 'id'],
                    sqlite_where=sa.text(DRAFTED), postgresql_where=sa.text(DRAFTED))


def downgrade() -> None:
    op.drop_index('ix_articles_source', table_name='articles')
