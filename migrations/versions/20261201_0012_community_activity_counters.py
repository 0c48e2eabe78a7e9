"""community activity counters: per member, the questions, answers, accepted and brand-approved
answers and upvotes received, and per answer language the answers that helped — what the
badge rules read after every vote and accept, which counted all of the author's posts;
back-filled from the posts here

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('community_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('questions', sa.Integer(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('accepted_answers', sa.Integer(), nullable=False),
    sa.Column('brand_approved_answers', sa.Integer(), nullable=False),
    sa.Column('upvotes_received', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_community_activity_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_community_activity_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_activity')),
    sa.UniqueConstraint('brand_id', 'user_id', name=op.f('uq_community_activity_brand_id_user_id'))
    )
    with op.batch_alter_table('community_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_activity_brand_id'), ['brand_id'], unique=False)

    op.create_table('community_helped_languages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_community_helped_languages_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_community_helped_languages_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_helped_languages')),
    sa.UniqueConstraint('brand_id', 'user_id', 'language', name=op.f('uq_community_helped_languages_brand_id_user_id_language'))
    )
    with op.batch_alter_table('community_helped_languages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_helped_languages_brand_id'), ['brand_id'], unique=False)

    # The counts so far, from the posts (frozen here: later code must not change what this
    # migration did).
    op.execute(
        "INSERT INTO community_activity (brand_id, user_id, questions, answers, "
        "accepted_answers, brand_approved_answers, upvotes_received) "
        "SELECT brand_id, author_id, "
        "SUM(CASE WHEN kind = 'question' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN kind = 'answer' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN kind = 'answer' AND accepted THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN kind = 'answer' AND brand_approved THEN 1 ELSE 0 END), "
        "SUM(up) FROM community_posts GROUP BY brand_id, author_id"
    )
    op.execute(
        "INSERT INTO community_helped_languages (brand_id, user_id, language, answers) "
        "SELECT brand_id, author_id, language, COUNT(id) FROM community_posts "
        "WHERE kind = 'answer' AND (accepted OR brand_approved OR up > 0) "
        "GROUP BY brand_id, author_id, language"
    )


def downgrade() -> None:
    with op.batch_alter_table('community_helped_languages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_helped_languages_brand_id'))
    op.drop_table('community_helped_languages')
    with op.batch_alter_table('community_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_activity_brand_id'))
    op.drop_table('community_activity')
