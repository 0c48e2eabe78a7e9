"""quality_reviews.weights: the scorecard's criteria and weights a review was decided by
(``[[code, weight], …]``), so its detail shows the weights that made its score, not the
brand's weights of today. Reviews decided before stay NULL (their weights were not kept: they
show today's, said so).

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 04:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0039'
down_revision: str | Sequence[str] | None = '0038'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('quality_reviews') as batch:
        batch.add_column(sa.Column('weights', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quality_reviews') as batch:
        batch.drop_column('weights')
