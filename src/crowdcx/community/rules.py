"""Pure rules of the community lane: votes, accepts, brand approval, answer order, closing,
posting limits, moderation, rewards, super-user discovery and escalation to a ticket.

Each decision takes plain frozen values (including ``now`` and the brand's policies) and returns
a decision object: the ledger entries to append, the new state, and ``violations`` as data with
stable codes. An empty ``violations`` means the shell may persist the rest; a non-empty one means
it must persist nothing and map the first violation to a 4xx.

Codes used here: ``self_vote``, ``already_voted``, ``not_voted``, ``invalid_vote``,
``privilege_required``, ``not_asker``, ``answer_not_in_question``, ``already_accepted``,
``not_accepted``, ``agent_required``, ``already_approved``, ``question_closed``,
``already_closed``, ``duplicate_of_self``, ``duplicate_cycle``, ``duplicate_hidden``,
``duplicate_other_brand``, ``membership_required``,
``onboarding_incomplete``, ``body_empty``, ``body_too_long``, ``rate_limited``,
``too_many_links``, ``self_flag``, ``already_flagged``, ``own_content``, ``staff_decision``,
``already_decided``, ``not_author``,
``not_appealable``, ``appeal_window_closed``, ``already_appealed``, ``invalid_points``,
``kind_not_offered``, ``below_minimum``, ``insufficient_points``, ``cap_exceeded``,
``already_solved``, ``too_early``, ``already_escalated``, ``escalation_disabled``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Final, Literal

from crowdcx.kernel.markdown import WIDE_SCRIPT_WEIGHT, substance
from crowdcx.kernel.money import Money
from crowdcx.reputation.rules import (
    PointsEntry,
    PointsEvent,
    ReputationPolicy,
    SubjectRef,
    Violation,
    entries_for,
    live_entries,
    period_start,
    reversal_of,
)

PostKind = Literal["question", "answer"]

# --------------------------------------------------------------------------------------------
# State and policy
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommunityState:
    id: int
    brand_id: int
    closed: bool = False  # a closed community takes applications; only members may post


@dataclass(frozen=True, slots=True)
class MembershipState:
    is_member: bool = False
    onboarding_done: bool = False  # read the rules and passed the quiz (closed communities)


@dataclass(frozen=True, slots=True)
class QuestionState:
    id: int
    brand_id: int
    asker_id: int
    created_at: datetime
    community_id: int = 0
    closed: bool = False
    duplicate_of: int | None = None
    accepted_answer_ids: frozenset[int] = frozenset()
    escalated: bool = False
    hidden: bool = False  # by moderation: spam or abuse does not become paid work


@dataclass(frozen=True, slots=True)
class AnswerState:
    id: int
    question_id: int
    author_id: int
    created_at: datetime
    up: int = 0
    down: int = 0
    accepted: bool = False
    brand_approved: bool = False
    hidden: bool = False

    @property
    def score(self) -> int:
        return self.up - self.down


@dataclass(frozen=True, slots=True)
class PostRef:
    """Just enough of a post to vote on or flag it."""

    id: int
    kind: PostKind
    brand_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class CommentRef:
    """Just enough of a comment to flag it: flags follow the same rules as on posts."""

    id: int
    post_id: int
    brand_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class CommunityPolicy:
    """A brand's community rules. Defaults follow Stack Exchange and Discourse practice."""

    multiple_solutions: bool = False
    # Posting limits for new members (Stack Exchange: new users may post few links).
    new_member_days: int = 7
    new_member_points: int = 15  # reputation below this and a join younger than the days above
    new_member_posts_per_window: int = 3
    member_posts_per_window: int = 30
    post_window: timedelta = timedelta(hours=1)
    new_member_max_links: int = 2
    member_max_links: int = 20
    max_body_chars: int = 30_000  # Stack Exchange's body limit
    # The least a body says (kernel.markdown.substance: a letter or digit 1, a Chinese
    # character 3): a question, a sentence that says what happened (15: 3 or 4 words, 5
    # Chinese characters; Discourse's first post: 20 characters, spaces included); an
    # answer, a few words of what to do (10: "Restart it", 重启手机), so "+1", "a" or 好 go
    # to votes and comments.
    min_question_substance: int = 15
    min_answer_substance: int = 10
    # Moderation (Discourse hides a post after enough flags from trusted users).
    auto_hide_flags: int = 3
    trusted_privilege: str = "trusted_flagger"
    appeal_window: timedelta = timedelta(days=14)
    # Escalation of an unanswered question to a paid ticket. None disables it.
    escalation_delay: timedelta | None = timedelta(hours=48)
    auto_escalate: bool = False


def _v(code: str, field_name: str | None = None, **params: int | str) -> Violation:
    return Violation(code, field_name, tuple(sorted(params.items())))


# --------------------------------------------------------------------------------------------
# Votes
# --------------------------------------------------------------------------------------------

VoteValue = Literal[-1, 0, 1]


@dataclass(frozen=True, slots=True)
class VoteDecision:
    value: int  # the vote the voter holds afterwards (0 = none)
    entries: tuple[PointsEntry, ...] = ()
    violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations


def vote_problems(
    voter_id: int, post: PostRef, current: int, new: int, voter_privileges: frozenset[str]
) -> list[Violation]:
    problems: list[Violation] = []
    if new not in (-1, 0, 1):
        return [_v("invalid_vote", "value")]
    if voter_id == post.author_id:
        problems.append(_v("self_vote"))
    if new != 0 and new == current:
        problems.append(_v("already_voted", "value"))
    if new == 0 and current == 0:
        problems.append(_v("not_voted", "value"))
    needed = {1: "upvote", -1: "downvote"}.get(new)
    if needed is not None and needed not in voter_privileges:
        problems.append(_v("privilege_required", "value", privilege=needed))
    return problems


def decide_vote(
    *,
    voter_id: int,
    post: PostRef,
    current: int,
    current_entries: Sequence[PointsEntry],
    new: int,
    voter_privileges: frozenset[str],
    now: datetime,
    key: str,
    policy: ReputationPolicy,
    history_today: Sequence[PointsEntry] = (),
) -> VoteDecision:
    """Cast, change or withdraw a vote.

    ``current_entries`` are the ledger entries written for the voter's current vote on this
    post (the shell finds them by the vote's event key); they are reversed, never edited, and
    then the new vote (if any) writes fresh entries under ``key``, capped against
    ``history_today`` plus the reversals just made.
    """
    problems = vote_problems(voter_id, post, current, new, voter_privileges)
    if problems:
        return VoteDecision(current, (), tuple(problems))
    entries = [reversal_of(e, now, voter_id) for e in live_entries(current_entries)]
    if new != 0:
        event = PointsEvent(
            kind="vote",
            brand_id=post.brand_id,
            beneficiary_id=post.author_id,
            subject=SubjectRef(post.kind, post.id),
            at=now,
            key=key,
            actor_id=voter_id,
            value=new,
        )
        entries.extend(entries_for(event, policy, [*history_today, *entries]))
    return VoteDecision(new, tuple(entries))


def vote_tally(up: int, down: int, old: int, new: int) -> tuple[int, int]:
    """The post's (up, down) counters after a voter moves from ``old`` to ``new``."""
    up += (new == 1) - (old == 1)
    down += (new == -1) - (old == -1)
    return (up, down)


def answer_helps(accepted: bool, brand_approved: bool, up: int) -> bool:
    """An answer has helped once it is accepted, brand-approved or upvoted: its language then
    counts among the languages its author helped in (the polyglot badges)."""
    return accepted or brand_approved or up > 0


def helped_change(before: bool, after: bool) -> int:
    """How a change to an answer moves its author's helped-answers count in its language."""
    return int(after) - int(before)


# --------------------------------------------------------------------------------------------
# Accept and brand approval
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AcceptDecision:
    accepted_answer_ids: frozenset[int]
    unaccepted_ids: frozenset[int] = frozenset()
    entries: tuple[PointsEntry, ...] = ()
    violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations


def accept_problems(
    actor_id: int, actor_is_agent: bool, question: QuestionState, answer: AnswerState
) -> list[Violation]:
    problems: list[Violation] = []
    if actor_id != question.asker_id and not actor_is_agent:
        problems.append(_v("not_asker"))
    if answer.question_id != question.id:
        problems.append(_v("answer_not_in_question", "answer_id"))
    if answer.id in question.accepted_answer_ids:
        problems.append(_v("already_accepted", "answer_id"))
    if answer.hidden:  # moderation hid it (spam, abuse): it cannot stand as the solution
        problems.append(_v("answer_hidden"))
    return problems


def decide_accept(
    *,
    actor_id: int,
    actor_is_agent: bool,
    question: QuestionState,
    answer: AnswerState,
    now: datetime,
    key: str,
    policy: CommunityPolicy,
    reputation: ReputationPolicy,
    previous_accept_entries: Mapping[int, Sequence[PointsEntry]] | None = None,
    history_today: Sequence[PointsEntry] = (),
) -> AcceptDecision:
    """Accept ``answer``. With one solution allowed, a previously accepted answer is unaccepted
    and the entries of its accept (``previous_accept_entries[answer_id]``) are reversed. The asker
    bonus goes only to an asker who accepts someone else's answer, not when an agent accepts."""
    problems = accept_problems(actor_id, actor_is_agent, question, answer)
    if problems:
        return AcceptDecision(question.accepted_answer_ids, violations=tuple(problems))
    previous = previous_accept_entries or {}
    entries: list[PointsEntry] = []
    unaccepted: frozenset[int] = frozenset()
    accepted = question.accepted_answer_ids | {answer.id}
    if not policy.multiple_solutions and question.accepted_answer_ids:
        unaccepted = question.accepted_answer_ids
        accepted = frozenset({answer.id})
        for answer_id in sorted(unaccepted):
            entries.extend(
                reversal_of(e, now, actor_id) for e in live_entries(previous.get(answer_id, ()))
            )
    asker_accepts = actor_id == question.asker_id
    event = PointsEvent(
        kind="accept",
        brand_id=question.brand_id,
        beneficiary_id=answer.author_id,
        subject=SubjectRef("answer", answer.id),
        at=now,
        key=key,
        actor_id=question.asker_id if asker_accepts else None,
    )
    entries.extend(entries_for(event, reputation, [*history_today, *entries]))
    return AcceptDecision(accepted, unaccepted, tuple(entries))


def decide_unaccept(
    *,
    actor_id: int,
    actor_is_agent: bool,
    question: QuestionState,
    answer: AnswerState,
    accept_entries: Sequence[PointsEntry],
    now: datetime,
) -> AcceptDecision:
    """Withdraw an accept; its entries are reversed."""
    problems: list[Violation] = []
    if actor_id != question.asker_id and not actor_is_agent:
        problems.append(_v("not_asker"))
    if answer.id not in question.accepted_answer_ids:
        problems.append(_v("not_accepted", "answer_id"))
    if problems:
        return AcceptDecision(question.accepted_answer_ids, violations=tuple(problems))
    entries = tuple(reversal_of(e, now, actor_id) for e in live_entries(accept_entries))
    return AcceptDecision(
        question.accepted_answer_ids - {answer.id}, frozenset({answer.id}), entries
    )


def approve_problems(actor_is_agent: bool, answer: AnswerState) -> list[Violation]:
    """Brand approval is for agents only, once per answer."""
    problems: list[Violation] = []
    if not actor_is_agent:
        problems.append(_v("agent_required"))
    if answer.brand_approved:
        problems.append(_v("already_approved"))
    if answer.hidden:
        problems.append(_v("answer_hidden"))
    return problems


# --------------------------------------------------------------------------------------------
# Answer order
# --------------------------------------------------------------------------------------------

WILSON_Z: Final = 1.96


def wilson_lower_bound(up: int, down: int, z: float = WILSON_Z) -> float:
    """Lower bound of the Wilson score interval for the share of up votes; 0 with no votes."""
    n = up + down
    if n <= 0:
        return 0.0
    p = up / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)
    # Clamp: float rounding can put an all-down-vote bound a hair below zero.
    return min(1.0, max(0.0, (centre - margin) / (1 + z2 / n)))


def pin_rank(answer: AnswerState) -> int:
    """0 accepted and brand-approved, 1 accepted, 2 brand-approved, 3 neither."""
    if answer.accepted:
        return 0 if answer.brand_approved else 1
    return 2 if answer.brand_approved else 3


def answer_sort_key(
    answer: AnswerState, use_flags: bool = True
) -> tuple[int, float, int, datetime, int]:
    """Sort key: pinned tier, then Wilson lower bound (desc), net score (desc), earlier first,
    lower id first. ``use_flags=False`` ignores accepted/approved (for measuring)."""
    return (
        pin_rank(answer) if use_flags else 3,
        -wilson_lower_bound(answer.up, answer.down),
        -answer.score,
        answer.created_at,
        answer.id,
    )


def order_answers(answers: Iterable[AnswerState], use_flags: bool = True) -> list[AnswerState]:
    """Answers in display order; hidden answers go last (the shell decides whether to show them)."""
    return sorted(answers, key=lambda a: (a.hidden, answer_sort_key(a, use_flags)))


# --------------------------------------------------------------------------------------------
# Closing and duplicates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CloseDecision:
    duplicate_of: int | None = None
    violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations


def decide_close(
    *,
    question: QuestionState,
    actor_privileges: frozenset[str],
    actor_is_agent: bool,
    duplicate_of: QuestionState | None = None,
    chain: Sequence[QuestionState] = (),
) -> CloseDecision:
    """Close a question, optionally as a duplicate. A duplicate of a duplicate links straight to
    the original, so chains never form.

    ``chain``: the questions ``duplicate_of``'s links lead to, in order (the shell follows
    them); without it only ``duplicate_of``'s own link is followed. A link that would lead
    back to ``question`` (or into a loop) is refused as ``duplicate_cycle``, and the question
    linked to — or the original it leads to — must not be hidden by moderation
    (``duplicate_hidden``): nobody but its author and the staff could follow the link."""
    problems: list[Violation] = []
    if not actor_is_agent and "close" not in actor_privileges:
        problems.append(_v("privilege_required", privilege="close"))
    if question.closed:
        problems.append(_v("already_closed"))
    target: int | None = None
    if duplicate_of is not None:
        path = (duplicate_of, *chain)
        original = path[-1]
        target = original.id if chain else (duplicate_of.duplicate_of or duplicate_of.id)
        ids = [q.id for q in path]
        if any(q.brand_id != question.brand_id for q in path):
            problems.append(_v("duplicate_other_brand", "duplicate_of"))
        if duplicate_of.id == question.id or (not chain and target == question.id):
            problems.append(_v("duplicate_of_self", "duplicate_of"))
        elif question.id in ids or len(set(ids)) < len(ids) or original.duplicate_of in ids:
            problems.append(_v("duplicate_cycle", "duplicate_of"))
        if duplicate_of.hidden or original.hidden:
            problems.append(_v("duplicate_hidden", "duplicate_of"))
    return CloseDecision(target, tuple(problems))


def reopen_problems(
    *, question: QuestionState, actor_privileges: frozenset[str], actor_is_agent: bool
) -> list[Violation]:
    """Reopen a closed question (a mistaken close, or a "duplicate" that was not one): the
    same people who may close it, and only a closed one; its duplicate link goes with it."""
    problems: list[Violation] = []
    if not actor_is_agent and "close" not in actor_privileges:
        problems.append(_v("privilege_required", privilege="close"))
    if not question.closed:
        problems.append(_v("not_closed"))
    return problems


# --------------------------------------------------------------------------------------------
# Posting: membership, closed questions, body, rate and link limits
# --------------------------------------------------------------------------------------------

_LINK_RE: Final = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>()\[\]]+")


def count_links(body: str) -> int:
    """Links in a Markdown body: URLs with a scheme or starting with ``www.``."""
    return len(_LINK_RE.findall(body))


def is_new_member(
    reputation: int, joined_at: datetime, now: datetime, policy: CommunityPolicy
) -> bool:
    """New while both young and below the points threshold; either one lifts the limits."""
    young = now - joined_at < timedelta(days=policy.new_member_days)
    return young and reputation < policy.new_member_points


def membership_problems(community: CommunityState, membership: MembershipState) -> list[Violation]:
    """Posting in a closed community needs membership and a completed onboarding."""
    if not community.closed:
        return []
    if not membership.is_member:
        return [_v("membership_required")]
    if not membership.onboarding_done:
        return [_v("onboarding_incomplete")]
    return []


def body_problems(
    body: str, new_member: bool, policy: CommunityPolicy, kind: PostKind = "question"
) -> list[Violation]:
    """What stops the body of a question or an answer (``kind``): empty, saying too little
    to help (policy.min_question_substance / min_answer_substance), too long, too many
    links for a new member."""
    problems: list[Violation] = []
    least = policy.min_answer_substance if kind == "answer" else policy.min_question_substance
    if not body.strip():
        problems.append(_v("body_empty", "body"))
    elif substance(body, markdown=True) < least:
        wide = -(-least // WIDE_SCRIPT_WEIGHT)
        problems.append(_v("body_too_short", "body", kind=kind, letters=least, wide=wide))
    if len(body) > policy.max_body_chars:
        problems.append(_v("body_too_long", "body", limit=policy.max_body_chars))
    limit = policy.new_member_max_links if new_member else policy.member_max_links
    if count_links(body) > limit:
        problems.append(_v("too_many_links", "body", limit=limit))
    return problems


def rate_limit_problem(
    posts_in_window: int, new_member: bool, policy: CommunityPolicy
) -> Violation | None:
    """``posts_in_window``: the author's posts since ``now - policy.post_window`` (counted by
    the shell). The post being made would exceed the limit -> ``rate_limited``."""
    limit = policy.new_member_posts_per_window if new_member else policy.member_posts_per_window
    if posts_in_window >= limit:
        return _v(
            "rate_limited",
            None,
            limit=limit,
            window_seconds=int(policy.post_window.total_seconds()),
        )
    return None


def post_problems(
    *,
    community: CommunityState,
    membership: MembershipState,
    body: str,
    new_member: bool,
    posts_in_window: int,
    policy: CommunityPolicy,
    question: QuestionState | None = None,
) -> list[Violation]:
    """Everything that stops a question (``question=None``) or an answer from being posted."""
    problems = membership_problems(community, membership)
    if question is not None and question.closed:
        problems.append(_v("question_closed"))
    problems.extend(
        body_problems(body, new_member, policy, "question" if question is None else "answer")
    )
    limited = rate_limit_problem(posts_in_window, new_member, policy)
    if limited is not None:
        problems.append(limited)
    return problems


# --------------------------------------------------------------------------------------------
# Moderation: flags, automatic hiding, appeals
# --------------------------------------------------------------------------------------------

FlagReason = Literal["spam", "rude", "off_topic", "other"]


@dataclass(frozen=True, slots=True)
class FlagRecord:
    flagger_id: int
    reason: FlagReason
    at: datetime
    flagger_privileges: frozenset[str] = frozenset()
    flagger_is_agent: bool = False


def flag_problems(
    flagger_id: int,
    post: PostRef | CommentRef,
    flagger_privileges: frozenset[str],
    existing: Iterable[FlagRecord],
    flagger_is_agent: bool = False,
) -> list[Violation]:
    problems: list[Violation] = []
    if flagger_id == post.author_id:
        problems.append(_v("self_flag"))
    if not flagger_is_agent and "flag" not in flagger_privileges:
        problems.append(_v("privilege_required", privilege="flag"))
    if any(f.flagger_id == flagger_id for f in existing):
        problems.append(_v("already_flagged"))
    return problems


@dataclass(frozen=True, slots=True)
class ModerationAction:
    """An automatic action, explained to the author and open to appeal."""

    kind: Literal["hide"]
    post_id: int
    reason_code: str  # stable; the shell translates it into the author's language
    message: str  # English default text for the author
    params: tuple[tuple[str, int | str], ...]
    at: datetime
    automatic: bool = True
    appealable: bool = True


def trusted_flaggers(
    flags: Iterable[FlagRecord], author_id: int, policy: CommunityPolicy
) -> list[FlagRecord]:
    """One flag per trusted flagger (an agent, or a holder of the trusted privilege), the
    author's own excluded, earliest first."""
    seen: set[int] = set()
    out: list[FlagRecord] = []
    for f in sorted(flags, key=lambda f: (f.at, f.flagger_id)):
        if f.flagger_id == author_id or f.flagger_id in seen:
            continue
        if f.flagger_is_agent or policy.trusted_privilege in f.flagger_privileges:
            seen.add(f.flagger_id)
            out.append(f)
    return out


def top_flag_reason(flags: Iterable[FlagRecord]) -> str | None:
    """The reason given most often (ties: alphabetically first); None without flags."""
    counts: dict[str, int] = {}
    for f in flags:
        counts[f.reason] = counts.get(f.reason, 0) + 1
    return min(counts, key=lambda r: (-counts[r], r)) if counts else None


def auto_moderation(
    *,
    post_id: int,
    author_id: int,
    flags: Iterable[FlagRecord],
    already_hidden: bool,
    now: datetime,
    policy: CommunityPolicy,
    target: Literal["post", "comment"] = "post",
    brand_approved: bool = False,
) -> ModerationAction | None:
    """Hide a post (or, with ``target="comment"``, the comment ``post_id`` names) once
    ``auto_hide_flags`` distinct trusted users flagged it. A hidden post may be edited or
    appealed; a hidden comment goes to the review queue, without an appeal. An answer the
    brand approved is never hidden by members' flags: it stays up and its flags wait in the
    review queue for the brand's staff."""
    if already_hidden or brand_approved:
        return None
    trusted = trusted_flaggers(flags, author_id, policy)
    if len(trusted) < policy.auto_hide_flags:
        return None
    top_reason = top_flag_reason(trusted) or "other"
    n = len(trusted)
    reason_text = top_reason.replace("_", " ")
    if target == "comment":
        return ModerationAction(
            kind="hide",
            post_id=post_id,
            reason_code="auto_hidden_flags",
            message=(
                f"Your comment was hidden automatically because {n} trusted community members "
                f"flagged it ({reason_text}); a moderator will review it."
            ),
            params=(("flags", n), ("reason", top_reason)),
            at=now,
            appealable=False,
        )
    message = (
        f"Your post was hidden automatically because {n} trusted community members flagged it "
        f"({reason_text}). Edit it or appeal within "
        f"{policy.appeal_window.days} days; a moderator will review it."
    )
    return ModerationAction(
        kind="hide",
        post_id=post_id,
        reason_code="auto_hidden_flags",
        message=message,
        params=(("flags", n), ("reason", top_reason), ("appeal_days", policy.appeal_window.days)),
        at=now,
    )


def points_to_take_back(
    entries: Iterable[PointsEntry], author_id: int, at: datetime
) -> list[PointsEntry]:
    """When moderation hides a post: the reversals of what its author earned by it (upvotes,
    an accept). ``entries``: the ledger entries of the post's votes and accepts. Penalties
    (downvotes) stay, as do what others earned or paid (the asker's bonus, a voter's cost).
    The reversals are ``outside_cap``: hiding frees no room under the day's cap."""
    return [
        replace(reversal_of(e, at), outside_cap=True)
        for e in live_entries(entries)
        if e.user_id == author_id and e.points > 0
    ]


def points_to_give_back(
    entries: Iterable[PointsEntry], author_id: int, at: datetime, standing: Collection[str],
    tag: str,
) -> list[PointsEntry]:  # fmt: skip
    """When a hidden post is restored: each earning :func:`points_to_take_back` took (an entry,
    with the copies earlier restores wrote as ``<key>:back:<tag>``) that has nothing live and
    whose cause still stands — ``standing``: the event keys of the upvotes still cast and of
    the accept still held — is written again as ``<key>:back:<tag>``, so withdrawing that vote
    or moving the accept later reverses the copy like the original. A copy gives back exactly
    what was taken and is ``outside_cap``: it uses none of today's room under the daily cap,
    and the cap does not trim it."""
    rows = list(entries)
    live = {e.key.split(":back:")[0] for e in live_entries(rows)}
    return [
        replace(e, at=at, key=f"{e.key}:back:{tag}", actor_id=None, outside_cap=True)
        for e in rows
        if e.reverses is None and ":back:" not in e.key and e.user_id == author_id
        and e.points > 0 and e.key not in live and e.key.rsplit(":", 1)[0] in standing
    ]  # fmt: skip


def appeal_problems(
    action: ModerationAction,
    appellant_id: int,
    author_id: int,
    now: datetime,
    already_appealed: bool,
    policy: CommunityPolicy,
) -> list[Violation]:
    problems: list[Violation] = []
    if appellant_id != author_id:
        problems.append(_v("not_author"))
    if not action.appealable:
        problems.append(_v("not_appealable"))
    if now - action.at > policy.appeal_window:
        problems.append(_v("appeal_window_closed"))
    if already_appealed:
        problems.append(_v("already_appealed"))
    return problems


# --------------------------------------------------------------------------------------------
# Rewards
# --------------------------------------------------------------------------------------------

RewardKind = Literal["credit", "cash", "charity"]


@dataclass(frozen=True, slots=True)
class RewardPolicy:
    """Points -> money. giffgaff pays 1 point = £0.01, i.e. one minor unit per point."""

    currency: str = "GBP"
    minor_per_point: Mapping[str, Decimal] = field(
        default_factory=lambda: {"credit": Decimal(1), "cash": Decimal(1), "charity": Decimal(1)}
    )
    min_points: int = 100
    max_points_per_redemption: int | None = 10_000
    max_points_per_period: int | None = 25_000
    period: Literal["week", "month"] = "month"
    # The brand's time zone: a month (or week) of redemptions starts at its local midnight.
    timezone: tzinfo = UTC


@dataclass(frozen=True, slots=True)
class RedemptionDecision:
    amount: Money | None
    entries: tuple[PointsEntry, ...] = ()
    violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations


def redemption_period_start(now: datetime, policy: RewardPolicy) -> datetime:
    """Start of the period the per-period cap counts from (the shell sums redemptions since)."""
    start = period_start(policy.period, now, policy.timezone)
    assert start is not None
    return start


def redeemable_points(balance: int, redeemed_in_period: int, policy: RewardPolicy) -> int:
    """The most points one redemption may take now."""
    room = balance
    if policy.max_points_per_redemption is not None:
        room = min(room, policy.max_points_per_redemption)
    if policy.max_points_per_period is not None:
        room = min(room, policy.max_points_per_period - redeemed_in_period)
    return max(room, 0)


def decide_redemption(
    *,
    user_id: int,
    brand_id: int,
    points: int,
    kind: str,
    balance: int,
    redeemed_in_period: int,
    now: datetime,
    key: str,
    policy: RewardPolicy,
    redemption_id: int = 0,
) -> RedemptionDecision:
    """Redeem points for credit, cash or a charity donation: a points debit for the ledger and
    the money amount (rounded half-even to the minor unit) for the payout lane.

    ``balance`` is the user's spendable balance (:func:`crowdcx.reputation.rules.recompute`),
    ``redeemed_in_period`` the points redeemed since :func:`redemption_period_start`."""
    problems: list[Violation] = []
    if points <= 0:
        problems.append(_v("invalid_points", "points"))
    rate = policy.minor_per_point.get(kind)
    if rate is None:
        problems.append(_v("kind_not_offered", "kind", kind=kind))
    if 0 < points < policy.min_points:
        problems.append(_v("below_minimum", "points", minimum=policy.min_points))
    if points > balance:
        problems.append(_v("insufficient_points", "points", balance=balance))
    cap = policy.max_points_per_redemption
    if cap is not None and points > cap:
        problems.append(_v("cap_exceeded", "points", limit=cap, scope="redemption"))
    period_cap = policy.max_points_per_period
    if period_cap is not None and redeemed_in_period + points > period_cap:
        room = max(period_cap - redeemed_in_period, 0)
        problems.append(
            _v(
                "cap_exceeded",
                "points",
                limit=period_cap,
                remaining=room,
                scope="period",
                minimum=policy.min_points,
            )
        )
    if problems or rate is None:
        return RedemptionDecision(None, violations=tuple(problems))
    amount = Money(points, policy.currency).times(rate)
    entry = PointsEntry(
        user_id=user_id,
        brand_id=brand_id,
        points=-points,
        reason="reward_redeemed",
        subject=SubjectRef("redemption", redemption_id),
        at=now,
        key=key,
        actor_id=user_id,
    )
    return RedemptionDecision(amount, (entry,))


# --------------------------------------------------------------------------------------------
# Super-user discovery
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HelperStats:
    user_id: int
    accepted_answers: int
    reputation: int
    languages: frozenset[str] = frozenset()
    answers: int = 0
    is_expert: bool = False


@dataclass(frozen=True, slots=True)
class DiscoveryPolicy:
    min_accepted: int = 10
    min_reputation: int = 1_000
    min_languages: int = 1
    exclude_experts: bool = True


@dataclass(frozen=True, slots=True)
class SuperUserCandidate:
    rank: int
    user_id: int
    accepted_answers: int
    reputation: int
    languages: tuple[str, ...]
    acceptance_rate: float  # accepted / answers; 0 when answers are unknown


def discover_super_users(
    stats: Iterable[HelperStats], policy: DiscoveryPolicy, limit: int = 20
) -> list[SuperUserCandidate]:
    """Top helpers to invite as paid experts: eligible by the policy's minima, ranked by
    accepted answers, then reputation, then number of languages, then user id."""
    eligible = [
        s
        for s in stats
        if s.accepted_answers >= policy.min_accepted
        and s.reputation >= policy.min_reputation
        and len(s.languages) >= policy.min_languages
        and not (policy.exclude_experts and s.is_expert)
    ]
    eligible.sort(key=lambda s: (-s.accepted_answers, -s.reputation, -len(s.languages), s.user_id))
    return [
        SuperUserCandidate(
            rank=i,
            user_id=s.user_id,
            accepted_answers=s.accepted_answers,
            reputation=s.reputation,
            languages=tuple(sorted(s.languages)),
            acceptance_rate=s.accepted_answers / s.answers if s.answers else 0.0,
        )
        for i, s in enumerate(eligible[:limit], start=1)
    ]


# --------------------------------------------------------------------------------------------
# Escalation to a paid ticket
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EscalationStatus:
    eligible: bool
    automatic: bool  # the shell escalates without the asker's click
    eligible_at: datetime | None
    reason: str  # "eligible" or the blocking code


def escalation_status(
    question: QuestionState, now: datetime, policy: CommunityPolicy
) -> EscalationStatus:
    """Whether a question may become a ticket: no accepted answer ``escalation_delay`` after it
    was asked, not closed, not hidden by moderation, not escalated before."""
    if policy.escalation_delay is None:
        return EscalationStatus(False, False, None, "escalation_disabled")
    eligible_at = question.created_at + policy.escalation_delay
    blocking = (
        "already_escalated"
        if question.escalated
        else "question_hidden"
        if question.hidden
        else "already_solved"
        if question.accepted_answer_ids
        else "question_closed"
        if question.closed
        else "too_early"
        if now < eligible_at
        else None
    )
    if blocking is not None:
        return EscalationStatus(False, False, eligible_at, blocking)
    return EscalationStatus(True, policy.auto_escalate, eligible_at, "eligible")


def community_response_at(asker_id: int, answers: Iterable[AnswerState]) -> datetime | None:
    """When the case of an escalated question first got a response from the community: its
    earliest answer that is not the asker's own and not hidden by moderation. Answers written
    before the escalation count too (the case began when the question was asked), and a
    hidden answer stops counting (what moderation took away answered nobody)."""
    moments = [a.created_at for a in answers if a.author_id != asker_id and not a.hidden]
    return min(moments) if moments else None


def escalate_problems(
    actor_id: int,
    actor_is_agent: bool,
    question: QuestionState,
    now: datetime,
    policy: CommunityPolicy,
) -> list[Violation]:
    """Why the asker (or an agent) may not turn this question into a ticket now."""
    problems: list[Violation] = []
    if actor_id != question.asker_id and not actor_is_agent:
        problems.append(_v("not_asker"))
    status = escalation_status(question, now, policy)
    if not status.eligible:
        at = status.eligible_at.isoformat() if status.eligible_at else ""
        problems.append(_v(status.reason, None, eligible_at=at) if at else _v(status.reason))
    return problems


# --------------------------------------------------------------------------------------------
# Closed communities: onboarding checklist (rules + quiz)
# --------------------------------------------------------------------------------------------

MAX_QUIZ_QUESTIONS: Final = 20


@dataclass(frozen=True, slots=True)
class QuizQuestion:
    prompt: str
    choices: tuple[str, ...]
    answer: int  # index into choices


@dataclass(frozen=True, slots=True)
class Onboarding:
    rules: str = ""
    quiz: tuple[QuizQuestion, ...] = ()


def parse_onboarding(raw: Mapping[str, object]) -> Onboarding | Violation:
    """A community's stored onboarding (``{"rules": str, "quiz": [{q, choices, answer}]}``)."""
    rules_text = raw.get("rules", "")
    if not isinstance(rules_text, str) or len(rules_text) > 20_000:
        return _v("onboarding_invalid", "rules")
    quiz_raw = raw.get("quiz", [])
    if not isinstance(quiz_raw, list) or len(quiz_raw) > MAX_QUIZ_QUESTIONS:
        return _v("onboarding_invalid", "quiz")
    quiz: list[QuizQuestion] = []
    for i, item in enumerate(quiz_raw):
        if not isinstance(item, Mapping):
            return _v("onboarding_invalid", "quiz", index=i)
        prompt, choices, answer = item.get("q"), item.get("choices"), item.get("answer")
        if (
            not isinstance(prompt, str)
            or not prompt.strip()
            or not isinstance(choices, list)
            or not 2 <= len(choices) <= 6
            or not all(isinstance(c, str) and c.strip() for c in choices)
            or not isinstance(answer, int)
            or isinstance(answer, bool)
            or not 0 <= answer < len(choices)
        ):
            return _v("onboarding_invalid", "quiz", index=i)
        quiz.append(QuizQuestion(prompt.strip(), tuple(c.strip() for c in choices), answer))
    return Onboarding(rules_text, tuple(quiz))


def quiz_mistakes(onboarding: Onboarding, answers: Mapping[int, int]) -> list[int]:
    """Indexes of the quiz questions answered wrongly or not at all; empty means passed."""
    return [i for i, q in enumerate(onboarding.quiz) if answers.get(i) != q.answer]


def onboarding_problems(
    onboarding: Onboarding, rules_accepted: bool, answers: Mapping[int, int]
) -> list[Violation]:
    problems: list[Violation] = []
    if onboarding.rules and not rules_accepted:
        problems.append(_v("rules_not_accepted", "rules_accepted"))
    wrong = quiz_mistakes(onboarding, answers)
    if wrong:
        problems.append(_v("quiz_failed", "quiz", wrong=len(wrong), total=len(onboarding.quiz)))
    return problems


# --------------------------------------------------------------------------------------------
# Moderation review: appeals and decisions
# --------------------------------------------------------------------------------------------

ReviewDecision = Literal["restore", "uphold", "hide"]


@dataclass(frozen=True, slots=True)
class ReviewHistory:
    """What the review rules read of a post's (or comment's) earlier moderation: the latest
    reviewer's decision (``restore``, ``uphold``, ``hide`` or ``dismiss``; None when none was
    taken) and whether the brand's staff took it, whether anything has happened since that asks
    for a new decision, and whether the brand approved the answer."""

    last_decision: str | None = None
    decided_by_staff: bool = False
    brand_approved: bool = False
    reopened: bool = False  # flagged, appealed, hidden by flags or edited since that decision


def staff_problems(reviewer_is_agent: bool, history: ReviewHistory) -> list[Violation]:
    """A member reviewer never overrules the brand's staff: a post or comment the staff
    decided on (hid, restored, kept hidden, dismissed the flags of), or an answer the brand
    approved, is for the staff to decide on again (``staff_decision``)."""
    if not reviewer_is_agent and (history.decided_by_staff or history.brand_approved):
        return [_v("staff_decision")]
    return []


def decided_problems(reviewer_is_agent: bool, history: ReviewHistory) -> list[Violation]:
    """A review is decided once: after a reviewer restores a post (or comment), keeps it
    hidden or dismisses its flags, another decision waits until something asks for it again —
    a new flag, the author's appeal or edit, a hide by flags (``already_decided``). A
    reviewer's hide is not the end of a review but the start of one (the hidden post waits in
    the queue, open to appeal). The staff may overrule a member reviewer's decision."""
    if history.last_decision in (None, "hide") or history.reopened:
        return []
    if reviewer_is_agent and not history.decided_by_staff:
        return []
    return [_v("already_decided")]


def review_problems(
    reviewer_privileges: frozenset[str], reviewer_is_agent: bool, decision: str, hidden: bool,
    reviewer_is_author: bool = False, history: ReviewHistory = ReviewHistory(),
) -> list[Violation]:  # fmt: skip
    """Who may decide on a post (or a comment) in the review queue, and which decisions fit
    its state: ``uphold`` keeps a hidden one hidden and takes it off the queue. Members never
    decide on their own content (an author appeals instead); agents may. Members do not
    overrule the staff (:func:`staff_problems`), and a decision is taken once
    (:func:`decided_problems`)."""
    if not reviewer_is_agent and "review_queue" not in reviewer_privileges:
        return [_v("privilege_required", privilege="review_queue")]
    if reviewer_is_author and not reviewer_is_agent:
        return [_v("own_content")]
    if decision not in ("restore", "uphold", "hide"):
        return [_v("invalid_decision", "decision")]
    staff = staff_problems(reviewer_is_agent, history) or decided_problems(
        reviewer_is_agent, history
    )
    if staff:
        return staff
    if decision in ("restore", "uphold") and not hidden:
        return [_v("not_hidden")]
    if decision == "hide" and hidden:
        return [_v("already_hidden")]
    return []


# --------------------------------------------------------------------------------------------
# Editing and comments
# --------------------------------------------------------------------------------------------

MAX_COMMENT_CHARS: Final = 600  # Stack Exchange's comment limit


def edit_problems(
    actor_id: int, author_id: int, actor_privileges: frozenset[str], actor_is_agent: bool
) -> list[Violation]:
    """Authors edit their own posts; others need ``edit_others`` (2,000) or to be an agent."""
    if actor_id == author_id or actor_is_agent or "edit_others" in actor_privileges:
        return []
    return [_v("privilege_required", privilege="edit_others")]


def comment_problems(
    *,
    actor_id: int,
    post_author_id: int,
    asker_id: int,
    actor_privileges: frozenset[str],
    actor_is_agent: bool,
    body: str,
) -> list[Violation]:
    """Anyone may comment on their own posts and on answers to their question (as on Stack
    Exchange); elsewhere commenting takes the ``comment`` privilege (50)."""
    problems: list[Violation] = []
    own = actor_id in (post_author_id, asker_id)
    if not (own or actor_is_agent or "comment" in actor_privileges):
        problems.append(_v("privilege_required", privilege="comment"))
    if not body.strip():
        problems.append(_v("body_empty", "body"))
    elif len(body) > MAX_COMMENT_CHARS:
        problems.append(_v("body_too_long", "body", limit=MAX_COMMENT_CHARS))
    return problems


# --- tags as typed ------------------------------------------------------------------------

# What separates tags in the ask form's one line: the comma as each language types it — ","
# and the full-width "，" and enumeration comma "、" a Chinese keyboard gives, ";"/"；" —
# and "|" (the FAQ import's separator).
_TAG_SEPARATORS: Final = re.compile(r"[,，、;；|]")


def split_tags(text: str) -> list[str]:
    """The tags of the ask form's "tags, separated by commas" line, in the order typed.
    Pieces are not trimmed or deduplicated here: the service stores each trimmed,
    case-folded tag once and drops the empty ones."""
    return _TAG_SEPARATORS.split(text)


# --- closing as a duplicate: what the close form's one field names ---------------------------

_QUESTION_LINK = re.compile(r"/questions/(\d{1,18})(?![\d/])")
_QUESTION_NUMBER = re.compile(r"#?\s*(\d{1,18})")


def duplicate_reference(typed: str) -> int | None:
    """The question an agent names in the close form's "duplicate of (question number or
    link, optional)": nothing (None), a number ("12", "#12", full-width "１２") or a question's
    link, whatever follows it (a query, "#post-40" — the anchor of an answer the address bar
    shows after a vote —). Anything else raises ValueError: read as a number, "the one about
    4G" would have named question 4, and a title pasted by mistake none at all."""
    text = unicodedata.normalize("NFKC", typed).strip()
    if not text:
        return None
    link = _QUESTION_LINK.search(text)
    if link and not any(c.isspace() for c in text):
        return int(link.group(1))
    number = _QUESTION_NUMBER.fullmatch(text)
    if number and number.group(1).isascii():
        return int(number.group(1))
    raise ValueError(typed)


# --- a question's tags ------------------------------------------------------------------------

MAX_TAGS: Final = 10
MAX_TAG_LENGTH: Final = 40


def tag_problems(tags: Iterable[str]) -> list[Violation]:
    """What is wrong with the tags an asker typed (trimmed; empty pieces do not count): more
    than ``MAX_TAGS`` different ones, or one longer than ``MAX_TAG_LENGTH``. They used to be
    cut silently — the first ten in alphabetical order kept, a long tag shortened."""
    pieces = [t.strip() for t in tags if t.strip()]
    problems = [
        _v("tag_too_long", "tags", tag=t, limit=MAX_TAG_LENGTH)
        for t in pieces
        if len(t) > MAX_TAG_LENGTH
    ][:1]
    if len({t.casefold() for t in pieces}) > MAX_TAGS:
        problems.append(_v("too_many_tags", "tags", limit=MAX_TAGS))
    return problems


# --- the onboarding quiz as a brand admin types it --------------------------------------------

_RIGHT_MARK = ("*", "＊")


def quiz_from_text(text: str) -> list[dict[str, object]] | Violation:
    """The community page's quiz box: one question per block, blocks apart by a blank line;
    the question on the block's first line, then its choices one per line, the right one
    marked by a leading "*" (or the full-width "＊"). Answers the stored form, which
    :func:`parse_onboarding` reads, or ``quiz_block_invalid`` with the block's ``index``
    (also for more than ``MAX_QUIZ_QUESTIONS`` blocks: the first one too many)."""
    blocks = [b for b in re.split(r"\n[ \t\u3000]*\n", text.replace("\r\n", "\n")) if b.strip()]
    quiz: list[dict[str, object]] = []
    for i, block in enumerate(blocks):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        prompt, rest = lines[0], lines[1:]
        marked = [j for j, c in enumerate(rest) if c.startswith(_RIGHT_MARK)]
        choices = [c.lstrip("*＊").strip() for c in rest]
        if (
            i >= MAX_QUIZ_QUESTIONS
            or prompt.startswith(_RIGHT_MARK)
            or len(marked) != 1
            or not 2 <= len(choices) <= 6
            or not all(choices)
        ):
            return _v("quiz_block_invalid", "quiz", index=i)
        quiz.append({"q": prompt, "choices": choices, "answer": marked[0]})
    return quiz


def quiz_to_text(onboarding: Onboarding) -> str:
    """The stored quiz back in the box's format (:func:`quiz_from_text` reads it back)."""
    return "\n\n".join(
        "\n".join([q.prompt, *(("* " if j == q.answer else "") + c
                               for j, c in enumerate(q.choices))])
        for q in onboarding.quiz
    )  # fmt: skip
