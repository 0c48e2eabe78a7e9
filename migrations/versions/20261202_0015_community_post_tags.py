"""community post tags: one row per question and tag, indexed by (brand, tag, post), so that
listing a tag pages through every tagged question (it looked only among the newest few
questions and missed older ones) and a tag's leaderboard finds its posts without reading
every post of the brand; back-filled from community_posts.tags here

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 11:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('community_post_tags',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_community_post_tags_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['community_posts.id'], name=op.f('fk_community_post_tags_post_id_community_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'tag', name=op.f('pk_community_post_tags'))
    )
    with op.batch_alter_table('community_post_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_post_tags_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index('ix_community_post_tags_tag', ['brand_id', 'tag', 'post_id'], unique=False)

    # The tags so far (stored trimmed and case-folded by the code that wrote them).
    posts = sa.table(
        "community_posts", sa.column("id"), sa.column("brand_id"), sa.column("kind"),
        sa.column("tags", sa.JSON()),
    )
    tags = sa.table("community_post_tags", sa.column("post_id"), sa.column("brand_id"),
                    sa.column("tag"))
    bind = op.get_bind()
    rows: list[dict[str, object]] = []
    for post_id, brand_id, post_tags in bind.execute(
        sa.select(posts.c.id, posts.c.brand_id, posts.c.tags).where(posts.c.kind == "question")
    ):
        for tag in sorted({str(t)[:40] for t in post_tags or [] if str(t).strip()}):
            rows.append({"post_id": post_id, "brand_id": brand_id, "tag": tag})
        if len(rows) >= 5000:
            bind.execute(sa.insert(tags), rows)
            rows = []
    if rows:
        bind.execute(sa.insert(tags), rows)


def downgrade() -> None:
    with op.batch_alter_table('community_post_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_community_post_tags_tag')
        batch_op.drop_index(batch_op.f('ix_community_post_tags_brand_id'))

    op.drop_table('community_post_tags')
