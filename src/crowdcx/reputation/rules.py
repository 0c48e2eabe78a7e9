"""Pure rules of reputation: the points ledger, the daily cap, levels, privileges, badges and
leaderboards.

Reputation is an append-only ledger of :class:`PointsEntry` rows. Nothing is ever edited: undoing
a vote writes a reversal entry (``reverses`` = the original entry's key, points negated), so a
user's total is always ``recompute(entries)`` over the history. The community lane (votes,
accepts, redemptions) and the ticket lane (``ticket_resolved``, ``csat_received``) write into the
same ledger.

Two totals are derived from one ledger:

* **reputation** (:func:`recompute_reputation`) = everything except spending
  (``reward_redeemed``); levels, privileges, badges and leaderboards use it, so redeeming points
  for credit never demotes a helper (giffgaff keeps "kudos" and payback apart the same way);
* **balance** (:func:`recompute`) = every entry; rewards are redeemed against it.

Everything here takes plain frozen values, including ``now`` and the brand's policy, and returns
values. Defaults are modelled on Stack Exchange (vote points, daily cap 200, privileges) and the
Apple Support Community (ten levels).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final, Literal

# --------------------------------------------------------------------------------------------
# Ledger entries
# --------------------------------------------------------------------------------------------

Reason = Literal[
    "answer_upvoted",
    "answer_downvoted",
    "question_upvoted",
    "question_downvoted",
    "downvote_cast",
    "answer_accepted",
    "accepted_answer_given",
    "ticket_resolved",
    "csat_received",
    "reward_redeemed",
    "adjustment",
]
REASONS: Final[tuple[Reason, ...]] = (
    "answer_upvoted",
    "answer_downvoted",
    "question_upvoted",
    "question_downvoted",
    "downvote_cast",
    "answer_accepted",
    "accepted_answer_given",
    "ticket_resolved",
    "csat_received",
    "reward_redeemed",
    "adjustment",
)
# Spending lowers the redeemable balance but not the reputation that levels are made of.
SPEND_REASONS: Final[frozenset[str]] = frozenset({"reward_redeemed"})

SubjectKind = Literal["question", "answer", "ticket", "redemption", "user"]


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """What an entry is about: a post, a ticket, a redemption."""

    kind: SubjectKind
    id: int


@dataclass(frozen=True, slots=True)
class PointsEntry:
    """One immutable ledger row. ``key`` is unique per brand and makes writing idempotent."""

    user_id: int
    brand_id: int
    points: int
    reason: Reason
    subject: SubjectRef
    at: datetime
    key: str
    reverses: str | None = None
    actor_id: int | None = None
    capped: bool = False  # True when the daily cap trimmed this entry's points
    # True for what moderation takes back from a hidden post and gives back on restoring it:
    # it moves the person's totals but not the daily cap (it frees no room on its day, uses
    # none and is never trimmed): the cap counts upvotes as they were cast.
    outside_cap: bool = False


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule that says no, as data. ``code`` is stable API contract."""

    code: str
    field: str | None = None
    params: tuple[tuple[str, int | str], ...] = ()


# --------------------------------------------------------------------------------------------
# Policy
# --------------------------------------------------------------------------------------------

# Apple Support Community status levels (discussions.apple.com, "Earn points, status levels,
# and privileges"): level n starts at APPLE_LEVELS[n - 1] points.
APPLE_LEVELS: Final[tuple[int, ...]] = (
    0,
    150,
    500,
    1_000,
    4_000,
    8_000,
    20_000,
    35_000,
    50_000,
    80_000,
)

# Stack Exchange privilege thresholds (stackoverflow.com/help/privileges).
STACK_EXCHANGE_PRIVILEGES: Final[Mapping[str, int]] = {
    "upvote": 15,
    "flag": 15,
    "comment": 50,
    "downvote": 125,
    "review_queue": 500,
    "trusted_flagger": 500,
    "edit_others": 2_000,
    "close": 3_000,
}


@dataclass(frozen=True, slots=True)
class ReputationPolicy:
    """A brand's points rules. Validate with :func:`policy_problems` before storing."""

    answer_upvoted: int = 10
    answer_downvoted: int = -2
    question_upvoted: int = 5
    question_downvoted: int = -2
    downvote_cast: int = -1  # Stack Exchange charges the voter 1 for downvoting an answer
    answer_accepted: int = 15
    accepted_answer_given: int = 2  # to the asker who accepts someone else's answer
    ticket_resolved: int = 20
    # CSAT score (1..5) -> points for the expert; scores not listed earn nothing.
    csat_points: tuple[tuple[int, int], ...] = ((4, 5), (5, 10))
    daily_cap: int | None = 200
    # Reasons whose positive points count against (and are trimmed by) the daily cap.
    # Accepted answers, ticket work and adjustments are exempt, as on Stack Exchange.
    capped_reasons: frozenset[str] = frozenset({"answer_upvoted", "question_upvoted"})
    cap_timezone: tzinfo = UTC
    level_thresholds: tuple[int, ...] = APPLE_LEVELS
    demote_below_percent: int = 90
    privileges: Mapping[str, int] = field(default_factory=lambda: dict(STACK_EXCHANGE_PRIVILEGES))


def policy_problems(policy: ReputationPolicy) -> list[Violation]:
    """What is wrong with a brand's reputation policy; empty means it may be stored."""
    problems: list[Violation] = []
    levels = policy.level_thresholds
    if not levels or levels[0] != 0:
        problems.append(Violation("levels_must_start_at_zero", "level_thresholds"))
    if any(b <= a for a, b in itertools.pairwise(levels)):
        problems.append(Violation("levels_not_increasing", "level_thresholds"))
    if not 50 <= policy.demote_below_percent <= 100:
        problems.append(Violation("demotion_percent_out_of_range", "demote_below_percent"))
    if policy.daily_cap is not None and policy.daily_cap < 0:
        problems.append(Violation("cap_negative", "daily_cap"))
    if any(v < 0 for v in policy.privileges.values()):
        problems.append(Violation("privilege_threshold_negative", "privileges"))
    for reason in policy.capped_reasons:
        if reason not in REASONS:
            problems.append(Violation("reason_unknown", "capped_reasons", (("reason", reason),)))
    return problems


# --------------------------------------------------------------------------------------------
# Events -> entries
# --------------------------------------------------------------------------------------------

EventKind = Literal["vote", "accept", "ticket_resolved", "csat_received", "adjustment"]


@dataclass(frozen=True, slots=True)
class PointsEvent:
    """Something that earns points.

    * ``vote``: ``value`` is +1 / -1, ``subject`` the voted post, ``beneficiary_id`` its author,
      ``actor_id`` the voter;
    * ``accept``: ``subject`` the accepted answer, ``beneficiary_id`` its author, ``actor_id``
      the asker, or None when an agent accepted (no asker bonus then);
    * ``ticket_resolved``: ``beneficiary_id`` the expert, ``subject`` the ticket;
    * ``csat_received``: ``value`` the CSAT score 1..5;
    * ``adjustment``: ``value`` the points, by staff.

    ``key`` is unique per event (e.g. ``"vote:812"``); entry keys derive from it.
    """

    kind: EventKind
    brand_id: int
    beneficiary_id: int
    subject: SubjectRef
    at: datetime
    key: str
    actor_id: int | None = None
    value: int = 1


def cap_day(at: datetime, policy: ReputationPolicy) -> tuple[int, int, int]:
    """The calendar day (in the policy's time zone) the daily cap is counted on."""
    local = at.astimezone(policy.cap_timezone)
    return (local.year, local.month, local.day)


def capped_points_on_day(
    user_id: int,
    day: tuple[int, int, int],
    history: Iterable[PointsEntry],
    policy: ReputationPolicy,
) -> int:
    """Net points of capped reasons ``user_id`` got on ``day`` (reversals included; what
    moderation took back or gave back, ``outside_cap``, left out)."""
    total = 0
    for e in history:
        if (
            e.user_id == user_id
            and e.reason in policy.capped_reasons
            and not e.outside_cap
            and cap_day(e.at, policy) == day
        ):
            total += e.points
    return total


def _base_entries(
    event: PointsEvent, policy: ReputationPolicy
) -> list[tuple[int, Reason, int, str]]:
    """(user, reason, points, key suffix) before the cap."""
    out: list[tuple[int, Reason, int, str]] = []
    kind = event.kind
    if kind == "vote":
        if event.value not in (1, -1):
            raise ValueError("a vote event has value +1 or -1")
        on_answer = event.subject.kind == "answer"
        if event.value == 1:
            reason: Reason = "answer_upvoted" if on_answer else "question_upvoted"
            pts = policy.answer_upvoted if on_answer else policy.question_upvoted
            out.append((event.beneficiary_id, reason, pts, "author"))
        else:
            reason = "answer_downvoted" if on_answer else "question_downvoted"
            pts = policy.answer_downvoted if on_answer else policy.question_downvoted
            out.append((event.beneficiary_id, reason, pts, "author"))
            if on_answer and event.actor_id is not None and policy.downvote_cast:
                out.append((event.actor_id, "downvote_cast", policy.downvote_cast, "voter"))
    elif kind == "accept":
        asker = event.actor_id
        if asker != event.beneficiary_id:  # accepting your own answer earns nothing
            out.append((event.beneficiary_id, "answer_accepted", policy.answer_accepted, "author"))
            if asker is not None and policy.accepted_answer_given:
                out.append((asker, "accepted_answer_given", policy.accepted_answer_given, "asker"))
    elif kind == "ticket_resolved":
        out.append((event.beneficiary_id, "ticket_resolved", policy.ticket_resolved, "expert"))
    elif kind == "csat_received":
        pts = dict(policy.csat_points).get(event.value, 0)
        out.append((event.beneficiary_id, "csat_received", pts, "expert"))
    elif kind == "adjustment":
        out.append((event.beneficiary_id, "adjustment", event.value, "user"))
    return [row for row in out if row[2] != 0]


def entries_for(
    event: PointsEvent, policy: ReputationPolicy, history_today: Sequence[PointsEntry]
) -> list[PointsEntry]:
    """The ledger entries an event writes, honouring the daily cap.

    ``history_today`` holds the entries already written for the users involved on the event's
    cap day (more is harmless: other users and days are ignored). Positive points of a capped
    reason are trimmed to the room left under the cap; a fully trimmed entry is still written
    with 0 points and ``capped=True`` so that undoing the vote later reverses exactly what was
    given. Negative points are never capped.
    """
    day = cap_day(event.at, policy)
    result: list[PointsEntry] = []
    for user_id, reason, points, suffix in _base_entries(event, policy):
        capped = False
        if policy.daily_cap is not None and points > 0 and reason in policy.capped_reasons:
            used = capped_points_on_day(user_id, day, [*history_today, *result], policy)
            room = max(policy.daily_cap - used, 0)
            if points > room:
                points, capped = room, True
        result.append(
            PointsEntry(
                user_id=user_id,
                brand_id=event.brand_id,
                points=points,
                reason=reason,
                subject=event.subject,
                at=event.at,
                key=f"{event.key}:{suffix}",
                actor_id=event.actor_id,
                capped=capped,
            )
        )
    return result


def reversal_of(entry: PointsEntry, at: datetime, actor_id: int | None = None) -> PointsEntry:
    """The entry that cancels ``entry`` (same reason, negated points). Never edits the original."""
    if entry.reverses is not None:
        raise ValueError("a reversal cannot itself be reversed; write a new entry instead")
    return PointsEntry(
        user_id=entry.user_id,
        brand_id=entry.brand_id,
        points=-entry.points,
        reason=entry.reason,
        subject=entry.subject,
        at=at,
        key=f"{entry.key}:rev",
        reverses=entry.key,
        actor_id=actor_id,
    )


def live_entries(entries: Iterable[PointsEntry]) -> list[PointsEntry]:
    """Entries that are neither reversals nor reversed: the current state of things."""
    rows = list(entries)
    reversed_keys = {e.reverses for e in rows if e.reverses is not None}
    return [e for e in rows if e.reverses is None and e.key not in reversed_keys]


def ledger_problems(entries: Sequence[PointsEntry]) -> list[Violation]:
    """Integrity checks over a ledger: unique keys, each reversal matches its original once."""
    problems: list[Violation] = []
    by_key: dict[str, PointsEntry] = {}
    for e in entries:
        if e.key in by_key:
            problems.append(Violation("duplicate_key", "key", (("key", e.key),)))
        by_key[e.key] = e
    reversed_once: set[str] = set()
    for e in entries:
        if e.reverses is None:
            continue
        original = by_key.get(e.reverses)
        if original is None:
            problems.append(Violation("reversal_of_unknown", "reverses", (("key", e.key),)))
        elif original.reverses is not None:
            problems.append(Violation("reversal_of_reversal", "reverses", (("key", e.key),)))
        elif e.points != -original.points or e.user_id != original.user_id:
            problems.append(Violation("reversal_mismatch", "points", (("key", e.key),)))
        if e.reverses in reversed_once:
            problems.append(Violation("reversed_twice", "reverses", (("key", e.reverses),)))
        reversed_once.add(e.reverses)
    return problems


# --------------------------------------------------------------------------------------------
# Totals
# --------------------------------------------------------------------------------------------


def recompute(entries: Iterable[PointsEntry]) -> dict[int, int]:
    """Balance per user: the plain sum of every entry. Pass one brand's entries."""
    totals: dict[int, int] = {}
    get = totals.get
    for e in entries:
        uid = e.user_id
        totals[uid] = get(uid, 0) + e.points
    return totals


def recompute_reputation(entries: Iterable[PointsEntry]) -> dict[int, int]:
    """Reputation per user: every entry except spending (levels never drop by redeeming)."""
    totals: dict[int, int] = {}
    get = totals.get
    spend = SPEND_REASONS
    for e in entries:
        if e.reason in spend:
            continue
        uid = e.user_id
        totals[uid] = get(uid, 0) + e.points
    return totals


# --------------------------------------------------------------------------------------------
# Levels and privileges (with hysteresis)
# --------------------------------------------------------------------------------------------


def _holds(points: int, threshold: int, policy: ReputationPolicy) -> bool:
    """Whether a level/privilege already held is kept: not below the demotion line."""
    return points * 100 >= threshold * policy.demote_below_percent


def raw_level(points: int, policy: ReputationPolicy) -> int:
    """The level (1-based) whose threshold ``points`` has reached, ignoring hysteresis."""
    level = 1
    for i, threshold in enumerate(policy.level_thresholds):
        if points >= threshold:
            level = i + 1
    return level


def level_for(points: int, current_level: int, policy: ReputationPolicy) -> int:
    """The level to hold now. Promotion at a threshold; demotion only below
    ``demote_below_percent`` of the held level's threshold, and then to the highest lower level
    the points still hold by the same rule (so the answer is stable: applying it twice changes
    nothing)."""
    reached = raw_level(points, policy)
    if reached >= current_level:
        return reached
    thresholds = policy.level_thresholds
    level = min(current_level, len(thresholds))
    while level > reached and not _holds(points, thresholds[level - 1], policy):
        level -= 1
    return level


def standing_after(standing: int, points: int, policy: ReputationPolicy) -> int:
    """The hysteresis of levels and privileges carried in one number per person.

    ``standing`` is the highest point count whose levels and privileges the person still
    holds: ``raw_level(standing)`` is the level :func:`level_for` holds, and
    ``privileges_for(standing)`` the privileges :func:`privileges_for` keeps, after the same
    history of totals (a Hypothesis property checks both). When the total moves to
    ``points``, everything at or below ``points`` is held; what was held is kept while
    ``points`` stays at or above its demotion line, that is while its threshold is at most
    ``points × 100 / demote_below_percent``. So the running totals keep one integer, moved by
    the database with each ledger write, instead of a level and a set of privileges."""
    return max(points, min(standing, points * 100 // policy.demote_below_percent))


def standing_is_settled(total: int, policy: ReputationPolicy) -> bool:
    """True when no history ending at ``total`` holds a level or privilege the total does not
    reach by itself: no threshold lies above the total within its demotion line. A standing
    is at most ``max(total, total × 100 / demote_below_percent)`` (:func:`standing_after`),
    and it holds a threshold exactly when it is at or above it; with no threshold in that
    band, every standing the history could leave holds what ``total`` holds, now and after
    any later move (standings equivalent by the thresholds they hold stay equivalent under
    :func:`standing_after`). A full recompute replays only the people this is False for."""
    line = total * 100 // policy.demote_below_percent
    if line <= total:
        return True
    return not any(
        total < t <= line for t in (*policy.level_thresholds, *policy.privileges.values())
    )


def standings_from_ledger(
    rows: Iterable[tuple[int, object, int]], policy: ReputationPolicy
) -> dict[int, int]:
    """Each person's standing after replaying their earning entries, given as (user, moment
    of the write, points) in the order they were written: the entries of one write (same
    person, same moment, consecutive for that person) move the total in one step, as the
    running totals do, and each step moves the standing by :func:`standing_after` (inlined:
    a full recompute runs this over every entry of the ledger)."""
    pct = policy.demote_below_percent
    # Per person: [total, standing, moment of the write in progress, its points so far].
    state: dict[int, list[Any]] = {}
    get = state.get
    for uid, at, points in rows:
        st = get(uid)
        if st is None:
            state[uid] = [0, 0, at, points]
        elif st[2] == at:
            st[3] += points
        else:
            total = st[0] + st[3]
            line = total * 100 // pct
            held = st[1] if st[1] < line else line
            st[0], st[1], st[2], st[3] = total, total if total > held else held, at, points
    return {
        uid: standing_after(standing, total + pending, policy)
        for uid, (total, standing, _at, pending) in state.items()
    }


def level_progress(points: int, level: int, policy: ReputationPolicy) -> tuple[int, int | None]:
    """(points into the level, points still needed for the next one or None at the top)."""
    thresholds = policy.level_thresholds
    start = thresholds[level - 1]
    # A level held below its threshold (hysteresis) shows as its start, not below it.
    if level >= len(thresholds):
        return (max(points - start, 0), None)
    return (max(points - start, 0), max(thresholds[level] - points, 0))


def privileges_for(
    points: int, policy: ReputationPolicy, held: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Privileges earned at ``points``; those in ``held`` are kept until below the demotion line."""
    out: set[str] = set()
    for name, threshold in policy.privileges.items():
        if points >= threshold or (name in held and _holds(points, threshold, policy)):
            out.add(name)
    return frozenset(out)


def privilege_problem(
    privilege: str, points: int, policy: ReputationPolicy, held: frozenset[str] = frozenset()
) -> Violation | None:
    """``privilege_required`` (with the threshold) when ``points`` do not grant ``privilege``."""
    if privilege in privileges_for(points, policy, held):
        return None
    need = policy.privileges.get(privilege, -1)
    return Violation("privilege_required", None, (("privilege", privilege), ("points", need)))


# --------------------------------------------------------------------------------------------
# Badges
# --------------------------------------------------------------------------------------------

Metric = Literal[
    "questions",
    "answers",
    "accepted_answers",
    "brand_approved_answers",
    "upvotes_received",
    "languages_helped",
    "tickets_resolved",
    "reputation",
    "days_active",
]


@dataclass(frozen=True, slots=True)
class ActivitySummary:
    """What a user has done in a brand, counted by the shell."""

    user_id: int
    questions: int = 0
    answers: int = 0
    accepted_answers: int = 0
    brand_approved_answers: int = 0
    upvotes_received: int = 0
    # Languages (BCP 47 base codes) of questions the user answered with an accepted or upvoted
    # answer.
    languages: frozenset[str] = frozenset()
    tickets_resolved: int = 0
    reputation: int = 0
    days_active: int = 0

    def metric(self, name: Metric) -> int:
        if name == "languages_helped":
            return len(self.languages)
        value: int = getattr(self, name)
        return value


BadgeTier = Literal["bronze", "silver", "gold"]


@dataclass(frozen=True, slots=True)
class BadgeRule:
    """A badge is granted once when ``metric`` reaches ``threshold``."""

    code: str
    metric: Metric
    threshold: int
    tier: BadgeTier = "bronze"


DEFAULT_BADGES: Final[tuple[BadgeRule, ...]] = (
    BadgeRule("first_question", "questions", 1),
    BadgeRule("first_answer", "answers", 1),
    BadgeRule("first_accepted", "accepted_answers", 1),
    BadgeRule("brand_approved", "brand_approved_answers", 1),
    BadgeRule("helpful_10", "upvotes_received", 10),
    BadgeRule("accepted_10", "accepted_answers", 10, "silver"),
    BadgeRule("polyglot_3", "languages_helped", 3, "silver"),
    BadgeRule("brand_approved_10", "brand_approved_answers", 10, "silver"),
    BadgeRule("first_ticket", "tickets_resolved", 1),
    BadgeRule("accepted_100", "accepted_answers", 100, "gold"),
    BadgeRule("reputation_10000", "reputation", 10_000, "gold"),
)


def badges_to_check(
    rules: Iterable[BadgeRule],
    already_granted: frozenset[str],
    moved: Collection[Metric] | None = None,
) -> tuple[BadgeRule, ...]:
    """The rules an event could newly satisfy: not granted yet and, when the event names the
    metrics it moved, on one of them (``None``: every rule, as a back-fill asks). A vote
    cannot earn a badge for questions asked, so nobody counts questions for it."""
    return tuple(
        r for r in rules if r.code not in already_granted and (moved is None or r.metric in moved)
    )


def metrics_risen(moved: Iterable[Metric], **rose: bool) -> tuple[Metric, ...]:
    """Of the metrics an event can move, those it raised: a badge is earned at or above a
    threshold, so only a metric that went up can have made one due. ``rose`` names the
    metrics the event knows did not rise (False); one not named is kept."""
    return tuple(m for m in moved if rose.get(m, True))


def badges_due(
    summary: ActivitySummary, rules: Iterable[BadgeRule], already_granted: frozenset[str]
) -> list[BadgeRule]:
    """Badges earned and not yet granted, in rule order. Idempotent: granting the result and
    asking again returns nothing; adding a rule later back-fills it for whoever qualifies."""
    due: list[BadgeRule] = []
    seen: set[str] = set(already_granted)
    for rule in rules:
        if rule.code in seen:
            continue
        if summary.metric(rule.metric) >= rule.threshold:
            due.append(rule)
            seen.add(rule.code)
    return due


# --------------------------------------------------------------------------------------------
# Leaderboards
# --------------------------------------------------------------------------------------------

Period = Literal["week", "month", "all"]
PERIODS: Final[tuple[Period, ...]] = ("week", "month", "all")


def period_start(period: Period, now: datetime, tz: tzinfo = UTC) -> datetime | None:
    """Start of the calendar period containing ``now`` (ISO week from Monday 00:00, or the 1st
    of the month, in ``tz``); None for all time."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if period == "all":
        return None
    local = now.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return midnight - timedelta(days=local.weekday())
    return midnight.replace(day=1)


def points_in_period(
    entries: Iterable[PointsEntry], period: Period, now: datetime, tz: tzinfo = UTC
) -> dict[int, int]:
    """Reputation earned per user from the period's start up to ``now`` (spending excluded)."""
    start = period_start(period, now, tz)
    if start is None:
        return recompute_reputation(e for e in entries if e.at <= now)
    totals: dict[int, int] = {}
    get = totals.get
    spend = SPEND_REASONS
    for e in entries:
        at = e.at
        if at < start or at > now or e.reason in spend:
            continue
        uid = e.user_id
        totals[uid] = get(uid, 0) + e.points
    return totals


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    rank: int  # competition rank: equal points share a rank (1, 2, 2, 4)
    user_id: int
    points: int


def rank_leaderboard(totals: Mapping[int, int], limit: int | None = 100) -> list[LeaderboardRow]:
    """Rank users with positive points: most points first, ties by lower user id (stable and
    reproducible). Tied users share the competition rank."""
    items = ((-p, uid) for uid, p in totals.items() if p > 0)
    ordered = heapq.nsmallest(limit, items) if limit is not None else sorted(items)
    rows: list[LeaderboardRow] = []
    prev_points: int | None = None
    rank = 0
    for position, (neg, uid) in enumerate(ordered, start=1):
        if -neg != prev_points:
            rank, prev_points = position, -neg
        rows.append(LeaderboardRow(rank, uid, -neg))
    return rows


def leaderboard(
    entries: Iterable[PointsEntry],
    period: Period,
    now: datetime,
    limit: int | None = 100,
    tz: tzinfo = UTC,
) -> list[LeaderboardRow]:
    """The leaderboard for a period straight from the ledger (the shell may aggregate in SQL and
    call :func:`rank_leaderboard` instead)."""
    return rank_leaderboard(points_in_period(entries, period, now, tz), limit)


# --------------------------------------------------------------------------------------------
# Running totals (what leaderboards and reputation cards read instead of the whole ledger)
# --------------------------------------------------------------------------------------------

ALL_TIME: Final = "all"


def period_scope(period: Period, at: datetime, tz: tzinfo = UTC) -> str:
    """The totals bucket an instant falls in: ``all``, ``week:YYYY-MM-DD`` (the Monday) or
    ``month:YYYY-MM``."""
    start = period_start(period, at, tz)
    if start is None:
        return ALL_TIME
    return f"week:{start:%Y-%m-%d}" if period == "week" else f"month:{start:%Y-%m}"


def cap_scope(at: datetime, tz: tzinfo = UTC) -> str:
    """The totals bucket of the daily cap: ``cap:YYYY-MM-DD``, the calendar day in the cap's
    time zone; its total is the net points of capped reasons that day, what
    :func:`capped_points_on_day` sums from the ledger."""
    return f"cap:{at.astimezone(tz):%Y-%m-%d}"


def totals_delta(
    entries: Iterable[PointsEntry], tz: tzinfo = UTC, capped: frozenset[str] = frozenset()
) -> dict[tuple[int, str], tuple[int, int]]:
    """How appending ``entries`` moves each (user, scope) total: (earned, balance). Earned
    leaves spending out (levels and leaderboards); balance counts everything (rewards).
    Entries of a ``capped`` reason also move their day's cap total, unless ``outside_cap``.
    Summing the deltas of every entry equals recomputing from the ledger."""
    return accumulate_totals(
        ((e.user_id, e.points, e.reason, e.at, e.outside_cap) for e in entries), tz, capped
    )


def accumulate_totals(
    rows: Iterable[tuple[int, int, str, datetime, bool]],
    tz: tzinfo = UTC,
    capped: frozenset[str] = frozenset(),
) -> dict[tuple[int, str], tuple[int, int]]:
    """:func:`totals_delta` over bare (user, points, reason, at, outside_cap) rows — the shape
    a full recompute streams from the database; period scopes are worked out once per day."""
    out: dict[tuple[int, str], list[int]] = {}
    scopes_of_day: dict[object, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for user_id, points, reason, at, outside_cap in rows:
        local = at.astimezone(tz)
        day = local.date()
        both = scopes_of_day.get(day)
        if both is None:
            periods = (ALL_TIME, period_scope("week", local, tz), period_scope("month", local, tz))
            both = scopes_of_day[day] = (periods, (*periods, cap_scope(local, tz)))
        earned = 0 if reason in SPEND_REASONS else points
        for scope in both[1] if reason in capped and not outside_cap else both[0]:
            acc = out.get((user_id, scope))
            if acc is None:
                out[(user_id, scope)] = [earned, points]
            else:
                acc[0] += earned
                acc[1] += points
    return {key: (acc[0], acc[1]) for key, acc in out.items()}
