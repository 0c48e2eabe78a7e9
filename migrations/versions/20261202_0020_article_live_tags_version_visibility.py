"""articles.live_tags and article_versions.visibility.

The live copy keeps its own tags, so readers see (and filter by) the published tags while a
new revision waits for review; before, only the working revision's tags were stored and
readers saw none while a revision was pending. Back-filled with the tags of articles
published as they stand; an article with a revision pending at the upgrade shows no tags
until its next publish, as before.

Each revision keeps the visibility it was written for, and the history (version list, diff)
shows a revision only to those who may read that visibility: after an agent rewrote a
staff-only article for experts and lowered it, experts could read the staff-only text in the
history. Back-fill: the working revision gets the article's visibility and the live revision
the live copy's; any other revision's is unknown and becomes ``staff`` (experts who write
lose sight of those older revisions, rather than risk reading staff-only text).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 19:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | Sequence[str] | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_tags', sa.JSON(), nullable=True))
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('visibility', sa.String(length=16), server_default='staff', nullable=False)
        )
    op.execute(
        "UPDATE articles SET live_tags = tags"
        " WHERE live_version IS NOT NULL AND state = 'published'"
    )
    op.execute(
        "UPDATE article_versions SET visibility = (SELECT a.live_visibility FROM articles a"
        " WHERE a.id = article_versions.article_id)"
        " WHERE EXISTS (SELECT 1 FROM articles a WHERE a.id = article_versions.article_id"
        " AND a.live_version = article_versions.version AND a.live_visibility IS NOT NULL)"
    )
    op.execute(
        "UPDATE article_versions SET visibility = (SELECT a.visibility FROM articles a"
        " WHERE a.id = article_versions.article_id)"
        " WHERE EXISTS (SELECT 1 FROM articles a WHERE a.id = article_versions.article_id"
        " AND a.version = article_versions.version)"
    )


def downgrade() -> None:
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.drop_column('visibility')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('live_tags')
