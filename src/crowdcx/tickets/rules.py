"""Pure rules of the inquiry lifecycle: the ticket state machine, the SLA clock, auto-close.

Functional core. Every function takes plain frozen values (the ticket, the actor, ``now`` and
the brand's policy) and returns a decision: a :class:`Transition` (the new ticket, the record
to append to the history and the events to publish after commit) or a :class:`Violation`.
Nothing here loads, saves or reads settings; the service enforces these rules on every write.

The transition table (:data:`TRANSITIONS`) is the single source of truth: the API, the pages,
the sweeper and the tests all ask :func:`decide_transition`, and
:func:`allowed_actions` derives the buttons a person sees from the same table.

Ownership: a ticket has at most one ``owner_id`` (an expert or an agent). It is set exactly in
the states of :data:`OWNED_STATES`, and a claim is only accepted from an unowned state, so two
claimers of the same ticket version can never both win. (The service still performs the claim
as a conditional update on the version it read; the rule decides, the database arbitrates.)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# --------------------------------------------------------------------------------------------
# Shared value: a rule violation, returned as data
# --------------------------------------------------------------------------------------------

ViolationKind = Literal["conflict", "invalid", "forbidden"]


@dataclass(frozen=True, slots=True)
class Violation:
    """Why a decision was refused. ``code`` is stable API contract; ``message`` is English prose
    for logs and tests (the shell translates by code); ``kind`` suggests the HTTP mapping:
    conflict → 409, invalid → 422, forbidden → 403/404."""

    code: str
    message: str
    field: str | None = None
    kind: ViolationKind = "conflict"
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        return dict(self.params).get(name)


# --------------------------------------------------------------------------------------------
# States, actions, actors
# --------------------------------------------------------------------------------------------


class State(StrEnum):
    CREATED = "created"
    QUEUED = "queued"
    OFFERED = "offered"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ESCALATED = "escalated"
    REOPENED = "reopened"
    DEFLECTED = "deflected"


class Action(StrEnum):
    SUBMIT = "submit"  # created → queued (intake finished: language detected, suggestions shown)
    OFFER = "offer"  # queued → offered to one expert, with an expiry (push routing)
    DECLINE = "decline"  # offered → queued, by the offered expert
    EXPIRE = "expire"  # offered → queued, by the sweeper once the offer has run out
    CLAIM = "claim"  # offered (by the offered expert) or queued (pull) → claimed
    RESOLVE = "resolve"  # claimed/reopened → resolved by the owner; escalated → resolved by staff
    ESCALATE = "escalate"  # to the brand's staff queue, with a reason
    CONFIRM = "confirm"  # resolved → closed, by the customer
    AUTO_CLOSE = "auto_close"  # resolved → closed, by the sweeper after the brand's delay
    REOPEN = "reopen"  # resolved → reopened, by the customer
    DEFLECT = "deflect"  # a suggestion solved it: created/queued/offered → deflected


class Role(StrEnum):
    CUSTOMER = "customer"
    EXPERT = "expert"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    role: Role
    id: str

    @classmethod
    def system(cls, name: str = "sweeper") -> Actor:
        return cls(Role.SYSTEM, name)


OWNED_STATES: Final = frozenset({State.CLAIMED, State.RESOLVED, State.REOPENED})
TERMINAL_STATES: Final = frozenset({State.CLOSED, State.DEFLECTED})
OPEN_STATES: Final = frozenset(State) - TERMINAL_STATES - {State.RESOLVED}

_C, _E, _A, _S = Role.CUSTOMER, Role.EXPERT, Role.AGENT, Role.SYSTEM

# (from state, action) → (to state, roles that may take it). Ownership and time guards are in
# ``_guard``; anything absent from this table is an illegal transition.
TRANSITIONS: Final[Mapping[tuple[State, Action], tuple[State, frozenset[Role]]]] = {
    (State.CREATED, Action.SUBMIT): (State.QUEUED, frozenset({_C, _A, _S})),
    (State.CREATED, Action.DEFLECT): (State.DEFLECTED, frozenset({_C})),
    (State.QUEUED, Action.OFFER): (State.OFFERED, frozenset({_S})),
    (State.QUEUED, Action.CLAIM): (State.CLAIMED, frozenset({_E})),
    (State.QUEUED, Action.ESCALATE): (State.ESCALATED, frozenset({_A, _S})),
    (State.QUEUED, Action.DEFLECT): (State.DEFLECTED, frozenset({_C})),
    (State.OFFERED, Action.CLAIM): (State.CLAIMED, frozenset({_E})),
    (State.OFFERED, Action.DECLINE): (State.QUEUED, frozenset({_E})),
    (State.OFFERED, Action.EXPIRE): (State.QUEUED, frozenset({_S})),
    (State.OFFERED, Action.ESCALATE): (State.ESCALATED, frozenset({_A, _S})),
    (State.OFFERED, Action.DEFLECT): (State.DEFLECTED, frozenset({_C})),
    (State.CLAIMED, Action.RESOLVE): (State.RESOLVED, frozenset({_E})),
    (State.CLAIMED, Action.ESCALATE): (State.ESCALATED, frozenset({_E, _A, _S})),
    (State.ESCALATED, Action.RESOLVE): (State.RESOLVED, frozenset({_A})),
    (State.RESOLVED, Action.CONFIRM): (State.CLOSED, frozenset({_C})),
    (State.RESOLVED, Action.AUTO_CLOSE): (State.CLOSED, frozenset({_S})),
    (State.RESOLVED, Action.REOPEN): (State.REOPENED, frozenset({_C})),
    (State.REOPENED, Action.RESOLVE): (State.RESOLVED, frozenset({_E, _A})),
    (State.REOPENED, Action.ESCALATE): (State.ESCALATED, frozenset({_E, _A, _S})),
}


# --------------------------------------------------------------------------------------------
# Policy values the lifecycle needs (composed into BrandPolicy by crowdcx.tickets.policy)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    offer_timeout_s: int = 120
    auto_close_after_s: int = 72 * 3600
    max_rings: int = 5


DEFAULT_LIFECYCLE: Final = LifecyclePolicy()


@dataclass(frozen=True, slots=True)
class Window:
    """One opening window on a weekday (0 = Monday), local wall-clock time, end exclusive.
    ``end`` of ``time(0)`` means midnight at the end of the day."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class BusinessHours:
    timezone: str
    windows: tuple[Window, ...]


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Targets in seconds of (business) time. ``at_risk_ratio``: a target is at risk once this
    share of its allowance is used up. ``business_hours`` None means the clock runs 24/7."""

    first_response_s: int = 4 * 3600
    resolution_s: int = 24 * 3600
    business_hours: BusinessHours | None = None
    at_risk_ratio: float = 0.8


DEFAULT_SLA: Final = SlaPolicy()


# --------------------------------------------------------------------------------------------
# The ticket value, the record of a transition, events
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the rules need to know about a ticket (the service maps its row to this)."""

    id: str
    customer_id: str
    state: State
    created_at: datetime  # when the ticket was written
    owner_id: str | None = None
    owner_role: Role | None = None
    offered_to: str | None = None
    offer_expires_at: datetime | None = None
    rung: tuple[str, ...] = ()  # experts offered this ticket so far, in order
    escalated: bool = False  # staff took it over in the current resolution cycle
    claimed_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolved_by_role: Role | None = None
    # When the customer last reopened it: the resolution target runs again from there.
    reopened_at: datetime | None = None
    # When the case began, if before the ticket was written: a community question escalated
    # into a ticket began when it was asked. The SLA clocks run from :func:`case_start`.
    case_started_at: datetime | None = None
    # The first community answer to the question the ticket was escalated from (not the
    # asker's own): the case got a first response. Kept apart from ``first_response_at``,
    # the owning expert's or staff's own reply, which routing's response-time statistics
    # read; the first-response target is met by either (:func:`first_response_met_at`).
    community_response_at: datetime | None = None
    version: int = 0  # the service's optimistic-concurrency column


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    ticket_id: str
    from_state: State
    to_state: State
    action: Action
    actor_role: Role
    actor_id: str
    at: datetime
    reason: str = ""


# Events: plain values, published after commit. Reputation and payouts subscribe to them.
@dataclass(frozen=True, slots=True)
class OfferMade:
    ticket_id: str
    expert_id: str
    expires_at: datetime
    ring: int


@dataclass(frozen=True, slots=True)
class OfferDeclined:
    ticket_id: str
    expert_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OfferExpired:
    ticket_id: str
    expert_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketClaimed:
    ticket_id: str
    expert_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class FirstResponded:
    ticket_id: str
    responder_id: str
    seconds_since_claim: float | None
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketEscalated:
    ticket_id: str
    by_role: Role
    by_id: str
    from_expert_id: str | None  # the expert who held it, if any (counts as not resolved)
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketResolved:
    ticket_id: str
    resolver_id: str
    resolver_role: Role
    escalated: bool
    claimed_at: datetime | None
    at: datetime

    @property
    def expert_id(self) -> str | None:
        return self.resolver_id if self.resolver_role is Role.EXPERT else None

    @property
    def earning_due(self) -> bool:
        """An expert resolved it without staff: one earning (idempotent per ticket)."""
        return self.resolver_role is Role.EXPERT and not self.escalated


@dataclass(frozen=True, slots=True)
class EarningReversalDue:
    """A ticket an expert was paid for was reopened and went to staff."""

    ticket_id: str
    expert_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketReopened:
    ticket_id: str
    previously_resolved_by: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketClosed:
    ticket_id: str
    automatically: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketDeflected:
    ticket_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CsatReceived:
    ticket_id: str
    expert_id: str | None  # None when staff resolved it
    csat: int
    nps: int | None
    at: datetime


TicketEvent = (
    OfferMade
    | OfferDeclined
    | OfferExpired
    | TicketClaimed
    | FirstResponded
    | TicketEscalated
    | TicketResolved
    | EarningReversalDue
    | TicketReopened
    | TicketClosed
    | TicketDeflected
    | CsatReceived
)


@dataclass(frozen=True, slots=True)
class Transition:
    ticket: Ticket
    record: TransitionRecord
    events: tuple[TicketEvent, ...] = field(default=())


# --------------------------------------------------------------------------------------------
# Deciding a transition
# --------------------------------------------------------------------------------------------


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _illegal(ticket: Ticket, action: Action) -> Violation:
    return Violation(
        "illegal_transition",
        f"cannot {action.value} a ticket that is {ticket.state.value}",
        field="status",
        params=(("state", ticket.state.value), ("action", action.value)),
    )


def _guard(
    ticket: Ticket,
    action: Action,
    actor: Actor,
    now: datetime,
    policy: LifecyclePolicy,
    target: str | None,
) -> Violation | None:
    """Ownership, offer and time conditions beyond the table."""
    state = ticket.state
    if action is Action.SUBMIT and actor.role is Role.CUSTOMER and actor.id != ticket.customer_id:
        return Violation("not_your_ticket", "only the asking customer may submit", kind="forbidden")
    if action in (Action.DEFLECT, Action.CONFIRM, Action.REOPEN) and actor.id != ticket.customer_id:
        return Violation(
            "not_your_ticket", "only the asking customer may do that", kind="forbidden"
        )
    if action is Action.OFFER:
        if not target:
            return Violation("offer_target_missing", "an offer needs an expert", kind="invalid")
        if target in ticket.rung:
            return Violation(
                "already_rung",
                "this expert was already offered this ticket",
                params=(("expert_id", target),),
            )
        if len(ticket.rung) >= policy.max_rings:
            return Violation(
                "max_rings_reached",
                f"offered {len(ticket.rung)} times without a taker; escalate instead",
                params=(("rings", str(len(ticket.rung))),),
            )
    if action is Action.DECLINE and actor.id != ticket.offered_to:
        return Violation("not_your_offer", "this offer was made to someone else")
    if action is Action.EXPIRE and (
        ticket.offer_expires_at is None or now < ticket.offer_expires_at
    ):
        return Violation("offer_not_expired", "the offer has not run out yet")
    if action is Action.CLAIM and state is State.OFFERED:
        if actor.id != ticket.offered_to:
            return Violation("not_your_offer", "this ticket is offered to someone else")
        if ticket.offer_expires_at is not None and now >= ticket.offer_expires_at:
            return Violation("offer_expired", "the offer has run out")
    resolving_owned = action is Action.RESOLVE and state in (State.CLAIMED, State.REOPENED)
    # Staff work as a team: a ticket staff resolved and the customer reopened is in the staff
    # queue, and any agent may take it up (resolving makes them its one owner). An expert's
    # ticket stays theirs.
    staff_reopened = (
        state is State.REOPENED and ticket.owner_role is Role.AGENT and actor.role is Role.AGENT
    )
    owner = actor.id == ticket.owner_id and actor.role is ticket.owner_role
    if resolving_owned and not owner and not staff_reopened:
        return Violation("not_owner", "only the ticket's owner may resolve it")
    if action is Action.ESCALATE and actor.role is Role.EXPERT and actor.id != ticket.owner_id:
        return Violation("not_owner", "only the ticket's owner may escalate it")
    staff_reescalating = state is State.REOPENED and ticket.owner_role is Role.AGENT
    if action is Action.ESCALATE and actor.role is Role.AGENT and staff_reescalating:
        return Violation("already_with_staff", "staff already own this ticket")
    if action is Action.AUTO_CLOSE:
        due = auto_close_due(ticket, policy)
        if due is None or now < due:
            return Violation("auto_close_not_due", "the auto-close delay has not passed yet")
    return None


def decide_transition(
    ticket: Ticket,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    policy: LifecyclePolicy = DEFAULT_LIFECYCLE,
    target: str | None = None,
    reason: str = "",
) -> Transition | Violation:
    """Decide whether ``actor`` may take ``action`` on ``ticket`` at ``now``.

    ``target`` is the expert an OFFER goes to; ``reason`` is recorded (required in spirit for
    ESCALATE). Eligibility of the claiming expert (skill, tier, capacity) is the routing rules'
    business: the service asks :func:`crowdcx.routing.rules.eligibility` before a pull claim.
    """
    _require_aware(now)
    entry = TRANSITIONS.get((ticket.state, action))
    if entry is None:
        return _illegal(ticket, action)
    to_state, roles = entry
    if actor.role not in roles:
        return Violation(
            "actor_not_allowed",
            f"a {actor.role.value} cannot {action.value} a ticket that is {ticket.state.value}",
            kind="forbidden",
            params=(("role", actor.role.value), ("action", action.value)),
        )
    problem = _guard(ticket, action, actor, now, policy, target)
    if problem is not None:
        return problem

    new, events = _apply(ticket, action, actor, now, policy, target, reason)
    new = replace(new, state=to_state, version=ticket.version + 1)
    record = TransitionRecord(
        ticket_id=ticket.id,
        from_state=ticket.state,
        to_state=to_state,
        action=action,
        actor_role=actor.role,
        actor_id=actor.id,
        at=now,
        reason=reason,
    )
    return Transition(ticket=new, record=record, events=events)


def _clear_offer(ticket: Ticket) -> Ticket:
    return replace(ticket, offered_to=None, offer_expires_at=None)


def _apply(
    t: Ticket,
    action: Action,
    actor: Actor,
    now: datetime,
    policy: LifecyclePolicy,
    target: str | None,
    reason: str,
) -> tuple[Ticket, tuple[TicketEvent, ...]]:
    if action is Action.OFFER:
        assert target is not None
        expires = now + timedelta(seconds=policy.offer_timeout_s)
        new = replace(t, offered_to=target, offer_expires_at=expires, rung=(*t.rung, target))
        return new, (OfferMade(t.id, target, expires, len(new.rung)),)
    if action is Action.DECLINE:
        return _clear_offer(t), (OfferDeclined(t.id, actor.id, now),)
    if action is Action.EXPIRE:
        assert t.offered_to is not None
        return _clear_offer(t), (OfferExpired(t.id, t.offered_to, now),)
    if action is Action.CLAIM:
        new = replace(_clear_offer(t), owner_id=actor.id, owner_role=actor.role, claimed_at=now)
        return new, (TicketClaimed(t.id, actor.id, now),)
    if action is Action.ESCALATE:
        from_expert = t.owner_id if t.owner_role is Role.EXPERT else None
        new = replace(_clear_offer(t), owner_id=None, owner_role=None, escalated=True)
        events: list[TicketEvent] = [
            TicketEscalated(t.id, actor.role, actor.id, from_expert, reason, now)
        ]
        paid_before = (
            t.state is State.REOPENED and t.resolved_by_role is Role.EXPERT and not t.escalated
        )
        if paid_before and t.resolved_by is not None:
            events.append(EarningReversalDue(t.id, t.resolved_by, now))
        return new, tuple(events)
    if action is Action.RESOLVE:
        new = replace(
            t,
            owner_id=actor.id,
            owner_role=actor.role,
            resolved_at=now,
            resolved_by=actor.id,
            resolved_by_role=actor.role,
        )
        return new, (TicketResolved(t.id, actor.id, actor.role, t.escalated, t.claimed_at, now),)
    if action is Action.REOPEN:
        return replace(t, reopened_at=now), (TicketReopened(t.id, t.resolved_by, now),)
    if action in (Action.CONFIRM, Action.AUTO_CLOSE):
        new = replace(t, owner_id=None, owner_role=None)
        return new, (TicketClosed(t.id, action is Action.AUTO_CLOSE, now),)
    if action is Action.DEFLECT:
        return _clear_offer(t), (TicketDeflected(t.id, now),)
    return t, ()  # SUBMIT


def allowed_actions(
    ticket: Ticket, actor: Actor, now: datetime, policy: LifecyclePolicy = DEFAULT_LIFECYCLE
) -> frozenset[Action]:
    """The actions ``actor`` could take now (OFFER excluded: it needs a target)."""
    return frozenset(
        action
        for (state, action) in TRANSITIONS
        if state is ticket.state
        and action is not Action.OFFER
        and isinstance(decide_transition(ticket, action, actor, now, policy=policy), Transition)
    )


def check_invariants(ticket: Ticket) -> list[Violation]:
    """What must hold for every ticket the rules produce (used by tests and by the service's
    consistency check)."""
    found: list[Violation] = []
    if not isinstance(ticket.state, State):
        found.append(Violation("undefined_state", f"state {ticket.state!r} is not defined"))
    owned = ticket.owner_id is not None
    if owned != (ticket.state in OWNED_STATES):
        found.append(Violation("owner_mismatch", f"owner {ticket.owner_id!r} in {ticket.state}"))
    if owned != (ticket.owner_role is not None):
        found.append(Violation("owner_role_mismatch", "owner and owner role disagree"))
    offered = ticket.offered_to is not None
    if offered != (ticket.state is State.OFFERED):
        found.append(
            Violation("offer_mismatch", f"offer to {ticket.offered_to!r} in {ticket.state}")
        )
    if offered and ticket.offered_to not in ticket.rung:
        found.append(Violation("offer_not_rung", "the offered expert is not in the ring list"))
    if len(set(ticket.rung)) != len(ticket.rung):
        found.append(Violation("rung_twice", "an expert was offered the same ticket twice"))
    return found


def mark_first_response(
    ticket: Ticket, actor: Actor, now: datetime
) -> tuple[Ticket, FirstResponded] | None:
    """Stamp the first public reply by the owning expert or by staff; None when nothing
    changes (already stamped, a customer or another expert writing, an internal note is the
    service's business: call this only for public replies)."""
    _require_aware(now)
    if ticket.first_response_at is not None or actor.role not in (Role.EXPERT, Role.AGENT):
        return None
    if actor.role is Role.EXPERT and actor.id != ticket.owner_id:
        return None
    since = (now - ticket.claimed_at).total_seconds() if ticket.claimed_at else None
    return replace(ticket, first_response_at=now), FirstResponded(ticket.id, actor.id, since, now)


# --------------------------------------------------------------------------------------------
# Rating
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rating:
    ticket_id: str
    csat: int
    nps: int | None
    comment: str
    at: datetime
    event: CsatReceived


def decide_rating(
    ticket: Ticket,
    actor: Actor,
    csat: int,
    now: datetime,
    *,
    nps: int | None = None,
    comment: str = "",
    already_rated: bool = False,
) -> Rating | Violation:
    """The customer rates a resolved (or closed) ticket once: CSAT 1–5, optional NPS 0–10."""
    _require_aware(now)
    if actor.role is not Role.CUSTOMER or actor.id != ticket.customer_id:
        return Violation("not_your_ticket", "only the asking customer may rate", kind="forbidden")
    if ticket.state not in (State.RESOLVED, State.CLOSED) or ticket.resolved_by is None:
        return Violation(
            "not_resolved",
            f"a ticket that is {ticket.state.value} cannot be rated",
            field="status",
            params=(("state", ticket.state.value),),
        )
    if already_rated:
        return Violation("already_rated", "this ticket has already been rated")
    if isinstance(csat, bool) or not isinstance(csat, int) or not 1 <= csat <= 5:
        return Violation("csat_out_of_range", "CSAT must be 1–5", field="csat", kind="invalid")
    if nps is not None and (
        isinstance(nps, bool) or not isinstance(nps, int) or not 0 <= nps <= 10
    ):
        return Violation("nps_out_of_range", "NPS must be 0–10", field="nps", kind="invalid")
    expert = ticket.resolved_by if ticket.resolved_by_role is Role.EXPERT else None
    event = CsatReceived(ticket.id, expert, csat, nps, now)
    return Rating(ticket.id, csat, nps, comment.strip(), now, event)


# --------------------------------------------------------------------------------------------
# SLA clock and auto-close
# --------------------------------------------------------------------------------------------

_MAX_DAYS_SCANNED: Final = 3 * 366


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _intervals(hours: BusinessHours, first_day: date, days: int) -> list[tuple[datetime, datetime]]:
    """Open intervals (UTC) for ``days`` local days beginning with ``first_day``."""
    tz = _zone(hours.timezone)
    out: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for w in hours.windows:
            if w.weekday != day.weekday():
                continue
            opens = datetime.combine(day, w.start, tzinfo=tz).astimezone(UTC)
            end_day = day + timedelta(days=1) if w.end == time(0) else day
            closes = datetime.combine(end_day, w.end, tzinfo=tz).astimezone(UTC)
            if closes > opens:
                out.append((opens, closes))
    out.sort()
    # Overlapping windows (9-17 and 12-20) are one stretch of open time: merged, so that
    # add_business_seconds and business_seconds_between count it once alike.
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in out:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def _local_day(moment: datetime, hours: BusinessHours) -> date:
    return moment.astimezone(_zone(hours.timezone)).date()


def add_business_seconds(start: datetime, seconds: float, hours: BusinessHours | None) -> datetime:
    """The moment ``seconds`` of open time have passed after ``start``."""
    _require_aware(start)
    if hours is None or not hours.windows:
        return start + timedelta(seconds=seconds)
    remaining = timedelta(seconds=max(0.0, seconds))
    cursor = start
    day = _local_day(start, hours) - timedelta(days=1)  # a window may span local midnight
    for _ in range(_MAX_DAYS_SCANNED // 7):
        for opens, closes in _intervals(hours, day, 7):
            lo = max(opens, cursor)
            if closes <= lo:
                continue
            if lo + remaining <= closes:
                return lo + remaining
            remaining -= closes - lo
            cursor = closes
        day += timedelta(days=7)
    return start + timedelta(seconds=seconds)  # windows too sparse: fall back to wall clock


def business_seconds_between(a: datetime, b: datetime, hours: BusinessHours | None) -> float:
    """Open seconds in [a, b); negative when b < a."""
    _require_aware(a)
    _require_aware(b)
    if b < a:
        return -business_seconds_between(b, a, hours)
    if hours is None or not hours.windows:
        return (b - a).total_seconds()
    days = min((b - a).days + 3, _MAX_DAYS_SCANNED)
    total = 0.0
    for opens, closes in _intervals(hours, _local_day(a, hours) - timedelta(days=1), days):
        lo, hi = max(opens, a), min(closes, b)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


_MICRO: Final = timedelta(microseconds=1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class OpenTime:
    """:func:`business_seconds_between` for many pairs of moments: the open intervals between
    ``lo`` and ``hi`` are laid out once, with running totals, and each question is two
    binary searches (in whole microseconds, so it answers exactly as the function does).
    Moments outside [lo, hi] are asked of the function itself. A report over thousands of
    tickets called the function three times per ticket, each laying out days of windows."""

    def __init__(self, hours: BusinessHours | None, lo: datetime, hi: datetime) -> None:
        _require_aware(lo)
        _require_aware(hi)
        self.hours = hours if hours is not None and hours.windows else None
        self.lo, self.hi = lo, max(lo, hi)
        self._opens: list[int] = []
        self._closes: list[int] = []
        self._before: list[int] = []  # open microseconds before each interval
        if self.hours is None:
            return
        days = min((self.hi - lo).days + 3, _MAX_DAYS_SCANNED)
        total = 0
        for opens, closes in _intervals(
            self.hours, _local_day(lo, self.hours) - timedelta(days=1), days
        ):
            self._opens.append(_us(opens))
            self._closes.append(_us(closes))
            self._before.append(total)
            total += _us(closes) - _us(opens)

    def _open_until(self, moment: int) -> int:
        i = bisect_right(self._opens, moment) - 1
        if i < 0:
            return 0
        return self._before[i] + min(moment, self._closes[i]) - self._opens[i]

    def between(self, a: datetime, b: datetime) -> float:
        """Open seconds in [a, b); negative when b < a."""
        if self.hours is None:
            return (b - a).total_seconds()
        if (
            not (self.lo <= a <= self.hi and self.lo <= b <= self.hi)
            or (self.hi - self.lo).days + 3 > _MAX_DAYS_SCANNED
        ):
            return business_seconds_between(a, b, self.hours)
        micro = self._open_until(_us(b)) - self._open_until(_us(a))
        return (micro * _MICRO).total_seconds()


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True, slots=True)
class SlaDue:
    first_response_due: datetime
    resolution_due: datetime


@dataclass(frozen=True, slots=True)
class SlaReport:
    first_response: SlaState
    resolution: SlaState
    due: SlaDue

    @property
    def at_risk_or_breached(self) -> bool:
        bad = (SlaState.AT_RISK, SlaState.BREACHED)
        return self.first_response in bad or self.resolution in bad


def sla_due(started: datetime, sla: SlaPolicy, resolution_from: datetime | None = None) -> SlaDue:
    hours = sla.business_hours
    return SlaDue(
        add_business_seconds(started, sla.first_response_s, hours),
        add_business_seconds(resolution_from or started, sla.resolution_s, hours),
    )


def case_start(ticket: Ticket) -> datetime:
    """When the case began: the SLA clocks count from here, not from the ticket's writing."""
    return ticket.case_started_at or ticket.created_at


def first_response_met_at(ticket: Ticket) -> datetime | None:
    """When the case first got a response: the expert's or staff's first public reply, or a
    community answer to the question it came from, whichever came first."""
    moments = [m for m in (ticket.first_response_at, ticket.community_response_at) if m]
    return min(moments) if moments else None


def resolution_clock(ticket: Ticket) -> tuple[datetime, datetime | None]:
    """(when the resolution clock started, when it was met or None). A reopened ticket gets
    the resolution target again from its reopening, met by a resolution after it: before,
    the clock stayed stopped at the first resolution, and a reopened ticket resolved in time
    the first time was never escalated however long the customer waited again."""
    if ticket.reopened_at is None:
        return case_start(ticket), ticket.resolved_at
    met = ticket.resolved_at
    return ticket.reopened_at, met if met is not None and met > ticket.reopened_at else None


def _clock(
    started: datetime, target_s: int, met_at: datetime | None, now: datetime, sla: SlaPolicy
) -> SlaState:
    hours = sla.business_hours
    if met_at is not None:
        used = business_seconds_between(started, met_at, hours)
        return SlaState.MET if used <= target_s else SlaState.BREACHED
    used = business_seconds_between(started, now, hours)
    if used >= target_s:
        return SlaState.BREACHED
    if used >= target_s * sla.at_risk_ratio:
        return SlaState.AT_RISK
    return SlaState.OK


def sla_status(ticket: Ticket, sla: SlaPolicy, now: datetime) -> SlaReport:
    """Where the ticket stands against its first-response and resolution targets."""
    _require_aware(now)
    started, met = resolution_clock(ticket)
    return SlaReport(
        first_response=_clock(
            case_start(ticket), sla.first_response_s, first_response_met_at(ticket), now, sla
        ),
        resolution=_clock(started, sla.resolution_s, met, now, sla),
        due=sla_due(case_start(ticket), sla, started),
    )


def auto_close_due(ticket: Ticket, policy: LifecyclePolicy) -> datetime | None:
    if ticket.state is not State.RESOLVED or ticket.resolved_at is None:
        return None
    return ticket.resolved_at + timedelta(seconds=policy.auto_close_after_s)


def next_sweep_at(
    ticket: Ticket,
    *,
    lifecycle: LifecyclePolicy = DEFAULT_LIFECYCLE,
    sla: SlaPolicy = DEFAULT_SLA,
) -> datetime | None:
    """The earliest moment :func:`decide_sweep` may act on ``ticket`` as it stands (None: not
    until it changes). Never later than that moment — SLA moments are taken a second early
    against rounding — so a sweeper that looks at each ticket from this moment on misses
    nothing; looking early only finds nothing to do yet."""
    state = ticket.state
    if state is State.RESOLVED:
        return auto_close_due(ticket, lifecycle)
    if state not in (State.QUEUED, State.OFFERED, State.CLAIMED, State.REOPENED):
        return None
    if state is State.QUEUED and len(ticket.rung) >= lifecycle.max_rings:
        return ticket.created_at  # already due
    unowned = state in (State.QUEUED, State.OFFERED)
    started, met = resolution_clock(ticket)
    moments = [_clock_reaches(started, sla.resolution_s, met, sla, 1.0)]
    if unowned:
        ratio = sla.at_risk_ratio
        moments.append(
            _clock_reaches(case_start(ticket), sla.first_response_s,
                           first_response_met_at(ticket), sla, ratio)
        )  # fmt: skip
        moments.append(_clock_reaches(started, sla.resolution_s, met, sla, ratio))
    if state is State.OFFERED and ticket.offer_expires_at is not None:
        moments.append(ticket.offer_expires_at)
    due = [m for m in moments if m is not None]
    return min(due) if due else None


def _clock_reaches(
    started: datetime, target_s: int, met_at: datetime | None, sla: SlaPolicy, share: float
) -> datetime | None:
    """When :func:`_clock` first reports at least ``share`` of the target used (1.0: breached;
    the at-risk ratio: at risk); ``started`` if it already does for good, None if never."""
    if met_at is not None:  # the clock stopped: met in time (never) or breached (now)
        used = business_seconds_between(started, met_at, sla.business_hours)
        return started if used > target_s else None
    moment = add_business_seconds(started, target_s * min(share, 1.0), sla.business_hours)
    return moment - timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class SweepDecision:
    action: Action
    reason: str


def decide_sweep(
    ticket: Ticket,
    now: datetime,
    *,
    lifecycle: LifecyclePolicy = DEFAULT_LIFECYCLE,
    sla: SlaPolicy = DEFAULT_SLA,
) -> SweepDecision | None:
    """What the background sweeper should do to this ticket now, if anything.

    Expire a run-out offer; escalate an unowned open ticket whose SLA is at risk or breached, or
    that has been rung ``max_rings`` times without a taker; auto-close a resolved ticket after
    the delay. Idempotent: once applied, the same ticket no longer yields the same decision.
    """
    _require_aware(now)
    state = ticket.state
    if state is State.OFFERED and ticket.offer_expires_at and now >= ticket.offer_expires_at:
        return SweepDecision(Action.EXPIRE, "offer_expired")
    if state is State.RESOLVED:
        due = auto_close_due(ticket, lifecycle)
        if due is not None and now >= due:
            return SweepDecision(Action.AUTO_CLOSE, "auto_close")
        return None
    if state in (State.QUEUED, State.OFFERED, State.CLAIMED, State.REOPENED):
        report = sla_status(ticket, sla, now)
        unowned = state in (State.QUEUED, State.OFFERED)
        if report.resolution is SlaState.BREACHED or (unowned and report.at_risk_or_breached):
            return SweepDecision(Action.ESCALATE, "sla_at_risk")
        if state is State.QUEUED and len(ticket.rung) >= lifecycle.max_rings:
            return SweepDecision(Action.ESCALATE, "max_rings")
    return None


# The reason recorded when a reopened ticket goes to staff because its expert is gone.
OWNER_UNAVAILABLE: Final = "owner_unavailable"


def decide_after_reopen(ticket: Ticket, owner_may_work: bool) -> SweepDecision | None:
    """Where a ticket the customer just reopened goes. It goes back to its owner, unless the
    owner is an expert who may no longer work on the brand's tickets (``owner_may_work``
    False: the expert role taken away, the account deactivated or erased): nobody else may
    resolve an expert's reopened ticket, so it would sit there. It goes to the brand's staff
    then (reason :data:`OWNER_UNAVAILABLE`), as every reopened expert ticket that leaves its
    expert does — not back to the queue: the lifecycle has no such path, and the ticket's
    earning is paid once, so another expert would work on it unpaid (going to staff reverses
    the earning instead, see :class:`EarningReversalDue`)."""
    if ticket.state is State.REOPENED and ticket.owner_role is Role.EXPERT and not owner_may_work:
        return SweepDecision(Action.ESCALATE, OWNER_UNAVAILABLE)
    return None


# ------------------------------------------------------------------------------------------
# Languages: which of the brand's languages a ticket is served in
# ------------------------------------------------------------------------------------------

# The reason recorded when intake hands a ticket to staff because no expert may take it.
LANGUAGE_NOT_SERVED: Final = "language_not_served"
_CHINESE: Final = ("zh-Hans", "zh-Hant")


def served_language(language: str, served: tuple[str, ...] | frozenset[str]) -> str | None:
    """The language of the brand's (``served``) a ticket written in ``language`` is handled
    in, or None when the brand serves no language its experts could read it in. Chinese in
    the other script is served by the brand's Chinese: a reader of Simplified reads
    Traditional and the reverse, and the script is only a guess from the characters."""
    if language in served:
        return language
    if language in _CHINESE:
        for other in _CHINESE:
            if other in served:
                return other
    return None
