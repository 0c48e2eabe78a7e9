"""tickets: the case a ticket belongs to, where the community and ticket lanes meet.

- ``case_started_at``: when the case began. A community question escalated into a ticket
  wrote the question's asked time into ``created_at`` (one case, one SLA clock), so the
  moment of escalation was left only in the history. Now ``created_at`` is when the ticket
  was written and ``case_started_at`` when the case began; the SLA clocks run from it.
  Back-filled: ``case_started_at`` takes the old ``created_at``, and a ticket made of a
  question gets its real writing from its ``submit`` transition.
- ``question_id``: the community question the ticket was escalated from. The link was found
  among the customer's own questions (``community_posts.ticket_id``); back-filled that way,
  within the ticket's brand.
- ``community_response_at``: the first community answer to that question, posted after the
  escalation by someone other than the asker, which meets the case's first-response target
  without touching ``first_response_at`` (the expert's or staff's own reply that routing's
  response-time statistics read). Back-filled from such answers that are not hidden.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 05:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crowdcx.kernel.models

revision: str = '0023'
down_revision: str | Sequence[str] | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'case_started_at', crowdcx.kernel.models.UTCDateTime(timezone=True), nullable=True
        ))
        batch_op.add_column(sa.Column('question_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column(
            'community_response_at', crowdcx.kernel.models.UTCDateTime(timezone=True),
            nullable=True,
        ))
        batch_op.create_index('ix_tickets_question', ['question_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_tickets_question_id_community_posts'), 'community_posts',
            ['question_id'], ['id'], ondelete='SET NULL',
        )
    # The link as it was found: the customer's own question that names the ticket.
    op.execute(
        "UPDATE tickets SET question_id = (SELECT min(p.id) FROM community_posts p"
        " WHERE p.brand_id = tickets.brand_id AND p.author_id = tickets.customer_id"
        " AND p.kind = 'question' AND p.ticket_id = tickets.id)"
    )
    op.execute("UPDATE tickets SET case_started_at = created_at")
    op.execute(
        "UPDATE tickets SET created_at = (SELECT min(tt.at) FROM ticket_transitions tt"
        " WHERE tt.ticket_id = tickets.id AND tt.action = 'submit')"
        " WHERE question_id IS NOT NULL AND EXISTS (SELECT 1 FROM ticket_transitions tt"
        " WHERE tt.ticket_id = tickets.id AND tt.action = 'submit')"
    )
    op.execute(
        "UPDATE tickets SET community_response_at = (SELECT min(a.created_at)"
        " FROM community_posts a WHERE a.brand_id = tickets.brand_id"
        " AND a.question_id = tickets.question_id AND a.kind = 'answer' AND NOT a.hidden"
        " AND a.author_id <> tickets.customer_id AND a.created_at >= tickets.created_at)"
        " WHERE question_id IS NOT NULL"
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column(
            'case_started_at', existing_type=crowdcx.kernel.models.UTCDateTime(timezone=True),
            nullable=False,
        )


def downgrade() -> None:
    # Before 0023 created_at was the case's start (the SLA clocks ran from it).
    op.execute("UPDATE tickets SET created_at = case_started_at")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_tickets_question_id_community_posts'), type_='foreignkey'
        )
        batch_op.drop_index('ix_tickets_question')
        batch_op.drop_column('community_response_at')
        batch_op.drop_column('question_id')
        batch_op.drop_column('case_started_at')
