"""Tables of the inquiry lifecycle. The rules (tickets/rules.py) decide; these rows remember."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crowdcx.kernel.models import Base, BrandOwned, utcnow


class BrandPolicyRow(BrandOwned, Base):
    """The brand's validated policy as JSON (tickets.policy.policy_to_dict), plus a roster
    version that changes whenever an expert profile or availability changes, so routing
    caches know when to rebuild."""

    __tablename__ = "brand_policies"
    __table_args__ = (UniqueConstraint("brand_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[dict[str, Any]]
    roster_version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExpertProfileRow(BrandOwned, Base):
    __tablename__ = "expert_profiles"
    __table_args__ = (UniqueConstraint("brand_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    skills: Mapped[dict[str, Any]]  # skill → proficiency 1..5
    languages: Mapped[list[str]]
    tier: Mapped[int] = mapped_column(default=0)
    certifications: Mapped[list[str]]
    online: Mapped[bool] = mapped_column(default=False)
    max_concurrent: Mapped[int | None] = mapped_column(default=None)
    # Live load: claimed tickets + open offers, kept in step by conditional updates.
    load: Mapped[int] = mapped_column(default=0)
    # Stats the routing score reads (never declines or expiries).
    resolved: Mapped[int] = mapped_column(default=0)
    escalated: Mapped[int] = mapped_column(default=0)
    csat_points: Mapped[int] = mapped_column(default=0)
    csat_count: Mapped[int] = mapped_column(default=0)
    response_ewma_s: Mapped[float | None] = mapped_column(default=None)
    # Decided quality reviews of their work (quality/): Σ score (0–100 each) and how many.
    quality_points: Mapped[int] = mapped_column(default=0, server_default="0")
    quality_count: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExpertPresenceRow(BrandOwned, Base):
    """When an expert was online in the brand: one interval per stretch, opened when
    ``expert_profiles.online`` turns true and closed when it turns false, in the same
    transaction (tickets.presence). What the capacity plan compares its needs with. An
    erased account's intervals stay counted without ``user_id``; the sweeper's housekeeping
    drops those that ended more than twelve weeks ago."""

    __tablename__ = "expert_presence"
    __table_args__ = (
        # A brand's intervals overlapping [a, b): offline_at > a (or still open), online_at < b.
        Index("ix_expert_presence_brand_offline", "brand_id", "offline_at", "online_at"),
        # At most one open interval per expert and brand (and the one to close is found).
        Index(
            "ux_expert_presence_open", "brand_id", "user_id", unique=True,
            sqlite_where=text("offline_at IS NULL"), postgresql_where=text("offline_at IS NULL"),
        ),
        Index("ix_expert_presence_user", "user_id"),  # a person's export and erasure
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    online_at: Mapped[datetime]
    offline_at: Mapped[datetime | None] = mapped_column(default=None)


class TicketRow(BrandOwned, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_brand_status", "brand_id", "status"),
        Index("ix_tickets_brand_customer", "brand_id", "customer_id"),
        Index("ix_tickets_brand_owner", "brand_id", "owner_id"),
        Index("ix_tickets_brand_resolver", "brand_id", "resolved_by"),
        Index("ix_tickets_status_offer_expires", "status", "offer_expires_at"),
        Index("ix_tickets_sweep_at", "sweep_at"),
        Index("ix_tickets_question", "question_id"),
        Index("ix_tickets_brand_created", "brand_id", "created_at"),  # a period's tickets
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(60))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    required_tier: Mapped[int] = mapped_column(default=0)
    customer_fields: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(default=None)
    owner_role: Mapped[str | None] = mapped_column(String(10), default=None)
    offered_to: Mapped[int | None] = mapped_column(default=None, index=True)
    offer_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the sweeper next has to look at it (rules.next_sweep_at under the brand's policy:
    # offer expiry, SLA risk or breach, auto-close); None when nothing can fall due.
    sweep_at: Mapped[datetime | None] = mapped_column(default=None)
    rung: Mapped[list[str]]
    escalated: Mapped[bool] = mapped_column(default=False)
    escalation_reason: Mapped[str] = mapped_column(String(500), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    # The customer's last reopening: the resolution target runs again from it (migration 0022).
    reopened_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[int | None] = mapped_column(default=None)
    resolved_by_role: Mapped[str | None] = mapped_column(String(10), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The price quoted from the rate card at intake: what the expert sees before claiming
    # and what an earning pays.
    quote_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    rated: Mapped[bool] = mapped_column(default=False)
    # When the ticket was written (for a community question: the escalation).
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the case began (migration 0023): the ticket's writing, or the moment the community
    # question it was escalated from was asked. The SLA clocks run from it (rules.case_start).
    case_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The community question the ticket was escalated from (0023). Read only through the
    # ticket's brand (BrandContext.scoped): the link is brand-scoped like every other.
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_posts.id", ondelete="SET NULL"), default=None
    )
    # The first community answer to that question by someone other than the asker (0023):
    # the case got a first response. Apart from first_response_at (the expert's or staff's
    # own reply, which routing's response-time statistics read); the SLA's first-response
    # target is met by either (rules.first_response_met_at).
    community_response_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=0)


class TicketTransitionRow(BrandOwned, Base):
    """Every state change with actor and time: the ticket's history."""

    __tablename__ = "ticket_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    actor_role: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime]


class TicketMessageRow(BrandOwned, Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketRatingRow(BrandOwned, Base):
    __tablename__ = "ticket_ratings"
    __table_args__ = (UniqueConstraint("ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    csat: Mapped[int]
    nps: Mapped[int | None] = mapped_column(default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class TicketDeflectionRow(BrandOwned, Base):
    """A deflected ticket and the suggestion its customer said solved it: the article or
    community question (``kind``, ``ref_id``), or none (``NULL``) when the customer did not
    say which. One row per deflected ticket (a deflected ticket is never reopened), so the
    deflection figures count each case once by ticket and an article's "solved N cases" is
    exact. Tickets deflected before 0034 got a row without the suggestion at the upgrade."""

    __tablename__ = "ticket_deflections"
    __table_args__ = (
        UniqueConstraint("ticket_id"),
        Index("ix_ticket_deflections_solved_by", "brand_id", "kind", "ref_id"),
        Index("ix_ticket_deflections_brand_at", "brand_id", "at"),
        # The deflection count's check of a mark against a ticket's case, index only (0037).
        Index("ix_ticket_deflections_case", "ticket_id", "at", "kind", "ref_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str | None] = mapped_column(String(16), default=None)  # article | question
    ref_id: Mapped[int | None] = mapped_column(default=None)
    at: Mapped[datetime]


class AccessLogRow(BrandOwned, Base):
    """Every view of unmasked customer data by someone other than the customer."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_brand_at", "brand_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    viewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    viewer_role: Mapped[str] = mapped_column(String(10))
    fields: Mapped[list[str]]
    at: Mapped[datetime]


class PolicyChangeRow(BrandOwned, Base):
    """One save that changed the brand's ticket policy, written in the save's transaction
    (tickets.service.set_policy): when, who (None: a command, or an account since deleted),
    what kind of save, the policy's version before and after it (tickets.policy.
    policy_version) and what changed (tickets.policy.policy_diff, as JSON objects). Append
    only; read newest first, a page a keyset range on (brand_id, id)."""

    __tablename__ = "policy_changes"
    __table_args__ = (Index("ix_policy_changes_brand_id_id", "brand_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    version_before: Mapped[str] = mapped_column(String(20))
    version_after: Mapped[str] = mapped_column(String(20))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
