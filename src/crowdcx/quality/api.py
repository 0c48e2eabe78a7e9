"""JSON API of quality control: staff's queue of sampled expert resolutions, deciding a
review against the scorecard, and an expert's quality (see docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crowdcx.identity.models import User
from crowdcx.kernel.pagination import MAX_LIMIT, decode_cursor
from crowdcx.quality import rules, service
from crowdcx.quality.models import QualityReviewRow
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.tickets import rules as lifecycle
from crowdcx.tickets import service as tickets
from crowdcx.tickets.models import TicketRow
from crowdcx.web.deps import CurrentUser, Uow, now

router = APIRouter(prefix="/api/v1/brands/{slug}", tags=["quality"])


class ReasonOut(BaseModel):
    code: str  # base_rate | newcomer | low_csat | reopened
    text: str
    params: dict[str, str]


class ReviewOut(BaseModel):
    id: int
    ticket_id: int
    ticket_subject: str
    expert_id: int
    expert_name: str
    state: Literal["pending", "done"]
    reasons: list[ReasonOut]
    scores: dict[str, int] | None
    score: int | None
    passed: bool | None  # at pass_mark, the mark it was decided by
    pass_mark: int | None  # the brand's pass mark when it was decided (None while pending)
    comment: str
    reviewer_id: int | None
    created_at: datetime
    reviewed_at: datetime | None


class ReviewList(BaseModel):
    items: list[ReviewOut]
    next_cursor: str | None


class CriterionOut(BaseModel):
    code: str
    name: str
    question: str
    weight: int


class ReviewDetail(ReviewOut):
    # A decided review: the criteria and weights it was decided by (when recorded, see
    # scorecard_as_decided); a pending one: the brand's scorecard it will be decided by.
    scorecard: list[CriterionOut]
    # False for a review decided before its weights were kept: the scorecard is today's.
    scorecard_as_decided: bool
    # A decided review: the mark it was decided by; a pending one: the mark it will be.
    pass_mark: int


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Criterion → 1..5; checked by the rules so each problem names its criterion.
    scores: dict[str, Any] = Field(max_length=50)
    comment: str = ""


class ExpertQualityOut(BaseModel):
    expert_id: int
    name: str
    reviews: int
    average: float | None
    score: float
    passed: int
    pass_share: float | None
    pass_mark: int
    pending: int
    recent: list[ReviewOut]


def _reason(r: dict[str, Any]) -> ReasonOut:
    params = {k: str(v) for k, v in r.items() if k != "code"}
    return ReasonOut(code=str(r.get("code", "")), text=service.reason_text(r), params=params)


def review_out(
    uow: Uow, ctx: BrandContext, user: User, rows: list[QualityReviewRow], as_expert: bool = False
) -> list[ReviewOut]:
    """Reviews as this viewer reads them: the ticket's subject masked as their tier would
    see it (staff usually see it whole; an expert as on their own ticket)."""
    session = uow.session
    found: dict[int, TicketRow] = service.tickets_by_id(session, ctx, [r.ticket_id for r in rows])
    names = service.names_by_id(session, {r.expert_id for r in rows})
    policy, _roster = tickets.load_policy(session, ctx)
    role = lifecycle.Role.EXPERT if as_expert else lifecycle.Role.AGENT
    allowed = tickets.unmasked_fields(session, ctx, user, role, policy)
    scorecard = policy.quality.scorecard
    out = []
    for r in rows:
        t = found.get(r.ticket_id)
        out.append(
            ReviewOut(
                id=r.id,
                ticket_id=r.ticket_id,
                ticket_subject=tickets.as_read(t.subject, t, allowed) if t else "",
                expert_id=r.expert_id,
                expert_name=names.get(r.expert_id, ""),
                state=r.state,
                reasons=[_reason(x) for x in r.reasons or []],
                scores=r.scores,
                score=r.score,
                passed=(
                    rules.passed_at(r.score, r.pass_mark, scorecard)
                    if r.score is not None
                    else None
                ),
                pass_mark=r.pass_mark if r.score is not None else None,
                comment=r.comment,
                reviewer_id=r.reviewer_id,
                created_at=r.created_at,
                reviewed_at=r.reviewed_at,
            )
        )
    return out


def scorecard_out(scorecard: rules.Scorecard) -> list[CriterionOut]:
    labels = service.criterion_labels()
    return [
        CriterionOut(
            code=c.code,
            name=labels.get(c.code, (c.code, ""))[0],
            question=labels.get(c.code, (c.code, ""))[1],
            weight=c.weight,
        )
        for c in scorecard.criteria
    ]


def _detail(uow: Uow, ctx: BrandContext, user: User, row: QualityReviewRow) -> ReviewDetail:
    [base] = review_out(uow, ctx, user, [row])
    today = service.card(uow.session, ctx)
    scorecard, as_decided = today, row.state != "done"
    if row.state == "done":
        scorecard, as_decided = rules.card_decided_by(row.weights, row.pass_mark, today)
    fields = base.model_dump()
    if fields["pass_mark"] is None:
        fields["pass_mark"] = scorecard.pass_mark
    return ReviewDetail(
        **fields, scorecard=scorecard_out(scorecard), scorecard_as_decided=as_decided
    )


@router.get("/quality/reviews", response_model=ReviewList)
def list_reviews(
    slug: str,
    uow: Uow,
    user: CurrentUser,
    state: Annotated[str, Query(max_length=20, description="pending (default) or done")] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> ReviewList:
    """Staff's review queue: pending reviews oldest first, or decided ones newest first."""
    ctx = access_brand(uow.session, slug, user, "ticket.staff")
    found = service.list_reviews(uow.session, ctx, state, decode_cursor(cursor), limit)
    return ReviewList(items=review_out(uow, ctx, user, found.items), next_cursor=found.next_cursor)


@router.get("/quality/reviews/{review_id}", response_model=ReviewDetail)
def get_review(slug: str, review_id: int, uow: Uow, user: CurrentUser) -> ReviewDetail:
    """One review with the scorecard to decide it by."""
    ctx = access_brand(uow.session, slug, user, "ticket.staff")
    return _detail(uow, ctx, user, service.get_review(uow.session, ctx, review_id))


@router.post("/quality/reviews/{review_id}", response_model=ReviewDetail)
def decide_review(
    slug: str, review_id: int, body: DecisionIn, uow: Uow, user: CurrentUser
) -> ReviewDetail:
    """Score a pending review (every criterion 1–5) with an optional comment; decided once.
    The expert is told their score."""
    ctx = access_brand(uow.session, slug, user, "ticket.staff")
    row = service.decide(uow, ctx, user, review_id, body.scores, body.comment, now())
    out = _detail(uow, ctx, user, row)
    uow.commit()
    return out


@router.get("/quality/experts/{user_id}", response_model=ExpertQualityOut)
def expert_quality(slug: str, user_id: int, uow: Uow, user: CurrentUser) -> ExpertQualityOut:
    """An expert's quality: a Bayesian average of their reviews' scores (a new expert starts
    near the prior, so one review does not swing it), the share passing, and the latest
    decided reviews with staff's comments. Staff read anyone's; an expert their own."""
    ctx = access_brand(uow.session, slug, user, "brand.view")
    service.access_expert_quality(uow.session, ctx, user, user_id)
    q = service.expert_quality(uow.session, ctx, user_id)
    s = q.summary
    return ExpertQualityOut(
        expert_id=user_id,
        name=q.name,
        reviews=s.reviews,
        average=s.average,
        score=s.score,
        passed=s.passed,
        pass_share=s.pass_share,
        pass_mark=s.pass_mark,
        pending=q.pending,
        recent=review_out(uow, ctx, user, q.recent, as_expert=not ctx.can("ticket.staff")),
    )
