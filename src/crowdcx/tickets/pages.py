"""Pages of the inquiry lifecycle: the customer's ask and conversation, the expert workspace
(live offers with a countdown), the staff queue and the brand admin's policy and access log.
Every action posts a form to the same use cases the API calls."""

from __future__ import annotations

import functools
import json
import unicodedata
import zoneinfo
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import N_, _, number_style, use_locale
from crowdcx.kernel.language import LOCALE_NAMES, LOCALES
from crowdcx.kernel.money import Money
from crowdcx.kernel.numbers import NumberStyle, ascii_int, typed_int
from crowdcx.routing.rules import RoutingMode
from crowdcx.tenancy.models import Membership, MembershipRole
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.tickets import policy_form, policy_history, service, suggest
from crowdcx.tickets import rules as lifecycle
from crowdcx.tickets.labels import action_labels, actor_labels, status_labels, viewer_labels
from crowdcx.tickets.models import ExpertProfileRow, TicketRow
from crowdcx.tickets.policy import (
    CUSTOMER_FIELDS,
    BrandPolicy,
    policy_from_dict,
    policy_to_dict,
    policy_version,
    validate_policy,
)
from crowdcx.tickets.rules import Violation
from crowdcx.web.deps import CsrfChecked, CurrentUser, Uow, now
from crowdcx.web.templating import NavItem, page, register_nav

router = APIRouter(include_in_schema=False)

register_nav(NavItem(N_("Ask for help"), "tickets/new", "ticket.create"))
register_nav(NavItem(N_("My tickets"), "tickets", "ticket.create"))
register_nav(NavItem(N_("Workspace"), "workspace", "ticket.work", roles=frozenset({"expert"})))
register_nav(NavItem(N_("Earnings"), "earnings", "ticket.work", roles=frozenset({"expert"})))
register_nav(NavItem(N_("Staff queue"), "staff", "ticket.staff"))
register_nav(NavItem(N_("Ticket policy"), "admin/policy", "brand.manage"))
register_nav(NavItem(N_("Access log"), "admin/access-log", "brand.manage"))

# Twice the 20,000-character limit: a browser sends each line break as two characters (CR LF),
# and the use case counts them as one (kernel.markdown.one_line_break).


# The skills every brand starts with: their names in the policy and, translated, readers'.
DEFAULT_SKILLS: dict[str, str] = {
    "general": N_("General question"),
    "orders": N_("Orders and delivery"),
    "billing": N_("Billing and payments"),
}


def _skill_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


@functools.cache
def _default_skill_names() -> dict[str, str]:
    """Each way of writing a default skill's name → its key in :data:`DEFAULT_SKILLS`: the
    key, and its reader's name in every language, in any letter case."""
    out: dict[str, str] = {}
    for key, title in DEFAULT_SKILLS.items():
        out[_skill_key(key)] = key
        for locale in LOCALES:
            with use_locale(locale):
                out[_skill_key(_(title))] = key
    return out


class SkillNames(Mapping[str, str]):
    """Readers' names of skills, in the reader's language for the default skills. A default
    skill an admin renamed keeps the translation when the new name is still one of its
    names — its key or its name in one of the languages, in other letters ("Billing",
    "Billing and payments", "Оплата и счета"), as an admin does who types out what the
    page shows: the skill means what it meant, and readers of the other languages would
    otherwise see it in a language not theirs. Any other name, a new meaning, is shown as
    the brand wrote it, in any script."""

    def __getitem__(self, name: str) -> str:
        return _(DEFAULT_SKILLS[_default_skill_names()[_skill_key(name)]])

    def __iter__(self) -> Iterator[str]:
        return iter(DEFAULT_SKILLS)

    def __len__(self) -> int:
        return len(DEFAULT_SKILLS)


def skill_labels() -> SkillNames:
    return SkillNames()


def field_labels() -> dict[str, str]:
    return {
        "name": _("Name"),
        "phone": _("Phone"),
        "email": _("E-mail address"),
        "order_number": _("Order number"),
        "address": _("Address"),
        # Not a field: an access-log entry of an erasure on request (privacy.service).
        "erased": _("Erased on request"),
    }


def _can_write_articles(ctx: BrandContext) -> bool:
    from crowdcx.knowledge import service as kb  # the help center builds on tickets

    return kb.can_write(ctx)


def _drafted_article(uow: UnitOfWork, ctx: BrandContext, row: TicketRow) -> Any:
    """The article drafted from this ticket, for the brand's staff who may read it."""
    from crowdcx.knowledge import service as kb  # the help center builds on tickets

    return kb.drafted_from(uow.session, ctx, "ticket", row.id)


def _common(ctx: BrandContext) -> dict[str, Any]:
    return {
        "ctx": ctx,
        "status_names": status_labels(),
        "actor_names": actor_labels(),
        "field_names": field_labels(),
        "action_names": action_labels(),
        "skill_names": skill_labels(),
        "transition_reason": service.escalation_reason_text,
    }


@router.get("/b/{slug}/tickets/new")
def new_ticket(
    slug: str, request: Request, user: CurrentUser, uow: Uow, subject: str = ""
) -> Response:
    """The inquiry form; ``subject`` is what the customer searched the help center for when
    nothing answered it ("Ask an expert" carries it), so they need not type it again."""
    ctx = access_brand(uow.session, slug, user, "ticket.create")
    policy, _roster = service.load_policy(uow.session, ctx)
    return page(
        request,
        "tickets/new.html",
        {
            **_common(ctx),
            "skills": [s.name for s in policy.skills],
            "fields": CUSTOMER_FIELDS,
            "form": {"subject": subject.strip()[:200]} if subject.strip() else {},
            "errors": {},
        },
    )


@router.get("/b/{slug}/tickets/suggest")
def suggestions(
    slug: str, request: Request, user: CurrentUser, uow: Uow, subject: str = "", body: str = ""
) -> Response:
    """As-you-type self-service suggestions (an htmx fragment)."""
    ctx = access_brand(uow.session, slug, user, "ticket.create")
    text = f"{subject[:200]}\n{body[:2000]}".strip()
    found = suggest.for_text(uow.session, ctx, text, "") if len(text) >= 2 else []
    return page(
        request,
        "tickets/_suggestions.html",
        {"ctx": ctx, "suggestions": found, "typed": bool(text)},
    )


@router.post("/b/{slug}/tickets/new", dependencies=[CsrfChecked])
def create_ticket(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    subject: Annotated[str, Form(max_length=200, title=N_("Subject"))] = "",
    body: Annotated[str, Form(max_length=40_000, title=N_("What happened?"))] = "",
    skill: Annotated[str, Form(max_length=60)] = "general",
    language: Annotated[str, Form(max_length=16)] = "",
    name: Annotated[str, Form(max_length=300, title=N_("Name"))] = "",
    phone: Annotated[str, Form(max_length=300, title=N_("Phone"))] = "",
    email: Annotated[str, Form(max_length=300, title=N_("E-mail address"))] = "",
    order_number: Annotated[str, Form(max_length=300, title=N_("Order number"))] = "",
    address: Annotated[str, Form(max_length=300, title=N_("Address"))] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user, "ticket.create")
    fields = {
        "name": name,
        "phone": phone,
        "email": email,
        "order_number": order_number,
        "address": address,
    }
    at = now()
    try:
        intake = service.prepare_intake(
            uow, ctx, user,
            service.Intake(subject, body, skill, language or None, "normal", fields), at,
        )  # fmt: skip
        # As the API does: the intake's suggestions (shown on the ticket page) count once as
        # shown in the deflection figures, searched before the first write.
        text = f"{intake.row.subject}\n{intake.row.body}"
        shown = suggest.for_text(uow.session, ctx, text, intake.row.language)
        row = service.submit_intake(uow, ctx, intake, at)
        if shown:
            suggest.record_shown(uow.session, ctx, text, len(shown))
    except AppError as error:
        uow.rollback()
        policy, _roster = service.load_policy(uow.session, ctx)
        form = {"subject": subject, "body": body, "skill": skill, "language": language, **fields}
        return page(
            request,
            "tickets/new.html",
            {
                **_common(ctx),
                "skills": [s.name for s in policy.skills],
                "fields": CUSTOMER_FIELDS,
                "form": form,
                "errors": {error.field or "subject": error.detail},
            },
            status=error.status,
        )
    uow.commit()
    return RedirectResponse(f"/b/{slug}/tickets/{row.id}", status_code=303)


# A customer's tickets per page (newest first; "Next page" goes further back).
MY_TICKETS_PAGE = 50


@router.get("/b/{slug}/tickets")
def my_tickets(
    slug: str, request: Request, user: CurrentUser, uow: Uow, before: str = ""
) -> Response:
    """A customer's tickets, a page at a time: the page showed their newest 100 and no way
    to the older ones."""
    ctx = access_brand(uow.session, slug, user, "ticket.create")
    after = ascii_int(before)
    rows = service.customer_tickets(uow.session, ctx, user, MY_TICKETS_PAGE, after)
    older = rows[-1].id if len(rows) == MY_TICKETS_PAGE else None
    return page(
        request,
        "tickets/list.html",
        {**_common(ctx), "rows": rows, "title": _("My tickets"), "older": older,
         "paged": after is not None},
    )  # fmt: skip


def _role_for(ctx: BrandContext, user: User, row: TicketRow) -> lifecycle.Role:
    if row.customer_id == user.id:
        return lifecycle.Role.CUSTOMER
    if "expert" in ctx.roles and (
        row.owner_id == user.id or row.offered_to == user.id or not ctx.can("ticket.staff")
    ):
        return lifecycle.Role.EXPERT
    return lifecycle.Role.AGENT


@router.get("/b/{slug}/tickets/{ticket_id}")
def ticket_page(
    slug: str, ticket_id: int, request: Request, user: CurrentUser, uow: Uow
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    return _ticket_page(request, uow, ctx, user, ticket_id)


def _ticket_page(
    request: Request, uow: UnitOfWork, ctx: BrandContext, user: User, ticket_id: int, **extra: Any
) -> HTMLResponse:
    status = int(extra.pop("status", 200))
    at = now()
    policy, _roster = service.load_policy(uow.session, ctx)
    row, _visible_as = service.visible_ticket(uow, ctx, user, ticket_id, policy, at)
    role = _role_for(ctx, user, row)
    fields = service.present_fields(uow, ctx, user, row, role, policy, at)
    actions = sorted(
        a.value
        for a in lifecycle.allowed_actions(
            service.to_rules(row), lifecycle.Actor(role, str(user.id)), at, policy.lifecycle
        )
    )
    if (
        role is lifecycle.Role.EXPERT
        and row.status == "queued"
        and policy.routing_mode is not RoutingMode.PUSH
    ):
        actions = sorted({*actions, "claim"})
    allowed = service.unmasked_fields(uow.session, ctx, user, role, policy)
    messages = [
        (m, service.author_name(m, author, allowed), service.message_html(m, row, allowed))
        for m, author in service.messages_for(uow.session, ctx, row, role)
    ]
    found = (
        suggest.for_text(uow.session, ctx, f"{row.subject}\n{row.body}", row.language)
        if role is lifecycle.Role.CUSTOMER and row.status in ("queued", "offered")
        else []
    )
    assist = (
        suggest.assist(uow.session, ctx, f"{row.subject}\n{row.body}", row.language, row.id)
        if role is not lifecycle.Role.CUSTOMER and row.status not in ("closed", "deflected")
        else []
    )
    from crowdcx.community import service as community  # community builds on tickets

    asked = community.question_of_ticket(uow.session, ctx, row)
    context = {
        **_common(ctx),
        "t": row,
        "question_url": f"/b/{ctx.brand.slug}/community/questions/{asked.id}" if asked else None,
        "subject": service.as_read(row.subject, row, allowed),
        "body": service.as_read(row.body, row, allowed),
        "role": role.value,
        "note": service.ticket_note(row),
        "solved_by": service.solved_by_shown(uow.session, ctx, row),
        "fields": fields,
        "actions": actions,
        "messages": messages,
        "history": service.history(uow.session, ctx, row)
        if role is not lifecycle.Role.CUSTOMER
        else [],
        "rate": Money(row.quote_minor, row.currency),
        "suggestions": found,
        "assist": assist,
        "can_draft_article": role is lifecycle.Role.AGENT
        and row.status in ("resolved", "closed")
        and _can_write_articles(ctx),
        "drafted_article": _drafted_article(uow, ctx, row)
        if role is lifecycle.Role.AGENT
        else None,
        "can_rate": role is lifecycle.Role.CUSTOMER
        and row.status in ("resolved", "closed")
        and not row.rated
        and row.resolved_by is not None,
        "errors": {},
        "rating": {},
        **extra,
    }
    uow.commit()  # the access-log rows for unmasked fields
    return page(request, "tickets/ticket.html", context, status=status)


@router.post("/b/{slug}/tickets/{ticket_id}/messages", dependencies=[CsrfChecked])
def post_message(
    slug: str,
    ticket_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    body: Annotated[str, Form(max_length=40_000, title=N_("Your reply"))] = "",
    internal: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    try:
        service.post_message(uow, ctx, user, ticket_id, body, internal == "1", now())
    except AppError as error:
        uow.rollback()
        return _ticket_page(
            request,
            uow,
            ctx,
            user,
            ticket_id,
            errors={"body": error.detail},
            draft=body,
            status=error.status,
        )
    uow.commit()
    return RedirectResponse(f"/b/{slug}/tickets/{ticket_id}#messages", status_code=303)


@router.post("/b/{slug}/tickets/{ticket_id}/act", dependencies=[CsrfChecked])
def act(
    slug: str,
    ticket_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    action: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=500, title=N_("Why should staff take over?"))] = "",
    back: Annotated[str, Form(max_length=20)] = "",
    suggestion: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    try:
        if action == "claim":
            service.claim(uow, ctx, user, ticket_id, now())
        else:
            try:
                chosen = lifecycle.Action(action)
            except ValueError:
                raise AppError(422, "action_unknown", _("Unknown action.")) from None
            service.act(
                uow, ctx, user, ticket_id, chosen, now(), reason,
                solved_by=_solved_by(suggestion) if chosen is lifecycle.Action.DEFLECT else None,
            )  # fmt: skip
    except AppError as error:
        uow.rollback()
        if back == "workspace":
            return _workspace(request, uow, ctx, user, message=error.detail, status=error.status)
        return _ticket_page(
            request, uow, ctx, user, ticket_id, errors={"action": error.detail}, status=error.status
        )
    uow.commit()
    if action in ("decline", "escalate") and "expert" in ctx.roles and not ctx.can("ticket.staff"):
        # The ticket is no longer the expert's to see: back to the workspace.
        return RedirectResponse(f"/b/{slug}/workspace?done={action}", status_code=303)
    return RedirectResponse(f"/b/{slug}/tickets/{ticket_id}", status_code=303)


def _solved_by(suggestion: str) -> service.SolvedBy | None:
    """The suggestion the ticket page's "This solved it" names, as "kind:id" (none: not said)."""
    if not suggestion:
        return None
    kind, _sep, ref = suggestion.partition(":")
    if not ref.isascii() or not ref.isdigit():
        raise AppError(422, "unknown_suggestion", _("That suggestion is not one of this ticket's."))
    return service.SolvedBy(kind, int(ref))


@router.post("/b/{slug}/tickets/{ticket_id}/rating", dependencies=[CsrfChecked])
def rate(
    slug: str,
    ticket_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    csat: Annotated[str, Form(max_length=2)] = "",
    nps: Annotated[
        str, Form(max_length=3, title=N_("How likely are you to recommend us (0–10)? Optional."))
    ] = "",
    comment: Annotated[str, Form(max_length=2000, title=N_("Comment (optional)"))] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    try:
        score = typed_int(csat) or 0
        # Something typed that is no whole number is out of range too, not "no answer".
        recommend = typed_int(nps) if nps.strip() else None
        service.rate(uow, ctx, user, ticket_id, score,
                     -1 if nps.strip() and recommend is None else recommend,
                     comment, now())  # fmt: skip
    except AppError as error:
        uow.rollback()
        # The form comes back as the customer filled it in, the reason beside its field.
        field = error.field if error.field in ("csat", "nps") else "rating"
        return _ticket_page(
            request, uow, ctx, user, ticket_id, errors={field: error.detail},
            rating={"csat": csat, "nps": nps, "comment": comment}, status=error.status,
        )  # fmt: skip
    uow.commit()
    return RedirectResponse(f"/b/{slug}/tickets/{ticket_id}?rated=1", status_code=303)


# ---------------------------------------------------------------------------- expert workspace


def _workspace(
    request: Request, uow: UnitOfWork, ctx: BrandContext, user: User, **extra: Any
) -> HTMLResponse:
    status = int(extra.pop("status", 200))
    profile = service.require_expert(uow.session, ctx, user)
    policy, _roster = service.load_policy(uow.session, ctx)
    at = now()
    owned = service.owned_tickets(uow.session, ctx, user)
    queue = (
        list(service.list_tickets(uow.session, ctx, user, "queued", False, policy, 20))
        if policy.routing_mode is not RoutingMode.PUSH
        else []
    )
    earned = service.earnings(uow.session, ctx, user, limit=0)  # totals only
    offers = service.open_offers(uow.session, ctx, user, at)
    context = {
        **_common(ctx),
        "profile": profile,
        "offers": offers,
        "time_left": _time_left(offers, at),
        "owned": owned,
        "queue": queue,
        "subjects": _subjects(uow, ctx, user, policy, [*offers, *owned, *queue]),
        "earnings": earned,
        "message": "",
        **extra,
    }
    return page(request, "tickets/workspace.html", context, status=status)


def _time_left(offers: list[TicketRow], at: datetime) -> dict[int, str]:
    """Each offer's time left to claim as the workspace's countdown writes it (m:ss), so the
    page reads right before its script first counts."""
    left: dict[int, str] = {}
    for o in offers:
        if o.offer_expires_at is None:
            continue
        seconds = max(0, round((o.offer_expires_at - at).total_seconds()))
        left[o.id] = f"{seconds // 60}:{seconds % 60:02d}"
    return left


def _subjects(
    uow: UnitOfWork, ctx: BrandContext, user: User, policy: BrandPolicy, rows: list[TicketRow]
) -> dict[int, str]:
    """Tickets' subjects as this expert may read them (customer data they quote masked)."""
    allowed = service.unmasked_fields(uow.session, ctx, user, lifecycle.Role.EXPERT, policy)
    return {r.id: service.as_read(r.subject, r, allowed) for r in rows}


@router.get("/b/{slug}/workspace")
def workspace(slug: str, request: Request, user: CurrentUser, uow: Uow, done: str = "") -> Response:
    ctx = access_brand(uow.session, slug, user, "ticket.work")
    notes = {
        "escalate": _("The ticket was handed to the brand's staff."),
        "decline": _("Offer declined. It costs you nothing."),
    }
    return _workspace(request, uow, ctx, user, notice=notes.get(done, ""))


@router.get("/b/{slug}/workspace/offers")
def workspace_offers(slug: str, request: Request, user: CurrentUser, uow: Uow) -> Response:
    """The offers panel alone, refreshed by htmx when a live offer event arrives."""
    ctx = access_brand(uow.session, slug, user, "ticket.work")
    service.require_expert(uow.session, ctx, user)
    policy, _roster = service.load_policy(uow.session, ctx)
    at = now()
    offers = service.open_offers(uow.session, ctx, user, at)
    return page(
        request,
        "tickets/_offers.html",
        {
            **_common(ctx),
            "offers": offers,
            "time_left": _time_left(offers, at),
            "subjects": _subjects(uow, ctx, user, policy, offers),
        },
    )


@router.post("/b/{slug}/workspace/availability", dependencies=[CsrfChecked])
def availability(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    online: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user, "ticket.work")
    service.set_availability(uow, ctx, user, online == "1", now())
    uow.commit()
    return RedirectResponse(f"/b/{slug}/workspace", status_code=303)


EARNINGS_PAGE = 100


@router.get("/b/{slug}/earnings")
def earnings(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    before: str = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user, "ticket.work")
    return page(
        request,
        "tickets/earnings.html",
        {
            **_common(ctx),
            "earnings": service.earnings(uow.session, ctx, user, EARNINGS_PAGE, ascii_int(before)),
        },
    )


# ---------------------------------------------------------------------------- staff and admin


@router.get("/b/{slug}/staff")
def staff_queue(slug: str, request: Request, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user, "ticket.staff")
    policy, _roster = service.load_policy(uow.session, ctx)
    escalated = service.list_tickets(uow.session, ctx, user, "escalated", False, policy, 100)
    reopened = service.list_tickets(uow.session, ctx, user, "reopened", False, policy, 100)
    waiting = service.list_tickets(uow.session, ctx, user, "queued", False, policy, 100)
    return page(
        request,
        "tickets/staff.html",
        {
            **_common(ctx),
            "escalated": escalated,
            "reopened": reopened,
            "waiting": waiting,
            "reason_text": service.escalation_reason_text,
        },
    )


def routing_mode_labels() -> dict[str, str]:
    return {
        "both": _("Offered, and taken from the queue"),
        "push": _("Offered to one expert at a time"),
        "pull": _("Experts take tickets from the queue"),
    }


def weekday_labels() -> list[str]:
    """Monday first, as business-hours windows number the days."""
    return [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]


@functools.cache
def timezone_names() -> tuple[str, ...]:
    """The IANA time zones this machine knows, offered as the business-hours zone is typed."""
    return tuple(sorted(zoneinfo.available_timezones()))


def _explain(v: Violation, currency: str, style: NumberStyle) -> str:
    """A violation explained beside its field, in the reader's language."""
    template = policy_form.EXPLANATIONS.get(v.code)
    if template is None:
        return v.message
    try:
        return _(template) % policy_form.explanation_params(v, currency, style)
    except (KeyError, ValueError, TypeError):  # tests/tickets/test_policy_form.py: never
        return v.message


def _policy_page(
    request: Request, uow: UnitOfWork, ctx: BrandContext, **extra: Any
) -> HTMLResponse:
    status = int(extra.pop("status", 200))
    policy, _roster = service.load_policy(uow.session, ctx)
    style = number_style()
    form = {**policy_form.policy_to_form(policy, style), **extra.pop("form", {})}
    # The saved policy is checked too: a value stored before a check existed (a currency
    # "rub", say) is shown beside its field instead of failing the page.
    violations: list[Violation] = extra.pop("violations", None) or []
    if not violations:
        unreadable = service.stored_policy_problems(uow.session, ctx)
        violations = unreadable or validate_policy(policy)
        if unreadable:
            extra.setdefault("errors", []).append(
                _(
                    "The saved policy could not be read, so tickets follow the brand's "
                    "defaults, shown here. Saving replaces the saved policy."
                )
            )
    currency = form.get("rate_card.currency", policy.rate_card.currency).strip().upper()
    field_errors: dict[str, list[str]] = {
        name: list(texts) for name, texts in extra.pop("field_errors", {}).items()
    }
    for v in violations:
        name = policy_form.form_field(v, form)
        field_errors.setdefault(name, []).append(_explain(v, currency, style))
    experts = list(
        uow.session.execute(
            ctx.scoped(Membership, select(User, ExpertProfileRow).select_from(Membership))
            .join(User, User.id == Membership.user_id)
            .join(
                MembershipRole,
                (MembershipRole.membership_id == Membership.id) & (MembershipRole.role == "expert"),
            )
            .outerjoin(
                ExpertProfileRow,
                (ExpertProfileRow.user_id == User.id) & (ExpertProfileRow.brand_id == ctx.brand.id),
            )
            .order_by(User.display_name)
        ).all()
    )
    context = {
        **_common(ctx),
        # The version the page read; a save posts it back (a save refused for another
        # input keeps the one posted, so a save by someone else meanwhile is still caught).
        "version": extra.pop("version", None) or policy_version(policy),
        # The brand's languages, and any other the policy still serves.
        "language_choices": [
            *ctx.brand.locales,
            *(lang for lang in policy.languages if lang not in ctx.brand.locales),
        ],
        # The policy as the form showed it: after a save by someone else, only the fields
        # they changed are marked (see _changed_page).
        "opened": extra.pop("opened", None) or _compact(policy),
        "policy_json": extra.pop(
            "policy_json", json.dumps(policy_to_dict(policy), ensure_ascii=False, indent=2)
        ),
        "experts": experts,
        "languages": policy.languages,
        "form": form,
        "field_errors": field_errors,
        "priced_skills": policy_form.priced_skills(policy),
        "priced_languages": policy_form.price_languages(policy),
        "complexities": policy_form.priced_complexities(policy),
        "units": {
            "minutes": _("minutes"),
            "hours": _("hours"),
            "days": _("days"),
            "seconds": _("seconds"),
        },
        "complexity_names": {"low": _("Low"), "normal": _("Normal"), "high": _("High")},
        "language_names": LOCALE_NAMES,
        "routing_modes": routing_mode_labels(),
        "low_csat_choices": policy_form.LOW_CSAT_CHOICES,
        "skill_rows": policy_form.skill_rows(form),
        "saved_skills": len(policy.skills),
        "tiers": policy_form.TIERS,
        "customer_fields": CUSTOMER_FIELDS,
        "window_rows": policy_form.window_rows(form),
        "band_rows": policy_form.band_rows(form),
        "rate_zone": policy.rate_card.timezone,
        "highest_tier": policy_form.chosen_highest_tier(form),
        "around_the_clock": not policy_form.typed_windows(form),
        "weekday_names": weekday_labels(),
        "timezones": timezone_names(),
        "errors": [],
        "message": "",
        "json_open": False,
        **extra,
    }
    return page(request, "tickets/policy.html", context, status=status)


def json_syntax_problem(exc: json.JSONDecodeError) -> str:
    """Where a JSON text breaks and what is likely wrong there, in the reader's language
    (the parser's own message is English)."""
    hints = {
        "Expecting ',' delimiter": _("a comma is missing between two items"),
        "Expecting ':' delimiter": _("a colon is missing after a name"),
        "Expecting property name enclosed in double quotes": _(
            "a name must be in double quotes, and no comma may come before }"
        ),
        "Expecting value": _(
            "a value is missing or is not JSON (text goes in double quotes; true, false and "
            "null are lower-case; no comma before ] or })"
        ),
        "Unterminated string starting at": _("a text is not closed with a double quote"),
        "Invalid control character at": _(
            "a line break or tab inside quotes must be written \\n or \\t"
        ),
        "Extra data": _("something follows the end of the policy; remove it"),
    }
    hint = hints.get(exc.msg, _("this is not JSON syntax"))
    return _(
        "The policy is not valid JSON at line %(line)s, column %(column)s: %(hint)s. "
        "Correct it there and save again."
    ) % {"line": exc.lineno, "column": exc.colno, "hint": hint}


@router.get("/b/{slug}/admin/policy")
def policy_page(
    slug: str, request: Request, user: CurrentUser, uow: Uow, saved: int = 0
) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    return _policy_page(request, uow, ctx, message=_("Saved.") if saved else "")


POLICY_CHANGES_PAGE = 50


@router.get("/b/{slug}/admin/policy/changes")
def policy_changes_page(
    slug: str, request: Request, user: CurrentUser, uow: Uow, before: str = ""
) -> Response:
    """The policy's history, newest first: who saved it, when, and what each save changed."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    rows = service.policy_changes(uow.session, ctx, POLICY_CHANGES_PAGE, ascii_int(before))
    policy, _roster = service.load_policy(uow.session, ctx)
    currency = policy.rate_card.currency
    entries = [
        {
            "row": r,
            "who": name if name is not None else _("No one signed in (a command)"),
            "kind": policy_history.kind_label(r.kind),
            "lines": policy_history.change_lines(r.changes, currency),
        }
        for r, name in rows
    ]
    older = rows[-1][0].id if len(rows) == POLICY_CHANGES_PAGE else None
    return page(
        request,
        "tickets/policy_changes.html",
        {**_common(ctx), "entries": entries, "older": older, "viewer_names": viewer_labels()},
    )


@router.post("/b/{slug}/admin/policy", dependencies=[CsrfChecked])
def save_policy(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    policy_json: Annotated[str, Form(max_length=100_000, title=N_("Policy"))] = "",
    version: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    read_at = version.strip() or None
    problem = None
    try:
        data = json.loads(policy_json)
    except json.JSONDecodeError as exc:
        problem = json_syntax_problem(exc)
    else:
        if not isinstance(data, dict):
            problem = _("The policy must be one JSON object, written between { and }.")
    if problem is not None:
        return _policy_page(
            request,
            uow,
            ctx,
            policy_json=policy_json,
            errors=[problem],
            status=422,
            json_open=True,
            version=read_at,
        )
    try:
        service.set_policy(uow, ctx, data, now(), read_at=read_at)
    except AppError as error:
        uow.rollback()
        problems = [f"{e.get('field') or ''}: {e['message']}" for e in error.errors] or [
            error.detail
        ]
        changed = error.code == "policy_changed"
        return _policy_page(
            request,
            uow,
            ctx,
            policy_json=policy_json,
            errors=[*problems, _saved_json_hint()] if changed else problems,
            status=error.status,
            json_open=True,
            version=None if changed else read_at,  # changed: the saved one's, to save over it
        )
    uow.commit()
    return RedirectResponse(f"/b/{slug}/admin/policy?saved=1", status_code=303)


async def typed_fields(request: Request) -> dict[str, str]:
    """A form's text fields by name, whatever their names (a priced skill's field is named
    after the skill); the token is not a setting."""
    form = await request.form()
    return {
        name: value
        for name, value in form.multi_items()
        if isinstance(value, str) and name != "csrf_token"
    }


@router.post("/b/{slug}/admin/policy/form", dependencies=[CsrfChecked])
def save_policy_form(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    typed: Annotated[dict[str, str], Depends(typed_fields)],
) -> Response:
    """The common settings as form fields: read in the reader's way of writing numbers, laid
    over the saved policy and saved through the same checks as the JSON."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    read_at = typed.pop("version", "").strip() or None
    opened = typed.pop("opened", "")
    policy, _roster = service.load_policy(uow.session, ctx)
    # An unticked box sends nothing: shown again, it must not take the saved value.
    for name in policy_form.checkboxes(
        {**policy_form.policy_to_form(policy, number_style()), **typed}
    ):
        typed.setdefault(name, "")
    data, problems = policy_form.form_to_policy(typed, policy, number_style())
    if not problems:
        try:
            renames = policy_form.skill_renames(typed, policy)
            service.set_policy(uow, ctx, data, now(), renames, read_at)
        except service.PolicyRefusedError as error:
            uow.rollback()
            problems = error.violations
        except AppError as error:  # a skill open tickets still need (skill_in_use), say
            uow.rollback()
            if error.code == "policy_changed":
                return _changed_page(request, uow, ctx, typed, error, _opened_form(opened, read_at))
            beside = error.field if error.field in {"skills", "tiers", "languages"} else None
            return _policy_page(
                request,
                uow,
                ctx,
                form=typed,
                errors=[_("Nothing was saved: correct the fields marked below.")]
                if beside
                else [error.detail],
                field_errors={beside: [error.detail]} if beside else {},
                status=error.status,
                version=read_at,
                opened=opened,
            )
        else:
            uow.commit()
            return RedirectResponse(f"/b/{slug}/admin/policy?saved=1", status_code=303)
    return _policy_page(
        request,
        uow,
        ctx,
        form=typed,
        violations=problems,
        errors=[_("Nothing was saved: correct the fields marked below.")],
        status=422,
        version=read_at,
        opened=opened,
    )


def _compact(policy: BrandPolicy) -> str:
    return json.dumps(policy_to_dict(policy), ensure_ascii=False, separators=(",", ":"))


def _opened_form(opened: str, read_at: str | None) -> dict[str, str] | None:
    """The form as its admin opened it, from the policy the page carried — when that is the
    policy of the version posted (a page from before, or text that is not it: None)."""
    if not opened or read_at is None:
        return None
    try:
        data = json.loads(opened)
    except ValueError:
        return None
    parsed = policy_from_dict(data) if isinstance(data, dict) else []
    if isinstance(parsed, list) or policy_version(parsed) != read_at:
        return None
    return policy_form.policy_to_form(parsed, number_style())


def _saved_json_hint() -> str:
    return _(
        "Your text is kept below, and the form above shows the saved policy. Saving this "
        "text again replaces the saved policy with it."
    )


def _changed_page(
    request: Request,
    uow: UnitOfWork,
    ctx: BrandContext,
    typed: dict[str, str],
    error: AppError,
    opened: Mapping[str, str] | None,
) -> HTMLResponse:
    """The form refused because someone saved the policy after it was opened: what was
    typed stays in every field, each field someone else changed since (``opened``: the
    form as opened; without it, each whose saved value differs from the typed one) says
    what is saved, and the page now carries the saved version, so saving again replaces
    it."""
    policy, _roster = service.load_policy(uow.session, ctx)
    saved = policy_form.policy_to_form(policy, number_style())
    ticks = set(policy_form.checkboxes(saved))
    notes: dict[str, list[str]] = {}
    for name in policy_form.differences(typed, saved):
        if opened is not None and opened.get(name, "").strip() == saved[name].strip():
            continue  # the admin's own change: no one else changed this field
        if name in ticks:
            note = _("Saved: ticked.") if saved[name] else _("Saved: not ticked.")
        elif saved[name].strip():
            note = _("Saved: %(value)s") % {"value": saved[name]}
        else:
            note = _("Saved: empty.")
        notes[name] = [note]
    return _policy_page(
        request,
        uow,
        ctx,
        form=typed,
        errors=[
            error.detail,
            _(
                "Your entries are kept below; where the saved policy differs, the field "
                "says what is saved. Saving again replaces the saved policy with this form."
            ),
        ],
        field_errors=notes,
        status=error.status,
    )


@router.post("/b/{slug}/admin/experts/{user_id}", dependencies=[CsrfChecked])
def save_expert(
    slug: str,
    user_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    skills: Annotated[str, Form(max_length=2000, title=N_("Skills (name:level)"))] = "",
    languages: Annotated[list[str] | None, Form()] = None,
    tier: Annotated[str, Form(max_length=2, title=N_("Tier"))] = "0",
    certifications: Annotated[str, Form(max_length=2000, title=N_("Certifications"))] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    try:
        parsed: dict[str, int] = {}
        # NFKC: the full-width "：", "，" and digits of a CJK input method are plain ones.
        for part in unicodedata.normalize("NFKC", skills).replace("、", ",").split(","):
            if not part.strip():
                continue
            name, _sep, level = part.partition(":")
            proficiency = typed_int(level)
            if proficiency is None:
                raise AppError(
                    422,
                    "skills_format",
                    _("Write skills as name:level, e.g. general:4, orders:2."),
                    field="skills",
                )
            parsed[name.strip()] = proficiency
        certs = [c.strip() for c in certifications.replace("，", ",").split(",") if c.strip()]
        service.upsert_expert(
            uow,
            ctx,
            user_id,
            skills=parsed,
            languages=languages or [],
            tier=-1 if (level_of_tier := typed_int(tier)) is None else level_of_tier,
            certifications=certs,
            now=now(),
        )
    except AppError as error:
        uow.rollback()
        return _policy_page(request, uow, ctx, errors=[error.detail], status=error.status)
    uow.commit()
    return RedirectResponse(f"/b/{slug}/admin/policy?saved=1", status_code=303)


ACCESS_LOG_PAGE = 200


@router.get("/b/{slug}/admin/access-log")
def access_log(
    slug: str, request: Request, user: CurrentUser, uow: Uow, before: str = ""
) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    entries = service.access_log(uow.session, ctx, ACCESS_LOG_PAGE, ascii_int(before))
    older = entries[-1][0].id if len(entries) == ACCESS_LOG_PAGE else None
    return page(
        request,
        "tickets/access_log.html",
        {**_common(ctx), "entries": entries, "older": older, "viewer_names": viewer_labels()},
    )
