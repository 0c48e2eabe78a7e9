"""What keeps a community going around the Q&A core: badges granted (and back-filled) from
declarative rules, level-ups, follows, notifications of the events members care about,
closed-community applications with an onboarding checklist, the moderation review queue with
appeals (and hidden comments), and super-user discovery. Decisions come from community/rules.py,
reputation/rules.py and notifications/rules.py; this module reads and writes rows."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, case, func, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crowdcx.community import activity, rules
from crowdcx.community import service as core
from crowdcx.community.models import (
    BadgeGrantRow,
    CommentFlagRow,
    CommentRow,
    CommunityMemberRow,
    CommunityRow,
    FlagRow,
    FollowRow,
    ModerationRow,
    PostRevisionRow,
    PostRow,
)
from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError, invalid, not_found
from crowdcx.kernel.i18n import _
from crowdcx.kernel.markdown import one_line_break
from crowdcx.notifications import service as notes
from crowdcx.reputation import rules as rep
from crowdcx.reputation import service as points
from crowdcx.reputation.models import PointsEntryRow
from crowdcx.tenancy.models import Membership
from crowdcx.tenancy.service import BrandContext
from crowdcx.tickets.models import ExpertProfileRow

# --- badges and levels ----------------------------------------------------------------------

# The metrics each event can move (rules on other metrics cannot have become due).
ASKED: tuple[rep.Metric, ...] = ("questions", "reputation")
ANSWERED: tuple[rep.Metric, ...] = ("answers", "reputation")
VOTED: tuple[rep.Metric, ...] = ("upvotes_received", "languages_helped", "reputation")
ACCEPTED: tuple[rep.Metric, ...] = ("accepted_answers", "languages_helped", "reputation")
APPROVED: tuple[rep.Metric, ...] = ("brand_approved_answers", "languages_helped", "reputation")
RESOLVED: tuple[rep.Metric, ...] = ("tickets_resolved", "reputation")

METRICS = ("questions", "answers", "accepted_answers", "brand_approved_answers",
           "upvotes_received", "languages_helped", "tickets_resolved", "reputation",
           "days_active")  # fmt: skip


def badge_rules(ctx: BrandContext) -> tuple[rep.BadgeRule, ...]:
    """The defaults plus the brand's own declarative rules from ``settings.community.badges``
    (``[{"code", "metric", "threshold", "tier"}]``); malformed entries are ignored."""
    extra: list[rep.BadgeRule] = []
    raw = ((ctx.brand.settings or {}).get("community") or {}).get("badges") or []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        code, metric, threshold = item.get("code"), item.get("metric"), item.get("threshold")
        tier = item.get("tier", "bronze")
        if (
            isinstance(code, str) and 0 < len(code) <= 40 and metric in METRICS
            and isinstance(threshold, int) and threshold > 0
            and tier in ("bronze", "silver", "gold")
        ):  # fmt: skip
            extra.append(rep.BadgeRule(code, metric, threshold, tier))
    return (*rep.DEFAULT_BADGES, *extra)


_POST_METRICS = frozenset(
    {"questions", "answers", "accepted_answers", "brand_approved_answers", "upvotes_received"}
)


def activity_summary(
    uow: UnitOfWork, ctx: BrandContext, user_id: int, metrics: Collection[str] | None = None
) -> rep.ActivitySummary:
    """What the badge rules read: the member's activity counters (one row, and their helped
    languages), tickets resolved and reputation; with ``metrics``, only the reads those need
    (the others stay 0)."""
    return _summary(uow.session, ctx, user_id, metrics)


def _summary(
    s: Session | Connection, ctx: BrandContext, user_id: int,
    metrics: Collection[str] | None = None, reputation: int | None = None,
) -> rep.ActivitySummary:  # fmt: skip
    """:func:`activity_summary` on a session or a bare connection; ``reputation`` when the
    caller already read it."""

    def needs(*names: str) -> bool:
        return metrics is None or any(n in metrics for n in names)

    whose = {"brand": ctx.brand.id, "user": user_id}
    counts = (
        activity.counters(s, ctx.brand.id, user_id, languages=needs("languages_helped"))
        if needs(*_POST_METRICS, "languages_helped")
        else activity.Activity()
    )
    resolved = s.scalar(_tickets_resolved(), whose) if needs("tickets_resolved") else 0
    earned = 0
    if needs("reputation"):
        earned = reputation if reputation is not None else points.reputation_of(s, ctx, user_id)
    return rep.ActivitySummary(
        user_id=user_id,
        questions=counts.questions,
        answers=counts.answers,
        accepted_answers=counts.accepted_answers,
        brand_approved_answers=counts.brand_approved_answers,
        upvotes_received=counts.upvotes_received,
        languages=frozenset(lang.split("-")[0] for lang in counts.languages),
        tickets_resolved=int(resolved or 0),
        reputation=earned,
    )


# What the badge rules read after every event: built once (building a statement and its
# cache key costs more than running it on SQLite).
@cache
def _tickets_resolved() -> Any:
    return select(ExpertProfileRow.resolved).where(
        ExpertProfileRow.brand_id == bindparam("brand"),
        ExpertProfileRow.user_id == bindparam("user"),
    )


@cache
def _badges_of() -> Any:
    return (
        select(BadgeGrantRow)
        .where(
            BadgeGrantRow.brand_id == bindparam("brand"), BadgeGrantRow.user_id == bindparam("user")
        )
        .order_by(BadgeGrantRow.granted_at, BadgeGrantRow.id)
    )


@cache
def _badge_codes() -> Any:
    return select(BadgeGrantRow.code).where(
        BadgeGrantRow.brand_id == bindparam("brand"), BadgeGrantRow.user_id == bindparam("user")
    )


@cache
def _followers() -> Any:
    return select(FollowRow.target_kind, FollowRow.target, FollowRow.user_id).where(
        FollowRow.brand_id == bindparam("brand"),
        FollowRow.target.in_(bindparam("targets", expanding=True)),
    )


def _held_codes(s: Session | Connection, ctx: BrandContext, user_id: int) -> frozenset[str]:
    """The codes of the badges a member holds: the codes alone, since loading every grant as
    an ORM object was a third of the check that runs after every vote, answer and accept."""
    return frozenset(s.scalars(_badge_codes(), {"brand": ctx.brand.id, "user": user_id}))


def badges_of(uow: UnitOfWork, ctx: BrandContext, user_id: int) -> list[BadgeGrantRow]:
    return list(uow.session.scalars(_badges_of(), {"brand": ctx.brand.id, "user": user_id}))


def award(
    uow: UnitOfWork, ctx: BrandContext, user_id: int, now: datetime,
    moved: Collection[rep.Metric] | None = None,
) -> list[str]:  # fmt: skip
    """Grant the badges now due (idempotent) and tell the user about them. ``moved``: the
    metrics the event changed (only rules on those can have become due); None checks all."""
    held = _held_codes(uow.session, ctx, user_id)
    pending = rep.badges_to_check(badge_rules(ctx), held, moved)
    if not pending:
        return []
    summary = activity_summary(uow, ctx, user_id, {r.metric for r in pending})
    granted: list[str] = []
    for badge in rep.badges_due(summary, pending, held):
        uow.session.add(
            BadgeGrantRow(brand_id=ctx.brand.id, user_id=user_id, code=badge.code,
                          tier=badge.tier, granted_at=now)
        )  # fmt: skip
        granted.append(badge.code)
        notes.notify(
            uow.session, ctx.brand.id, [user_id], "badge", {"code": badge.code},
            f"/b/{ctx.brand.slug}/community/users/{user_id}", now,
        )  # fmt: skip
    uow.session.flush()
    return granted


def _level_notice(uow: UnitOfWork, ctx: BrandContext, user_id: int, rise: points.Rise,
                  now: datetime) -> None:  # fmt: skip
    """A notice when the levels held rise: by standing, so a member who kept a level through
    a dip (hysteresis) is not told of it again when they climb back."""
    before = rep.raw_level(rise.standing_before, points.POLICY)
    after = rep.raw_level(rise.standing, points.POLICY)
    if after > before:
        notes.notify(
            uow.session, ctx.brand.id, [user_id], "level", {"level": after},
            f"/b/{ctx.brand.slug}/community/users/{user_id}", now,
        )  # fmt: skip


def award_after_commit(
    uow: UnitOfWork, ctx: BrandContext, user_id: int, now: datetime,
    moved: Collection[rep.Metric], rise: points.Rise | None = None,
) -> None:  # fmt: skip
    """:func:`award`, with the badges granted just after ``uow`` commits, in a short
    transaction of their own that writes only when one is due.

    Badge rules read the person's whole activity (four queries); inside the event's own
    transaction they ran while, on SQLite, every other writer of every worker waited for the
    lock. The new-level notice stays in the transaction: it needs only the running total,
    read under the lock, so two concurrent votes cannot both miss the threshold. A badge that
    a concurrent event granted first is held either way (the unique key refuses the second).
    """
    reputation: int | None = None
    if rise is not None:
        reputation = rise.earned
        _level_notice(uow, ctx, user_id, rise, now)
    if not moved:
        return  # nothing rose: no badge can have become due
    bind, bus = uow.session.get_bind(), uow.bus

    def grant() -> None:
        # Nearly every event earns nothing: find that out on a bare connection (no session,
        # no transaction to roll back; reputation as read under the event's lock), and open
        # a unit of work — which checks again under its own transaction — only for a badge due.
        # A session bound to a Connection (an outer transaction) is not probed: a read on that
        # connection would begin a transaction the unit of work below would only join.
        if isinstance(bind, Engine):
            with bind.connect() as conn:
                held = _held_codes(conn, ctx, user_id)
                pending = rep.badges_to_check(badge_rules(ctx), held, moved)
                if not pending:
                    return
                summary = _summary(conn, ctx, user_id, {r.metric for r in pending}, reputation)
            if not rep.badges_due(summary, pending, held):
                return
        with UnitOfWork(Session(bind, expire_on_commit=False), bus) as later:
            try:
                if award(later, ctx, user_id, now, moved):
                    later.commit()
            except IntegrityError:
                later.rollback()

    uow.after_commit(grant)


def backfill_badges(uow: UnitOfWork, ctx: BrandContext, now: datetime) -> int:
    """Grant every badge rule to everyone who already qualifies (run after adding a rule)."""
    users = set(uow.session.scalars(ctx.scoped(PostRow, select(PostRow.author_id)).distinct()))
    users |= set(
        uow.session.scalars(ctx.scoped(PointsEntryRow, select(PointsEntryRow.user_id)).distinct())
    )
    return sum(len(award(uow, ctx, uid, now)) for uid in sorted(users))


# --- follows --------------------------------------------------------------------------------

FOLLOW_KINDS = ("community", "tag", "user")


def follow(uow: UnitOfWork, ctx: BrandContext, kind: str, target: str, now: datetime) -> bool:
    user = core.require_user(ctx)
    if kind not in FOLLOW_KINDS:
        raise invalid("kind", _("Follow a community, a tag or a person."), "bad_follow")
    target = target.strip().casefold()[:60]
    if not target:
        raise invalid("target", _("This field is required."), "required")
    exists = uow.session.scalar(
        ctx.scoped(FollowRow).where(
            FollowRow.user_id == user.id, FollowRow.target_kind == kind, FollowRow.target == target
        )
    )
    if exists is None:
        uow.session.add(
            FollowRow(brand_id=ctx.brand.id, user_id=user.id, target_kind=kind, target=target,
                      created_at=now)
        )  # fmt: skip
        uow.session.flush()
    return True


def unfollow(uow: UnitOfWork, ctx: BrandContext, kind: str, target: str) -> None:
    user = core.require_user(ctx)
    row = uow.session.scalar(
        ctx.scoped(FollowRow).where(
            FollowRow.user_id == user.id, FollowRow.target_kind == kind,
            FollowRow.target == target.strip().casefold()[:60],
        )
    )  # fmt: skip
    if row is not None:
        uow.session.delete(row)
        uow.session.flush()


def following(uow: UnitOfWork, ctx: BrandContext, user_id: int) -> set[tuple[str, str]]:
    rows = uow.session.execute(
        ctx.scoped(FollowRow, select(FollowRow.target_kind, FollowRow.target)).where(
            FollowRow.user_id == user_id
        )
    )
    return {(r.target_kind, r.target) for r in rows}


def on_question(uow: UnitOfWork, ctx: BrandContext, question: PostRow, now: datetime) -> None:
    """Tell followers of the community, its tags and the asker; grant the asker's badges."""
    community = uow.session.get(CommunityRow, question.community_id)
    targets = [("user", str(question.author_id))] + [("tag", t) for t in question.tags]
    if community is not None:
        targets.append(("community", community.slug))
    wanted = set(targets)
    rows = uow.session.execute(
        _followers(), {"brand": ctx.brand.id, "targets": sorted({t for _k, t in targets})}
    )
    followers = {r.user_id for r in rows if (r.target_kind, r.target) in wanted}
    notes.notify(
        uow.session, ctx.brand.id, followers, "followed", {"title": question.title},
        question_url(ctx, question.id), now, skip=question.author_id,
    )  # fmt: skip
    award_after_commit(uow, ctx, question.author_id, now, ASKED)


def question_url(ctx: BrandContext, question_id: int) -> str:
    return f"/b/{ctx.brand.slug}/community/questions/{question_id}"


def on_answer(
    uow: UnitOfWork, ctx: BrandContext, question: PostRow, answer: PostRow, now: datetime
) -> None:
    author = uow.session.get(User, answer.author_id)
    notes.notify(
        uow.session, ctx.brand.id, [question.author_id], "answer",
        {"title": question.title, "name": author.display_name if author else ""},
        question_url(ctx, question.id), now, skip=answer.author_id,
    )  # fmt: skip
    award_after_commit(uow, ctx, answer.author_id, now, ANSWERED)


def on_vote(
    uow: UnitOfWork, ctx: BrandContext, post: PostRow, rise: points.Rise | None, value: int,
    now: datetime, *, upvoted: bool = True, helped_more: bool = True,
) -> None:  # fmt: skip
    """``rise``: how the vote moved the post's author's standing, if it rose; ``upvoted``:
    whether it added an upvote to the post; ``helped_more``: whether it raised the answers the
    author has helped with in the post's language. Only what rose can make a badge due: most
    votes move neither the languages nor (past the daily cap) the reputation, and a vote
    taken back moves nothing up — the badge check then reads less, or nothing."""
    if value > 0:
        q = post if post.kind == "question" else uow.session.get(PostRow, post.question_id)
        which = {"answer": True} if post.kind == "answer" else {"question": True}
        notes.notify(
            uow.session, ctx.brand.id, [post.author_id], "upvoted",
            {"title": q.title if q else "", **which},
            question_url(ctx, q.id if q else post.id), now,
        )  # fmt: skip
    risen = rep.metrics_risen(
        VOTED, upvotes_received=upvoted, languages_helped=helped_more, reputation=rise is not None
    )
    award_after_commit(uow, ctx, post.author_id, now, risen, rise)


def on_accept(
    uow: UnitOfWork, ctx: BrandContext, question: PostRow, answer: PostRow,
    rise: points.Rise | None, now: datetime, *, counted: bool = True, helped_more: bool = True,
) -> None:  # fmt: skip
    """``counted``: whether this accept moved the answerer's accepted answers (a concurrent
    one may have); ``helped_more``: whether it raised their helped answers in the answer's
    language (not when the answer had helped already: upvoted or brand-approved)."""
    notes.notify(
        uow.session, ctx.brand.id, [answer.author_id], "accepted", {"title": question.title},
        question_url(ctx, question.id), now, skip=core.require_user(ctx).id,
    )  # fmt: skip
    risen = rep.metrics_risen(
        ACCEPTED, accepted_answers=counted, languages_helped=helped_more,
        reputation=rise is not None,
    )  # fmt: skip
    award_after_commit(uow, ctx, answer.author_id, now, risen, rise)


def on_approve(uow: UnitOfWork, ctx: BrandContext, answer: PostRow, now: datetime) -> None:
    question = uow.session.get(PostRow, answer.question_id)
    notes.notify(
        uow.session, ctx.brand.id, [answer.author_id], "approved",
        {"title": question.title if question else ""},
        question_url(ctx, answer.question_id or answer.id), now,
    )  # fmt: skip
    award_after_commit(uow, ctx, answer.author_id, now, APPROVED)


def _answer_mark(post: PostRow) -> dict[str, bool]:
    """What a moderation notice needs to say "your answer to <question>" rather than name the
    answer by its question's title, as if the author's post were the question."""
    return {"answer": True} if post.kind == "answer" else {}


def on_hidden(uow: UnitOfWork, ctx: BrandContext, post: PostRow, action: ModerationRow,
              params: Mapping[str, Any], now: datetime) -> None:  # fmt: skip
    q = post if post.kind == "question" else uow.session.get(PostRow, post.question_id)
    notes.notify(
        uow.session, ctx.brand.id, [post.author_id], "hidden",
        {"title": (q.title if q else "")[:120], **params, "moderation_id": action.id,
         **_answer_mark(post)},
        question_url(ctx, q.id if q else post.id), now,
    )  # fmt: skip


def _comment_question(uow: UnitOfWork, comment: CommentRow) -> PostRow | None:
    post = uow.session.get(PostRow, comment.post_id)
    if post is None or post.kind == "question":
        return post
    return uow.session.get(PostRow, post.question_id)


def _comment_url(ctx: BrandContext, comment: CommentRow, question: PostRow | None) -> str:
    base = question_url(ctx, question.id if question else comment.post_id)
    return f"{base}#post-{comment.post_id}"


def on_comment_hidden(uow: UnitOfWork, ctx: BrandContext, comment: CommentRow,
                      action: ModerationRow, params: Mapping[str, Any],
                      now: datetime) -> None:  # fmt: skip
    """Tell the author why their comment was hidden (``params``: ``automatic`` with ``flags``
    and ``reason``, or a moderator's ``note``); the text is rendered in their language."""
    q = _comment_question(uow, comment)
    notes.notify(
        uow.session, ctx.brand.id, [comment.author_id], "comment_hidden",
        {"title": (q.title if q else "")[:120], **params, "moderation_id": action.id},
        _comment_url(ctx, comment, q), now,
    )  # fmt: skip


# --- moderation: review queue and appeals ---------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    post: PostRow
    question: PostRow | None
    flags: int
    reasons: tuple[str, ...]
    appeal: ModerationRow | None
    hidden_at: datetime | None


def can_review(uow: UnitOfWork, ctx: BrandContext) -> bool:
    if ctx.user is None:
        return False
    return core.is_agent(ctx) or "review_queue" in points.privileges_of(
        uow.session, ctx, ctx.user.id
    )


def review_queue(uow: UnitOfWork, ctx: BrandContext, limit: int = 100) -> list[QueueItem]:
    """Hidden posts (appealed first) and visible posts with open flags, oldest first."""
    s = uow.session
    flagged = dict(
        s.execute(
            ctx.scoped(FlagRow, select(FlagRow.post_id, func.max(FlagRow.created_at)))
            .group_by(FlagRow.post_id)
        ).all()
    )  # fmt: skip
    hidden_ids = set(
        s.scalars(ctx.scoped(PostRow, select(PostRow.id)).where(PostRow.hidden.is_(True)))
    )
    decided: dict[int, datetime] = dict(
        s.execute(
            ctx.scoped(
                ModerationRow, select(ModerationRow.post_id, func.max(ModerationRow.created_at))
            )
            .where(ModerationRow.action.in_(("restore", "uphold", "hide", "dismiss")),
                   ModerationRow.comment_id.is_(None))
            .group_by(ModerationRow.post_id)
        ).all()
    )  # fmt: skip
    ids = hidden_ids | {
        pid for pid, at in flagged.items() if pid not in decided or at > decided[pid]
    }
    # Each table read once for all candidates (it was four queries per post: a community
    # that upholds a thousand spam posts paid four thousand queries per look at the queue).
    history: dict[int, list[ModerationRow]] = {}
    flag_count: dict[int, int] = {}
    reasons: dict[int, set[str]] = {}
    posts: list[PostRow] = []
    for start in range(0, len(ids), 500):
        chunk = sorted(ids)[start : start + 500]
        posts += s.scalars(select(PostRow).where(PostRow.id.in_(chunk)))
        for m in s.scalars(
            select(ModerationRow)
            .where(ModerationRow.post_id.in_(chunk), ModerationRow.comment_id.is_(None))
            .order_by(ModerationRow.created_at, ModerationRow.id)
        ):
            history.setdefault(m.post_id or 0, []).append(m)
        for pid, reason in s.execute(
            select(FlagRow.post_id, FlagRow.reason).where(FlagRow.post_id.in_(chunk))
        ):
            flag_count[pid] = flag_count.get(pid, 0) + 1
            reasons.setdefault(pid, set()).add(reason)
    # A member reviewer sees only what they may decide: not what the brand's staff decided
    # on last (staff when they decided), nor an answer the brand approved
    # (rules.staff_problems).
    by_staff: dict[int, bool] = {}
    for pid, past in history.items():
        for m in past:
            if not m.automatic and m.action in REVIEW_DECISIONS:
                by_staff[pid] = m.by_staff
    waiting: list[tuple[PostRow, ModerationRow | None, datetime | None]] = []
    for post in posts:
        if not core.is_agent(ctx) and (post.brand_approved or by_staff.get(post.id, False)):
            continue
        past = history.get(post.id, [])
        last = past[-1] if past else None
        if post.hidden and last is not None and last.action == "uphold":
            continue  # decided; stays hidden until the author edits or appeals anew
        appeal = last if last is not None and last.action == "appeal" else None
        hidden_at = next((m.created_at for m in reversed(past) if m.action == "hide"), None)
        waiting.append((post, appeal, hidden_at))
    waiting.sort(key=lambda w: (w[1] is None, not w[0].hidden, w[0].id))
    waiting = waiting[:limit]
    question_ids = {p.question_id for p, _a, _h in waiting if p.kind != "question"}
    questions = (
        {q.id: q for q in s.scalars(select(PostRow).where(PostRow.id.in_(question_ids)))}
        if question_ids else {}
    )  # fmt: skip
    return [
        QueueItem(post, post if post.kind == "question" else questions.get(post.question_id or 0),
                  flag_count.get(post.id, 0), tuple(sorted(reasons.get(post.id, ()))), appeal,
                  hidden_at)
        for post, appeal, hidden_at in waiting
    ]  # fmt: skip


def _last_hide(uow: UnitOfWork, post: PostRow) -> ModerationRow | None:
    return uow.session.scalar(
        select(ModerationRow)
        .where(
            ModerationRow.post_id == post.id,
            ModerationRow.action == "hide",
            ModerationRow.comment_id.is_(None),
        )
        .order_by(ModerationRow.created_at.desc(), ModerationRow.id.desc())
        .limit(1)
    )


MAX_APPEAL = 2000  # characters, each line break counted once


def appeal(
    uow: UnitOfWork, ctx: BrandContext, post: PostRow, text: str, now: datetime
) -> ModerationRow:
    hide = _last_hide(uow, post)
    if hide is None or not post.hidden:
        raise AppError(409, "not_hidden", _("This post is not hidden; there is nothing to appeal."))
    return _appeal(
        uow, ctx, hide, post.author_id, text, now, ModerationRow.post_id == post.id,
        ModerationRow.comment_id.is_(None),
        empty=lambda: _("Tell the moderators why the post should be restored."),
    )  # fmt: skip


def appeal_comment(
    uow: UnitOfWork, ctx: BrandContext, comment: CommentRow, text: str, now: datetime
) -> ModerationRow:
    """The author of a hidden comment asks for it back (once per hiding, within the brand's
    appeal window); the comment waits in the review queue with the appeal beside it."""
    hide = uow.session.scalar(
        select(ModerationRow)
        .where(ModerationRow.comment_id == comment.id, ModerationRow.action == "hide")
        .order_by(ModerationRow.created_at.desc(), ModerationRow.id.desc())
        .limit(1)
    )
    if hide is None or not comment.hidden:
        raise AppError(
            409, "not_hidden", _("This comment is not hidden; there is nothing to appeal.")
        )
    return _appeal(
        uow, ctx, hide, comment.author_id, text, now, ModerationRow.comment_id == comment.id,
        empty=lambda: _("Tell the moderators why the comment should be restored."),
    )  # fmt: skip


def _appeal(
    uow: UnitOfWork, ctx: BrandContext, hide: ModerationRow, author_id: int, text: str,
    now: datetime, *about: Any, empty: Callable[[], str],
) -> ModerationRow:  # fmt: skip
    """An appeal of the hiding ``hide`` (of the post or comment ``about`` selects)."""
    user = core.require_user(ctx)
    already = uow.session.scalar(
        select(func.count(ModerationRow.id)).where(
            *about, ModerationRow.action == "appeal", ModerationRow.created_at >= hide.created_at
        )
    )
    action = rules.ModerationAction(
        "hide", hide.post_id, hide.reason_code, hide.message, (), hide.created_at
    )
    problems = rules.appeal_problems(
        action, user.id, author_id, now, bool(already), core.policy(ctx)
    )
    if problems and problems[0].code == "not_author":
        raise AppError(403, "not_author", _("Only the author can appeal."))
    if problems and problems[0].code == "appeal_window_closed":
        raise AppError(409, "appeal_window_closed", _("The time to appeal this decision is over."))
    if problems:
        raise AppError(
            409, "already_appealed", _("You already appealed; a moderator will review it.")
        )
    text = one_line_break(text).strip()
    if not text:
        raise invalid("text", empty(), "required")
    if len(text) > MAX_APPEAL:  # refused whole, never cut short without a word
        raise invalid("text", _(
            "Keep the appeal to %(max)s characters; it has %(count)s."
        ) % {"max": MAX_APPEAL, "count": len(text)}, "too_long")  # fmt: skip
    row = ModerationRow(
        brand_id=ctx.brand.id, post_id=hide.post_id, comment_id=hide.comment_id,
        action="appeal", reason_code="appeal", message=text, automatic=False,
        actor_id=user.id, by_staff=core.is_agent(ctx), created_at=now,
    )  # fmt: skip
    uow.session.add(row)
    uow.session.flush()
    return row


REVIEW_DECISIONS = ("restore", "uphold", "hide", "dismiss")


def _last_decision(session: Session, *about: Any) -> ModerationRow | None:
    """The latest reviewer's decision on the post or comment ``about`` selects."""
    return session.scalar(
        select(ModerationRow)
        .where(*about, ModerationRow.automatic.is_(False),
               ModerationRow.action.in_(REVIEW_DECISIONS))
        .order_by(ModerationRow.created_at.desc(), ModerationRow.id.desc())
        .limit(1)
    )  # fmt: skip


def review_history(
    session: Session, ctx: BrandContext, post: PostRow | None = None,
    comment: CommentRow | None = None,
) -> rules.ReviewHistory:  # fmt: skip
    """The moderation of ``post`` (or of ``comment``) as the review rules read it."""
    about = (
        (ModerationRow.comment_id == comment.id,)
        if comment is not None
        else (ModerationRow.post_id == (post.id if post else 0),
              ModerationRow.comment_id.is_(None))
    )  # fmt: skip
    last = _last_decision(session, *about)
    # Staff when they decided (recorded with the decision), whatever their roles are now.
    staff = last is not None and last.by_staff
    return rules.ReviewHistory(
        last_decision=last.action if last is not None else None, decided_by_staff=staff,
        brand_approved=comment is None and post is not None and post.brand_approved,
        reopened=last is not None and _reopened(session, last, post, comment, about),
    )  # fmt: skip


def _reopened(
    session: Session, decision: ModerationRow, post: PostRow | None, comment: CommentRow | None,
    about: tuple[Any, ...],
) -> bool:  # fmt: skip
    """Whether something since ``decision`` asks for a new one: an appeal or a hide by flags,
    a new flag, or (of a post) an edit."""
    since = decision.created_at
    steps = select(ModerationRow.id).where(
        *about, ModerationRow.id != decision.id, ModerationRow.created_at >= since,
        (ModerationRow.action == "appeal") | ModerationRow.automatic.is_(True),
    )  # fmt: skip
    later: Any
    if comment is not None:
        flags = select(CommentFlagRow.id).where(
            CommentFlagRow.comment_id == comment.id, CommentFlagRow.created_at > since
        )
        later = union_all(steps, flags)
    else:
        pid = post.id if post is not None else 0
        flags = select(FlagRow.id).where(FlagRow.post_id == pid, FlagRow.created_at > since)
        edits = select(PostRevisionRow.id).where(
            PostRevisionRow.post_id == pid, PostRevisionRow.created_at > since
        )
        later = union_all(steps, flags, edits)
    return bool(session.scalar(select(func.count()).select_from(later.subquery())))


def _lock_for_review(session: Session, row: PostRow | CommentRow) -> None:
    """Take the post's (or comment's) row for this transaction before reading its moderation:
    of two reviewers deciding at once, the second reads the first one's decision and gets
    ``already_decided`` instead of writing a second one over it. A write that changes
    nothing: PostgreSQL locks the row until the commit, and on SQLite it takes the write
    lock (every writer queues on it), so the reads after it see every decision committed."""
    model = type(row)
    session.execute(
        update(model)
        .where(model.id == row.id)
        .values(hidden=model.hidden)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)


def review(uow: UnitOfWork, ctx: BrandContext, post: PostRow, decision: str, note: str,
           now: datetime) -> ModerationRow:  # fmt: skip
    """A reviewer restores a hidden post, upholds the hiding, hides a flagged post, or
    dismisses its flags. Every decision lands in the audit log and the author is told.
    Members do not overrule the staff's decisions, nor the brand's approval of an answer."""
    user = core.require_user(ctx)
    _lock_for_review(uow.session, post)
    history = review_history(uow.session, ctx, post=post)
    if decision == "dismiss":
        if not can_review(uow, ctx):
            core._raise_first(
                [rep.Violation("privilege_required", None, (("privilege", "review_queue"),))]
            )
        if user.id == post.author_id and not core.is_agent(ctx):
            core._raise_first([rep.Violation("own_content", None, ())])
        core._raise_first(
            rules.staff_problems(core.is_agent(ctx), history)
            or rules.decided_problems(core.is_agent(ctx), history)
        )
    else:
        privileges = points.privileges_of(uow.session, ctx, user.id)
        core._raise_first(
            rules.review_problems(
                privileges, core.is_agent(ctx), decision, post.hidden, user.id == post.author_id,
                history,
            )
        )  # fmt: skip
    row = ModerationRow(
        brand_id=ctx.brand.id, post_id=post.id, action=decision,
        reason_code=f"review_{decision}", message=note.strip()[:2000], automatic=False,
        actor_id=user.id, by_staff=core.is_agent(ctx), created_at=now,
    )  # fmt: skip
    uow.session.add(row)
    q = post if post.kind == "question" else uow.session.get(PostRow, post.question_id)
    title = q.title if q else ""
    if decision == "restore":
        post.hidden = False
        uow.session.flush()  # the decision's id names the points it gives back
        core.give_back_points(uow, ctx, post, now, str(row.id))
        notes.notify(uow.session, ctx.brand.id, [post.author_id], "restored",
                     {"title": title, **_answer_mark(post)},
                     question_url(ctx, q.id if q else post.id), now)  # fmt: skip
    elif decision == "uphold":
        notes.notify(uow.session, ctx.brand.id, [post.author_id], "upheld",
                     {"title": title, **_answer_mark(post)},
                     question_url(ctx, q.id if q else post.id), now)  # fmt: skip
    elif decision == "hide":
        post.hidden = True
        core.take_back_points(uow, ctx, post, now)
        notes.notify(
            uow.session, ctx.brand.id, [post.author_id], "hidden",
            {"title": title, "moderator": True,
             "appeal_days": core.policy(ctx).appeal_window.days, **_answer_mark(post)},
            question_url(ctx, q.id if q else post.id), now,
        )  # fmt: skip
    uow.session.flush()
    core._sync_question(uow.session, ctx, post, now)
    return row


@dataclass(frozen=True)
class CommentQueueItem:
    comment: CommentRow
    question: PostRow | None
    flags: int
    reasons: tuple[str, ...]
    hidden_at: datetime | None
    appeal: ModerationRow | None = None  # the author's appeal of the current hiding


def comment_review_queue(
    uow: UnitOfWork, ctx: BrandContext, limit: int = 100
) -> list[CommentQueueItem]:
    """Hidden comments not yet decided on (kept hidden by a reviewer), oldest first."""
    s = uow.session
    hidden = list(
        s.scalars(ctx.scoped(CommentRow).where(CommentRow.hidden.is_(True)).order_by(CommentRow.id))
    )
    if not hidden:
        return []
    ids = [c.id for c in hidden]
    last: dict[int, ModerationRow] = {}
    hidden_at: dict[int, datetime] = {}
    by_staff: dict[int, bool] = {}
    for m in s.scalars(
        ctx.scoped(ModerationRow)
        .where(ModerationRow.comment_id.in_(ids))
        .order_by(ModerationRow.created_at, ModerationRow.id)
    ):
        last[m.comment_id or 0] = m
        if m.action == "hide":
            hidden_at[m.comment_id or 0] = m.created_at
        if not m.automatic and m.action in REVIEW_DECISIONS:
            by_staff[m.comment_id or 0] = m.by_staff
    if not core.is_agent(ctx):  # a member reviewer: not what the staff decided on last
        hidden = [c for c in hidden if not by_staff.get(c.id, False)]
    flags: dict[int, int] = {}
    reasons: dict[int, set[str]] = {}
    for cid, reason in s.execute(
        ctx.scoped(CommentFlagRow, select(CommentFlagRow.comment_id, CommentFlagRow.reason))
        .where(CommentFlagRow.comment_id.in_(ids))
    ):  # fmt: skip
        flags[cid] = flags.get(cid, 0) + 1
        reasons.setdefault(cid, set()).add(reason)
    posts = {p.id: p for p in s.scalars(
        select(PostRow).where(PostRow.id.in_({c.post_id for c in hidden})))}  # fmt: skip
    items: list[CommentQueueItem] = []
    for c in hidden:
        decision = last.get(c.id)
        if decision is not None and decision.action == "uphold":
            continue  # decided; stays hidden
        post = posts.get(c.post_id)
        question = (
            post if post is None or post.kind == "question" else s.get(PostRow, post.question_id)
        )
        appealed = decision if decision is not None and decision.action == "appeal" else None
        items.append(
            CommentQueueItem(c, question, flags.get(c.id, 0),
                             tuple(sorted(reasons.get(c.id, ()))), hidden_at.get(c.id),
                             appealed)
        )  # fmt: skip
    return items[:limit]


def moderate_comment(uow: UnitOfWork, ctx: BrandContext, comment: CommentRow, action: str,
                     note: str, now: datetime) -> ModerationRow:  # fmt: skip
    """An agent or a holder of the review-queue privilege hides a comment, restores a hidden
    one, or keeps it hidden (``uphold``: off the queue). Every decision lands in the audit log;
    the author is told of a hide (with the note) and of a restore."""
    user = core.require_user(ctx)
    privileges = points.privileges_of(uow.session, ctx, user.id)
    _lock_for_review(uow.session, comment)
    core._raise_first_on_comment(
        rules.review_problems(
            privileges, core.is_agent(ctx), action, comment.hidden, user.id == comment.author_id,
            review_history(uow.session, ctx, comment=comment),
        )
    )  # fmt: skip
    row = ModerationRow(
        brand_id=ctx.brand.id, post_id=comment.post_id, comment_id=comment.id, action=action,
        reason_code=f"review_{action}", message=note.strip()[:2000], automatic=False,
        actor_id=user.id, by_staff=core.is_agent(ctx), created_at=now,
    )  # fmt: skip
    uow.session.add(row)
    uow.session.flush()
    if action == "hide":
        comment.hidden = True
        on_comment_hidden(uow, ctx, comment, row, {"automatic": False, "note": row.message}, now)
    elif action == "restore":
        comment.hidden = False
        q = _comment_question(uow, comment)
        notes.notify(uow.session, ctx.brand.id, [comment.author_id], "comment_restored",
                     {"title": (q.title if q else "")[:120]}, _comment_url(ctx, comment, q),
                     now)  # fmt: skip
    uow.session.flush()
    return row


def moderation_log(uow: UnitOfWork, ctx: BrandContext, limit: int = 200) -> list[ModerationRow]:
    return list(
        uow.session.scalars(
            ctx.scoped(ModerationRow).order_by(ModerationRow.created_at.desc()).limit(limit)
        )
    )


# --- closed communities: applications and onboarding ---------------------------------------


def onboarding_of(community: CommunityRow) -> rules.Onboarding:
    parsed = rules.parse_onboarding(community.onboarding or {})
    return parsed if isinstance(parsed, rules.Onboarding) else rules.Onboarding()


def set_onboarding(uow: UnitOfWork, ctx: BrandContext, community: CommunityRow,
                   raw: Mapping[str, Any]) -> rules.Onboarding:  # fmt: skip
    ctx.require("brand.manage")
    parsed = rules.parse_onboarding(raw)
    if isinstance(parsed, rep.Violation):
        index = dict(parsed.params).get("index")
        where = "" if index is None else _(" (question %(n)s)") % {"n": int(index) + 1}
        raise invalid(
            parsed.field or "quiz",
            _("Onboarding needs rules as text and quiz questions with 2–6 choices and the "
              "index of the right one%(where)s.") % {"where": where},
            "onboarding_invalid",
        )  # fmt: skip
    community.onboarding = {
        "rules": parsed.rules,
        "quiz": [{"q": q.prompt, "choices": list(q.choices), "answer": q.answer}
                 for q in parsed.quiz],
    }  # fmt: skip
    uow.session.flush()
    return parsed


def membership(
    uow: UnitOfWork, ctx: BrandContext, community: CommunityRow
) -> CommunityMemberRow | None:
    if ctx.user is None:
        return None
    row: CommunityMemberRow | None = uow.session.scalar(
        select(CommunityMemberRow).where(
            CommunityMemberRow.community_id == community.id,
            CommunityMemberRow.user_id == ctx.user.id,
        )
    )
    return row


def applications(
    uow: UnitOfWork, ctx: BrandContext, community: CommunityRow
) -> list[CommunityMemberRow]:
    return list(
        uow.session.scalars(
            ctx.scoped(CommunityMemberRow)
            .where(CommunityMemberRow.community_id == community.id,
                   CommunityMemberRow.status == "applied")
            .order_by(CommunityMemberRow.joined_at)
        )
    )  # fmt: skip


def waiting_applications(uow: UnitOfWork, ctx: BrandContext) -> dict[int, int]:
    """Applications waiting for review, per community id: the community list shows them to
    the brand's staff, who otherwise had to open each closed community to find any."""
    rows = uow.session.execute(
        ctx.scoped(CommunityMemberRow,
                   select(CommunityMemberRow.community_id, func.count(CommunityMemberRow.id)))
        .where(CommunityMemberRow.status == "applied")
        .group_by(CommunityMemberRow.community_id)
    ).all()  # fmt: skip
    return {int(community_id): int(n) for community_id, n in rows}


def admit(uow: UnitOfWork, ctx: BrandContext, community: CommunityRow, user_id: int,
          now: datetime) -> CommunityMemberRow:  # fmt: skip
    if not core.is_agent(ctx):
        raise AppError(403, "agent_required", _("Only the brand's agents can admit members."))
    row: CommunityMemberRow | None = uow.session.scalar(
        ctx.scoped(CommunityMemberRow).where(
            CommunityMemberRow.community_id == community.id, CommunityMemberRow.user_id == user_id
        )
    )
    if row is None:
        raise not_found(_("This person has not applied to the community."), "application_not_found")
    if row.status != "member":
        row.status = "member"
        row.onboarding_done = not (community.onboarding or {}).get("rules") and not (
            community.onboarding or {}
        ).get("quiz")
        notes.notify(uow.session, ctx.brand.id, [user_id], "membership", {"name": community.name},
                     f"/b/{ctx.brand.slug}/community/c/{community.slug}", now)  # fmt: skip
        uow.session.flush()
    return row


def complete_onboarding(
    uow: UnitOfWork, ctx: BrandContext, community: CommunityRow, rules_accepted: bool,
    answers: Mapping[int, int],
) -> CommunityMemberRow:  # fmt: skip
    core.require_user(ctx)
    row = membership(uow, ctx, community)
    if row is None or row.status != "member":
        raise AppError(403, "membership_required",
                       _("Your application has to be accepted before the onboarding."))  # fmt: skip
    problems = rules.onboarding_problems(onboarding_of(community), rules_accepted, answers)
    if problems:
        p = dict(problems[0].params)
        if problems[0].code == "rules_not_accepted":
            raise invalid("rules_accepted", _("Read and accept the community rules."),
                          "rules_not_accepted")  # fmt: skip
        raise invalid(
            "quiz",
            _("%(wrong)s of %(total)s quiz answers are not right yet; read the rules and try "
              "again.") % {"wrong": p.get("wrong", ""), "total": p.get("total", "")},
            "quiz_failed",
        )  # fmt: skip
    row.onboarding_done = True
    uow.session.flush()
    return row


# --- super-user discovery --------------------------------------------------------------------


def super_user_candidates(
    uow: UnitOfWork, ctx: BrandContext, discovery: rules.DiscoveryPolicy | None = None
) -> list[rules.SuperUserCandidate]:
    ctx.require("brand.manage")
    s = uow.session
    rows = s.execute(
        ctx.scoped(PostRow, select(
            PostRow.author_id,
            func.count(PostRow.id),
            func.sum(case((PostRow.accepted.is_(True), 1), else_=0)),
        ))
        .where(PostRow.kind == "answer")
        .group_by(PostRow.author_id)
    ).all()  # fmt: skip
    experts = set(s.scalars(ctx.scoped(ExpertProfileRow, select(ExpertProfileRow.user_id))))
    stats = []
    for author_id, answers, accepted in rows:
        langs = s.scalars(
            ctx.scoped(PostRow, select(PostRow.language))
            .where(PostRow.author_id == author_id, PostRow.kind == "answer")
            .distinct()
        ).all()
        stats.append(
            rules.HelperStats(
                user_id=author_id, accepted_answers=int(accepted or 0),
                reputation=points.reputation_of(s, ctx, author_id),
                languages=frozenset(langs), answers=int(answers or 0),
                is_expert=author_id in experts,
            )
        )  # fmt: skip
    return rules.discover_super_users(stats, discovery or discovery_policy(ctx))


def discovery_policy(ctx: BrandContext) -> rules.DiscoveryPolicy:
    raw = ((ctx.brand.settings or {}).get("community") or {}).get("discovery") or {}
    base = rules.DiscoveryPolicy()

    def num(key: str, fallback: int) -> int:
        v = raw.get(key) if isinstance(raw, dict) else None
        return v if isinstance(v, int) and 0 <= v <= 1_000_000 else fallback

    return rules.DiscoveryPolicy(
        min_accepted=num("min_accepted", base.min_accepted),
        min_reputation=num("min_reputation", base.min_reputation),
        min_languages=num("min_languages", base.min_languages),
    )


def invite_expert(uow: UnitOfWork, ctx: BrandContext, user_id: int, now: datetime) -> None:
    ctx.require("brand.manage")
    # Only the brand's own people: another brand's member (or anyone on the platform) is not
    # the brand's to invite, and telling them apart from a missing id would reveal them.
    member = uow.session.scalar(
        ctx.scoped(Membership, select(Membership.id)).where(Membership.user_id == user_id)
    )
    if member is None:
        raise not_found(_("There is no such person."), "user_not_found")
    notes.notify(uow.session, ctx.brand.id, [user_id], "invited", {"brand": ctx.brand.name},
                 f"/b/{ctx.brand.slug}/", now)  # fmt: skip
    uow.session.flush()


def users_by_id(uow: UnitOfWork, ids: Sequence[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in uow.session.scalars(select(User).where(User.id.in_(list(ids))))}
