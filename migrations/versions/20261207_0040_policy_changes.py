"""policy_changes: the history of a brand's ticket policy — one row per save that changed it
(who, when, what kind of save, the version before and after, the changed fields as a list of
{path, op, before, after}), written in the save's transaction. Nothing to back-fill: saves
before this kept no history.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 03:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0040'
down_revision: str | Sequence[str] | None = '0039'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('policy_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('version_before', sa.String(length=20), nullable=False),
    sa.Column('version_after', sa.String(length=20), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_policy_changes_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_policy_changes_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_changes'))
    )
    with op.batch_alter_table('policy_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_changes_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index('ix_policy_changes_brand_id_id', ['brand_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('policy_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_changes_brand_id_id')
        batch_op.drop_index(batch_op.f('ix_policy_changes_brand_id'))

    op.drop_table('policy_changes')
