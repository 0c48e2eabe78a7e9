"""community question-list indexes: (brand_id, hidden, kind, id) and (community_id, hidden,
kind, id), so the newest questions of a brand or a community are an index range read in id
order instead of a sort of every question (at 100,000 questions a page took ~60 ms); and
two expression indexes in the ORDER BY's own terms, for "most votes" (up - down) and the
community home's popular questions per language (up - down + answers)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 12:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('community_posts', schema=None) as batch_op:
        batch_op.create_index('ix_community_posts_list', ['brand_id', 'hidden', 'kind', 'id'], unique=False)
        batch_op.create_index('ix_community_posts_community_list', ['community_id', 'hidden', 'kind', 'id'], unique=False)
        batch_op.create_index('ix_community_posts_score', ['brand_id', 'hidden', 'kind', sa.text('(up - down) DESC'), sa.text('id DESC')], unique=False)
        batch_op.create_index('ix_community_posts_popular', ['brand_id', 'hidden', 'kind', 'language', sa.text('(up - down + answers) DESC'), sa.text('id DESC')], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('community_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_community_posts_popular')
        batch_op.drop_index('ix_community_posts_score')
        batch_op.drop_index('ix_community_posts_community_list')
        batch_op.drop_index('ix_community_posts_list')
