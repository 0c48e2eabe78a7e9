"""The deflection count's statement as search.service sent it before the rule's two cases
became two NOT EXISTS: one NOT EXISTS whose subquery ORs them. The reference the rewrite is
tested against on random rows (tests/knowledge/test_deflection_count_query.py) and timed
against (bench/deflection_count.py --query-against)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from crowdcx.knowledge.models import SearchEvent
from crowdcx.search.service import _utc_day
from crowdcx.tickets.models import TicketDeflectionRow, TicketRow


def one_exists(session: Session, brand_id: int, since: datetime) -> Any:
    """search.service.separate_marks as it was (one NOT EXISTS over both cases)."""
    mark_day = _utc_day(session, SearchEvent.created_at)
    case_day = _utc_day(session, TicketDeflectionRow.at)
    named = and_(TicketDeflectionRow.kind.is_not(None), TicketDeflectionRow.ref_id.is_not(None))
    customer = case(
        (SearchEvent.visitor.like("u:%"), cast(func.substr(SearchEvent.visitor, 3), Integer)),
        else_=None,
    )
    same_case = (
        select(TicketDeflectionRow.id)
        .join(TicketRow, TicketRow.id == TicketDeflectionRow.ticket_id)
        .where(
            TicketRow.brand_id == SearchEvent.brand_id,
            TicketRow.customer_id == customer,
            literal("u:") + cast(TicketRow.customer_id, String) == SearchEvent.visitor,
            TicketDeflectionRow.at >= since - timedelta(days=1),
            or_(
                and_(~named, mark_day == case_day),
                and_(
                    named,
                    TicketDeflectionRow.kind == SearchEvent.kind,
                    cast(TicketDeflectionRow.ref_id, String) == SearchEvent.ref_id,
                    TicketRow.created_at <= SearchEvent.created_at,
                    mark_day <= case_day,
                ),
            ),
        )
        .exists()
    )
    return select(func.count()).where(
        SearchEvent.brand_id == brand_id,
        SearchEvent.event == "solved",
        SearchEvent.created_at >= since,
        SearchEvent.kind != "ticket",
        ~same_case,
    )
