"""Tables of the knowledge base. The working revision and the live (published) copy live side
by side, so an article stays readable while its next revision is reviewed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowdcx.kernel.models import Base, BrandOwned, utcnow

# The rows ``ux_articles_source_open`` covers: drafted from a source, never published, not
# archived (an archive clears ``live_version`` but keeps ``published_at``).
OPEN_SOURCE_DRAFT = "source_id IS NOT NULL AND published_at IS NULL AND state <> 'archived'"
# The rows ``ix_articles_source`` covers: every article drafted from a source.
DRAFTED_FROM_SOMETHING = "source_id IS NOT NULL"


class Article(BrandOwned, Base):
    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_brand_state", "brand_id", "state"),
        Index("ix_articles_brand_group", "brand_id", "group_id"),
        # One open draft per source: a second "draft an article" (a double click, two tabs)
        # meets the first one. Open = never published and not archived; once published or
        # archived, the source may be drafted again (migration 0030).
        Index(
            "ux_articles_source_open", "brand_id", "source_kind", "source_id", unique=True,
            sqlite_where=text(OPEN_SOURCE_DRAFT), postgresql_where=text(OPEN_SOURCE_DRAFT),
        ),
        # The draft link on a ticket's or question's page: the newest article drafted from
        # it, open or published (knowledge.service.drafted_from; migration 0036). Only
        # articles drafted from something are in it.
        Index(
            "ix_articles_source", "brand_id", "source_kind", "source_id", "id",
            sqlite_where=text(DRAFTED_FROM_SOMETHING),
            postgresql_where=text(DRAFTED_FROM_SOMETHING),
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    # Translations of one article share a group id (the id of the first of them).
    group_id: Mapped[int | None] = mapped_column(default=None)
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]]
    skills: Mapped[list[str]]
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    approved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # The live copy readers see (None until the first publish; cleared on archive).
    live_version: Mapped[int | None] = mapped_column(default=None)
    live_title: Mapped[str | None] = mapped_column(String(300), default=None)
    live_body: Mapped[str | None] = mapped_column(Text, default=None)
    live_visibility: Mapped[str | None] = mapped_column(String(16), default=None)
    live_language: Mapped[str | None] = mapped_column(String(16), default=None)
    live_tags: Mapped[list[str] | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    review_by: Mapped[datetime | None] = mapped_column(default=None)
    helpful: Mapped[int] = mapped_column(default=0)
    unhelpful: Mapped[int] = mapped_column(default=0)
    views: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the article was drafted from ("ticket" | "question" and its id), if anything.
    source_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    source_id: Mapped[int | None] = mapped_column(default=None)

    @property
    def live(self) -> bool:
        return self.live_version is not None and self.state != "archived"


class ArticleVersion(BrandOwned, Base):
    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # The visibility this text was written for: the history shows it only to its readers.
    visibility: Mapped[str] = mapped_column(String(16), default="staff", server_default="staff")
    editor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleEvent(BrandOwned, Base):
    """Workflow history: who submitted, approved, published or archived which version."""

    __tablename__ = "article_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleFeedback(BrandOwned, Base):
    __tablename__ = "article_feedback"
    # One vote per visitor and article (rows from before 0021 have none and all count).
    __table_args__ = (Index("ux_article_feedback_visitor", "article_id", "visitor", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    helpful: Mapped[bool]
    comment: Mapped[str] = mapped_column(Text, default="")
    visitor: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchEvent(BrandOwned, Base):
    """Deflection measurement: suggestions shown, opened and "this solved it"."""

    __tablename__ = "search_events"
    __table_args__ = (
        # The period's counts by event; kind, ref_id and visitor too (0037), so the
        # deflection count's marks are read from the index alone (search.service).
        Index("ix_search_events_brand_event_mark", "brand_id", "event", "created_at", "kind",
              "ref_id", "visitor"),
        # Opened / solved count once per visitor, suggestion and day (shown: no visitor).
        Index("ux_search_events_visitor_once", "brand_id", "event", "kind", "ref_id", "visitor",
              "day", unique=True),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(16))  # shown | opened | solved | no_answer
    source: Mapped[str] = mapped_column(String(16))  # help | ticket | question | assist | api
    query: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(16), default="")
    ref_id: Mapped[str] = mapped_column(String(64), default="")
    results: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    visitor: Mapped[str | None] = mapped_column(String(64), default=None)
    day: Mapped[str | None] = mapped_column(String(10), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchEventDay(BrandOwned, Base):
    """A past UTC day's search events counted once (migration 0043): the deflection figures
    read whole past days here and count only the period's two partial days in
    ``search_events``. ``event`` is the key ``search.service.deflection`` groups by: every
    event but a reader's own "this solved it" marks (``solved`` counts only deflected
    tickets' events, of kind ``ticket``; the readers' marks need the same-case rule).

    The sweeper's hourly housekeeping adds the days that ended at least an hour before
    (``search.service.roll_up_events``); events are never changed or deleted afterwards
    (an erasure only detaches them), so a rolled day stays true."""

    __tablename__ = "search_event_days"
    __table_args__ = (
        PrimaryKeyConstraint("brand_id", "day", "event"),
        Index("ix_search_event_days_day", "day"),  # the last day rolled up, for every brand
    )

    day: Mapped[date]
    event: Mapped[str] = mapped_column(String(16))
    n: Mapped[int]


class ImportJob(BrandOwned, Base):
    """A FAQ import waiting for, or run by, the background worker (knowledge.jobs).

    The upload is checked and stored here; a worker claims the job by raising ``attempt``
    with a conditional update, and records its progress (``rows_done`` and the summary so
    far) in the same transaction as each chunk of articles, so a job resumed after a crash
    starts at the first row not yet committed. ``heartbeat_at`` moves with every chunk: a
    running job whose heartbeat is older than ``jobs.STALE_AFTER`` is claimed again."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_state", "state", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    state: Mapped[str] = mapped_column(String(16), default="queued")  # running | done | failed
    file_name: Mapped[str] = mapped_column(String(255), default="")
    # The language the uploader used: the skip reasons are written in it.
    locale: Mapped[str] = mapped_column(String(16), default="en")
    publish: Mapped[bool] = mapped_column(default=False)
    # The decoded file; dropped once the job is done or failed.
    content: Mapped[str | None] = mapped_column(Text, default=None)
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    article_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    attempt: Mapped[int] = mapped_column(default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
