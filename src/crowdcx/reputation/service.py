"""The points ledger as the shell sees it: write entries idempotently (by key), read a user's
history, balance, reputation, level and privileges, and leaderboards aggregated in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
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
        r.outside_cap,
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
    scope = rep.cap_scope(now.astimezone(POLICY.cap_timezone), POLICY.cap_timezone)
    rows = session.execute(_history_today(), {"brand": ctx.brand.id, "ids": ids, "scope": scope})
    return _day_entries(ctx, now, [(int(uid), int(total)) for uid, total in rows])


def standing_and_history_today(
    session: Session, ctx: BrandContext, actor_id: int, user_ids: Iterable[int], now: datetime
) -> tuple[int, list[rep.PointsEntry]]:
    """The actor's standing (:func:`standing_of`) and :func:`history_today` of ``user_ids``
    (the actor among them), in one statement: a vote reads both before deciding."""
    ids = sorted({*user_ids, actor_id})
    if POLICY.daily_cap is None or not POLICY.capped_reasons:
        return standing_of(session, ctx, actor_id), []
    scope = rep.cap_scope(now.astimezone(POLICY.cap_timezone), POLICY.cap_timezone)
    rows = session.execute(
        _standing_and_day(), {"brand": ctx.brand.id, "ids": ids, "scopes": [rep.ALL_TIME, scope]}
    )
    standing, day = 0, []
    for uid, row_scope, earned, row_standing in rows:
        if row_scope == scope:
            day.append((int(uid), int(earned)))
        elif int(uid) == actor_id:
            standing = int(row_standing)
    return standing, _day_entries(ctx, now, day)


def _day_entries(
    ctx: BrandContext, now: datetime, totals: list[tuple[int, int]]
) -> list[rep.PointsEntry]:
    """One entry per (user, net capped points today), as :func:`history_today` returns."""
    local = now.astimezone(POLICY.cap_timezone)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    scope = rep.cap_scope(local, POLICY.cap_timezone)
    reason = min(POLICY.capped_reasons)
    return [
        rep.PointsEntry(uid, ctx.brand.id, total, reason,  # type: ignore[arg-type]
                        rep.SubjectRef("user", uid), day_start, f"sum:{uid}:{scope}")
        for uid, total in sorted(totals)
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
def _standing_and_day() -> Any:
    return select(
        ReputationTotalRow.user_id, ReputationTotalRow.scope, ReputationTotalRow.earned,
        ReputationTotalRow.standing,
    ).where(
        ReputationTotalRow.brand_id == bindparam("brand"),
        ReputationTotalRow.scope.in_(bindparam("scopes", expanding=True)),
        ReputationTotalRow.user_id.in_(bindparam("ids", expanding=True)),
    )  # fmt: skip


@cache
def _entries_from_key() -> Any:
    return select(PointsEntryRow).where(
        PointsEntryRow.brand_id == bindparam("brand"),
        PointsEntryRow.key >= bindparam("low"),
        PointsEntryRow.key < bindparam("high"),
    )


@cache
def _total_of() -> Any:
    return select(
        ReputationTotalRow.earned, ReputationTotalRow.balance, ReputationTotalRow.standing
    ).where(
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


@dataclass(frozen=True, slots=True)
class Rise:
    """A person's all-time standing moved up by a write: what level-up notices compare."""

    earned: int  # the all-time total after the write
    standing_before: int
    standing: int


def write(
    uow: UnitOfWork, ctx: BrandContext, entries: Iterable[rep.PointsEntry]
) -> dict[int, Rise]:
    """Append entries; an entry whose key exists is skipped (idempotent). The running totals
    move in the same transaction. Returns, for each person whose all-time total rose, their
    total and standing before and after (read under the write's lock: on SQLite the ledger
    insert took it, on PostgreSQL the rows are read ``FOR UPDATE``)."""
    entries = list(entries)
    if not entries:
        uow.session.flush()  # as with entries: callers may count on it
        return {}
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
         "capped": e.capped, "outside_cap": e.outside_cap, "at": e.at}
        for e in written
    ])  # fmt: skip
    delta = rep.totals_delta(written, POLICY.cap_timezone, POLICY.capped_reasons)
    gained = {u: earned for (u, scope), (earned, _b) in delta.items()
              if scope == rep.ALL_TIME and earned > 0}  # fmt: skip
    before = _standings(uow.session, ctx.brand.id, sorted(gained)) if gained else {}
    apply_totals(uow.session, ctx.brand.id, delta)
    rises: dict[int, Rise] = {}
    for user_id, earned in gained.items():
        total, standing = before.get(user_id, (0, 0))
        after = rep.standing_after(standing, total + earned, POLICY)
        rises[user_id] = Rise(total + earned, standing, after)
    return rises


def _standings(session: Session, brand_id: int, users: list[int]) -> dict[int, tuple[int, int]]:
    """(all-time total, standing) of ``users``, locked until commit on PostgreSQL."""
    stmt = _standings_stmt(session.get_bind().dialect.name == "postgresql")
    rows = session.execute(stmt, {"brand": brand_id, "users": users})
    return {int(u): (int(e), int(st)) for u, e, st in rows}


@cache
def _standings_stmt(lock: bool) -> Any:
    """Built once (every vote and accept that earns points reads it)."""
    stmt = select(
        ReputationTotalRow.user_id, ReputationTotalRow.earned, ReputationTotalRow.standing
    ).where(
        ReputationTotalRow.brand_id == bindparam("brand"),
        ReputationTotalRow.scope == rep.ALL_TIME,
        ReputationTotalRow.user_id.in_(bindparam("users", expanding=True)),
    )
    return stmt.with_for_update() if lock else stmt


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
        _totals_upsert(session.get_bind().dialect.name, POLICY.demote_below_percent),
        [
            {"brand_id": brand_id, "user_id": user_id, "scope": scope, "earned": earned,
             "balance": balance, "standing": rep.standing_after(0, earned, POLICY)}
            for (user_id, scope), (earned, balance) in sorted(delta.items())
        ],
    )  # fmt: skip


@cache
def _totals_upsert(dialect: str, demote_below_percent: int) -> Any:
    """Add to the totals and move the standing by ``rules.standing_after`` in the same
    statement, from the row as the database holds it (concurrent writers each see the
    other's total)."""
    postgres = dialect == "postgresql"
    insert_ = pg_insert if postgres else sqlite_insert
    table = ReputationTotalRow.__table__
    assert isinstance(table, Table)
    stmt = insert_(table)
    total = table.c.earned + stmt.excluded.earned
    greatest, least = (func.greatest, func.least) if postgres else (func.max, func.min)
    # Integer division truncates in SQL and floors in Python: they differ only below zero,
    # where both give the total itself (standing_after's max).
    line = total * 100 / literal(demote_below_percent)
    return stmt.on_conflict_do_update(
        index_elements=["brand_id", "scope", "user_id"],
        set_={
            "earned": total,
            "balance": table.c.balance + stmt.excluded.balance,
            "standing": greatest(total, least(table.c.standing, line)),
        },
    )


def rebuild_totals(
    session: Session, brand_id: int, now: datetime | None = None, batch: int = 50_000
) -> int:
    """Recompute a brand's running totals from the ledger (the truth): all time and the
    current week and month — the boards people read; a past period's board is a ledger query
    away — today's daily-cap total, and each person's standing (levels and privileges with
    their hysteresis). Returns the number of ledger rows read.

    One pass of the brand's ledger sums per person what each of those scopes holds (a
    conditional sum per scope, bounded by the period's instants in the cap's time zone;
    4.3 s for a million rows in SQLite where grouping by person and day took 10.5 s, and one
    path for every time zone) and whether their total ever went down. Then the entries of
    those whose standing depends on the order of their history are replayed in the order
    they were written (:func:`_replayed_standings`)."""
    at = now or datetime.now(UTC)
    tz, capped_reasons = POLICY.cap_timezone, POLICY.capped_reasons
    local = at.astimezone(tz)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = day - timedelta(days=local.weekday())
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    entry = PointsEntryRow
    earning = entry.reason.not_in(sorted(rep.SPEND_REASONS))
    # Moderation's take-backs and give-backs move every total but the cap's.
    capped = and_(entry.reason.in_(sorted(capped_reasons or {""})), entry.outside_cap.is_(False))

    def sums(*where: Any) -> tuple[Any, Any, Any]:
        """(earned, balance, entries) of the entries matching ``where``."""
        inside = and_(*where) if where else None
        if inside is None:
            return (func.sum(case((earning, entry.points), else_=0)), func.sum(entry.points),
                    func.count(entry.id))  # fmt: skip
        return (func.sum(case((and_(inside, earning), entry.points), else_=0)),
                func.sum(case((inside, entry.points), else_=0)),
                func.sum(case((inside, 1), else_=0)))  # fmt: skip

    # Scope → the instants it covers (local midnights of the cap's time zone, as instants).
    bounded = [
        (rep.ALL_TIME, ()),
        (rep.period_scope("week", at, tz), (entry.at >= week, entry.at < week + timedelta(7))),
        (rep.period_scope("month", at, tz), (entry.at >= month, entry.at < next_month)),
        (rep.cap_scope(at, tz), (entry.at >= day, entry.at < day + timedelta(1), capped)),
    ]
    went_down = func.sum(case((and_(earning, entry.points < 0), 1), else_=0))
    stmt = (
        select(entry.user_id, went_down,
               *(c for _scope, where in bounded for c in sums(*where)))
        .where(entry.brand_id == brand_id)
        .group_by(entry.user_id)
    )  # fmt: skip
    session.execute(delete(ReputationTotalRow).where(ReputationTotalRow.brand_id == brand_id))
    count = 0
    values: list[dict[str, Any]] = []
    replay: list[int] = []  # people whose standing depends on the order of their history
    for row in session.connection().execute(stmt):
        uid = int(row[0])
        for i, (scope, _where) in enumerate(bounded):
            earned, balance, n = (int(v or 0) for v in row[2 + 3 * i : 5 + 3 * i])
            if i == 0:
                count += n
                if row[1] and not rep.standing_is_settled(earned, POLICY):
                    replay.append(uid)
            if not n:
                continue  # as the live path: a scope gets a row with its first entry
            values.append({"brand_id": brand_id, "user_id": uid, "scope": scope,
                           "earned": earned, "balance": balance, "standing": earned})  # fmt: skip
    standings = _replayed_standings(session, brand_id, replay, batch)
    for value in values:
        if value["scope"] == rep.ALL_TIME and value["user_id"] in standings:
            value["standing"] = standings[value["user_id"]]
    for i in range(0, len(values), batch):
        session.execute(insert(ReputationTotalRow), values[i : i + batch])
    session.flush()
    return count


def _replayed_standings(
    session: Session, brand_id: int, people: list[int], batch: int
) -> dict[int, int]:
    """The standing (``rules.standing_after``) of ``people``, replayed from the ledger as the
    live path moved it: in the order each person's entries were written (their ids), one
    step per write (a write's entries for one person share their moment and moved the total
    in one statement). The others — whoever only ever gained, or ends where no threshold
    lies within their demotion line (``rules.standing_is_settled``) — hold what their total
    holds, and their entries are not read: on the seeded million rows, 2,044 people went
    down and held every row, and the settled ones among them are most of it. People are read
    a few hundred at a time through the (brand, user) index. The moment is compared, never
    parsed (SQLite hands back its text)."""
    earning = PointsEntryRow.reason.not_in(sorted(rep.SPEND_REASONS))
    out: dict[int, int] = {}
    for i in range(0, len(people), 500):
        chunk = people[i : i + 500]
        stmt = (
            select(PointsEntryRow.user_id, type_coerce(PointsEntryRow.at, String()),
                   PointsEntryRow.points)
            .where(PointsEntryRow.brand_id == brand_id, earning,
                   PointsEntryRow.user_id.in_(chunk))
            .order_by(PointsEntryRow.user_id, PointsEntryRow.id)
        )  # fmt: skip
        # Core, not the ORM's result layer: a third of the time over a million rows.
        rows = session.connection().execute(stmt.execution_options(yield_per=batch))
        out.update(rep.standings_from_ledger(rows, POLICY))
    return out


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


def lock_total(session: Session, ctx: BrandContext, user_id: int) -> None:
    """Hold the person's all-time total until commit (PostgreSQL: ``FOR UPDATE``; SQLite has
    one writer at a time already), so that what is read next — balance, redemptions — is not
    changed by a concurrent spender before this transaction decides."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(ReputationTotalRow.id)
            .where(
                ReputationTotalRow.brand_id == ctx.brand.id,
                ReputationTotalRow.scope == rep.ALL_TIME,
                ReputationTotalRow.user_id == user_id,
            )
            .with_for_update()
        )


def standing_of(session: Session | Connection, ctx: BrandContext, user_id: int) -> int:
    """What the person's levels and privileges are held at (``rules.standing_after``)."""
    row = session.execute(_total_of(), {"brand": ctx.brand.id, "user": user_id}).first()
    return int(row[2]) if row is not None else 0


def level_of(session: Session | Connection, ctx: BrandContext, user_id: int) -> int:
    """The level held: reached at its threshold, lost only below 90 % of it."""
    return rep.raw_level(standing_of(session, ctx, user_id), POLICY)


def privileges_of(session: Session, ctx: BrandContext, user_id: int) -> frozenset[str]:
    """The privileges held: earned at their threshold, lost only below 90 % of it."""
    return rep.privileges_for(standing_of(session, ctx, user_id), POLICY)


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
