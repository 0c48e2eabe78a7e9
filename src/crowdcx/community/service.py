"""Use cases of the community lane: communities, questions, answers, votes, accepts, brand
approval, flags with automatic hiding (of posts and of comments), leaderboards, reputation,
rewards and escalation of an unanswered question into a ticket. Decisions come from
community/rules.py and reputation/rules.py; points and money move in the same transaction as
the action."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from crowdcx.community import activity, engagement, rules
from crowdcx.community.labels import privilege_labels
from crowdcx.community.models import (
    BadgeGrantRow,
    CommentFlagRow,
    CommentRow,
    CommunityMemberRow,
    CommunityRow,
    FlagRow,
    ModerationRow,
    PostRevisionRow,
    PostRow,
    PostTagRow,
    RedemptionRow,
    VoteRow,
)
from crowdcx.identity.models import User
from crowdcx.kernel.db import Database, UnitOfWork, append_rows, update_row
from crowdcx.kernel.errors import AppError, forbidden, invalid, not_found, unauthenticated
from crowdcx.kernel.i18n import _, ngettext
from crowdcx.kernel.language import LOCALES, detect_language
from crowdcx.kernel.markdown import one_line_break, render
from crowdcx.kernel.numbers import ascii_int
from crowdcx.kernel.pagination import decode_cursor, decode_scored_cursor, encode_cursor
from crowdcx.notifications import service as notes
from crowdcx.payouts import rules as pay
from crowdcx.payouts import service as ledger
from crowdcx.reputation import rules as rep
from crowdcx.reputation import service as points
from crowdcx.search import service as search
from crowdcx.search.index import IndexDocument
from crowdcx.tenancy.models import Membership
from crowdcx.tenancy.rules import SLUG_RE
from crowdcx.tenancy.service import BrandContext, clean_name

MAX_TITLE = 300
FLAG_REASONS = ("spam", "rude", "off_topic", "other")

log = logging.getLogger(__name__)


def policy(ctx: BrandContext) -> rules.CommunityPolicy:
    """The brand's ``settings.community`` over the defaults (unknown or bad values ignored)."""
    raw = (ctx.brand.settings or {}).get("community") or {}
    default = rules.CommunityPolicy()

    def count(key: str, fallback: int) -> int:
        value = raw.get(key)
        return value if isinstance(value, int) and 0 < value <= 1_000_000 else fallback

    return rules.CommunityPolicy(
        multiple_solutions=bool(raw.get("multiple_solutions", False)),
        new_member_posts_per_window=count(
            "new_member_posts_per_hour", default.new_member_posts_per_window
        ),
        member_posts_per_window=count("member_posts_per_hour", default.member_posts_per_window),
        auto_hide_flags=count("auto_hide_flags", default.auto_hide_flags),
        escalation_delay=(
            None
            if raw.get("escalation_hours") == 0
            else timedelta(hours=count("escalation_hours", 48))
        ),
        auto_escalate=bool(raw.get("auto_escalate", False)),
    )


def reward_policy(ctx: BrandContext) -> rules.RewardPolicy:
    # Upper-cased: brands saved before currencies were checked may hold "rub".
    settings = ctx.brand.settings or {}
    currency = str(settings.get("currency") or "GBP").strip().upper()
    try:
        zone: tzinfo = ZoneInfo(str(settings.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC  # settings are checked when saved; one saved before falls back
    return rules.RewardPolicy(currency=currency, timezone=zone)


def is_agent(ctx: BrandContext) -> bool:
    return ctx.is_platform_admin or bool(ctx.roles & {"agent", "brand_admin"})


def require_user(ctx: BrandContext) -> User:
    if ctx.user is None:
        raise unauthenticated()
    return ctx.user


def _cap_message(p: Mapping[str, Any]) -> str:
    """Which redemption limit a request went over, and what the member can still redeem."""
    limit = p.get("limit", "")
    if p.get("scope") != "period":
        return _("Redeem at most %(limit)s points at a time.") % {"limit": limit}
    remaining = int(p.get("remaining") or 0)
    if remaining < int(p.get("minimum") or 1):
        return _(
            "You have redeemed what this period allows; you can redeem again in the next period."
        )
    return ngettext(
        "You can redeem %(n)s more point this period (at most %(limit)s).",
        "You can redeem %(n)s more points this period (at most %(limit)s).",
        remaining,
    ) % {"n": remaining, "limit": limit}


def violation_error(v: rep.Violation) -> AppError:
    p = dict(v.params)
    privilege = str(p.get("privilege", ""))  # named in the reader's language
    messages: dict[str, Callable[[], str]] = {
        "self_vote": lambda: _("You cannot vote on your own post."),
        "already_voted": lambda: _("You already voted this way; send 0 to withdraw the vote."),
        "not_voted": lambda: _("There is no vote of yours to withdraw."),
        "invalid_vote": lambda: _("A vote is 1, -1 or 0."),
        "privilege_required": lambda: (
            _("You need more reputation for this (privilege “%(privilege)s”).")
            % {"privilege": privilege_labels().get(privilege, privilege)}
        ),
        "not_asker": lambda: _("Only the person who asked (or an agent) can do this."),
        "answer_not_in_question": lambda: _("That answer belongs to another question."),
        "already_accepted": lambda: _("This answer is already accepted."),
        "agent_required": lambda: _("Only the brand's agents can approve answers."),
        "already_approved": lambda: _("This answer is already approved by the brand."),
        "answer_hidden": lambda: _(
            "This answer is hidden by moderation; restore it before marking it as a solution."
        ),
        "membership_required": lambda: _("Join this community before you post in it."),
        "onboarding_incomplete": lambda: _("Finish the community's onboarding before you post."),
        "question_closed": lambda: _("This question is closed; it takes no new answers."),
        "body_empty": lambda: _("Write something first."),
        "body_too_short": lambda: (
            (
                _(
                    "Say how to solve it in a few words (at least %(letters)s letters, or %(wide)s"
                    " Chinese characters); to agree with an answer, vote for it instead."
                )
                if p.get("kind") == "answer"
                else _(
                    "Describe the problem in a sentence or two so that others can help (at"
                    " least %(letters)s letters, or %(wide)s Chinese characters)."
                )
            )
            % {"letters": p.get("letters", ""), "wide": p.get("wide", "")}
        ),
        "body_too_long": lambda: (
            _("Keep the text under %(limit)s characters.") % {"limit": p.get("limit", "")}
        ),
        "too_many_links": lambda: (
            _("Use at most %(limit)s links in a post for now.") % {"limit": p.get("limit", "")}
        ),
        "rate_limited": lambda: (
            _("You have posted %(limit)s times within the hour, the limit for now; try later.")
            % {"limit": p.get("limit", "")}
        ),
        "self_flag": lambda: _("You cannot flag your own post."),
        "own_content": lambda: _(
            "You cannot review your own post; another reviewer will (or appeal the decision)."
        ),
        "already_flagged": lambda: _("You already flagged this post."),
        "tag_too_long": lambda: (
            _("Keep each tag to %(limit)s characters or fewer; “%(tag)s” is longer.")
            % {"limit": p.get("limit", ""), "tag": p.get("tag", "")}
        ),
        "too_many_tags": lambda: _("Use at most %(limit)s tags.") % {"limit": p.get("limit", "")},
        "invalid_points": lambda: _("Redeem a positive number of points."),
        "kind_not_offered": lambda: _("This brand does not offer that reward."),
        "below_minimum": lambda: (
            _("Redeem at least %(minimum)s points at a time.") % {"minimum": p.get("minimum", "")}
        ),
        "insufficient_points": lambda: (
            _("You have only %(balance)s points to redeem.") % {"balance": p.get("balance", "")}
        ),
        "cap_exceeded": lambda: _cap_message(p),
        "already_escalated": lambda: _("This question is already with an expert."),
        "already_solved": lambda: _("This question already has an accepted answer."),
        "too_early": lambda: (
            _("Give the community until %(at)s to answer first.")
            % {"at": str(p.get("eligible_at", ""))[:16].replace("T", " ")}
        ),
        "escalation_disabled": lambda: _("This brand does not turn questions into tickets."),
        "question_hidden": lambda: _(
            "This question is hidden by moderation; it cannot go to an expert unless restored."
        ),
        "not_hidden": lambda: _("This post is not hidden."),
        "already_hidden": lambda: _("This post is already hidden."),
        "staff_decision": lambda: _(
            "The brand's staff decided on this post (or approved it); only they can change that."
        ),
        "already_decided": lambda: _(
            "This has already been decided; it comes back to review with a new flag, an appeal "
            "or an edit."
        ),
        "invalid_decision": lambda: _("Decide restore, uphold, hide or dismiss."),
        "already_closed": lambda: _("This question is already closed."),
        "not_closed": lambda: _("This question is not closed."),
        "duplicate_of_self": lambda: _("A question cannot duplicate itself."),
        "duplicate_other_brand": lambda: _("Link a question of this brand."),
        "duplicate_cycle": lambda: _(
            "That question is already closed as a duplicate of this one (directly or through "
            "others); link the original question instead."
        ),
        "duplicate_hidden": lambda: _(
            "That question is hidden by moderation; link a question everyone can read."
        ),
    }
    message = messages.get(v.code, lambda: _("This value is not accepted."))()
    if v.code in ("privilege_required", "not_asker", "agent_required", "membership_required",
                  "onboarding_incomplete", "self_vote", "self_flag", "own_content",
                  "staff_decision"):  # fmt: skip
        return forbidden(message, v.code)
    if v.code == "rate_limited":
        return AppError(429, v.code, message)
    if v.field:
        return invalid(v.field, message, v.code)
    return AppError(409, v.code, message)


def _raise_first(problems: Sequence[rep.Violation]) -> None:
    if problems:
        raise violation_error(problems[0])


def comment_violation_error(v: rep.Violation) -> AppError:
    """As :func:`violation_error`, with the same codes, in words about a comment."""
    error = violation_error(v)
    messages: dict[str, Callable[[], str]] = {
        "self_flag": lambda: _("You cannot flag your own comment."),
        "own_content": lambda: _("You cannot review your own comment; another reviewer will."),
        "already_flagged": lambda: _("You already flagged this comment."),
        "not_hidden": lambda: _("This comment is not hidden."),
        "already_hidden": lambda: _("This comment is already hidden."),
        "staff_decision": lambda: _(
            "The brand's staff decided on this comment; only they can change that."
        ),
        "invalid_decision": lambda: _("Decide hide, restore or uphold."),
    }
    if v.code not in messages:
        return error
    message = messages[v.code]()
    if error.field:  # the rule's "decision" is the comment form's and body's "action"
        return invalid("action" if v.code == "invalid_decision" else error.field, message, v.code)
    return AppError(error.status, v.code, message)


def _raise_first_on_comment(problems: Sequence[rep.Violation]) -> None:
    if problems:
        raise comment_violation_error(problems[0])


# --- communities --------------------------------------------------------------------------


def create_community(
    uow: UnitOfWork, ctx: BrandContext, slug: str, name: str, description: str, closed: bool
) -> CommunityRow:
    ctx.require("brand.manage")
    if not SLUG_RE.match(slug):
        raise invalid(
            "slug",
            _("Use 1–40 lower-case Latin letters, digits and hyphens for the address name, "
              "starting and ending with a letter or digit."),
            "slug_format",
        )  # fmt: skip
    name = clean_name(name)
    if not name:
        raise invalid("name", _("This field is required."), "required")
    exists = uow.session.scalar(
        ctx.scoped(CommunityRow, select(CommunityRow.id)).where(CommunityRow.slug == slug)
    )
    if exists:
        raise AppError(409, "slug_taken", _("Another community of this brand uses this address."))
    row = CommunityRow(
        brand_id=ctx.brand.id, slug=slug, name=name.strip()[:120],
        description=description.strip(), closed=closed,
    )  # fmt: skip
    uow.session.add(row)
    uow.session.flush()
    return row


def communities(session: Session, ctx: BrandContext) -> list[CommunityRow]:
    return list(session.scalars(ctx.scoped(CommunityRow).order_by(CommunityRow.id)))


def community_by(session: Session, ctx: BrandContext, key: str | int) -> CommunityRow:
    number = ascii_int(key)
    by_id = number is not None
    row: CommunityRow | None = session.scalar(
        _community_by(by_id), {"brand": ctx.brand.id, "key": number if by_id else str(key)}
    )
    if row is None:
        raise not_found(_("There is no such community in this brand."), "community_not_found")
    return row


def join(
    uow: UnitOfWork, ctx: BrandContext, community: CommunityRow, now: datetime
) -> CommunityMemberRow:
    user = require_user(ctx)
    row = uow.session.scalar(
        select(CommunityMemberRow).where(
            CommunityMemberRow.community_id == community.id, CommunityMemberRow.user_id == user.id
        )
    )
    if row is None:
        row = CommunityMemberRow(
            brand_id=ctx.brand.id, community_id=community.id, user_id=user.id,
            status="applied" if community.closed else "member",
            onboarding_done=not community.closed, joined_at=now,
        )  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
    return row


# --- posts --------------------------------------------------------------------------------


def get_post(session: Session, ctx: BrandContext, post_id: int, kind: str | None = None) -> PostRow:
    post = session.get(PostRow, post_id)
    if post is None or post.brand_id != ctx.brand.id or (kind and post.kind != kind):
        what = {"question": _("There is no such question in this brand."),
                "answer": _("There is no such answer in this brand.")}  # fmt: skip
        raise not_found(
            what.get(kind or "", _("There is no such post in this brand.")), "post_not_found"
        )
    return post


def readable_post(
    session: Session, ctx: BrandContext, post_id: int, kind: str | None = None
) -> PostRow:
    """A post the viewer may read: a hidden one only for its author and the brand's agents
    (anyone else gets the same "not found" as for a post that does not exist)."""
    post = get_post(session, ctx, post_id, kind)
    if not _may_read(ctx, post):
        return get_post(session, ctx, -1, kind)
    if post.kind == "answer" and post.question_id:
        # An answer is read on its question's page: a hidden question hides its answers too.
        question = session.get(PostRow, post.question_id)
        if question is not None and not _may_read(ctx, question):
            return get_post(session, ctx, -1, kind)
        # Held for the request: the session's identity map is weak, and the use case that
        # follows (a vote's notice, an accept) would otherwise load the question again.
        session.info.setdefault("held", []).append(question)
    return post


def readable_or_none(session: Session, ctx: BrandContext, post_id: int | None) -> PostRow | None:
    """The post if the viewer may read it, else None (a link not to show)."""
    if post_id is None:
        return None
    try:
        return readable_post(session, ctx, post_id)
    except AppError:
        return None


def question_of_ticket(session: Session, ctx: BrandContext, ticket: Any) -> PostRow | None:
    """The community question this ticket was escalated from (``tickets.question_id``,
    read within the brand), if the viewer may read it."""
    if ticket.question_id is None:
        return None
    question = session.scalar(
        ctx.scoped(PostRow).where(PostRow.id == ticket.question_id, PostRow.kind == "question")
    )
    return question if question is not None and _may_read(ctx, question) else None


def may_see_ticket_of(ctx: BrandContext, question: PostRow) -> bool:
    """Whether this viewer may see the ticket the question became (its id, its link, where
    it stands): the ticket's customer — the asker — and the brand's staff (agents, brand
    admins, platform administrators), as the ticket itself is shown. A ticket is a private
    inquiry: everyone else only learns that the question was handed on."""
    if not question.ticket_id or ctx.user is None:
        return False
    return ctx.user.id == question.author_id or ctx.can("ticket.staff")


def solved_cases(session: Session, ctx: BrandContext, question: PostRow) -> int:
    """How many tickets their customers closed saying this question solved them, each ticket
    once (one ticket_deflections row per deflected ticket), counted by the database."""
    from crowdcx.tickets.models import TicketDeflectionRow  # community builds on tickets

    stmt = ctx.scoped(TicketDeflectionRow, select(func.count())).where(
        TicketDeflectionRow.kind == "question", TicketDeflectionRow.ref_id == question.id
    )
    return int(session.scalar(stmt) or 0)


def _may_read(ctx: BrandContext, post: PostRow) -> bool:
    return (
        not post.hidden or is_agent(ctx) or (ctx.user is not None and ctx.user.id == post.author_id)
    )


# Statements every post, vote and accept runs: built once (building a statement and its
# cache key costs more than running it on SQLite).
@cache
def _community_by(by_id: bool) -> Any:
    return select(CommunityRow).where(
        CommunityRow.brand_id == bindparam("brand"),
        (CommunityRow.id if by_id else CommunityRow.slug) == bindparam("key"),
    )


@cache
def _accepted_ids() -> Any:
    return select(PostRow.id).where(
        PostRow.question_id == bindparam("question"), PostRow.accepted.is_(True)
    )


@cache
def _membership() -> Any:
    return select(CommunityMemberRow).where(
        CommunityMemberRow.community_id == bindparam("community"),
        CommunityMemberRow.user_id == bindparam("user"),
    )


@cache
def _posts_since() -> Any:
    return select(func.count(PostRow.id)).where(
        PostRow.brand_id == bindparam("brand"),
        PostRow.author_id == bindparam("user"),
        PostRow.created_at >= bindparam("since"),
    )


@cache
def _vote_of() -> Any:
    return select(VoteRow).where(
        VoteRow.post_id == bindparam("post"), VoteRow.voter_id == bindparam("user")
    )


def _question_state(
    session: Session, q: PostRow, answers: Sequence[PostRow] | None = None
) -> rules.QuestionState:
    """The question as the rules see it; ``answers``: all of its answers, when the caller has
    them loaded already (the accepted ones are read from them instead of another query)."""
    if answers is None:
        accepted: Sequence[int] = session.scalars(_accepted_ids(), {"question": q.id}).all()
    else:
        accepted = [a.id for a in answers if a.accepted]
    return rules.QuestionState(
        id=q.id, brand_id=q.brand_id, asker_id=q.author_id, created_at=q.created_at,
        community_id=q.community_id, closed=q.closed, duplicate_of=q.duplicate_of,
        accepted_answer_ids=frozenset(accepted), escalated=q.ticket_id is not None,
        hidden=q.hidden,
    )  # fmt: skip


def _answer_state(a: PostRow) -> rules.AnswerState:
    return rules.AnswerState(
        id=a.id, question_id=a.question_id or 0, author_id=a.author_id, created_at=a.created_at,
        up=a.up, down=a.down, accepted=a.accepted, brand_approved=a.brand_approved,
        hidden=a.hidden,
    )  # fmt: skip


def _posting_checks(
    uow: UnitOfWork, ctx: BrandContext, community: CommunityRow, body: str, now: datetime,
    question: rules.QuestionState | None = None,
) -> None:  # fmt: skip
    user = require_user(ctx)
    member = uow.session.scalar(_membership(), {"community": community.id, "user": user.id})
    reputation = points.reputation_of(uow.session, ctx, user.id)
    joined = member.joined_at if member else user.created_at
    new_member = rules.is_new_member(reputation, joined, now, policy(ctx))
    pol = policy(ctx)
    recent = uow.session.scalar(
        _posts_since(), {"brand": ctx.brand.id, "user": user.id, "since": now - pol.post_window}
    )
    _raise_first(
        rules.post_problems(
            community=rules.CommunityState(community.id, ctx.brand.id, community.closed),
            membership=rules.MembershipState(
                member is not None and member.status == "member",
                bool(member and member.onboarding_done),
            ),
            body=body,
            new_member=new_member and not is_agent(ctx),
            posts_in_window=int(recent or 0),
            policy=pol,
            question=question,
        )
    )


def ask(
    uow: UnitOfWork, ctx: BrandContext, community: CommunityRow, title: str, body: str,
    language: str | None, tags: Sequence[str], now: datetime,
) -> PostRow:  # fmt: skip
    user = require_user(ctx)
    if not (ctx.can("question.ask") or ctx.can("question.answer")):
        raise forbidden(_("Join the brand as a customer to ask the community."), "role_required")
    title, body = one_line_break(title).strip(), one_line_break(body)
    if not title:
        raise invalid("title", _("Say in a few words what the problem is."), "required")
    if len(title) > MAX_TITLE:
        raise invalid(
            "title", _("Keep the title under %(n)s characters.") % {"n": MAX_TITLE}, "too_long"
        )
    if language and language not in LOCALES:
        choices = {"choices": ", ".join(LOCALES)}
        raise invalid(
            "language", _("Unknown language; choose from: %(choices)s.") % choices, "locale_unknown"
        )
    _raise_first(rules.tag_problems(tags))
    _posting_checks(uow, ctx, community, body, now)
    clean_tags = sorted({_tag(t) for t in tags if t.strip()})
    post = PostRow(
        brand_id=ctx.brand.id, kind="question", community_id=community.id, author_id=user.id,
        title=title, body=body.strip(), body_html=render(body.strip()),
        language=language or detect_language(f"{title}\n{body}"), tags=clean_tags,
        created_at=now, updated_at=now,
    )  # fmt: skip
    uow.session.add(post)
    uow.session.flush()
    tag_rows = [{"brand_id": ctx.brand.id, "post_id": post.id, "tag": t} for t in clean_tags]
    append_rows(uow.session, PostTagRow, tag_rows)
    activity.move(uow.session, ctx.brand.id, user.id, questions=1)
    engagement.on_question(uow, ctx, post, now)
    return post


def answer(
    uow: UnitOfWork, ctx: BrandContext, question: PostRow, body: str, now: datetime
) -> PostRow:
    user = require_user(ctx)
    if not (ctx.can("question.answer") or ctx.can("question.ask")):
        raise forbidden(_("Join the brand to answer questions."), "role_required")
    body = one_line_break(body)
    community = uow.session.get(CommunityRow, question.community_id)
    assert community is not None
    _posting_checks(uow, ctx, community, body, now, _question_state(uow.session, question))
    post = PostRow(
        brand_id=ctx.brand.id, kind="answer", community_id=question.community_id,
        question_id=question.id, author_id=user.id, body=body.strip(),
        body_html=render(body.strip()), language=detect_language(body), tags=[],
        created_at=now, updated_at=now,
    )  # fmt: skip
    uow.session.add(post)
    question.updated_at = now
    uow.session.flush()
    update_row(uow.session, question, add={"answers": 1})
    activity.move(uow.session, ctx.brand.id, user.id, answers=1)
    engagement.on_answer(uow, ctx, question, post, now)
    if question.ticket_id and user.id != question.author_id and not post.hidden:
        # The escalated case got a response from the community: its first-response target
        # is met (routing's response-time statistics keep reading the expert's own reply).
        from crowdcx.tickets import service as tickets  # community builds on tickets

        tickets.note_community_response(uow.session, ctx, question.ticket_id, question.id, now)
    return post


def ordered_answers(session: Session, ctx: BrandContext, question: PostRow) -> list[PostRow]:
    rows = {a.id: a for a in _answers_of(session, ctx, question)}
    order = rules.order_answers(_answer_state(a) for a in rows.values())
    # A hidden answer stays in view for agents and for its author (who is told why it was
    # hidden and may appeal); everyone else does not see it.
    return [rows[a.id] for a in order if _may_read(ctx, rows[a.id])]


def list_questions(
    session: Session, ctx: BrandContext, *, community: CommunityRow | None, tag: str | None,
    sort: str, limit: int, after: int | None, after_score: int | None = None,
) -> list[PostRow]:  # fmt: skip
    stmt = questions_query(
        ctx.brand.id, community_id=community.id if community else None, tag=tag, sort=sort,
        after=after, after_score=after_score,
    )  # fmt: skip
    return list(session.scalars(stmt.limit(limit)))


def question_cursor(last: PostRow, sort: str) -> str:
    """The cursor of the page after ``last`` in a list in ``sort`` order: by score, the
    score and the id (ties go on by id); otherwise the id."""
    return encode_cursor(last.id, last.up - last.down if sort == "votes" else None)


def decode_question_cursor(cursor: str | None, sort: str) -> tuple[int | None, int | None]:
    """(after id, after score) from a question list's cursor (422 for one this list did not
    give out); by score the cursor holds both."""
    if sort == "votes":
        scored = decode_scored_cursor(cursor)
        return (scored[1], scored[0]) if scored else (None, None)
    return decode_cursor(cursor), None


def questions_query(
    brand_id: int, *, community_id: int | None = None, tag: str | None = None,
    sort: str = "new", after: int | None = None, language: str | None = None,
    after_score: int | None = None,
) -> Select[PostRow]:  # fmt: skip
    """A brand's visible questions in a list's order: newest first (``after`` = the cursor),
    by score ("votes"; the cursor is ``after_score`` and ``after``, the last row's score and
    id), or "popular" (score + answers, in one ``language``); each order reads an index of
    community_posts (tests/community/test_query_plans.py)."""
    # hidden = false, not IS false: PostgreSQL uses an index only for the former.
    stmt = select(PostRow).where(
        PostRow.brand_id == brand_id, PostRow.kind == "question", PostRow.hidden == false()
    )
    if community_id is not None:
        stmt = stmt.where(PostRow.community_id == community_id)
    if language is not None:
        stmt = stmt.where(PostRow.language == language)
    if sort == "unanswered":
        stmt = stmt.where(PostRow.answers == 0)
    elif sort == "unsolved":
        stmt = stmt.where(PostRow.solved.is_(False))
    if tag:
        stmt = stmt.where(PostRow.id.in_(_tagged(brand_id, tag)))
    score = PostRow.up - PostRow.down
    if sort == "votes" and after is not None and after_score is not None:
        stmt = stmt.where(or_(score < after_score, and_(score == after_score, PostRow.id < after)))
    elif after is not None and sort != "votes":
        stmt = stmt.where(PostRow.id < after)
    # The ORDER BY expressions are those of the ix_community_posts_score / _popular indexes.
    if sort == "votes":
        return stmt.order_by((PostRow.up - PostRow.down).desc(), PostRow.id.desc())
    if sort == "popular":
        return stmt.order_by(
            (PostRow.up - PostRow.down + PostRow.answers).desc(), PostRow.id.desc()
        )
    return stmt.order_by(PostRow.id.desc())


def _tag(text: str) -> str:
    """A tag as stored and looked up: trimmed, case-folded, at most 40 characters."""
    return text.strip().casefold()[:40]


def _tagged(brand_id: int, tag: str) -> Any:
    """The ids of the brand's questions tagged ``tag`` (a subquery on the tag index)."""
    return select(PostTagRow.post_id).where(
        PostTagRow.brand_id == brand_id, PostTagRow.tag == _tag(tag)
    )


# --- votes, accepts, approval -------------------------------------------------------------


def vote(uow: UnitOfWork, ctx: BrandContext, post: PostRow, value: int, now: datetime) -> PostRow:
    user = require_user(ctx)
    current = uow.session.scalar(_vote_of(), {"post": post.id, "user": user.id})
    held = current.value if current else 0
    old_entries = (
        points.entries_by_key_prefix(uow.session, ctx, current.key + ":") if current else []
    )
    key = f"vote:{post.id}:{user.id}:{int(now.timestamp() * 1000)}"
    standing, today = points.standing_and_history_today(
        uow.session, ctx, user.id, [post.author_id, user.id], now
    )
    privileges = rep.privileges_for(standing, points.POLICY)
    if is_agent(ctx):
        privileges = privileges | {"upvote", "downvote"}
    decision = rules.decide_vote(
        voter_id=user.id,
        post=rules.PostRef(post.id, post.kind, ctx.brand.id, post.author_id),  # type: ignore[arg-type]
        current=held,
        current_entries=old_entries,
        new=value,
        voter_privileges=privileges,
        now=now,
        key=key,
        policy=points.POLICY,
        history_today=today,
    )
    _raise_first(decision.violations)
    # The upvote notice and the search document name the question: load it before the first
    # write (on SQLite every writer waits while this transaction holds the lock), and keep a
    # reference, or the session's weak identity map may let it go and load it again later.
    question = uow.session.get(PostRow, post.question_id) if post.question_id else post
    rises = points.write(uow, ctx, decision.entries)
    up, down = rules.vote_tally(0, 0, held, value)
    helped_more = False
    if up or down:
        # Added by the database, not written back from what this request read: concurrent
        # votes on one post would otherwise overwrite each other's counts.
        after = update_row(uow.session, post, add={"up": up, "down": down},
                           read=("accepted", "brand_approved"))  # fmt: skip
        assert after is not None
        activity.move(uow.session, ctx.brand.id, post.author_id, upvotes_received=up)
        if post.kind == "answer":
            was = rules.answer_helps(post.accepted, post.brand_approved, post.up - up)
            is_ = rules.answer_helps(post.accepted, post.brand_approved, post.up)
            helped = rules.helped_change(was, is_)
            helped_more = helped > 0
            activity.move_language(uow.session, ctx.brand.id, post.author_id, post.language,
                                   helped)  # fmt: skip
    if current is None:  # a plain INSERT: nothing reads the new vote back as an object
        append_rows(uow.session, VoteRow, [
            {"brand_id": ctx.brand.id, "post_id": post.id, "voter_id": user.id, "value": value,
             "key": key, "updated_at": now},
        ])  # fmt: skip
    elif value == 0:
        uow.session.delete(current)
    else:
        current.value, current.key, current.updated_at = value, key, now
    uow.session.flush()
    if post.kind == "question" or post.accepted or post.brand_approved:
        # The search document of a solved question carries its votes and its best answer's;
        # a vote on any other answer changes nothing there.
        _sync_question(uow.session, ctx, post, now)
    if value != held:
        engagement.on_vote(uow, ctx, post, rises.get(post.author_id), value, now,
                           upvoted=up > 0, helped_more=helped_more)  # fmt: skip
    del question
    return post


def accept(
    uow: UnitOfWork, ctx: BrandContext, question: PostRow, answer_id: int, now: datetime
) -> PostRow:
    user = require_user(ctx)
    # The question's answers once: the target is usually among them, and the accepted ones.
    answers = _answers_of(uow.session, ctx, question)
    target = next((a for a in answers if a.id == answer_id), None) or get_post(
        uow.session, ctx, answer_id, "answer"
    )
    state = _question_state(uow.session, question, answers)
    previous = {
        aid: points.entries_by_key_prefix(uow.session, ctx, f"accept:{aid}:")
        for aid in state.accepted_answer_ids
    }
    decision = rules.decide_accept(
        actor_id=user.id,
        actor_is_agent=is_agent(ctx),
        question=state,
        answer=_answer_state(target),
        now=now,
        key=f"accept:{target.id}:{int(now.timestamp() * 1000)}",
        policy=policy(ctx),
        reputation=points.POLICY,
        previous_accept_entries=previous,
        history_today=points.history_today(uow.session, ctx, [target.author_id, user.id], now),
    )
    _raise_first(decision.violations)
    # The question's search document as it will be, built and analysed before the first
    # write: on SQLite every other writer waits while this transaction holds the lock.
    unaccepted = set(decision.unaccepted_ids)
    doc = _question_document(
        ctx, question,
        [
            (a, replace(_answer_state(a),
                        accepted=a.id == target.id or (a.accepted and a.id not in unaccepted)))
            for a in answers
        ],
        now,
    )  # fmt: skip
    if doc is not None:
        search.prepare(doc)
    rises = points.write(uow, ctx, decision.entries)
    for a in answers:
        if a.id in unaccepted:
            _set_answer_flag(uow.session, ctx, a, "accepted", False)
    counted, helped = _set_answer_flag(uow.session, ctx, target, "accepted", True)
    question.solved = True
    question.updated_at = now
    uow.session.flush()
    _index_question(uow.session, ctx, question, doc)
    engagement.on_accept(uow, ctx, question, target, rises.get(target.author_id), now,
                         counted=counted, helped_more=helped > 0)  # fmt: skip
    return target


def _set_answer_flag(
    session: Session, ctx: BrandContext, answer: PostRow, flag: str, value: bool
) -> tuple[bool, int]:
    """Set ``accepted`` or ``brand_approved`` in the database only where it differs, and move
    the author's counters by what actually changed (a concurrent request may have set it).
    Returns whether the flag changed here and how the author's helped answers in the answer's
    language moved (what the badge check after the event needs to read)."""
    other = "brand_approved" if flag == "accepted" else "accepted"
    after = update_row(session, answer, put={flag: value}, read=("up", other))
    if after is None:
        return False, 0
    counter = "accepted_answers" if flag == "accepted" else "brand_approved_answers"
    activity.move(session, ctx.brand.id, answer.author_id, **{counter: 1 if value else -1})
    was = rules.answer_helps(**{flag: not value, other: after[other]}, up=after["up"])
    is_ = rules.answer_helps(**{flag: value, other: after[other]}, up=after["up"])
    helped = rules.helped_change(was, is_)
    activity.move_language(session, ctx.brand.id, answer.author_id, answer.language, helped)
    return True, helped


def approve(uow: UnitOfWork, ctx: BrandContext, target: PostRow, now: datetime) -> PostRow:
    require_user(ctx)
    _raise_first(rules.approve_problems(ctx.can("answer.approve"), _answer_state(target)))
    _set_answer_flag(uow.session, ctx, target, "brand_approved", True)
    target.updated_at = now
    uow.session.flush()
    _sync_question(uow.session, ctx, target, now)
    engagement.on_approve(uow, ctx, target, now)
    return target


def close(
    uow: UnitOfWork, ctx: BrandContext, question: PostRow, duplicate_of: int | None,
    now: datetime,
) -> PostRow:  # fmt: skip
    """Close a question, optionally as a duplicate of another (chains collapse to the
    original). Needs the ``close`` privilege (3,000) or an agent."""
    user = require_user(ctx)
    target = readable_post(uow.session, ctx, duplicate_of, "question") if duplicate_of else None
    decision = rules.decide_close(
        question=_question_state(uow.session, question),
        actor_privileges=points.privileges_of(uow.session, ctx, user.id),
        actor_is_agent=is_agent(ctx),
        duplicate_of=_question_state(uow.session, target) if target is not None else None,
        chain=_duplicate_chain(uow.session, ctx, target) if target is not None else (),
    )
    _raise_first(decision.violations)
    question.closed = True
    question.duplicate_of = decision.duplicate_of
    question.updated_at = now
    uow.session.flush()
    return question


def reopen(uow: UnitOfWork, ctx: BrandContext, question: PostRow, now: datetime) -> PostRow:
    """Reopen a closed question, dropping its duplicate link. Who may close may reopen."""
    user = require_user(ctx)
    _raise_first(rules.reopen_problems(
        question=_question_state(uow.session, question),
        actor_privileges=points.privileges_of(uow.session, ctx, user.id),
        actor_is_agent=is_agent(ctx),
    ))  # fmt: skip
    question.closed = False
    question.duplicate_of = None
    question.updated_at = now
    uow.session.flush()
    return question


MAX_DUPLICATE_CHAIN = 100


def _duplicate_chain(
    session: Session, ctx: BrandContext, target: PostRow
) -> list[rules.QuestionState]:
    """The questions ``target``'s duplicate links lead to, in order, as the close rules see
    them: up to the original, a question already met (a loop made before loops were
    refused), a link out of the brand or a missing question."""
    chain: list[rules.QuestionState] = []
    seen = {target.id}
    next_id = target.duplicate_of
    while next_id is not None and len(chain) < MAX_DUPLICATE_CHAIN:
        row = session.get(PostRow, next_id)
        if row is None or row.brand_id != ctx.brand.id or row.kind != "question":
            break
        chain.append(_question_state(session, row))
        if row.id in seen:
            break
        seen.add(row.id)
        next_id = row.duplicate_of
    return chain


def edit(
    uow: UnitOfWork, ctx: BrandContext, post: PostRow, title: str | None, body: str, note: str,
    now: datetime,
) -> PostRow:  # fmt: skip
    """Edit a post, keeping what it said before in its history. Authors edit their own;
    others need ``edit_others`` (2,000) or to be an agent."""
    user = require_user(ctx)
    check_may_edit(uow.session, ctx, post)
    body = one_line_break(body)
    new_title = one_line_break(title if title is not None else post.title).strip()
    if post.kind == "question" and not new_title:
        raise invalid("title", _("Say in a few words what the problem is."), "required")
    if len(new_title) > MAX_TITLE:
        raise invalid(
            "title", _("Keep the title under %(n)s characters.") % {"n": MAX_TITLE}, "too_long"
        )
    kind: rules.PostKind = "answer" if post.kind == "answer" else "question"
    _raise_first(rules.body_problems(body, False, policy(ctx), kind)
                 if kind == "answer" or body else [])  # fmt: skip
    if new_title == post.title and body.strip() == post.body:
        return post  # nothing changed: no revision
    uow.session.add(
        PostRevisionRow(brand_id=ctx.brand.id, post_id=post.id, editor_id=user.id,
                        title=post.title, body=post.body, note=note.strip()[:200],
                        created_at=now)
    )  # fmt: skip
    post.title = new_title if post.kind == "question" else ""
    post.body = body.strip()
    post.body_html = render(post.body)
    post.updated_at = now
    uow.session.flush()
    _sync_question(uow.session, ctx, post, now)
    return post


def _check_member(session: Session, ctx: BrandContext, community_id: int) -> None:
    """In a closed community only its members (admitted, onboarding done) write — comments and
    edits as questions and answers; the brand's staff moderate there without joining."""
    user = require_user(ctx)
    if is_agent(ctx):
        return
    community = session.get(CommunityRow, community_id)
    if community is None or not community.closed:
        return
    member = session.scalar(_membership(), {"community": community.id, "user": user.id})
    _raise_first(
        rules.membership_problems(
            rules.CommunityState(community.id, ctx.brand.id, community.closed),
            rules.MembershipState(member is not None and member.status == "member",
                                  bool(member and member.onboarding_done)),
        )
    )  # fmt: skip


def check_may_edit(session: Session, ctx: BrandContext, post: PostRow) -> None:
    """Refuse (403 with the privilege, or the membership of a closed community) a person who
    may not edit ``post``."""
    user = require_user(ctx)
    _raise_first(
        rules.edit_problems(user.id, post.author_id,
                            points.privileges_of(session, ctx, user.id), is_agent(ctx))
    )  # fmt: skip
    _check_member(session, ctx, post.community_id)


def revisions(session: Session, ctx: BrandContext, post: PostRow) -> list[PostRevisionRow]:
    return list(
        session.scalars(
            ctx.scoped(PostRevisionRow)
            .where(PostRevisionRow.post_id == post.id)
            .order_by(PostRevisionRow.id.desc())
        )
    )


def comment(
    uow: UnitOfWork, ctx: BrandContext, post: PostRow, body: str, now: datetime
) -> CommentRow:
    user = require_user(ctx)
    question = (
        post if post.kind == "question" else get_post(uow.session, ctx, post.question_id or 0)
    )
    _check_member(uow.session, ctx, post.community_id)
    if question.closed and not is_agent(ctx):
        raise AppError(
            409, "question_closed", _("This question is closed; it takes no new answers.")
        )
    body = one_line_break(body)
    _raise_first(
        rules.comment_problems(
            actor_id=user.id, post_author_id=post.author_id, asker_id=question.author_id,
            actor_privileges=points.privileges_of(uow.session, ctx, user.id),
            actor_is_agent=is_agent(ctx), body=body,
        )
    )  # fmt: skip
    row = CommentRow(brand_id=ctx.brand.id, post_id=post.id, author_id=user.id,
                     body=body.strip(), body_html=render(body.strip()), created_at=now)  # fmt: skip
    uow.session.add(row)
    uow.session.flush()
    return row


def comments_for(
    session: Session, ctx: BrandContext, post_ids: Sequence[int]
) -> dict[int, list[CommentRow]]:
    """The comments the viewer may read, per post: hidden ones only for their author (who sees
    them marked hidden); reviewers find the others in the review queue."""
    out: dict[int, list[CommentRow]] = {}
    if not post_ids:
        return out
    shown: ColumnElement[bool] = CommentRow.hidden.is_(False)
    if ctx.user is not None:
        shown = shown | (CommentRow.author_id == ctx.user.id)
    for c in session.scalars(
        ctx.scoped(CommentRow)
        .where(CommentRow.post_id.in_(list(post_ids)), shown)
        .order_by(CommentRow.id)
    ):
        out.setdefault(c.post_id, []).append(c)
    return out


def _no_such_comment() -> AppError:
    return not_found(_("There is no such comment in this brand."), "comment_not_found")


def get_comment(session: Session, ctx: BrandContext, comment_id: int) -> CommentRow:
    row = session.get(CommentRow, comment_id)
    if row is None or row.brand_id != ctx.brand.id:
        raise _no_such_comment()
    return row


def readable_comment(session: Session, ctx: BrandContext, comment_id: int) -> CommentRow:
    """A comment the viewer may see: on a post they may read (not an answer under a hidden
    question either), and when hidden only by its author (anyone else gets the same "not
    found" as for a comment that does not exist)."""
    row = get_comment(session, ctx, comment_id)
    viewer = ctx.user.id if ctx.user is not None else None
    try:  # the post as readable_post judges it: an answer under a hidden question is hidden too
        readable_post(session, ctx, row.post_id)
    except AppError:
        raise _no_such_comment() from None
    if row.hidden and viewer != row.author_id:
        raise _no_such_comment()
    return row


def appealed_comments(session: Session, ctx: BrandContext, comment_ids: Iterable[int]) -> set[int]:
    """Which of these hidden comments wait on their author's appeal (their last moderation
    step is the appeal)."""
    ids = list(comment_ids)
    if not ids:
        return set()
    last: dict[int, str] = {}
    for cid, action in session.execute(
        ctx.scoped(ModerationRow, select(ModerationRow.comment_id, ModerationRow.action))
        .where(ModerationRow.comment_id.in_(ids))
        .order_by(ModerationRow.created_at, ModerationRow.id)
    ):
        last[int(cid)] = action
    return {cid for cid, action in last.items() if action == "appeal"}


def comment_hide_reasons(
    session: Session, ctx: BrandContext, comments: Iterable[CommentRow]
) -> dict[int, str]:
    """Why each hidden comment among ``comments`` is hidden, in the reader's language (for its
    author): the trusted flags and their main reason, or the moderator and their note."""
    hidden = {c.id: c for c in comments if c.hidden}
    if not hidden:
        return {}
    last: dict[int, ModerationRow] = {}
    for m in session.scalars(
        ctx.scoped(ModerationRow)
        .where(ModerationRow.comment_id.in_(list(hidden)), ModerationRow.action == "hide")
        .order_by(ModerationRow.created_at, ModerationRow.id)
    ):
        last[m.comment_id or 0] = m
    flags: dict[int, list[CommentFlagRow]] = {}
    for f in session.scalars(
        ctx.scoped(CommentFlagRow).where(CommentFlagRow.comment_id.in_(list(hidden)))
    ):
        flags.setdefault(f.comment_id, []).append(f)
    out: dict[int, str] = {}
    for cid, c in hidden.items():
        m = last.get(cid)
        if m is not None and not m.automatic:
            out[cid] = (
                _("Hidden by a moderator: %(note)s") % {"note": m.message}
                if m.message
                else _("Hidden by a moderator.")
            )
            continue
        trusted = rules.trusted_flaggers(_flag_records(flags.get(cid, [])), c.author_id,
                                         policy(ctx))  # fmt: skip
        reason = rules.top_flag_reason(trusted) or "other"
        out[cid] = _(
            "Hidden automatically because %(flags)s trusted members flagged it (%(reason)s)."
        ) % {"flags": len(trusted), "reason": notes.flag_reason_label(reason)}
    return out


def _flag_records(rows: Iterable[FlagRow | CommentFlagRow]) -> list[rules.FlagRecord]:
    return [
        rules.FlagRecord(f.flagger_id, f.reason, f.created_at,  # type: ignore[arg-type]
                         frozenset({"trusted_flagger"}) if f.trusted else frozenset())
        for f in rows
    ]  # fmt: skip


def _decided_at(session: Session, *where: Any) -> datetime | None:
    """When a moderator last decided on the post or comment (restored it, kept it hidden or
    dismissed its flags): flags from before that were already judged."""
    return session.scalar(
        select(func.max(ModerationRow.created_at)).where(
            *where, ModerationRow.action.in_(("restore", "uphold", "dismiss"))
        )
    )


def _after(flags: list[rules.FlagRecord], since: datetime | None) -> list[rules.FlagRecord]:
    return flags if since is None else [f for f in flags if f.at > since]


def _new_flag_record(
    ctx: BrandContext, user_id: int, reason: str, now: datetime, trusted: bool
) -> rules.FlagRecord:
    return rules.FlagRecord(
        user_id, reason, now,  # type: ignore[arg-type]
        frozenset({"trusted_flagger"}) if trusted else frozenset(), is_agent(ctx),
    )  # fmt: skip


def _check_flag_reason(reason: str) -> None:
    if reason not in FLAG_REASONS:
        raise invalid("reason", _("Use one of: %(s)s.") % {"s": ", ".join(FLAG_REASONS)})


def flag(
    uow: UnitOfWork, ctx: BrandContext, post: PostRow, reason: str, now: datetime
) -> dict[str, Any]:
    user = require_user(ctx)
    _check_flag_reason(reason)
    privileges = points.privileges_of(uow.session, ctx, user.id)
    existing = _flag_records(uow.session.scalars(select(FlagRow).where(FlagRow.post_id == post.id)))
    ref = rules.PostRef(post.id, post.kind, ctx.brand.id, post.author_id)  # type: ignore[arg-type]
    _raise_first(rules.flag_problems(user.id, ref, privileges, existing, is_agent(ctx)))
    trusted = is_agent(ctx) or "trusted_flagger" in privileges
    uow.session.add(
        FlagRow(brand_id=ctx.brand.id, post_id=post.id, flagger_id=user.id, reason=reason,
                trusted=trusted, created_at=now)
    )  # fmt: skip
    record = _new_flag_record(ctx, user.id, reason, now, trusted)
    since = _decided_at(uow.session, ModerationRow.post_id == post.id,
                        ModerationRow.comment_id.is_(None))  # fmt: skip
    action = rules.auto_moderation(
        post_id=post.id, author_id=post.author_id, flags=[*_after(existing, since), record],
        already_hidden=post.hidden, now=now, policy=policy(ctx),
        brand_approved=post.brand_approved,
    )  # fmt: skip
    if action is not None:
        post.hidden = True
        take_back_points(uow, ctx, post, now)
        hide = ModerationRow(
            brand_id=ctx.brand.id, post_id=post.id, action=action.kind,
            reason_code=action.reason_code, message=action.message, automatic=True,
            created_at=now,
        )  # fmt: skip
        uow.session.add(hide)
        uow.session.flush()
        engagement.on_hidden(uow, ctx, post, hide, dict(action.params), now)
        if post.kind == "question":
            search.remove(uow.session, ctx.brand.id, "question", str(post.id))
        else:  # the question may have been searchable through this answer
            _sync_question(uow.session, ctx, post, now)
    uow.session.flush()
    return {"hidden": post.hidden, "flags": len(_after(existing, since)) + 1}


def _earnings(session: Session, ctx: BrandContext, post: PostRow) -> list[rep.PointsEntry]:
    """The ledger entries of a post's votes and (an answer's) accepts, by their key ranges."""
    prefixes = [f"vote:{post.id}:"] + ([f"accept:{post.id}:"] if post.kind == "answer" else [])
    return [e for p in prefixes for e in points.entries_by_key_prefix(session, ctx, p)]


def take_back_points(uow: UnitOfWork, ctx: BrandContext, post: PostRow, now: datetime) -> None:
    """A post moderation hides stops earning its author points: what it earned is reversed
    (rules.points_to_take_back) and comes back if the post is restored."""
    entries = _earnings(uow.session, ctx, post)
    points.write(uow, ctx, rules.points_to_take_back(entries, post.author_id, now))


def take_back_from_hidden_posts(
    uow: UnitOfWork, ctx: BrandContext, now: datetime
) -> tuple[int, int]:
    """Take back what hidden posts still earn their authors: posts hidden before hiding took
    points back (2026-12-05) kept them. Appends the reversals :func:`take_back_points`
    writes, never edits an entry; a post whose earnings were taken back already gets
    nothing, so running it again writes nothing. Returns (posts, points taken back)."""
    hidden = list(
        uow.session.scalars(
            ctx.scoped(PostRow, select(PostRow.id))
            .where(PostRow.hidden.is_(True))
            .order_by(PostRow.id)
        )
    )
    posts = taken = 0
    for start in range(0, len(hidden), 500):
        chunk = hidden[start : start + 500]
        for post in uow.session.scalars(select(PostRow).where(PostRow.id.in_(chunk))):
            entries = rules.points_to_take_back(
                _earnings(uow.session, ctx, post), post.author_id, now
            )
            if entries:
                points.write(uow, ctx, entries)
                posts += 1
                taken -= sum(e.points for e in entries)
    return posts, taken


def give_back_points(
    uow: UnitOfWork, ctx: BrandContext, post: PostRow, now: datetime, tag: str
) -> None:
    """A restored post earns again what hiding it took, for the upvotes still cast and the
    accept still held (rules.points_to_give_back); ``tag`` names the restore."""
    entries = _earnings(uow.session, ctx, post)
    standing = set(
        uow.session.scalars(
            select(VoteRow.key).where(VoteRow.post_id == post.id, VoteRow.value > 0)
        )
    )
    if post.kind == "answer" and post.accepted:
        accepts = {
            e.key.rsplit(":", 1)[0]
            for e in entries
            if e.key.startswith("accept:") and e.reverses is None and ":back:" not in e.key
        }
        if accepts:  # the accept that holds is the latest (a hidden answer is not accepted)
            standing.add(max(accepts, key=lambda k: int(k.rsplit(":", 1)[1])))
    points.write(uow, ctx, rules.points_to_give_back(entries, post.author_id, now, standing, tag))


def flag_comment(
    uow: UnitOfWork, ctx: BrandContext, comment: CommentRow, reason: str, now: datetime
) -> dict[str, Any]:
    """Flag a comment: the reasons, privileges and automatic hiding of posts (three trusted
    flaggers by default). A hidden comment leaves the page; its author is told why."""
    user = require_user(ctx)
    _check_flag_reason(reason)
    privileges = points.privileges_of(uow.session, ctx, user.id)
    existing = _flag_records(
        uow.session.scalars(select(CommentFlagRow).where(CommentFlagRow.comment_id == comment.id))
    )
    ref = rules.CommentRef(comment.id, comment.post_id, ctx.brand.id, comment.author_id)
    _raise_first_on_comment(rules.flag_problems(user.id, ref, privileges, existing, is_agent(ctx)))
    trusted = is_agent(ctx) or "trusted_flagger" in privileges
    uow.session.add(
        CommentFlagRow(brand_id=ctx.brand.id, comment_id=comment.id, flagger_id=user.id,
                       reason=reason, trusted=trusted, created_at=now)
    )  # fmt: skip
    record = _new_flag_record(ctx, user.id, reason, now, trusted)
    since = _decided_at(uow.session, ModerationRow.comment_id == comment.id)
    action = rules.auto_moderation(
        post_id=comment.id, author_id=comment.author_id,
        flags=[*_after(existing, since), record], already_hidden=comment.hidden, now=now,
        policy=policy(ctx), target="comment",
    )  # fmt: skip
    if action is not None:
        comment.hidden = True
        hide = ModerationRow(
            brand_id=ctx.brand.id, post_id=comment.post_id, comment_id=comment.id,
            action=action.kind, reason_code=action.reason_code, message=action.message,
            automatic=True, created_at=now,
        )  # fmt: skip
        uow.session.add(hide)
        uow.session.flush()
        engagement.on_comment_hidden(
            uow, ctx, comment, hide, {"automatic": True, **dict(action.params)}, now
        )
    uow.session.flush()
    return {"hidden": comment.hidden, "flags": len(_after(existing, since)) + 1}


def _sync_question(session: Session, ctx: BrandContext, post: PostRow, now: datetime) -> None:
    """Solved (accepted or brand-approved) questions are searchable with their best answer."""
    question = post if post.kind == "question" else session.get(PostRow, post.question_id)
    if question is None:
        return
    rows = _answers_of(session, ctx, question)
    states = [(a, _answer_state(a)) for a in rows]
    doc = _question_document(ctx, question, states, question.updated_at)
    _index_question(session, ctx, question, doc)
    if question.ticket_id and post.kind == "answer":
        # An answer hidden or restored may move the case's first community response.
        from crowdcx.tickets import service as tickets  # community builds on tickets

        at = rules.community_response_at(question.author_id, (s for _a, s in states))
        tickets.set_community_response(session, ctx, question.ticket_id, question.id, at, now)


def _answers_of(session: Session, ctx: BrandContext, question: PostRow) -> list[PostRow]:
    return list(session.scalars(_answers_stmt(), {"brand": ctx.brand.id, "question": question.id}))


@cache
def _answers_stmt() -> Any:
    """A question's answers (every accept and every vote on a solved question reads them):
    built once, as the statements above."""
    return select(PostRow).where(
        PostRow.brand_id == bindparam("brand"),
        PostRow.question_id == bindparam("question"),
        PostRow.kind == "answer",
    )


def _question_document(
    ctx: BrandContext,
    question: PostRow,
    answers: Sequence[tuple[PostRow, rules.AnswerState]],
    updated_at: datetime,
) -> IndexDocument | None:
    """The search document of a question whose answers are in the given states (which may be
    the states a use case is about to write), or None when it is not searchable: unsolved or
    hidden. Hidden answers never stand for the question, whoever's action re-syncs it."""
    if question.hidden:
        return None
    rows = {a.id: a for a, _state in answers}
    best = next(
        (
            st
            for st in rules.order_answers(st for _a, st in answers)
            if (st.accepted or st.brand_approved) and not st.hidden
        ),
        None,
    )
    if best is None:
        return None
    return search.document(
        ctx.brand.id, "question", question.id, language=question.language,
        visibility="public", title=question.title,
        markdown=f"{question.body}\n\n{rows[best.id].body}", updated_at=updated_at,
        helpful=question.up + best.up, unhelpful=question.down + best.down,
        accepted=best.accepted, brand_approved=best.brand_approved,
    )  # fmt: skip


def _index_question(
    session: Session, ctx: BrandContext, question: PostRow, doc: IndexDocument | None
) -> None:
    if doc is None:
        search.remove(session, ctx.brand.id, "question", str(question.id))
    else:
        search.upsert(session, doc)


# --- reputation, leaderboards, rewards ----------------------------------------------------


def leaderboard(
    session: Session, ctx: BrandContext, period: str, community: CommunityRow | None,
    tag: str | None, now: datetime, limit: int = 50,
) -> list[rep.LeaderboardRow]:  # fmt: skip
    if period not in ("week", "month", "all"):
        raise invalid("period", _("Use period=week, month or all."), "bad_period")
    if community is None and not tag:  # the brand's board: the running totals, top first
        scope = rep.period_scope(period, now, points.POLICY.cap_timezone)  # type: ignore[arg-type]
        return rep.rank_leaderboard(points.top_totals(session, ctx, scope, limit), limit)
    since = rep.period_start(period, now)  # type: ignore[arg-type]
    posts: Select[Any] | CompoundSelect[Any]
    if tag:  # the tagged questions (of the community) and their answers, each by an index
        questions = _tagged(ctx.brand.id, tag)
        if community is not None:
            questions = select(PostRow.id).where(
                PostRow.id.in_(questions), PostRow.community_id == community.id
            )
        posts = union_all(questions, select(PostRow.id).where(PostRow.question_id.in_(questions)))
    else:
        assert community is not None
        posts = select(PostRow.id).where(
            PostRow.brand_id == ctx.brand.id, PostRow.community_id == community.id
        )
    totals = points.period_totals(session, ctx, since, posts)
    return rep.rank_leaderboard(totals, limit)


def require_person_in_brand(session: Session, ctx: BrandContext, user_id: int) -> None:
    """A person's profile exists in a brand for its members and for the authors of its
    visible posts (whose names those posts show anyway); for anyone else it is the same 404
    as for nobody, so a profile does not tell who has an account elsewhere."""
    member = session.scalar(
        select(Membership.id).where(Membership.brand_id == ctx.brand.id,
                                    Membership.user_id == user_id)
    )  # fmt: skip
    if member is None and (
        session.scalar(
            ctx.scoped(PostRow, select(PostRow.id))
            .where(PostRow.author_id == user_id, PostRow.hidden == false())
            .limit(1)
        )
        is None
    ):
        raise not_found(_("There is no such person."), "user_not_found")


def reputation_card(session: Session, ctx: BrandContext, user_id: int) -> dict[str, Any]:
    require_person_in_brand(session, ctx, user_id)
    earned = points.reputation_of(session, ctx, user_id)
    standing = points.standing_of(session, ctx, user_id)
    level = rep.raw_level(standing, points.POLICY)  # held: lost only below 90 % of it
    into, to_next = rep.level_progress(earned, level, points.POLICY)
    accepted = session.scalar(
        select(func.count(PostRow.id)).where(
            PostRow.brand_id == ctx.brand.id, PostRow.author_id == user_id,
            PostRow.accepted.is_(True),
        )
    )  # fmt: skip
    answers = session.scalar(
        select(func.count(PostRow.id)).where(
            PostRow.brand_id == ctx.brand.id, PostRow.author_id == user_id, PostRow.kind == "answer"
        )
    )
    badges = list(
        session.scalars(
            ctx.scoped(BadgeGrantRow, select(BadgeGrantRow.code))
            .where(BadgeGrantRow.user_id == user_id)
            .order_by(BadgeGrantRow.granted_at, BadgeGrantRow.id)
        )
    )
    return {
        "user_id": user_id,
        "points": earned,
        "balance": points.balance_of(session, ctx, user_id),
        "level": level,
        "points_to_next_level": to_next,
        "points_into_level": into,
        "privileges": sorted(rep.privileges_for(standing, points.POLICY)),
        "badges": badges,
        "accepted_answers": int(accepted or 0),
        "answers": int(answers or 0),
    }


def redeem(
    uow: UnitOfWork, ctx: BrandContext, amount_points: int, kind: str, now: datetime
) -> RedemptionRow:
    user = require_user(ctx)
    pol = reward_policy(ctx)
    start = rules.redemption_period_start(now, pol)
    row = RedemptionRow(
        brand_id=ctx.brand.id, user_id=user.id, points=amount_points, kind=kind,
        amount_minor=0, currency=pol.currency, created_at=now,
    )  # fmt: skip
    uow.session.add(row)
    # The balance and the period's redemptions are read after this person's redemptions are
    # serialised: the insert takes SQLite's write lock, and PostgreSQL locks their running
    # total. Read before (as it was), twenty concurrent redemptions of 10,000 points passed
    # a 25,000 cap ten times.
    uow.session.flush()
    points.lock_total(uow.session, ctx, user.id)
    redeemed = uow.session.scalar(
        select(func.coalesce(func.sum(RedemptionRow.points), 0)).where(
            RedemptionRow.brand_id == ctx.brand.id, RedemptionRow.user_id == user.id,
            RedemptionRow.created_at >= start, RedemptionRow.id != row.id,
        )
    )  # fmt: skip
    decision = rules.decide_redemption(
        user_id=user.id, brand_id=ctx.brand.id, points=amount_points, kind=kind,
        balance=points.balance_of(uow.session, ctx, user.id), redeemed_in_period=int(redeemed or 0),
        now=now, key=f"redeem:{row.id}", policy=pol, redemption_id=row.id,
    )  # fmt: skip
    if not decision.ok:
        uow.rollback()
        _raise_first(decision.violations)
    assert decision.amount is not None
    row.amount_minor = decision.amount.minor
    points.write(uow, ctx, decision.entries)
    # What the brand now owes, in the money ledger beside experts' earnings.
    ledger.post(
        uow.session, ctx.brand.id,
        pay.post_reward(str(row.id), str(ctx.brand.id), str(user.id), kind, decision.amount, now),
    )  # fmt: skip
    return row


def escalate(uow: UnitOfWork, ctx: BrandContext, question: PostRow, now: datetime) -> int:
    """Turn an unanswered question into a ticket of the inquiry lifecycle, carrying its text."""

    user = require_user(ctx)
    _hold_policy(uow, ctx)
    # Claimed first, as the sweeper claims it: a conditional write that one request wins
    # (two clicks, or a click and the sweeper, made a ticket each). The rules then judge the
    # question as it stands under that claim.
    if not _claim_for_escalation(uow, question.id):
        _raise_first([rep.Violation("already_escalated")])
    uow.session.refresh(question)
    question.ticket_id = None
    _raise_first(
        rules.escalate_problems(
            user.id, is_agent(ctx), _question_state(uow.session, question), now, policy(ctx)
        )
    )
    return _to_ticket(uow, ctx, question, now)


def _hold_policy(uow: UnitOfWork, ctx: BrandContext) -> None:
    """Before an escalation's first write, wait for the brand's ticket policy (shared, as
    every intake does when it writes its ticket): a policy save or skill rename going on
    then is waited for while this transaction holds nothing it could wait for in turn."""
    from crowdcx.tickets import service as tickets

    tickets.hold_policy(uow.session, ctx, exclusive=False)


def _claim_for_escalation(uow: UnitOfWork, question_id: int) -> bool:
    """Mark the question as being escalated (``ticket_id`` 0 until the ticket exists) unless
    someone else did; True when this transaction holds it."""
    claimed = uow.session.execute(
        update(PostRow)
        .where(PostRow.id == question_id, PostRow.ticket_id.is_(None))
        .values(ticket_id=0)
        .execution_options(synchronize_session=False)
    )
    return getattr(claimed, "rowcount", 0) == 1


def ticket_stage(session: Session, ctx: BrandContext, ticket_id: int | None) -> str | None:
    """Where the ticket a question became stands, for the question page: "expert" (routed
    or worked by an expert), "staff" (with the brand's staff) or "done" (resolved, closed,
    or solved by an article). None without a ticket. The page said "An expert is on this
    question" for ever, however the ticket had ended."""
    if not ticket_id:
        return None
    from crowdcx.tickets.models import TicketRow

    status = session.scalar(
        select(TicketRow.status).where(
            TicketRow.brand_id == ctx.brand.id, TicketRow.id == ticket_id
        )
    )
    if status is None:
        return None
    if status in ("resolved", "closed", "deflected"):
        return "done"
    return "staff" if status == "escalated" else "expert"


def _to_ticket(uow: UnitOfWork, ctx: BrandContext, question: PostRow, now: datetime) -> int:
    from crowdcx.tickets import service as tickets

    asker = uow.session.get(User, question.author_id)
    assert asker is not None
    pol, _roster = tickets.load_policy(uow.session, ctx)
    skill = pol.skills[0].name if pol.skills else "general"
    # A question may be longer than a ticket's description: the ticket carries its start and
    # a link to the whole question (refusing it stopped every later auto-escalation).
    link = f"\n\n… /b/{ctx.brand.slug}/community/questions/{question.id}"
    body = question.body or question.title
    if len(body) > tickets.MAX_BODY:
        body = body[: tickets.MAX_BODY - len(link)].rstrip() + link
    row = tickets.create_ticket(
        uow, ctx, asker,
        tickets.Intake(
            question.title[:200], body, skill, question.language, "normal", {},
            opened_at=question.created_at,  # one case, one SLA clock: it began when asked
            question_id=question.id,
            # Answers before the escalation were responses to the case too.
            community_response_at=rules.community_response_at(
                question.author_id,
                (_answer_state(a) for a in _answers_of(uow.session, ctx, question)),
            ),
        ),
        now,
    )  # fmt: skip
    question.ticket_id = row.id
    question.updated_at = now
    uow.session.flush()
    notes.notify(
        uow.session, ctx.brand.id, [question.author_id], "escalated",
        {"title": question.title, "staff": row.status == "escalated"},  # past its target
        f"/b/{ctx.brand.slug}/tickets/{row.id}", now,
    )  # fmt: skip
    return row.id


def auto_escalate(db: Database, now: datetime, batch: int = 100) -> int:
    """The sweeper's part: in brands with ``settings.community.auto_escalate``, questions
    with no accepted answer after the brand's delay become tickets without the asker's click.
    Each question is claimed with a conditional update, so several instances never make two
    tickets of one question. Returns how many were escalated."""
    from crowdcx.tenancy.models import Brand
    from crowdcx.tenancy.service import access_brand

    done = 0
    with db.sessions() as session:
        brands = [
            (b.slug, b.settings) for b in session.scalars(select(Brand))
            if ((b.settings or {}).get("community") or {}).get("auto_escalate")
        ]  # fmt: skip
    for slug, _settings in brands:
        with db.sessions() as session:
            ctx = access_brand(session, slug, None)
            pol = policy(ctx)
            if pol.escalation_delay is None:
                continue
            ids = list(
                session.scalars(
                    ctx.scoped(PostRow, select(PostRow.id))
                    .where(PostRow.kind == "question", PostRow.solved.is_(False),
                           PostRow.ticket_id.is_(None), PostRow.closed.is_(False),
                           PostRow.hidden.is_(False),
                           PostRow.created_at <= now - pol.escalation_delay)
                    .order_by(PostRow.id)
                    .limit(batch)
                )
            )  # fmt: skip
        for qid in ids:
            with db.transaction() as uow:
                ctx = access_brand(uow.session, slug, None)
                _hold_policy(uow, ctx)
                if not _claim_for_escalation(uow, qid):
                    continue
                question = uow.session.get(PostRow, qid)
                assert question is not None
                uow.session.refresh(question)
                question.ticket_id = None
                status = rules.escalation_status(_question_state(uow.session, question), now, pol)
                if not (status.eligible and status.automatic):
                    uow.rollback()
                    continue
                try:
                    _to_ticket(uow, ctx, question, now)
                except AppError as error:  # one question must not stop the others
                    log.warning("auto-escalation of question %s refused: %s", qid, error.detail)
                    uow.rollback()
                    continue
                done += 1
    return done
