"""Pure rules around the Q&A core: onboarding configuration and quiz, review decisions, and
flags on comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.community.rules import (
    CommentRef,
    CommunityPolicy,
    FlagRecord,
    Onboarding,
    QuizQuestion,
    ReviewHistory,
    auto_moderation,
    decided_problems,
    flag_problems,
    onboarding_problems,
    parse_onboarding,
    quiz_mistakes,
    review_problems,
    staff_problems,
    top_flag_reason,
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
    reviewer = frozenset({"review_queue"})
    assert review_problems(reviewer, False, "restore", True, True)[0].code == "own_content"
    assert review_problems(none, True, "restore", True, True) == []  # agents may


def test_members_do_not_overrule_the_staff() -> None:
    reviewer = frozenset({"review_queue"})
    by_staff = ReviewHistory(last_decision="hide", decided_by_staff=True)
    assert review_problems(reviewer, False, "restore", True, history=by_staff)[0].code == (
        "staff_decision"
    )
    assert review_problems(reviewer, True, "restore", True, history=by_staff) == []
    approved = ReviewHistory(brand_approved=True)
    assert review_problems(reviewer, False, "hide", False, history=approved)[0].code == (
        "staff_decision"
    )
    by_member = ReviewHistory(last_decision="hide")
    assert review_problems(reviewer, True, "restore", True, history=by_member) == []
    assert staff_problems(False, by_staff)[0].code == "staff_decision"
    assert staff_problems(False, by_member) == []


def test_a_review_is_decided_once() -> None:
    reviewer = frozenset({"review_queue"})
    upheld = ReviewHistory(last_decision="uphold")
    assert review_problems(reviewer, False, "restore", True, history=upheld)[0].code == (
        "already_decided"
    )
    assert review_problems(reviewer, False, "uphold", True, history=upheld)[0].code == (
        "already_decided"
    )
    reopened = ReviewHistory(last_decision="uphold", reopened=True)  # appealed since
    assert review_problems(reviewer, False, "restore", True, history=reopened) == []
    # A reviewer's hide opens a review; the staff overrule a member, not themselves.
    assert review_problems(reviewer, False, "restore", True,
                           history=ReviewHistory(last_decision="hide")) == []  # fmt: skip
    assert decided_problems(True, upheld) == []
    by_staff = ReviewHistory(last_decision="dismiss", decided_by_staff=True)
    assert decided_problems(True, by_staff)[0].code == "already_decided"


# --- flags on comments ------------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COMMENT = CommentRef(id=40, post_id=7, brand_id=1, author_id=1)
TRUSTED = frozenset({"flag", "trusted_flagger"})


def test_comment_flags_follow_the_rules_of_posts() -> None:
    earlier = [FlagRecord(5, "spam", NOW, TRUSTED)]
    assert flag_problems(6, COMMENT, frozenset({"flag"}), earlier) == []
    assert flag_problems(6, COMMENT, frozenset(), [], flagger_is_agent=True) == []
    assert [p.code for p in flag_problems(6, COMMENT, frozenset(), earlier)] == [
        "privilege_required"
    ]
    assert [p.code for p in flag_problems(1, COMMENT, TRUSTED, [])] == ["self_flag"]
    assert [p.code for p in flag_problems(5, COMMENT, TRUSTED, earlier)] == ["already_flagged"]


def test_three_trusted_flags_hide_a_comment_without_an_appeal() -> None:
    flags = [
        FlagRecord(5, "rude", NOW, TRUSTED),
        FlagRecord(6, "spam", NOW + timedelta(minutes=1), frozenset({"flag"})),  # not trusted
        FlagRecord(1, "spam", NOW, TRUSTED),  # the author's own does not count
        FlagRecord(7, "spam", NOW + timedelta(minutes=2), TRUSTED),
    ]
    kw = {"post_id": COMMENT.id, "author_id": COMMENT.author_id, "already_hidden": False,
          "now": NOW, "policy": CommunityPolicy(), "target": "comment"}  # fmt: skip
    assert auto_moderation(flags=flags, **kw) is None  # type: ignore[arg-type]
    third = FlagRecord(8, "rude", NOW + timedelta(minutes=3), frozenset(), flagger_is_agent=True)
    action = auto_moderation(flags=[*flags, third], **kw)  # type: ignore[arg-type]
    assert action is not None
    assert (action.kind, action.post_id, action.reason_code) == ("hide", 40, "auto_hidden_flags")
    assert dict(action.params) == {"flags": 3, "reason": "rude"}
    assert not action.appealable
    assert action.message.startswith("Your comment was hidden automatically because 3 trusted")
    assert "appeal" not in action.message
    assert auto_moderation(flags=[*flags, third], **{**kw, "already_hidden": True}) is None  # type: ignore[arg-type]
    post = auto_moderation(flags=[*flags, third], **{**kw, "target": "post"})  # type: ignore[arg-type]
    assert post is not None
    approved = {**kw, "target": "post", "brand_approved": True}
    assert auto_moderation(flags=[*flags, third], **approved) is None  # type: ignore[arg-type]
    assert post.appealable
    assert "appeal_days" in dict(post.params)


def test_top_flag_reason_is_the_most_given_then_alphabetical() -> None:
    def f(who: int, reason: str) -> FlagRecord:
        return FlagRecord(who, reason, NOW)  # type: ignore[arg-type]

    assert top_flag_reason([]) is None
    assert top_flag_reason([f(1, "spam"), f(2, "rude"), f(3, "spam")]) == "spam"
    assert top_flag_reason([f(1, "spam"), f(2, "rude")]) == "rude"


def test_comment_review_decisions() -> None:
    reviewer = frozenset({"review_queue"})
    assert review_problems(reviewer, False, "hide", False) == []
    assert review_problems(reviewer, False, "uphold", True) == []
    assert review_problems(frozenset({"flag"}), False, "hide", False)[0].code == (
        "privilege_required"
    )
    assert review_problems(reviewer, False, "restore", False)[0].code == "not_hidden"
