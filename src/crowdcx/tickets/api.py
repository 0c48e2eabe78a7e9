"""JSON API of the inquiry lifecycle (paths are contract: see docs/api.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query

from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.money import Money
from crowdcx.kernel.pagination import decode_cursor, encode_cursor
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.tickets import rules as lifecycle
from crowdcx.tickets import service
from crowdcx.tickets.models import TicketRow
from crowdcx.tickets.policy import BrandPolicy, policy_to_dict, policy_version
from crowdcx.tickets.schemas import (
    AccessOut,
    AvailabilityIn,
    DeflectIn,
    EarningLineOut,
    EarningsOut,
    ExpertIn,
    ExpertOut,
    LedgerOut,
    MessageIn,
    MessageOut,
    OfferOut,
    PolicyChangeOut,
    PolicyHistoryEntryOut,
    PolicyHistoryOut,
    PolicyIn,
    PostingOut,
    RatingIn,
    RatingOut,
    ReasonIn,
    SkillRenameIn,
    SolvedByOut,
    Suggestion,
    TicketCreated,
    TicketIn,
    TicketList,
    TicketOut,
)
from crowdcx.web.deps import CurrentUser, Uow, now

router = APIRouter(prefix="/api/v1/brands/{slug}", tags=["tickets"])


def ticket_out(
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    row: TicketRow,
    role: lifecycle.Role,
    policy: BrandPolicy,
    solved: Mapping[int, service.SolvedByShown] | None = None,
) -> TicketOut:
    """One ticket as ``user`` may read it; ``solved``: the page's solved_by_shown_many, so a
    list reads its tickets' suggestions at once (None: this ticket's own, read here)."""
    at = now()
    actor = lifecycle.Actor(role, str(user.id))
    actions = sorted(
        a.value
        for a in lifecycle.allowed_actions(service.to_rules(row), actor, at, policy.lifecycle)
    )
    allowed = service.unmasked_fields(uow.session, ctx, user, role, policy)
    return TicketOut(
        id=row.id,
        status=row.status,
        subject=service.as_read(row.subject, row, allowed),
        body=service.as_read(row.body, row, allowed),
        language=row.language,
        skill=row.skill,
        priority=row.priority,
        customer_fields=service.present_fields(uow, ctx, user, row, role, policy, at),
        owner_id=row.owner_id,
        offered_to=row.offered_to,
        offer_expires_at=row.offer_expires_at,
        escalated=row.escalated,
        rate=str(Money(row.quote_minor, row.currency)),
        rate_minor=row.quote_minor,
        currency=row.currency,
        created_at=row.created_at,
        case_started_at=row.case_started_at,
        first_response_at=row.first_response_at,
        community_response_at=row.community_response_at,
        resolved_at=row.resolved_at,
        rated=row.rated,
        allowed_actions=actions,
        note=service.ticket_note(row),
        solved_by=solved_by_out(
            service.solved_by_shown(uow.session, ctx, row) if solved is None else solved.get(row.id)
        ),
    )


def solved_by_out(shown: service.SolvedByShown | None) -> SolvedByOut | None:
    if shown is None:
        return None
    return SolvedByOut(
        kind=shown.kind, available=shown.title is not None, id=shown.id, title=shown.title,
        url=shown.url,
    )  # fmt: skip


def suggestions_for(uow: UnitOfWork, ctx: BrandContext, row: TicketRow) -> list[Suggestion]:
    """Self-service suggestions for the intake answer, not yet recorded as shown."""
    from crowdcx.tickets import suggest

    found = suggest.for_text(uow.session, ctx, f"{row.subject}\n{row.body}", row.language)
    return [Suggestion(**s) for s in found]


@router.put("/policy", response_model=dict[str, Any])
def put_policy(slug: str, body: PolicyIn, user: CurrentUser, uow: Uow) -> dict[str, Any]:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    data = body.model_dump(exclude_unset=True)
    read_at = data.pop("version", None)
    policy = service.set_policy(uow, ctx, data, now(), read_at=read_at)
    uow.commit()
    return policy_out(policy)


@router.post("/policy/skills/rename", response_model=dict[str, Any])
def rename_skill(slug: str, body: SkillRenameIn, user: CurrentUser, uow: Uow) -> dict[str, Any]:
    """A saved skill under a new name, everywhere it is named (see docs/api.md)."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    policy = service.rename_skill(uow, ctx, body.name, body.new_name, now(), body.version)
    uow.commit()
    return policy_out(policy)


@router.get("/policy/history", response_model=PolicyHistoryOut)
def policy_history(
    slug: str,
    user: CurrentUser,
    uow: Uow,
    before: Annotated[int | None, Query(ge=1, lt=2**63)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> PolicyHistoryOut:
    """The policy's changes, newest first; ``?before=<next_before>`` reads the next page."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    rows = service.policy_changes(uow.session, ctx, limit, before)
    return PolicyHistoryOut(
        items=[
            PolicyHistoryEntryOut(
                id=r.id,
                at=r.at,
                kind=r.kind,
                user_id=r.user_id,
                user_name=name,
                version_before=r.version_before,
                version_after=r.version_after,
                changes=[PolicyChangeOut.model_validate(c) for c in r.changes],
            )
            for r, name in rows
        ],
        next_before=rows[-1][0].id if len(rows) == limit else None,
    )


@router.get("/policy", response_model=dict[str, Any])
def get_policy(slug: str, user: CurrentUser, uow: Uow) -> dict[str, Any]:
    ctx = access_brand(uow.session, slug, user, "brand.view")
    policy, _roster = service.load_policy(uow.session, ctx)
    return policy_out(policy)


def policy_out(policy: BrandPolicy) -> dict[str, Any]:
    """The policy and the version it is at, which a save may send back (docs/api.md)."""
    return {**policy_to_dict(policy), "version": policy_version(policy)}


def expert_out(row: Any) -> ExpertOut:
    return ExpertOut(
        user_id=row.user_id,
        skills=row.skills,
        languages=row.languages,
        tier=row.tier,
        certifications=row.certifications,
        online=row.online,
        load=row.load,
    )


@router.put("/experts/{user_id}", response_model=ExpertOut)
def put_expert(slug: str, user_id: int, body: ExpertIn, user: CurrentUser, uow: Uow) -> ExpertOut:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    row = service.upsert_expert(
        uow,
        ctx,
        user_id,
        skills=body.skills,
        languages=body.languages,
        tier=body.tier,
        certifications=body.certifications,
        now=now(),
    )
    uow.commit()
    return expert_out(row)


@router.post("/experts/me/availability", response_model=ExpertOut)
def availability(slug: str, body: AvailabilityIn, user: CurrentUser, uow: Uow) -> ExpertOut:
    ctx = access_brand(uow.session, slug, user, "ticket.work")
    row = service.set_availability(uow, ctx, user, body.online, now())
    uow.commit()
    return expert_out(row)


@router.post("/tickets", status_code=201, response_model=TicketCreated)
def create_ticket(slug: str, body: TicketIn, user: CurrentUser, uow: Uow) -> TicketCreated:
    from crowdcx.tickets import suggest

    ctx = access_brand(uow.session, slug, user, "ticket.create")
    at = now()
    intake = service.prepare_intake(
        uow,
        ctx,
        user,
        service.Intake(
            body.subject, body.body, body.skill, body.language, body.priority, body.customer_fields
        ),
        at,
    )
    # Search before the first write: on SQLite the write lock is then held only for writing.
    suggestions = suggestions_for(uow, ctx, intake.row)
    row = service.submit_intake(uow, ctx, intake, at)
    if suggestions:  # deflection: these were shown
        suggest.record_shown(uow.session, ctx, f"{row.subject}\n{row.body}", len(suggestions))
    uow.commit()
    out = ticket_out(uow, ctx, user, row, lifecycle.Role.CUSTOMER, intake.policy)
    return TicketCreated(**out.model_dump(), suggestions=suggestions)


@router.get("/tickets/{ticket_id}", response_model=TicketOut)
def get_ticket(slug: str, ticket_id: int, user: CurrentUser, uow: Uow) -> TicketOut:
    ctx = access_brand(uow.session, slug, user)
    policy, _roster = service.load_policy(uow.session, ctx)
    row, role = service.visible_ticket(uow, ctx, user, ticket_id, policy, now())
    out = ticket_out(uow, ctx, user, row, role, policy)
    uow.commit()  # the access log entry, if any data was shown unmasked
    return out


@router.get("/tickets", response_model=TicketList)
def list_tickets(
    slug: str,
    user: CurrentUser,
    uow: Uow,
    status: Annotated[str | None, Query(max_length=16)] = None,
    mine: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TicketList:
    ctx = access_brand(uow.session, slug, user)
    if status is not None and status not in service.STATE_NAMES:
        from crowdcx.kernel.errors import invalid
        from crowdcx.kernel.i18n import _

        raise invalid(
            "status",
            _("Unknown status; use one of: %(choices)s.")
            % {"choices": ", ".join(service.STATE_NAMES)},
            "status_unknown",
        )
    policy, _roster = service.load_policy(uow.session, ctx)
    rows = service.list_tickets(
        uow.session, ctx, user, status, mine, policy, limit, decode_cursor(cursor)
    )
    solved = service.solved_by_shown_many(uow.session, ctx, rows)
    items = []
    for row in rows:
        role = (
            lifecycle.Role.CUSTOMER
            if row.customer_id == user.id
            else (lifecycle.Role.AGENT if ctx.can("ticket.staff") else lifecycle.Role.EXPERT)
        )
        items.append(ticket_out(uow, ctx, user, row, role, policy, solved))
    uow.commit()
    next_cursor = encode_cursor(rows[-1].id) if len(rows) == limit else None
    return TicketList(items=items, next_cursor=next_cursor)


@router.post("/tickets/{ticket_id}/messages", status_code=201, response_model=MessageOut)
def post_message(
    slug: str, ticket_id: int, body: MessageIn, user: CurrentUser, uow: Uow
) -> MessageOut:
    ctx = access_brand(uow.session, slug, user)
    message = service.post_message(uow, ctx, user, ticket_id, body.body, body.internal, now())
    uow.commit()
    return MessageOut(
        id=message.id,
        author_id=user.id,
        author_name=user.display_name,
        author_role=message.author_role,
        body_html=message.body_html,
        internal=message.internal,
        created_at=message.created_at,
    )


@router.get("/tickets/{ticket_id}/messages", response_model=list[MessageOut])
def get_messages(slug: str, ticket_id: int, user: CurrentUser, uow: Uow) -> list[MessageOut]:
    ctx = access_brand(uow.session, slug, user)
    policy, _roster = service.load_policy(uow.session, ctx)
    at = now()
    row, role = service.visible_ticket(uow, ctx, user, ticket_id, policy, at)
    allowed = service.unmasked_fields(uow.session, ctx, user, role, policy)
    messages = service.messages_for(uow.session, ctx, row, role)
    # Read without the ticket's card, whose view is logged: the data they quote is logged here.
    service.log_quoted_access(
        uow, ctx, user, row, role, allowed, (m.body for m, _n in messages), at
    )
    uow.commit()
    return [
        MessageOut(
            id=m.id,
            author_id=m.author_id,
            author_name=service.author_name(m, name, allowed),
            author_role=m.author_role,
            body_html=service.message_html(m, row, allowed),
            internal=m.internal,
            created_at=m.created_at,
        )
        for m, name in messages
    ]


@router.get("/offers", response_model=list[OfferOut])
def offers(slug: str, user: CurrentUser, uow: Uow) -> list[OfferOut]:
    ctx = access_brand(uow.session, slug, user, "ticket.work")
    policy, _roster = service.load_policy(uow.session, ctx)
    allowed = service.unmasked_fields(uow.session, ctx, user, lifecycle.Role.EXPERT, policy)
    return [
        OfferOut(
            ticket_id=r.id,
            subject=service.as_read(r.subject, r, allowed),
            language=r.language,
            skill=r.skill,
            rate=str(Money(r.quote_minor, r.currency)),
            rate_minor=r.quote_minor,
            currency=r.currency,
            expires_at=r.offer_expires_at,
        )
        for r in service.open_offers(uow.session, ctx, user, now())
    ]


def _after(uow: UnitOfWork, ctx: BrandContext, user: User, row: TicketRow) -> TicketOut:
    uow.commit()
    policy, _roster = service.load_policy(uow.session, ctx)
    role = (
        lifecycle.Role.CUSTOMER
        if row.customer_id == user.id
        else (
            lifecycle.Role.EXPERT
            if row.owner_id == user.id
            or row.resolved_by == user.id
            or ("expert" in ctx.roles and not ctx.can("ticket.staff"))
            else lifecycle.Role.AGENT
        )
    )
    out = ticket_out(uow, ctx, user, row, role, policy)
    uow.commit()
    return out


@router.post("/tickets/{ticket_id}/claim", response_model=TicketOut)
def claim(slug: str, ticket_id: int, user: CurrentUser, uow: Uow) -> TicketOut:
    ctx = access_brand(uow.session, slug, user, "ticket.work")
    row = service.claim(uow, ctx, user, ticket_id, now())
    return _after(uow, ctx, user, row)


def _action(name: str, action: lifecycle.Action, permission: str = "") -> None:
    def endpoint(
        slug: str, ticket_id: int, user: CurrentUser, uow: Uow, body: ReasonIn | None = None
    ) -> TicketOut:
        ctx = access_brand(uow.session, slug, user, permission)
        row = service.act(
            uow, ctx, user, ticket_id, action, now(), reason=body.reason if body else ""
        )
        return _after(uow, ctx, user, row)

    endpoint.__name__ = f"ticket_{name}"
    router.add_api_route(
        f"/tickets/{{ticket_id}}/{name}",
        endpoint,
        methods=["POST"],
        response_model=TicketOut,
        name=f"ticket_{name}",
    )


_action("decline", lifecycle.Action.DECLINE, "ticket.work")
# Who may resolve is the lifecycle rules' business (the owning expert, or staff: agents and
# brand admins, who work the staff queue), as on the ticket page and in allowed_actions.
_action("resolve", lifecycle.Action.RESOLVE)
_action("escalate", lifecycle.Action.ESCALATE)
_action("reopen", lifecycle.Action.REOPEN)


@router.post("/tickets/{ticket_id}/deflect", response_model=TicketOut, name="ticket_deflect")
def deflect(
    slug: str, ticket_id: int, user: CurrentUser, uow: Uow, body: DeflectIn | None = None
) -> TicketOut:
    """The customer says a suggestion solved it; the body names which (or, left out, not)."""
    ctx = access_brand(uow.session, slug, user)
    row = service.act(
        uow, ctx, user, ticket_id, lifecycle.Action.DEFLECT, now(),
        reason=body.reason if body else "", solved_by=solved_by(body),
    )  # fmt: skip
    return _after(uow, ctx, user, row)


def solved_by(body: DeflectIn | None) -> service.SolvedBy | None:
    if body is None or (body.kind is None and body.id is None):
        return None
    if body.kind is None or body.id is None:
        from crowdcx.kernel.errors import invalid
        from crowdcx.kernel.i18n import _

        raise invalid(
            "kind" if body.kind is None else "id",
            _("Name the suggestion with both its kind (article or question) and its id."),
            "suggestion_incomplete",
        )
    return service.SolvedBy(body.kind, body.id)


_action("confirm", lifecycle.Action.CONFIRM)


@router.post("/tickets/{ticket_id}/rating", status_code=201, response_model=RatingOut)
def rating(slug: str, ticket_id: int, body: RatingIn, user: CurrentUser, uow: Uow) -> RatingOut:
    ctx = access_brand(uow.session, slug, user)
    row = service.rate(uow, ctx, user, ticket_id, body.csat, body.nps, body.comment, now())
    uow.commit()
    return RatingOut(ticket_id=ticket_id, csat=row.csat, nps=row.nps, comment=row.comment)


@router.get("/earnings/me", response_model=EarningsOut)
def my_earnings(
    slug: str,
    user: CurrentUser,
    uow: Uow,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 200,
) -> EarningsOut:
    """The caller's earnings per ticket, newest first, a page at a time (``next_cursor``),
    with the totals and the effective hourly rate over all of them."""
    ctx = access_brand(uow.session, slug, user, "ticket.work")
    e = service.earnings(uow.session, ctx, user, limit, decode_cursor(cursor))
    return EarningsOut(
        next_cursor=encode_cursor(e.next_before) if e.next_before is not None else None,
        lines=[
            EarningLineOut(
                ticket_id=line.ticket_id,
                subject=line.subject,
                amount=str(line.amount),
                amount_minor=line.amount.minor,
                currency=line.amount.currency,
                kind=line.kind,
                at=line.at,
            )
            for line in e.lines
        ],
        totals={k: str(v) for k, v in e.totals.items()},
        effective_hourly={k: str(v) for k, v in e.hourly.items()},
        paid_out={k: str(v) for k, v in e.paid.items()},
        owed={k: str(v) for k, v in e.owed.items()},
    )


@router.get("/ledger", response_model=LedgerOut)
def ledger(
    slug: str,
    user: CurrentUser,
    uow: Uow,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 200,
) -> LedgerOut:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    rows, balance = service.ledger(uow.session, ctx, limit, decode_cursor(cursor))
    return LedgerOut(
        next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None,
        postings=[
            PostingOut(
                id=r.id,
                account=r.account,
                amount_minor=r.amount_minor,
                currency=r.currency,
                kind=r.kind,
                correlation_key=r.correlation_key,
                idempotency_key=r.idempotency_key,
                at=r.at,
            )
            for r in rows
        ],
        balance=balance,
    )


@router.get("/access-log", response_model=list[AccessOut])
def access_log(
    slug: str,
    user: CurrentUser,
    uow: Uow,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 200,
) -> list[AccessOut]:
    """The newest entries first; ``?before=<id of the last one>`` reads the next page."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    return [
        AccessOut(
            id=r.id,
            ticket_id=r.ticket_id,
            viewer_id=r.viewer_id,
            viewer_name=name,
            viewer_role=r.viewer_role,
            fields=r.fields,
            at=r.at,
        )
        for r, name in service.access_log(uow.session, ctx, limit, before)
    ]
