"""Data protection use cases: a person's copy of their data, and erasure.

Erasure anonymises in place, in the caller's one transaction (the edge commits):

* the account (:func:`erase_account`, the person themself or a platform administrator):
  the user row keeps its id — tickets, posts, the points ledger and the money ledger point
  at it — but gets a non-deliverable address and the "Deleted user" marker for a name, loses
  its password, sessions, API tokens, memberships, follows and notifications, and is
  inactive; then every brand's tickets are erased as below;
* a brand's tickets of one customer (:func:`erase_customer`, the brand's admin or a
  platform administrator; also part of the above): subject, body, messages, the escalation
  reason, history reasons and rating comment are scrubbed of the customer's field values
  and account name and address (``tickets.masking.scrub``, before the fields are emptied),
  the fields emptied, the version bumped (a transition that read the ticket before gets a
  409 instead of writing the old fields back into the search index), and the search
  document of a resolved ticket written again from the scrubbed texts.

Both also empty the comments the person left beside "Was this helpful?" (in the brand, or
everywhere) and unlink their votes, which stay counted.

Community posts stay (the answers are the community's, not personal data) and show
"Deleted user"; points entries, redemptions and ledger postings are never touched. Each
erased ticket gets one access-log entry (field ``erased``: who, in which role, when; no
personal data); every erasure gets its row in the ``erasures`` audit (ids and counts, in the
same transaction), tied to each brand it touched, and a line on ``crowdcx.audit``. A second
erasure changes nothing and writes no second entry.

An account erasure deactivates the account before it counts the person's open work: a claim
checks, after its own write, that the claiming account is still active (tickets.service
.claim), so a claim and an erasure never both succeed — on PostgreSQL the two meet on the
user row's lock, on SQLite on the single writer's lock."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from crowdcx.community.models import (
    CommentRow,
    CommunityMemberRow,
    FollowRow,
    PostRow,
    RedemptionRow,
    VoteRow,
)
from crowdcx.identity.models import AuthToken, LoginThrottle, User
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError, conflict, not_found
from crowdcx.kernel.i18n import _
from crowdcx.kernel.markdown import render
from crowdcx.kernel.pagination import Page, decode_cursor, encode_cursor
from crowdcx.knowledge.models import ArticleFeedback, SearchEvent
from crowdcx.notifications import service as notes
from crowdcx.notifications.models import NotificationRow
from crowdcx.privacy import rules
from crowdcx.privacy.models import BrandErasureRow, ErasureRow
from crowdcx.reputation.models import PointsEntryRow
from crowdcx.search import service as search
from crowdcx.tenancy.models import Brand, Membership, MembershipRole
from crowdcx.tenancy.service import BrandContext
from crowdcx.tickets import presence
from crowdcx.tickets import service as ticket_service
from crowdcx.tickets.masking import scrub
from crowdcx.tickets.models import (
    AccessLogRow,
    TicketDeflectionRow,
    TicketMessageRow,
    TicketRatingRow,
    TicketRow,
    TicketTransitionRow,
)

audit = logging.getLogger("crowdcx.audit")

ERASED_FIELD = "erased"  # the access-log "field" of an erasure entry
OPEN_WORK = ("claimed", "reopened")  # statuses in which a ticket's owner is working on it


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


# --- download my data ------------------------------------------------------------------


def export(session: Session, user: User, now: datetime) -> dict[str, Any]:
    """Everything the platform holds about ``user`` as the person themself may read it.

    Left out, because it is other people's data: other customers' tickets an expert worked
    (and their fields), internal notes staff wrote on the person's tickets, and the names
    of whoever replied (their role is given). Ledger postings are the brand's books: the
    person's redemptions and points entries are given instead."""
    per_brand: dict[int, dict[str, Any]] = defaultdict(_brand_section)

    memberships = []
    for m, slug in session.execute(
        select(Membership, Brand.slug)
        .join(Brand, Brand.id == Membership.brand_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.id)
    ):
        roles = sorted(
            session.scalars(select(MembershipRole.role).where(MembershipRole.membership_id == m.id))
        )
        memberships.append({"brand": slug, "roles": roles, "since": _iso(m.created_at)})
        _ = per_brand[m.brand_id]  # a member's brand has a section even when empty

    tickets = list(
        session.scalars(
            select(TicketRow).where(TicketRow.customer_id == user.id).order_by(TicketRow.id)
        )
    )
    ids = [t.id for t in tickets]
    messages: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ratings: dict[int, dict[str, Any]] = {}
    if ids:
        for msg in session.scalars(
            select(TicketMessageRow)
            .where(TicketMessageRow.ticket_id.in_(ids), TicketMessageRow.internal.is_(False))
            .order_by(TicketMessageRow.id)
        ):
            messages[msg.ticket_id].append(
                {
                    "id": msg.id,
                    "mine": msg.author_id == user.id,
                    "author_role": msg.author_role,
                    "body": msg.body,
                    "created_at": _iso(msg.created_at),
                }
            )
        for r in session.scalars(select(TicketRatingRow).where(TicketRatingRow.ticket_id.in_(ids))):
            ratings[r.ticket_id] = {
                "csat": r.csat,
                "nps": r.nps,
                "comment": r.comment,
                "at": _iso(r.at),
            }
    for t in tickets:
        per_brand[t.brand_id]["tickets"].append(
            {
                "id": t.id,
                "subject": t.subject,
                "body": t.body,
                "language": t.language,
                "skill": t.skill,
                "status": t.status,
                "customer_fields": dict(t.customer_fields or {}),
                "created_at": _iso(t.created_at),
                "resolved_at": _iso(t.resolved_at),
                "closed_at": _iso(t.closed_at),
                "messages": messages.get(t.id, []),
                "rating": ratings.get(t.id),
            }
        )

    # Which suggestion the person said solved each ticket they closed that way (its kind
    # and id, not its title: the content may since have been hidden from them).
    for d in session.scalars(
        select(TicketDeflectionRow)
        .join(TicketRow, TicketRow.id == TicketDeflectionRow.ticket_id)
        .where(TicketRow.customer_id == user.id)
        .order_by(TicketDeflectionRow.id)
    ):
        per_brand[d.brand_id]["deflections"].append(
            {"ticket_id": d.ticket_id, "kind": d.kind, "id": d.ref_id, "at": _iso(d.at)}
        )

    for p in session.scalars(
        select(PostRow).where(PostRow.author_id == user.id).order_by(PostRow.id)
    ):
        per_brand[p.brand_id]["community_posts"].append(
            {
                "id": p.id,
                "kind": p.kind,
                "question_id": p.question_id,
                "title": p.title,
                "body": p.body,
                "language": p.language,
                "tags": list(p.tags or []),
                "hidden": p.hidden,
                "created_at": _iso(p.created_at),
                "updated_at": _iso(p.updated_at),
            }
        )
    for c in session.scalars(
        select(CommentRow).where(CommentRow.author_id == user.id).order_by(CommentRow.id)
    ):
        per_brand[c.brand_id]["community_comments"].append(
            {
                "id": c.id,
                "post_id": c.post_id,
                "body": c.body,
                "hidden": c.hidden,
                "created_at": _iso(c.created_at),
            }
        )
    for f in session.scalars(
        select(ArticleFeedback)
        .where(ArticleFeedback.user_id == user.id)
        .order_by(ArticleFeedback.id)
    ):
        per_brand[f.brand_id]["article_feedback"].append(
            {
                "article_id": f.article_id,
                "helpful": f.helpful,
                "comment": f.comment,
                "at": _iso(f.created_at),
            }
        )
    for brand_id, n in session.execute(
        select(VoteRow.brand_id, func.count())
        .where(VoteRow.voter_id == user.id)
        .group_by(VoteRow.brand_id)
    ):
        per_brand[brand_id]["votes_cast"] = int(n)
    for e in session.scalars(
        select(PointsEntryRow).where(PointsEntryRow.user_id == user.id).order_by(PointsEntryRow.id)
    ):
        per_brand[e.brand_id]["reputation"].append(
            {
                "points": e.points,
                "reason": e.reason,
                "subject_kind": e.subject_kind,
                "subject_id": e.subject_id,
                "at": _iso(e.at),
            }
        )
    for red in session.scalars(
        select(RedemptionRow).where(RedemptionRow.user_id == user.id).order_by(RedemptionRow.id)
    ):
        per_brand[red.brand_id]["redemptions"].append(
            {
                "points": red.points,
                "kind": red.kind,
                "amount_minor": red.amount_minor,
                "currency": red.currency,
                "created_at": _iso(red.created_at),
            }
        )
    for n_row in session.scalars(
        select(NotificationRow)
        .where(NotificationRow.user_id == user.id)
        .order_by(NotificationRow.id)
    ):
        per_brand[n_row.brand_id]["notifications"].append(
            {
                "kind": n_row.kind,
                "text": notes.text(n_row),
                "url": n_row.url,
                "created_at": _iso(n_row.created_at),
                "read_at": _iso(n_row.read_at),
            }
        )

    for interval in presence.of_person(session, user.id):
        per_brand[interval.brand_id]["presence"].append(
            {"online_at": _iso(interval.online_at), "offline_at": _iso(interval.offline_at)}
        )

    tokens = session.scalars(
        select(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.kind == "api")
        .order_by(AuthToken.id)
    )
    brand_rows = {
        b.id: b for b in session.scalars(select(Brand).where(Brand.id.in_(list(per_brand))))
    }
    return {
        "format": "crowdcx-my-data/1",
        "exported_at": now.isoformat(),
        "profile": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "locale": user.locale,
            "is_platform_admin": user.is_platform_admin,
            "created_at": _iso(user.created_at),
        },
        "memberships": memberships,
        "api_tokens": [
            {
                "name": t.name,
                "created_at": _iso(t.created_at),
                "expires_at": _iso(t.expires_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in tokens
        ],
        "brands": [
            {"brand": brand_rows[bid].slug, "name": brand_rows[bid].name, **section}
            for bid, section in sorted(per_brand.items())
            if bid in brand_rows
        ],
    }


def _brand_section() -> dict[str, Any]:
    return {
        "tickets": [],
        "deflections": [],
        "community_posts": [],
        "community_comments": [],
        "article_feedback": [],
        "votes_cast": 0,
        "reputation": [],
        "redemptions": [],
        "notifications": [],
        "presence": [],
    }


# --- erasure ---------------------------------------------------------------------------


def open_work(session: Session, user_id: int) -> int:
    """How many tickets this person is working on now (claimed or reopened, in any brand)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(TicketRow)
            .where(TicketRow.owner_id == user_id, TicketRow.status.in_(OPEN_WORK))
        )
        or 0
    )


def _refuse_open_work(session: Session, user: User, self_service: bool) -> None:
    n = open_work(session, user.id)
    if not n:
        return
    if self_service:
        detail = _(
            "You are working on %(n)d claimed tickets. Resolve them or hand them to the "
            "brand's staff, then delete your account."
        ) % {"n": n}
    else:
        detail = _(
            "This person is working on %(n)d claimed tickets. Have them resolved or handed "
            "to the brand's staff first."
        ) % {"n": n}
    raise conflict("open_work", detail, tickets=n)


def _refuse_last_admin(session: Session, user: User) -> None:
    """An account holding a brand's only brand admin role would leave the brand unmanaged."""
    mine = (
        select(MembershipRole.brand_id)
        .join(Membership, Membership.id == MembershipRole.membership_id)
        .where(Membership.user_id == user.id, MembershipRole.role == "brand_admin")
    )
    for brand_id in session.scalars(mine):
        other = session.scalar(
            select(MembershipRole.id)
            .join(Membership, Membership.id == MembershipRole.membership_id)
            .where(
                MembershipRole.brand_id == brand_id,
                MembershipRole.role == "brand_admin",
                Membership.user_id != user.id,
            )
            .limit(1)
        )
        if other is None:
            raise conflict(
                "last_brand_admin",
                _(
                    "This account is the only brand admin of %(brand)s: make someone else "
                    "brand admin first."
                )
                % {"brand": session.get_one(Brand, brand_id).name},
            )


def erase_account(
    uow: UnitOfWork, target: User, actor: User, now: datetime, *, self_service: bool
) -> int:
    """Anonymise ``target`` everywhere; returns how many of their tickets were erased now.
    Refused (409) while they work on claimed tickets or are a brand's only brand admin."""
    session = uow.session
    already = rules.is_erased(target.email) and not target.is_active
    if not already:
        # Inactive first, then count: a racing claim either committed before this write
        # (and is counted) or finds the account inactive after its own write (and fails).
        session.execute(update(User).where(User.id == target.id).values(is_active=False))
        _refuse_open_work(session, target, self_service)
        _refuse_last_admin(session, target)
    name, email = target.display_name, target.email
    role = _role(actor, target)
    brands = set(
        session.scalars(select(Membership.brand_id).where(Membership.user_id == target.id))
    )
    per_brand = _erase_tickets(uow, None, target, name, email, actor, role, now)
    erased = sum(per_brand.values())
    if already:
        return erased
    brands.update(
        session.scalars(select(TicketRow.brand_id).where(TicketRow.customer_id == target.id))
    )
    _record(
        session, target.id, actor.id, role, "account", {b: per_brand.get(b, 0) for b in brands}, now
    )
    _rename_in_notifications(session, target.id, name)
    session.execute(delete(NotificationRow).where(NotificationRow.user_id == target.id))
    session.execute(delete(FollowRow).where(FollowRow.user_id == target.id))
    session.execute(
        delete(FollowRow).where(FollowRow.target_kind == "user", FollowRow.target == str(target.id))
    )
    session.execute(delete(CommunityMemberRow).where(CommunityMemberRow.user_id == target.id))
    # Offline everywhere (the open presence intervals close), out of those brands' cached
    # candidate pools (their roster versions move on), and the intervals stay counted in the
    # brands' capacity plans without naming the person.
    went_offline = presence.take_offline_everywhere(session, target.id, now)
    ticket_service.bump_rosters(session, went_offline, now)
    presence.detach(session, None, target.id, now)
    for membership in session.scalars(select(Membership).where(Membership.user_id == target.id)):
        session.execute(delete(MembershipRole).where(MembershipRole.membership_id == membership.id))
        session.execute(delete(Membership).where(Membership.id == membership.id))
    session.execute(delete(AuthToken).where(AuthToken.user_id == target.id))
    session.execute(delete(LoginThrottle).where(LoginThrottle.email == email))
    _detach_search_events(session, None, target.id, rules.scrub_values({}, name, email))
    _detach_feedback(session, None, target.id)
    target.email = rules.erased_email(target.id)
    target.display_name = rules.DELETED_NAME
    target.password_hash = "!"  # noqa: S105 — no argon2 hash: nothing verifies against it
    target.is_active = False
    target.is_platform_admin = False
    session.flush()
    audit.info(
        "account erased: user=%d by=%d role=%s at=%s tickets=%d",
        target.id,
        actor.id,
        _role(actor, target),
        now.isoformat(),
        erased,
    )
    return erased


def erase_customer(uow: UnitOfWork, ctx: BrandContext, customer_id: int, now: datetime) -> int:
    """Erase one customer's data in this brand's tickets (the account stays: only the person
    or a platform administrator deletes it). 404 unless they are the brand's customer. One
    who is also the brand's expert goes offline there (roster version moved on)."""
    session = uow.session
    assert ctx.user is not None
    target = session.get(User, customer_id)
    is_customer = target is not None and (
        session.scalar(
            select(TicketRow.id)
            .where(TicketRow.brand_id == ctx.brand.id, TicketRow.customer_id == customer_id)
            .limit(1)
        )
        is not None
        or session.scalar(
            select(MembershipRole.id)
            .join(Membership, Membership.id == MembershipRole.membership_id)
            .where(
                Membership.brand_id == ctx.brand.id,
                Membership.user_id == customer_id,
                MembershipRole.role == "customer",
            )
        )
        is not None
    )
    if target is None or not is_customer:
        raise not_found(
            _("%(brand)s has no customer with this id.") % {"brand": ctx.brand.name},
            "customer_not_found",
        )
    role = "platform" if ctx.is_platform_admin else "staff"
    erased = sum(
        _erase_tickets(
            uow, ctx.brand.id, target, target.display_name, target.email, ctx.user, role, now
        ).values()
    )
    before = session.scalar(
        select(BrandErasureRow.id)
        .where(BrandErasureRow.brand_id == ctx.brand.id, BrandErasureRow.user_id == target.id)
        .limit(1)
    )
    if erased or before is None:  # a repeat that scrubbed nothing records nothing
        _record(session, target.id, ctx.user.id, role, "brand", {ctx.brand.id: erased}, now)
    values = rules.scrub_values({}, target.display_name, target.email)
    _detach_search_events(session, ctx.brand.id, target.id, values)
    _detach_feedback(session, ctx.brand.id, target.id)
    # A customer who also works here as an expert goes offline here, as when the expert role
    # is taken away: the open interval closes, the brand's cached candidate pool is rebuilt
    # (roster version), so no stretch after the erasure names them unless they come back.
    ticket_service.take_offline(session, ctx, target.id, now)
    presence.detach(session, ctx.brand.id, target.id, now)
    session.execute(
        delete(NotificationRow).where(
            NotificationRow.brand_id == ctx.brand.id,
            NotificationRow.user_id == target.id,
            NotificationRow.kind == "ticket_resolved",  # names the ticket's subject
        )
    )
    audit.info(
        "customer erased: user=%d brand=%d by=%d role=%s at=%s tickets=%d",
        target.id,
        ctx.brand.id,
        ctx.user.id,
        role,
        now.isoformat(),
        erased,
    )
    return erased


def only_customer(session: Session, ctx: BrandContext, user_id: int) -> User:
    """The brand's member ``user_id`` holding the customer role and no other: the members
    page offers erasure for them only (staff and experts are handled as accounts)."""
    roles = set(
        session.scalars(
            select(MembershipRole.role)
            .join(Membership, Membership.id == MembershipRole.membership_id)
            .where(Membership.brand_id == ctx.brand.id, Membership.user_id == user_id)
        )
    )
    user = session.get(User, user_id)
    if user is None or roles != {"customer"}:
        raise not_found(
            _("%(brand)s has no member with this id who is only a customer.")
            % {"brand": ctx.brand.name},
            "customer_not_found",
        )
    return user


def _role(actor: User, target: User) -> str:
    if actor.id == target.id:
        return "customer"
    return "platform" if actor.is_platform_admin else "staff"


def _erase_tickets(
    uow: UnitOfWork,
    brand_id: int | None,
    target: User,
    name: str,
    email: str,
    actor: User,
    role: str,
    now: datetime,
) -> dict[int, int]:
    """Scrub and empty the customer's tickets (in one brand, or all); returns per brand how
    many had not been erased before (those get their access-log entry)."""
    session = uow.session
    stmt = select(TicketRow).where(TicketRow.customer_id == target.id)
    if brand_id is not None:
        stmt = stmt.where(TicketRow.brand_id == brand_id)
    tickets = list(session.scalars(stmt.order_by(TicketRow.id)))
    if not tickets:
        return {}
    ids = [t.id for t in tickets]
    logged = {
        tid
        for tid, fields in session.execute(
            select(AccessLogRow.ticket_id, AccessLogRow.fields).where(
                AccessLogRow.ticket_id.in_(ids), AccessLogRow.viewer_role.in_(_ERASER_ROLES)
            )
        )
        if ERASED_FIELD in (fields or [])
    }
    messages: dict[int, list[TicketMessageRow]] = defaultdict(list)
    for msg in session.scalars(select(TicketMessageRow).where(TicketMessageRow.ticket_id.in_(ids))):
        messages[msg.ticket_id].append(msg)
    history: dict[int, list[TicketTransitionRow]] = defaultdict(list)
    for tr in session.scalars(
        select(TicketTransitionRow).where(
            TicketTransitionRow.ticket_id.in_(ids), TicketTransitionRow.reason != ""
        )
    ):
        history[tr.ticket_id].append(tr)
    ratings = {
        r.ticket_id: r
        for r in session.scalars(select(TicketRatingRow).where(TicketRatingRow.ticket_id.in_(ids)))
    }
    erased: dict[int, int] = defaultdict(int)
    for t in tickets:
        known = rules.scrub_values(dict(t.customer_fields or {}), name, email)
        changed = bool(t.customer_fields)
        for attr, limit in (("subject", 200), ("body", None), ("escalation_reason", 500)):
            before = getattr(t, attr) or ""
            after = scrub(before, known)[:limit] if limit else scrub(before, known)
            if after != before:
                setattr(t, attr, after)
                changed = True
        for msg in messages.get(t.id, []):
            text = scrub(msg.body, known)
            if text != msg.body:
                msg.body, msg.body_html, changed = text, render(text), True
        for tr in history.get(t.id, []):
            reason = scrub(tr.reason, known)[:500]
            if reason != tr.reason:
                tr.reason, changed = reason, True
        rating = ratings.get(t.id)
        if rating is not None and rating.comment:
            comment = scrub(rating.comment, known)
            if comment != rating.comment:
                rating.comment, changed = comment, True
        t.customer_fields = {}
        if changed:
            t.version += 1  # a transition that read the old ticket gets a 409
            t.updated_at = now
        if t.id not in logged:
            session.add(
                AccessLogRow(
                    brand_id=t.brand_id,
                    ticket_id=t.id,
                    viewer_id=actor.id,
                    viewer_role=role,
                    fields=[ERASED_FIELD],
                    at=now,
                )
            )
            erased[t.brand_id] += 1
    session.flush()
    for t in tickets:  # the index copy of a resolved ticket, from the scrubbed texts
        search.sync_ticket(session, t, t.status)
    return dict(erased)


def _record(
    session: Session,
    user_id: int,
    actor_id: int,
    role: str,
    scope: str,
    per_brand: dict[int, int],
    now: datetime,
) -> None:
    """The erasure's audit row, and one per brand it touched (ids and counts only)."""
    row = ErasureRow(
        user_id=user_id,
        actor_id=actor_id,
        actor_role=role,
        scope=scope,
        tickets_erased=sum(per_brand.values()),
        at=now,
    )
    session.add(row)
    session.flush()
    for brand_id, n in sorted(per_brand.items()):
        session.add(
            BrandErasureRow(brand_id=brand_id, erasure_id=row.id, user_id=user_id, tickets_erased=n)
        )
    session.flush()


def _erasure_out(row: ErasureRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "actor_id": row.actor_id,
        "actor_role": row.actor_role,
        "scope": row.scope,
        "tickets_erased": row.tickets_erased,
        "at": row.at,
    }


def list_erasures(session: Session, cursor: str | None, limit: int) -> Page[dict[str, Any]]:
    """Every erasure, newest first, with the brands each touched (platform administrators)."""
    after = decode_cursor(cursor)
    stmt = select(ErasureRow).order_by(ErasureRow.id.desc()).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(ErasureRow.id < after)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    brands: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if rows:
        for erasure_id, slug, n in session.execute(
            select(BrandErasureRow.erasure_id, Brand.slug, BrandErasureRow.tickets_erased)
            .join(Brand, Brand.id == BrandErasureRow.brand_id)
            .where(BrandErasureRow.erasure_id.in_([r.id for r in rows]))
            .order_by(Brand.slug)
        ):
            brands[erasure_id].append({"brand": slug, "tickets_erased": n})
    items = [{**_erasure_out(r), "brands": brands.get(r.id, [])} for r in rows]
    return Page(items, encode_cursor(rows[-1].id) if more else None)


def list_brand_erasures(
    session: Session, ctx: BrandContext, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """The erasures that touched this brand, newest first; ``tickets_erased`` counts the
    brand's tickets only."""
    after = decode_cursor(cursor)
    stmt = (
        select(BrandErasureRow, ErasureRow)
        .join(ErasureRow, ErasureRow.id == BrandErasureRow.erasure_id)
        .where(BrandErasureRow.brand_id == ctx.brand.id)
        .order_by(BrandErasureRow.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(BrandErasureRow.id < after)
    rows = [(b, e) for b, e in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{**_erasure_out(e), "tickets_erased": b.tickets_erased} for b, e in rows]
    return Page(items, encode_cursor(rows[-1][0].id) if more else None)


# The access log's viewer_role (ten characters at most) of an erasure: the person
# themself, the brand's admin, a platform administrator.
_ERASER_ROLES = ("customer", "staff", "platform")


def _detach_search_events(
    session: Session, brand_id: int | None, user_id: int, values: dict[str, object]
) -> None:
    """The person's searches stay counted (deflection figures) but no longer name them, and
    what they typed loses their name, address and numbers."""
    stmt = select(SearchEvent).where(SearchEvent.user_id == user_id)
    if brand_id is not None:
        stmt = stmt.where(SearchEvent.brand_id == brand_id)
    for event in session.scalars(stmt):
        event.query = scrub(event.query, values)[:500]
        event.user_id = None


def _detach_feedback(session: Session, brand_id: int | None, user_id: int) -> None:
    """The person's "Was this helpful?" votes stay counted; what they wrote beside them (their
    own words, shown to the brand's authors) goes, and the votes no longer name them."""
    stmt = update(ArticleFeedback).where(ArticleFeedback.user_id == user_id)
    if brand_id is not None:
        stmt = stmt.where(ArticleFeedback.brand_id == brand_id)
    session.execute(stmt.values(comment="", user_id=None))


def _rename_in_notifications(session: Session, user_id: int, name: str) -> None:
    """Other members' "X answered your question" notices carry the answerer's name as it was
    written: those about a question the erased person answered, naming them, now say
    "Deleted user"."""
    answered = session.execute(
        select(PostRow.brand_id, PostRow.question_id)
        .where(PostRow.author_id == user_id, PostRow.kind == "answer")
        .distinct()
    ).all()
    if not answered or name == rules.DELETED_NAME:
        return
    urls: dict[int, set[str]] = defaultdict(set)
    for brand_id, question_id in answered:
        urls[brand_id].add(f"/community/questions/{question_id}")
    for row in session.scalars(
        select(NotificationRow).where(
            NotificationRow.brand_id.in_(list(urls)), NotificationRow.kind == "answer"
        )
    ):
        params = dict(row.params or {})
        about = "/community/" + row.url.partition("/community/")[2]
        if params.get("name") == name and about in urls[row.brand_id]:
            params["name"] = rules.DELETED_NAME
            row.params = params


def find_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found(_("There is no account with this id."), "user_not_found")
    return user


def check_erasable_by(actor: User) -> None:
    if not actor.is_platform_admin:
        raise AppError(
            403,
            "platform_admin_required",
            _("Only a platform administrator or the person themself can delete an account."),
        )
