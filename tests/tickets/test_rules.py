"""The ticket state machine, the SLA clock and auto-close: plain data and properties."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdcx.tickets.rules import (
    OWNED_STATES,
    TRANSITIONS,
    Action,
    Actor,
    BusinessHours,
    EarningReversalDue,
    LifecyclePolicy,
    OfferDeclined,
    Role,
    SlaPolicy,
    SlaState,
    State,
    Ticket,
    TicketResolved,
    Transition,
    Violation,
    Window,
    add_business_seconds,
    allowed_actions,
    business_seconds_between,
    check_invariants,
    decide_after_reopen,
    decide_rating,
    decide_sweep,
    decide_transition,
    mark_first_response,
    next_sweep_at,
    sla_due,
    sla_status,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday
CUSTOMER = Actor(Role.CUSTOMER, "c1")
ALICE = Actor(Role.EXPERT, "alice")
BOB = Actor(Role.EXPERT, "bob")
AGENT = Actor(Role.AGENT, "staff1")
SYSTEM = Actor.system()


def new_ticket() -> Ticket:
    return Ticket(id="t1", customer_id="c1", state=State.CREATED, created_at=T0)


def step(t: Ticket, action: Action, actor: Actor, at: datetime = T0, **kw: object) -> Transition:
    result = decide_transition(t, action, actor, at, **kw)  # type: ignore[arg-type]
    assert isinstance(result, Transition), result
    assert not check_invariants(result.ticket), check_invariants(result.ticket)
    return result


def refused(t: Ticket, action: Action, actor: Actor, at: datetime = T0, **kw: object) -> Violation:
    result = decide_transition(t, action, actor, at, **kw)  # type: ignore[arg-type]
    assert isinstance(result, Violation), result
    return result


def claimed_by_alice() -> Ticket:
    t = step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket
    t = step(t, Action.OFFER, SYSTEM, target="alice").ticket
    return step(t, Action.CLAIM, ALICE, T0 + timedelta(seconds=30)).ticket


# ---------------------------------------------------------------------------------------------
# Plain data
# ---------------------------------------------------------------------------------------------


def test_happy_path_records_every_transition_with_actor_and_time() -> None:
    t = new_ticket()
    path = [
        (Action.SUBMIT, CUSTOMER, {}),
        (Action.OFFER, SYSTEM, {"target": "alice"}),
        (Action.CLAIM, ALICE, {}),
        (Action.RESOLVE, ALICE, {}),
        (Action.CONFIRM, CUSTOMER, {}),
    ]
    states = [t.state]
    for i, (action, actor, kw) in enumerate(path):
        at = T0 + timedelta(minutes=i)
        tr = step(t, action, actor, at, **kw)
        assert tr.record.from_state == t.state
        assert tr.record.to_state == tr.ticket.state
        assert (tr.record.action, tr.record.actor_id, tr.record.at) == (action, actor.id, at)
        t = tr.ticket
        states.append(t.state)
    assert states == ["created", "queued", "offered", "claimed", "resolved", "closed"]
    assert t.resolved_by == "alice"
    assert t.version == 5


def test_resolution_by_expert_is_due_an_earning() -> None:
    tr = step(claimed_by_alice(), Action.RESOLVE, ALICE)
    (event,) = tr.events
    assert isinstance(event, TicketResolved)
    assert event.earning_due
    assert event.expert_id == "alice"
    assert not event.escalated


def test_decline_returns_to_queue_and_the_decliner_is_not_rung_again() -> None:
    t = step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket
    t = step(t, Action.OFFER, SYSTEM, target="alice").ticket
    assert refused(t, Action.DECLINE, BOB).code == "not_your_offer"
    tr = step(t, Action.DECLINE, ALICE)
    assert tr.ticket.state is State.QUEUED
    assert tr.ticket.offered_to is None
    assert tr.events == (OfferDeclined("t1", "alice", T0),)
    assert refused(tr.ticket, Action.OFFER, SYSTEM, target="alice").code == "already_rung"
    assert step(tr.ticket, Action.OFFER, SYSTEM, target="bob").ticket.rung == ("alice", "bob")


def test_offer_expires_only_after_timeout_and_late_claims_fail() -> None:
    policy = LifecyclePolicy(offer_timeout_s=120)
    t = step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket
    t = step(t, Action.OFFER, SYSTEM, target="alice", policy=policy).ticket
    assert t.offer_expires_at == T0 + timedelta(seconds=120)
    early = T0 + timedelta(seconds=119)
    assert refused(t, Action.EXPIRE, SYSTEM, early).code == "offer_not_expired"
    late = T0 + timedelta(seconds=120)
    assert refused(t, Action.CLAIM, ALICE, late).code == "offer_expired"
    assert step(t, Action.EXPIRE, SYSTEM, late).ticket.state is State.QUEUED


def test_only_the_offered_expert_may_claim_an_offer() -> None:
    t = step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket
    t = step(t, Action.OFFER, SYSTEM, target="alice").ticket
    assert refused(t, Action.CLAIM, BOB).code == "not_your_offer"


def test_illegal_transition_names_the_state() -> None:
    v = refused(claimed_by_alice(), Action.CLAIM, BOB)
    assert v.code == "illegal_transition"
    assert v.param("state") == "claimed"
    assert "claimed" in v.message


def test_wrong_role_is_forbidden() -> None:
    t = step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket
    v = refused(t, Action.OFFER, ALICE, target="alice")
    assert (v.code, v.kind) == ("actor_not_allowed", "forbidden")


def test_only_the_owner_resolves_or_escalates() -> None:
    t = claimed_by_alice()
    assert refused(t, Action.RESOLVE, BOB).code == "not_owner"
    assert refused(t, Action.ESCALATE, BOB).code == "not_owner"


def test_escalated_ticket_is_resolved_by_staff_without_earning() -> None:
    t = step(claimed_by_alice(), Action.ESCALATE, ALICE, reason="needs refund").ticket
    assert t.state is State.ESCALATED
    assert t.owner_id is None
    assert refused(t, Action.RESOLVE, ALICE).code == "actor_not_allowed"
    tr = step(t, Action.RESOLVE, AGENT)
    (event,) = tr.events
    assert isinstance(event, TicketResolved)
    assert event.escalated
    assert not event.earning_due
    assert event.expert_id is None


def test_reopen_that_ends_with_staff_asks_for_a_reversal() -> None:
    t = step(claimed_by_alice(), Action.RESOLVE, ALICE).ticket
    t = step(t, Action.REOPEN, CUSTOMER).ticket
    assert t.state is State.REOPENED
    assert t.owner_id == "alice"
    tr = step(t, Action.ESCALATE, ALICE, reason="customer still unhappy")
    assert EarningReversalDue("t1", "alice", T0) in tr.events
    resolved = step(tr.ticket, Action.RESOLVE, AGENT).events[0]
    assert isinstance(resolved, TicketResolved)
    assert not resolved.earning_due


def test_reopen_resolved_again_by_expert_asks_for_no_reversal() -> None:
    t = step(claimed_by_alice(), Action.RESOLVE, ALICE).ticket
    t = step(t, Action.REOPEN, CUSTOMER).ticket
    tr = step(t, Action.RESOLVE, ALICE)
    assert not any(isinstance(e, EarningReversalDue) for e in tr.events)


def test_only_the_asking_customer_deflects_confirms_or_reopens() -> None:
    other = Actor(Role.CUSTOMER, "c2")
    assert refused(new_ticket(), Action.DEFLECT, other).code == "not_your_ticket"
    assert step(new_ticket(), Action.DEFLECT, CUSTOMER).ticket.state is State.DEFLECTED
    resolved = step(claimed_by_alice(), Action.RESOLVE, ALICE).ticket
    assert refused(resolved, Action.REOPEN, other).code == "not_your_ticket"


def test_max_rings_refuses_further_offers() -> None:
    policy = LifecyclePolicy(max_rings=2)
    t = step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket
    for expert in ("a", "b"):
        t = step(t, Action.OFFER, SYSTEM, target=expert, policy=policy).ticket
        t = step(t, Action.DECLINE, Actor(Role.EXPERT, expert)).ticket
    assert refused(t, Action.OFFER, SYSTEM, target="c", policy=policy).code == "max_rings_reached"
    sweep = decide_sweep(t, T0, lifecycle=policy)
    assert sweep is not None
    assert (sweep.action, sweep.reason) == (Action.ESCALATE, "max_rings")


def test_auto_close_after_the_brand_delay() -> None:
    policy = LifecyclePolicy(auto_close_after_s=3600)
    t = step(claimed_by_alice(), Action.RESOLVE, ALICE, T0).ticket
    assert refused(
        t, Action.AUTO_CLOSE, SYSTEM, T0 + timedelta(minutes=59), policy=policy
    ).code == ("auto_close_not_due")
    assert decide_sweep(t, T0 + timedelta(minutes=59), lifecycle=policy) is None
    later = T0 + timedelta(hours=1)
    sweep = decide_sweep(t, later, lifecycle=policy)
    assert sweep is not None
    assert sweep.action is Action.AUTO_CLOSE
    closed = step(t, Action.AUTO_CLOSE, SYSTEM, later, policy=policy).ticket
    assert closed.state is State.CLOSED
    assert closed.resolved_by == "alice"


def test_allowed_actions_follow_the_table_and_guards() -> None:
    t = claimed_by_alice()
    assert allowed_actions(t, ALICE, T0) == {Action.RESOLVE, Action.ESCALATE}
    assert allowed_actions(t, BOB, T0) == frozenset()
    assert allowed_actions(t, AGENT, T0) == {Action.ESCALATE}


def test_first_response_is_stamped_once_by_the_owner() -> None:
    t = claimed_by_alice()
    assert mark_first_response(t, BOB, T0) is None
    later = T0 + timedelta(seconds=90)
    stamped = mark_first_response(t, ALICE, later)
    assert stamped is not None
    new, event = stamped
    assert new.first_response_at == later
    assert event.seconds_since_claim == 60
    assert mark_first_response(new, ALICE, later) is None


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide_transition(new_ticket(), Action.SUBMIT, CUSTOMER, datetime(2025, 1, 1))  # noqa: DTZ001


# Rating -------------------------------------------------------------------------------------


def test_rating_rules() -> None:
    resolved = step(claimed_by_alice(), Action.RESOLVE, ALICE).ticket
    rating = decide_rating(resolved, CUSTOMER, 5, T0, nps=9, comment=" great ")
    assert not isinstance(rating, Violation)
    assert rating.event.expert_id == "alice"
    assert rating.comment == "great"
    assert isinstance(decide_rating(resolved, CUSTOMER, 5, T0, already_rated=True), Violation)
    bad = decide_rating(resolved, CUSTOMER, 6, T0)
    assert isinstance(bad, Violation)
    assert bad.kind == "invalid"
    bad_nps = decide_rating(resolved, CUSTOMER, 4, T0, nps=11)
    assert isinstance(bad_nps, Violation)
    assert bad_nps.code == "nps_out_of_range"
    wrong_person = decide_rating(resolved, ALICE, 5, T0)
    assert isinstance(wrong_person, Violation)
    assert wrong_person.kind == "forbidden"
    open_ticket = decide_rating(claimed_by_alice(), CUSTOMER, 5, T0)
    assert isinstance(open_ticket, Violation)
    assert open_ticket.code == "not_resolved"


# SLA ----------------------------------------------------------------------------------------

SHANGHAI_OFFICE = BusinessHours(
    "Asia/Shanghai", tuple(Window(d, time(9), time(18)) for d in range(5))
)


def test_business_hours_skip_the_weekend_in_the_brand_timezone() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    friday_5pm = datetime(2025, 3, 7, 17, 0, tzinfo=tz)
    due = add_business_seconds(friday_5pm, 4 * 3600, SHANGHAI_OFFICE)
    assert due == datetime(2025, 3, 10, 12, 0, tzinfo=tz)  # 1 h Friday + 3 h Monday
    assert business_seconds_between(friday_5pm, due, SHANGHAI_OFFICE) == 4 * 3600


def test_ticket_created_out_of_hours_starts_its_clock_at_opening() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    saturday = datetime(2025, 3, 8, 10, 0, tzinfo=tz)
    sla = SlaPolicy(first_response_s=3600, resolution_s=8 * 3600, business_hours=SHANGHAI_OFFICE)
    due = sla_due(saturday, sla)
    assert due.first_response_due == datetime(2025, 3, 10, 10, 0, tzinfo=tz)
    assert due.resolution_due == datetime(2025, 3, 10, 17, 0, tzinfo=tz)


def test_business_hours_across_a_dst_change() -> None:
    hours = BusinessHours("Europe/Berlin", tuple(Window(d, time(9), time(17)) for d in range(7)))
    tz = ZoneInfo("Europe/Berlin")
    start = datetime(2025, 3, 29, 16, 0, tzinfo=tz)  # clocks go forward that night
    due = add_business_seconds(start, 2 * 3600, hours)
    assert due == datetime(2025, 3, 30, 10, 0, tzinfo=tz)


def test_sla_at_risk_then_breached_and_met() -> None:
    sla = SlaPolicy(first_response_s=3600, resolution_s=4 * 3600, at_risk_ratio=0.8)
    t = replace(claimed_by_alice(), created_at=T0)
    assert sla_status(t, sla, T0 + timedelta(minutes=47)).first_response is SlaState.OK
    assert sla_status(t, sla, T0 + timedelta(minutes=48)).first_response is SlaState.AT_RISK
    assert sla_status(t, sla, T0 + timedelta(minutes=60)).first_response is SlaState.BREACHED
    answered = replace(t, first_response_at=T0 + timedelta(minutes=30))
    assert sla_status(answered, sla, T0 + timedelta(hours=9)).first_response is SlaState.MET


def test_sweeper_escalates_unowned_ticket_at_sla_risk_but_not_a_healthy_one() -> None:
    sla = SlaPolicy(first_response_s=3600, resolution_s=4 * 3600)
    queued = step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket
    assert decide_sweep(queued, T0 + timedelta(minutes=10), sla=sla) is None
    sweep = decide_sweep(queued, T0 + timedelta(minutes=50), sla=sla)
    assert sweep is not None
    assert (sweep.action, sweep.reason) == (Action.ESCALATE, "sla_at_risk")
    # Applying the decision makes it go away: the sweeper is idempotent.
    escalated = step(queued, sweep.action, SYSTEM, T0 + timedelta(minutes=50)).ticket
    assert decide_sweep(escalated, T0 + timedelta(minutes=51), sla=sla) is None


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

ACTORS = [
    CUSTOMER,
    Actor(Role.CUSTOMER, "c2"),
    ALICE,
    BOB,
    Actor(Role.EXPERT, "carol"),
    AGENT,
    SYSTEM,
]
moves = st.lists(
    st.tuples(
        st.sampled_from(list(Action)),
        st.sampled_from(ACTORS),
        st.sampled_from(["alice", "bob", "carol"]),
        st.integers(min_value=0, max_value=400),
    ),
    max_size=40,
)


PLAY_POLICY = LifecyclePolicy(offer_timeout_s=120, auto_close_after_s=600, max_rings=3)


def replay(
    sequence: list[tuple[Action, Actor, str, int]],
) -> Iterator[tuple[Ticket, Action, Transition | Violation, datetime]]:
    """Each move of ``sequence`` tried on the ticket so far: (ticket before, action, result,
    time); the ticket moves on only when the rules accept the move."""
    t, now = new_ticket(), T0
    for action, actor, target, dt in sequence:
        now += timedelta(seconds=dt)
        result = decide_transition(t, action, actor, now, policy=PLAY_POLICY, target=target)
        yield t, action, result, now
        if isinstance(result, Transition):
            t = result.ticket


@settings(max_examples=400)
@given(moves)
def test_random_action_sequences_stay_in_defined_states_with_one_owner(
    sequence: list[tuple[Action, Actor, str, int]],
) -> None:
    for t, action, result, _now in replay(sequence):
        if isinstance(result, Violation):
            assert (t.state, action) not in TRANSITIONS or result.code != "illegal_transition"
            continue
        assert (t.state, action) in TRANSITIONS
        assert result.ticket.state in State
        assert result.record.from_state == t.state
        assert result.record.to_state == result.ticket.state
        assert result.ticket.version == t.version + 1
        if action is Action.CLAIM:
            assert t.owner_id is None, "a claim replaced an existing owner"
        if t.owner_id is not None and result.ticket.owner_id is not None:
            # the only way ownership moves between people is through a state without owner
            assert result.ticket.owner_id == t.owner_id
        assert check_invariants(result.ticket) == []
        assert (result.ticket.owner_id is not None) == (result.ticket.state in OWNED_STATES)


@given(st.integers(min_value=2, max_value=60), st.booleans())
def test_many_claimers_on_one_ticket_produce_exactly_one_owner(n: int, offered: bool) -> None:
    """Simulates the conditional update: each claimer decides on the version it read and the
    store accepts a write only if the version is still the same."""
    t = step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket
    claimers = [Actor(Role.EXPERT, f"e{i}") for i in range(n)]
    if offered:
        t = step(t, Action.OFFER, SYSTEM, target="e0").ticket
    stored = t
    snapshot = t  # everybody read the same row
    winners = []
    for claimer in claimers:
        decided = decide_transition(snapshot, Action.CLAIM, claimer, T0)
        if isinstance(decided, Transition) and stored.version == snapshot.version:
            stored = decided.ticket
            winners.append(claimer.id)
        # losers re-read and try again: the fresh state refuses them
        retry = decide_transition(stored, Action.CLAIM, claimer, T0)
        assert isinstance(retry, Violation)
    assert len(winners) == 1
    assert stored.owner_id == winners[0]
    if offered:
        assert winners == ["e0"]


instants = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2027, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(instants, st.integers(min_value=0, max_value=30 * 24 * 3600))
def test_business_time_round_trips(start: datetime, seconds: int) -> None:
    due = add_business_seconds(start, seconds, SHANGHAI_OFFICE)
    assert due >= start
    assert business_seconds_between(start, due, SHANGHAI_OFFICE) == pytest.approx(seconds)


LUNCH_BREAK = BusinessHours(  # 09:00–12:00 and 13:00–18:00 on weekdays, in Taipei
    "Asia/Taipei",
    tuple(Window(d, start, end) for d in range(5)
          for start, end in ((time(9), time(12)), (time(13), time(18)))),
)  # fmt: skip


def test_the_sla_clock_stops_over_lunch() -> None:
    tz = ZoneInfo("Asia/Taipei")
    monday_11 = datetime(2025, 3, 3, 11, 0, tzinfo=tz)
    due = add_business_seconds(monday_11, 2 * 3600, LUNCH_BREAK)
    assert due == datetime(2025, 3, 3, 14, 0, tzinfo=tz)  # 1 h before lunch, 1 h after
    lunch = datetime(2025, 3, 3, 12, 30, tzinfo=tz)
    assert add_business_seconds(lunch, 60, LUNCH_BREAK) == datetime(2025, 3, 3, 13, 1, tzinfo=tz)
    friday_17 = datetime(2025, 3, 7, 17, 0, tzinfo=tz)
    assert add_business_seconds(friday_17, 3 * 3600, LUNCH_BREAK) == datetime(
        2025, 3, 10, 11, 0, tzinfo=tz
    )


@given(instants, st.integers(min_value=0, max_value=30 * 24 * 3600))
def test_business_time_over_two_windows_a_day_round_trips(start: datetime, seconds: int) -> None:
    """With a lunch break, the clock adds and measures alike, never lands inside the break
    or outside the windows (unless no time was asked for), and counts 8 h a weekday."""
    due = add_business_seconds(start, seconds, LUNCH_BREAK)
    assert due >= start
    assert business_seconds_between(start, due, LUNCH_BREAK) == pytest.approx(seconds)
    local = due.astimezone(ZoneInfo("Asia/Taipei"))
    if seconds and due > start:
        assert local.weekday() < 5
        assert time(9) < local.time() <= time(12) or time(13) < local.time() <= time(18)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    open_today = business_seconds_between(day, day + timedelta(days=1), LUNCH_BREAK)
    assert open_today == (8 * 3600 if local.weekday() < 5 else 0)


OVERLAPPING = BusinessHours(  # 9-17 and 12-20: one stretch of open time, 9-20
    "Europe/Moscow", tuple(Window(d, time(h), time(h + 8)) for d in range(7) for h in (9, 12))
)


def test_overlapping_windows_count_once_both_ways() -> None:
    start = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)  # 9:00 in Moscow
    due = add_business_seconds(start, 8 * 3600, OVERLAPPING)
    assert due == datetime(2025, 3, 3, 14, 0, tzinfo=UTC)  # 17:00 there, not 14:00 + overlap
    assert business_seconds_between(start, due, OVERLAPPING) == 8 * 3600


@settings(max_examples=300)
@given(
    moves,
    st.sampled_from([None, SHANGHAI_OFFICE, OVERLAPPING]),
    st.lists(st.integers(min_value=0, max_value=14 * 24 * 3600), min_size=1, max_size=8),
    st.booleans(),
)
def test_the_sweeper_is_never_woken_too_late(
    sequence: list[tuple[Action, Actor, str, int]],
    hours: BusinessHours | None,
    probes: list[int],
    responded: bool,
) -> None:
    """Whatever state a ticket reaches, decide_sweep finds nothing to do before
    next_sweep_at: a sweeper that looks at tickets from their next_sweep_at on (the indexed
    tickets.sweep_at) misses no expiry, escalation or auto-close."""
    policy = PLAY_POLICY
    sla = SlaPolicy(first_response_s=3600, resolution_s=4 * 3600, business_hours=hours)
    t, now = new_ticket(), T0
    for before, _action, result, at in replay(sequence):
        t, now = (result.ticket if isinstance(result, Transition) else before), at
    if responded and t.owner_id is not None:
        stamped = mark_first_response(t, Actor(Role.EXPERT, t.owner_id), now)
        if stamped is not None:
            t = stamped[0]
    wake = next_sweep_at(t, lifecycle=policy, sla=sla)
    for offset in probes:
        at = now + timedelta(seconds=offset)
        if decide_sweep(t, at, lifecycle=policy, sla=sla) is not None:
            assert wake is not None, (t, at)
            assert at >= wake, (t, at, wake)


def test_a_reopened_ticket_gets_the_resolution_target_again_from_its_reopening() -> None:
    """The resolution clock stayed stopped at the first resolution: resolved in time once,
    a reopened ticket was never escalated however long the customer waited again."""
    sla = SlaPolicy(first_response_s=3600, resolution_s=4 * 3600, at_risk_ratio=0.8)
    policy = LifecyclePolicy(offer_timeout_s=120, auto_close_after_s=3 * 86400, max_rings=3)
    offered = step(step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket, Action.OFFER, SYSTEM,
                   target="alice", policy=policy).ticket  # fmt: skip
    claimed = step(offered, Action.CLAIM, ALICE).ticket
    resolved = step(claimed, Action.RESOLVE, ALICE, T0 + timedelta(hours=1)).ticket
    back = T0 + timedelta(days=2)
    reopened = step(resolved, Action.REOPEN, CUSTOMER, back).ticket
    assert reopened.reopened_at == back
    assert sla_status(reopened, sla, back + timedelta(hours=1)).resolution is SlaState.OK
    assert decide_sweep(reopened, back + timedelta(hours=3), sla=sla, lifecycle=policy) is None
    late = decide_sweep(reopened, back + timedelta(hours=4), sla=sla, lifecycle=policy)
    assert late is not None
    assert late.action is Action.ESCALATE
    wake = next_sweep_at(reopened, lifecycle=policy, sla=sla)
    assert wake == back + timedelta(hours=4) - timedelta(seconds=1)
    again = step(reopened, Action.RESOLVE, ALICE, back + timedelta(hours=2)).ticket
    assert sla_status(again, sla, back + timedelta(days=1)).resolution is SlaState.MET


def test_next_sweep_at_is_the_moment_the_sweeper_has_work() -> None:
    sla = SlaPolicy(first_response_s=3600, resolution_s=4 * 3600, at_risk_ratio=0.8)
    policy = LifecyclePolicy(offer_timeout_s=120, auto_close_after_s=600, max_rings=3)
    queued = step(new_ticket(), Action.SUBMIT, CUSTOMER).ticket
    risk = T0 + timedelta(minutes=48) - timedelta(seconds=1)  # first response at risk
    assert next_sweep_at(queued, lifecycle=policy, sla=sla) == risk
    offered = step(queued, Action.OFFER, SYSTEM, target="alice", policy=policy).ticket
    assert next_sweep_at(offered, lifecycle=policy, sla=sla) == offered.offer_expires_at
    claimed = step(offered, Action.CLAIM, ALICE).ticket  # owned: only a breach escalates
    breach = T0 + timedelta(hours=4) - timedelta(seconds=1)
    assert next_sweep_at(claimed, lifecycle=policy, sla=sla) == breach
    resolved = step(claimed, Action.RESOLVE, ALICE, T0 + timedelta(hours=1)).ticket
    assert next_sweep_at(resolved, lifecycle=policy, sla=sla) == T0 + timedelta(hours=1, minutes=10)
    closed = step(resolved, Action.CONFIRM, CUSTOMER, T0 + timedelta(hours=2)).ticket
    assert next_sweep_at(closed, lifecycle=policy, sla=sla) is None


def test_the_sla_runs_from_the_case_start_and_a_community_answer_is_a_first_response() -> None:
    """A ticket made of a community question was written at the escalation but its case began
    when asked: the clocks count from case_started_at. A community answer meets the
    first-response target without being the expert's own first response."""
    sla = SlaPolicy(first_response_s=3600, resolution_s=4 * 3600, at_risk_ratio=0.8)
    asked = T0 - timedelta(minutes=50)
    t = replace(new_ticket(), state=State.QUEUED, created_at=T0, case_started_at=asked)
    assert sla_status(t, sla, T0 + timedelta(minutes=1)).first_response is SlaState.AT_RISK
    assert sla_status(t, sla, T0).due.first_response_due == asked + timedelta(hours=1)
    assert decide_sweep(t, T0 + timedelta(minutes=1), sla=sla) is not None
    helped = replace(t, community_response_at=T0 + timedelta(seconds=30))
    assert helped.first_response_at is None
    report = sla_status(helped, sla, T0 + timedelta(hours=2))
    assert report.first_response is SlaState.MET
    assert decide_sweep(helped, T0 + timedelta(hours=2), sla=sla) is None
    wake = next_sweep_at(helped, sla=sla)
    assert wake is not None
    assert wake > T0 + timedelta(hours=2)


def test_a_reopened_ticket_goes_to_staff_only_when_its_expert_may_no_longer_work() -> None:
    t = step(claimed_by_alice(), Action.RESOLVE, ALICE).ticket
    reopened = step(t, Action.REOPEN, CUSTOMER).ticket
    assert decide_after_reopen(reopened, owner_may_work=True) is None
    onward = decide_after_reopen(reopened, owner_may_work=False)
    assert onward is not None
    assert onward.action is Action.ESCALATE
    escalated = step(reopened, onward.action, SYSTEM, reason=onward.reason)
    assert escalated.ticket.state is State.ESCALATED
    assert escalated.ticket.owner_id is None
    assert any(isinstance(e, EarningReversalDue) for e in escalated.events)
    assert decide_after_reopen(t, owner_may_work=False) is None  # not reopened
