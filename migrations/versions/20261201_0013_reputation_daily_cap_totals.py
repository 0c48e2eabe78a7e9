"""reputation daily-cap totals: per user and day (scope cap:YYYY-MM-DD), the net points of
capped reasons, so the daily cap reads one row instead of summing every vote of the day;
today's and yesterday's back-filled from the ledger here

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 13:10:00
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: the policy's capped reasons and cap time zone (UTC) when this was written.
CAPPED = ("answer_upvoted", "question_upvoted")


def upgrade() -> None:
    bind = op.get_bind()
    ledger = sa.table(
        "points_entries", sa.column("brand_id"), sa.column("user_id"), sa.column("points"),
        sa.column("reason"), sa.column("at", crowdcx.kernel.models.UTCDateTime(timezone=True)),
    )
    since = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    since -= timedelta(days=1)
    totals: dict[tuple[int, int, str], int] = {}
    for brand_id, user_id, points, at in bind.execute(
        sa.select(ledger.c.brand_id, ledger.c.user_id, ledger.c.points, ledger.c.at).where(
            ledger.c.at >= since, ledger.c.reason.in_(CAPPED)
        )
    ):
        if isinstance(at, str):  # raw SQLite text, should the type not apply
            at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        key = (brand_id, user_id, f"cap:{at.astimezone(UTC):%Y-%m-%d}")
        totals[key] = totals.get(key, 0) + points
    if totals:
        target = sa.table(
            "reputation_totals", sa.column("brand_id"), sa.column("user_id"), sa.column("scope"),
            sa.column("earned"), sa.column("balance"),
        )
        op.bulk_insert(target, [
            {"brand_id": b, "user_id": u, "scope": scope, "earned": n, "balance": n}
            for (b, u, scope), n in totals.items()
        ])


def downgrade() -> None:
    op.execute("DELETE FROM reputation_totals WHERE scope LIKE 'cap:%'")
