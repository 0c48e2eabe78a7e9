"""Request and response bodies of the knowledge-base and search API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=1000)
    body: str = Field(max_length=60_000)
    language: str = Field(max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=50)
    skills: list[str] = Field(default_factory=list, max_length=50)
    visibility: str = Field(default="public", max_length=20)
    translation_of: int | None = None


class ArticlePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=1000)
    body: str | None = Field(default=None, max_length=60_000)
    language: str | None = Field(default=None, max_length=20)
    tags: list[str] | None = Field(default=None, max_length=50)
    skills: list[str] | None = Field(default=None, max_length=50)
    visibility: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=200)


class LiveOut(BaseModel):
    version: int
    title: str
    body: str
    body_html: str
    language: str
    visibility: str
    published_at: datetime | None
    review_by: datetime | None
    stale: bool


class ArticleOut(BaseModel):
    id: int
    group_id: int
    state: str
    version: int
    title: str
    body: str
    body_html: str
    language: str
    tags: list[str]
    skills: list[str]
    visibility: str
    author_id: int | None
    approved_by: int | None
    helpful: int
    unhelpful: int
    live: LiveOut | None
    translations: dict[str, int]
    allowed_actions: list[str]
    # What it was drafted from ("ticket" | "question" and its id); editors only.
    source_kind: str | None = None
    source_id: int | None = None
    created_at: datetime
    updated_at: datetime


class ArticleList(BaseModel):
    items: list[ArticleOut]
    next_cursor: str | None


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    helpful: bool
    comment: str | None = Field(default=None, max_length=5000)


class FeedbackOut(BaseModel):
    id: int
    helpful: int
    unhelpful: int


class FeedbackComment(BaseModel):
    id: int
    helpful: bool
    comment: str
    created_at: datetime


class FeedbackList(BaseModel):
    helpful: int
    unhelpful: int
    solved_cases: int  # tickets their customers closed saying this article solved them
    comments: list[FeedbackComment]
    next_cursor: str | None


class SearchResultOut(BaseModel):
    kind: str
    id: str
    title: str
    snippet: str
    score: float
    url: str
    language: str
    explanation: str | None = None


class SearchOut(BaseModel):
    results: list[SearchResultOut]
    out_of_scope: bool
    confidence: float
    next_lanes: list[dict[str, str]]


class ImportProblem(BaseModel):
    where: str
    code: str
    reason: str


class ImportOut(BaseModel):
    imported: int
    skipped: int
    problems: list[ImportProblem]
    article_ids: list[int]


class ImportProgress(BaseModel):
    rows_total: int
    rows_done: int
    imported: int
    skipped: int


class ImportJobOut(BaseModel):
    """A FAQ import run in the background: poll until ``state`` is done or failed."""

    id: int
    state: str = Field(description="queued | running | done | failed")
    file_name: str
    publish: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: ImportProgress
    summary: ImportOut | None = Field(description="what the import did, once done")
    error: str | None = Field(description="why it failed, once failed")


class SearchEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str = Field(pattern="^(opened|solved)$")
    kind: str = Field(pattern="^(article|question|ticket)$")
    id: str = Field(max_length=64)
    query: str = Field(default="", max_length=500)
    source: str = Field(default="api", pattern="^(help|ticket|question|assist|api)$")
