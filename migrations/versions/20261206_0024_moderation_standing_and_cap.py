"""``points_entries.outside_cap``: what moderation took back from a hidden post or gave back
on restoring it, left out of the daily cap (a restore used today's room, and a hiding freed
room on its day). Back-filled for the rows moderation wrote: the give-back copies
(``…:back:…``) and the take-backs (reversals of a post's earnings with no actor; a withdrawn
vote or a moved accept names its actor).

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-06 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | Sequence[str] | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('outside_cap', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    entries = sa.table(
        'points_entries', sa.column('key', sa.String()), sa.column('reverses', sa.String()),
        sa.column('actor_id', sa.Integer()), sa.column('subject_kind', sa.String()),
        sa.column('outside_cap', sa.Boolean()),
    )  # fmt: skip
    on_posts = entries.c.subject_kind.in_(('question', 'answer'))
    op.execute(
        entries.update()
        .where(on_posts, sa.or_(
            sa.and_(entries.c.reverses.is_(None), entries.c.key.like('%:back:%')),
            sa.and_(entries.c.reverses.is_not(None), entries.c.actor_id.is_(None)),
        ))
        .values(outside_cap=True)
    )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.drop_column('outside_cap')
