"""community: indexes for the per-author and per-follow-target reads that every post, vote
and accept makes (posting rate, badge counts, followers of a new question), which scanned
the brand's posts and follows

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 08:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('community_posts', schema=None) as batch_op:
        batch_op.create_index('ix_community_posts_brand_author', ['brand_id', 'author_id', 'kind'], unique=False)
    with op.batch_alter_table('community_follows', schema=None) as batch_op:
        batch_op.create_index('ix_community_follows_target', ['brand_id', 'target', 'target_kind', 'user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('community_follows', schema=None) as batch_op:
        batch_op.drop_index('ix_community_follows_target')
    with op.batch_alter_table('community_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_community_posts_brand_author')
