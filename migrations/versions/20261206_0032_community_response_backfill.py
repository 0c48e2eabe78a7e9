"""Tickets escalated from a community question: ``community_response_at`` is re-read as the
question's earliest answer that is not the asker's own and not hidden by moderation. 0023
back-filled (and the code until now wrote) only the first answer after the escalation, and
kept it when moderation hid it; the case began when the question was asked, so an answer
before the escalation was its first response. No schema change; the downgrade leaves the
values (they are what the earlier code would have kept for the future anyway).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 20:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0032'
down_revision: str | Sequence[str] | None = '0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE tickets SET community_response_at = ("
            " SELECT min(p.created_at) FROM community_posts p"
            " WHERE p.brand_id = tickets.brand_id AND p.question_id = tickets.question_id"
            " AND p.kind = 'answer' AND p.hidden = :no AND p.author_id <> tickets.customer_id"
            ") WHERE question_id IS NOT NULL"
        ).bindparams(no=False)
    )


def downgrade() -> None:
    pass
