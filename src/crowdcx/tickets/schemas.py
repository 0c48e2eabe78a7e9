"""Request and response bodies of the inquiry lifecycle API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=25_000)


class PolicyIn(BaseModel):
    """The brand policy; keys left out keep their current value. See docs/api.md."""

    model_config = ConfigDict(extra="forbid")
    languages: list[str] | None = None
    skills: list[dict[str, Any]] | None = None
    sla: dict[str, Any] | None = None
    rate_card: dict[str, Any] | None = None
    tiers: list[dict[str, Any]] | None = None
    offer_timeout_s: StrictInt | None = Field(default=None, ge=10, le=3600)
    max_concurrent: StrictInt | None = Field(default=None, ge=1, le=100)
    routing_mode: str | None = None
    auto_close_after_s: StrictInt | None = Field(default=None, ge=0, le=90 * 86_400)
    max_rings: StrictInt | None = Field(default=None, ge=1, le=100)
    # Review sampling and the scorecard; checked by tickets.policy, each problem by its field.
    quality: Any = None
    # The version the policy was read at (GET's): a save over a newer one is refused, 409.
    version: str | None = Field(default=None, max_length=64)


class SkillRenameIn(Strict):
    """A saved skill's name and the name it takes."""

    name: str = Field(min_length=1, max_length=200)
    new_name: str = Field(min_length=1, max_length=200)
    version: str | None = Field(default=None, max_length=64)


class ExpertIn(Strict):
    skills: dict[str, StrictInt] = Field(max_length=100)
    languages: list[str] = Field(min_length=1, max_length=4)
    tier: StrictInt = Field(ge=0, le=3)
    certifications: list[str] = Field(default_factory=list, max_length=100)


class ExpertOut(BaseModel):
    user_id: int
    skills: dict[str, int]
    languages: list[str]
    tier: int
    certifications: list[str]
    online: bool
    load: int


class AvailabilityIn(Strict):
    online: bool


class TicketIn(Strict):
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=40_000)  # 20,000 with CR LF line breaks
    skill: str = Field(min_length=1, max_length=60)
    language: str | None = Field(default=None, max_length=16)
    priority: str = Field(default="normal", max_length=10)
    customer_fields: dict[str, str] = Field(default_factory=dict, max_length=10)


class Suggestion(BaseModel):
    kind: str
    id: int
    title: str
    snippet: str
    score: float
    url: str


class SolvedByOut(BaseModel):
    """The suggestion a deflected ticket's customer said solved it. ``available`` false: the
    viewer may no longer read it (hidden, archived, deleted, or not at their visibility), and
    ``id``, ``title`` and ``url`` are null."""

    kind: str  # article | question
    available: bool
    id: int | None
    title: str | None
    url: str | None


class TicketOut(BaseModel):
    id: int
    status: str
    subject: str
    body: str
    language: str
    skill: str
    priority: str
    customer_fields: dict[str, str]
    owner_id: int | None
    offered_to: int | None
    offer_expires_at: datetime | None
    escalated: bool
    rate: str
    rate_minor: int
    currency: str
    created_at: datetime  # when the ticket was written (a community question: its escalation)
    case_started_at: datetime  # when the case began: the SLA clocks run from it
    first_response_at: datetime | None  # the owning expert's or staff's first public reply
    community_response_at: datetime | None  # the first community answer to its question
    resolved_at: datetime | None
    rated: bool
    allowed_actions: list[str]
    # Where the ticket went and why, for the people on it (e.g. straight to staff because it
    # is in a language the brand does not serve), in the reader's language.
    note: str | None = None
    # A deflected ticket: the suggestion that solved it (null when not deflected or not said).
    solved_by: SolvedByOut | None = None


class TicketCreated(TicketOut):
    suggestions: list[Suggestion]


class TicketList(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class MessageIn(Strict):
    body: str = Field(min_length=1, max_length=40_000)  # 20,000 with CR LF line breaks
    internal: bool = False


class MessageOut(BaseModel):
    id: int
    author_id: int
    author_name: str
    author_role: str
    body_html: str
    internal: bool
    created_at: datetime


class ReasonIn(Strict):
    reason: str = Field(default="", max_length=500)


class DeflectIn(ReasonIn):
    """Which suggestion solved it: ``kind`` (article | question) and ``id``, both or neither
    (then it is not said which)."""

    kind: str | None = Field(default=None, max_length=16)
    id: int | None = Field(default=None, ge=1)


class RatingIn(Strict):
    # Strict: JSON true/false are not ratings (pydantic would read them as 1 and 0).
    csat: StrictInt
    nps: StrictInt | None = None
    comment: str = Field(default="", max_length=2000)


class RatingOut(BaseModel):
    ticket_id: int
    csat: int
    nps: int | None
    comment: str


class OfferOut(BaseModel):
    ticket_id: int
    subject: str
    language: str
    skill: str
    rate: str
    rate_minor: int
    currency: str
    expires_at: datetime


class EarningLineOut(BaseModel):
    ticket_id: int | None  # None for a payout the brand recorded (kind "payout")
    subject: str
    amount: str
    amount_minor: int
    currency: str
    kind: str
    at: datetime


class EarningsOut(BaseModel):
    lines: list[EarningLineOut]
    totals: dict[str, str]  # earned (earnings less reversals), over every posting
    effective_hourly: dict[str, str]
    paid_out: dict[str, str] = {}  # what the brand recorded paying you
    owed: dict[str, str] = {}  # earned − paid out: what the brand still owes you
    next_cursor: str | None = None  # the next (older) page, if there may be one


class PostingOut(BaseModel):
    id: int
    account: str
    amount_minor: int
    currency: str
    kind: str
    correlation_key: str
    idempotency_key: str
    at: datetime


class LedgerOut(BaseModel):
    postings: list[PostingOut]
    balance: dict[str, int]
    next_cursor: str | None = None  # the next (older) page, if there may be one


class AccessOut(BaseModel):
    id: int
    ticket_id: int
    viewer_id: int
    viewer_name: str
    viewer_role: str
    fields: list[str]
    at: datetime


class PolicyChangeOut(BaseModel):
    """One changed field of a policy save (tickets.policy.PolicyChange)."""

    path: str
    op: str
    before: Any
    after: Any
    field: str
    key: str | None


class PolicyHistoryEntryOut(BaseModel):
    id: int
    at: datetime
    kind: str
    user_id: int | None
    user_name: str | None
    version_before: str
    version_after: str
    changes: list[PolicyChangeOut]


class PolicyHistoryOut(BaseModel):
    items: list[PolicyHistoryEntryOut]
    next_before: int | None
