"""Tables of the community lane: communities, members, posts (questions and answers share one
table so votes and flags address one id space), votes, flags, comments and their flags,
moderation and redemptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from crowdcx.kernel.models import Base, BrandOwned, utcnow


class CommunityRow(BrandOwned, Base):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("brand_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    closed: Mapped[bool] = mapped_column(default=False)
    # Closed communities: {"rules": markdown, "quiz": [{"q": str, "choices": [str], "answer": int}]}
    onboarding: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityMemberRow(BrandOwned, Base):
    __tablename__ = "community_members"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="member")  # member | applied
    onboarding_done: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostRow(BrandOwned, Base):
    __tablename__ = "community_posts"
    __table_args__ = (
        Index("ix_community_posts_brand_kind_created", "brand_id", "kind", "created_at"),
        Index("ix_community_posts_question", "question_id"),
        # Per-author reads on every post, vote and accept (posting rate, badge counts): without
        # it each one scans the brand's posts.
        Index("ix_community_posts_brand_author", "brand_id", "author_id", "kind"),
        # Question lists, newest first (the brand's, a community's): an index range read in id
        # order instead of sorting every question (60 ms a page at 100,000 questions).
        # "hidden" before "kind": a query naming only brand_id and kind (a question's answers)
        # then matches one column of it, and SQLite keeps the question_id index for that.
        Index("ix_community_posts_list", "brand_id", "hidden", "kind", "id"),
        Index("ix_community_posts_community_list", "community_id", "hidden", "kind", "id"),
        # The brand's questions by score ("Most votes") and the community home's "popular in
        # your language": the same expressions as the ORDER BY, so neither sorts every question.
        Index(
            "ix_community_posts_score",
            "brand_id",
            "hidden",
            "kind",
            text("(up - down) DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_community_posts_popular",
            "brand_id",
            "hidden",
            "kind",
            "language",
            text("(up - down + answers) DESC"),
            text("id DESC"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # question | answer
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_posts.id", ondelete="CASCADE"), default=None
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[str]]
    up: Mapped[int] = mapped_column(default=0)
    down: Mapped[int] = mapped_column(default=0)
    answers: Mapped[int] = mapped_column(default=0)
    views: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[bool] = mapped_column(default=False)  # answers
    brand_approved: Mapped[bool] = mapped_column(default=False)  # answers
    solved: Mapped[bool] = mapped_column(default=False)  # questions: has an accepted answer
    hidden: Mapped[bool] = mapped_column(default=False)
    closed: Mapped[bool] = mapped_column(default=False)
    duplicate_of: Mapped[int | None] = mapped_column(default=None)
    ticket_id: Mapped[int | None] = mapped_column(default=None)  # escalated to this ticket
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostTagRow(BrandOwned, Base):
    """A question's tag, one row each (``PostRow.tags`` keeps the list for display): what
    ``?tag=`` lists and per-tag leaderboards find by index instead of reading every post."""

    __tablename__ = "community_post_tags"
    __table_args__ = (Index("ix_community_post_tags_tag", "brand_id", "tag", "post_id"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("community_posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)


class VoteRow(BrandOwned, Base):
    __tablename__ = "community_votes"
    __table_args__ = (UniqueConstraint("post_id", "voter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_posts.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    value: Mapped[int]
    key: Mapped[str] = mapped_column(String(120))  # ledger key of the current vote's entries
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlagRow(BrandOwned, Base):
    __tablename__ = "community_flags"
    __table_args__ = (UniqueConstraint("post_id", "flagger_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_posts.id", ondelete="CASCADE"))
    flagger_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    trusted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModerationRow(BrandOwned, Base):
    """Audit log of moderation: automatic hides (with the reason told to the author), appeals
    and reviewers' decisions. A row about a comment names it in ``comment_id``; its ``post_id``
    is then the post the comment is on."""

    __tablename__ = "community_moderation"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_posts.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_comments.id", ondelete="CASCADE"), default=None
    )
    action: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(default=True)
    actor_id: Mapped[int | None] = mapped_column(default=None)
    # Whether the actor was the brand's staff (an agent, a brand admin) or a platform
    # administrator when they acted: what a decision weighs (a member reviewer does not
    # overrule the staff) is read from here, never from the roles the actor holds today.
    by_staff: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RedemptionRow(BrandOwned, Base):
    __tablename__ = "reward_redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    points: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BadgeGrantRow(BrandOwned, Base):
    """A badge granted once per user and brand (rules: reputation.rules.DEFAULT_BADGES)."""

    __tablename__ = "community_badges"
    __table_args__ = (UniqueConstraint("brand_id", "user_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(10))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowRow(BrandOwned, Base):
    """A member follows a community, a tag or a person."""

    __tablename__ = "community_follows"
    __table_args__ = (
        UniqueConstraint("brand_id", "user_id", "target_kind", "target"),
        # Who follows a community, tag or person: read on every new question.
        Index("ix_community_follows_target", "brand_id", "target", "target_kind", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(10))  # community | tag | user
    target: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostRevisionRow(BrandOwned, Base):
    """Edit history: the title and body a post had before each edit, and who changed it."""

    __tablename__ = "community_post_revisions"
    __table_args__ = (Index("ix_community_post_revisions_post", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_posts.id", ondelete="CASCADE"))
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentRow(BrandOwned, Base):
    __tablename__ = "community_comments"
    __table_args__ = (Index("ix_community_comments_post", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_posts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentFlagRow(BrandOwned, Base):
    """A member's flag on a comment (one per person and comment), as FlagRow is for posts."""

    __tablename__ = "community_comment_flags"
    __table_args__ = (UniqueConstraint("comment_id", "flagger_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("community_comments.id", ondelete="CASCADE"))
    flagger_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    trusted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityRow(BrandOwned, Base):
    """What the badge rules count of a member's posts, moved by the statements that change the
    posts (community/activity.py): a vote on a prolific helper's answer reads this row instead
    of all their posts. The posts stay the truth; ``crowdcx recompute-reputation`` recounts."""

    __tablename__ = "community_activity"
    __table_args__ = (UniqueConstraint("brand_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    questions: Mapped[int] = mapped_column(default=0)
    answers: Mapped[int] = mapped_column(default=0)
    accepted_answers: Mapped[int] = mapped_column(default=0)
    brand_approved_answers: Mapped[int] = mapped_column(default=0)
    upvotes_received: Mapped[int] = mapped_column(default=0)


class HelpedLanguageRow(BrandOwned, Base):
    """Per member and answer language: how many of their answers helped (accepted, approved or
    upvoted). Languages helped = the languages counted above zero."""

    __tablename__ = "community_helped_languages"
    __table_args__ = (UniqueConstraint("brand_id", "user_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    answers: Mapped[int] = mapped_column(default=0)
