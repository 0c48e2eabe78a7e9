"""Two facts of moderation recorded when it happens, no longer worked out afterwards:

* ``points_entries.outside_cap``: what moderation took back from a hidden post or gave back
  on restoring it, left out of the daily cap (a restore used today's room, and a hiding
  freed room on its day). Back-filled for the rows moderation wrote: the give-back copies
  (``…:back:…``) and the take-backs (reversals of a post's earnings with no actor; a
  withdrawn vote or a moved accept names its actor).
* ``community_moderation.by_staff``: whether whoever acted was the brand's staff (an agent,
  a brand admin) or a platform administrator at that moment. Review decisions were weighed
  by the decider's roles today, so a member who later joined the staff (or staff later
  demoted) changed how old decisions read. Back-filled from today's roles, the best there is.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | Sequence[str] | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('community_moderation', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('by_staff', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('outside_cap', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    moderation = sa.table(
        'community_moderation', sa.column('brand_id', sa.Integer()),
        sa.column('actor_id', sa.Integer()), sa.column('by_staff', sa.Boolean()),
    )  # fmt: skip
    memberships = sa.table(
        'memberships', sa.column('id', sa.Integer()), sa.column('brand_id', sa.Integer()),
        sa.column('user_id', sa.Integer()),
    )  # fmt: skip
    roles = sa.table(
        'membership_roles', sa.column('membership_id', sa.Integer()), sa.column('role', sa.String())
    )
    users = sa.table(
        'users', sa.column('id', sa.Integer()), sa.column('is_platform_admin', sa.Boolean())
    )
    staff_role = (
        sa.select(sa.literal(1))
        .select_from(memberships.join(roles, roles.c.membership_id == memberships.c.id))
        .where(memberships.c.brand_id == moderation.c.brand_id,
               memberships.c.user_id == moderation.c.actor_id,
               roles.c.role.in_(('agent', 'brand_admin')))
    )  # fmt: skip
    admin = sa.select(sa.literal(1)).where(
        users.c.id == moderation.c.actor_id, users.c.is_platform_admin.is_(True)
    )
    op.execute(
        moderation.update()
        .where(moderation.c.actor_id.is_not(None), sa.or_(staff_role.exists(), admin.exists()))
        .values(by_staff=True)
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
    with op.batch_alter_table('community_moderation', schema=None) as batch_op:
        batch_op.drop_column('by_staff')
