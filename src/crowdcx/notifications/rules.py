"""Pure rules of notifications: when a user's e-mail digest is due and what it holds.

A digest is one mail per user and period, never one mail per event: a user is due when they
have notifications not yet mailed nor read, and their last digest is at least ``interval``
old. The digest lists the newest ``max_items`` and counts the rest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

DEFAULT_INTERVAL: Final = timedelta(hours=24)
DEFAULT_MAX_ITEMS: Final = 20


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    user_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Digest:
    user_id: int
    notification_ids: tuple[int, ...]  # every pending one (all are marked mailed)
    shown_ids: tuple[int, ...]  # the newest, listed in the mail
    more: int  # pending but not listed


def digests_due(
    pending: Iterable[Pending],
    last_digest_at: Mapping[int, datetime],
    now: datetime,
    interval: timedelta = DEFAULT_INTERVAL,
    max_items: int = DEFAULT_MAX_ITEMS,
) -> list[Digest]:
    """One digest per user whose last digest is older than ``interval`` (or who never had
    one), in user order; notifications newest first."""
    by_user: dict[int, list[Pending]] = {}
    for p in pending:
        by_user.setdefault(p.user_id, []).append(p)
    out: list[Digest] = []
    for user_id in sorted(by_user):
        last = last_digest_at.get(user_id)
        if last is not None and now - last < interval:
            continue
        items = sorted(by_user[user_id], key=lambda p: (p.created_at, p.id), reverse=True)
        shown = items[:max_items]
        out.append(
            Digest(
                user_id=user_id,
                notification_ids=tuple(p.id for p in items),
                shown_ids=tuple(p.id for p in shown),
                more=len(items) - len(shown),
            )
        )
    return out
