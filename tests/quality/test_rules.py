"""Quality rules: the scorecard's score, the sample and its reasons, an expert's summary."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.quality import rules
from crowdcx.quality.rules import (
    DEFAULT_SCORECARD,
    Criterion,
    Resolution,
    SamplingPolicy,
    Scorecard,
)

CARD = DEFAULT_SCORECARD
ALL = {"solved": 5, "accuracy": 5, "tone": 5, "policy": 5}


def test_the_default_scorecard_scores_all_fives_100_and_all_ones_0() -> None:
    assert CARD.codes == ("solved", "accuracy", "tone", "policy")
    assert rules.scorecard_problems(CARD) == []
    assert rules.weighted_score(CARD, ALL) == 100
    assert rules.weighted_score(CARD, dict.fromkeys(ALL, 1)) == 0
    assert rules.weighted_score(CARD, dict.fromkeys(ALL, 3)) == 50


def test_weights_count_solved_most() -> None:
    # Solved weighs 40 of 100: failing it alone costs 40 points, failing tone alone 15.
    assert rules.weighted_score(CARD, {**ALL, "solved": 1}) == 60
    assert rules.weighted_score(CARD, {**ALL, "tone": 1}) == 85
    assert not rules.passes(CARD, 60)
    assert rules.passes(CARD, 70)
    assert rules.passes(CARD, 85)


def test_score_problems_name_each_criterion() -> None:
    problems = rules.score_problems(CARD, {"solved": 6, "accuracy": "4", "tone": True, "x": 3})
    assert [(p.code, p.field) for p in problems] == [
        ("score_out_of_range", "scores.solved"),
        ("score_not_integer", "scores.accuracy"),
        ("score_not_integer", "scores.tone"),
        ("score_missing", "scores.policy"),
        ("criterion_unknown", "scores.x"),
    ]
    assert rules.score_problems(CARD, ALL) == []


def test_a_bad_scorecard_is_refused() -> None:
    bad = Scorecard((Criterion("a", -1), Criterion("a", 1)), pass_mark=101)
    codes = {p.code for p in rules.scorecard_problems(bad)}
    assert codes == {"criterion_twice", "weight_negative", "pass_mark_range"}
    # A weight of 0 leaves a criterion out of the score; all of them at 0 leave no score.
    assert rules.scorecard_problems(Scorecard((Criterion("a", 0), Criterion("b", 1)))) == []
    nothing = Scorecard((Criterion("a", 0), Criterion("b", 0)))
    assert [p.code for p in rules.scorecard_problems(nothing)] == ["weights_zero"]


def test_a_brand_may_turn_off_low_rating_and_reopened_reviews() -> None:
    off = SamplingPolicy(Fraction(0), 0, None, reopened=False)
    r = res(draw=0.5, reviews_before=10, csat=1, reopened=True)
    assert rules.decide_sample(r).sampled
    assert rules.decide_sample(r, off) == rules.SampleDecision(False, ())


def res(**kw: object) -> Resolution:
    base: dict[str, object] = {
        "ticket_id": "1",
        "expert_id": "9",
        "draw": 0.5,
        "reviews_before": 10,
    }
    return Resolution(**{**base, **kw})  # type: ignore[arg-type]


def test_sampling_reasons_are_explained() -> None:
    assert rules.sampling_reasons(res()) == ()
    assert not rules.decide_sample(res()).sampled
    drawn = rules.sampling_reasons(res(draw=0.05))
    assert [r.as_dict() for r in drawn] == [{"code": "base_rate", "rate": "10", "draw": "0.0500"}]
    newcomer = rules.decide_sample(res(reviews_before=2))
    assert newcomer.sampled
    assert newcomer.reasons[0].as_dict() == {"code": "newcomer", "reviews": "2", "needed": "5"}
    every = rules.sampling_reasons(res(draw=0.0, reviews_before=0, csat=1, reopened=True))
    assert [r.code for r in every] == ["newcomer", "low_csat", "reopened", "base_rate"]
    assert rules.sampling_reasons(res(csat=3)) == ()
    with pytest.raises(ValueError):
        rules.sampling_reasons(res(draw=1.0))


def test_the_draw_is_keyed_and_deterministic() -> None:
    a = rules.draw_for(b"k1", "1", "42")
    assert a == rules.draw_for(b"k1", "1", "42")
    assert 0 <= a < 1
    assert a != rules.draw_for(b"k2", "1", "42")
    assert a != rules.draw_for(b"k1", "2", "42")
    # About one in ten of many tickets is drawn at the default rate.
    drawn = sum(
        rules.decide_sample(res(ticket_id=str(i), draw=rules.draw_for(b"k", "1", str(i)))).sampled
        for i in range(4000)
    )
    assert 320 < drawn < 480


def test_merge_keeps_one_reason_per_code() -> None:
    old = [{"code": "base_rate", "rate": "10", "draw": "0.0100"}]
    merged = rules.merge_reasons(
        old, (rules.Reason("base_rate"), rules.Reason("low_csat", (("csat", "1"),)))
    )
    assert merged == [*old, {"code": "low_csat", "csat": "1"}]


def test_summary_is_a_bayesian_average() -> None:
    empty = rules.summarize([])
    assert (empty.reviews, empty.average, empty.score, empty.pass_share) == (0, None, 75.0, None)
    one = rules.summarize([rules.Decided(0, 70)])
    assert one.score == 62.5  # (75 × 5 + 0) / 6: one bad review does not sink an expert
    assert (one.passed, one.pass_share, one.average) == (0, 0.0, 0.0)
    many = rules.summarize([rules.Decided(100, 70)] * 95)
    assert many.score == 98.8
    assert many.pass_share == 1.0


scores_st = st.fixed_dictionaries({c: st.integers(1, 5) for c in CARD.codes})
cards_st = st.lists(st.integers(1, 1000), min_size=1, max_size=6).map(
    lambda ws: Scorecard(tuple(Criterion(f"c{i}", w) for i, w in enumerate(ws)))
)


@given(scores_st)
def test_the_score_lies_in_0_to_100(scores: dict[str, int]) -> None:
    assert 0 <= rules.weighted_score(CARD, scores) <= 100
    assert rules.score_problems(CARD, scores) == []


@given(cards_st, st.data())
def test_weights_are_respected(card: Scorecard, data: st.DataObject) -> None:
    scores = {c.code: data.draw(st.integers(1, 5)) for c in card.criteria}
    exact = rules.weighted_score_exact(card, scores)
    total = sum(c.weight for c in card.criteria)
    expected = sum(Fraction(c.weight, total) * (scores[c.code] - 1) * 25 for c in card.criteria)
    assert exact == expected
    assert abs(rules.weighted_score(card, scores) - exact) <= Fraction(1, 2)
    # Raising one criterion never lowers the score, and raises it by its weight's share.
    code = data.draw(st.sampled_from(card.codes))
    if scores[code] < 5:
        higher = rules.weighted_score_exact(card, {**scores, code: scores[code] + 1})
        weight = next(c.weight for c in card.criteria if c.code == code)
        assert higher - exact == Fraction(weight * 25, total)


@given(
    st.floats(0, 1, exclude_max=True),
    st.integers(0, 50),
    st.none() | st.integers(1, 5),
    st.booleans(),
)
def test_sampling_is_deterministic_and_always_takes_the_musts(
    draw: float, reviews: int, csat: int | None, reopened: bool
) -> None:
    r = res(draw=draw, reviews_before=reviews, csat=csat, reopened=reopened)
    first = rules.decide_sample(r)
    assert first == rules.decide_sample(r)
    codes = {x.code for x in first.reasons}
    assert first.sampled == bool(codes)
    assert ("newcomer" in codes) == (reviews < 5)
    assert ("low_csat" in codes) == (csat is not None and csat <= 2)
    assert ("reopened" in codes) == reopened
    assert ("base_rate" in codes) == (draw < 0.1)
    if reviews < 5 or (csat is not None and csat <= 2) or reopened:
        assert first.sampled


@given(
    st.lists(st.tuples(st.integers(0, 100), st.none() | st.integers(0, 100)), max_size=60),
    st.integers(0, 100),
)
def test_the_summary_stays_between_the_prior_and_the_mean(
    decided: list[tuple[int, int | None]], mark_now: int
) -> None:
    card = Scorecard(CARD.criteria, pass_mark=mark_now)
    s = rules.summarize((rules.Decided(score, mark) for score, mark in decided), card)
    scores = [score for score, _mark in decided]
    assert 0 <= s.score <= 100
    assert s.reviews == len(scores)
    assert s.pass_mark == mark_now
    if scores:
        mean = sum(scores) / len(scores)
        assert min(mean, 75) - 0.05 <= s.score <= max(mean, 75) + 0.05
    # Each at the mark it was decided by; only one with no recorded mark at today's.
    expected = sum(1 for x, m in decided if x >= (mark_now if m is None else m))
    assert s.passed == expected


@given(st.integers(0, 100), st.integers(0, 100), st.integers(0, 100))
def test_a_decided_review_keeps_its_mark(score: int, then: int, now: int) -> None:
    card = Scorecard(CARD.criteria, pass_mark=now)
    assert rules.passed_at(score, then, card) == (score >= then)
    assert rules.passed_at(score, None, card) == rules.passes(card, score)


@given(st.integers(0, 100), st.integers(1, 100))
def test_policy_with_other_rates(rate_pct: int, newcomer: int) -> None:
    policy = SamplingPolicy(Fraction(rate_pct, 100), newcomer, 2)
    r = res(draw=0.5, reviews_before=newcomer)
    assert rules.decide_sample(r, policy).sampled == (rate_pct > 50)


@given(cards_st, st.none() | st.integers(0, 100), st.integers(0, 100))
def test_a_decided_review_keeps_the_card_it_was_weighed_by(
    card: Scorecard, mark: int | None, today_mark: int
) -> None:
    """The weights kept with a decision read back as the same criteria in the same order, with
    the pass mark it was decided by; anything else is today's card, said so."""
    today = Scorecard(CARD.criteria, today_mark)
    kept, as_decided = rules.card_decided_by(rules.recorded_weights(card), mark, today)
    assert as_decided
    assert kept.criteria == card.criteria
    assert kept.pass_mark == (today_mark if mark is None else mark)
    for broken in (None, [], [["solved"]], [["solved", "4"]], [[1, 4]], [["a", -1]], "ab",
                   [["a", True]], [["a", 1.5]]):  # fmt: skip
        assert rules.card_decided_by(broken, mark, today) == (today, False)


def test_the_random_share_is_written_as_each_reader_writes_a_percentage() -> None:
    """English read "Drawn at random (10 % of resolutions)": the percent filter's format now;
    Chinese read "随机抽取（10% 的解决）", "10 % of the solving": it is of resolved tickets."""
    from crowdcx.kernel.i18n import use_locale
    from crowdcx.quality.service import reason_text

    expected = {"en": "Drawn at random (2.5% of resolutions)",
                "ru": "Выбран случайно (2,5\u00a0% решений)",
                "zh-Hans": "随机抽取（已解决工单的 2.5%）"}  # fmt: skip
    for locale, text in expected.items():
        with use_locale(locale):
            assert reason_text({"code": "base_rate", "rate": "2.5"}) == text, locale
