"""tickets.reopened_at: the customer's last reopening, from which the resolution target runs
again. The resolution clock stayed stopped at the first resolution, so a reopened ticket
that had been resolved in time was never escalated, however long the customer waited again.
Back-filled from each ticket's history (its last reopen transition); reopened tickets are
handed to the sweeper once, which stores their new moment under the brand's policy.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 19:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0022'
down_revision: str | Sequence[str] | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'reopened_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=True
        ))
    op.execute(
        "UPDATE tickets SET reopened_at = (SELECT max(tt.at) FROM ticket_transitions tt"
        " WHERE tt.ticket_id = tickets.id AND tt.action = 'reopen')"
    )
    op.execute("UPDATE tickets SET sweep_at = updated_at WHERE status = 'reopened'")


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('reopened_at')
