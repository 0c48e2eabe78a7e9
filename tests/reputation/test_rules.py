"""Reputation rules: plain-data examples and Hypothesis properties over the ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdcx.reputation.rules import (
    APPLE_LEVELS,
    DEFAULT_BADGES,
    ActivitySummary,
    BadgeRule,
    LeaderboardRow,
    Metric,
    PointsEntry,
    PointsEvent,
    ReputationPolicy,
    SubjectRef,
    badges_due,
    badges_to_check,
    cap_day,
    capped_points_on_day,
    entries_for,
    leaderboard,
    ledger_problems,
    level_for,
    level_progress,
    live_entries,
    metrics_risen,
    period_start,
    points_in_period,
    policy_problems,
    privilege_problem,
    privileges_for,
    rank_leaderboard,
    raw_level,
    recompute,
    recompute_reputation,
    reversal_of,
    standing_after,
    standing_is_settled,
    standings_from_ledger,
)

NOW = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)  # a Wednesday
POLICY = ReputationPolicy()
ANSWER = SubjectRef("answer", 7)
QUESTION = SubjectRef("question", 3)


def vote(
    key: str,
    value: int = 1,
    author: int = 1,
    voter: int = 2,
    subject: SubjectRef = ANSWER,
    at: datetime = NOW,
) -> PointsEvent:
    return PointsEvent("vote", 1, author, subject, at, key, actor_id=voter, value=value)


def accept(key: str, author: int = 1, asker: int | None = 2, at: datetime = NOW) -> PointsEvent:
    return PointsEvent("accept", 1, author, ANSWER, at, key, actor_id=asker)


# ----------------------------------------------------------------------------- points


def test_defaults_are_stack_exchange_points() -> None:
    up = entries_for(vote("v1"), POLICY, [])
    assert [(e.user_id, e.reason, e.points) for e in up] == [(1, "answer_upvoted", 10)]
    q = entries_for(vote("v2", subject=QUESTION), POLICY, [])
    assert [(e.reason, e.points) for e in q] == [("question_upvoted", 5)]
    down = entries_for(vote("v3", value=-1), POLICY, [])
    assert [(e.user_id, e.reason, e.points) for e in down] == [
        (1, "answer_downvoted", -2),
        (2, "downvote_cast", -1),
    ]
    qdown = entries_for(vote("v4", value=-1, subject=QUESTION), POLICY, [])
    assert [(e.user_id, e.reason, e.points) for e in qdown] == [(1, "question_downvoted", -2)]
    acc = entries_for(accept("a1"), POLICY, [])
    assert [(e.user_id, e.reason, e.points) for e in acc] == [
        (1, "answer_accepted", 15),
        (2, "accepted_answer_given", 2),
    ]


def test_entry_keys_derive_from_the_event_key() -> None:
    entries = entries_for(vote("vote:812", value=-1), POLICY, [])
    assert [e.key for e in entries] == ["vote:812:author", "vote:812:voter"]


def test_accepting_own_answer_earns_nothing_and_agent_accept_has_no_asker_bonus() -> None:
    assert entries_for(accept("a1", author=2, asker=2), POLICY, []) == []
    by_agent = entries_for(accept("a2", asker=None), POLICY, [])
    assert [(e.user_id, e.points) for e in by_agent] == [(1, 15)]


def test_ticket_lane_reasons() -> None:
    resolved = PointsEvent("ticket_resolved", 1, 9, SubjectRef("ticket", 4), NOW, "t4")
    assert [(e.user_id, e.reason, e.points) for e in entries_for(resolved, POLICY, [])] == [
        (9, "ticket_resolved", 20)
    ]
    csat5 = PointsEvent("csat_received", 1, 9, SubjectRef("ticket", 4), NOW, "c4", value=5)
    csat2 = replace(csat5, key="c5", value=2)
    assert [e.points for e in entries_for(csat5, POLICY, [])] == [10]
    assert entries_for(csat2, POLICY, []) == []


def test_invalid_vote_value_raises() -> None:
    with pytest.raises(ValueError, match="vote"):
        entries_for(vote("v", value=0), POLICY, [])


# ----------------------------------------------------------------------------- daily cap


def test_daily_cap_trims_the_21st_upvote_and_writes_a_zero_entry() -> None:
    history: list[PointsEntry] = []
    for i in range(21):
        history += entries_for(vote(f"v{i}", voter=100 + i), POLICY, history)
    assert sum(e.points for e in history) == 200
    assert history[-1].points == 0
    assert history[-1].capped
    assert not history[19].capped


def test_cap_trims_partially() -> None:
    history: list[PointsEntry] = []
    for i in range(39):
        history += entries_for(vote(f"q{i}", subject=QUESTION, voter=100 + i), POLICY, history)
    assert sum(e.points for e in history) == 195
    last = entries_for(vote("a", voter=99), POLICY, history)
    assert last[0].points == 5
    assert last[0].capped


def test_accepted_answers_are_exempt_from_the_cap() -> None:
    history: list[PointsEntry] = []
    for i in range(25):
        history += entries_for(vote(f"v{i}", voter=100 + i), POLICY, history)
    history += entries_for(accept("a1"), POLICY, history)
    author = recompute(history)[1]
    assert author == 200 + 15


def test_cap_resets_on_the_next_day_and_ignores_other_users() -> None:
    history: list[PointsEntry] = []
    for i in range(20):
        history += entries_for(vote(f"v{i}", voter=100 + i), POLICY, history)
    tomorrow = entries_for(vote("t", at=NOW + timedelta(days=1)), POLICY, history)
    other = entries_for(vote("o", author=5), POLICY, history)
    assert tomorrow[0].points == 10
    assert other[0].points == 10


def test_cap_day_follows_the_policy_time_zone() -> None:
    from zoneinfo import ZoneInfo

    moscow = replace(POLICY, cap_timezone=ZoneInfo("Europe/Moscow"))
    late = datetime(2025, 3, 12, 22, 0, tzinfo=UTC)  # 01:00 on the 13th in Moscow
    assert cap_day(late, POLICY) == (2025, 3, 12)
    assert cap_day(late, moscow) == (2025, 3, 13)


def test_no_cap_when_policy_disables_it() -> None:
    uncapped = replace(POLICY, daily_cap=None)
    history: list[PointsEntry] = []
    for i in range(30):
        history += entries_for(vote(f"v{i}", voter=100 + i), uncapped, history)
    assert recompute(history)[1] == 300


# ----------------------------------------------------------------------------- reversal


def test_reversal_negates_and_points_back() -> None:
    (entry,) = entries_for(vote("v1"), POLICY, [])
    rev = reversal_of(entry, NOW + timedelta(minutes=1))
    assert rev.points == -10
    assert rev.reverses == entry.key
    assert rev.key == "v1:author:rev"
    assert recompute([entry, rev]) == {1: 0}
    assert live_entries([entry, rev]) == []
    with pytest.raises(ValueError, match="reversal"):
        reversal_of(rev, NOW)


def test_ledger_problems_find_broken_histories() -> None:
    (entry,) = entries_for(vote("v1"), POLICY, [])
    rev = reversal_of(entry, NOW)
    assert ledger_problems([entry, rev]) == []
    codes = {v.code for v in ledger_problems([entry, entry])}
    assert codes == {"duplicate_key"}
    bad = replace(rev, points=-3)
    assert {v.code for v in ledger_problems([entry, bad])} == {"reversal_mismatch"}
    orphan = replace(rev, reverses="nope")
    assert {v.code for v in ledger_problems([orphan])} == {"reversal_of_unknown"}
    twice = replace(rev, key="other")
    assert "reversed_twice" in {v.code for v in ledger_problems([entry, rev, twice])}


def test_spending_lowers_balance_but_not_reputation() -> None:
    (earn,) = entries_for(vote("v1"), POLICY, [])
    spend = PointsEntry(1, 1, -4, "reward_redeemed", SubjectRef("redemption", 1), NOW, "r1")
    assert recompute([earn, spend]) == {1: 6}
    assert recompute_reputation([earn, spend]) == {1: 10}


# ----------------------------------------------------------------------------- levels


def test_apple_levels_by_default() -> None:
    assert POLICY.level_thresholds == APPLE_LEVELS
    assert len(APPLE_LEVELS) == 10
    assert raw_level(0, POLICY) == 1
    assert raw_level(149, POLICY) == 1
    assert raw_level(150, POLICY) == 2
    assert raw_level(80_000, POLICY) == 10
    assert raw_level(10**9, POLICY) == 10


def test_level_hysteresis_at_the_boundary() -> None:
    # Level 4 starts at 1,000; demotion only below 900.
    assert level_for(1_000, 3, POLICY) == 4
    assert level_for(999, 4, POLICY) == 4
    assert level_for(900, 4, POLICY) == 4
    assert level_for(899, 4, POLICY) == 3
    # Falling far drops through levels that no longer hold: 449 < 90 % of 500 -> level 2.
    assert level_for(449, 4, POLICY) == 2
    assert level_for(450, 4, POLICY) == 3
    # Below level 2's line too: 134 < 135.
    assert level_for(134, 4, POLICY) == 1


def test_level_progress() -> None:
    assert level_progress(1_200, 4, POLICY) == (200, 2_800)
    assert level_progress(90_000, 10, POLICY) == (10_000, None)


def test_policy_problems() -> None:
    assert policy_problems(POLICY) == []
    bad = replace(POLICY, level_thresholds=(10, 5), demote_below_percent=120)
    codes = {v.code for v in policy_problems(bad)}
    assert codes == {
        "levels_must_start_at_zero",
        "levels_not_increasing",
        "demotion_percent_out_of_range",
    }


def test_privileges_follow_stack_exchange() -> None:
    assert privileges_for(0, POLICY) == frozenset()
    assert privileges_for(15, POLICY) == {"upvote", "flag"}
    assert privileges_for(124, POLICY) == {"upvote", "flag", "comment"}
    assert "downvote" in privileges_for(125, POLICY)
    assert {"review_queue", "trusted_flagger"} <= privileges_for(500, POLICY)
    assert "edit_others" in privileges_for(2_000, POLICY)
    assert "close" not in privileges_for(2_999, POLICY)
    assert "close" in privileges_for(3_000, POLICY)
    # Held privileges survive a small dip.
    assert "close" in privileges_for(2_700, POLICY, held=frozenset({"close"}))
    assert "close" not in privileges_for(2_699, POLICY, held=frozenset({"close"}))
    problem = privilege_problem("downvote", 100, POLICY)
    assert problem is not None
    assert problem.code == "privilege_required"
    assert dict(problem.params) == {"privilege": "downvote", "points": 125}
    assert privilege_problem("upvote", 15, POLICY) is None


# ----------------------------------------------------------------------------- badges


def test_badges_first_answer_accepted_and_languages() -> None:
    s = ActivitySummary(1, answers=1, accepted_answers=10, languages=frozenset({"en", "ru", "zh"}))
    codes = [r.code for r in badges_due(s, DEFAULT_BADGES, frozenset())]
    assert codes == ["first_answer", "first_accepted", "accepted_10", "polyglot_3"]
    assert badges_due(s, DEFAULT_BADGES, frozenset(codes)) == []


def test_adding_a_rule_back_fills() -> None:
    s = ActivitySummary(1, answers=40)
    granted = frozenset(r.code for r in badges_due(s, DEFAULT_BADGES, frozenset()))
    new_rule = BadgeRule("answers_25", "answers", 25, "silver")
    assert [r.code for r in badges_due(s, (*DEFAULT_BADGES, new_rule), granted)] == ["answers_25"]


def test_duplicate_rule_codes_grant_once() -> None:
    rules = (BadgeRule("x", "answers", 1), BadgeRule("x", "answers", 2))
    assert [r.threshold for r in badges_due(ActivitySummary(1, answers=5), rules, frozenset())] == [
        1
    ]


# ----------------------------------------------------------------------------- leaderboards


def entry(
    user: int, points: int, at: datetime, key: str, reason: str = "answer_upvoted"
) -> PointsEntry:
    return PointsEntry(user, 1, points, reason, ANSWER, at, key)  # type: ignore[arg-type]


def test_period_starts() -> None:
    assert period_start("week", NOW) == datetime(2025, 3, 10, tzinfo=UTC)
    assert period_start("month", NOW) == datetime(2025, 3, 1, tzinfo=UTC)
    assert period_start("all", NOW) is None
    with pytest.raises(ValueError, match="aware"):
        period_start("week", datetime(2025, 3, 12))  # noqa: DTZ001


def test_leaderboard_windows_and_ties() -> None:
    rows = [
        entry(1, 50, NOW - timedelta(days=40), "a"),
        entry(2, 30, NOW - timedelta(days=5), "b"),  # this month, not this week
        entry(3, 30, NOW - timedelta(hours=2), "c"),
        entry(4, 30, NOW - timedelta(hours=1), "d"),
        entry(4, -100, NOW - timedelta(days=60), "e"),
        entry(5, 999, NOW + timedelta(days=1), "future"),
        entry(3, -500, NOW - timedelta(hours=1), "spend", "reward_redeemed"),
    ]
    assert leaderboard(rows, "week", NOW) == [LeaderboardRow(1, 3, 30), LeaderboardRow(1, 4, 30)]
    assert leaderboard(rows, "month", NOW) == [
        LeaderboardRow(1, 2, 30),
        LeaderboardRow(1, 3, 30),
        LeaderboardRow(1, 4, 30),
    ]
    assert leaderboard(rows, "all", NOW) == [
        LeaderboardRow(1, 1, 50),
        LeaderboardRow(2, 2, 30),
        LeaderboardRow(2, 3, 30),
    ]
    assert points_in_period(rows, "all", NOW)[4] == -70


def test_rank_leaderboard_competition_ranks_and_limit() -> None:
    totals = {10: 5, 11: 7, 12: 7, 13: 1, 14: 0}
    assert rank_leaderboard(totals) == [
        LeaderboardRow(1, 11, 7),
        LeaderboardRow(1, 12, 7),
        LeaderboardRow(3, 10, 5),
        LeaderboardRow(4, 13, 1),
    ]
    assert [r.user_id for r in rank_leaderboard(totals, limit=2)] == [11, 12]
    assert rank_leaderboard(totals, limit=None) == rank_leaderboard(totals)


# ----------------------------------------------------------------------------- properties

users = st.integers(min_value=1, max_value=6)
event_kinds = st.sampled_from(["up_a", "up_q", "down_a", "down_q", "accept", "ticket", "undo"])
minutes = st.integers(min_value=0, max_value=3 * 24 * 60)


@st.composite
def ledgers(draw: st.DrawFn) -> list[PointsEntry]:
    """A random ledger built only through the rules (cap and reversals included)."""
    steps = draw(st.lists(st.tuples(event_kinds, users, users, minutes), max_size=120))
    history: list[PointsEntry] = []
    base = datetime(2025, 3, 10, tzinfo=UTC)
    for i, (kind, author, actor, minute) in enumerate(sorted(steps, key=lambda s: s[3])):
        at = base + timedelta(minutes=minute)
        if kind == "undo":
            live = live_entries(history)
            if live:
                history.append(reversal_of(live[draw(st.integers(0, len(live) - 1))], at))
            continue
        subject = QUESTION if kind.endswith("_q") else ANSWER
        if kind == "accept":
            event = PointsEvent("accept", 1, author, ANSWER, at, f"e{i}", actor_id=actor)
        elif kind == "ticket":
            event = PointsEvent("ticket_resolved", 1, author, SubjectRef("ticket", i), at, f"e{i}")
        else:
            value = 1 if kind.startswith("up") else -1
            event = PointsEvent(
                "vote", 1, author, subject, at, f"e{i}", actor_id=actor, value=value
            )
        day = cap_day(at, POLICY)
        today = [e for e in history if cap_day(e.at, POLICY) == day]
        history.extend(entries_for(event, POLICY, today))
    return history


@given(ledgers())
@settings(max_examples=150, deadline=None)
def test_recompute_equals_a_running_balance(history: list[PointsEntry]) -> None:
    running: dict[int, int] = {}
    for e in history:
        running[e.user_id] = running.get(e.user_id, 0) + e.points
    assert recompute(history) == running
    assert sum(recompute(history).values()) == sum(e.points for e in history)
    assert ledger_problems(history) == []


@given(ledgers())
@settings(max_examples=150, deadline=None)
def test_daily_cap_holds_and_accepted_is_exempt(history: list[PointsEntry]) -> None:
    cap = POLICY.daily_cap
    assert cap is not None
    days = {(e.user_id, cap_day(e.at, POLICY)) for e in history}
    for user, day in days:
        assert capped_points_on_day(user, day, history, POLICY) <= cap
    for e in history:
        if e.reason == "answer_accepted" and e.reverses is None:
            assert e.points == POLICY.answer_accepted
            assert not e.capped


@given(ledgers())
@settings(max_examples=100, deadline=None)
def test_reversing_everything_nets_to_zero(history: list[PointsEntry]) -> None:
    later = datetime(2026, 1, 1, tzinfo=UTC)
    undone = history + [reversal_of(e, later) for e in live_entries(history)]
    assert all(p == 0 for p in recompute(undone).values())


@given(
    st.integers(min_value=1, max_value=10),
    st.lists(st.integers(min_value=0, max_value=120_000), min_size=1, max_size=60),
)
def test_level_is_stable_and_hysteresis_holds(start: int, walk: list[int]) -> None:
    level = start
    for points in walk:
        new = level_for(points, level, POLICY)
        # Stable: asking again with the same points changes nothing.
        assert level_for(points, new, POLICY) == new
        # Never below what the points have reached; promotion exactly at a threshold.
        assert new >= raw_level(points, POLICY)
        if new > level:
            assert new == raw_level(points, POLICY)
        if new < level:
            # Demoted only when below the demotion line of the level held.
            assert points * 100 < POLICY.level_thresholds[level - 1] * 90
        level = new


@given(
    st.lists(st.integers(min_value=-500, max_value=120_000), min_size=1, max_size=60),
    st.sampled_from([50, 75, 90, 100]),
)
def test_one_standing_number_holds_what_the_hysteresis_rules_hold(
    walk: list[int], percent: int
) -> None:
    """The shell keeps one integer per person (``standing``) instead of a level and a set of
    privileges: after any history of totals, it gives exactly the level of :func:`level_for`
    and the privileges of :func:`privileges_for` applied step by step."""
    policy = replace(POLICY, demote_below_percent=percent)
    level, held, standing = 1, frozenset[str](), 0
    for points in walk:
        level = level_for(points, level, policy)
        held = privileges_for(points, policy, held)
        standing = standing_after(standing, points, policy)
        assert raw_level(standing, policy) == level
        assert privileges_for(standing, policy) == held
        assert standing >= points


@given(
    st.lists(
        st.lists(st.tuples(st.integers(1, 3), st.integers(-300, 2_000)), min_size=1, max_size=3),
        max_size=40,
    )
)
def test_a_replay_of_the_ledger_gives_the_standing_the_writes_gave(
    writes: list[list[tuple[int, int]]],
) -> None:
    """``standings_from_ledger`` over the ledger's rows (in write order, a write's entries
    sharing their moment) equals moving each person's standing once per write, as the
    running totals do."""
    rows = [
        (user, f"2026-01-01 00:00:{i:06d}", pts) for i, w in enumerate(writes) for user, pts in w
    ]
    want: dict[int, list[int]] = {}
    for w in writes:
        moved: dict[int, int] = {}
        for user, pts in w:
            moved[user] = moved.get(user, 0) + pts
        for user, delta in moved.items():
            total, standing = want.get(user, [0, 0])
            want[user] = [total + delta, standing_after(standing, total + delta, POLICY)]
    assert standings_from_ledger(rows, POLICY) == {u: st for u, (_t, st) in want.items()}


@given(
    st.lists(st.integers(min_value=-500, max_value=120_000), min_size=1, max_size=40),
    st.lists(st.integers(min_value=-500, max_value=120_000), max_size=20),
    st.sampled_from([50, 75, 90, 100]),
)
def test_a_settled_total_holds_what_any_history_to_it_holds_now_and_later(
    walk: list[int], later: list[int], percent: int
) -> None:
    """Where ``standing_is_settled`` says so, the total itself is as good a standing as the
    one the history left: the same level and privileges now, and after any later moves."""
    policy = replace(POLICY, demote_below_percent=percent)
    standing = 0
    for points in walk:
        standing = standing_after(standing, points, policy)
    total = walk[-1]
    if not standing_is_settled(total, policy):
        return
    shortcut = total
    for points in [total, *later]:
        standing = standing_after(standing, points, policy)
        shortcut = standing_after(shortcut, points, policy)
        assert raw_level(shortcut, policy) == raw_level(standing, policy)
        assert privileges_for(shortcut, policy) == privileges_for(standing, policy)


def test_settled_totals_are_those_with_no_threshold_above_within_the_line() -> None:
    assert not standing_is_settled(140, POLICY)  # 150 (level 2) within 140 / 0.9 = 155
    assert standing_is_settled(130, POLICY)  # 144: no threshold in (130, 144]
    assert not standing_is_settled(3_700, POLICY)  # 4,000 (a level) within 3,700 / 0.9
    assert standing_is_settled(4_500, POLICY)
    assert standing_is_settled(-20, POLICY)


def test_standing_keeps_a_level_down_to_ninety_percent() -> None:
    s = standing_after(0, 150, POLICY)  # level 2 starts at 150
    assert raw_level(s, POLICY) == 2
    s = standing_after(s, 135, POLICY)  # 90 %: kept
    assert raw_level(s, POLICY) == 2
    s = standing_after(s, 134, POLICY)  # below: lost
    assert raw_level(s, POLICY) == 1
    s = standing_after(s, 140, POLICY)  # back above the line, not at the threshold: not regained
    assert raw_level(s, POLICY) == 1
    assert raw_level(standing_after(s, 150, POLICY), POLICY) == 2


@given(
    st.integers(min_value=1, max_value=9),
    st.lists(st.integers(min_value=0, max_value=99), min_size=2, max_size=40),
)
def test_no_flapping_around_a_threshold(index: int, wiggles: list[int]) -> None:
    """Points oscillating within 10 % below a threshold never demote once promoted."""
    threshold = APPLE_LEVELS[index]
    level = level_for(threshold, index, POLICY)
    assert level == index + 1
    for w in wiggles:
        points = threshold - (threshold * w) // 1000  # at most 9.9 % below
        level = level_for(points, level, POLICY)
        assert level == index + 1


SUMMARIES = st.builds(
    ActivitySummary,
    user_id=st.just(1),
    questions=st.integers(0, 20),
    answers=st.integers(0, 200),
    accepted_answers=st.integers(0, 200),
    brand_approved_answers=st.integers(0, 20),
    upvotes_received=st.integers(0, 50),
    languages=st.frozensets(st.sampled_from(["en", "ru", "zh", "de", "fr"])),
    tickets_resolved=st.integers(0, 3),
    reputation=st.integers(0, 20_000),
)


@given(
    SUMMARIES,
    st.frozensets(st.sampled_from([r.code for r in DEFAULT_BADGES])),
)
def test_badge_grants_are_idempotent(summary: ActivitySummary, granted: frozenset[str]) -> None:
    due = badges_due(summary, DEFAULT_BADGES, granted)
    codes = [r.code for r in due]
    assert len(codes) == len(set(codes))
    assert not set(codes) & granted
    after = granted | set(codes)
    assert badges_due(summary, DEFAULT_BADGES, frozenset(after)) == []
    for rule in DEFAULT_BADGES:
        if rule.code not in after:
            assert summary.metric(rule.metric) < rule.threshold


@given(ledgers(), st.integers(0, 50))
def test_running_totals_add_up_to_the_recompute_in_any_split(
    entries: list[PointsEntry], cut: int
) -> None:
    from crowdcx.reputation.rules import (
        ALL_TIME,
        cap_day,
        cap_scope,
        capped_points_on_day,
        period_scope,
        totals_delta,
    )

    capped = POLICY.capped_reasons
    whole = totals_delta(entries, capped=capped)
    merged: dict[tuple[int, str], tuple[int, int]] = {}
    for part in (entries[:cut], entries[cut:]):  # two appends give what one gives
        for key, (e, b) in totals_delta(part, capped=capped).items():
            old = merged.get(key, (0, 0))
            merged[key] = (old[0] + e, old[1] + b)
    assert merged == whole
    earned = recompute_reputation(entries)
    balance = recompute(entries)
    for (uid, scope), (e, b) in whole.items():
        if scope == ALL_TIME:
            assert e == earned.get(uid, 0)
            assert b == balance.get(uid, 0)
    for period in ("week", "month"):
        now = max((x.at for x in entries), default=datetime(2025, 3, 10, tzinfo=UTC))
        scope = period_scope(period, now)  # type: ignore[arg-type]
        in_period = points_in_period(entries, period, now)  # type: ignore[arg-type]
        from_totals = {u: e for (u, s), (e, _b) in whole.items() if s == scope and e}
        assert from_totals == {u: p for u, p in in_period.items() if p}
    # The daily-cap total of each user and day is what the cap rule sums from the ledger.
    for e in entries:
        on_day = capped_points_on_day(e.user_id, cap_day(e.at, POLICY), entries, POLICY)
        assert whole.get((e.user_id, cap_scope(e.at)), (0, 0))[0] == on_day


@given(
    SUMMARIES,
    st.frozensets(st.sampled_from([r.code for r in DEFAULT_BADGES])),
    st.one_of(st.none(), st.frozensets(st.sampled_from(list(get_args(Metric))))),
)
def test_checking_only_moved_metrics_never_grants_more(
    summary: ActivitySummary, held: frozenset[str], moved: frozenset[Metric] | None
) -> None:
    """An event checks only the rules on the metrics it moved: what it grants is part of what
    a full check grants, all of it when nothing is named, and never a badge already held."""
    everything = badges_due(summary, DEFAULT_BADGES, held)
    scoped = badges_due(summary, badges_to_check(DEFAULT_BADGES, held, moved), held)
    assert set(scoped) <= set(everything)
    assert all(r.code not in held for r in scoped)
    if moved is None:
        assert scoped == everything
    else:
        assert all(r.metric in moved for r in scoped)
        assert [r for r in everything if r.metric in moved] == scoped


@given(
    st.lists(st.sampled_from(get_args(Metric)), unique=True),
    st.dictionaries(st.sampled_from(get_args(Metric)), st.booleans()),
)
def test_metrics_risen_keeps_exactly_what_is_not_known_to_have_stayed(
    moved: list[Metric], rose: dict[str, bool]
) -> None:
    """The badge check after an event reads only the metrics it raised: a metric said not to
    have risen is dropped, every other one is kept, in the event's order."""
    risen = metrics_risen(moved, **rose)
    assert list(risen) == [m for m in moved if rose.get(m, True)]
    everything = badges_to_check(DEFAULT_BADGES, frozenset(), risen)
    assert {r.metric for r in everything} <= set(risen)
