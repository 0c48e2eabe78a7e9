"""Community rules: plain-data examples and Hypothesis properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdcx.community.rules import (
    AnswerState,
    CommunityPolicy,
    CommunityState,
    DiscoveryPolicy,
    FlagRecord,
    HelperStats,
    MembershipState,
    PostRef,
    QuestionState,
    RewardPolicy,
    appeal_problems,
    approve_problems,
    auto_moderation,
    count_links,
    decide_accept,
    decide_close,
    decide_redemption,
    decide_unaccept,
    decide_vote,
    discover_super_users,
    escalate_problems,
    escalation_status,
    is_new_member,
    order_answers,
    post_problems,
    rate_limit_problem,
    redeemable_points,
    redemption_period_start,
    vote_tally,
    wilson_lower_bound,
)
from crowdcx.kernel.money import Money
from crowdcx.reputation.rules import PointsEntry, ReputationPolicy, live_entries, recompute

NOW = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)
REP = ReputationPolicy()
POLICY = CommunityPolicy()
ALL_PRIVS = frozenset({"upvote", "downvote", "flag", "close", "trusted_flagger"})
ANSWER_POST = PostRef(id=7, kind="answer", brand_id=1, author_id=1)
QUESTION = QuestionState(id=3, brand_id=1, asker_id=2, created_at=NOW - timedelta(days=3))


def codes(violations: object) -> set[str]:
    return {v.code for v in violations}  # type: ignore[attr-defined]


def answer(id: int, up: int = 0, down: int = 0, minutes: int = 0, **kw: object) -> AnswerState:
    return AnswerState(id, 3, 100 + id, NOW + timedelta(minutes=minutes), up, down, **kw)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- votes


def test_upvote_then_change_then_withdraw_writes_reversals() -> None:
    ledger: list[PointsEntry] = []
    up = decide_vote(
        voter_id=2,
        post=ANSWER_POST,
        current=0,
        current_entries=[],
        new=1,
        voter_privileges=ALL_PRIVS,
        now=NOW,
        key="v1",
        policy=REP,
    )
    assert up.ok
    assert up.value == 1
    ledger += up.entries
    assert recompute(ledger) == {1: 10}
    down = decide_vote(
        voter_id=2,
        post=ANSWER_POST,
        current=1,
        current_entries=up.entries,
        new=-1,
        voter_privileges=ALL_PRIVS,
        now=NOW,
        key="v2",
        policy=REP,
    )
    assert [(e.reason, e.points, e.reverses) for e in down.entries] == [
        ("answer_upvoted", -10, "v1:author"),
        ("answer_downvoted", -2, None),
        ("downvote_cast", -1, None),
    ]
    ledger += down.entries
    assert recompute(ledger) == {1: -2, 2: -1}
    gone = decide_vote(
        voter_id=2,
        post=ANSWER_POST,
        current=-1,
        current_entries=live_entries(ledger),
        new=0,
        voter_privileges=ALL_PRIVS,
        now=NOW,
        key="v3",
        policy=REP,
    )
    assert gone.value == 0
    ledger += gone.entries
    assert recompute(ledger) == {1: 0, 2: 0}


@pytest.mark.parametrize(
    ("voter", "current", "new", "privs", "expected"),
    [
        (1, 0, 1, ALL_PRIVS, {"self_vote"}),
        (2, 1, 1, ALL_PRIVS, {"already_voted"}),
        (2, 0, 0, ALL_PRIVS, {"not_voted"}),
        (2, 0, 2, ALL_PRIVS, {"invalid_vote"}),
        (2, 0, 1, frozenset(), {"privilege_required"}),
        (2, 0, -1, frozenset({"upvote"}), {"privilege_required"}),
    ],
)
def test_vote_violations(
    voter: int, current: int, new: int, privs: frozenset[str], expected: set[str]
) -> None:
    d = decide_vote(
        voter_id=voter,
        post=ANSWER_POST,
        current=current,
        current_entries=[],
        new=new,
        voter_privileges=privs,
        now=NOW,
        key="k",
        policy=REP,
    )
    assert codes(d.violations) == expected
    assert d.entries == ()
    assert d.value == current


def test_withdraw_needs_no_privilege() -> None:
    d = decide_vote(
        voter_id=2,
        post=ANSWER_POST,
        current=1,
        current_entries=[],
        new=0,
        voter_privileges=frozenset(),
        now=NOW,
        key="k",
        policy=REP,
    )
    assert d.ok


def test_vote_tally() -> None:
    assert vote_tally(3, 1, 0, 1) == (4, 1)
    assert vote_tally(3, 1, 1, -1) == (2, 2)
    assert vote_tally(3, 1, -1, 0) == (3, 0)


@st.composite
def vote_sequences(draw: st.DrawFn) -> list[tuple[int, int]]:
    return draw(st.lists(st.tuples(st.integers(10, 14), st.sampled_from([-1, 0, 1])), max_size=60))


@given(vote_sequences(), st.sampled_from(["answer", "question"]))
@settings(max_examples=200, deadline=None)
def test_vote_sequences_net_to_the_state(seq: list[tuple[int, int]], kind: str) -> None:
    """Whatever voters do, the ledger equals the points of the votes now held."""
    rep = replace(REP, daily_cap=None)
    post = replace(ANSWER_POST, kind=kind)  # type: ignore[arg-type]
    state: dict[int, int] = {}
    entries_of: dict[int, tuple[PointsEntry, ...]] = {}
    ledger: list[PointsEntry] = []
    up = down = 0
    for i, (voter, new) in enumerate(seq):
        current = state.get(voter, 0)
        d = decide_vote(
            voter_id=voter,
            post=post,
            current=current,
            current_entries=entries_of.get(voter, ()),
            new=new,
            voter_privileges=ALL_PRIVS,
            now=NOW,
            key=f"v{i}",
            policy=rep,
        )
        if not d.ok:
            assert new == current
            continue
        ledger += d.entries
        entries_of[voter] = tuple(e for e in d.entries if e.reverses is None)
        up, down = vote_tally(up, down, current, new)
        state[voter] = d.value
    totals = recompute(ledger)
    ups = sum(1 for v in state.values() if v == 1)
    downs = sum(1 for v in state.values() if v == -1)
    assert (up, down) == (ups, downs)
    if kind == "answer":
        assert totals.get(1, 0) == 10 * ups - 2 * downs
        for voter, v in state.items():
            assert totals.get(voter, 0) == (-1 if v == -1 else 0)
    else:
        assert totals.get(1, 0) == 5 * ups - 2 * downs


@given(st.lists(st.sampled_from([1, 0, -1]), max_size=80))
@settings(max_examples=100, deadline=None)
def test_votes_under_the_cap_never_exceed_it(values: list[int]) -> None:
    """Many voters, one day: the author's vote points stay within the cap."""
    ledger: list[PointsEntry] = []
    for i, new in enumerate(values):
        if new == 0:
            continue
        d = decide_vote(
            voter_id=1000 + i,
            post=ANSWER_POST,
            current=0,
            current_entries=[],
            new=new,
            voter_privileges=ALL_PRIVS,
            now=NOW,
            key=f"v{i}",
            policy=REP,
            history_today=ledger,
        )
        ledger += d.entries
    upvote_points = sum(e.points for e in ledger if e.user_id == 1 and e.reason == "answer_upvoted")
    assert upvote_points <= 200


# ----------------------------------------------------------------------------- accept, approve


def test_accept_by_asker_and_switching_reverses_the_previous() -> None:
    a1, a2 = answer(1), answer(2)
    first = decide_accept(
        actor_id=2,
        actor_is_agent=False,
        question=QUESTION,
        answer=a1,
        now=NOW,
        key="acc1",
        policy=POLICY,
        reputation=REP,
    )
    assert first.ok
    assert first.accepted_answer_ids == {1}
    assert [(e.user_id, e.points) for e in first.entries] == [(101, 15), (2, 2)]
    q = replace(QUESTION, accepted_answer_ids=first.accepted_answer_ids)
    second = decide_accept(
        actor_id=2,
        actor_is_agent=False,
        question=q,
        answer=a2,
        now=NOW,
        key="acc2",
        policy=POLICY,
        reputation=REP,
        previous_accept_entries={1: first.entries},
    )
    assert second.accepted_answer_ids == {2}
    assert second.unaccepted_ids == {1}
    assert recompute([*first.entries, *second.entries]) == {101: 0, 102: 15, 2: 2}


def test_several_solutions_when_the_brand_allows() -> None:
    q = replace(QUESTION, accepted_answer_ids=frozenset({1}))
    d = decide_accept(
        actor_id=2,
        actor_is_agent=False,
        question=q,
        answer=answer(2),
        now=NOW,
        key="a",
        policy=replace(POLICY, multiple_solutions=True),
        reputation=REP,
    )
    assert d.accepted_answer_ids == {1, 2}
    assert d.unaccepted_ids == frozenset()


def test_accept_violations_and_agent_accept() -> None:
    d = decide_accept(
        actor_id=55,
        actor_is_agent=False,
        question=QUESTION,
        answer=answer(1),
        now=NOW,
        key="a",
        policy=POLICY,
        reputation=REP,
    )
    assert codes(d.violations) == {"not_asker"}
    assert d.entries == ()
    other = replace(answer(1), question_id=99)
    d = decide_accept(
        actor_id=2,
        actor_is_agent=False,
        question=QUESTION,
        answer=other,
        now=NOW,
        key="a",
        policy=POLICY,
        reputation=REP,
    )
    assert codes(d.violations) == {"answer_not_in_question"}
    q = replace(QUESTION, accepted_answer_ids=frozenset({1}))
    d = decide_accept(
        actor_id=2,
        actor_is_agent=False,
        question=q,
        answer=answer(1),
        now=NOW,
        key="a",
        policy=POLICY,
        reputation=REP,
    )
    assert codes(d.violations) == {"already_accepted"}
    agent = decide_accept(
        actor_id=55,
        actor_is_agent=True,
        question=QUESTION,
        answer=answer(1),
        now=NOW,
        key="a",
        policy=POLICY,
        reputation=REP,
    )
    assert agent.ok
    assert [(e.user_id, e.points) for e in agent.entries] == [(101, 15)]


def test_unaccept() -> None:
    acc = decide_accept(
        actor_id=2,
        actor_is_agent=False,
        question=QUESTION,
        answer=answer(1),
        now=NOW,
        key="a",
        policy=POLICY,
        reputation=REP,
    )
    q = replace(QUESTION, accepted_answer_ids=acc.accepted_answer_ids)
    un = decide_unaccept(
        actor_id=2,
        actor_is_agent=False,
        question=q,
        answer=answer(1),
        accept_entries=acc.entries,
        now=NOW,
    )
    assert un.accepted_answer_ids == frozenset()
    assert sum(e.points for e in (*acc.entries, *un.entries)) == 0
    bad = decide_unaccept(
        actor_id=9,
        actor_is_agent=False,
        question=QUESTION,
        answer=answer(1),
        accept_entries=(),
        now=NOW,
    )
    assert codes(bad.violations) == {"not_asker", "not_accepted"}


def test_approve_is_for_agents_once() -> None:
    assert approve_problems(True, answer(1)) == []
    assert codes(approve_problems(False, answer(1))) == {"agent_required"}
    assert codes(approve_problems(True, answer(1, brand_approved=True))) == {"already_approved"}


# ----------------------------------------------------------------------------- order


def test_wilson_lower_bound_values() -> None:
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(1, 0) == pytest.approx(0.2065, abs=1e-4)
    assert wilson_lower_bound(10, 0) == pytest.approx(0.7225, abs=1e-4)
    assert wilson_lower_bound(60, 40) == pytest.approx(0.5020, abs=1e-3)
    # 10 of 10 beats 60 of 100 even though its net score is lower.
    assert wilson_lower_bound(10, 0) > wilson_lower_bound(60, 40)


def test_display_order() -> None:
    answers = [
        answer(1, up=50, down=0),
        answer(2, up=1, accepted=True),
        answer(3, up=0, brand_approved=True),
        answer(4, up=10, down=0),
        answer(5, up=60, down=40),
        answer(6, minutes=-5),
        answer(7),
        answer(8, up=0, down=3),
        answer(9, up=100, hidden=True),
        answer(10, accepted=True, brand_approved=True),
    ]
    order = [a.id for a in order_answers(answers)]
    assert order == [10, 2, 3, 1, 4, 5, 6, 7, 8, 9]
    unflagged = [a.id for a in order_answers(answers, use_flags=False)]
    assert unflagged[:3] == [1, 4, 5]


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 30), st.booleans(), st.booleans()), max_size=12
    )
)
def test_order_is_a_stable_total_order(rows: list[tuple[int, int, bool, bool]]) -> None:
    answers = [
        answer(i, up=u, down=d, accepted=acc, brand_approved=ap)
        for i, (u, d, acc, ap) in enumerate(rows)
    ]
    once = order_answers(answers)
    assert order_answers(list(reversed(answers))) == once
    pinned = [a.accepted or a.brand_approved for a in once]
    assert pinned == sorted(pinned, reverse=True)


@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_is_a_lower_bound_in_unit_interval(up: int, down: int) -> None:
    lb = wilson_lower_bound(up, down)
    assert 0.0 <= lb <= 1.0
    if up + down:
        assert lb <= up / (up + down) + 1e-12
        assert wilson_lower_bound(up + 1, down) >= lb


# ----------------------------------------------------------------------------- close, post


def test_close_as_duplicate() -> None:
    original = replace(QUESTION, id=1)
    dup_of_dup = replace(QUESTION, id=2, closed=True, duplicate_of=1)
    d = decide_close(
        question=QUESTION, actor_privileges=ALL_PRIVS, actor_is_agent=False, duplicate_of=dup_of_dup
    )
    assert d.ok
    assert d.duplicate_of == 1
    d = decide_close(
        question=QUESTION, actor_privileges=frozenset(), actor_is_agent=False, duplicate_of=original
    )
    assert codes(d.violations) == {"privilege_required"}
    d = decide_close(
        question=QUESTION, actor_privileges=frozenset(), actor_is_agent=True, duplicate_of=QUESTION
    )
    assert codes(d.violations) == {"duplicate_of_self"}
    d = decide_close(
        question=replace(QUESTION, closed=True),
        actor_privileges=ALL_PRIVS,
        actor_is_agent=False,
        duplicate_of=replace(original, brand_id=2),
    )
    assert codes(d.violations) == {"already_closed", "duplicate_other_brand"}


def test_close_as_duplicate_refuses_a_loop_through_the_chain() -> None:
    # 2 is closed as a duplicate of 3, and 3 of 4: closing 4 as a duplicate of 2 would loop.
    q2 = replace(QUESTION, id=2, closed=True, duplicate_of=3)
    q3 = replace(QUESTION, id=3, closed=True, duplicate_of=4)
    q4 = replace(QUESTION, id=4)
    d = decide_close(question=q4, actor_privileges=ALL_PRIVS, actor_is_agent=True,
                     duplicate_of=q2, chain=(q3, q4))  # fmt: skip
    assert codes(d.violations) == {"duplicate_cycle"}
    # Another question linked to 2 goes straight to the end of its chain.
    d = decide_close(question=replace(QUESTION, id=9), actor_privileges=ALL_PRIVS,
                     actor_is_agent=True, duplicate_of=q2, chain=(q3, q4))  # fmt: skip
    assert d.ok
    assert d.duplicate_of == 4
    # A loop stored before loops were refused is refused too, not followed for ever.
    looped = (q3, replace(q4, closed=True, duplicate_of=2))
    d = decide_close(question=replace(QUESTION, id=9), actor_privileges=ALL_PRIVS,
                     actor_is_agent=True, duplicate_of=q2, chain=looped)  # fmt: skip
    assert codes(d.violations) == {"duplicate_cycle"}


def test_close_as_duplicate_of_a_hidden_question_is_refused() -> None:
    hidden = replace(QUESTION, id=2, hidden=True)
    d = decide_close(question=QUESTION, actor_privileges=ALL_PRIVS, actor_is_agent=True,
                     duplicate_of=hidden)  # fmt: skip
    assert codes(d.violations) == {"duplicate_hidden"}
    linked = replace(QUESTION, id=4, closed=True, duplicate_of=2)  # its original was hidden
    d = decide_close(question=QUESTION, actor_privileges=ALL_PRIVS, actor_is_agent=True,
                     duplicate_of=linked, chain=(hidden,))  # fmt: skip
    assert codes(d.violations) == {"duplicate_hidden"}


def test_answering_a_closed_question_and_closed_communities() -> None:
    open_c = CommunityState(1, 1)
    closed_c = CommunityState(2, 1, closed=True)
    outsider = MembershipState()
    kw = {"body": "Reset the phone first.", "new_member": False, "posts_in_window": 0,
          "policy": POLICY}  # fmt: skip
    assert post_problems(community=open_c, membership=outsider, question=QUESTION, **kw) == []  # type: ignore[arg-type]
    closed_q = replace(QUESTION, closed=True)
    assert codes(post_problems(community=open_c, membership=outsider, question=closed_q, **kw)) == {
        "question_closed"
    }  # type: ignore[arg-type]
    assert codes(post_problems(community=closed_c, membership=outsider, **kw)) == {
        "membership_required"
    }  # type: ignore[arg-type]
    member = MembershipState(is_member=True)
    assert codes(post_problems(community=closed_c, membership=member, **kw)) == {
        "onboarding_incomplete"
    }  # type: ignore[arg-type]
    onboarded = MembershipState(is_member=True, onboarding_done=True)
    assert post_problems(community=closed_c, membership=onboarded, **kw) == []  # type: ignore[arg-type]


def test_body_links_and_rate_limits_for_new_members() -> None:
    c, m = CommunityState(1, 1), MembershipState()
    spam = "see http://a.example https://b.example www.c.example and [x](https://d.example)"
    assert count_links(spam) == 4
    assert count_links("Сбросьте настройки, 重启手机") == 0
    new = post_problems(
        community=c, membership=m, body=spam, new_member=True, posts_in_window=3, policy=POLICY
    )
    assert codes(new) == {"too_many_links", "rate_limited"}
    old = post_problems(
        community=c, membership=m, body=spam, new_member=False, posts_in_window=3, policy=POLICY
    )
    assert old == []
    huge = post_problems(
        community=c,
        membership=m,
        body="x" * 100_000,
        new_member=False,
        posts_in_window=0,
        policy=POLICY,
    )
    assert codes(huge) == {"body_too_long"}
    empty = post_problems(
        community=c, membership=m, body="  ", new_member=False, posts_in_window=0, policy=POLICY
    )
    assert codes(empty) == {"body_empty"}
    limited = rate_limit_problem(2, True, POLICY)
    assert limited is None
    limited = rate_limit_problem(3, True, POLICY)
    assert limited is not None
    assert dict(limited.params) == {"limit": 3, "window_seconds": 3600}


def test_new_member() -> None:
    joined = NOW - timedelta(days=2)
    assert is_new_member(0, joined, NOW, POLICY)
    assert not is_new_member(15, joined, NOW, POLICY)
    assert not is_new_member(0, NOW - timedelta(days=8), NOW, POLICY)


# ----------------------------------------------------------------------------- moderation


def flag(
    who: int, trusted: bool = True, reason: str = "spam", minutes: int = 0, agent: bool = False
) -> FlagRecord:
    privs = frozenset({"flag", "trusted_flagger"}) if trusted else frozenset({"flag"})
    return FlagRecord(who, reason, NOW + timedelta(minutes=minutes), privs, agent)  # type: ignore[arg-type]


def test_auto_hide_after_three_trusted_flags_with_reason() -> None:
    flags = [
        flag(10),
        flag(11, trusted=False),
        flag(10, minutes=1),
        flag(1),
        flag(12, reason="rude"),
    ]
    kw = {"post_id": 7, "author_id": 1, "already_hidden": False, "now": NOW, "policy": POLICY}
    assert auto_moderation(flags=flags, **kw) is None  # type: ignore[arg-type]
    action = auto_moderation(flags=[*flags, flag(13, agent=True, trusted=False)], **kw)  # type: ignore[arg-type]
    assert action is not None
    assert action.kind == "hide"
    assert action.appealable
    assert action.automatic
    assert action.reason_code == "auto_hidden_flags"
    assert dict(action.params) == {"flags": 3, "reason": "spam", "appeal_days": 14}
    assert "3 trusted" in action.message
    assert "appeal" in action.message
    hidden = auto_moderation(flags=[*flags, flag(13, agent=True)], **{**kw, "already_hidden": True})  # type: ignore[arg-type]
    assert hidden is None


def test_appeals() -> None:
    action = auto_moderation(
        post_id=7,
        author_id=1,
        flags=[flag(10), flag(11), flag(12)],
        already_hidden=False,
        now=NOW,
        policy=POLICY,
    )
    assert action is not None
    assert appeal_problems(action, 1, 1, NOW + timedelta(days=1), False, POLICY) == []
    late = appeal_problems(action, 2, 1, NOW + timedelta(days=15), True, POLICY)
    assert codes(late) == {"not_author", "appeal_window_closed", "already_appealed"}


def test_flag_problems() -> None:
    from crowdcx.community.rules import flag_problems

    assert flag_problems(5, ANSWER_POST, frozenset({"flag"}), []) == []
    assert codes(flag_problems(1, ANSWER_POST, frozenset(), [flag(1)])) == {
        "self_flag",
        "privilege_required",
        "already_flagged",
    }


# ----------------------------------------------------------------------------- rewards


def test_giffgaff_rate_one_point_one_penny() -> None:
    d = decide_redemption(
        user_id=1,
        brand_id=1,
        points=2_500,
        kind="credit",
        balance=3_000,
        redeemed_in_period=0,
        now=NOW,
        key="r1",
        policy=RewardPolicy(),
        redemption_id=9,
    )
    assert d.ok
    assert d.amount == Money(2_500, "GBP")
    assert str(d.amount) == "25.00 GBP"
    (entry,) = d.entries
    assert (entry.points, entry.reason, entry.subject.id) == (-2_500, "reward_redeemed", 9)


def test_charity_bonus_rate_rounds_half_even() -> None:
    policy = RewardPolicy(minor_per_point={"charity": Decimal("1.1")})
    d = decide_redemption(
        user_id=1,
        brand_id=1,
        points=105,
        kind="charity",
        balance=500,
        redeemed_in_period=0,
        now=NOW,
        key="r",
        policy=policy,
    )
    assert d.amount == Money(116, "GBP")  # 115.5 -> 116 (half-even)
    d = decide_redemption(
        user_id=1,
        brand_id=1,
        points=105,
        kind="cash",
        balance=500,
        redeemed_in_period=0,
        now=NOW,
        key="r",
        policy=policy,
    )
    assert codes(d.violations) == {"kind_not_offered"}


@pytest.mark.parametrize(
    ("points", "balance", "in_period", "expected"),
    [
        (0, 100, 0, {"invalid_points"}),
        (50, 100, 0, {"below_minimum"}),
        (500, 100, 0, {"insufficient_points"}),
        (12_000, 50_000, 0, {"cap_exceeded"}),
        (5_000, 50_000, 22_000, {"cap_exceeded"}),
    ],
)
def test_redemption_violations(
    points: int, balance: int, in_period: int, expected: set[str]
) -> None:
    d = decide_redemption(
        user_id=1,
        brand_id=1,
        points=points,
        kind="cash",
        balance=balance,
        redeemed_in_period=in_period,
        now=NOW,
        key="r",
        policy=RewardPolicy(),
    )
    assert codes(d.violations) == expected
    assert d.amount is None
    assert d.entries == ()


def test_redeemable_points() -> None:
    policy = RewardPolicy()
    assert redeemable_points(3_000, 0, policy) == 3_000
    assert redeemable_points(30_000, 0, policy) == 10_000
    assert redeemable_points(30_000, 20_000, policy) == 5_000
    assert redeemable_points(30_000, 26_000, policy) == 0


def test_redemption_period_start() -> None:
    assert redemption_period_start(NOW, RewardPolicy()) == datetime(2025, 3, 1, tzinfo=UTC)
    # In the brand's time zone: 1 January begins at 16:00 UTC on 31 December in Shanghai.
    shanghai = RewardPolicy(timezone=ZoneInfo("Asia/Shanghai"))
    new_year = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert redemption_period_start(new_year, shanghai) == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert redemption_period_start(new_year, RewardPolicy()) == datetime(2026, 12, 1, tzinfo=UTC)


@given(
    st.lists(
        st.tuples(st.integers(-10, 15_000), st.sampled_from(["credit", "cash", "charity", "gift"])),
        max_size=30,
    ),
    st.integers(0, 60_000),
)
@settings(max_examples=200, deadline=None)
def test_rewards_never_exceed_caps_or_balance(requests: list[tuple[int, str]], earned: int) -> None:
    policy = RewardPolicy()
    balance, in_period, paid = earned, 0, 0
    for i, (points, kind) in enumerate(requests):
        allowed = redeemable_points(balance, in_period, policy)
        d = decide_redemption(
            user_id=1,
            brand_id=1,
            points=points,
            kind=kind,
            balance=balance,
            redeemed_in_period=in_period,
            now=NOW,
            key=f"r{i}",
            policy=policy,
        )
        offered = kind in policy.minor_per_point
        assert d.ok == (offered and policy.min_points <= points <= allowed)
        if d.ok:
            assert d.amount is not None
            spent = -sum(e.points for e in d.entries)
            assert spent == points
            assert d.amount.minor == points
            balance -= spent
            in_period += spent
            paid += d.amount.minor
        else:
            assert d.entries == ()
            assert d.amount is None
        assert balance >= 0
        assert policy.max_points_per_period is not None
        assert in_period <= policy.max_points_per_period
    assert paid == earned - balance


# ------------------------------------------------------------------ discovery, escalation


def test_super_user_discovery_ranks_by_accepted_then_reputation_then_languages() -> None:
    stats = [
        HelperStats(1, 30, 5_000, frozenset({"en"}), answers=60),
        HelperStats(2, 30, 5_000, frozenset({"en", "ru", "zh"}), answers=40),
        HelperStats(3, 30, 9_000, frozenset({"ru"})),
        HelperStats(4, 50, 2_000, frozenset({"zh"}), is_expert=True),
        HelperStats(5, 9, 90_000, frozenset({"en"})),
        HelperStats(6, 12, 1_500, frozenset({"zh-Hant"})),
    ]
    found = discover_super_users(stats, DiscoveryPolicy())
    assert [c.user_id for c in found] == [3, 2, 1, 6]
    assert found[1].languages == ("en", "ru", "zh")
    assert found[1].acceptance_rate == 0.75
    assert [c.rank for c in found] == [1, 2, 3, 4]
    assert len(discover_super_users(stats, DiscoveryPolicy(), limit=2)) == 2


def test_escalation_window() -> None:
    young = replace(QUESTION, created_at=NOW - timedelta(hours=10))
    status = escalation_status(young, NOW, POLICY)
    assert not status.eligible
    assert status.reason == "too_early"
    assert status.eligible_at == young.created_at + timedelta(hours=48)
    ready = escalation_status(QUESTION, NOW, POLICY)
    assert ready.eligible
    assert not ready.automatic
    auto = escalation_status(QUESTION, NOW, replace(POLICY, auto_escalate=True))
    assert auto.automatic
    solved = replace(QUESTION, accepted_answer_ids=frozenset({1}))
    assert escalation_status(solved, NOW, POLICY).reason == "already_solved"
    assert (
        escalation_status(replace(QUESTION, closed=True), NOW, POLICY).reason == "question_closed"
    )
    assert (
        escalation_status(replace(QUESTION, escalated=True), NOW, POLICY).reason
        == "already_escalated"
    )
    off = escalation_status(QUESTION, NOW, replace(POLICY, escalation_delay=None))
    assert off.reason == "escalation_disabled"
    assert escalate_problems(2, False, QUESTION, NOW, POLICY) == []
    assert codes(escalate_problems(9, False, young, NOW, POLICY)) == {"not_asker", "too_early"}
    assert escalate_problems(9, True, QUESTION, NOW, POLICY) == []


def test_hiding_takes_back_earnings_and_restoring_gives_back_what_still_stands() -> None:
    from crowdcx.community.rules import points_to_give_back, points_to_take_back
    from crowdcx.reputation.rules import SubjectRef

    def entry(key: str, user: int, pts: int) -> PointsEntry:
        return PointsEntry(user, 1, pts, "answer_upvoted", SubjectRef("answer", 7), NOW, key)

    up = entry("vote:7:5:100:author", 2, 10)
    down = entry("vote:7:6:101:author", 2, -2)  # a penalty stays
    cost = entry("vote:7:6:101:voter", 6, -1)
    accept = entry("accept:7:102:author", 2, 15)
    bonus = entry("accept:7:102:asker", 3, 2)  # the asker's, not the author's
    ledger = [up, down, cost, accept, bonus]
    taken = points_to_take_back(ledger, 2, NOW)
    assert sorted(e.reverses or "" for e in taken) == [accept.key, up.key]
    ledger += taken
    assert recompute(ledger)[2] == -2
    # Restored while the upvote still stands but the accept moved elsewhere.
    back = points_to_give_back(ledger, 2, NOW, {"vote:7:5:100"}, "9")
    assert [e.key for e in back] == ["vote:7:5:100:author:back:9"]
    ledger += back
    assert points_to_give_back(ledger, 2, NOW, {"vote:7:5:100"}, "10") == []  # once
    again = points_to_take_back(ledger, 2, NOW)
    assert [e.reverses for e in again] == ["vote:7:5:100:author:back:9"]
    ledger += again
    assert [e.key for e in points_to_give_back(ledger, 2, NOW, {"vote:7:5:100"}, "11")] == [
        "vote:7:5:100:author:back:11"
    ]
    assert {e.key for e in live_entries(ledger)} >= {down.key, cost.key, bonus.key}


@given(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 10_000), st.booleans()), max_size=12))
def test_the_community_response_is_the_earliest_visible_answer_by_someone_else(
    answers: list[tuple[int, int, bool]],
) -> None:
    from crowdcx.community.rules import AnswerState, community_response_at

    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    states = [
        AnswerState(i, 1, author, t0 + timedelta(minutes=m), hidden=hidden)
        for i, (author, m, hidden) in enumerate(answers, 1)
    ]
    at = community_response_at(1, states)
    counted = [s.created_at for s in states if s.author_id != 1 and not s.hidden]
    assert at == (min(counted) if counted else None)
    # Hiding any answer never makes the response earlier; the asker's answers never count.
    for s in states:
        after = community_response_at(1, [replace(x, hidden=x.hidden or x is s) for x in states])
        assert at is None or after is None or after >= at
    assert community_response_at(1, [s for s in states if s.author_id == 1]) is None
