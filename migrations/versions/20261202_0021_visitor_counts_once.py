"""search_events.visitor/day and article_feedback.visitor, each unique per what it counts.

"This solved it" and "Was this helpful?" were counted as often as they were sent, so a
script could move the deflection figures brand admins read and the helpfulness that ranks
search. A visitor (``u:<user id>`` signed in, otherwise a keyed hash of the address) now
counts once per article's feedback and once a day per suggestion opened or solved. Rows
from before have no visitor and keep counting as they are.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 19:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | Sequence[str] | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('search_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('day', sa.String(length=10), nullable=True))
        batch_op.create_index(
            'ux_search_events_visitor_once',
            ['brand_id', 'event', 'kind', 'ref_id', 'visitor', 'day'], unique=True,
        )
    with op.batch_alter_table('article_feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor', sa.String(length=64), nullable=True))
        batch_op.create_index(
            'ux_article_feedback_visitor', ['article_id', 'visitor'], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table('article_feedback', schema=None) as batch_op:
        batch_op.drop_index('ux_article_feedback_visitor')
        batch_op.drop_column('visitor')
    with op.batch_alter_table('search_events', schema=None) as batch_op:
        batch_op.drop_index('ux_search_events_visitor_once')
        batch_op.drop_column('day')
        batch_op.drop_column('visitor')
