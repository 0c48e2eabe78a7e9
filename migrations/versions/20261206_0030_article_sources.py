"""articles.source_kind and source_id: what an article was drafted from (a ticket or a
community question), with ``ux_articles_source_open``, one open draft per source and brand
(never published, not archived), so drafting twice opens the first draft.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 20:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030'
down_revision: str | Sequence[str] | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in crowdcx.knowledge.models.OPEN_SOURCE_DRAFT when this revision was written.
OPEN = "source_id IS NOT NULL AND published_at IS NULL AND state <> 'archived'"


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('source_id', sa.Integer(), nullable=True))
        batch_op.create_index('ux_articles_source_open', ['brand_id', 'source_kind', 'source_id'],
                              unique=True, sqlite_where=sa.text(OPEN),
                              postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index('ux_articles_source_open')
        batch_op.drop_column('source_id')
        batch_op.drop_column('source_kind')
