"""ticket sweep_at: when the sweeper next has to look at a ticket (offer expiry, SLA risk or
breach, auto-close), indexed. The sweeper took the 200 least recently updated open tickets
each pass whether or not anything was due, so with 200 open tickets older than a ticket whose
offer ran out, that offer never expired. Back-filled with each open ticket's last update: the
sweeper looks at each once and stores its real moment under the brand's policy.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 12:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: the states the sweeper acted on when this was written.
SWEEPABLE = ("queued", "offered", "claimed", "reopened", "resolved")


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sweep_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_tickets_sweep_at', ['sweep_at'], unique=False)
    tickets = sa.table("tickets", sa.column("status"), sa.column("updated_at"),
                       sa.column("sweep_at"))
    op.execute(
        tickets.update().where(tickets.c.status.in_(SWEEPABLE))
        .values(sweep_at=tickets.c.updated_at)
    )


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_sweep_at')
        batch_op.drop_column('sweep_at')
