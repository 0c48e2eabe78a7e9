"""reputation_totals.standing: the highest point count whose levels and privileges a person
still holds, so that a level or privilege is lost only below 90 % of its threshold (levels and
privileges followed the raw total before). Back-filled with the total: nobody's level or
privileges change at the upgrade.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 14:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reputation_totals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standing', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE reputation_totals SET standing = earned")


def downgrade() -> None:
    with op.batch_alter_table('reputation_totals', schema=None) as batch_op:
        batch_op.drop_column('standing')
