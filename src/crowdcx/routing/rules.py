"""Pure rules of routing v1: who may take a ticket, who should be offered it first, and when
to stop ringing and escalate.

Functional core, in three separate steps:

* **validate** — :func:`eligibility` returns the reasons an expert cannot take a ticket, as
  data (skill, language, tier, certification, online, capacity, already rung for this ticket);
* **decide** — :func:`rank_candidates` orders eligible experts by score, and
  :func:`decide_next_offer` turns that into the next push offer, an escalation or a wait;
* **explain** — :func:`explain_score` gives every term of a score with its input, weight and
  contribution.

The score is proficiency + a Bayesian (Beta prior) estimate of the resolution rate + a
Bayesian estimate of CSAT + spare capacity + recent response time + a Bayesian estimate of
the staff's quality reviews of the expert's work. The priors give a newcomer a score near an
ordinary expert's, so newcomers still get work.

**Declining or letting an offer expire never lowers an expert's score or future offers.**
This holds by construction: :class:`ExpertStats` — the only history the score reads — has no
field a decline or an expiry could touch, and :func:`fold_stats` leaves stats unchanged for
:class:`~crowdcx.tickets.rules.OfferDeclined` and :class:`~crowdcx.tickets.rules.OfferExpired`.
The only effect of a decline is that the same expert is not rung again *for that ticket*.
Tests prove it with Hypothesis.

Speed: :class:`CandidatePool` precomputes, once, per (skill, language) the experts holding
both, sorted by the part of the score that does not change between decisions. A decision walks
that list best-first and stops as soon as no remaining expert could beat the k-th best even at
zero load (branch and bound), so it touches a handful of experts out of thousands. Load and
online state are passed in per decision, so the pool survives claims and releases.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from crowdcx.tickets.rules import (
    CsatReceived,
    FirstResponded,
    OfferDeclined,
    OfferExpired,
    OfferMade,
    TicketClaimed,
    TicketEscalated,
    TicketEvent,
    TicketResolved,
    Violation,
)

MIN_PROFICIENCY: Final = 1
MAX_PROFICIENCY: Final = 5
MAX_TIER: Final = 3


class RoutingMode(StrEnum):
    PUSH = "push"
    PULL = "pull"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class SkillDef:
    """A skill in a brand's catalogue. ``needs_fields``: customer fields an expert must see
    unmasked to work it (policy validation checks some tier ≥ ``required_tier`` sees them)."""

    name: str
    requires_certification: bool = False
    required_tier: int = 0
    needs_fields: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ExpertStats:
    """Everything about an expert's history that the score reads. Deliberately nothing about
    offers declined or expired: those cannot lower a score because the score cannot see them."""

    resolved: int = 0  # claimed tickets resolved without staff
    escalated: int = 0  # claimed tickets handed to staff
    csat_points: int = 0  # Σ (csat − 1), each 0..4
    csat_count: int = 0
    response_ewma_s: float | None = None  # claim → first public reply, smoothed
    quality_points: int = 0  # Σ score of staff's decided quality reviews, each 0..100
    quality_count: int = 0


@dataclass(frozen=True, slots=True)
class ExpertProfile:
    expert_id: str
    skills: Mapping[str, int]  # skill name → proficiency 1..5
    languages: frozenset[str]
    tier: int = 0
    certifications: frozenset[str] = frozenset()
    online: bool = False
    load: int = 0  # claimed tickets + open offers
    max_concurrent: int | None = None  # the expert's own limit, if lower than the brand's
    stats: ExpertStats = field(default_factory=ExpertStats)


@dataclass(frozen=True, slots=True)
class RoutingWeights:
    proficiency: float = 0.35
    resolution: float = 0.25
    csat: float = 0.20
    load: float = 0.15
    response: float = 0.05
    quality: float = 0.10  # staff's reviews of the expert's work (quality/)
    resolution_prior: tuple[float, float] = (4.0, 1.0)  # Beta(α, β): mean 0.8 for newcomers
    csat_prior: tuple[float, float] = (3.0, 1.0)  # on (csat − 1) / 4: mean 0.75 ≈ CSAT 4
    response_target_s: float = 300.0  # a reply this fast scores 0.5 on that term
    response_ewma_alpha: float = 0.3
    quality_prior: tuple[float, float] = (3.0, 1.0)  # on score / 100: mean 0.75, as quality/


DEFAULT_WEIGHTS: Final = RoutingWeights()


@dataclass(frozen=True, slots=True)
class RoutingRequest:
    """The ticket as routing sees it."""

    ticket_id: str
    skill: str
    language: str
    required_tier: int = 0
    rung: frozenset[str] = frozenset()  # experts already offered THIS ticket
    customer_id: str | None = None  # who asked: never routed their own ticket (paid for it)


# --------------------------------------------------------------------------------------------
# Stats from events (declines and expiries are no-ops, by design)
# --------------------------------------------------------------------------------------------


def fold_stats(
    expert_id: str,
    stats: ExpertStats,
    event: TicketEvent,
    weights: RoutingWeights = DEFAULT_WEIGHTS,
) -> ExpertStats:
    """Update one expert's stats with one lifecycle event."""
    if isinstance(event, (OfferDeclined, OfferExpired, OfferMade, TicketClaimed)):
        return stats  # never a penalty, never a bonus
    if isinstance(event, TicketResolved):
        if event.earning_due and event.resolver_id == expert_id:
            return replace(stats, resolved=stats.resolved + 1)
        return stats
    if isinstance(event, TicketEscalated):
        if event.from_expert_id == expert_id:
            return replace(stats, escalated=stats.escalated + 1)
        return stats
    if isinstance(event, CsatReceived):
        if event.expert_id == expert_id and 1 <= event.csat <= 5:
            return replace(
                stats,
                csat_points=stats.csat_points + event.csat - 1,
                csat_count=stats.csat_count + 1,
            )
        return stats
    if isinstance(event, FirstResponded):
        if event.responder_id == expert_id and event.seconds_since_claim is not None:
            s = max(0.0, event.seconds_since_claim)
            prev = stats.response_ewma_s
            a = weights.response_ewma_alpha
            return replace(stats, response_ewma_s=s if prev is None else a * s + (1 - a) * prev)
        return stats
    return stats


# --------------------------------------------------------------------------------------------
# Validate: eligibility
# --------------------------------------------------------------------------------------------


def capacity_of(expert: ExpertProfile, max_concurrent: int) -> int:
    if expert.max_concurrent is None:
        return max_concurrent
    return min(max_concurrent, expert.max_concurrent)


def eligibility(
    expert: ExpertProfile,
    request: RoutingRequest,
    skill: SkillDef | None,
    max_concurrent: int,
    *,
    load: int | None = None,
    online: bool | None = None,
) -> list[Violation]:
    """Every reason ``expert`` cannot take ``request`` now; empty means eligible."""
    reasons: list[Violation] = []
    if skill is None:
        reasons.append(
            Violation("skill_unknown", f"skill {request.skill!r} is not in the catalogue")
        )
    if request.skill not in expert.skills:
        reasons.append(
            Violation(
                "skill_missing",
                f"does not have skill {request.skill}",
                params=(("skill", request.skill),),
            )
        )
    if request.language not in expert.languages:
        reasons.append(
            Violation(
                "language_missing",
                f"does not speak {request.language}",
                params=(("language", request.language),),
            )
        )
    needed_tier = max(request.required_tier, skill.required_tier if skill else 0)
    if expert.tier < needed_tier:
        reasons.append(
            Violation(
                "tier_too_low",
                f"tier {expert.tier} is below the required tier {needed_tier}",
                params=(("tier", str(expert.tier)), ("required", str(needed_tier))),
            )
        )
    if (
        skill is not None
        and skill.requires_certification
        and skill.name not in expert.certifications
    ):
        reasons.append(
            Violation(
                "certification_missing",
                f"not certified for {skill.name}",
                params=(("skill", skill.name),),
            )
        )
    if not (expert.online if online is None else online):
        reasons.append(Violation("offline", "is offline"))
    current = expert.load if load is None else load
    cap = capacity_of(expert, max_concurrent)
    if current >= cap:
        reasons.append(
            Violation(
                "at_capacity",
                f"already holds {current} of {cap} tickets",
                params=(("load", str(current)), ("capacity", str(cap))),
            )
        )
    if expert.expert_id in request.rung:
        reasons.append(Violation("already_rung", "was already offered this ticket"))
    if request.customer_id is not None and expert.expert_id == request.customer_id:
        reasons.append(Violation("own_ticket", "asked this ticket as a customer"))
    return reasons


# --------------------------------------------------------------------------------------------
# Decide: score and rank
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreTerm:
    name: str
    input: str  # what the term was computed from, for people
    value: float  # normalised to 0..1
    weight: float
    contribution: float  # value × weight


@dataclass(frozen=True, slots=True)
class Candidate:
    expert_id: str
    score: float
    terms: tuple[ScoreTerm, ...]

    def explain(self) -> list[str]:
        return [
            f"{t.name}: {t.input} → {t.value:.3f} × {t.weight:.2f} = {t.contribution:.3f}"
            for t in self.terms
        ] + [f"score = {self.score:.3f}"]


def _beta_mean(successes: float, failures: float, prior: tuple[float, float]) -> float:
    a, b = prior
    return (a + successes) / (a + b + successes + failures)


def _static_terms(expert: ExpertProfile, skill: str, w: RoutingWeights) -> tuple[ScoreTerm, ...]:
    st = expert.stats
    prof = min(max(expert.skills.get(skill, MIN_PROFICIENCY), MIN_PROFICIENCY), MAX_PROFICIENCY)
    prof_v = (prof - MIN_PROFICIENCY) / (MAX_PROFICIENCY - MIN_PROFICIENCY)
    res_v = _beta_mean(st.resolved, st.escalated, w.resolution_prior)
    csat_s = st.csat_points / 4.0
    csat_v = _beta_mean(csat_s, st.csat_count - csat_s, w.csat_prior)
    if st.response_ewma_s is None:
        resp_v, resp_in = 0.5, "no replies yet (neutral)"
    else:
        resp_v = w.response_target_s / (w.response_target_s + max(0.0, st.response_ewma_s))
        resp_in = f"replies in ~{st.response_ewma_s:.0f}s"
    qual_s = st.quality_points / 100.0
    qual_v = _beta_mean(qual_s, st.quality_count - qual_s, w.quality_prior)
    return (
        ScoreTerm(
            "proficiency", f"{skill} {prof}/5", prof_v, w.proficiency, prof_v * w.proficiency
        ),
        ScoreTerm(
            "resolution_rate",
            f"{st.resolved} resolved, {st.escalated} escalated, prior Beta{w.resolution_prior}",
            res_v,
            w.resolution,
            res_v * w.resolution,
        ),
        ScoreTerm(
            "csat",
            f"{st.csat_count} ratings, prior Beta{w.csat_prior}",
            csat_v,
            w.csat,
            csat_v * w.csat,
        ),
        ScoreTerm("response_time", resp_in, resp_v, w.response, resp_v * w.response),
        ScoreTerm(
            "quality",
            f"{st.quality_count} reviews, prior Beta{w.quality_prior}",
            qual_v,
            w.quality,
            qual_v * w.quality,
        ),
    )


def static_score(expert: ExpertProfile, skill: str, w: RoutingWeights = DEFAULT_WEIGHTS) -> float:
    """The part of the score that does not depend on current load."""
    t = _static_terms(expert, skill, w)
    return sum(term.contribution for term in t)


def _load_value(load: int, cap: int) -> float:
    if cap <= 0:
        return 0.0
    return max(0.0, 1.0 - load / cap)


def explain_score(
    expert: ExpertProfile,
    skill: str,
    max_concurrent: int,
    w: RoutingWeights = DEFAULT_WEIGHTS,
    *,
    load: int | None = None,
) -> Candidate:
    """Score with a per-term explanation. ``score`` equals what :func:`rank_candidates` uses."""
    current = expert.load if load is None else load
    cap = capacity_of(expert, max_concurrent)
    lv = _load_value(current, cap)
    terms = (
        *_static_terms(expert, skill, w),
        ScoreTerm("spare_capacity", f"{current}/{cap} tickets", lv, w.load, lv * w.load),
    )
    return Candidate(expert.expert_id, static_score(expert, skill, w) + lv * w.load, terms)


def _order_key(c: Candidate) -> tuple[float, str]:
    return (-c.score, c.expert_id)


def rank_candidates_naive(
    experts: Iterable[ExpertProfile],
    request: RoutingRequest,
    skills: Mapping[str, SkillDef],
    max_concurrent: int,
    w: RoutingWeights = DEFAULT_WEIGHTS,
    *,
    loads: Mapping[str, int] | None = None,
    online: Mapping[str, bool] | None = None,
    limit: int | None = None,
) -> list[Candidate]:
    """Reference implementation: check and score everyone. Same answer as the pool's."""
    skill = skills.get(request.skill)
    out = []
    for e in experts:
        load = loads.get(e.expert_id, e.load) if loads is not None else e.load
        on = online.get(e.expert_id, e.online) if online is not None else e.online
        if not eligibility(e, request, skill, max_concurrent, load=load, online=on):
            out.append(explain_score(e, request.skill, max_concurrent, w, load=load))
    out.sort(key=_order_key)
    return out if limit is None else out[:limit]


# One pool entry: (−static score, expert id, tier, capacity, base load, base online).
_Entry = tuple[float, str, int, int, int, bool]


@dataclass(frozen=True, slots=True)
class CandidatePool:
    """Experts indexed per (skill, language), best static score first. Build once with
    :meth:`build`; replace one expert with :meth:`with_expert` when a profile changes."""

    skills: Mapping[str, SkillDef]
    max_concurrent: int
    weights: RoutingWeights
    experts: Mapping[str, ExpertProfile]
    buckets: Mapping[tuple[str, str], tuple[_Entry, ...]]

    @classmethod
    def build(
        cls,
        experts: Iterable[ExpertProfile],
        skills: Mapping[str, SkillDef],
        max_concurrent: int,
        weights: RoutingWeights = DEFAULT_WEIGHTS,
    ) -> CandidatePool:
        by_id = {e.expert_id: e for e in experts}
        lists: dict[tuple[str, str], list[_Entry]] = {}
        for e in by_id.values():
            for skill_name, entry_key in _entries_for(e, skills, max_concurrent, weights):
                for lang in e.languages:
                    lists.setdefault((skill_name, lang), []).append(entry_key)
        buckets = {k: tuple(sorted(v)) for k, v in lists.items()}
        return cls(dict(skills), max_concurrent, weights, by_id, buckets)

    def with_expert(self, expert: ExpertProfile) -> CandidatePool:
        """A new pool with ``expert`` added or replaced (other buckets are shared)."""
        eid = expert.expert_id
        buckets = dict(self.buckets)
        old = self.experts.get(eid)
        if old is not None:
            for skill_name in old.skills:
                for lang in old.languages:
                    key = (skill_name, lang)
                    if key in buckets:
                        buckets[key] = tuple(x for x in buckets[key] if x[1] != eid)
        for skill_name, entry in _entries_for(
            expert, self.skills, self.max_concurrent, self.weights
        ):
            for lang in expert.languages:
                key = (skill_name, lang)
                items = list(buckets.get(key, ()))
                bisect.insort(items, entry)
                buckets[key] = tuple(items)
        experts = dict(self.experts)
        experts[eid] = expert
        return replace(self, experts=experts, buckets=buckets)

    def __len__(self) -> int:
        return len(self.experts)


def _entries_for(
    e: ExpertProfile, skills: Mapping[str, SkillDef], max_concurrent: int, w: RoutingWeights
) -> list[tuple[str, _Entry]]:
    out: list[tuple[str, _Entry]] = []
    for skill_name in e.skills:
        sd = skills.get(skill_name)
        if sd is None:
            continue
        if sd.requires_certification and skill_name not in e.certifications:
            continue  # never eligible for this skill: keep it out of the bucket
        entry: _Entry = (
            -static_score(e, skill_name, w),
            e.expert_id,
            e.tier,
            capacity_of(e, max_concurrent),
            e.load,
            e.online,
        )
        out.append((skill_name, entry))
    return out


def rank_candidates(
    pool: CandidatePool,
    request: RoutingRequest,
    *,
    loads: Mapping[str, int] | None = None,
    online: Mapping[str, bool] | None = None,
    limit: int | None = 5,
) -> list[Candidate]:
    """Eligible experts for ``request``, best first (ties by expert id), with explanations.

    ``loads``/``online`` override the profiles' values (the live state at decision time).
    Equal to :func:`rank_candidates_naive` over the pool's experts.
    """
    skill = pool.skills.get(request.skill)
    bucket = pool.buckets.get((request.skill, request.language))
    if skill is None or not bucket or limit == 0:
        return []
    needed_tier = max(request.required_tier, skill.required_tier)
    w_load = pool.weights.load
    rung = request.rung
    customer = request.customer_id
    # top: sorted list of (−score, expert id, load)
    top: list[tuple[float, str, int]] = []
    full = False
    for neg_static, eid, tier, cap, base_load, base_online in bucket:
        if full and -neg_static + w_load < -top[-1][0]:
            break  # nobody further down can beat the k-th best, even at zero load
        if tier < needed_tier or eid in rung or eid == customer:
            continue
        if not (online.get(eid, base_online) if online is not None else base_online):
            continue
        load = loads.get(eid, base_load) if loads is not None else base_load
        if load >= cap:
            continue
        score = -neg_static + _load_value(load, cap) * w_load
        item = (-score, eid, load)
        if limit is None:
            top.append(item)
            continue
        if full and item >= top[-1]:
            continue
        bisect.insort(top, item)
        if len(top) > limit:
            top.pop()
        full = len(top) == limit
    if limit is None:
        top.sort()
    result = []
    for _neg, eid, load in top:
        c = explain_score(
            pool.experts[eid], request.skill, pool.max_concurrent, pool.weights, load=load
        )
        result.append(c)
    return result


# --------------------------------------------------------------------------------------------
# Decide: the push cascade
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferTo:
    expert_id: str
    expires_at: datetime
    candidate: Candidate
    ring: int  # 1 for the first offer of this ticket


@dataclass(frozen=True, slots=True)
class EscalateTicket:
    reason: str  # "max_rings" | "sla_at_risk"
    explanation: str


@dataclass(frozen=True, slots=True)
class Hold:
    """Leave the ticket queued (pull mode, or nobody eligible right now)."""

    reason: str  # "pull_mode" | "no_eligible_expert"
    explanation: str


OfferDecision = OfferTo | EscalateTicket | Hold


def decide_next_offer(
    pool: CandidatePool,
    request: RoutingRequest,
    now: datetime,
    *,
    routing_mode: RoutingMode,
    max_rings: int,
    offer_timeout_s: int,
    sla_at_risk: bool = False,
    loads: Mapping[str, int] | None = None,
    online: Mapping[str, bool] | None = None,
) -> OfferDecision:
    """The next step of the push cascade for a queued ticket.

    Called on intake and after every decline or expiry. Experts already rung for this ticket
    (``request.rung``) are skipped; after ``max_rings`` offers without a taker, or when the SLA
    is at risk, the ticket goes to staff.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if sla_at_risk:
        return EscalateTicket("sla_at_risk", "the SLA is at risk: staff take over")
    if len(request.rung) >= max_rings:
        return EscalateTicket(
            "max_rings", f"offered to {len(request.rung)} experts without a taker"
        )
    if routing_mode is RoutingMode.PULL:
        return Hold("pull_mode", "the brand routes by pull queue only")
    best = rank_candidates(pool, request, loads=loads, online=online, limit=1)
    if not best:
        return Hold("no_eligible_expert", "no eligible expert is online with spare capacity")
    expires = now + timedelta(seconds=offer_timeout_s)
    return OfferTo(best[0].expert_id, expires, best[0], len(request.rung) + 1)


def pull_queue(
    expert: ExpertProfile,
    requests: Iterable[RoutingRequest],
    skills: Mapping[str, SkillDef],
    max_concurrent: int,
    *,
    routing_mode: RoutingMode,
) -> list[RoutingRequest]:
    """Queued tickets this expert could claim now (empty in push-only mode).

    Capacity and online state are checked; having declined a ticket does not hide it."""
    if routing_mode is RoutingMode.PUSH:
        return []
    out = []
    for r in requests:
        reasons = eligibility(
            expert, replace(r, rung=frozenset()), skills.get(r.skill), max_concurrent
        )
        if not reasons:
            out.append(r)
    return out
