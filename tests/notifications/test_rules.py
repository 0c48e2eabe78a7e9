"""Digest rules: one digest per user and interval, never one mail per event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.notifications.rules import Pending, digests_due

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


def test_one_digest_per_user_newest_first_and_capped() -> None:
    pending = [Pending(i, 1, T0 + timedelta(minutes=i)) for i in range(30)] + [Pending(100, 2, T0)]
    out = digests_due(pending, {}, T0 + timedelta(hours=1), max_items=20)
    assert [d.user_id for d in out] == [1, 2]
    assert out[0].shown_ids[:2] == (29, 28)
    assert len(out[0].notification_ids) == 30
    assert out[0].more == 10


def test_a_recent_digest_holds_the_next_back() -> None:
    pending = [Pending(1, 1, T0)]
    last = {1: T0 - timedelta(hours=23)}
    assert digests_due(pending, last, T0) == []
    assert len(digests_due(pending, last, T0 + timedelta(hours=1))) == 1


@given(
    st.lists(
        st.tuples(st.integers(1, 5), st.integers(0, 10_000)), max_size=60, unique_by=lambda t: t
    ),
    st.integers(1, 50),
)
def test_every_pending_notification_is_in_exactly_one_digest(
    items: list[tuple[int, int]], cap: int
) -> None:
    pending = [Pending(i, uid, T0 + timedelta(seconds=s)) for i, (uid, s) in enumerate(items)]
    out = digests_due(pending, {}, T0 + timedelta(days=1), max_items=cap)
    ids = [n for d in out for n in d.notification_ids]
    assert sorted(ids) == list(range(len(items)))
    assert len({d.user_id for d in out}) == len(out)
    assert all(len(d.shown_ids) <= cap and d.more == len(d.notification_ids) - len(d.shown_ids)
               for d in out)  # fmt: skip
