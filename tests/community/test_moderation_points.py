"""Hiding a post takes its author's earnings back and restoring gives them back: through the
ledger, and outside the daily cap — a take-back frees no room under that day's cap, and a
give-back neither uses today's room nor is trimmed by it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crowdcx.community.rules import points_to_give_back, points_to_take_back
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.reputation import service as points
from crowdcx.reputation.models import PointsEntryRow
from crowdcx.reputation.rules import (
    ALL_TIME,
    PointsEntry,
    PointsEvent,
    ReputationPolicy,
    SubjectRef,
    cap_day,
    cap_scope,
    capped_points_on_day,
    entries_for,
    ledger_problems,
    recompute,
    totals_delta,
)
from crowdcx.tenancy.service import access_brand
from tests.community.test_api import Forum
from tests.conftest import World

POLICY = ReputationPolicy()
AUTHOR = 1
HIDDEN = SubjectRef("answer", 7)  # the post moderation hides and restores
OTHER = SubjectRef("answer", 8)  # the author's other post, always visible
BASE = datetime(2025, 3, 10, tzinfo=UTC)


def _upvote(i: int, subject: SubjectRef, voter: int, at: datetime) -> PointsEvent:
    return PointsEvent("vote", 1, AUTHOR, subject, at, f"vote:{subject.id}:{voter}:{i}",
                       actor_id=voter)  # fmt: skip


steps = st.lists(
    st.tuples(
        st.sampled_from(["up_hidden", "up_other", "hide", "restore"]),
        st.integers(2, 40),  # the voter
        st.integers(0, 3 * 24 * 60),  # minutes from BASE
    ),
    max_size=80,
)


@given(steps)
@settings(max_examples=200, deadline=None)
def test_moderation_moves_neither_the_cap_nor_what_the_cap_trims(
    plan: list[tuple[str, int, int]],
) -> None:
    """The same upvotes, with and without hiding and restoring the post between them: every
    upvote is trimmed to the same points, each day's capped total is the same, and once the
    post is visible again its author holds what they hold without the moderation."""
    with_mod: list[PointsEntry] = []
    without: list[PointsEntry] = []
    hidden = False
    voted: set[int] = set()
    for i, (kind, voter, minute) in enumerate(sorted(plan, key=lambda s: s[2])):
        at = BASE + timedelta(minutes=minute)
        if kind == "hide" and not hidden:
            with_mod += points_to_take_back(
                [e for e in with_mod if e.subject == HIDDEN], AUTHOR, at
            )
            hidden = True
        elif kind == "restore" and hidden:
            standing = {f"vote:{HIDDEN.id}:{v}:{n}" for v, n in _standing(with_mod)}
            with_mod += points_to_give_back(
                [e for e in with_mod if e.subject == HIDDEN], AUTHOR, at, standing, str(i)
            )
            hidden = False
        elif kind.startswith("up") and not (kind == "up_hidden" and (hidden or voter in voted)):
            subject = HIDDEN if kind == "up_hidden" else OTHER
            if subject == HIDDEN:
                voted.add(voter)
            event = _upvote(i, subject, voter, at)
            got = entries_for(event, POLICY, with_mod)
            expected = entries_for(event, POLICY, without)
            assert [e.points for e in got] == [e.points for e in expected]
            with_mod += got
            without += expected
    assert ledger_problems(with_mod) == []
    cap = POLICY.daily_cap
    assert cap is not None
    for day in {cap_day(e.at, POLICY) for e in with_mod}:
        on_day = capped_points_on_day(AUTHOR, day, with_mod, POLICY)
        assert on_day == capped_points_on_day(AUTHOR, day, without, POLICY)
        assert on_day <= cap
    # The running totals agree: a day's cap total is what the cap rule sums.
    delta = totals_delta(with_mod, POLICY.cap_timezone, POLICY.capped_reasons)
    for e in with_mod:
        on_day = capped_points_on_day(AUTHOR, cap_day(e.at, POLICY), with_mod, POLICY)
        assert delta.get((AUTHOR, cap_scope(e.at)), (0, 0))[0] == on_day
    hidden_earned = sum(e.points for e in without if e.subject == HIDDEN)
    total = recompute(with_mod).get(AUTHOR, 0)
    assert total == recompute(without).get(AUTHOR, 0) - (hidden_earned if hidden else 0)
    assert delta.get((AUTHOR, ALL_TIME), (0, 0))[0] == total


def _standing(entries: list[PointsEntry]) -> set[tuple[int, int]]:
    """(voter, step) of every upvote cast on the hidden post (none is withdrawn here)."""
    out: set[tuple[int, int]] = set()
    for e in entries:
        if e.subject == HIDDEN and e.reverses is None and ":back:" not in e.key:
            _vote, _post, voter, step, _who = e.key.split(":")
            out.add((int(voter), int(step)))
    return out


def test_a_restore_gives_back_everything_on_a_capped_day() -> None:
    """The author's day is at the cap when the post comes back: the give-back is whole, and
    the next upvote that day is still trimmed by the upvotes of that day alone."""
    day1, day2 = BASE + timedelta(hours=9), BASE + timedelta(days=1, hours=9)
    ledger: list[PointsEntry] = []
    for n in range(3):  # 30 points on the post on day 1
        ledger += entries_for(_upvote(n, HIDDEN, 10 + n, day1), POLICY, ledger)
    ledger += points_to_take_back(ledger, AUTHOR, day1 + timedelta(hours=1))
    # Hiding freed no room on day 1: 17 more upvotes reach the cap of 200 exactly.
    for n in range(17):
        ledger += entries_for(_upvote(100 + n, OTHER, 20 + n, day1), POLICY, ledger)
    assert capped_points_on_day(AUTHOR, cap_day(day1, POLICY), ledger, POLICY) == 200
    late = entries_for(_upvote(200, OTHER, 99, day1), POLICY, ledger)
    assert [(e.points, e.capped) for e in late] == [(0, True)]
    # Day 2: the author's upvotes reach the cap, then the post is restored.
    for n in range(20):
        ledger += entries_for(_upvote(300 + n, OTHER, 40 + n, day2), POLICY, ledger)
    before = recompute(ledger)[AUTHOR]
    standing = {f"vote:{HIDDEN.id}:{10 + n}:{n}" for n in range(3)}
    back = points_to_give_back(ledger, AUTHOR, day2 + timedelta(hours=1), standing, "9")
    assert sum(e.points for e in back) == 30  # not trimmed by the full day
    ledger += back
    assert recompute(ledger)[AUTHOR] == before + 30
    assert capped_points_on_day(AUTHOR, cap_day(day2, POLICY), ledger, POLICY) == 200


# --------------------------------------------------------------------------- through the API


def test_a_restore_over_the_api_neither_uses_nor_is_limited_by_todays_cap(
    client: TestClient, world: World, db: Database
) -> None:
    """An answer upvoted and hidden yesterday is restored today, when its author's upvotes
    have nearly reached the cap: the 10 points come back whole, today's cap total does not
    move, and the next upvote today still finds the 5 points of room left."""
    f = Forum(client, world, db)
    qid = f.ask()
    author, voter, other_voter = f.helpers[0], f.helpers[1], f.helpers[2]
    f.grant(voter, 20)
    f.grant(other_voter, 20)
    hidden = f.answer(qid, author, "Проверьте настройки APN.")
    later = f.answer(f.ask("Второй вопрос"), author, "Перезагрузите телефон.")
    assert f.post(f"/posts/{hidden}/vote", voter, {"value": 1}).status_code == 200
    assert f.post(f"/moderation/{hidden}", f.agent, {"decision": "hide"}).status_code == 200
    assert f.rep(author)["points"] == 0
    today = utcnow()
    with db.transaction() as uow:  # the vote and the hiding happened yesterday
        ctx = access_brand(uow.session, f.slug, None)
        for row in uow.session.scalars(
            select(PointsEntryRow).where(PointsEntryRow.brand_id == ctx.brand.id,
                                         PointsEntryRow.user_id == author.id)
        ):  # fmt: skip
            row.at -= timedelta(days=1)
        uow.session.flush()
        points.rebuild_totals(uow.session, ctx.brand.id, today)
        # Today the author's other answers earned 195 upvote points.
        points.write(uow, ctx, [PointsEntry(
            author.id, ctx.brand.id, 195, "answer_upvoted", SubjectRef("answer", later),
            today, f"earlier-today:{author.id}",
        )])  # fmt: skip

    def cap_total() -> int:
        with db.transaction() as uow:
            ctx = access_brand(uow.session, f.slug, None)
            return sum(e.points for e in points.history_today(uow.session, ctx, [author.id],
                                                                utcnow()))  # fmt: skip

    assert cap_total() == 195
    r = f.post(f"/moderation/{hidden}", f.agent, {"decision": "restore"})
    assert r.status_code == 200, r.text
    assert f.rep(author)["points"] == 205  # all 10 given back, however full today is
    assert cap_total() == 195  # and none of today's room used
    assert f.post(f"/posts/{later}/vote", other_voter, {"value": 1}).status_code == 200
    assert f.rep(author)["points"] == 210  # the cap trims the new upvote to the 5 left
    assert cap_total() == 200
    # A full recompute from the ledger agrees with the running totals.
    with db.transaction() as uow:
        ctx = access_brand(uow.session, f.slug, None)
        points.rebuild_totals(uow.session, ctx.brand.id, utcnow())
    assert cap_total() == 200
    assert f.rep(author)["points"] == 210
