"""quality_reviews: staff review a sample of expert resolutions against a scorecard (one
review per ticket and brand: the unique key makes "make sure a review exists" idempotent;
a review is decided once, by a conditional update on ``state``).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 12:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0026'
down_revision: str | Sequence[str] | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quality_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_quality_reviews_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_id'], ['users.id'], name=op.f('fk_quality_reviews_expert_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_quality_reviews_reviewer_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_quality_reviews_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_reviews')),
    sa.UniqueConstraint('brand_id', 'ticket_id', name=op.f('uq_quality_reviews_brand_id_ticket_id'))
    )
    with op.batch_alter_table('quality_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_quality_reviews_brand_expert', ['brand_id', 'expert_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_reviews_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index('ix_quality_reviews_brand_state', ['brand_id', 'state', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quality_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_reviews_brand_state')
        batch_op.drop_index(batch_op.f('ix_quality_reviews_brand_id'))
        batch_op.drop_index('ix_quality_reviews_brand_expert')

    op.drop_table('quality_reviews')
