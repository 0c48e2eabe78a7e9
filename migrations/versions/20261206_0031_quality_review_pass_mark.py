"""quality_reviews.pass_mark: the brand's pass mark a review was decided by, so whether it
passed stays as decided when an admin later raises (or lowers) the mark. Back-filled for the
reviews decided so far from each brand's scorecard as it stands at the upgrade (the best
that is known): the "quality" section of the brand's ticket policy, or the default of 70
(quality.rules.DEFAULT_SCORECARD) when the brand has none.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 10:00:00
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0031'
down_revision: str | Sequence[str] | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# quality.rules.DEFAULT_SCORECARD.pass_mark at this revision; written out, not imported, so
# the back-fill means what it meant when it was written.
DEFAULT_PASS_MARK = 70


def stored_pass_mark(data: Any) -> int:
    """The pass mark in a stored policy document (JSON text on SQLite, decoded on
    PostgreSQL); the default when the policy has no "quality" section or no usable mark (the
    policy loader falls back to the defaults the same way)."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError:
            return DEFAULT_PASS_MARK
    quality = data.get("quality") if isinstance(data, dict) else None
    mark = quality.get("pass_mark") if isinstance(quality, dict) else None
    if isinstance(mark, bool) or not isinstance(mark, int) or not 0 <= mark <= 100:
        return DEFAULT_PASS_MARK
    return mark


def upgrade() -> None:
    with op.batch_alter_table('quality_reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pass_mark', sa.Integer(), nullable=True))
    conn = op.get_bind()
    policies = conn.execute(sa.text("SELECT brand_id, data FROM brand_policies")).all()
    update = sa.text(
        "UPDATE quality_reviews SET pass_mark = :mark"
        " WHERE brand_id = :brand AND state = 'done' AND pass_mark IS NULL"
    )
    for brand_id, data in policies:
        conn.execute(update, {"mark": stored_pass_mark(data), "brand": brand_id})
    conn.execute(
        sa.text(
            "UPDATE quality_reviews SET pass_mark = :mark"
            " WHERE state = 'done' AND pass_mark IS NULL"
        ),
        {"mark": DEFAULT_PASS_MARK},
    )


def downgrade() -> None:
    with op.batch_alter_table('quality_reviews', schema=None) as batch_op:
        batch_op.drop_column('pass_mark')
