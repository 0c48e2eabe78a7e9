"""Routing v1: eligibility as data, explained scores, the pool, the push cascade — and the
promise that declining or letting an offer expire never costs an expert anything."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdcx.routing.rules import (
    CandidatePool,
    EscalateTicket,
    ExpertProfile,
    ExpertStats,
    Hold,
    OfferTo,
    RoutingMode,
    RoutingRequest,
    SkillDef,
    decide_next_offer,
    eligibility,
    explain_score,
    fold_stats,
    pull_queue,
    rank_candidates,
    rank_candidates_naive,
)
from crowdcx.tickets.rules import (
    CsatReceived,
    FirstResponded,
    OfferDeclined,
    OfferExpired,
    Role,
    TicketEscalated,
    TicketEvent,
    TicketResolved,
)

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SKILLS = {
    "general": SkillDef("general"),
    "orders": SkillDef("orders", required_tier=1),
    "billing": SkillDef("billing", requires_certification=True, required_tier=2),
}
LANGS = ("zh-Hans", "zh-Hant", "ru", "en")
MAX = 3


def expert(eid: str, **kw: object) -> ExpertProfile:
    base: dict[str, object] = {
        "expert_id": eid,
        "skills": {"general": 3},
        "languages": frozenset({"zh-Hans"}),
        "tier": 1,
        "online": True,
    }
    base.update(kw)
    return ExpertProfile(**base)  # type: ignore[arg-type]


REQ = RoutingRequest("t1", "general", "zh-Hans")


# ---------------------------------------------------------------------------------------------
# Plain data
# ---------------------------------------------------------------------------------------------


def test_eligible_expert_has_no_reasons() -> None:
    assert eligibility(expert("a"), REQ, SKILLS["general"], MAX) == []


def test_every_reason_for_ineligibility_is_reported() -> None:
    e = expert("a", skills={"orders": 2}, languages=frozenset({"en"}), tier=0, online=False, load=3)
    req = RoutingRequest(
        "t1", "billing", "ru", required_tier=1, rung=frozenset({"a"}), customer_id="a"
    )
    codes = [v.code for v in eligibility(e, req, SKILLS["billing"], MAX)]
    assert codes == [
        "skill_missing",
        "language_missing",
        "tier_too_low",
        "certification_missing",
        "offline",
        "at_capacity",
        "already_rung",
        "own_ticket",
    ]


def test_an_expert_is_never_routed_the_ticket_they_asked() -> None:
    """An expert who is also the brand's customer would be paid for answering themselves."""
    mine = RoutingRequest("t1", "general", "zh-Hans", customer_id="a")
    assert [v.code for v in eligibility(expert("a"), mine, SKILLS["general"], MAX)] == [
        "own_ticket"
    ]
    pool = CandidatePool.build([expert("a"), expert("b")], SKILLS, MAX)
    assert [c.expert_id for c in rank_candidates(pool, mine, limit=None)] == ["b"]


def test_certified_expert_is_eligible_for_a_certified_skill() -> None:
    e = expert("a", skills={"billing": 4}, tier=2, certifications=frozenset({"billing"}))
    assert eligibility(e, RoutingRequest("t", "billing", "zh-Hans"), SKILLS["billing"], MAX) == []


def test_expert_own_limit_caps_capacity() -> None:
    e = expert("a", max_concurrent=1, load=1)
    assert [v.code for v in eligibility(e, REQ, SKILLS["general"], MAX)] == ["at_capacity"]


def test_score_explains_itself_term_by_term() -> None:
    c = explain_score(expert("a", load=1), "general", MAX)
    names = [t.name for t in c.terms]
    assert names == [
        "proficiency", "resolution_rate", "csat", "response_time", "quality", "spare_capacity",
    ]  # fmt: skip
    assert c.score == pytest.approx(sum(t.contribution for t in c.terms))
    assert all(0.0 <= t.value <= 1.0 for t in c.terms)
    assert len(c.explain()) == len(c.terms) + 1


def test_newcomer_gets_the_prior_and_beats_a_poor_veteran() -> None:
    newcomer = expert("new")
    poor = expert("old", stats=ExpertStats(resolved=2, escalated=20, csat_points=5, csat_count=20))
    ranked = rank_candidates_naive([poor, newcomer], REQ, SKILLS, MAX)
    assert [c.expert_id for c in ranked] == ["new", "old"]
    assert explain_score(newcomer, "general", MAX).terms[1].value == pytest.approx(0.8)


def test_good_track_record_and_proficiency_rank_higher() -> None:
    good = expert("good", skills={"general": 5}, stats=ExpertStats(resolved=50, escalated=2))
    plain = expert("plain", skills={"general": 2})
    assert [c.expert_id for c in rank_candidates_naive([plain, good], REQ, SKILLS, MAX)] == [
        "good",
        "plain",
    ]


def test_pool_ranks_like_the_reference_and_updates_one_expert() -> None:
    experts = [expert(f"e{i}", skills={"general": 1 + i % 5}, load=i % 4) for i in range(12)]
    pool = CandidatePool.build(experts, SKILLS, MAX)
    assert rank_candidates(pool, REQ, limit=None) == rank_candidates_naive(
        experts, REQ, SKILLS, MAX
    )
    better = replace(experts[0], skills={"general": 5}, load=0)
    updated = pool.with_expert(better)
    assert updated.buckets == CandidatePool.build([better, *experts[1:]], SKILLS, MAX).buckets
    assert rank_candidates(updated, REQ, limit=1)[0].expert_id == "e0"


def test_cascade_offers_best_then_next_then_escalates_after_max_rings() -> None:
    experts = [expert("a", skills={"general": 5}), expert("b", skills={"general": 4}), expert("c")]
    pool = CandidatePool.build(experts, SKILLS, MAX)
    kw = {"routing_mode": RoutingMode.PUSH, "max_rings": 2, "offer_timeout_s": 120}
    first = decide_next_offer(pool, REQ, NOW, **kw)  # type: ignore[arg-type]
    assert isinstance(first, OfferTo)
    assert (first.expert_id, first.ring) == ("a", 1)
    assert first.expires_at == NOW + timedelta(seconds=120)
    second = decide_next_offer(pool, replace(REQ, rung=frozenset({"a"})), NOW, **kw)  # type: ignore[arg-type]
    assert isinstance(second, OfferTo)
    assert (second.expert_id, second.ring) == ("b", 2)
    third = decide_next_offer(pool, replace(REQ, rung=frozenset({"a", "b"})), NOW, **kw)  # type: ignore[arg-type]
    assert isinstance(third, EscalateTicket)
    assert third.reason == "max_rings"


def test_cascade_escalates_on_sla_risk_and_holds_in_pull_mode_or_when_nobody_fits() -> None:
    pool = CandidatePool.build([expert("a")], SKILLS, MAX)
    risky = decide_next_offer(
        pool,
        REQ,
        NOW,
        routing_mode=RoutingMode.BOTH,
        max_rings=5,
        offer_timeout_s=60,
        sla_at_risk=True,
    )
    assert isinstance(risky, EscalateTicket)
    assert risky.reason == "sla_at_risk"
    pull = decide_next_offer(
        pool, REQ, NOW, routing_mode=RoutingMode.PULL, max_rings=5, offer_timeout_s=60
    )
    assert isinstance(pull, Hold)
    assert pull.reason == "pull_mode"
    nobody = decide_next_offer(
        pool,
        REQ,
        NOW,
        routing_mode=RoutingMode.PUSH,
        max_rings=5,
        offer_timeout_s=60,
        online={"a": False},
    )
    assert isinstance(nobody, Hold)
    assert nobody.reason == "no_eligible_expert"


def test_pull_queue_shows_what_the_expert_may_claim_even_after_declining() -> None:
    e = expert("a")
    declined = RoutingRequest("t1", "general", "zh-Hans", rung=frozenset({"a"}))
    other_lang = RoutingRequest("t2", "general", "ru")
    assert pull_queue(e, [declined, other_lang], SKILLS, MAX, routing_mode=RoutingMode.BOTH) == [
        declined
    ]
    assert pull_queue(e, [declined], SKILLS, MAX, routing_mode=RoutingMode.PUSH) == []


def test_stats_fold_counts_resolutions_escalations_csat_and_response() -> None:
    s = ExpertStats()
    s = fold_stats("a", s, TicketResolved("t", "a", Role.EXPERT, False, NOW, NOW))
    s = fold_stats("a", s, TicketEscalated("t2", Role.EXPERT, "a", "a", "why", NOW))
    s = fold_stats("a", s, CsatReceived("t", "a", 5, None, NOW))
    s = fold_stats("a", s, FirstResponded("t", "a", 120.0, NOW))
    s = fold_stats("a", s, TicketResolved("t3", "b", Role.EXPERT, False, NOW, NOW))  # not a's
    assert s == ExpertStats(
        resolved=1, escalated=1, csat_points=4, csat_count=1, response_ewma_s=120.0
    )


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

expert_ids = [f"e{i}" for i in range(8)]


@st.composite
def profiles(draw: st.DrawFn, eid: str) -> ExpertProfile:
    skills = draw(
        st.dictionaries(st.sampled_from(sorted(SKILLS)), st.integers(1, 5), min_size=1, max_size=3)
    )
    return ExpertProfile(
        expert_id=eid,
        skills=skills,
        languages=frozenset(draw(st.sets(st.sampled_from(LANGS), min_size=1, max_size=3))),
        tier=draw(st.integers(0, 3)),
        certifications=frozenset(draw(st.sets(st.sampled_from(sorted(SKILLS)), max_size=2))),
        online=draw(st.booleans()),
        load=draw(st.integers(0, 4)),
        max_concurrent=draw(st.one_of(st.none(), st.integers(1, 4))),
        stats=ExpertStats(
            resolved=draw(st.integers(0, 30)),
            escalated=draw(st.integers(0, 30)),
            csat_points=(n := draw(st.integers(0, 10))) * draw(st.integers(0, 4)),
            csat_count=n,
            response_ewma_s=draw(st.one_of(st.none(), st.floats(0, 5000))),
        ),
    )


@st.composite
def populations(draw: st.DrawFn) -> list[ExpertProfile]:
    n = draw(st.integers(0, len(expert_ids)))
    return [draw(profiles(eid)) for eid in expert_ids[:n]]


requests = st.builds(
    RoutingRequest,
    ticket_id=st.just("t1"),
    skill=st.sampled_from(sorted(SKILLS)),
    language=st.sampled_from(LANGS),
    required_tier=st.integers(0, 3),
    rung=st.frozensets(st.sampled_from(expert_ids), max_size=3),
    customer_id=st.one_of(st.none(), st.sampled_from(expert_ids)),
)


@settings(max_examples=300)
@given(populations(), requests, st.one_of(st.none(), st.integers(1, 4)))
def test_pool_equals_reference_ranking(
    experts: list[ExpertProfile], request: RoutingRequest, limit: int | None
) -> None:
    pool = CandidatePool.build(experts, SKILLS, MAX)
    fast = rank_candidates(pool, request, limit=limit)
    slow = rank_candidates_naive(experts, request, SKILLS, MAX, limit=limit)
    assert [(c.expert_id, c.score) for c in fast] == [(c.expert_id, c.score) for c in slow]
    for c in fast:
        e = next(x for x in experts if x.expert_id == c.expert_id)
        assert eligibility(e, request, SKILLS[request.skill], MAX) == []


def _event(kind: int, ticket: str, eid: str, value: int) -> TicketEvent:
    if kind == 0:
        return TicketResolved(ticket, eid, Role.EXPERT, value % 2 == 0, NOW, NOW)
    if kind == 1:
        return TicketEscalated(ticket, Role.EXPERT, eid, eid, "stuck", NOW)
    if kind == 2:
        return CsatReceived(ticket, eid, 1 + value % 5, None, NOW)
    return FirstResponded(ticket, eid, float(value * 7), NOW)


history = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from(["t1", "t2", "t3"]),
        st.sampled_from(expert_ids),
        st.integers(0, 99),
    ),
    max_size=40,
)
refusals = st.lists(
    st.tuples(
        st.integers(0, 40),
        st.booleans(),
        st.sampled_from(["t1", "t2", "t3"]),
        st.sampled_from(expert_ids),
    ),
    max_size=40,
)


def _fold(events: list[TicketEvent], base: list[ExpertProfile]) -> list[ExpertProfile]:
    out = []
    for e in base:
        stats = e.stats
        for ev in events:
            stats = fold_stats(e.expert_id, stats, ev)
        out.append(replace(e, stats=stats))
    return out


@settings(max_examples=300)
@given(populations(), history, refusals, requests)
def test_declines_and_expiries_never_change_scores_or_rank_order(
    experts: list[ExpertProfile],
    hist: list[tuple[int, str, str, int]],
    noise: list[tuple[int, bool, str, str]],
    request: RoutingRequest,
) -> None:
    """Interleave any number of declines and expiries into any history: every expert's stats,
    every score and the whole ranking for any ticket stay exactly the same."""
    events = [_event(*h) for h in hist]
    noisy = list(events)
    for pos, declined, ticket, eid in sorted(noise, reverse=True):
        refusal: TicketEvent = (
            OfferDeclined(ticket, eid, NOW) if declined else OfferExpired(ticket, eid, NOW)
        )
        noisy.insert(min(pos, len(noisy)), refusal)

    clean_experts = _fold(events, experts)
    noisy_experts = _fold(noisy, experts)
    assert [e.stats for e in clean_experts] == [e.stats for e in noisy_experts]

    clean = rank_candidates(CandidatePool.build(clean_experts, SKILLS, MAX), request, limit=None)
    after = rank_candidates(CandidatePool.build(noisy_experts, SKILLS, MAX), request, limit=None)
    assert [(c.expert_id, c.score, c.terms) for c in clean] == [
        (c.expert_id, c.score, c.terms) for c in after
    ]


@settings(max_examples=200)
@given(populations(), requests, st.sampled_from(expert_ids))
def test_a_decline_only_skips_the_decliner_for_that_ticket(
    experts: list[ExpertProfile], request: RoutingRequest, decliner: str
) -> None:
    pool = CandidatePool.build(experts, SKILLS, MAX)
    before = [c.expert_id for c in rank_candidates(pool, request, limit=None)]
    same_ticket = replace(request, rung=request.rung | {decliner})
    after = [c.expert_id for c in rank_candidates(pool, same_ticket, limit=None)]
    assert after == [x for x in before if x != decliner]  # others keep their order
    other_ticket = replace(request, ticket_id="t-other")
    assert [c.expert_id for c in rank_candidates(pool, other_ticket, limit=None)] == before


@settings(max_examples=200)
@given(populations(), st.lists(st.tuples(requests, st.integers(0, 3)), max_size=60))
def test_no_expert_ever_exceeds_capacity_in_an_assignment_run(
    experts: list[ExpertProfile], run: list[tuple[RoutingRequest, int]]
) -> None:
    """Route a stream of tickets; each offer is claimed at once (the load includes it); now and
    then someone finishes one. Nobody ever holds more than their capacity."""
    experts = [replace(e, load=min(e.load, e.max_concurrent or MAX, MAX)) for e in experts]
    pool = CandidatePool.build(experts, SKILLS, MAX)
    caps = {e.expert_id: min(MAX, e.max_concurrent or MAX) for e in experts}
    loads = {e.expert_id: e.load for e in experts}
    for i, (request, finish) in enumerate(run):
        decision = decide_next_offer(
            pool,
            replace(request, ticket_id=f"t{i}", rung=frozenset()),
            NOW,
            routing_mode=RoutingMode.BOTH,
            max_rings=5,
            offer_timeout_s=120,
            loads=loads,
        )
        if isinstance(decision, OfferTo):
            loads[decision.expert_id] += 1
        for eid in sorted(loads)[:finish]:
            if finish == 3 and loads[eid] > 0:
                loads[eid] -= 1
        assert all(loads[eid] <= caps[eid] for eid in loads), loads
