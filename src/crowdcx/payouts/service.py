"""The money ledger as the shell sees it: write a posting set (checked balanced first)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crowdcx.kernel.errors import AppError
from crowdcx.payouts import rules as pay
from crowdcx.payouts.models import LedgerPosting


def post(session: Session, brand_id: int, posting_set: pay.PostingSet) -> None:
    """Append a balanced posting set; an unbalanced one is a bug, refused before any row."""
    problems = pay.validate_posting_set(posting_set)
    if problems:
        raise AppError(500, "ledger_unbalanced", problems[0].message)
    for p in posting_set.postings:
        session.add(
            LedgerPosting(
                brand_id=brand_id,
                account=p.account,
                amount_minor=p.amount.minor,
                currency=p.amount.currency,
                kind=p.kind,
                correlation_key=p.correlation_key,
                idempotency_key=p.idempotency_key,
                memo=p.memo[:200],
                at=p.at,
            )
        )
