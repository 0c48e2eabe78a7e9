"""import_jobs: FAQ imports run by a background worker instead of inside the request (a
10,000-row file took 12–60 s and held a request, and on SQLite with one thread its worker,
all that time). The upload is checked and stored here; the worker claims a job with a
conditional update and records its progress with each chunk of articles it commits.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0025'
down_revision: str | Sequence[str] | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('publish', sa.Boolean(), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('article_ids', sa.JSON(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('heartbeat_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_import_jobs_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_import_jobs_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_jobs_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index('ix_import_jobs_state', ['state', 'heartbeat_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_import_jobs_state')
        batch_op.drop_index(batch_op.f('ix_import_jobs_brand_id'))
    op.drop_table('import_jobs')
