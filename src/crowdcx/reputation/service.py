"""The points ledger as the shell sees it: write entries idempotently (by key), read a user's
history, balance, reputation, level and privileges, and leaderboards aggregated in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crowdcx.kernel.db import UnitOfWork, append_rows
from crowdcx.reputation import rules as rep
from crowdcx.reputation.models import PointsEntryRow, ReputationTotalRow
from crowdcx.tenancy.models import Brand
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
    """What the daily-cap rules need of these users' day so far: per user, one entry holding
    the net points of capped reasons today (in the policy's time zone), read from that day's
    running total (scope ``cap:YYYY-MM-DD``) — one indexed row per user however busy their
    day, where summing the ledger read every vote they got today. The rules only add up
    capped points per user and day, so one entry gives the same answer as every row."""
    ids = sorted(set(user_ids))
    if not ids or POLICY.daily_cap is None or not POLICY.capped_reasons:
        return []
    local = now.astimezone(POLICY.cap_timezone)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    scope = rep.cap_scope(local, POLICY.cap_timezone)
    reason = min(POLICY.capped_reasons)
    rows = session.execute(_history_today(), {"brand": ctx.brand.id, "ids": ids, "scope": scope})
    return [
        rep.PointsEntry(int(uid), ctx.brand.id, int(total), reason,  # type: ignore[arg-type]
                        rep.SubjectRef("user", int(uid)), day_start, f"sum:{uid}:{scope}")
        for uid, total in rows
    ]  # fmt: skip


# Statements run by every vote, accept and post: built once (building a statement and its
# cache key costs more than running it on SQLite).
@cache
def _history_today() -> Any:
    return select(ReputationTotalRow.user_id, ReputationTotalRow.earned).where(
        ReputationTotalRow.brand_id == bindparam("brand"),
        ReputationTotalRow.scope == bindparam("scope"),
        ReputationTotalRow.user_id.in_(bindparam("ids", expanding=True)),
    )


@cache
def _entries_from_key() -> Any:
    return select(PointsEntryRow).where(
        PointsEntryRow.brand_id == bindparam("brand"),
        PointsEntryRow.key >= bindparam("low"),
        PointsEntryRow.key < bindparam("high"),
    )


@cache
def _total_of() -> Any:
    return select(ReputationTotalRow.earned, ReputationTotalRow.balance).where(
        ReputationTotalRow.brand_id == bindparam("brand"),
        ReputationTotalRow.scope == rep.ALL_TIME,
        ReputationTotalRow.user_id == bindparam("user"),
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def entries_by_key_prefix(
    session: Session, ctx: BrandContext, prefix: str
) -> list[rep.PointsEntry]:
    """Entries whose key starts with ``prefix``, as a range on the (brand, key) unique index
    (a LIKE would scan the ledger: SQLite's LIKE is case-insensitive and skips the index)."""
    rows = session.scalars(
        _entries_from_key(),
        {"brand": ctx.brand.id, "low": prefix, "high": prefix + "\U0010ffff"},
    )
    return [to_entry(r) for r in rows]


def write(uow: UnitOfWork, ctx: BrandContext, entries: Iterable[rep.PointsEntry]) -> None:
    """Append entries; an entry whose key exists is skipped (idempotent). The running totals
    move in the same transaction."""
    entries = list(entries)
    if not entries:
        uow.session.flush()  # as with entries: callers may count on it
        return
    # One read for every key, before the first insert: a read between two inserts would
    # flush the first and take the SQLite write lock early.
    keys = sorted({e.key for e in entries})
    known = set(uow.session.scalars(_known_keys(), {"brand": ctx.brand.id, "keys": keys}))
    written: list[rep.PointsEntry] = []
    for entry in entries:
        if entry.key not in known:
            known.add(entry.key)
            written.append(entry)
    uow.session.flush()  # pending objects first, as callers count on
    append_rows(uow.session, PointsEntryRow, [
        {"brand_id": ctx.brand.id, "user_id": e.user_id, "points": e.points,
         "reason": e.reason, "subject_kind": e.subject.kind, "subject_id": e.subject.id,
         "key": e.key, "reverses": e.reverses, "actor_id": e.actor_id,
         "capped": e.capped, "at": e.at}
        for e in written
    ])  # fmt: skip
    delta = rep.totals_delta(written, POLICY.cap_timezone, POLICY.capped_reasons)
    apply_totals(uow.session, ctx.brand.id, delta)


@cache
def _known_keys() -> Any:
    return select(PointsEntryRow.key).where(
        PointsEntryRow.brand_id == bindparam("brand"),
        PointsEntryRow.key.in_(bindparam("keys", expanding=True)),
    )


def apply_totals(
    session: Session, brand_id: int, delta: dict[tuple[int, str], tuple[int, int]]
) -> None:
    """Add ``delta`` to the running totals: one upsert statement, executed for every row (a
    multi-row VALUES would be a new statement, compiled afresh, for each row count)."""
    if not delta:
        return
    session.execute(
        _totals_upsert(session.get_bind().dialect.name),
        [
            {"brand_id": brand_id, "user_id": user_id, "scope": scope, "earned": earned,
             "balance": balance}
            for (user_id, scope), (earned, balance) in sorted(delta.items())
        ],
    )  # fmt: skip


@cache
def _totals_upsert(dialect: str) -> Any:
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    table = ReputationTotalRow.__table__
    assert isinstance(table, Table)
    stmt = insert_(table)
    return stmt.on_conflict_do_update(
        index_elements=["brand_id", "scope", "user_id"],
        set_={
            "earned": table.c.earned + stmt.excluded.earned,
            "balance": table.c.balance + stmt.excluded.balance,
        },
    )


def rebuild_totals(
    session: Session, brand_id: int, now: datetime | None = None, batch: int = 50_000
) -> int:
    """Recompute a brand's running totals from the ledger (the truth): all time and the
    current week and month — the boards people read; a past period's board is a ledger query
    away — and today's daily-cap total. Returns the number of ledger rows read."""
    at = now or datetime.now(UTC)
    tz, capped_reasons = POLICY.cap_timezone, POLICY.capped_reasons
    current = {
        rep.ALL_TIME,
        rep.period_scope("week", at, tz),
        rep.period_scope("month", at, tz),
        rep.cap_scope(at, tz),
    }
    session.execute(delete(ReputationTotalRow).where(ReputationTotalRow.brand_id == brand_id))
    count = 0

    spend = PointsEntryRow.reason.in_(sorted(rep.SPEND_REASONS))
    # Only today's cap total is kept: capped entries of other days group with the rest, so
    # the sums stay one row per user, day and spend/earn as before the cap totals.
    today = at.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    capped = and_(
        PointsEntryRow.reason.in_(sorted(capped_reasons or {""})), PointsEntryRow.at >= today
    )
    a_capped_reason = min(capped_reasons) if capped_reasons else "adjustment"
    # The UTC calendar day (PostgreSQL would otherwise use the session's time zone).
    postgres = session.get_bind().dialect.name == "postgresql"
    day = func.date(func.timezone("UTC", PointsEntryRow.at) if postgres else PointsEntryRow.at)

    def rows() -> Iterator[tuple[int, int, str, datetime]]:
        """Per user, day and spend / capped / other: the ledger summed in SQL first (the
        scopes only depend on the day), one row per entry only when the cap zone is not UTC."""
        nonlocal count
        if tz is UTC:
            stmt = (
                select(PointsEntryRow.user_id, func.sum(PointsEntryRow.points), spend, capped,
                       day, func.count(PointsEntryRow.id))
                .where(PointsEntryRow.brand_id == brand_id)
                .group_by(PointsEntryRow.user_id, spend, capped, day)
            )  # fmt: skip
            for user_id, pts, spent, is_capped, on, n in session.execute(stmt):
                count += int(n)
                at = datetime.combine(date.fromisoformat(str(on)), time(12), tzinfo=UTC)
                reason = (
                    "reward_redeemed" if spent else a_capped_reason if is_capped else "adjustment"
                )
                yield user_id, int(pts), reason, at
            return
        stmt2 = select(
            PointsEntryRow.user_id, PointsEntryRow.points, PointsEntryRow.reason, PointsEntryRow.at
        ).where(PointsEntryRow.brand_id == brand_id)
        for user_id, pts, reason, on in session.execute(stmt2.execution_options(yield_per=batch)):
            count += 1
            when = _aware(on)
            # As above: only today's capped entries need their cap total worked out.
            earlier = reason in capped_reasons and when < today
            yield user_id, pts, "adjustment" if earlier else reason, when

    totals = rep.accumulate_totals(rows(), tz, capped_reasons)
    values = [
        {"brand_id": brand_id, "user_id": uid, "scope": scope, "earned": e, "balance": b}
        for (uid, scope), (e, b) in totals.items()
        if scope in current
    ]
    for i in range(0, len(values), batch):
        session.execute(insert(ReputationTotalRow), values[i : i + batch])
    session.flush()
    return count


def prune_cap_totals(session: Session, now: datetime) -> int:
    """Drop the daily-cap totals of days before yesterday (every brand): the cap only reads
    today's. Brand by brand, so each delete is a range on the (brand, scope, user) key rather
    than a scan of every total (week and month rows pile up for good). Returns the rows
    dropped."""
    oldest = rep.cap_scope(now - timedelta(days=1), POLICY.cap_timezone)
    dropped = 0
    for brand_id in session.scalars(select(Brand.id).order_by(Brand.id)).all():
        gone = session.execute(
            delete(ReputationTotalRow).where(
                ReputationTotalRow.brand_id == brand_id,
                ReputationTotalRow.scope >= "cap:",
                ReputationTotalRow.scope < oldest,
            )
        )
        dropped += int(getattr(gone, "rowcount", 0) or 0)
    return dropped


def _total(session: Session | Connection, ctx: BrandContext, user_id: int) -> tuple[int, int]:
    row = session.execute(_total_of(), {"brand": ctx.brand.id, "user": user_id}).first()
    return (int(row[0]), int(row[1])) if row is not None else (0, 0)


def reputation_of(session: Session | Connection, ctx: BrandContext, user_id: int) -> int:
    """Points earned (spending excluded): what levels and privileges are made of."""
    return _total(session, ctx, user_id)[0]


def balance_of(session: Session, ctx: BrandContext, user_id: int) -> int:
    """Points left to redeem (earned minus redeemed)."""
    return _total(session, ctx, user_id)[1]


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
    post_ids: Select[Any] | CompoundSelect[Any] | None = None,
) -> dict[int, int]:
    """Earned points per user since ``since`` (None: all time), summed in SQL; optionally only
    points earned on the posts ``post_ids`` selects (a community's or a tag's leaderboard: a
    subquery, not a list — a large community's ids would pass the drivers' parameter limits)."""
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
            PointsEntryRow.subject_id.in_(post_ids),
        )
    return {int(uid): int(points or 0) for uid, points in session.execute(stmt)}


def top_totals(session: Session, ctx: BrandContext, scope: str, limit: int) -> dict[int, int]:
    """The ``limit`` highest positive earned totals of a scope (an index range read)."""
    rows = session.execute(
        select(ReputationTotalRow.user_id, ReputationTotalRow.earned)
        .where(
            ReputationTotalRow.brand_id == ctx.brand.id,
            ReputationTotalRow.scope == scope,
            ReputationTotalRow.earned > 0,
        )
        .order_by(ReputationTotalRow.earned.desc(), ReputationTotalRow.user_id)
        .limit(limit)
    )
    return {int(uid): int(earned) for uid, earned in rows}
