"""Quality control pages: staff's queue of sampled expert resolutions, the review page (the
ticket's conversation beside the scorecard), and an expert's own quality record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import N_
from crowdcx.kernel.numbers import ascii_int, typed_int
from crowdcx.quality import rules, service
from crowdcx.quality.models import QualityReviewRow
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.tickets import rules as lifecycle
from crowdcx.tickets import service as tickets
from crowdcx.tickets.labels import actor_labels, status_labels
from crowdcx.web.deps import CsrfChecked, CurrentUser, Uow, now
from crowdcx.web.templating import NavItem, page, register_nav

router = APIRouter(include_in_schema=False)
register_nav(NavItem(N_("Quality reviews"), "quality", "ticket.staff", order=10))
register_nav(
    NavItem(N_("My quality"), "quality/mine", "ticket.work", roles=frozenset({"expert"}), order=10)
)

QUEUE_PAGE = 50


def _common(uow: UnitOfWork, ctx: BrandContext) -> dict[str, Any]:
    return {
        "ctx": ctx,
        "criteria": service.criterion_labels(),
        "card": service.card(uow.session, ctx),
        "reason_text": service.reason_text,
        "status_names": status_labels(),
        "actor_names": actor_labels(),
        "prior": rules.DEFAULT_PRIOR.mean,
    }


def _rows(
    uow: UnitOfWork, ctx: BrandContext, user: User, rows: list[QualityReviewRow], as_expert: bool
) -> list[dict[str, Any]]:
    """Reviews with their ticket's subject as this viewer reads it and the expert's name."""
    session = uow.session
    found = service.tickets_by_id(session, ctx, [r.ticket_id for r in rows])
    names = service.names_by_id(
        session, {r.expert_id for r in rows} | {r.reviewer_id for r in rows}
    )
    policy, _roster = tickets.load_policy(session, ctx)
    role = lifecycle.Role.EXPERT if as_expert else lifecycle.Role.AGENT
    allowed = tickets.unmasked_fields(session, ctx, user, role, policy)
    scorecard = policy.quality.scorecard
    out = []
    for r in rows:
        t = found.get(r.ticket_id)
        out.append(
            {
                "r": r,
                "subject": tickets.as_read(t.subject, t, allowed) if t else f"#{r.ticket_id}",
                "expert": names.get(r.expert_id, ""),
                "reviewer": names.get(r.reviewer_id or 0, ""),
                "passed": r.score is not None and rules.passed_at(r.score, r.pass_mark, scorecard),
                # The mark it was decided by (a pending review: the one it will be).
                "pass_mark": scorecard.pass_mark if r.pass_mark is None else r.pass_mark,
            }
        )
    return out


@router.get("/b/{slug}/quality")
def queue(
    slug: str, request: Request, user: CurrentUser, uow: Uow, state: str = "", after: str = ""
) -> Response:
    ctx = access_brand(uow.session, slug, user, "ticket.staff")
    wanted = "done" if state == "done" else "pending"
    found = service.list_reviews(uow.session, ctx, wanted, ascii_int(after), QUEUE_PAGE)
    return page(
        request,
        "quality/queue.html",
        {
            **_common(uow, ctx),
            "state": wanted,
            "rows": _rows(uow, ctx, user, found.items, False),
            "next_after": found.items[-1].id if found.next_cursor and found.items else None,
            "pending": service.pending_count(uow.session, ctx),
        },
    )


def _review_page(
    request: Request,
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    review_id: int,
    **extra: Any,
) -> Response:
    status = int(extra.pop("status", 200))
    session = uow.session
    at = now()
    review = service.get_review(session, ctx, review_id)
    policy, _roster = tickets.load_policy(session, ctx)
    row = tickets.get_ticket(session, ctx, review.ticket_id)
    role = lifecycle.Role.AGENT  # staff read the ticket as on the staff ticket page
    fields = tickets.present_fields(uow, ctx, user, row, role, policy, at)
    allowed = tickets.unmasked_fields(session, ctx, user, role, policy)
    messages = [
        (m, tickets.author_name(m, author, allowed), tickets.message_html(m, row, allowed))
        for m, author in tickets.messages_for(session, ctx, row, role)
    ]
    [shown] = _rows(uow, ctx, user, [review], False)
    common = _common(uow, ctx)
    as_decided = True
    if review.state == "done":  # the criteria and weights it was decided by, when kept
        common["card"], as_decided = rules.card_decided_by(
            review.weights, review.pass_mark, common["card"]
        )
    context = {
        **common,
        "card_as_decided": as_decided,
        "review": review,
        "shown": shown,
        "t": row,
        "subject": tickets.as_read(row.subject, row, allowed),
        "body": tickets.as_read(row.body, row, allowed),
        "fields": fields,
        "field_names": _field_names(),
        "messages": messages,
        "history": tickets.history(session, ctx, row),
        "transition_reason": tickets.escalation_reason_text,
        "own_work": review.expert_id == user.id,
        "form": {},
        "errors": {},
        **extra,
    }
    uow.commit()  # the access-log rows for the unmasked fields the reviewer read
    return page(request, "quality/review.html", context, status=status)


def _field_names() -> dict[str, str]:
    from crowdcx.tickets.pages import field_labels

    return field_labels()


@router.get("/b/{slug}/quality/reviews/{review_id}")
def review_page(
    slug: str, review_id: int, request: Request, user: CurrentUser, uow: Uow
) -> Response:
    ctx = access_brand(uow.session, slug, user, "ticket.staff")
    return _review_page(request, uow, ctx, user, review_id)


@router.post("/b/{slug}/quality/reviews/{review_id}", dependencies=[CsrfChecked])
def decide(
    slug: str,
    review_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    comment: Annotated[
        str, Form(max_length=20_000, title=N_("Feedback for the expert (optional)"))
    ] = "",
    score_solved: Annotated[str, Form(max_length=10)] = "",
    score_accuracy: Annotated[str, Form(max_length=10)] = "",
    score_tone: Annotated[str, Form(max_length=10)] = "",
    score_policy: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user, "ticket.staff")
    typed = {
        "solved": score_solved,
        "accuracy": score_accuracy,
        "tone": score_tone,
        "policy": score_policy,
    }
    # A choice not made is missing; anything else not 1–5 is out of range (rules say which).
    scores: dict[str, object] = {}
    for code, text in typed.items():
        if text.strip():
            value = typed_int(text, limit=10**6)
            scores[code] = value if value is not None else text.strip()[:10]
    form = {"comment": comment, **{f"score_{k}": v for k, v in typed.items()}}
    try:
        service.decide(uow, ctx, user, review_id, scores, comment, now())
    except AppError as error:
        uow.rollback()
        if error.status == 404:
            raise
        errors = {e["field"]: e["message"] for e in error.errors} or {"form": error.detail}
        return _review_page(
            request, uow, ctx, user, review_id, form=form, errors=errors, status=error.status
        )
    uow.commit()
    return RedirectResponse(f"/b/{slug}/quality?decided={review_id}", status_code=303)


def _record(
    request: Request,
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    expert_id: int,
    mine: bool,
) -> Response:
    q = service.expert_quality(uow.session, ctx, expert_id)
    return page(
        request,
        "quality/record.html",
        {
            **_common(uow, ctx),
            "q": q,
            "mine": mine,
            "rows": _rows(uow, ctx, user, q.recent, mine and not ctx.can("ticket.staff")),
        },
    )


@router.get("/b/{slug}/quality/mine")
def mine(slug: str, request: Request, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user, "ticket.work")
    service.access_expert_quality(uow.session, ctx, user, user.id)
    return _record(request, uow, ctx, user, user.id, True)


@router.get("/b/{slug}/quality/experts/{user_id}")
def expert_record(
    slug: str, user_id: int, request: Request, user: CurrentUser, uow: Uow
) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.view")
    service.access_expert_quality(uow.session, ctx, user, user_id)
    return _record(request, uow, ctx, user, user_id, user_id == user.id)
