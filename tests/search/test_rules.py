"""Ranking, visibility and out-of-scope rules (plain data, no database)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crowdcx.search.rules import (
    DeflectedCase,
    RankingPolicy,
    RankSignals,
    SolvedMark,
    bayesian_helpfulness,
    choose_oos_threshold,
    fit_oos_threshold,
    is_out_of_scope,
    may_see,
    one_per_group,
    rank,
    same_case,
    score,
    separate_cases,
    visible_to,
    wilson_lower_bound,
)

NOW = datetime(2026, 11, 24, tzinfo=UTC)
POLICY = RankingPolicy()


def test_customer_sees_only_public() -> None:
    assert visible_to("customer") == ("public",)
    assert not may_see("customer", "experts")
    assert not may_see("customer", "staff")


def test_expert_sees_experts_but_not_staff() -> None:
    assert may_see("expert", "experts")
    assert not may_see("expert", "staff")


def test_agent_sees_everything() -> None:
    assert set(visible_to("agent")) == {"public", "experts", "staff"}


def test_unknown_role_is_denied_all_but_public() -> None:
    assert visible_to("superuser") == ("public",)
    assert visible_to("") == ("public",)


@given(st.text())
def test_only_staff_roles_see_staff_content(role: str) -> None:
    assert may_see(role, "staff") == (role in ("agent", "admin"))


def test_wilson_lower_bound_grows_with_evidence() -> None:
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(10, 0) < wilson_lower_bound(100, 0)
    assert wilson_lower_bound(5, 5) < wilson_lower_bound(9, 1)


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_wilson_is_a_lower_bound_of_the_observed_share(up: int, down: int) -> None:
    lb = wilson_lower_bound(up, down)
    assert 0.0 <= lb <= 1.0
    if up + down:
        assert lb <= up / (up + down) + 1e-12


def test_bayesian_helpfulness_starts_at_the_prior_and_moves_with_votes() -> None:
    assert bayesian_helpfulness(0, 0) == pytest.approx(0.5)
    assert bayesian_helpfulness(3, 0) < bayesian_helpfulness(30, 0) < 1.0
    assert bayesian_helpfulness(0, 30) < bayesian_helpfulness(0, 3) < 0.5


def test_explanation_terms_sum_to_the_total() -> None:
    signals = RankSignals(
        text_score=4.0,
        helpful_votes=8,
        unhelpful_votes=1,
        accepted=True,
        brand_approved=True,
        language="ru",
        updated_at=NOW - timedelta(days=30),
    )
    scored = score(signals, "ru", NOW, POLICY)
    names = [t.name for t in scored.terms]
    assert names == ["text", "helpfulness", "accepted", "brand_approved", "language", "freshness"]
    assert scored.total == pytest.approx(sum(t.contribution for t in scored.terms))
    assert "total" in scored.explain()


def test_accepted_and_approved_answers_outrank_equal_text_matches() -> None:
    plain = RankSignals(text_score=5.0)
    accepted = RankSignals(text_score=5.0, accepted=True)
    approved = RankSignals(text_score=5.0, brand_approved=True)
    order = [i for i, _ in rank([plain, accepted, approved], "en", NOW, POLICY)]
    assert order[-1] == 0
    assert set(order[:2]) == {1, 2}


def test_signals_do_not_overturn_a_much_better_text_match() -> None:
    strong = RankSignals(text_score=10.0)
    weak_but_loved = RankSignals(
        text_score=3.0, helpful_votes=500, accepted=True, brand_approved=True, language="en"
    )
    assert next(i for i, _ in rank([weak_but_loved, strong], "en", NOW, POLICY)) == 1


def test_reader_language_and_chinese_scripts_match() -> None:
    zh = RankSignals(text_score=2.0, language="zh-Hans")
    en = RankSignals(text_score=2.0, language="en")
    assert score(zh, "zh-Hant", NOW, POLICY).total > score(en, "zh-Hant", NOW, POLICY).total
    # The reader's own script first: the Traditional variant of an article ranked level with
    # (and, being older, below) its Simplified twin for a Traditional reader.
    hant = RankSignals(text_score=2.0, language="zh-Hant")
    assert next(i for i, _ in rank([zh, hant], "zh-Hant", NOW, POLICY)) == 1
    assert next(i for i, _ in rank([hant, zh], "zh-Hans", NOW, POLICY)) == 1


def test_fresher_document_wins_a_tie() -> None:
    old = RankSignals(text_score=2.0, updated_at=NOW - timedelta(days=1000))
    new = RankSignals(text_score=2.0, updated_at=NOW - timedelta(days=1))
    assert next(i for i, _ in rank([old, new], "en", NOW, POLICY)) == 1


signals_st = st.builds(
    RankSignals,
    text_score=st.one_of(st.floats(-10, 100), st.just(math.nan)),
    helpful_votes=st.integers(-5, 10_000),
    unhelpful_votes=st.integers(-5, 10_000),
    accepted=st.booleans(),
    brand_approved=st.booleans(),
    language=st.sampled_from(["", "en", "ru", "zh-Hans", "zh-Hant"]),
    updated_at=st.one_of(
        st.none(),
        st.datetimes(
            # Hypothesis wants naive bounds and adds the zone itself.
            min_value=datetime(2000, 1, 1),  # noqa: DTZ001
            max_value=datetime(2030, 1, 1),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
    ),
)


@given(st.lists(signals_st, max_size=20))
def test_rank_is_a_permutation_sorted_by_finite_totals(candidates: list[RankSignals]) -> None:
    ranked = rank(candidates, "en", NOW, POLICY)
    assert sorted(i for i, _ in ranked) == list(range(len(candidates)))
    totals = [s.total for _, s in ranked]
    assert all(math.isfinite(t) and t >= 0 for t in totals)
    assert totals == sorted(totals, reverse=True)


@given(signals_st, st.floats(0.1, 50))
def test_more_text_relevance_never_lowers_the_score(signals: RankSignals, extra: float) -> None:
    base = score(signals, "en", NOW, POLICY).total
    better = RankSignals(
        text_score=max(signals.text_score, 0.0) + extra
        if math.isfinite(signals.text_score)
        else extra,
        helpful_votes=signals.helpful_votes,
        unhelpful_votes=signals.unhelpful_votes,
        accepted=signals.accepted,
        brand_approved=signals.brand_approved,
        language=signals.language,
        updated_at=signals.updated_at,
    )
    assert score(better, "en", NOW, POLICY).total >= base


def test_oos_threshold_separates_a_clean_split() -> None:
    scores = [0.5, 1.0, 1.5, 5.0, 6.0, 7.0]
    is_oos = [True, True, True, False, False, False]
    fit = fit_oos_threshold(scores, is_oos)
    assert 1.5 < fit.threshold < 5.0
    assert fit.f1 == pytest.approx(1.0)
    assert is_out_of_scope(1.5, fit.threshold)
    assert not is_out_of_scope(5.0, fit.threshold)
    assert is_out_of_scope(None, fit.threshold)


def test_oos_threshold_with_no_oos_examples_hands_off_nothing() -> None:
    scores = [1.0, 2.0, 3.0]
    thr = choose_oos_threshold(scores, [False, False, False])
    assert not any(is_out_of_scope(s, thr) for s in scores)


def test_oos_threshold_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="length"):
        fit_oos_threshold([1.0], [])


@example([(0.0, True), (5e-324, False)])  # no float between them: the midpoint was 0.0
@given(
    st.lists(st.tuples(st.floats(0, 100, allow_nan=False), st.booleans()), min_size=1, max_size=60)
)
def test_chosen_threshold_is_at_least_as_good_as_any_observed_cut(
    data: list[tuple[float, bool]],
) -> None:
    scores = [s for s, _ in data]
    labels = [o for _, o in data]
    best = fit_oos_threshold(scores, labels)

    def f1(thr: float) -> float:
        tp = sum(1 for s, o in data if s < thr and o)
        fp = sum(1 for s, o in data if s < thr and not o)
        fn = sum(1 for s, o in data if s >= thr and o)
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    assert f1(best.threshold) == pytest.approx(best.f1)
    for cut in [*scores, max(scores) + 1]:
        assert f1(cut) <= best.f1 + 1e-12


def test_confidence_is_a_share_in_the_unit_interval() -> None:
    from crowdcx.search.rules import DEFAULT_OOS_THRESHOLD, confidence

    assert confidence(2.0, 8.0) == 0.25
    assert confidence(9.0, 8.0) == 1.0
    assert confidence(0.0, None) == 0.0
    assert confidence(1.0, None) == 1.0  # a backend without a bound: any hit is in scope
    assert 0 < DEFAULT_OOS_THRESHOLD < 1


# --- deflection: a solved case counts once ---------------------------------------------------

OPENED = datetime(2026, 12, 6, 9, tzinfo=UTC)
CASE = DeflectedCase("u:7", OPENED, OPENED + timedelta(minutes=20), ("article", "12"))


def _mark(visitor: str | None = "u:7", kind: str = "article", ref: str = "12",
          minutes: int = 10) -> SolvedMark:  # fmt: skip
    return SolvedMark(visitor, kind, ref, OPENED + timedelta(minutes=minutes))


def test_the_customer_marking_the_named_suggestion_is_the_tickets_case() -> None:
    assert same_case(_mark(), CASE)
    assert same_case(_mark(minutes=60 * 14), CASE)  # later that day, after the deflect


def test_another_suggestion_another_reader_or_another_day_is_a_case_of_its_own() -> None:
    assert not same_case(_mark(ref="13"), CASE)  # the same day: the old rule dropped it
    assert not same_case(_mark(kind="question"), CASE)
    assert not same_case(_mark(visitor="u:8"), CASE)
    assert not same_case(_mark(visitor=None), CASE)
    assert not same_case(_mark(minutes=-5), CASE)  # before the ticket was written
    assert not same_case(_mark(minutes=60 * 24), CASE)  # the next day


def test_a_ticket_that_names_no_suggestion_keeps_the_same_day_rule() -> None:
    unsaid = DeflectedCase("u:7", OPENED, OPENED + timedelta(minutes=20), None)
    assert same_case(_mark(ref="13"), unsaid)
    assert same_case(_mark(minutes=-60), unsaid)
    assert not same_case(_mark(minutes=60 * 24), unsaid)
    assert not same_case(_mark(visitor="u:8"), unsaid)


def test_separate_cases_counts_the_marks_no_ticket_holds() -> None:
    marks = [_mark(), _mark(ref="13"), _mark(visitor="u:8"), _mark(visitor=None)]
    assert separate_cases(marks, [CASE]) == 3
    assert separate_cases(marks, []) == 4
    assert separate_cases([], [CASE]) == 0


_marks = st.lists(
    st.builds(
        _mark,
        st.sampled_from(["u:7", "u:8", "a:x", None]),
        st.sampled_from(["article", "question"]),
        st.sampled_from(["12", "13"]),
        st.integers(-60 * 30, 60 * 30),
    ),
    max_size=12,
)
_cases = st.lists(
    st.builds(
        DeflectedCase,
        st.sampled_from(["u:7", "u:8"]),
        st.just(OPENED),
        st.integers(0, 60 * 30).map(lambda m: OPENED + timedelta(minutes=m)),
        st.sampled_from([("article", "12"), ("question", "13"), None]),
    ),
    max_size=4,
)


@given(_marks, _cases)
def test_more_tickets_never_count_a_mark_twice_nor_add_marks(
    marks: list[SolvedMark], cases: list[DeflectedCase]
) -> None:
    """Each mark counts at most once; a deflected ticket can only take marks away, and a mark
    no ticket of the same reader could hold always counts."""
    counted = separate_cases(marks, cases)
    assert 0 <= counted <= len(marks)
    assert separate_cases(marks, cases[:-1]) >= counted
    customers = {c.visitor for c in cases}
    assert counted >= sum(1 for m in marks if m.visitor not in customers)


# --- one result per translation group -----------------------------------------------------


def test_translations_collapse_to_the_readers_variant_at_the_leads_place() -> None:
    groups = ["a", "b", "a", "c", "b"]
    languages = ["zh-Hant", "en", "zh-Hans", "ru", "zh-Hans"]
    assert one_per_group(groups, languages, "zh-Hans") == [(0, 2), (1, 4), (3, 3)]
    assert one_per_group(groups, languages, "zh-Hant") == [(0, 0), (1, 4), (3, 3)]
    # Nobody's language: the best-ranked member is shown; Chinese in the other script beats it.
    assert one_per_group(groups, languages, "fr") == [(0, 0), (1, 1), (3, 3)]
    assert one_per_group(["a", "a"], ["en", "zh-Hant"], "zh-Hans") == [(0, 1)]


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["en", "ru", "zh-Hans", "zh-Hant"])),
        max_size=30,
    ),
    st.sampled_from(["en", "ru", "zh-Hans", "zh-Hant", "fr"]),
)
def test_each_group_once_in_rank_order_shown_by_the_readers_language(
    candidates: list[tuple[int, str]], reader: str
) -> None:
    groups = [g for g, _ in candidates]
    languages = [lang for _, lang in candidates]
    out = one_per_group(groups, languages, reader)
    assert [groups[lead] for lead, _ in out] == list(dict.fromkeys(groups))  # once, in order
    for lead, shown in out:
        assert groups[shown] == groups[lead]
        assert lead == groups.index(groups[lead])  # the lead is the best-ranked member
        own = [p for p, g in enumerate(groups) if g == groups[lead] and languages[p] == reader]
        if own:
            assert shown == own[0]
