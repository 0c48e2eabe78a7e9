"""Quality control of the paid crowd (pure): which expert resolutions staff review, how a
review's scorecard becomes one score, and an expert's quality in one number.

Plain values in, decisions and their reasons (as data) out. Nothing here draws a random
number: the shell passes the sample's draw, a keyed hash of the ticket (:func:`draw_for`),
so the same ticket always gets the same answer and the reasons can show it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Final

from crowdcx.tickets.rules import Violation

SCORE_MIN: Final = 1
SCORE_MAX: Final = 5
MAX_COMMENT: Final = 4000


@dataclass(frozen=True, slots=True)
class Criterion:
    """One line of the scorecard, scored 1–5; ``weight`` is its share of the score."""

    code: str
    weight: int


@dataclass(frozen=True, slots=True)
class Scorecard:
    criteria: tuple[Criterion, ...]
    pass_mark: int = 70  # a review passes at this weighted score (0–100) or above

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria)


# solved: did it solve the customer's problem; accuracy: was what the expert said right;
# tone: courteous and clear; policy: followed the brand's policy and handled data as told.
DEFAULT_SCORECARD: Final = Scorecard(
    (
        Criterion("solved", 40),
        Criterion("accuracy", 25),
        Criterion("tone", 15),
        Criterion("policy", 20),
    )
)


def scorecard_problems(card: Scorecard) -> list[Violation]:
    """A scorecard must name each criterion once, weigh none below zero and some above it (a
    criterion of weight 0 is still scored, but does not count towards the score)."""
    found: list[Violation] = []
    if not card.criteria:
        found.append(
            Violation("scorecard_empty", "a scorecard needs a criterion", "criteria", "invalid")
        )
    if len(set(card.codes)) != len(card.codes):
        found.append(
            Violation("criterion_twice", "a criterion is named twice", "criteria", "invalid")
        )
    if any(c.weight < 0 for c in card.criteria):
        found.append(
            Violation("weight_negative", "a weight cannot be negative", "criteria", "invalid")
        )
    elif card.criteria and sum(c.weight for c in card.criteria) <= 0:
        found.append(
            Violation(
                "weights_zero", "at least one weight must be above zero", "criteria", "invalid"
            )
        )
    if not 0 <= card.pass_mark <= 100:
        found.append(
            Violation("pass_mark_range", "the pass mark runs from 0 to 100", "pass_mark", "invalid")
        )
    return found


def score_problems(card: Scorecard, scores: Mapping[str, object]) -> list[Violation]:
    """Every criterion scored once, as a whole number 1–5, and nothing else; one violation
    per problem, naming the criterion (``field`` is ``scores.<criterion>``)."""
    found: list[Violation] = []
    for code in card.codes:
        if code not in scores:
            found.append(
                Violation(
                    "score_missing",
                    f"{code} is not scored",
                    f"scores.{code}",
                    "invalid",
                    (("criterion", code),),
                )
            )
            continue
        value = scores[code]
        if isinstance(value, bool) or not isinstance(value, int):
            found.append(
                Violation(
                    "score_not_integer",
                    f"{code} must be a whole number 1-5",
                    f"scores.{code}",
                    "invalid",
                    (("criterion", code),),
                )
            )
        elif not SCORE_MIN <= value <= SCORE_MAX:
            found.append(
                Violation(
                    "score_out_of_range",
                    f"{code} must be 1-5, not {value}",
                    f"scores.{code}",
                    "invalid",
                    (("criterion", code), ("value", str(value))),
                )
            )
    for code in scores:
        if code not in card.codes:
            found.append(
                Violation(
                    "criterion_unknown",
                    f"there is no criterion {code!r}",
                    f"scores.{code}",
                    "invalid",
                    (("criterion", code),),
                )
            )
    return found


def weighted_score_exact(card: Scorecard, scores: Mapping[str, int]) -> Fraction:
    """The weighted score 0–100, exactly: each criterion's 1–5 as 0–100 (1 → 0, 5 → 100),
    averaged by weight."""
    total = sum(c.weight for c in card.criteria)
    points = sum(
        (
            Fraction(c.weight * (scores[c.code] - SCORE_MIN) * 100, SCORE_MAX - SCORE_MIN)
            for c in card.criteria
        ),
        Fraction(0),
    )
    return points / total


def weighted_score(card: Scorecard, scores: Mapping[str, int]) -> int:
    """:func:`weighted_score_exact` rounded half up to a whole number 0–100. Call it only
    with scores :func:`score_problems` found nothing wrong with."""
    exact = weighted_score_exact(card, scores)
    return int(
        (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )


def passes(card: Scorecard, score: int) -> bool:
    return score >= card.pass_mark


def passed_at(score: int, mark: int | None, card: Scorecard) -> bool:
    """Whether a decided review passed: judged by ``mark``, the pass mark it was decided by
    (kept with the review), so raising the brand's mark later does not fail last month's
    reviews. A review with no recorded mark (decided before marks were kept, and not
    back-filled) is judged by ``card``'s."""
    return score >= (card.pass_mark if mark is None else mark)


def recorded_weights(card: Scorecard) -> list[list[str | int]]:
    """The scorecard's criteria and weights as a decided review keeps them (JSON: pairs in the
    card's order, which a JSON object would not keep on PostgreSQL's jsonb)."""
    return [[c.code, c.weight] for c in card.criteria]


def card_decided_by(
    weights: Sequence[Any] | None, mark: int | None, today: Scorecard
) -> tuple[Scorecard, bool]:
    """The scorecard a decided review was weighed by, and whether it is the recorded one: its
    criteria and weights as kept at the decision (:func:`recorded_weights`) with the pass mark
    it was decided by. A review decided before weights were kept (or whose record is not
    pairs of a code and a weight ≥ 0) is shown with ``today``'s weights, said so by the
    ``False``."""
    criteria: list[Criterion] = []
    for pair in weights or ():
        if not (isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2):
            return today, False
        code, weight = pair
        if not isinstance(code, str) or type(weight) is not int or weight < 0:
            return today, False
        criteria.append(Criterion(code, weight))
    if not criteria:
        return today, False
    return Scorecard(tuple(criteria), today.pass_mark if mark is None else mark), True


# --------------------------------------------------------------------------------------------
# Sampling: which expert resolutions are reviewed
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SamplingPolicy:
    base_rate: Fraction = Fraction(1, 10)  # of every expert's resolutions, at random
    newcomer_reviews: int = 5  # an expert with fewer reviews than this: every resolution
    low_csat: int | None = 2  # a customer rating at or below this: always (None: never)
    reopened: bool = True  # a resolution the customer reopened: always


DEFAULT_SAMPLING: Final = SamplingPolicy()
# The scorecard's criteria: a brand weighs them (tickets.policy, the "quality" section) but
# cannot add or remove one (the pages, the API and the stored scores know these four).
CRITERIA: Final = DEFAULT_SCORECARD.codes


@dataclass(frozen=True, slots=True)
class QualityPolicy:
    """A brand's quality control: which resolutions are sampled and the scorecard they are
    decided by (part of the brand's ticket policy)."""

    sampling: SamplingPolicy = DEFAULT_SAMPLING
    scorecard: Scorecard = DEFAULT_SCORECARD


DEFAULT_QUALITY: Final = QualityPolicy()


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the sample decision knows of one expert resolution (or of what followed it)."""

    ticket_id: str
    expert_id: str
    draw: float  # the ticket's place in [0, 1), from :func:`draw_for`
    reviews_before: int  # the expert's reviews in this brand so far (pending or decided)
    csat: int | None = None  # the customer's rating, once given
    reopened: bool = False  # the customer reopened the ticket


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a resolution is reviewed, as data: ``code`` plus what the shell needs to say it."""

    code: str  # base_rate | newcomer | low_csat | reopened
    params: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, **dict(self.params)}


@dataclass(frozen=True, slots=True)
class SampleDecision:
    sampled: bool
    reasons: tuple[Reason, ...]


def draw_for(key: bytes, brand_id: str, ticket_id: str) -> float:
    """The ticket's place in [0, 1): HMAC-SHA-256 of brand and ticket under ``key`` (the
    server's secret), so nobody who knows a ticket's id can tell whether it will be drawn."""
    digest = hmac.new(key, f"quality:{brand_id}:{ticket_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sampling_reasons(
    r: Resolution, policy: SamplingPolicy = DEFAULT_SAMPLING
) -> tuple[Reason, ...]:
    """Every reason this resolution is reviewed (none: it is not), in a fixed order."""
    if not 0 <= r.draw < 1:
        raise ValueError("the draw must lie in [0, 1)")
    found: list[Reason] = []
    if r.reviews_before < policy.newcomer_reviews:
        found.append(
            Reason(
                "newcomer",
                (("reviews", str(r.reviews_before)), ("needed", str(policy.newcomer_reviews))),
            )
        )
    if r.csat is not None and policy.low_csat is not None and r.csat <= policy.low_csat:
        found.append(Reason("low_csat", (("csat", str(r.csat)),)))
    if r.reopened and policy.reopened:
        found.append(Reason("reopened"))
    if Fraction(r.draw) < policy.base_rate:
        rate = f"{float(policy.base_rate * 100):g}"
        found.append(Reason("base_rate", (("rate", rate), ("draw", f"{r.draw:.4f}"))))
    return tuple(found)


def decide_sample(r: Resolution, policy: SamplingPolicy = DEFAULT_SAMPLING) -> SampleDecision:
    reasons = sampling_reasons(r, policy)
    return SampleDecision(bool(reasons), reasons)


def merge_reasons(old: Iterable[Mapping[str, str]], new: Iterable[Reason]) -> list[dict[str, str]]:
    """A review's stored reasons with ``new`` ones added, one per code (the first kept)."""
    out = [dict(x) for x in old]
    codes = {x.get("code") for x in out}
    for reason in new:
        if reason.code not in codes:
            out.append(reason.as_dict())
            codes.add(reason.code)
    return out


# --------------------------------------------------------------------------------------------
# An expert's quality
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QualityPrior:
    """What an expert is assumed to score before any review, and how many reviews that
    assumption is worth: one review moves the summary a little, many move it all the way."""

    mean: int = 75
    weight: int = 5


DEFAULT_PRIOR: Final = QualityPrior()


@dataclass(frozen=True, slots=True)
class QualitySummary:
    reviews: int
    average: float | None  # the plain mean of the decided reviews' scores
    score: float  # the Bayesian average: (prior × weight + sum) / (weight + reviews)
    passed: int  # each at the pass mark it was decided by
    pass_share: float | None  # passed / reviews
    pass_mark: int  # the brand's pass mark now (what the next review is decided by)


@dataclass(frozen=True, slots=True)
class Decided:
    """A decided review as the summary reads it: its score and the pass mark it was decided
    by (None: not recorded, the card's applies)."""

    score: int
    pass_mark: int | None = None


def summarize(
    decided: Iterable[Decided],
    card: Scorecard = DEFAULT_SCORECARD,
    prior: QualityPrior = DEFAULT_PRIOR,
) -> QualitySummary:
    """An expert's decided reviews in one number; each passed or not at the mark it was
    decided by. ``pass_mark`` is ``card``'s, the mark reviews are decided by now."""
    reviews = list(decided)
    values = [d.score for d in reviews]
    n = len(values)
    total = sum(values)
    bayes = (
        Fraction(prior.mean * prior.weight + total, prior.weight + n)
        if prior.weight + n
        else (Fraction(prior.mean))
    )
    passed = sum(1 for d in reviews if passed_at(d.score, d.pass_mark, card))
    return QualitySummary(
        reviews=n,
        average=round(total / n, 1) if n else None,
        score=round(float(bayes), 1),
        passed=passed,
        pass_share=passed / n if n else None,
        pass_mark=card.pass_mark,
    )
