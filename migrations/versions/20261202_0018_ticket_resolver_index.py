"""tickets by resolver: (brand_id, resolved_by), so an expert's own list (owned or resolved
by them) is two index reads instead of a walk over every ticket of the brand

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 13:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_brand_resolver', ['brand_id', 'resolved_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_brand_resolver')
