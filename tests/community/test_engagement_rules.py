"""Pure rules around the Q&A core: onboarding configuration and quiz, review decisions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.community.rules import (
    Onboarding,
    QuizQuestion,
    onboarding_problems,
    parse_onboarding,
    quiz_mistakes,
    review_problems,
)
from crowdcx.reputation.rules import Violation

QUIZ = Onboarding(
    "Будьте вежливы.",
    (QuizQuestion("1+1?", ("1", "2"), 1), QuizQuestion("Спам можно?", ("Да", "Нет"), 1)),
)


def test_parse_onboarding_accepts_good_and_names_the_bad_question() -> None:
    good = parse_onboarding(
        {"rules": "r", "quiz": [{"q": "?", "choices": ["a", "b"], "answer": 0}]}
    )
    assert isinstance(good, Onboarding)
    assert good.quiz[0].choices == ("a", "b")
    bad = parse_onboarding({"quiz": [{"q": "ok", "choices": ["a", "b"], "answer": 0},
                                     {"q": "x", "choices": ["a"], "answer": 0}]})  # fmt: skip
    assert isinstance(bad, Violation)
    assert dict(bad.params) == {"index": 1}
    assert isinstance(parse_onboarding({"quiz": [{"q": "x", "choices": ["a", "b"],
                                                  "answer": True}]}), Violation)  # fmt: skip
    assert parse_onboarding({}) == Onboarding()


def test_quiz_and_rules_must_both_be_done() -> None:
    assert quiz_mistakes(QUIZ, {0: 1, 1: 1}) == []
    assert quiz_mistakes(QUIZ, {0: 1}) == [1]
    assert [p.code for p in onboarding_problems(QUIZ, False, {0: 1, 1: 1})] == [
        "rules_not_accepted"
    ]
    assert [p.code for p in onboarding_problems(QUIZ, True, {0: 0, 1: 1})] == ["quiz_failed"]
    assert onboarding_problems(QUIZ, True, {0: 1, 1: 1}) == []
    assert onboarding_problems(Onboarding(), False, {}) == []


@given(st.dictionaries(st.integers(0, 3), st.integers(0, 3)))
def test_passing_means_every_question_right(answers: dict[int, int]) -> None:
    passed = not quiz_mistakes(QUIZ, answers)
    assert passed == all(answers.get(i) == q.answer for i, q in enumerate(QUIZ.quiz))


def test_review_needs_the_privilege_and_a_decision_that_fits() -> None:
    none: frozenset[str] = frozenset()
    assert review_problems(none, False, "restore", True)[0].code == "privilege_required"
    assert review_problems(frozenset({"review_queue"}), False, "restore", True) == []
    assert review_problems(none, True, "restore", False)[0].code == "not_hidden"
    assert review_problems(none, True, "hide", True)[0].code == "already_hidden"
    assert review_problems(none, True, "hide", False) == []
    assert review_problems(none, True, "nuke", False)[0].code == "invalid_decision"
