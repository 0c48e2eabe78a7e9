"""The points ledger as the shell sees it: write entries idempotently (by key), read a user's
history, balance, reputation, level and privileges, and leaderboards aggregated in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crowdcx.kernel.db import UnitOfWork
from crowdcx.reputation import rules as rep
from crowdcx.reputation.models import PointsEntryRow
from crowdcx.tenancy.service import BrandContext

POLICY = rep.ReputationPolicy()


def to_entry(r: PointsEntryRow) -> rep.PointsEntry:
    return rep.PointsEntry(
        r.user_id,
        r.brand_id,
        r.points,
        r.reason,  # type: ignore[arg-type]
        rep.SubjectRef(r.subject_kind, r.subject_id),  # type: ignore[arg-type]
        r.at,
        r.key,
        r.reverses,
        r.actor_id,
        r.capped,
    )


def history_today(
    session: Session, ctx: BrandContext, user_ids: Iterable[int], now: datetime
) -> list[rep.PointsEntry]:
    """What the daily-cap rules need of these users' recent entries, summed in SQL: one entry
    per user, capped reason and cap day (yesterday or today in the policy's time zone) over
    the last day. The rules only add up capped points per user and day, so the sums give the
    same answer as every row would — without loading a busy helper's whole day."""
    ids = sorted(set(user_ids))
    if not ids or POLICY.daily_cap is None:
        return []
    local = now.astimezone(POLICY.cap_timezone)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    today = case((PointsEntryRow.at >= day_start, 1), else_=0)
    rows = session.execute(
        select(
            PointsEntryRow.user_id, PointsEntryRow.reason, today,
            func.sum(PointsEntryRow.points), func.min(PointsEntryRow.at),
        )
        .where(
            PointsEntryRow.brand_id == ctx.brand.id,
            PointsEntryRow.user_id.in_(ids),
            PointsEntryRow.at >= now - timedelta(days=1),
            PointsEntryRow.reason.in_(sorted(POLICY.capped_reasons)),
        )
        .group_by(PointsEntryRow.user_id, PointsEntryRow.reason, today)
    ).all()  # fmt: skip
    return [
        rep.PointsEntry(
            int(uid),
            ctx.brand.id,
            int(total or 0),
            reason,
            rep.SubjectRef("user", int(uid)),
            _aware(first),
            f"sum:{uid}:{reason}:{bucket}",
        )
        for uid, reason, bucket, total, first in rows
    ]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def entries_by_key_prefix(
    session: Session, ctx: BrandContext, prefix: str
) -> list[rep.PointsEntry]:
    rows = session.scalars(ctx.scoped(PointsEntryRow).where(PointsEntryRow.key.like(f"{prefix}%")))
    return [to_entry(r) for r in rows]


def write(uow: UnitOfWork, ctx: BrandContext, entries: Iterable[rep.PointsEntry]) -> None:
    """Append entries; an entry whose key exists is skipped (idempotent)."""
    for entry in entries:
        exists = uow.session.scalar(
            select(PointsEntryRow.id).where(
                PointsEntryRow.brand_id == ctx.brand.id, PointsEntryRow.key == entry.key
            )
        )
        if exists is None:
            uow.session.add(
                PointsEntryRow(
                    brand_id=ctx.brand.id,
                    user_id=entry.user_id,
                    points=entry.points,
                    reason=entry.reason,
                    subject_kind=entry.subject.kind,
                    subject_id=entry.subject.id,
                    key=entry.key,
                    reverses=entry.reverses,
                    actor_id=entry.actor_id,
                    capped=entry.capped,
                    at=entry.at,
                )
            )
    uow.session.flush()


def reputation_of(session: Session, ctx: BrandContext, user_id: int) -> int:
    """Points earned (spending excluded): what levels and privileges are made of."""
    total = session.scalar(
        select(func.coalesce(func.sum(PointsEntryRow.points), 0)).where(
            PointsEntryRow.brand_id == ctx.brand.id,
            PointsEntryRow.user_id == user_id,
            PointsEntryRow.reason.not_in(rep.SPEND_REASONS),
        )
    )
    return int(total or 0)


def balance_of(session: Session, ctx: BrandContext, user_id: int) -> int:
    """Spendable points: everything earned minus what was redeemed."""
    total = session.scalar(
        select(func.coalesce(func.sum(PointsEntryRow.points), 0)).where(
            PointsEntryRow.brand_id == ctx.brand.id, PointsEntryRow.user_id == user_id
        )
    )
    return int(total or 0)


def privileges_of(session: Session, ctx: BrandContext, user_id: int) -> frozenset[str]:
    return rep.privileges_for(reputation_of(session, ctx, user_id), POLICY)


def history(
    session: Session, ctx: BrandContext, user_id: int, limit: int = 50
) -> list[PointsEntryRow]:
    return list(
        session.scalars(
            ctx.scoped(PointsEntryRow)
            .where(PointsEntryRow.user_id == user_id)
            .order_by(PointsEntryRow.id.desc())
            .limit(limit)
        )
    )


def period_totals(
    session: Session,
    ctx: BrandContext,
    since: datetime | None,
    post_ids: list[int] | None = None,
) -> dict[int, int]:
    """Earned points per user since ``since`` (None: all time), summed in SQL; optionally only
    points earned on the given posts (a community's or a tag's leaderboard)."""
    stmt = (
        select(PointsEntryRow.user_id, func.sum(PointsEntryRow.points))
        .where(
            PointsEntryRow.brand_id == ctx.brand.id,
            PointsEntryRow.reason.not_in(rep.SPEND_REASONS),
        )
        .group_by(PointsEntryRow.user_id)
    )
    if since is not None:
        stmt = stmt.where(PointsEntryRow.at >= since)
    if post_ids is not None:
        stmt = stmt.where(
            PointsEntryRow.subject_kind.in_(("question", "answer")),
            PointsEntryRow.subject_id.in_(post_ids or [-1]),
        )
    return {int(uid): int(points or 0) for uid, points in session.execute(stmt)}
