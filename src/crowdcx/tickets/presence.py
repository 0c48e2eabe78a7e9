"""When experts were online: the ``expert_presence`` intervals kept in step with
``expert_profiles.online``, in the transaction that flips the flag.

Every flip goes through :func:`set_online` (the expert's own switch, a role taken away) or
:func:`take_offline_everywhere` (an account erased): a conditional update of the flag that
only a real change passes, so two "online" at once open one interval, not two (on
PostgreSQL the second update waits for the first's row lock and then finds nothing to
change; on SQLite writers queue). The unique index on the open interval is the backstop.
The capacity plan reads the intervals (:func:`intervals`); the sweeper's housekeeping drops
old ones (:func:`prune`); privacy exports and detaches a person's (:func:`detach`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import case, delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from crowdcx.tenancy.models import Brand
from crowdcx.tickets.models import ExpertPresenceRow, ExpertProfileRow

KEEP: Final = timedelta(weeks=12)  # intervals that ended longer ago are dropped

Interval = tuple[datetime, datetime | None]  # (online_at, offline_at or None: still online)


def set_online(session: Session, brand_id: int, user_id: int, online: bool, now: datetime) -> bool:
    """Flip the expert's ``online`` flag in the brand if it differs, and open or close their
    presence interval with it. True if the flag changed (the caller bumps the roster)."""
    changed = session.execute(
        update(ExpertProfileRow)
        .where(
            ExpertProfileRow.brand_id == brand_id,
            ExpertProfileRow.user_id == user_id,
            ExpertProfileRow.online != online,
        )
        .values(online=online, updated_at=now)
    )
    if int(getattr(changed, "rowcount", 0) or 0) != 1:
        return False
    if online:
        _open(session, brand_id, user_id, now)
    else:
        _close(session, brand_id, user_id, now)
    return True


def take_offline_everywhere(session: Session, user_id: int, now: datetime) -> list[int]:
    """The person's profiles in every brand go offline and their open intervals close.
    Returns the brands where they were online (the caller bumps those brands' rosters)."""
    brands = session.scalars(
        update(ExpertProfileRow)
        .where(ExpertProfileRow.user_id == user_id, ExpertProfileRow.online.is_(True))
        .values(online=False, updated_at=now)
        .returning(ExpertProfileRow.brand_id)
        .execution_options(synchronize_session=False)
    ).all()
    _close(session, None, user_id, now)
    return sorted(brands)


def _open(session: Session, brand_id: int, user_id: int, now: datetime) -> None:
    """Open an interval unless one is open already (one statement: idempotent)."""
    already = aliased(ExpertPresenceRow)
    none_open = ~exists().where(
        already.brand_id == brand_id, already.user_id == user_id, already.offline_at.is_(None)
    )
    at = literal(now, ExpertPresenceRow.online_at.type)
    session.execute(
        insert(ExpertPresenceRow).from_select(
            ["brand_id", "user_id", "online_at"],
            select(literal(brand_id), literal(user_id), at).where(none_open),
        )
    )


def _close(session: Session, brand_id: int | None, user_id: int, now: datetime) -> None:
    stmt = update(ExpertPresenceRow).where(
        ExpertPresenceRow.user_id == user_id, ExpertPresenceRow.offline_at.is_(None)
    )
    if brand_id is not None:
        stmt = stmt.where(ExpertPresenceRow.brand_id == brand_id)
    # An interval opened "after" now by a clock that ran ahead closes empty, never negative.
    ends = case(
        (ExpertPresenceRow.online_at > now, ExpertPresenceRow.online_at),
        else_=literal(now, ExpertPresenceRow.offline_at.type),
    )
    session.execute(stmt.values(offline_at=ends).execution_options(synchronize_session=False))


def intervals(session: Session, brand_id: int, since: datetime, until: datetime) -> list[Interval]:
    """The brand's intervals overlapping [since, until) (index ix_expert_presence_brand_offline)."""
    rows = session.execute(
        select(ExpertPresenceRow.online_at, ExpertPresenceRow.offline_at).where(
            ExpertPresenceRow.brand_id == brand_id,
            (ExpertPresenceRow.offline_at > since) | ExpertPresenceRow.offline_at.is_(None),
            ExpertPresenceRow.online_at < until,
        )
    )
    return [(on, off) for on, off in rows]


def recorded_since(session: Session, brand_id: int) -> datetime | None:
    """The start of the brand's earliest interval kept: presence is known from then on."""
    first: datetime | None = session.scalar(
        select(func.min(ExpertPresenceRow.online_at)).where(ExpertPresenceRow.brand_id == brand_id)
    )
    return first


def of_person(session: Session, user_id: int) -> list[ExpertPresenceRow]:
    """A person's own intervals in every brand (their data export)."""
    return list(
        session.scalars(
            select(ExpertPresenceRow)
            .where(ExpertPresenceRow.user_id == user_id)
            .order_by(ExpertPresenceRow.brand_id, ExpertPresenceRow.online_at)
        )
    )


def detach(session: Session, brand_id: int | None, user_id: int, now: datetime) -> None:
    """Erasure: the person's intervals (in one brand, or all) stay counted in the capacity
    plan but no longer name them. An interval still open is split at ``now`` (which changes
    no average): the part before is detached, and an expert still online in the brand goes
    on with a fresh interval of their own, for their going offline to close (both erasures
    take the person offline first, so that is a safeguard)."""
    _close(session, brand_id, user_id, now)
    stmt = update(ExpertPresenceRow).where(ExpertPresenceRow.user_id == user_id)
    if brand_id is not None:
        stmt = stmt.where(ExpertPresenceRow.brand_id == brand_id)
    session.execute(stmt.values(user_id=None).execution_options(synchronize_session=False))
    online = select(ExpertProfileRow.brand_id).where(
        ExpertProfileRow.user_id == user_id, ExpertProfileRow.online.is_(True)
    )
    if brand_id is not None:
        online = online.where(ExpertProfileRow.brand_id == brand_id)
    for still in session.scalars(online).all():
        _open(session, still, user_id, now)


def prune(session: Session, now: datetime) -> int:
    """Drop the intervals (every brand) that ended more than :data:`KEEP` before ``now``;
    brand by brand, a range on the (brand, offline_at) index. Returns the rows dropped."""
    dropped = 0
    for brand_id in session.scalars(select(Brand.id).order_by(Brand.id)).all():
        gone = session.execute(
            delete(ExpertPresenceRow)
            .where(
                ExpertPresenceRow.brand_id == brand_id,
                ExpertPresenceRow.offline_at < now - KEEP,
            )
            .execution_options(synchronize_session=False)
        )
        dropped += int(getattr(gone, "rowcount", 0) or 0)
    return dropped
