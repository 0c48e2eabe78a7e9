"""ticket_deflections: which suggestion (an article or a community question) solved each
deflected ticket, and when, so the deflection figures count a deflected case once by its
ticket and an article's authors see how many cases it solved. Tickets deflected before the
upgrade get a row without the suggestion (nobody recorded it), dated by their deflect
transition: for them the old same-visitor, same-day rule still applies.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 22:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0034'
down_revision: str | Sequence[str] | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ticket_deflections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('ref_id', sa.Integer(), nullable=True),
    sa.Column('at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_ticket_deflections_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_deflections_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_deflections')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_ticket_deflections_ticket_id'))
    )
    with op.batch_alter_table('ticket_deflections', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_deflections_brand_at', ['brand_id', 'at'], unique=False)
        batch_op.create_index('ix_ticket_deflections_solved_by', ['brand_id', 'kind', 'ref_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_deflections_brand_id'), ['brand_id'], unique=False)

    op.get_bind().execute(
        sa.text(
            "INSERT INTO ticket_deflections (brand_id, ticket_id, at)"
            " SELECT t.brand_id, t.id, COALESCE((SELECT MIN(tr.at) FROM ticket_transitions tr"
            " WHERE tr.ticket_id = t.id AND tr.to_state = 'deflected'), t.updated_at)"
            " FROM tickets t WHERE t.status = 'deflected'"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table('ticket_deflections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_deflections_brand_id'))
        batch_op.drop_index('ix_ticket_deflections_solved_by')
        batch_op.drop_index('ix_ticket_deflections_brand_at')

    op.drop_table('ticket_deflections')
