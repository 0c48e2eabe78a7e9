"""Ranking, visibility and hand-off rules for search. Pure: plain values in, decisions out.

- :func:`score` blends text relevance with helpfulness feedback, accepted / brand-approved
  status, language match with the reader and freshness; it returns the total *and* a
  term-by-term explanation that sums to it.
- :func:`one_per_group` shows one translation of an article, the reader's own where found.
- :func:`visible_to` says which visibilities a viewer role may see (default deny).
- :func:`choose_oos_threshold` / :func:`is_out_of_scope` decide "no good answer: hand off to the
  community or an expert", with a threshold calibrated on labelled data (dev split or
  cross-fitting, never the queries it is applied to).

Only the standard library; ``now`` and every policy come in as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

Visibility = Literal["public", "experts", "staff"]
Role = Literal["anonymous", "customer", "helper", "expert", "agent", "admin"]

_VISIBLE: Final[dict[str, tuple[Visibility, ...]]] = {
    "anonymous": ("public",),
    "customer": ("public",),
    "helper": ("public",),
    "expert": ("public", "experts"),
    "agent": ("public", "experts", "staff"),
    "admin": ("public", "experts", "staff"),
}


def visible_to(role: str) -> tuple[Visibility, ...]:
    """Visibilities a viewer with ``role`` may see. Unknown roles see only public content."""
    return _VISIBLE.get(role, ("public",))


def may_see(role: str, visibility: str) -> bool:
    return visibility in visible_to(role)


# --- helpfulness ----------------------------------------------------------------------------


def wilson_lower_bound(up: int, down: int, z: float = 1.96) -> float:
    """Lower bound of the Wilson score interval for the share of positive votes (0 if none)."""
    up, down = max(up, 0), max(down, 0)
    n = up + down
    if n == 0:
        return 0.0
    p = up / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt((p * (1 - p) + z * z / (4 * n)) / n)
    return min(max((centre - margin) / (1 + z * z / n), 0.0), 1.0)


def bayesian_helpfulness(
    helpful: int, unhelpful: int, prior_mean: float = 0.5, prior_weight: float = 4.0
) -> float:
    """Posterior mean share of "helpful" votes with a Beta prior worth ``prior_weight`` votes.

    No votes gives ``prior_mean``; a handful of votes moves it a little, many votes a lot.
    """
    helpful, unhelpful = max(helpful, 0), max(unhelpful, 0)
    return (helpful + prior_mean * prior_weight) / (helpful + unhelpful + prior_weight)


# --- ranking --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankingPolicy:
    """How much each signal may move a result. Every boost is relative to text relevance."""

    helpfulness_weight: float = 0.3  # × (posterior − prior): ±0.15 at the extremes
    prior_mean: float = 0.5
    prior_weight: float = 4.0
    accepted_boost: float = 0.15
    brand_approved_boost: float = 0.2
    language_match_boost: float = 0.1
    freshness_boost: float = 0.05  # the most a brand-new document gains
    freshness_half_life_days: float = 180.0


@dataclass(frozen=True, slots=True)
class RankSignals:
    """What the ranking knows about one candidate (no ids: the caller keeps those)."""

    text_score: float
    helpful_votes: int = 0
    unhelpful_votes: int = 0
    accepted: bool = False
    brand_approved: bool = False
    language: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Term:
    name: str
    contribution: float
    detail: str


@dataclass(frozen=True, slots=True)
class Scored:
    total: float
    terms: tuple[Term, ...]

    def explain(self) -> str:
        lines = [f"{t.name}: {t.contribution:+.4f} ({t.detail})" for t in self.terms]
        return "\n".join([*lines, f"total: {self.total:.4f}"])


def _language_match(a: str, b: str) -> float:
    """1 for the reader's own language; ½ for Chinese in the other script — zh-Hans and
    zh-Hant readers read each other's text (the index folds the scripts), but a reader of
    Traditional Chinese got the Simplified variant of an article first as often as their
    own; 0 otherwise."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return 0.5 if a.startswith("zh") and b.startswith("zh") else 0.0


def score(
    signals: RankSignals, reader_language: str, now: datetime, policy: RankingPolicy
) -> Scored:
    """``text × (1 + Σ boosts)``, explained as the additive contribution of every term."""
    text = max(signals.text_score, 0.0)
    if math.isnan(text) or math.isinf(text):
        text = 0.0
    boosts: list[tuple[str, float, str]] = []
    posterior = bayesian_helpfulness(
        signals.helpful_votes, signals.unhelpful_votes, policy.prior_mean, policy.prior_weight
    )
    boosts.append(
        (
            "helpfulness",
            policy.helpfulness_weight * (posterior - policy.prior_mean),
            f"{signals.helpful_votes} helpful / {signals.unhelpful_votes} not → {posterior:.3f}",
        )
    )
    if signals.accepted:
        boosts.append(("accepted", policy.accepted_boost, "accepted answer"))
    if signals.brand_approved:
        boosts.append(("brand_approved", policy.brand_approved_boost, "approved by the brand"))
    match = _language_match(signals.language, reader_language)
    if match:
        boosts.append(
            ("language", policy.language_match_boost * match,
             f"{signals.language} ~ reader's {reader_language}" if match < 1
             else f"{signals.language} = reader's language")
        )  # fmt: skip
    if signals.updated_at is not None and policy.freshness_half_life_days > 0:
        age_days = max((now - signals.updated_at).total_seconds() / 86400, 0.0)
        decay = 0.5 ** (age_days / policy.freshness_half_life_days)
        boosts.append(
            ("freshness", policy.freshness_boost * decay, f"updated {age_days:.0f} days ago")
        )
    terms = [Term("text", text, "text relevance (BM25)")]
    terms.extend(Term(name, text * boost, detail) for name, boost, detail in boosts)
    total = sum(t.contribution for t in terms)
    return Scored(total, tuple(terms))


def rank(
    candidates: Sequence[RankSignals],
    reader_language: str,
    now: datetime,
    policy: RankingPolicy,
) -> list[tuple[int, Scored]]:
    """Indices of ``candidates`` best first with their scores; ties keep the input order."""
    scored = [(i, score(c, reader_language, now, policy)) for i, c in enumerate(candidates)]
    return sorted(scored, key=lambda pair: (-pair[1].total, pair[0]))


def one_per_group(
    groups: Sequence[Hashable], languages: Sequence[str], reader_language: str
) -> list[tuple[int, int]]:
    """Collapse translations of one article to one result.

    ``groups`` and ``languages`` describe candidates already in rank order (a group is an
    article's translation group; any other result is a group of its own). Each group appears
    once, at the place of its best-ranked member (the *lead*, whose score orders it), shown as
    the member closest to the reader's language — their own, else Chinese in the other
    script, else the lead itself. Returns ``(lead, shown)`` positions, best first."""
    members: dict[Hashable, list[int]] = {}
    for pos, group in enumerate(groups):
        members.setdefault(group, []).append(pos)
    out: list[tuple[int, int]] = []
    for positions in members.values():
        lead = positions[0]
        shown = max(positions, key=lambda p: (_language_match(languages[p], reader_language), -p))
        out.append((lead, shown))
    out.sort()
    return out


# --- out of scope ---------------------------------------------------------------------------


# Calibrated by bench/search_oos_calibration.py on CLINC150's dev split (val + oos_val),
# checked on CLINC150 test and HINT3 with this one fixed value (docs/benchmarks.md).
DEFAULT_OOS_THRESHOLD: Final = 0.25  # dev fit 0.2456 with trigrams (0.2726 without)


def confidence(top_score: float, max_score: float | None) -> float:
    """The best hit's share of the query's attainable BM25 evidence, in [0, 1]. Comparable
    across brands and query lengths, unlike a raw score. Without a bound (a backend that
    cannot give one), any hit counts as full confidence."""
    if max_score is None or max_score <= 0 or math.isnan(top_score):
        return 1.0 if top_score > 0 else 0.0
    return min(max(top_score / max_score, 0.0), 1.0)


def is_out_of_scope(top_score: float | None, threshold: float) -> bool:
    """Hand off when there is no result or the best text score is below ``threshold``."""
    return top_score is None or math.isnan(top_score) or top_score < threshold


@dataclass(frozen=True, slots=True)
class OosFit:
    threshold: float
    precision: float
    recall: float
    f1: float


def _between(low: float, high: float) -> float:
    """A threshold above ``low`` and at most ``high``: their midpoint, or ``high`` when the two
    are so close no float lies between (0 and 5e-324: the midpoint rounded to 0, so the cut
    meant to hand off ``low`` handed off nothing). Written so that it cannot overflow."""
    mid = low + (high - low) / 2
    return mid if low < mid <= high else high


def fit_oos_threshold(scores: Sequence[float], is_oos: Sequence[bool]) -> OosFit:
    """The threshold maximising out-of-scope F1 on labelled data (hand off if score < it).

    Candidates are midpoints between neighbouring distinct scores, plus "hand off nothing"
    and "hand off everything"; ties go to the lowest threshold (the fewest hand-offs).
    """
    if len(scores) != len(is_oos):
        raise ValueError("scores and labels differ in length")
    pairs = sorted(
        (0.0 if math.isnan(s) else s, bool(o)) for s, o in zip(scores, is_oos, strict=True)
    )
    total_oos = sum(1 for _, o in pairs if o)
    if not pairs:
        return OosFit(0.0, 0.0, 0.0, 0.0)
    best = OosFit(pairs[0][0], 0.0, 0.0, 0.0)  # below every score: nothing handed off
    handed = handed_oos = 0
    i = 0
    while i < len(pairs):
        value = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == value:
            handed += 1
            handed_oos += int(pairs[i][1])
            i += 1
        threshold = _between(value, pairs[i][0]) if i < len(pairs) else value + 1.0
        precision = handed_oos / handed if handed else 0.0
        recall = handed_oos / total_oos if total_oos else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best.f1:
            best = OosFit(threshold, precision, recall, f1)
    return best


def choose_oos_threshold(scores: Sequence[float], is_oos: Sequence[bool]) -> float:
    return fit_oos_threshold(scores, is_oos).threshold


# --- deflection: a solved case counts once --------------------------------------------------


@dataclass(frozen=True, slots=True)
class SolvedMark:
    """A reader said a suggestion (an article or a community question) solved it."""

    visitor: str | None  # web.deps.visitor_key; "u:<user id>" when signed in
    kind: str
    ref_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DeflectedCase:
    """A ticket whose customer said a suggestion solved it. ``solved_by`` is the suggestion
    (kind, id) the customer named; None when they did not say which (the body-less deflect,
    and every ticket deflected before that was recorded)."""

    visitor: str  # the customer's visitor key, "u:<customer id>"
    opened_at: datetime  # when the ticket was written
    at: datetime  # when it was deflected
    solved_by: tuple[str, str] | None


def same_case(mark: SolvedMark, case: DeflectedCase) -> bool:
    """Whether a reader's "this solved it" is the deflected ticket's case again, already
    counted by the ticket. Exact where the ticket names its suggestion: the ticket's customer
    marked that very suggestion, after writing the ticket and by the end of the (UTC) day it
    was deflected. Where it does not, the rule from before the record: the same customer, the
    same (UTC) day."""
    if mark.visitor is None or mark.visitor != case.visitor:
        return False
    if case.solved_by is None:
        return mark.at.date() == case.at.date()
    return (
        (mark.kind, mark.ref_id) == case.solved_by
        and case.opened_at <= mark.at
        and mark.at.date() <= case.at.date()
    )


def separate_cases(marks: Sequence[SolvedMark], cases: Sequence[DeflectedCase]) -> int:
    """How many of the readers' "this solved it" marks are cases of their own, not a deflected
    ticket's (which the ticket counts once)."""
    by_visitor: dict[str, list[DeflectedCase]] = {}
    for case in cases:
        by_visitor.setdefault(case.visitor, []).append(case)
    return sum(
        1
        for mark in marks
        if not any(same_case(mark, case) for case in by_visitor.get(mark.visitor or "", ()))
    )
