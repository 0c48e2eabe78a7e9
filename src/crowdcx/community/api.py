"""JSON API of the community lane (paths are contract: see docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crowdcx.community import engagement, service
from crowdcx.community.models import CommunityRow, PostRow
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import _
from crowdcx.notifications import service as notes
from crowdcx.reputation import service as points
from crowdcx.reputation.rules import Violation
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.web.deps import CurrentUser, Uow, ViewerDep, now

router = APIRouter(prefix="/api/v1/brands/{slug}", tags=["community"])


class CommunityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(max_length=40)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=5000)
    closed: bool = False


class CommunityOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    closed: bool


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    community: str = Field(max_length=40, description="community slug or id")
    title: str = Field(max_length=1000)
    body: str = Field(default="", max_length=40_000)
    language: str | None = Field(default=None, max_length=16)
    tags: list[str] = Field(default_factory=list, max_length=20)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(max_length=40_000)


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: int = Field(ge=-1, le=1)


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer_id: int


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=16)


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: int
    kind: str = Field(pattern="^(credit|cash|charity)$")


class PostOut(BaseModel):
    id: int
    kind: str
    community_id: int
    question_id: int | None
    author_id: int
    title: str
    body: str
    body_html: str
    language: str
    tags: list[str]
    up: int
    down: int
    score: int
    answers: int
    accepted: bool
    brand_approved: bool
    solved: bool
    hidden: bool
    closed: bool
    duplicate_of: int | None
    ticket_id: int | None
    created_at: datetime


class QuestionDetail(PostOut):
    answer_list: list[PostOut]
    solved_cases: int  # tickets their customers closed saying this question solved them


def post_out(p: PostRow, ctx: BrandContext) -> PostOut:
    """The post as the API shows it to this viewer: the ticket a question became only to
    those who may see that ticket (service.may_see_ticket_of)."""
    return PostOut(
        id=p.id, kind=p.kind, community_id=p.community_id, question_id=p.question_id,
        author_id=p.author_id, title=p.title, body=p.body, body_html=p.body_html,
        language=p.language, tags=p.tags, up=p.up, down=p.down, score=p.up - p.down,
        answers=p.answers, accepted=p.accepted, brand_approved=p.brand_approved,
        solved=p.solved, hidden=p.hidden, closed=p.closed, duplicate_of=p.duplicate_of,
        ticket_id=p.ticket_id if service.may_see_ticket_of(ctx, p) else None,
        created_at=p.created_at,
    )  # fmt: skip


def community_out(c: CommunityRow) -> CommunityOut:
    return CommunityOut(
        id=c.id, slug=c.slug, name=c.name, description=c.description, closed=c.closed
    )


def _ctx(uow: UnitOfWork, slug: str, user: Any) -> BrandContext:
    return access_brand(uow.session, slug, user)


@router.post("/communities", status_code=201, response_model=CommunityOut)
def create_community(slug: str, body: CommunityIn, uow: Uow, user: CurrentUser) -> CommunityOut:
    ctx = _ctx(uow, slug, user)
    row = service.create_community(uow, ctx, body.slug, body.name, body.description, body.closed)
    uow.commit()
    return community_out(row)


@router.get("/communities", response_model=dict[str, list[CommunityOut]])
def list_communities(slug: str, uow: Uow, viewer: ViewerDep) -> dict[str, list[CommunityOut]]:
    ctx = _ctx(uow, slug, viewer.user)
    return {"items": [community_out(c) for c in service.communities(uow.session, ctx)]}


@router.post("/communities/{community}/join", status_code=200)
def join(slug: str, community: str, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    row = service.join(uow, ctx, service.community_by(uow.session, ctx, community), now())
    uow.commit()
    return {"community_id": row.community_id, "status": row.status}


@router.post("/questions", status_code=201, response_model=PostOut)
def ask(slug: str, body: QuestionIn, uow: Uow, user: CurrentUser) -> PostOut:
    ctx = _ctx(uow, slug, user)
    community = service.community_by(uow.session, ctx, body.community)
    post = service.ask(uow, ctx, community, body.title, body.body, body.language, body.tags, now())
    uow.commit()
    return post_out(post, ctx)


@router.get("/questions", response_model=dict[str, Any])
def list_questions(
    slug: str,
    uow: Uow,
    viewer: ViewerDep,
    community: Annotated[str | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    sort: Annotated[str, Query(pattern="^(new|votes|unanswered|unsolved)$")] = "new",
    limit: Annotated[int, Query(ge=1, le=100)] = 30,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    ctx = _ctx(uow, slug, viewer.user)
    comm = service.community_by(uow.session, ctx, community) if community else None
    after, after_score = service.decode_question_cursor(cursor, sort)
    rows = service.list_questions(
        uow.session, ctx, community=comm, tag=tag, sort=sort, limit=limit + 1, after=after,
        after_score=after_score,
    )  # fmt: skip
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [post_out(r, ctx) for r in rows],
        "next_cursor": service.question_cursor(rows[-1], sort) if more else None,
    }


@router.get("/questions/{question_id}", response_model=QuestionDetail)
def get_question(slug: str, question_id: int, uow: Uow, viewer: ViewerDep) -> QuestionDetail:
    ctx = _ctx(uow, slug, viewer.user)
    q = service.readable_post(uow.session, ctx, question_id, "question")
    answers = service.ordered_answers(uow.session, ctx, q)
    return QuestionDetail(
        **post_out(q, ctx).model_dump(),
        answer_list=[post_out(a, ctx) for a in answers],
        solved_cases=service.solved_cases(uow.session, ctx, q),
    )


@router.post("/questions/{question_id}/answers", status_code=201, response_model=PostOut)
def post_answer(
    slug: str, question_id: int, body: AnswerIn, uow: Uow, user: CurrentUser
) -> PostOut:
    ctx = _ctx(uow, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")
    a = service.answer(uow, ctx, q, body.body, now())
    uow.commit()
    return post_out(a, ctx)


@router.post("/posts/{post_id}/vote", response_model=PostOut)
def vote(slug: str, post_id: int, body: VoteIn, uow: Uow, user: CurrentUser) -> PostOut:
    ctx = _ctx(uow, slug, user)
    post = service.vote(
        uow, ctx, service.readable_post(uow.session, ctx, post_id), body.value, now()
    )
    uow.commit()
    return post_out(post, ctx)


@router.post("/questions/{question_id}/accept", response_model=PostOut)
def accept(slug: str, question_id: int, body: AcceptIn, uow: Uow, user: CurrentUser) -> PostOut:
    ctx = _ctx(uow, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")
    a = service.accept(uow, ctx, q, body.answer_id, now())
    uow.commit()
    return post_out(a, ctx)


@router.post("/answers/{answer_id}/approve", response_model=PostOut)
def approve(slug: str, answer_id: int, uow: Uow, user: CurrentUser) -> PostOut:
    ctx = _ctx(uow, slug, user)
    a = service.approve(uow, ctx, service.get_post(uow.session, ctx, answer_id, "answer"), now())
    uow.commit()
    return post_out(a, ctx)


@router.post("/posts/{post_id}/flag", status_code=201)
def flag(slug: str, post_id: int, body: FlagIn, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    out = service.flag(
        uow, ctx, service.readable_post(uow.session, ctx, post_id), body.reason, now()
    )
    uow.commit()
    return out


@router.get("/leaderboard")
def leaderboard(
    slug: str,
    uow: Uow,
    viewer: ViewerDep,
    period: Annotated[str, Query(max_length=10)] = "week",
    community: Annotated[str | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    ctx = _ctx(uow, slug, viewer.user)
    comm = service.community_by(uow.session, ctx, community) if community else None
    rows = service.leaderboard(uow.session, ctx, period, comm, tag, now())
    return {
        "period": period,
        "items": [{"rank": r.rank, "user_id": r.user_id, "points": r.points} for r in rows],
    }


@router.get("/users/{user_id}/reputation")
def reputation(slug: str, user_id: int, uow: Uow, viewer: ViewerDep) -> dict[str, Any]:
    ctx = _ctx(uow, slug, viewer.user)
    return service.reputation_card(uow.session, ctx, user_id)


@router.post("/rewards/redeem", status_code=201)
def redeem(slug: str, body: RedeemIn, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    row = service.redeem(uow, ctx, body.points, body.kind, now())
    uow.commit()
    return {
        "id": row.id, "points": row.points, "kind": row.kind,
        "amount_minor": row.amount_minor, "currency": row.currency,
        "balance": points.balance_of(uow.session, ctx, row.user_id),
    }  # fmt: skip


@router.post("/questions/{question_id}/escalate", status_code=201)
def escalate(slug: str, question_id: int, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")
    ticket_id = service.escalate(uow, ctx, q, now())
    uow.commit()
    return {"question_id": q.id, "ticket_id": ticket_id, "url": f"/b/{slug}/tickets/{ticket_id}"}


# --- engagement: onboarding, follows, notifications, moderation review, discovery ----------


class OnboardingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: str = Field(default="", max_length=20_000)
    quiz: list[dict[str, Any]] = Field(default_factory=list, max_length=20)


class OnboardingAnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules_accepted: bool = False
    answers: list[int] = Field(default_factory=list, max_length=20)


class FollowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern="^(community|tag|user)$")
    target: str = Field(min_length=1, max_length=60)


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=2000)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(pattern="^(restore|uphold|hide|dismiss)$")
    note: str = Field(default="", max_length=2000)


@router.put("/communities/{community}/onboarding")
def put_onboarding(
    slug: str, community: str, body: OnboardingIn, uow: Uow, user: CurrentUser
) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    comm = service.community_by(uow.session, ctx, community)
    engagement.set_onboarding(uow, ctx, comm, body.model_dump())
    uow.commit()
    return comm.onboarding


@router.post("/communities/{community}/onboarding")
def complete_onboarding(
    slug: str, community: str, body: OnboardingAnswersIn, uow: Uow, user: CurrentUser
) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    comm = service.community_by(uow.session, ctx, community)
    row = engagement.complete_onboarding(
        uow, ctx, comm, body.rules_accepted, dict(enumerate(body.answers))
    )
    uow.commit()
    return {"community_id": comm.id, "status": row.status, "onboarding_done": row.onboarding_done}


@router.get("/communities/{community}/applications")
def list_applications(slug: str, community: str, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    comm = service.community_by(uow.session, ctx, community)
    if not service.is_agent(ctx):
        raise AppError(403, "agent_required", _("Only the brand's agents see applications."))
    rows = engagement.applications(uow, ctx, comm)
    return {"items": [{"user_id": r.user_id, "applied_at": r.joined_at} for r in rows]}


@router.post("/communities/{community}/members/{user_id}/admit")
def admit(slug: str, community: str, user_id: int, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    comm = service.community_by(uow.session, ctx, community)
    row = engagement.admit(uow, ctx, comm, user_id, now())
    uow.commit()
    return {"user_id": row.user_id, "status": row.status, "onboarding_done": row.onboarding_done}


@router.post("/follows", status_code=201)
def follow(slug: str, body: FollowIn, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    engagement.follow(uow, ctx, body.kind, body.target, now())
    uow.commit()
    return {"following": sorted(f"{k}:{t}" for k, t in engagement.following(uow, ctx, user.id))}


@router.delete("/follows")
def unfollow(slug: str, body: FollowIn, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    engagement.unfollow(uow, ctx, body.kind, body.target)
    uow.commit()
    return {"following": sorted(f"{k}:{t}" for k, t in engagement.following(uow, ctx, user.id))}


@router.get("/notifications")
def list_notifications(slug: str, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    rows = notes.recent(uow.session, ctx.brand.id, user.id)
    return {
        "unread": notes.unread_count(uow.session, ctx.brand.id, user.id),
        "items": [
            {"id": r.id, "kind": r.kind, "text": notes.text(r), "url": r.url,
             "created_at": r.created_at, "read": r.read_at is not None}
            for r in rows
        ],
    }  # fmt: skip


@router.get("/notifications/unread")
def unread_notifications(slug: str, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    """How many notifications the viewer has not read: the count beside the menu entry."""
    ctx = _ctx(uow, slug, user)
    return {"count": notes.unread_count(uow.session, ctx.brand.id, user.id)}


@router.post("/notifications/read")
def read_notifications(slug: str, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    notes.mark_read(uow.session, ctx.brand.id, user.id, now())
    uow.commit()
    return {"unread": 0}


@router.post("/posts/{post_id}/appeal", status_code=201)
def appeal(slug: str, post_id: int, body: AppealIn, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    row = engagement.appeal(
        uow, ctx, service.readable_post(uow.session, ctx, post_id), body.text, now()
    )
    uow.commit()
    return {"id": row.id, "post_id": row.post_id, "action": row.action}


@router.get("/moderation/queue")
def moderation_queue(slug: str, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    if not engagement.can_review(uow, ctx):
        service._raise_first(
            [Violation("privilege_required", None, (("privilege", "review_queue"),))]
        )
    return {
        "items": [
            {"post": post_out(i.post, ctx), "flags": i.flags, "reasons": list(i.reasons),
             "appeal": i.appeal.message if i.appeal else None}
            for i in engagement.review_queue(uow, ctx)
        ],
        "comments": [
            {"comment": comment_out(i.comment),
             "question_id": i.question.id if i.question else None,
             "flags": i.flags, "reasons": list(i.reasons), "hidden_at": i.hidden_at,
             "appeal": i.appeal.message if i.appeal else None}
            for i in engagement.comment_review_queue(uow, ctx)
        ],
    }  # fmt: skip


@router.post("/moderation/{post_id}")
def moderate(slug: str, post_id: int, body: ReviewIn, uow: Uow, user: CurrentUser) -> PostOut:
    ctx = _ctx(uow, slug, user)
    post = service.get_post(uow.session, ctx, post_id)
    engagement.review(uow, ctx, post, body.decision, body.note, now())
    uow.commit()
    return post_out(post, ctx)


@router.get("/super-users")
def super_users(slug: str, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    return {
        "items": [
            {"rank": c.rank, "user_id": c.user_id, "accepted_answers": c.accepted_answers,
             "reputation": c.reputation, "languages": list(c.languages),
             "acceptance_rate": round(c.acceptance_rate, 3)}
            for c in engagement.super_user_candidates(uow, ctx)
        ]
    }  # fmt: skip


@router.post("/super-users/{user_id}/invite", status_code=201)
def invite(slug: str, user_id: int, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    engagement.invite_expert(uow, ctx, user_id, now())
    uow.commit()
    return {"user_id": user_id, "invited": True}


@router.post("/badges/backfill")
def backfill(slug: str, uow: Uow, user: CurrentUser) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    ctx.require("brand.manage")
    granted = engagement.backfill_badges(uow, ctx, now())
    uow.commit()
    return {"granted": granted}


# --- closing, editing, comments -------------------------------------------------------------


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duplicate_of: int | None = None


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=1000)
    body: str = Field(max_length=40_000)
    note: str = Field(default="", max_length=200)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(max_length=5000)


class CommentModerationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(pattern="^(hide|restore|uphold)$")
    note: str = Field(default="", max_length=2000)


def comment_out(c: Any, hidden_reason: str | None = None) -> dict[str, Any]:
    out = {"id": c.id, "post_id": c.post_id, "author_id": c.author_id, "body": c.body,
           "body_html": c.body_html, "hidden": c.hidden, "created_at": c.created_at}  # fmt: skip
    if hidden_reason is not None:
        out["hidden_reason"] = hidden_reason
    return out


@router.post("/questions/{question_id}/close", response_model=PostOut)
def close(slug: str, question_id: int, body: CloseIn, uow: Uow, user: CurrentUser) -> PostOut:
    ctx = _ctx(uow, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")
    service.close(uow, ctx, q, body.duplicate_of, now())
    uow.commit()
    return post_out(q, ctx)


@router.post("/questions/{question_id}/reopen", response_model=PostOut)
def reopen(slug: str, question_id: int, uow: Uow, user: CurrentUser) -> PostOut:
    ctx = _ctx(uow, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")
    service.reopen(uow, ctx, q, now())
    uow.commit()
    return post_out(q, ctx)


@router.patch("/posts/{post_id}", response_model=PostOut)
def edit_post(slug: str, post_id: int, body: EditIn, uow: Uow, user: CurrentUser) -> PostOut:
    ctx = _ctx(uow, slug, user)
    post = service.readable_post(uow.session, ctx, post_id)
    service.edit(uow, ctx, post, body.title, body.body, body.note, now())
    uow.commit()
    return post_out(post, ctx)


@router.get("/posts/{post_id}/revisions")
def post_revisions(slug: str, post_id: int, uow: Uow, viewer: ViewerDep) -> dict[str, Any]:
    ctx = _ctx(uow, slug, viewer.user)
    post = service.readable_post(uow.session, ctx, post_id)
    return {
        "items": [
            {"id": r.id, "editor_id": r.editor_id, "title": r.title, "body": r.body,
             "note": r.note, "created_at": r.created_at}
            for r in service.revisions(uow.session, ctx, post)
        ]
    }  # fmt: skip


@router.post("/posts/{post_id}/comments", status_code=201)
def add_comment(
    slug: str, post_id: int, body: CommentIn, uow: Uow, user: CurrentUser
) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    row = service.comment(
        uow, ctx, service.readable_post(uow.session, ctx, post_id), body.body, now()
    )
    uow.commit()
    return comment_out(row)


@router.get("/posts/{post_id}/comments")
def list_comments(slug: str, post_id: int, uow: Uow, viewer: ViewerDep) -> dict[str, Any]:
    ctx = _ctx(uow, slug, viewer.user)
    post = service.readable_post(uow.session, ctx, post_id)
    rows = service.comments_for(uow.session, ctx, [post.id]).get(post.id, [])
    reasons = service.comment_hide_reasons(uow.session, ctx, rows)  # the author's own hidden ones
    return {"items": [comment_out(c, reasons.get(c.id)) for c in rows]}


@router.post("/comments/{comment_id}/flag", status_code=201)
def flag_comment(
    slug: str, comment_id: int, body: FlagIn, uow: Uow, user: CurrentUser
) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    comment = service.readable_comment(uow.session, ctx, comment_id)
    out = service.flag_comment(uow, ctx, comment, body.reason, now())
    uow.commit()
    return out


@router.post("/comments/{comment_id}/appeal", status_code=201)
def appeal_comment(
    slug: str, comment_id: int, body: AppealIn, uow: Uow, user: CurrentUser
) -> dict[str, Any]:
    """The author of a hidden comment asks a moderator to restore it."""
    ctx = _ctx(uow, slug, user)
    comment = service.readable_comment(uow.session, ctx, comment_id)  # 404 for anyone else
    row = engagement.appeal_comment(uow, ctx, comment, body.text, now())
    uow.commit()
    return {"id": row.id, "comment_id": row.comment_id, "action": row.action}


@router.post("/comments/{comment_id}/moderate")
def moderate_comment(
    slug: str, comment_id: int, body: CommentModerationIn, uow: Uow, user: CurrentUser
) -> dict[str, Any]:
    ctx = _ctx(uow, slug, user)
    comment = service.get_comment(uow.session, ctx, comment_id)
    engagement.moderate_comment(uow, ctx, comment, body.action, body.note, now())
    uow.commit()
    return comment_out(comment)
