"""Use cases of the inquiry lifecycle. Each reads like a checklist: validate → load through the
BrandContext → authorise → decide with the rules → persist with a conditional update on the
ticket's version → queue after-commit effects. Services never commit; the route does.

Money and points move in the same transaction as the transition that earns them (so an
earning exists exactly when the resolution does); live notices leave after commit."""

from __future__ import annotations

import logging
import threading
import time
from collections import ChainMap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork, append_rows, begin_writing, writing
from crowdcx.kernel.errors import AppError, forbidden, invalid, not_found
from crowdcx.kernel.i18n import _, current_locale, use_locale
from crowdcx.kernel.language import LOCALE_NAMES, LOCALES, detect_language, normalize_locale
from crowdcx.kernel.markdown import one_line_break, render, says_something
from crowdcx.kernel.money import Money
from crowdcx.kernel.numbers import ascii_int
from crowdcx.notifications import service as notes
from crowdcx.payouts import rules as pay
from crowdcx.payouts import service as money
from crowdcx.payouts.models import LedgerPosting, PaidWorkRow, PayeeBalanceRow, WorkTotalRow
from crowdcx.reputation import rules as rep
from crowdcx.routing import rules as routing
from crowdcx.tenancy.models import Brand, Membership, MembershipRole
from crowdcx.tenancy.service import BrandContext
from crowdcx.tickets import masking, policy_form, presence
from crowdcx.tickets import policy as policy_mod
from crowdcx.tickets import rules as lifecycle
from crowdcx.tickets.labels import action_labels, status_labels
from crowdcx.tickets.models import (
    AccessLogRow,
    BrandPolicyRow,
    ExpertProfileRow,
    PolicyChangeRow,
    TicketDeflectionRow,
    TicketMessageRow,
    TicketRatingRow,
    TicketRow,
    TicketTransitionRow,
)
from crowdcx.tickets.policy import (
    CUSTOMER_FIELDS,
    BrandPolicy,
    default_policy,
    policy_from_dict,
    policy_to_dict,
    policy_version,
    validate_policy,
)

log = logging.getLogger(__name__)
PRIORITIES = ("low", "normal", "high", "urgent")
COMPLEXITY_BY_PRIORITY = {"low": "low", "normal": "normal", "high": "high", "urgent": "high"}
MAX_SUBJECT = 200
MAX_BODY = 20_000
OPEN_FOR_OWNER = ("claimed", "reopened")
# An expert keeps reading a ticket they resolved while it stays resolved (or closed); once the
# customer reopens it they read it as its owner, and when they hand it to staff, no longer.
RESOLVED_STATES = ("resolved", "closed")

if TYPE_CHECKING:
    from crowdcx.reputation.service import Rise


# ------------------------------------------------------------------------------------------
# Violations → errors a person can act on
# ------------------------------------------------------------------------------------------


def _messages() -> dict[str, str]:
    return {
        "illegal_transition": _("This ticket is “%(state)s”, so “%(action)s” is not possible now."),
        "actor_not_allowed": _("Your role cannot do this to the ticket now."),
        "not_your_ticket": _("Only the customer who asked can do this."),
        "not_your_offer": _("This ticket was offered to someone else."),
        "offer_expired": _("The offer has run out; the ticket went back to the queue."),
        "offer_not_expired": _("The offer has not run out yet."),
        "not_owner": _("Only the expert or agent who owns the ticket can do this."),
        "already_with_staff": _("The brand's staff already own this ticket."),
        "already_rung": _("This expert was already offered this ticket."),
        "max_rings_reached": _("Too many experts were offered this ticket; it goes to staff."),
        "auto_close_not_due": _("The ticket is not due to close yet."),
        "not_resolved": _("Only a resolved ticket can be rated."),
        "already_rated": _("This ticket has already been rated."),
        "csat_out_of_range": _("Rate from 1 (bad) to 5 (excellent)."),
        "nps_out_of_range": _("The recommendation score runs from 0 to 10."),
    }


def ticket_note(row: TicketRow) -> str | None:
    """What the people on a ticket should know about where it went, or None: a ticket in a
    language the brand does not serve went straight to staff."""
    if row.escalated and row.escalation_reason == lifecycle.LANGUAGE_NOT_SERVED:
        return _(
            "This inquiry is written in %(language)s, which the brand's experts do not answer "
            "in: it went straight to the brand's staff, who will reply."
        ) % {"language": LOCALE_NAMES.get(row.language, row.language)}
    return None


def escalation_reason_text(reason: str) -> str:
    """A recorded transition or escalation reason for people to read (the staff queue, a
    ticket's history): the router's and the sweeper's codes in words, what a person wrote
    as it is."""
    words = {
        lifecycle.LANGUAGE_NOT_SERVED: _("Written in a language the brand does not serve"),
        lifecycle.OWNER_UNAVAILABLE: _(
            "Reopened by the customer; the expert who resolved it no longer works for the brand"
        ),
        "offer_expired": _("The offer ran out"),
        "auto_close": _("The customer did not reply in time"),
        "sla_at_risk": _("At risk of missing its SLA target"),
        "max_rings": _("No expert took it after several offers"),
    }
    return words.get(reason, reason)


def _eligibility_message(v: lifecycle.Violation) -> str:
    """Why this expert cannot take this ticket, in the reader's language."""
    p = dict(v.params)
    messages = {
        "skill_missing": lambda: _("This ticket needs the skill %(skill)s, which your profile "
                                   "does not list.") % {"skill": p.get("skill", "")},
        "language_missing": lambda: _("This ticket is in a language your profile does not "
                                      "list (%(language)s).") % {"language": p.get("language", "")},
        "tier_too_low": lambda: _("This ticket needs tier %(required)s; yours is %(tier)s.")
        % {"required": p.get("required", ""), "tier": p.get("tier", "")},
        "certification_missing": lambda: _("This ticket needs a certification in %(skill)s.")
        % {"skill": p.get("skill", "")},
        "offline": lambda: _("Go online to take tickets."),
        "at_capacity": lambda: _(
            "You already have as many tickets as you can take; finish one first."
        ),
        "own_ticket": lambda: _("You asked this ticket as a customer; another expert will "
                                "answer it."),
    }  # fmt: skip
    message = messages.get(v.code)
    return message() if message is not None else v.message


STATE_NAMES = {
    "created": "created",
    "queued": "queued",
    "offered": "offered",
    "claimed": "claimed",
    "resolved": "resolved",
    "closed": "closed",
    "escalated": "escalated",
    "reopened": "reopened",
    "deflected": "deflected",
}


def violation_error(v: lifecycle.Violation) -> AppError:
    status = {"conflict": 409, "invalid": 422, "forbidden": 403}[v.kind]
    params = dict(v.params)  # the raw state and action stay in the problem's extra fields
    template = _messages().get(v.code)
    state, action = params.get("state", ""), params.get("action", "")
    named = {  # "… cannot be claim." read as code: the detail names them as the pages do
        "state": status_labels().get(state, state),
        "action": action_labels().get(action, action),
    }
    # A rule of the policy refusing a use (a stored rate card the pricing cannot read) says
    # so in the reader's language too, as the policy form does.
    detail = template % {**params, **named} if template else policy_message(v)
    return AppError(status, v.code, detail, field=v.field, extra=dict(params))


def policy_message(v: lifecycle.Violation) -> str:
    """A policy rule's violation in the reader's language: the policy rules' templates are in
    the catalogs, filled with the same params; a code without one has the policy form's
    explanation; the rule's English when neither fits."""
    for template in (policy_mod.MESSAGES.get(v.code), policy_form.EXPLANATIONS.get(v.code)):
        if template is not None:
            try:
                return _(template) % dict(v.params)
            except (KeyError, ValueError, TypeError):  # a param missing: try the next
                continue
    return v.message


@dataclass
class PolicyRefusedError(AppError):
    """A policy the checks refused, with its violations as data: the policy form places each
    beside its field (the API sends ``errors``)."""

    violations: list[lifecycle.Violation] = field(default_factory=list)


def policy_violations_error(problems: list[lifecycle.Violation]) -> PolicyRefusedError:
    # The field's name stays as the policy document spells it, and comes with the message.
    message = policy_message
    first = problems[0]
    return PolicyRefusedError(
        422,
        first.code,
        message(first),
        field=first.field,
        errors=[{"field": p.field, "code": p.code, "message": message(p)} for p in problems],
        violations=list(problems),
    )


# ------------------------------------------------------------------------------------------
# Policy
# ------------------------------------------------------------------------------------------

_policy_cache: dict[tuple[int, int, str], BrandPolicy] = {}
_cache_lock = threading.Lock()


def _brand_default(ctx: BrandContext) -> BrandPolicy:
    return _default_for(ctx.brand)


def _default_for(brand: Brand) -> BrandPolicy:
    settings = brand.settings
    return default_policy(
        str(settings.get("currency", "USD")),
        str(settings.get("timezone", "UTC")),
        tuple(brand.locales),  # a ru/en brand takes no Chinese tickets by default
    )


def policy_row(session: Session, ctx: BrandContext) -> BrandPolicyRow | None:
    row: BrandPolicyRow | None = session.scalar(ctx.scoped(BrandPolicyRow))
    return row


@cache
def _policy_version() -> Any:
    return select(
        BrandPolicyRow.id, BrandPolicyRow.updated_at, BrandPolicyRow.roster_version
    ).where(BrandPolicyRow.brand_id == bindparam("brand"))


@cache
def _policy_data() -> Any:
    return select(BrandPolicyRow.data).where(BrandPolicyRow.id == bindparam("row"))


# PostgreSQL advisory locks (two int4 keys: this, the brand's id) on a brand's ticket policy:
# a save holds it exclusively, an intake's write shared (see :func:`hold_policy`).
_POLICY_LOCK = 0x706F6C  # "pol"


def hold_policy(session: Session, ctx: BrandContext, *, exclusive: bool) -> None:
    """Until commit, hold the brand's policy: exclusively to save it (a save, a rename or
    removal of skills renames or checks the tickets in its transaction), shared to write a
    ticket by it. So a ticket is written either before a save (which then sees it: renames
    it, counts it as needing a skill) or after it, by the saved policy — never by the old
    policy after the save renamed the old name's tickets. Intakes do not wait for each
    other, nor for roster bumps (those update the policy row: a lock on the row itself
    would make them wait, and a brand without a saved policy has no row).
    PostgreSQL: a transaction-scoped advisory lock, shared or not. SQLite: the one writer's
    lock, taken now (single writer: saves and intakes write one at a time anyway); a new
    ticket's intake does not take it there, it checks the policy after its writes instead
    (:func:`submit_intake`)."""
    if session.get_bind().dialect.name == "postgresql":
        lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
        session.execute(select(lock(_POLICY_LOCK, ctx.brand.id)))
    else:
        begin_writing(session)


def load_policy(session: Session, ctx: BrandContext) -> tuple[BrandPolicy, int]:
    """The brand's policy and its roster version (a brand without one gets the defaults).
    Every intake asks: the policy document is read and parsed only when it changed (its row
    id and update time are the cache key); otherwise one small row of three columns."""
    row = session.execute(_policy_version(), {"brand": ctx.brand.id}).first()
    if row is None:
        return _brand_default(ctx), 0
    key = (ctx.brand.id, row.id, row.updated_at.isoformat())
    cached = _policy_cache.get(key)
    if cached is None:
        data = session.scalar(_policy_data(), {"row": row.id})
        parsed = policy_from_dict(data or {}, _brand_default(ctx))
        if isinstance(parsed, list):  # stored policies were validated; fall back if not
            # Once per stored version (the cache holds the fallback): operators learn that
            # routing, SLA and pay now follow the defaults; the policy page tells the admin.
            log.warning(
                "brand %s: its saved policy cannot be read (%s); serving the defaults until "
                "a brand admin saves a valid one",
                ctx.brand.slug, "; ".join(f"{v.field}: {v.code}" for v in parsed[:5]),
            )  # fmt: skip
            parsed = _brand_default(ctx)
        with _cache_lock:
            if len(_policy_cache) > 1000:
                _policy_cache.clear()
            _policy_cache[key] = parsed
        cached = parsed
    return cached, row.roster_version


def stored_policy_problems(session: Session, ctx: BrandContext) -> list[lifecycle.Violation]:
    """Why the brand's saved policy document cannot be read (empty when it can): then
    :func:`load_policy` serves the brand's defaults, and the policy page says so."""
    data = session.scalar(ctx.scoped(BrandPolicyRow, select(BrandPolicyRow.data)))
    if data is None:
        return []
    parsed = policy_from_dict(data, _brand_default(ctx))
    return parsed if isinstance(parsed, list) else []


# The states the sweeper may act on (rules.decide_sweep); sweeper.py reads them from here.
SWEEPABLE: tuple[str, ...] = ("queued", "offered", "claimed", "reopened", "resolved")


def set_policy(
    uow: UnitOfWork,
    ctx: BrandContext,
    data: Mapping[str, Any],
    now: datetime,
    renames: Mapping[str, str] | None = None,
    read_at: str | None = None,
    kind: str | None = None,
) -> BrandPolicy:
    """Save ``data`` laid over the brand's policy. ``renames`` (saved name → new name) says
    which skills of ``data`` are saved skills under a new name: their tickets, experts'
    proficiencies and certifications and articles' skills take the new name in the same
    transaction (``data`` already names them so, and prices them under it). ``read_at``,
    the :func:`policy_version` the editor read, refuses the save (409 ``policy_changed``)
    when another was saved since; None saves over whatever is saved (older API clients).
    A save that changes the policy appends its change to the history (:func:`_record_change`:
    ``kind`` as given, or as :func:`tickets.policy.change_kind` reads the change)."""
    hold_policy(uow.session, ctx, exclusive=True)
    current, _version = load_policy(uow.session, ctx)  # read again under the lock
    check_unchanged(current, read_at)
    renames = dict(renames or {})
    _check_renames(current, renames)
    parsed = policy_from_dict(data, current)
    if isinstance(parsed, list):
        raise policy_violations_error(parsed)
    problems = validate_policy(parsed)
    if problems:
        raise policy_violations_error(problems)
    foreign = [lang for lang in parsed.languages if lang not in ctx.brand.locales]
    if foreign:
        raise invalid(
            "languages",
            _(
                "The brand does not serve %(languages)s; add the language to the brand's "
                "settings first, or choose from: %(choices)s."
            )
            % {"languages": ", ".join(foreign), "choices": ", ".join(ctx.brand.locales)},
            "language_not_served",
        )
    gone = {old for old, new in renames.items() if new in parsed.skill_map}
    removed = sorted(set(current.skill_map) - set(parsed.skill_map) - gone)
    if removed:
        _drop_skills(uow.session, ctx, removed)
    renamed = {old: renames[old] for old in gone}
    if renamed:
        _rename_skills(uow.session, ctx, renamed)
    row = policy_row(uow.session, ctx)
    document = policy_to_dict(parsed)
    if row is None:
        row = BrandPolicyRow(brand_id=ctx.brand.id, data=document, roster_version=1, updated_at=now)
        uow.session.add(row)
    else:
        row.data = document
        row.roster_version += 1
        row.updated_at = now
    _record_change(uow.session, ctx, policy_to_dict(current), document, renamed, now, kind)
    uow.session.flush()
    if (parsed.sla, parsed.lifecycle) != (current.sla, current.lifecycle):
        # Tickets' sweep_at came from the old targets and delays: the sweeper looks at every
        # open or resolved one again now (a moment still to come, one already due, or none:
        # a reopened ticket resolved in time has none, yet a shorter target can breach it)
        # and stores its moment under the new policy.
        uow.session.execute(
            update(TicketRow)
            .where(TicketRow.brand_id == ctx.brand.id, TicketRow.status.in_(SWEEPABLE))
            .values(sweep_at=now)
            .execution_options(synchronize_session=False)
        )
    return parsed


def _record_change(
    session: Session,
    ctx: BrandContext,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    renames: Mapping[str, str],
    now: datetime,
    kind: str | None,
) -> None:
    """One history row for a save that changed the policy (``before``/``after``: the
    policy's documents), in the save's transaction; a save that changed nothing leaves
    none."""
    changes = policy_mod.policy_diff(before, after, renames)
    if not changes:
        return
    session.add(
        PolicyChangeRow(
            brand_id=ctx.brand.id,
            at=now,
            user_id=ctx.user.id if ctx.user is not None else None,
            kind=kind or policy_mod.change_kind(changes),
            version_before=policy_mod.document_version(before),
            version_after=policy_mod.document_version(after),
            changes=[asdict(c) for c in changes],
        )
    )


def policy_changes(
    session: Session, ctx: BrandContext, limit: int, before: int | None = None
) -> list[tuple[PolicyChangeRow, str | None]]:
    """The brand's policy changes, newest first, with the display name of who saved each
    (None: no one, a command); ``before``: older than that change (the next page)."""
    stmt = (
        ctx.scoped(PolicyChangeRow, select(PolicyChangeRow, User.display_name))
        .outerjoin(User, User.id == PolicyChangeRow.user_id)
        .order_by(PolicyChangeRow.id.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(PolicyChangeRow.id < before)
    return [(r, n) for r, n in session.execute(stmt)]


def check_unchanged(current: BrandPolicy, read_at: str | None) -> None:
    """Refuse a save made from an older read of the policy (lost update): another admin
    saved since the editor opened it. Under the policy lock, against the policy read then."""
    if read_at is None or read_at == policy_version(current):
        return
    raise AppError(
        409,
        "policy_changed",
        _(
            "Someone else saved this brand's ticket policy after you opened it, so nothing "
            "was saved. Compare your changes with the saved policy, then save again."
        ),
        field="version",
    )


def _check_renames(current: BrandPolicy, renames: Mapping[str, str]) -> None:
    """A rename names a saved skill, and a new name no saved skill has (two skills' tickets,
    experts and rates would merge) nor another rename gives."""
    for old, new in renames.items():
        if old not in current.skill_map:
            raise AppError(
                404,
                "skill_unknown",
                _("There is no skill %(name)s; the brand's skills are: %(known)s.")
                % {"name": old, "known": ", ".join(current.skill_map)},
                field="skills",
            )
        if not new.strip():
            raise invalid("skills", _("Every skill needs a name."), "skill_name_empty")
        if new in current.skill_map or list(renames.values()).count(new) > 1:
            raise AppError(
                409,
                "skill_name_taken",
                _("Another skill is already called %(skill)s: choose a name no other skill has.")
                % {"skill": new},
                field="skills",
            )


def rename_skill(
    uow: UnitOfWork,
    ctx: BrandContext,
    old: str,
    new: str,
    now: datetime,
    read_at: str | None = None,
) -> BrandPolicy:
    """Rename a saved skill everywhere it is named, in one transaction: the catalogue, the
    rate card's amount, tickets open and closed, experts' proficiencies and certifications,
    articles' skills. The new document is built from the policy read under the lock;
    ``read_at`` as for :func:`set_policy`."""
    hold_policy(uow.session, ctx, exclusive=True)
    current, _version = load_policy(uow.session, ctx)
    check_unchanged(current, read_at)
    new = new.strip()
    _check_renames(current, {old: new})
    data = policy_to_dict(current)
    for skill in data["skills"]:
        if skill["name"] == old:
            skill["name"] = new
    amounts = data["rate_card"]["base_minor"]
    if old in amounts:
        amounts[new] = amounts.pop(old)
    return set_policy(uow, ctx, data, now, {old: new})


def _rename_skills(session: Session, ctx: BrandContext, renames: Mapping[str, str]) -> None:
    """Everything that names a renamed skill takes its new name (the policy row is the
    caller's): every ticket of it, whatever its status, so history and statistics follow;
    experts' proficiencies and certifications; the skills of the brand's articles."""
    from crowdcx.knowledge.models import Article  # the help center builds on tickets

    for old, new in renames.items():
        session.execute(
            update(TicketRow)
            .where(TicketRow.brand_id == ctx.brand.id, TicketRow.skill == old)
            .values(skill=new)
            .execution_options(synchronize_session=False)
        )
    for profile in session.scalars(
        select(ExpertProfileRow).where(ExpertProfileRow.brand_id == ctx.brand.id)
    ):
        if any(old in profile.skills for old in renames):
            profile.skills = {renames.get(k, k): v for k, v in profile.skills.items()}
        if any(old in profile.certifications for old in renames):
            profile.certifications = sorted({renames.get(c, c) for c in profile.certifications})
    for article_id, skills in session.execute(
        select(Article.id, Article.skills).where(Article.brand_id == ctx.brand.id)
    ):
        if any(old in skills for old in renames):
            session.execute(
                update(Article)
                .where(Article.id == article_id)
                .values(skills=[renames.get(k, k) for k in skills])
                .execution_options(synchronize_session=False)
            )


# Tickets an expert may still be offered, hold or reopen: they need their skill in the policy
# (routing and the resolution's price read it). Escalated ones are staff's, whatever skill.
SKILL_BOUND: tuple[str, ...] = ("created", "queued", "offered", "claimed", "reopened")


def _drop_skills(session: Session, ctx: BrandContext, removed: Sequence[str]) -> None:
    """A policy saved without some of its skills: refused while an expert's ticket still
    needs one (409 ``skill_in_use``, with how many); otherwise the experts' profiles let go
    of them, so editing such an expert later is not refused for a skill nobody can choose."""
    waiting = session.execute(
        select(TicketRow.skill, func.count())
        .where(
            TicketRow.brand_id == ctx.brand.id,
            TicketRow.skill.in_(removed),
            TicketRow.status.in_(SKILL_BOUND),
        )
        .group_by(TicketRow.skill)
    ).all()
    if waiting:
        raise AppError(
            409,
            "skill_in_use",
            _(
                "Open tickets still need the skill %(skills)s (%(count)s in all): let them be "
                "resolved or escalate them to staff, then remove the skill."
            )
            % {
                "skills": ", ".join(sorted(skill for skill, _n in waiting)),
                "count": sum(int(n) for _skill, n in waiting),
            },
            field="skills",
        )
    for profile in session.scalars(
        select(ExpertProfileRow).where(ExpertProfileRow.brand_id == ctx.brand.id)
    ):
        if any(name in profile.skills for name in removed):
            profile.skills = {k: v for k, v in profile.skills.items() if k not in removed}


def follow_brand_languages(
    uow: UnitOfWork, ctx: BrandContext, before: Sequence[str], now: datetime
) -> None:
    """After a brand admin changed the brand's languages (``before`` → ``ctx.brand.locales``):
    a saved ticket policy serves an added language too and no longer a removed one (a brand
    without a saved policy follows its languages already). Expert profiles keep the
    languages their people speak; routing matches only the policy's. The policy is held
    before it is read, and only its languages are saved: a save committed meanwhile by
    another admin is kept, not overwritten by an older read."""
    hold_policy(uow.session, ctx, exclusive=True)
    row = policy_row(uow.session, ctx)
    if row is None:
        return
    current, _version = load_policy(uow.session, ctx)
    after = list(ctx.brand.locales)
    kept = [lang for lang in current.languages if lang in after]
    added = [lang for lang in after if lang not in before and lang not in kept]
    languages = kept + added or [ctx.brand.default_locale]
    if languages != list(current.languages):
        set_policy(uow, ctx, {"languages": languages}, now, kind="languages")


def _bump_roster(session: Session, ctx: BrandContext, now: datetime) -> None:
    bump_rosters(session, [ctx.brand.id], now)


def bump_rosters(session: Session, brand_ids: Iterable[int], now: datetime) -> None:
    """The brands' roster versions move on: each brand's cached candidate pool is rebuilt at
    its next routing. In the caller's transaction, with the change that calls for it (a
    profile edited, an expert online or offline, a role taken away, an account erased). A
    brand without a saved policy gets its defaults saved, at roster version 1."""
    wanted = sorted(set(brand_ids))
    if not wanted:
        return
    moved = set(
        session.scalars(
            update(BrandPolicyRow)
            .where(BrandPolicyRow.brand_id.in_(wanted))
            .values(roster_version=BrandPolicyRow.roster_version + 1)
            .returning(BrandPolicyRow.brand_id)
        )
    )
    for brand_id in wanted:
        if brand_id in moved:
            continue
        brand = session.get_one(Brand, brand_id)
        policy = _default_for(brand)
        session.add(
            BrandPolicyRow(
                brand_id=brand_id, data=policy_to_dict(policy), roster_version=1, updated_at=now
            )
        )


def take_offline(session: Session, ctx: BrandContext, user_id: int, now: datetime) -> None:
    """A person no longer an expert of the brand goes offline there: the flag, the presence
    interval (closed at ``now``) and the roster version change together, so no cached
    candidate pool keeps them."""
    if presence.set_online(session, ctx.brand.id, user_id, False, now):
        _bump_roster(session, ctx, now)


# ------------------------------------------------------------------------------------------
# Experts
# ------------------------------------------------------------------------------------------


def expert_row(session: Session, ctx: BrandContext, user_id: int) -> ExpertProfileRow | None:
    row: ExpertProfileRow | None = session.scalar(
        ctx.scoped(ExpertProfileRow).where(ExpertProfileRow.user_id == user_id)
    )
    return row


def require_expert(session: Session, ctx: BrandContext, user: User) -> ExpertProfileRow:
    row = expert_row(session, ctx, user.id)
    if row is None or "expert" not in ctx.roles:
        raise forbidden(
            _("Only the brand's experts can do this; ask the brand to set up your expert profile."),
            "expert_required",
        )
    return row


def upsert_expert(
    uow: UnitOfWork,
    ctx: BrandContext,
    user_id: int,
    *,
    skills: Mapping[str, int],
    languages: Iterable[str],
    tier: int,
    certifications: Iterable[str],
    now: datetime,
) -> ExpertProfileRow:
    from crowdcx.tenancy.service import roles_in

    session = uow.session
    member = session.get(User, user_id)
    if member is None or "expert" not in roles_in(session, member, ctx.brand.id):
        raise AppError(
            404,
            "expert_not_member",
            _("This person is not an expert of the brand; give them the expert role first."),
            field="user_id",
        )
    policy, _v = load_policy(session, ctx)
    known = policy.skill_map
    for name, level in skills.items():
        if name not in known:
            raise invalid(
                "skills",
                _("Unknown skill %(name)s; the brand's skills are: %(known)s.")
                % {"name": name, "known": ", ".join(sorted(known))},
                "skill_unknown",
            )
        if not routing.MIN_PROFICIENCY <= int(level) <= routing.MAX_PROFICIENCY:
            raise invalid("skills", _("Proficiency runs from 1 to 5."), "proficiency_out_of_range")
    langs = []
    for value in languages:
        loc = normalize_locale(value)
        if loc is None or loc not in policy.languages:
            raise invalid(
                "languages",
                _("Unknown language %(value)s; choose from: %(choices)s.")
                % {"value": value, "choices": ", ".join(policy.languages)},
                "language_unknown",
            )
        langs.append(loc)
    if not 0 <= tier <= routing.MAX_TIER:
        raise invalid("tier", _("The tier runs from 0 to 3."), "tier_out_of_range")
    certs = sorted(set(certifications))
    for cert in certs:
        if cert not in known:
            raise invalid(
                "certifications",
                _("Certifications name skills of the brand; %(name)s is not one.") % {"name": cert},
                "certification_unknown",
            )
    row = expert_row(session, ctx, user_id)
    if row is None:
        row = ExpertProfileRow(
            brand_id=ctx.brand.id,
            user_id=user_id,
            skills={},
            languages=[],
            certifications=[],
            load=0,
        )
        session.add(row)
    row.skills = {k: int(v) for k, v in skills.items()}
    row.languages = sorted(set(langs))
    row.tier = tier
    row.certifications = certs
    row.updated_at = now
    _bump_roster(session, ctx, now)
    session.flush()
    return row


def set_availability(
    uow: UnitOfWork, ctx: BrandContext, user: User, online: bool, now: datetime
) -> ExpertProfileRow:
    row = require_expert(uow.session, ctx, user)
    # The flag and the presence interval the capacity plan reads change together, by a
    # conditional update: "online" twice (two tabs, a retry) opens one interval.
    if presence.set_online(uow.session, ctx.brand.id, user.id, online, now):
        _bump_roster(uow.session, ctx, now)
    uow.session.flush()
    if online:
        # Coming online is a chance to serve waiting tickets.
        route_waiting(uow, ctx, now, limit=5)
    return row


def _profile(row: ExpertProfileRow) -> routing.ExpertProfile:
    return routing.ExpertProfile(
        expert_id=str(row.user_id),
        skills={k: int(v) for k, v in row.skills.items()},
        languages=frozenset(row.languages),
        tier=row.tier,
        certifications=frozenset(row.certifications),
        online=row.online,
        load=row.load,
        max_concurrent=row.max_concurrent,
        stats=routing.ExpertStats(
            resolved=row.resolved,
            escalated=row.escalated,
            csat_points=row.csat_points,
            csat_count=row.csat_count,
            response_ewma_s=row.response_ewma_s,
            quality_points=row.quality_points,
            quality_count=row.quality_count,
        ),
    )


# Candidate pools per brand, rebuilt when the roster version changes (profile edits and
# availability toggles bump it). Loads are checked live against the database before an offer.
_pools: dict[tuple[str, int], tuple[int, int, routing.CandidatePool]] = {}


def _db_key(session: Session) -> str:
    """Caches are per database (tests and tools may open several in one process)."""
    return str(session.get_bind().engine.url)


def _is_expert(ctx: BrandContext, user_id: Any) -> Any:
    """SQL: ``user_id`` is an active account holding the expert role in this brand. A profile
    outlives the role (an admin takes it away, an operator deactivates the account): such a
    person may no longer see or take tickets, so they must not be offered any."""
    return exists(
        select(MembershipRole.id)
        .join(Membership, Membership.id == MembershipRole.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.brand_id == ctx.brand.id,
            Membership.user_id == user_id,
            MembershipRole.role == "expert",
            User.is_active.is_(True),
        )
    )


def _still_expert(session: Session, ctx: BrandContext, user_id: int) -> bool:
    return bool(session.scalar(select(_is_expert(ctx, user_id))))


def candidate_pool(
    session: Session, ctx: BrandContext, policy: BrandPolicy, roster: int
) -> routing.CandidatePool:
    key = id(policy)
    hit = _pools.get((_db_key(session), ctx.brand.id))
    if hit is not None and hit[0] == roster and hit[1] == key:
        return hit[2]
    rows = session.scalars(
        ctx.scoped(ExpertProfileRow).where(
            ExpertProfileRow.online.is_(True), _is_expert(ctx, ExpertProfileRow.user_id)
        )
    )
    pool = routing.CandidatePool.build(
        (_profile(r) for r in rows), policy.skill_map, policy.max_concurrent, policy.routing_weights
    )
    with _cache_lock:
        _pools[(_db_key(session), ctx.brand.id)] = (roster, key, pool)
    return pool


# ------------------------------------------------------------------------------------------
# Tickets: mapping, persistence of a transition, effects of events
# ------------------------------------------------------------------------------------------


def to_rules(row: TicketRow) -> lifecycle.Ticket:
    return lifecycle.Ticket(
        id=str(row.id),
        customer_id=str(row.customer_id),
        state=lifecycle.State(row.status),
        created_at=row.created_at,
        owner_id=str(row.owner_id) if row.owner_id is not None else None,
        owner_role=lifecycle.Role(row.owner_role) if row.owner_role else None,
        offered_to=str(row.offered_to) if row.offered_to is not None else None,
        offer_expires_at=row.offer_expires_at,
        rung=tuple(row.rung),
        escalated=row.escalated,
        claimed_at=row.claimed_at,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        resolved_by=str(row.resolved_by) if row.resolved_by is not None else None,
        resolved_by_role=lifecycle.Role(row.resolved_by_role) if row.resolved_by_role else None,
        reopened_at=row.reopened_at,
        case_started_at=row.case_started_at,
        community_response_at=row.community_response_at,
        version=row.version,
    )


def _int(value: str | None) -> int | None:
    return int(value) if value is not None else None


def _state_values(t: lifecycle.Transition, now: datetime, policy: BrandPolicy) -> dict[str, Any]:
    """The ticket columns a decided transition sets."""
    new = t.ticket
    values: dict[str, Any] = {
        "status": new.state.value,
        "owner_id": _int(new.owner_id),
        "owner_role": new.owner_role.value if new.owner_role else None,
        "offered_to": _int(new.offered_to),
        "offer_expires_at": new.offer_expires_at,
        "rung": list(new.rung),
        "escalated": new.escalated,
        "claimed_at": new.claimed_at,
        "first_response_at": new.first_response_at,
        "resolved_at": new.resolved_at,
        "resolved_by": _int(new.resolved_by),
        "resolved_by_role": new.resolved_by_role.value if new.resolved_by_role else None,
        "reopened_at": new.reopened_at,
        "version": new.version,
        "updated_at": now,
        "sweep_at": lifecycle.next_sweep_at(new, lifecycle=policy.lifecycle, sla=policy.sla),
    }
    if new.state is lifecycle.State.CLOSED:
        values["closed_at"] = now
    if t.record.action is lifecycle.Action.ESCALATE:
        values["escalation_reason"] = t.record.reason[:500]
    return values


def _persist(
    uow: UnitOfWork,
    ctx: BrandContext,
    row: TicketRow,
    t: lifecycle.Transition,
    now: datetime,
    policy: BrandPolicy,
    conflict_code: str = "ticket_changed",
) -> None:
    """Write the decided ticket with a conditional update on the version that was read: if
    anybody changed the ticket in between, nothing is written and the caller gets a 409."""
    values = _state_values(t, now, policy)
    result = uow.session.execute(
        update(TicketRow)
        .where(TicketRow.id == row.id, TicketRow.version == row.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        detail = (
            _("Another expert claimed this ticket first.")
            if conflict_code == "already_claimed"
            else _("Someone else changed this ticket just now; reload it and try again.")
        )
        raise AppError(409, conflict_code, detail)
    for key, value in values.items():
        set_committed = row.__dict__  # keep the in-memory row equal to what was written
        set_committed[key] = value
    _record(uow, ctx, row, t, now)


def _record(
    uow: UnitOfWork, ctx: BrandContext, row: TicketRow, t: lifecycle.Transition, now: datetime
) -> None:
    """The transition's history entry and the consequences of its events."""
    new = t.ticket
    append_rows(uow.session, TicketTransitionRow, [{
        "brand_id": ctx.brand.id, "ticket_id": row.id,
        "from_state": t.record.from_state.value, "to_state": t.record.to_state.value,
        "action": t.record.action.value, "actor_role": t.record.actor_role.value,
        "actor_id": t.record.actor_id, "reason": t.record.reason[:500], "at": now,
    }])  # fmt: skip
    for event in t.events:
        _on_event(uow, ctx, row, event, now)
    if t.record.action.value in _WORK_ACTIONS and row.resolved_by is not None:
        _refresh_work(uow.session, ctx, row.id)  # its expert's hourly rate, in step
    was_done = t.record.from_state.value in ("resolved", "closed")
    done = new.state.value in ("resolved", "closed")
    if done != was_done and new.state is not lifecycle.State.DEFLECTED:
        # Past resolutions are searchable by experts and staff (agent assist).
        from crowdcx.search import service as search

        search.sync_ticket(uow.session, row, new.state.value)


_loads: dict[tuple[str, int], tuple[float, dict[str, int]]] = {}
LOAD_SNAPSHOT_S = 0.5


def live_loads(session: Session, ctx: BrandContext) -> dict[str, int]:
    """Online experts' loads in this brand, at most half a second old."""
    key = (_db_key(session), ctx.brand.id)
    hit = _loads.get(key)
    if hit is not None and time.monotonic() - hit[0] < LOAD_SNAPSHOT_S:
        return hit[1]
    rows = session.execute(
        select(ExpertProfileRow.user_id, ExpertProfileRow.load).where(
            ExpertProfileRow.brand_id == ctx.brand.id, ExpertProfileRow.online.is_(True)
        )
    )
    snapshot = {str(user_id): load for user_id, load in rows}
    _loads[key] = (time.monotonic(), snapshot)
    return snapshot


def _change_load(
    session: Session, ctx: BrandContext, user_id: int, delta: int, cap: int | None = None
) -> bool:
    """Add ``delta`` to an expert's live load; with ``cap``, only if it stays under it."""
    result = session.execute(
        _LOAD_UPDATE[(cap is not None, delta < 0)],
        {"brand": ctx.brand.id, "user": user_id, "delta": delta, "cap": cap},
    )
    changed = bool(result.rowcount == 1)  # type: ignore[attr-defined]
    snapshot = _loads.get((_db_key(session), ctx.brand.id))
    if changed and snapshot is not None and str(user_id) in snapshot[1]:
        snapshot[1][str(user_id)] += delta  # this process's own changes show at once
    return changed


def _load_update(capped: bool, lowering: bool) -> Any:
    """The conditional load update, built once per shape (it runs on every offer)."""
    load = ExpertProfileRow.load
    stmt = update(ExpertProfileRow).where(
        ExpertProfileRow.brand_id == bindparam("brand"),
        ExpertProfileRow.user_id == bindparam("user"),
    )
    if capped:
        stmt = stmt.where(load + bindparam("delta") <= bindparam("cap"))
        stmt = stmt.where(ExpertProfileRow.online.is_(True))
    if lowering:
        stmt = stmt.where(load + bindparam("delta") >= 0)
    return stmt.values(load=load + bindparam("delta")).execution_options(synchronize_session=False)


_LOAD_UPDATE = {(c, lo): _load_update(c, lo) for c in (False, True) for lo in (False, True)}


def _stats(session: Session, ctx: BrandContext, user_id: int) -> ExpertProfileRow | None:
    return expert_row(session, ctx, user_id)


def _points(
    uow: UnitOfWork, ctx: BrandContext, event: rep.PointsEvent, now: datetime
) -> Rise | None:
    """Append the event's points; the beneficiary's rise, if their standing rose."""
    from crowdcx.reputation import service as points

    history = points.history_today(uow.session, ctx, [event.beneficiary_id], now)
    rises = points.write(uow, ctx, rep.entries_for(event, points.POLICY, history))
    return rises.get(event.beneficiary_id)


def _take_back_resolution(
    uow: UnitOfWork, ctx: BrandContext, ticket_id: int, expert_id: int, now: datetime
) -> None:
    from crowdcx.reputation import service as points

    given = points.entries_by_key_prefix(uow.session, ctx, f"ticket:{ticket_id}:resolved:")
    # A reversal's key is its entry's plus ":rev": written once however often this runs.
    points.write(uow, ctx, [rep.reversal_of(e, now) for e in given if e.reverses is None])
    stats = _stats(uow.session, ctx, expert_id)
    if stats is not None and stats.resolved > 0:
        stats.resolved -= 1


def _post(uow: UnitOfWork, ctx: BrandContext, posting_set: pay.PostingSet) -> None:
    money.post(uow.session, ctx.brand.id, posting_set)


def _postings(session: Session, ctx: BrandContext, correlation_key: str) -> list[pay.Posting]:
    rows = session.scalars(
        ctx.scoped(LedgerPosting)
        .where(LedgerPosting.correlation_key == correlation_key)
        .order_by(LedgerPosting.id)
    )
    return [
        pay.Posting(
            r.account,
            Money(r.amount_minor, r.currency),
            r.kind,
            r.correlation_key,
            r.idempotency_key,
            r.at,
            r.memo,
        )
        for r in rows
    ]


def _routing_request(row: TicketRow, rung: frozenset[str] = frozenset()) -> routing.RoutingRequest:
    """The ticket as the routing rules see it (its customer is never routed it: an expert who
    asks as a customer would be paid from the brand for answering themselves)."""
    return routing.RoutingRequest(
        str(row.id), row.skill, row.language, row.required_tier, rung, str(row.customer_id)
    )


def _on_event(
    uow: UnitOfWork, ctx: BrandContext, row: TicketRow, event: lifecycle.TicketEvent, now: datetime
) -> None:
    """In-transaction consequences of a ticket event (money, points, stats), plus the live
    notices that leave after commit."""
    session = uow.session
    broadcaster_event = None
    if isinstance(event, lifecycle.OfferMade):
        payload = offer_payload(row, event.expires_at)
        if as_read(row.subject, row, frozenset()) != row.subject:
            # The subject quotes the customer's data: show it as the expert's tier may see
            # it. (Only then is their profile read: intake reads nothing after its writes.)
            profile_row = expert_row(session, ctx, int(event.expert_id))
            tier = profile_row.tier if profile_row is not None else -1
            policy, _roster = load_policy(session, ctx)
            allowed = frozenset(masking.visible_fields(tier, policy))
            payload["subject"] = as_read(row.subject, row, allowed)
        broadcaster_event = (f"user:{event.expert_id}", "offer", payload)
    elif isinstance(event, lifecycle.TicketResolved):
        expert_id = event.expert_id
        if expert_id is not None:
            from crowdcx.quality import service as quality  # quality builds on tickets

            # Sampled for review by staff in the resolution's own transaction.
            quality.on_expert_resolution(session, ctx, row, int(expert_id), now)
        if event.earning_due and expert_id is not None:
            existing = [p.idempotency_key for p in _postings(session, ctx, str(row.id))]
            decision = pay.decide_earning(
                str(row.id),
                str(ctx.brand.id),
                expert_id,
                event.escalated,
                Money(row.quote_minor, row.currency),
                existing,
                now,
            )
            first_resolution = isinstance(decision, pay.PostingSet)
            if isinstance(decision, pay.PostingSet):
                _post(uow, ctx, decision)
            rise = _points(
                uow,
                ctx,
                rep.PointsEvent(
                    "ticket_resolved",
                    ctx.brand.id,
                    int(expert_id),
                    rep.SubjectRef("ticket", row.id),
                    now,
                    f"ticket:{row.id}:resolved",
                ),
                now,
            )
            # A ticket counts once in the resolution rate that routing scores by, however
            # often it is reopened and resolved again (as it is paid and rewarded once).
            stats = _stats(session, ctx, int(expert_id)) if first_resolution else None
            if stats is not None:
                stats.resolved += 1
            from crowdcx.community import engagement  # badges span both lanes

            engagement.award_after_commit(uow, ctx, int(expert_id), now, engagement.RESOLVED, rise)
        customer = session.get(User, row.customer_id)
        with use_locale(customer.locale if customer is not None else current_locale()):
            text = _("Your ticket “%(subject)s” was resolved. Please rate the help.") % {
                "subject": row.subject
            }  # in the customer's language, not the resolver's
        broadcaster_event = (
            f"user:{row.customer_id}",
            "notice",
            {"kind": "ticket_resolved", "ticket": row.id, "text": text},
        )
        # The live notice reaches only a customer on the site at this moment; the
        # notification stays in their list and digest (as "an expert is on it" did for a
        # question escalated into this ticket).
        notes.notify(
            session, ctx.brand.id, [row.customer_id], "ticket_resolved", {"title": row.subject},
            f"/b/{ctx.brand.slug}/tickets/{row.id}", now,
        )  # fmt: skip
    elif isinstance(event, lifecycle.EarningReversalDue):
        decision = pay.decide_reversal(
            str(row.id),
            _postings(session, ctx, str(row.id)),
            now,
            memo="reopened and resolved by staff",
        )
        if isinstance(decision, pay.PostingSet):
            _post(uow, ctx, decision)
            # Not a resolution after all: its reputation and its count in the routing score
            # go with the earning (once: the reversal is posted once).
            _take_back_resolution(uow, ctx, row.id, int(event.expert_id), now)
    elif isinstance(event, lifecycle.TicketEscalated):
        if event.from_expert_id is not None:
            stats = _stats(session, ctx, int(event.from_expert_id))
            if stats is not None:
                stats.escalated += 1
        broadcaster_event = (
            f"staff:{ctx.brand.id}",  # the subject is for the staff queue, not every member
            "escalation",
            {"ticket": row.id, "subject": row.subject},
        )
    elif isinstance(event, lifecycle.CsatReceived):
        if event.expert_id is not None:
            _points(
                uow,
                ctx,
                rep.PointsEvent(
                    "csat_received",
                    ctx.brand.id,
                    int(event.expert_id),
                    rep.SubjectRef("ticket", row.id),
                    now,
                    f"ticket:{row.id}:csat",
                    value=event.csat,
                ),
                now,
            )
            stats = _stats(session, ctx, int(event.expert_id))
            if stats is not None:
                stats.csat_points += event.csat - 1
                stats.csat_count += 1
            from crowdcx.quality import service as quality

            quality.on_low_rating(session, ctx, row, int(event.expert_id), event.csat, now)
    elif isinstance(event, lifecycle.TicketReopened):
        if event.previously_resolved_by is not None and row.resolved_by_role == "expert":
            from crowdcx.quality import service as quality

            quality.on_reopened(session, ctx, row, int(event.previously_resolved_by), now)
    elif isinstance(event, lifecycle.TicketDeflected):
        from crowdcx.search import service as search

        # A suggestion solved the case: it counts as solved in the deflection figures, once
        # per ticket (the lifecycle deflects a ticket once; the key is the customer's, as
        # web.deps.visitor_key makes it for a signed-in reader).
        search.record(
            session, ctx, "solved", "ticket", kind="ticket", ref_id=str(row.id), at=now,
            visitor=f"u:{row.customer_id}",
        )  # fmt: skip
    elif isinstance(event, lifecycle.FirstResponded):
        stats = _stats(session, ctx, int(event.responder_id))
        if stats is not None and event.seconds_since_claim is not None:
            alpha = routing.DEFAULT_WEIGHTS.response_ewma_alpha
            prev = stats.response_ewma_s
            stats.response_ewma_s = (
                event.seconds_since_claim
                if prev is None
                else alpha * event.seconds_since_claim + (1 - alpha) * prev
            )
    if broadcaster_event is not None:
        channel, name, data = broadcaster_event
        uow.publish(LiveNotice(channel, name, data))


@dataclass(frozen=True)
class LiveNotice:
    """Published after commit; app.py forwards it to the SSE broadcaster."""

    channel: str
    event: str
    data: dict[str, Any]


def offer_payload(row: TicketRow, expires_at: datetime | None) -> dict[str, Any]:
    return {
        "ticket": row.id,
        "subject": row.subject,
        "language": row.language,
        "skill": row.skill,
        "rate": str(Money(row.quote_minor, row.currency)),
        "rate_minor": row.quote_minor,
        "currency": row.currency,
        "expires_at": expires_at.isoformat() if expires_at else None,
    }


def _decide(
    ticket: lifecycle.Ticket,
    action: lifecycle.Action,
    actor: lifecycle.Actor,
    now: datetime,
    policy: BrandPolicy,
    **kw: Any,
) -> lifecycle.Transition:
    decision = lifecycle.decide_transition(
        ticket, action, actor, now, policy=policy.lifecycle, **kw
    )
    if isinstance(decision, lifecycle.Violation):
        raise violation_error(decision)
    return decision


# ------------------------------------------------------------------------------------------
# Routing (push): offer the best eligible expert, cascade, or escalate
# ------------------------------------------------------------------------------------------


def route(
    uow: UnitOfWork,
    ctx: BrandContext,
    row: TicketRow,
    policy: BrandPolicy,
    roster: int,
    now: datetime,
) -> str:
    """Decide and apply the next step for a queued ticket. Returns "offered", "escalated" or
    "held"."""
    if row.status != "queued":
        return "held"
    step = _next_step(uow.session, ctx, row, to_rules(row), policy, roster, now)
    if step is None:
        return "held"
    _persist(uow, ctx, row, step, now, policy)
    return "escalated" if step.record.action is lifecycle.Action.ESCALATE else "offered"


def _next_step(
    session: Session,
    ctx: BrandContext,
    row: TicketRow,
    ticket: lifecycle.Ticket,
    policy: BrandPolicy,
    roster: int,
    now: datetime,
) -> lifecycle.Transition | None:
    """The push cascade's next transition for a queued ticket (offer or escalate), or None
    to hold it. An offer has already raised the expert's load, with a conditional update: the
    one write here, so whatever else the decision reads happens before the caller's
    transaction takes the write lock."""
    pool = candidate_pool(session, ctx, policy, roster)
    request = _routing_request(row, frozenset(ticket.rung))
    sla_risk = lifecycle.sla_status(ticket, policy.sla, now).at_risk_or_breached
    # Loads: a snapshot of the brand's live loads (refreshed at most every half second),
    # overlaid with what this decision learns; the conditional update has the last word.
    learned: dict[str, int] = {}
    loads = ChainMap(learned, live_loads(session, ctx))
    for _attempt in range(8):
        decision = routing.decide_next_offer(
            pool,
            request,
            now,
            routing_mode=policy.routing_mode,
            max_rings=policy.max_rings,
            offer_timeout_s=policy.offer_timeout_s,
            sla_at_risk=sla_risk,
            loads=loads,
        )
        if isinstance(decision, routing.Hold):
            return None
        if isinstance(decision, routing.EscalateTicket):
            return _decide(
                ticket,
                lifecycle.Action.ESCALATE,
                lifecycle.Actor.system("router"),
                now,
                policy,
                reason=decision.reason,
            )
        expert = int(decision.expert_id)
        if not _still_expert(session, ctx, expert):
            # The pool is cached until the roster changes; a role taken away or an account
            # deactivated since then does not change it. Checked for the one chosen.
            learned[decision.expert_id] = 10**6
            continue
        cap = pool.experts[decision.expert_id].max_concurrent or policy.max_concurrent
        cap = min(cap, policy.max_concurrent)
        if not _change_load(session, ctx, expert, 1, cap):
            learned[decision.expert_id] = 10**6  # full or gone offline since the snapshot
            continue
        return _decide(
            ticket,
            lifecycle.Action.OFFER,
            lifecycle.Actor.system("router"),
            now,
            policy,
            target=decision.expert_id,
        )
    return None


def route_waiting(uow: UnitOfWork, ctx: BrandContext, now: datetime, limit: int = 5) -> int:
    """Offer queued tickets (oldest first) to experts who just became available."""
    policy, roster = load_policy(uow.session, ctx)
    if policy.routing_mode is routing.RoutingMode.PULL:
        return 0
    rows = list(
        uow.session.scalars(
            ctx.scoped(TicketRow)
            .where(TicketRow.status == "queued")
            .order_by(TicketRow.case_started_at)
            .limit(limit)
        )
    )
    return sum(1 for row in rows if route(uow, ctx, row, policy, roster, now) == "offered")


# ------------------------------------------------------------------------------------------
# Use cases
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    subject: str
    body: str
    skill: str
    language: str | None = None
    priority: str = "normal"
    customer_fields: Mapping[str, str] | None = None
    # When the case began, if before this intake: a community question escalated into a
    # ticket keeps the moment it was asked as the case's start (``case_started_at``), so the
    # case runs under one SLA clock; ``created_at`` is the escalation.
    opened_at: datetime | None = None
    # The community question the case began as (``tickets.question_id``), same brand, and
    # when the community first answered it (``community_response_at``), if it had.
    question_id: int | None = None
    community_response_at: datetime | None = None


@dataclass(frozen=True)
class PreparedIntake:
    """A validated, priced inquiry not yet written: ``row`` is transient."""

    row: TicketRow
    policy: BrandPolicy
    roster: int
    customer_id: int
    data: Intake


def create_ticket(
    uow: UnitOfWork, ctx: BrandContext, customer: User, data: Intake, now: datetime
) -> TicketRow:
    """Validate, price, route and write a new inquiry (see :func:`prepare_intake` and
    :func:`submit_intake`, which the API calls apart to search for suggestions in between)."""
    return submit_intake(uow, ctx, prepare_intake(uow, ctx, customer, data, now), now)


def prepare_intake(
    uow: UnitOfWork, ctx: BrandContext, customer: User, data: Intake, now: datetime
) -> PreparedIntake:
    """Everything about a new inquiry that needs no write: validation, language, price."""
    policy, roster = load_policy(uow.session, ctx)
    if not data.language:
        # A text with no letters to tell its language by is in the customer's own.
        text = f"{data.subject}\n{data.body}"
        own = normalize_locale(customer.locale or "") or "en"
        if detect_language(text, default=own) != detect_language(text):
            data = replace(data, language=own)
    return _prepared(ctx, customer.id, data, now, policy, roster)


def _prepared(
    ctx: BrandContext,
    customer_id: int,
    data: Intake,
    now: datetime,
    policy: BrandPolicy,
    roster: int,
) -> PreparedIntake:
    subject = one_line_break(data.subject).strip()
    body = one_line_break(data.body).strip()
    if not says_something(subject):
        raise invalid("subject", _("Say in a few words what the problem is."), "required")
    if len(subject) > MAX_SUBJECT:
        raise invalid(
            "subject",
            _("Keep the subject under %(n)d characters.") % {"n": MAX_SUBJECT},
            "too_long",
        )
    if not says_something(body):
        raise invalid("body", _("Describe the problem so that someone can help."), "required")
    if len(body) > MAX_BODY:
        raise invalid(
            "body", _("Keep the description under %(n)d characters.") % {"n": MAX_BODY}, "too_long"
        )
    skill = policy.skill(data.skill)
    if skill is None:
        raise invalid(
            "skill",
            _("Unknown topic %(name)s; choose one of: %(known)s.")
            % {"name": data.skill, "known": ", ".join(s.name for s in policy.skills)},
            "skill_unknown",
        )
    if data.language:
        language = normalize_locale(data.language)
        if language is None:
            raise invalid(
                "language",
                _("Unknown language %(value)s; choose from: %(choices)s.")
                % {"value": data.language, "choices": ", ".join(LOCALES)},
                "language_unknown",
            )
    else:
        language = detect_language(f"{subject}\n{body}")
    # Chinese in the other script goes to the brand's Chinese experts; a language the brand
    # does not serve at all is kept as written and handed to staff at once (submit_intake).
    written: str = language
    language_served = lifecycle.served_language(written, policy.languages) or written
    if data.priority not in PRIORITIES:
        raise invalid(
            "priority",
            _("Priority is one of: %(choices)s.") % {"choices": ", ".join(PRIORITIES)},
            "priority_unknown",
        )
    fields: dict[str, str] = {}
    for name, value in (data.customer_fields or {}).items():
        if name not in CUSTOMER_FIELDS:
            raise invalid(
                f"customer_fields.{name}",
                _("Unknown customer field; use: %(choices)s.")
                % {"choices": ", ".join(CUSTOMER_FIELDS)},
                "field_unknown",
            )
        text = str(value).strip()
        if len(text) > 300:
            raise invalid(
                f"customer_fields.{name}", _("Keep each detail under 300 characters."), "too_long"
            )
        if text:
            fields[name] = text
    quote = pay.price_ticket(
        policy.rate_card, skill.name, COMPLEXITY_BY_PRIORITY[data.priority], language_served, now
    )
    if isinstance(quote, lifecycle.Violation):
        raise violation_error(quote)
    row = TicketRow(
        brand_id=ctx.brand.id,
        customer_id=customer_id,
        subject=subject,
        body=body,
        language=language_served,
        skill=skill.name,
        priority=data.priority,
        required_tier=skill.required_tier,
        customer_fields=fields,
        status="created",
        rung=[],
        quote_minor=quote.amount.minor,
        currency=quote.amount.currency,
        created_at=now,
        case_started_at=min(data.opened_at, now) if data.opened_at is not None else now,
        question_id=data.question_id,
        community_response_at=(
            min(data.community_response_at, now) if data.community_response_at else None
        ),
        updated_at=now,
        escalated=False,
        version=0,
    )
    return PreparedIntake(row, policy, roster, customer_id, data)


def submit_intake(
    uow: UnitOfWork, ctx: BrandContext, intake: PreparedIntake, now: datetime
) -> TicketRow:
    """Submit the inquiry and take the push cascade's first step in one short write.

    The transitions are decided in memory first (submit, then offer or escalate), so the
    ticket is inserted once in its final state beside its history: on SQLite every writer of
    every worker waits for the one holding the write lock, and the lock is now held for the
    expert's load update, one insert of the ticket and one of its transitions — not for
    reading the roster or deciding the route. A ticket in a language the brand does not
    serve is escalated to staff at once (reason ``language_not_served``).

    The policy it is written by is the saved one at commit: one saved since
    :func:`prepare_intake` read it — a skill renamed or removed, a rate changed — prepares
    the inquiry again by the saved one, as if it had come after the save (a skill by its
    old name is then refused as unknown, with the skills there are now). PostgreSQL: the
    policy is held (shared) until commit, then read again. SQLite: held, it would keep
    every other writer waiting through the routing's reads (a quarter of intake's
    throughput, bench/inquiry_pipeline.py); so the policy is read, the ticket decided and
    written, and the policy read again as the one writer — a save committed in between
    (none can from the first write to commit) has the inquiry decided again, this time
    holding the write lock from the start (rare: a save within those milliseconds)."""
    session = uow.session
    if session.get_bind().dialect.name == "postgresql":
        hold_policy(session, ctx, exclusive=False)
        return _submit(uow, ctx, intake, now)[0]
    held, mark = writing(session), uow.mark()
    row, policy = _submit(uow, ctx, intake, now)
    saved = load_policy(session, ctx)[0]
    if held or saved is policy or saved == policy:
        return row
    uow.rollback_to(mark)  # this intake's writes only: the unit was not writing before them
    begin_writing(session)
    return _submit(uow, ctx, intake, now)[0]


def _submit(
    uow: UnitOfWork, ctx: BrandContext, intake: PreparedIntake, now: datetime
) -> tuple[TicketRow, BrandPolicy]:
    """:func:`submit_intake`'s decision and writes, by the policy saved now."""
    policy, roster = load_policy(uow.session, ctx)
    if policy is not intake.policy and policy != intake.policy:
        intake = _prepared(ctx, intake.customer_id, intake.data, now, policy, roster)
    row = intake.row
    submitted = _decide(
        to_rules(row),
        lifecycle.Action.SUBMIT,
        lifecycle.Actor(lifecycle.Role.CUSTOMER, str(intake.customer_id)),
        now,
        policy,
    )
    steps = [submitted]
    following: lifecycle.Transition | None
    if row.language not in policy.languages:
        # No expert may take a ticket in a language the brand does not serve: it would wait
        # for the SLA to run out. The customer keeps their inquiry; staff get it now.
        following = _decide(
            submitted.ticket,
            lifecycle.Action.ESCALATE,
            lifecycle.Actor.system("router"),
            now,
            policy,
            reason=lifecycle.LANGUAGE_NOT_SERVED,
        )
    else:
        following = _next_step(uow.session, ctx, row, submitted.ticket, policy, roster, now)
    if following is not None:
        steps.append(following)
    for key, value in _state_values(steps[-1], now, policy).items():
        setattr(row, key, value)
    uow.session.add(row)
    uow.session.flush()
    for step in steps:
        _record(uow, ctx, row, step, now)
    return row, policy


def note_community_response(
    session: Session, ctx: BrandContext, ticket_id: int, question_id: int, at: datetime
) -> bool:
    """Remember the first community answer to the question a ticket was escalated from: the
    case got a first response (``rules.first_response_met_at``). Not ``first_response_at``,
    the owning expert's or staff's own reply that routing's response-time statistics read.
    Not a transition (no version bump, so no one's conditional write is refused); the
    ticket's ``sweep_at`` is left as it was: this only makes its next moment later, and the
    sweeper, looking early, finds nothing to do and stores the later one."""
    written = session.execute(
        update(TicketRow)
        .where(
            TicketRow.brand_id == ctx.brand.id,
            TicketRow.id == ticket_id,
            TicketRow.question_id == question_id,
            TicketRow.community_response_at.is_(None),
        )
        .values(community_response_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(written.rowcount == 1)  # type: ignore[attr-defined]


def set_community_response(
    session: Session,
    ctx: BrandContext,
    ticket_id: int,
    question_id: int,
    at: datetime | None,
    now: datetime,
) -> bool:
    """The community's first response to an escalated question moved (its earliest answer was
    hidden by moderation or restored): record the new moment. When it moved later or went,
    the first-response target may now be missed, so the ticket's ``sweep_at`` is brought to
    now and the sweeper looks again (it escalates if the target has passed, else stores the
    next moment). Returns whether the ticket changed."""
    row = session.execute(
        select(TicketRow.community_response_at, TicketRow.status).where(
            TicketRow.brand_id == ctx.brand.id,
            TicketRow.id == ticket_id,
            TicketRow.question_id == question_id,
        )
    ).one_or_none()
    if row is None or row.community_response_at == at:
        return False
    values: dict[str, Any] = {"community_response_at": at}
    later = at is None or (row.community_response_at is not None and at > row.community_response_at)
    if later and row.status in lifecycle.OPEN_STATES:
        values["sweep_at"] = now
    session.execute(
        update(TicketRow)
        .where(TicketRow.brand_id == ctx.brand.id, TicketRow.id == ticket_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return True


def _viewer_role(ctx: BrandContext, user: User, row: TicketRow) -> lifecycle.Role | None:
    if row.customer_id == user.id:
        return lifecycle.Role.CUSTOMER
    if ctx.can("ticket.staff"):
        return lifecycle.Role.AGENT
    if "expert" in ctx.roles:
        return lifecycle.Role.EXPERT
    return None


def get_ticket(session: Session, ctx: BrandContext, ticket_id: int) -> TicketRow:
    return ctx.get(session, TicketRow, ticket_id, _("There is no such ticket in this brand."))


def visible_ticket(
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    ticket_id: int,
    policy: BrandPolicy,
    now: datetime,
) -> tuple[TicketRow, lifecycle.Role]:
    """The ticket if this person may see it; experts see only what is offered to them, what
    they own, what they resolved (until it goes on to staff), or (pull mode) what they could
    claim. Anyone else: 404."""
    row = get_ticket(uow.session, ctx, ticket_id)
    role = _viewer_role(ctx, user, row)
    if role is lifecycle.Role.EXPERT and not (
        row.owner_id == user.id
        or row.offered_to == user.id
        or (row.resolved_by == user.id and row.status in RESOLVED_STATES)
        or (
            row.status == "queued"
            and policy.routing_mode is not routing.RoutingMode.PUSH
            and _eligible(uow.session, ctx, user, row, policy)
        )
    ):
        role = None
    if role is None:
        raise not_found(_("There is no such ticket in this brand."), "ticket_not_found")
    return row, role


def _eligible(
    session: Session, ctx: BrandContext, user: User, row: TicketRow, policy: BrandPolicy
) -> bool:
    profile_row = expert_row(session, ctx, user.id)
    if profile_row is None:
        return False
    request = _routing_request(row)
    return not routing.eligibility(
        _profile(profile_row), request, policy.skill(row.skill), policy.max_concurrent
    )


def viewer_tier(
    session: Session, ctx: BrandContext, user: User, role: lifecycle.Role
) -> int | None:
    if role is lifecycle.Role.CUSTOMER:
        return None  # a customer sees their own data, unmasked, unlogged
    if role is lifecycle.Role.AGENT:
        return routing.MAX_TIER
    profile_row = expert_row(session, ctx, user.id)
    return profile_row.tier if profile_row else 0


def present_fields(
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    row: TicketRow,
    role: lifecycle.Role,
    policy: BrandPolicy,
    now: datetime,
) -> dict[str, str]:
    tier = viewer_tier(uow.session, ctx, user, role)
    if tier is None:
        return {k: str(v) for k, v in row.customer_fields.items()}
    shown, unmasked = masking.present(row.customer_fields, tier, policy)
    _log_access(uow, ctx, user, row, role, unmasked, now)
    return shown


def _log_access(
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    row: TicketRow,
    role: lifecycle.Role,
    fields: Iterable[str],
    now: datetime,
) -> None:
    if names := sorted(fields):
        uow.session.add(
            AccessLogRow(
                brand_id=ctx.brand.id,
                ticket_id=row.id,
                viewer_id=user.id,
                viewer_role=role.value,
                fields=names,
                at=now,
            )
        )


def log_quoted_access(
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    row: TicketRow,
    role: lifecycle.Role,
    allowed: frozenset[str] | None,
    texts: Iterable[str],
    now: datetime,
) -> None:
    """Write an access-log entry when ``texts`` (messages read without the ticket's card)
    quote customer data this viewer reads unmasked. The customer reading their own is not
    logged; staff who see every field (``allowed`` None) are."""
    if role is lifecycle.Role.CUSTOMER or not row.customer_fields:
        return
    seen = frozenset(CUSTOMER_FIELDS) if allowed is None else allowed
    fields: set[str] = set()
    for text in texts:
        fields |= masking.quoted_fields(text, row.customer_fields, seen)
    _log_access(uow, ctx, user, row, role, fields, now)


def unmasked_fields(
    session: Session, ctx: BrandContext, user: User, role: lifecycle.Role, policy: BrandPolicy
) -> frozenset[str] | None:
    """The customer fields this viewer sees unmasked, or None when they see every one (the
    ticket's customer; staff, unless the brand's policy hides a field even from them)."""
    tier = viewer_tier(session, ctx, user, role)
    if tier is None:
        return None
    allowed = masking.visible_fields(tier, policy)
    return None if allowed >= set(CUSTOMER_FIELDS) else frozenset(allowed)


def as_read(text: str, row: TicketRow, allowed: frozenset[str] | None) -> str:
    """A ticket's subject, body or message as a viewer who sees ``allowed`` fields reads it:
    the customer's data it quotes masked as in the fields themselves."""
    if allowed is None:
        return text
    return masking.mask_quoted(text, row.customer_fields or {}, allowed)


def message_html(message: TicketMessageRow, row: TicketRow, allowed: frozenset[str] | None) -> str:
    """A message's HTML for this viewer (rendered again only when it quotes hidden data)."""
    if allowed is None:
        return message.body_html
    masked = as_read(message.body, row, allowed)
    return message.body_html if masked == message.body else render(masked)


def author_name(message: TicketMessageRow, name: str, allowed: frozenset[str] | None) -> str:
    """Who wrote a message, for this viewer: the customer's account name is their name, so
    a viewer who may not see the name field reads it masked."""
    if allowed is None or "name" in allowed or message.author_role != "customer":
        return name
    return masking.mask_field("name", name)


def claim(
    uow: UnitOfWork, ctx: BrandContext, user: User, ticket_id: int, now: datetime
) -> TicketRow:
    session = uow.session
    profile_row = require_expert(session, ctx, user)
    policy, _roster = load_policy(session, ctx)
    row = get_ticket(session, ctx, ticket_id)
    actor = lifecycle.Actor(lifecycle.Role.EXPERT, str(user.id))
    if row.status == "claimed" or (
        row.status == "offered" and row.offered_to != user.id and row.owner_id is None
    ):
        raise AppError(
            409,
            "already_claimed" if row.status == "claimed" else "not_your_offer",
            _("Another expert claimed this ticket first.")
            if row.status == "claimed"
            else _messages()["not_your_offer"],
        )
    if row.status == "queued":
        if policy.routing_mode is routing.RoutingMode.PUSH:
            raise AppError(
                409,
                "pull_disabled",
                _("This brand offers tickets to experts one at a time; wait for an offer."),
            )
        reasons = routing.eligibility(
            _profile(profile_row),
            _routing_request(row),
            policy.skill(row.skill),
            policy.max_concurrent,
        )
        if reasons:
            raise AppError(409, reasons[0].code, _eligibility_message(reasons[0]))
        cap = min(policy.max_concurrent, profile_row.max_concurrent or policy.max_concurrent)
        if not _change_load(session, ctx, user.id, 1, cap):
            raise AppError(
                409,
                "at_capacity",
                _("You already have as many tickets as you can take; finish one first."),
            )
    t = _decide(to_rules(row), lifecycle.Action.CLAIM, actor, now, policy)
    _persist(uow, ctx, row, t, now, policy, conflict_code="already_claimed")
    _require_active(session, user.id)
    return row


def _require_active(session: Session, user_id: int) -> None:
    """After the claim's own write: the account is still active. An erasure deactivates
    the account before it counts the person's open work (privacy.service.erase_account),
    so the two cannot both succeed: on PostgreSQL this share lock waits for an erasure's
    update of the row (or the erasure waits for this claim and then counts it); on SQLite
    the write above already holds the single writer's lock."""
    active = session.scalar(
        select(User.is_active).where(User.id == user_id).with_for_update(read=True)
    )
    if not active:
        raise forbidden(
            _("This account is being deleted; it can no longer claim tickets."),
            "account_inactive",
        )


def act(
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    ticket_id: int,
    action: lifecycle.Action,
    now: datetime,
    reason: str = "",
    solved_by: SolvedBy | None = None,
) -> TicketRow:
    """decline | resolve | escalate | reopen | deflect | confirm, by a person. A deflect may
    name the suggestion that solved it (``solved_by``; left out: not said)."""
    session = uow.session
    policy, roster = load_policy(session, ctx)
    row = get_ticket(session, ctx, ticket_id)
    role = _viewer_role(ctx, user, row)
    if role is None:
        raise not_found(_("There is no such ticket in this brand."), "ticket_not_found")
    # An agent who is also the customer acts as the customer on their own ticket.
    if action in (lifecycle.Action.DECLINE, lifecycle.Action.CLAIM) or (
        action is lifecycle.Action.RESOLVE
        and row.owner_role == "expert"
        and row.owner_id == user.id
    ):
        role = lifecycle.Role.EXPERT
    if (
        action is lifecycle.Action.ESCALATE
        and row.owner_id == user.id
        and row.owner_role == "expert"
    ):
        role = lifecycle.Role.EXPERT
    if action is lifecycle.Action.ESCALATE and role is lifecycle.Role.EXPERT and not reason.strip():
        raise invalid("reason", _("Say why the brand's staff should take over."), "reason_required")
    if action is lifecycle.Action.DEFLECT and solved_by is not None:
        _check_suggestion(session, ctx, solved_by)
    before = to_rules(row)
    t = _decide(
        before, action, lifecycle.Actor(role, str(user.id)), now, policy, reason=reason.strip()
    )
    _persist(uow, ctx, row, t, now, policy)
    if action is lifecycle.Action.DEFLECT:
        session.add(
            TicketDeflectionRow(
                brand_id=ctx.brand.id, ticket_id=row.id, at=now,
                kind=solved_by.kind if solved_by else None,
                ref_id=solved_by.id if solved_by else None,
            )
        )  # fmt: skip
    after = t.ticket
    if action is lifecycle.Action.REOPEN and after.owner_role is lifecycle.Role.EXPERT:
        assert after.owner_id is not None
        # An expert who lost the role or the account since resolving it cannot take it up.
        onward = lifecycle.decide_after_reopen(
            after, _still_expert(session, ctx, int(after.owner_id))
        )
        if onward is not None:
            t = _decide(
                after, onward.action, lifecycle.Actor.system("router"), now, policy,
                reason=onward.reason,
            )  # fmt: skip
            _persist(uow, ctx, row, t, now, policy)
            after = t.ticket
    if action is lifecycle.Action.REOPEN and row.status == "reopened" and row.owner_id:
        _tell_owner_reopened(session, ctx, row, policy, now)
    _settle_load(session, ctx, before, after)
    if row.status == "queued":
        route(uow, ctx, row, policy, roster, now)
    return row


def _tell_owner_reopened(
    session: Session, ctx: BrandContext, row: TicketRow, policy: BrandPolicy, now: datetime
) -> None:
    """The ticket came back to the one who resolved it: they are told (a notification, so
    also when their workspace is not open), the subject as their tier may read it."""
    assert row.owner_id is not None
    subject = row.subject
    if row.owner_role == "expert" and as_read(subject, row, frozenset()) != subject:
        profile_row = expert_row(session, ctx, int(row.owner_id))
        tier = profile_row.tier if profile_row is not None else -1
        subject = as_read(subject, row, frozenset(masking.visible_fields(tier, policy)))
    notes.notify(
        session, ctx.brand.id, [int(row.owner_id)], "ticket_reopened", {"title": subject},
        f"/b/{ctx.brand.slug}/tickets/{row.id}", now, skip=row.customer_id,
    )  # fmt: skip


@dataclass(frozen=True)
class SolvedBy:
    """The suggestion a customer says solved their ticket."""

    kind: str  # article | question
    id: int


SOLVING_KINDS = ("article", "question")


@dataclass(frozen=True)
class SolvedByShown:
    """Which suggestion solved a deflected ticket, as one viewer may see it: its title and
    link only while they may still read it (``title`` None: no longer available to them —
    hidden, archived, deleted or not at their visibility; its title is never shown then)."""

    kind: str  # article | question
    id: int | None  # None with the title
    title: str | None
    url: str | None


def solved_by_shown(session: Session, ctx: BrandContext, row: TicketRow) -> SolvedByShown | None:
    """The suggestion the customer said solved this deflected ticket, for the viewer ``ctx``;
    None when the ticket is not deflected or its customer did not say which."""
    return solved_by_shown_many(session, ctx, [row]).get(row.id)


def solved_by_shown_many(
    session: Session, ctx: BrandContext, rows: Sequence[TicketRow]
) -> dict[int, SolvedByShown]:
    """solved_by_shown of each of ``rows`` (a list page), by ticket id, in a fixed number of
    queries whatever the page holds: the page's deflections in one, the titles the viewer
    may read in one per kind (search.readable_titles). Tickets not deflected, or whose
    customer did not say which suggestion, are left out."""
    from crowdcx.search import service as search

    deflected = [r.id for r in rows if r.status == "deflected"]
    if not deflected:
        return {}
    found = session.execute(
        ctx.scoped(
            TicketDeflectionRow,
            select(TicketDeflectionRow.ticket_id, TicketDeflectionRow.kind,
                   TicketDeflectionRow.ref_id),
        ).where(
            TicketDeflectionRow.ticket_id.in_(deflected),
            TicketDeflectionRow.kind.is_not(None),
            TicketDeflectionRow.ref_id.is_not(None),
        )
    ).all()  # fmt: skip
    titles = search.readable_titles(session, ctx, [(f.kind, str(f.ref_id)) for f in found])
    out: dict[int, SolvedByShown] = {}
    for f in found:
        title = titles.get((f.kind, str(f.ref_id)))
        out[f.ticket_id] = (
            SolvedByShown(f.kind, None, None, None)
            if title is None
            else SolvedByShown(
                f.kind, f.ref_id, title, search.url_for(ctx.brand.slug, f.kind, str(f.ref_id))
            )
        )
    return out


def _check_suggestion(session: Session, ctx: BrandContext, solved_by: SolvedBy) -> None:
    """Only a suggestion the brand has and the customer may read can have solved it: a
    published article or solved community question their searches can return."""
    from crowdcx.search import service as search

    if solved_by.kind not in SOLVING_KINDS:
        raise invalid(
            "kind", _("Name an article or a community question: kind is article or question."),
            "unknown_suggestion_kind",
        )  # fmt: skip
    if not search.findable(session, ctx, solved_by.kind, str(solved_by.id)):
        raise invalid(
            "id",
            _("There is no such article or community question for you in this help center:"
              " use the id of a suggestion shown with the ticket."),
            "unknown_suggestion",
        )  # fmt: skip


def _settle_load(
    session: Session, ctx: BrandContext, before: lifecycle.Ticket, after: lifecycle.Ticket
) -> None:
    """Keep experts' live load equal to their claimed tickets plus open offers."""

    def holders(t: lifecycle.Ticket) -> set[str]:
        held = set()
        if (
            t.owner_id is not None
            and t.owner_role is lifecycle.Role.EXPERT
            and t.state in (lifecycle.State.CLAIMED, lifecycle.State.REOPENED)
        ):
            held.add(t.owner_id)
        if t.offered_to is not None and t.state is lifecycle.State.OFFERED:
            held.add(t.offered_to)
        return held

    was, now_held = holders(before), holders(after)
    for expert in was - now_held:
        _change_load(session, ctx, int(expert), -1)
    for expert in now_held - was:
        if not (
            before.state is lifecycle.State.QUEUED and after.state is lifecycle.State.OFFERED
        ):  # offers count at route()
            _change_load(session, ctx, int(expert), 1)


def system_action(
    uow: UnitOfWork,
    ctx: BrandContext,
    row: TicketRow,
    decision: lifecycle.SweepDecision,
    now: datetime,
) -> None:
    policy, roster = load_policy(uow.session, ctx)
    before = to_rules(row)
    t = _decide(
        before, decision.action, lifecycle.Actor.system(), now, policy, reason=decision.reason
    )
    _persist(uow, ctx, row, t, now, policy)
    _settle_load(uow.session, ctx, before, t.ticket)
    if row.status == "queued":
        route(uow, ctx, row, policy, roster, now)


def post_message(
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    ticket_id: int,
    body: str,
    internal: bool,
    now: datetime,
) -> TicketMessageRow:
    policy, _r = load_policy(uow.session, ctx)
    row, role = visible_ticket(uow, ctx, user, ticket_id, policy, now)
    text = one_line_break(body).strip()
    if not says_something(text, markdown=True):
        raise invalid("body", _("Write a message first."), "required")
    if len(text) > MAX_BODY:
        raise invalid(
            "body", _("Keep the message under %(n)d characters.") % {"n": MAX_BODY}, "too_long"
        )
    if role is lifecycle.Role.EXPERT and row.owner_id != user.id:
        raise AppError(409, "not_owner", _("Claim the ticket before you reply."))
    if internal and role is lifecycle.Role.CUSTOMER:
        raise forbidden(_("Customers cannot write internal notes."), "internal_not_allowed")
    if row.status in ("closed", "deflected"):
        raise AppError(409, "ticket_closed", _("This ticket is closed; open a new one."))
    message = TicketMessageRow(
        brand_id=ctx.brand.id,
        ticket_id=row.id,
        author_id=user.id,
        author_role=role.value,
        body=text,
        body_html=render(text),
        internal=internal,
        created_at=now,
    )
    uow.session.add(message)
    if not internal and role is not lifecycle.Role.CUSTOMER:
        stamped = lifecycle.mark_first_response(
            to_rules(row), lifecycle.Actor(role, str(user.id)), now
        )
        if stamped is not None:
            row.first_response_at = now
            _on_event(uow, ctx, row, stamped[1], now)
    uow.session.flush()
    if not internal and role is not lifecycle.Role.CUSTOMER:
        # A customer away from the site learns of the reply from their notifications and
        # digest, not only from a page left open; one unread notice per ticket is enough.
        url = f"/b/{ctx.brand.slug}/tickets/{row.id}"
        if not notes.has_unread(uow.session, ctx.brand.id, row.customer_id, "ticket_reply", url):
            notes.notify(
                uow.session, ctx.brand.id, [row.customer_id], "ticket_reply",
                {"title": row.subject}, url, now, skip=user.id,
            )  # fmt: skip
    others = {row.customer_id, row.owner_id} - {user.id, None}
    for other in others:
        if internal and other == row.customer_id:
            continue
        uow.publish(LiveNotice(f"user:{other}", "message", {"ticket": row.id}))
    return message


def messages_for(
    session: Session, ctx: BrandContext, row: TicketRow, role: lifecycle.Role
) -> list[tuple[TicketMessageRow, str]]:
    stmt = (
        ctx.scoped(TicketMessageRow, select(TicketMessageRow, User.display_name))
        .join(User, User.id == TicketMessageRow.author_id)
        .where(TicketMessageRow.ticket_id == row.id)
    )
    if role is lifecycle.Role.CUSTOMER:
        stmt = stmt.where(TicketMessageRow.internal.is_(False))
    return [(m, name) for m, name in session.execute(stmt.order_by(TicketMessageRow.id))]


def history(session: Session, ctx: BrandContext, row: TicketRow) -> list[TicketTransitionRow]:
    return list(
        session.scalars(
            ctx.scoped(TicketTransitionRow)
            .where(TicketTransitionRow.ticket_id == row.id)
            .order_by(TicketTransitionRow.id)
        )
    )


def rate(
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    ticket_id: int,
    csat: int,
    nps: int | None,
    comment: str,
    now: datetime,
) -> TicketRatingRow:
    row = get_ticket(uow.session, ctx, ticket_id)
    if row.customer_id != user.id:
        raise not_found(_("There is no such ticket in this brand."), "ticket_not_found")
    decision = lifecycle.decide_rating(
        to_rules(row),
        lifecycle.Actor(lifecycle.Role.CUSTOMER, str(user.id)),
        csat,
        now,
        nps=nps,
        comment=comment,
        already_rated=row.rated,
    )
    if isinstance(decision, lifecycle.Violation):
        raise violation_error(decision)
    result = uow.session.execute(
        update(TicketRow)
        .where(TicketRow.id == row.id, TicketRow.rated.is_(False))
        .values(rated=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AppError(409, "already_rated", _messages()["already_rated"])
    rating = TicketRatingRow(
        brand_id=ctx.brand.id,
        ticket_id=row.id,
        csat=decision.csat,
        nps=decision.nps,
        comment=decision.comment[:2000],
        at=now,
    )
    uow.session.add(rating)
    try:
        uow.session.flush()
    except IntegrityError:
        raise AppError(409, "already_rated", _messages()["already_rated"]) from None
    _on_event(uow, ctx, row, decision.event, now)
    return rating


def list_tickets(
    session: Session,
    ctx: BrandContext,
    user: User,
    status: str | None,
    mine: bool,
    policy: BrandPolicy,
    limit: int = 50,
    after: int | None = None,
) -> list[TicketRow]:
    stmt = ctx.scoped(TicketRow)
    if status:
        stmt = stmt.where(TicketRow.status == status)
    staff = ctx.can("ticket.staff")
    profile: routing.ExpertProfile | None = None
    if "expert" in ctx.roles and (mine or not staff):
        if mine:
            # Two index reads (owner, resolver) rather than OR, which SQLite answered by
            # walking every ticket of the brand: 45 ms at 90,000 tickets for a new expert.
            theirs = union_all(
                select(TicketRow.id).where(
                    TicketRow.brand_id == ctx.brand.id, TicketRow.owner_id == user.id
                ),
                select(TicketRow.id).where(
                    TicketRow.brand_id == ctx.brand.id,
                    TicketRow.resolved_by == user.id,
                    TicketRow.status.in_(RESOLVED_STATES),
                ),
            )
            stmt = stmt.where(TicketRow.id.in_(theirs))
        else:
            # What they work on, and what they asked themselves as the brand's customer.
            visible = or_(TicketRow.owner_id == user.id, TicketRow.customer_id == user.id)
            profile_row = expert_row(session, ctx, user.id)
            expert = _profile(profile_row) if profile_row is not None else None
            # Offline or full: no queued ticket is theirs to take, whatever its skill.
            takes_work = expert is not None and (
                expert.online and expert.load < routing.capacity_of(expert, policy.max_concurrent)
            )
            if policy.routing_mode is not routing.RoutingMode.PUSH and takes_work:
                # The pull queue: queued tickets this expert could take. Skill, language and
                # tier narrow it in SQL; the routing rule below decides (certifications, a
                # skill's own tier), batch after batch until the page is full.
                profile = expert
                assert profile is not None
                visible = or_(
                    visible,
                    and_(
                        TicketRow.status == "queued",
                        TicketRow.skill.in_(sorted(profile.skills)),
                        TicketRow.language.in_(sorted(profile.languages)),
                        TicketRow.required_tier <= profile.tier,
                    ),
                )
            stmt = stmt.where(visible)
    elif not staff or mine:
        stmt = stmt.where(TicketRow.customer_id == user.id)
    stmt = stmt.order_by(TicketRow.id.desc())
    if profile is None:
        return list(
            session.scalars((stmt.where(TicketRow.id < after) if after else stmt).limit(limit))
        )
    rows: list[TicketRow] = []
    size = max(limit, 200)
    for _batch in range(50):  # at most 10,000 queued tickets looked at for one page
        batch = list(
            session.scalars((stmt.where(TicketRow.id < after) if after else stmt).limit(size))
        )
        rows += [
            r for r in batch
            if user.id in (r.owner_id, r.customer_id) or not routing.eligibility(
                profile, _routing_request(r),
                policy.skill(r.skill), policy.max_concurrent,
            )
        ]  # fmt: skip
        if len(rows) >= limit or len(batch) < size:
            return rows[:limit]
        after = batch[-1].id
    return rows[:limit]


def customer_tickets(
    session: Session, ctx: BrandContext, user: User, limit: int = 100, before: int | None = None
) -> list[TicketRow]:
    """The tickets this person asked as the brand's customer, newest first (whatever else
    they do in the brand: an agent or expert asks too); ``before`` a ticket id, the ones
    older than it."""
    stmt = ctx.scoped(TicketRow).where(TicketRow.customer_id == user.id)
    if before is not None:
        stmt = stmt.where(TicketRow.id < before)
    return list(session.scalars(stmt.order_by(TicketRow.id.desc()).limit(limit)))


def owned_tickets(session: Session, ctx: BrandContext, user: User) -> list[TicketRow]:
    """The tickets this expert is working on now (claimed or reopened), newest first: all of
    them, however many they resolved since (at most their capacity)."""
    return list(
        session.scalars(
            ctx.scoped(TicketRow)
            .where(TicketRow.owner_id == user.id, TicketRow.status.in_(("claimed", "reopened")))
            .order_by(TicketRow.id.desc())
        )
    )


def open_offers(session: Session, ctx: BrandContext, user: User, now: datetime) -> list[TicketRow]:
    return list(
        session.scalars(
            ctx.scoped(TicketRow)
            .where(
                TicketRow.status == "offered",
                TicketRow.offered_to == user.id,
                TicketRow.offer_expires_at > now,
            )
            .order_by(TicketRow.offer_expires_at)
        )
    )


@dataclass(frozen=True)
class EarningLine:
    ticket_id: int | None  # None for a payout, whose ``subject`` is its reference
    subject: str
    amount: Money
    kind: str
    at: datetime


@dataclass(frozen=True)
class Earnings:
    lines: list[EarningLine]  # one page, newest first
    totals: dict[str, Money]  # earned: earnings less reversals, over every posting
    hourly: dict[str, Money]
    next_before: int | None = None  # the posting id the next (older) page starts below
    paid: dict[str, Money] = field(default_factory=dict)  # what the brand recorded paying
    owed: dict[str, Money] = field(default_factory=dict)  # earned − paid


def earnings(
    session: Session, ctx: BrandContext, user: User, limit: int = 200, before: int | None = None
) -> Earnings:
    """An expert's postings ``limit`` at a time, newest first (``before``: the id the previous
    page ended with; ``limit=0`` for the totals alone, as the workspace shows them), with the
    totals and the effective hourly rate over all of them. The totals are the expert's
    running balance (``payee_balances``), the rate their running work totals
    (``work_totals``): a row per currency, whatever their history. Before, every view — the
    workspace included — summed all their postings and read every paid ticket's times, as
    :func:`earnings_from_ledger` still does (the truth these equal)."""
    account = pay.expert_earnings_account(str(user.id))
    mine = ctx.scoped(LedgerPosting).where(LedgerPosting.account == account)
    page_rows: list[LedgerPosting] = []
    if limit > 0:
        stmt = mine if before is None else mine.where(LedgerPosting.id < before)
        page_rows = list(session.scalars(stmt.order_by(LedgerPosting.id.desc()).limit(limit)))
    totals: dict[str, Money] = {}
    paid: dict[str, Money] = {}
    owed: dict[str, Money] = {}
    b = PayeeBalanceRow
    for cur, earned, paid_minor in session.execute(
        ctx.scoped(b, select(b.currency, b.earned_minor, b.paid_minor))
        .where(b.account == account)
        .order_by(b.currency)
    ):
        totals[cur] = Money(int(earned), cur)
        owed[cur] = Money(int(earned) - int(paid_minor), cur)
        if paid_minor:  # only a currency the brand paid in (a payout is never zero)
            paid[cur] = Money(int(paid_minor), cur)
    w = WorkTotalRow
    sums = {
        cur: (int(minor), int(micros), int(n))
        for cur, minor, micros, n in session.execute(
            ctx.scoped(w, select(w.currency, w.earned_minor, w.counted_us, w.tickets)).where(
                w.account == account
            )
        )
    }
    lines = _earning_lines(session, ctx, user, page_rows)
    return Earnings(
        lines,
        totals,
        {cur: rate.per_hour for cur, rate in pay.hourly_from_sums(sums).items()},
        page_rows[-1].id if limit > 0 and len(page_rows) == limit else None,
        paid,
        owed,
    )


@dataclass(frozen=True)
class LedgerEarnings:
    totals: dict[str, Money]
    paid: dict[str, Money]
    owed: dict[str, Money]
    hourly: dict[str, Money]


def earnings_from_ledger(session: Session, ctx: BrandContext, user_id: int) -> LedgerEarnings:
    """An expert's totals and hourly rate summed from their whole history — every posting,
    every paid ticket's times, the history of the reopened ones — as :func:`earnings` did on
    every view before the running sums: the truth they must equal (tests, checks)."""
    account = pay.expert_earnings_account(str(user_id))
    totals: dict[str, Money] = {}
    paid: dict[str, Money] = {}
    owed: dict[str, Money] = {}
    for cur, kind, minor in session.execute(
        ctx.scoped(
            LedgerPosting,
            select(
                LedgerPosting.currency, LedgerPosting.kind, func.sum(LedgerPosting.amount_minor)
            ),
        )
        .where(LedgerPosting.account == account)
        .group_by(LedgerPosting.currency, LedgerPosting.kind)
    ):
        amount = Money(int(minor), cur)
        owed[cur] = owed.get(cur, Money.zero(cur)) + amount
        if kind == "payout":  # a debit of the expert's account: the brand paid them
            paid[cur] = paid.get(cur, Money.zero(cur)) - amount
            totals.setdefault(cur, Money.zero(cur))
        else:
            totals[cur] = totals.get(cur, Money.zero(cur)) + amount
    return LedgerEarnings(totals, paid, owed, _hourly(session, ctx, account))


def _tickets_by_id(
    session: Session, ctx: BrandContext, ids: Iterable[int], *cols: Any
) -> dict[int, Any]:
    """Rows of ``cols`` (and the id) of the brand's tickets ``ids``, by primary key a thousand
    at a time. (A join on correlation_key = CAST(tickets.id AS text) read every ticket for
    each posting: no index matches a cast.)"""
    wanted = sorted(set(ids))
    out: dict[int, Any] = {}
    for start in range(0, len(wanted), 1000):
        for r in session.execute(
            select(TicketRow.id, *cols).where(
                TicketRow.brand_id == ctx.brand.id, TicketRow.id.in_(wanted[start : start + 1000])
            )
        ):
            out[r.id] = r
    return out


def _earning_lines(
    session: Session, ctx: BrandContext, user: User, postings: list[LedgerPosting]
) -> list[EarningLine]:
    keyed = [(n, p) for p in postings if (n := ascii_int(p.correlation_key)) is not None]
    payouts = {
        p.id: EarningLine(
            None,
            p.idempotency_key.removeprefix(f"payout:{p.account}:"),
            Money(p.amount_minor, p.currency),
            p.kind,
            p.at,
        )
        for p in postings
        if p.kind == "payout"
    }
    if not keyed:
        return list(payouts.values())
    tickets = _tickets_by_id(
        session, ctx, (n for n, _p in keyed), TicketRow.subject, TicketRow.customer_fields
    )
    policy, _roster = load_policy(session, ctx)
    allowed = unmasked_fields(session, ctx, user, lifecycle.Role.EXPERT, policy)
    lines = dict(payouts)
    for ticket_id, posting in keyed:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            continue
        subject = (
            ticket.subject
            if allowed is None
            else masking.mask_quoted(ticket.subject, ticket.customer_fields or {}, allowed)
        )
        amount = Money(posting.amount_minor, posting.currency)
        lines[posting.id] = EarningLine(ticket_id, subject, amount, posting.kind, posting.at)
    return [lines[p.id] for p in postings if p.id in lines]  # newest first, as read


def _hourly(session: Session, ctx: BrandContext, account: str) -> dict[str, Money]:
    """The effective hourly rate over every earning not reversed (a reversed earning — the
    ticket ended with staff — is not pay for that time), from the time each ticket was worked."""
    earned: dict[int, Money] = {}
    reversed_: set[int] = set()
    for key, kind, minor, currency in session.execute(
        ctx.scoped(
            LedgerPosting,
            select(
                LedgerPosting.correlation_key,
                LedgerPosting.kind,
                LedgerPosting.amount_minor,
                LedgerPosting.currency,
            ),
        ).where(LedgerPosting.account == account)
    ):
        n = ascii_int(key)
        if n is None:
            continue
        if kind == "reversal":
            reversed_.add(n)
        elif kind == "earning":
            earned[n] = Money(minor, currency)
    for n in reversed_:
        earned.pop(n, None)
    times = _tickets_by_id(session, ctx, earned, TicketRow.claimed_at, TicketRow.resolved_at)
    work = {
        n: pay.WorkItem(amount, t.claimed_at, t.resolved_at)
        for n, amount in earned.items()
        if (t := times.get(n)) is not None
        and t.claimed_at is not None
        and t.resolved_at is not None
    }
    for ticket_id, periods in _reworked(session, ctx, sorted(work)).items():
        work[ticket_id] = replace(work[ticket_id], periods=periods)
    rates = pay.effective_hourly_rate(work.values()) if work else {}
    return {cur: rate.per_hour for cur, rate in rates.items()}


def _reworked(
    session: Session, ctx: BrandContext, ids: list[int]
) -> dict[int, tuple[tuple[datetime, datetime], ...]]:
    """The stretches each reopened ticket among ``ids`` was worked: claim → resolution and
    reopen → resolution again, not the days it sat resolved until its customer reopened it.
    (Tickets never reopened keep claim → resolution; only the reopened ones are read.)"""
    out: dict[int, tuple[tuple[datetime, datetime], ...]] = {}
    t = TicketTransitionRow
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        reopened = select(t.ticket_id).where(
            t.brand_id == ctx.brand.id, t.ticket_id.in_(chunk), t.action == "reopen"
        )
        steps: dict[int, list[tuple[str, datetime]]] = {}
        for ticket_id, action, at in session.execute(
            select(t.ticket_id, t.action, t.at)
            .where(t.brand_id == ctx.brand.id, t.ticket_id.in_(reopened))
            .order_by(t.id)
        ):
            steps.setdefault(ticket_id, []).append((action, at))
        for ticket_id, history in steps.items():
            periods = pay.worked_periods(history)
            if periods:
                out[ticket_id] = periods
    return out


# The actions that can change what a paid ticket counts in its expert's hourly rate: its
# times (claimed_at, resolved_at), its worked stretches (pay.WORK_STARTS / WORK_ENDS), its
# earning (resolve) and the earning's reversal (escalate).
_WORK_ACTIONS = frozenset({"claim", *pay.WORK_STARTS, *pay.WORK_ENDS})
WorkKey = tuple[int, str]  # (ticket id, expert account)


def _earning_postings(ctx: BrandContext) -> Any:
    """The brand's earnings and reversals as :func:`_unreversed` reads them."""
    p = LedgerPosting
    return ctx.scoped(
        p, select(p.account, p.kind, p.correlation_key, p.amount_minor, p.currency)
    ).where(p.kind.in_(("earning", "reversal")))


def _unreversed(rows: Iterable[Any]) -> dict[WorkKey, Money]:
    """Each expert earning not reversed, from postings (account, kind, correlation key,
    minor, currency), as :func:`_hourly` reads them for one account."""
    earned: dict[WorkKey, Money] = {}
    reversed_: set[WorkKey] = set()
    for account, kind, key, minor, currency in rows:
        n = ascii_int(key)
        payee = pay.payee_of(account)
        if n is None or payee is None or payee.kind != "expert":
            continue
        if kind == "reversal":
            reversed_.add((n, account))
        elif kind == "earning":
            earned[(n, account)] = Money(int(minor), currency)
    for k in reversed_:
        earned.pop(k, None)
    return earned


def _work_truth(
    session: Session, ctx: BrandContext, earned: Mapping[WorkKey, Money]
) -> dict[WorkKey, tuple[str, int, int]]:
    """(currency, earned minor, counted µs) of each earning that counts in the hourly rate
    — its ticket claimed and resolved — from the tickets' times and the reopened ones'
    history, as :func:`_hourly` reads them."""
    if not earned:
        return {}
    times = _tickets_by_id(
        session, ctx, {n for n, _a in earned}, TicketRow.claimed_at, TicketRow.resolved_at
    )
    items: dict[WorkKey, pay.WorkItem] = {}
    for (n, account), amount in earned.items():
        t = times.get(n)
        if t is not None and t.claimed_at is not None and t.resolved_at is not None:
            items[(n, account)] = pay.WorkItem(amount, t.claimed_at, t.resolved_at)
    reworked = _reworked(session, ctx, sorted({n for n, _a in items}))
    out: dict[WorkKey, tuple[str, int, int]] = {}
    for (n, account), item in items.items():
        if n in reworked:
            item = replace(item, periods=reworked[n])
        out[(n, account)] = (item.earned.currency, item.earned.minor, item.counted_us)
    return out


def _mend_work(
    session: Session,
    ctx: BrandContext,
    truth: Mapping[WorkKey, tuple[str, int, int]],
    stored_rows: Iterable[PaidWorkRow],
    dry_run: bool = False,
) -> tuple[money.WorkMoves, int]:
    """Make the ``paid_work`` rows ``stored_rows`` equal ``truth``: the moves that keeps
    their totals equal, and how many rows it wrote (or would write, ``dry_run``)."""
    stored = {(r.ticket_id, r.account): r for r in stored_rows}
    moves: money.WorkMoves = {}

    def move(account: str, currency: str, sign: int, minor: int, micros: int) -> None:
        m, us, n = moves.get((account, currency), (0, 0, 0))
        moves[(account, currency)] = (m + sign * minor, us + sign * micros, n + sign)

    mended = 0
    for (ticket_id, account), (currency, minor, micros) in truth.items():
        row = stored.pop((ticket_id, account), None)
        if row is not None and (row.currency, row.earned_minor, row.counted_us) == (
            currency, minor, micros,
        ):  # fmt: skip
            continue
        mended += 1
        if row is not None:
            move(row.account, row.currency, -1, row.earned_minor, row.counted_us)
            if not dry_run:
                row.currency, row.earned_minor, row.counted_us = currency, minor, micros
        elif not dry_run:
            session.add(PaidWorkRow(brand_id=ctx.brand.id, ticket_id=ticket_id, account=account,
                                    currency=currency, earned_minor=minor,
                                    counted_us=micros))  # fmt: skip
        move(account, currency, 1, minor, micros)
    for row in stored.values():  # no longer counted: reversed
        mended += 1
        move(row.account, row.currency, -1, row.earned_minor, row.counted_us)
        if not dry_run:
            session.delete(row)
    return moves, mended


def _refresh_work(session: Session, ctx: BrandContext, ticket_id: int) -> None:
    """After a transition of a ticket once resolved: what it counts in its expert's hourly
    rate, read again from its postings, times and history, and the difference moved into
    their running work totals — in the transition's transaction (a reopened ticket worked
    again counts its new stretch; a reversed one no longer counts, amount and time)."""
    rows = session.execute(
        _earning_postings(ctx).where(LedgerPosting.correlation_key == str(ticket_id))
    )
    truth = _work_truth(session, ctx, _unreversed(rows))
    stored = session.scalars(ctx.scoped(PaidWorkRow).where(PaidWorkRow.ticket_id == ticket_id))
    moves, _mended = _mend_work(session, ctx, truth, list(stored))
    money.move_work(session, ctx.brand.id, moves)


def rebuild_work(
    session: Session, ctx: BrandContext, *, dry_run: bool = False
) -> money.BalanceRepair:
    """Make the brand's paid work (``paid_work``) and its sums (``work_totals``) equal the
    ledger and the tickets (``crowdcx rebuild-balances``). Transitions wait meanwhile (as in
    :func:`crowdcx.payouts.service.rebuild_balances`). ``lines`` counts the sums (payee and
    currency) the truth gives; ``mended`` the rows of both tables written, added or removed."""
    money.hold_for_rebuild(session, "paid_work, work_totals")
    rows = session.execute(
        _earning_postings(ctx).where(LedgerPosting.account.like("expert:%:earnings"))
    )
    truth = _work_truth(session, ctx, _unreversed(rows))
    stored = list(session.scalars(ctx.scoped(PaidWorkRow)))
    _moves, mended = _mend_work(session, ctx, truth, stored, dry_run)
    sums: dict[tuple[str, str], tuple[int, int, int]] = {}
    for (_ticket, account), (currency, minor, micros) in truth.items():
        m, us, n = sums.get((account, currency), (0, 0, 0))
        sums[(account, currency)] = (m + minor, us + micros, n + 1)
    for total in session.scalars(ctx.scoped(WorkTotalRow)):
        want = sums.pop((total.account, total.currency), (0, 0, 0))
        if (total.earned_minor, total.counted_us, total.tickets) == want:
            continue
        mended += 1
        if not dry_run:
            total.earned_minor, total.counted_us, total.tickets = want
    for (account, currency), (minor, micros, n) in sorted(sums.items()):
        mended += 1
        if not dry_run:
            session.add(WorkTotalRow(brand_id=ctx.brand.id, account=account, currency=currency,
                                     earned_minor=minor, counted_us=micros,
                                     tickets=n))  # fmt: skip
    return money.BalanceRepair(len({(a, c) for (_t, a), (c, _m, _u) in truth.items()}), mended)


def ledger(
    session: Session, ctx: BrandContext, limit: int = 200, before: int | None = None
) -> tuple[list[LedgerPosting], dict[str, int]]:
    """The brand's postings, newest first, ``limit`` at a time (``before``: the id the previous
    page ended with), and the balance per currency over all of them."""
    stmt = ctx.scoped(LedgerPosting)
    if before is not None:
        stmt = stmt.where(LedgerPosting.id < before)
    rows = list(session.scalars(stmt.order_by(LedgerPosting.id.desc()).limit(limit)))
    balance = dict(
        session.execute(
            ctx.scoped(
                LedgerPosting, select(LedgerPosting.currency, func.sum(LedgerPosting.amount_minor))
            ).group_by(LedgerPosting.currency)
        ).all()
    )
    return rows, {k: int(v) for k, v in balance.items()}


def access_log(
    session: Session, ctx: BrandContext, limit: int = 200, before: int | None = None
) -> list[tuple[AccessLogRow, str]]:
    """The newest ``limit`` entries (older than entry ``before``: the next page)."""
    stmt = (
        ctx.scoped(AccessLogRow, select(AccessLogRow, User.display_name))
        .join(User, User.id == AccessLogRow.viewer_id)
        .order_by(AccessLogRow.id.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(AccessLogRow.id < before)
    return [(r, n) for r, n in session.execute(stmt)]


def quote_decimal(row: TicketRow) -> Decimal:
    return Money(row.quote_minor, row.currency).to_decimal()


def clear_caches() -> None:
    """Forget cached policies, candidate pools and load snapshots (tests and tools that
    recreate a database under the same URL call this)."""
    with _cache_lock:
        _policy_cache.clear()
        _pools.clear()
        _loads.clear()
