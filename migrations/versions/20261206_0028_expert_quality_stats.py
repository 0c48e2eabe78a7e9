"""expert_profiles.quality_points / quality_count: the decided quality reviews of each
expert's work, which the routing score now reads (a Beta estimate with a prior, like CSAT).
Back-filled from the reviews decided so far.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 14:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028'
down_revision: str | Sequence[str] | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quality_points', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('quality_count', sa.Integer(), nullable=False,
                                      server_default='0'))
    op.execute(
        """
        UPDATE expert_profiles SET
          quality_points = COALESCE((SELECT SUM(q.score) FROM quality_reviews q
                                     WHERE q.brand_id = expert_profiles.brand_id
                                       AND q.expert_id = expert_profiles.user_id
                                       AND q.state = 'done' AND q.score IS NOT NULL), 0),
          quality_count = (SELECT COUNT(*) FROM quality_reviews q
                           WHERE q.brand_id = expert_profiles.brand_id
                             AND q.expert_id = expert_profiles.user_id
                             AND q.state = 'done' AND q.score IS NOT NULL)
        """
    )


def downgrade() -> None:
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.drop_column('quality_count')
        batch_op.drop_column('quality_points')
