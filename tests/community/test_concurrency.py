"""Counters survive concurrency: 24 members upvote one answer and 24 answer one question at
the same moment, through two server processes sharing the database — on SQLite and on
PostgreSQL. Every vote and every answer is counted once on the post, and the author's activity
counters (what the badge rules read) equal a recount from the posts."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from crowdcx.community import activity
from crowdcx.community import service as community
from crowdcx.community.models import PostRow, VoteRow
from crowdcx.identity import service as identity
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.reputation import rules as rep
from crowdcx.reputation import service as points
from crowdcx.reputation.models import PointsEntryRow
from crowdcx.tenancy import service as tenancy
from tests.tickets.test_concurrency import servers  # noqa: F401  (the fixture)

PEOPLE = 24


def test_concurrent_votes_and_answers_are_each_counted_once(
    database_url: str,
    servers: list[str],  # noqa: F811
) -> None:
    db = Database(database_url)
    now = utcnow()
    tokens: list[str] = []
    with db.transaction() as uow:
        tenancy.create_brand(uow, slug="crowd", name="Crowd", default_locale="ru",
                             locales=["ru", "en"])  # fmt: skip
        admin_ctx = tenancy.access_brand(uow.session, "crowd", None)
        people = []
        for i in range(PEOPLE + 2):
            user = identity.register(
                uow, email=f"p{i}@crowd.example", password="a long passphrase",
                display_name=f"P{i}", locale="ru", hash_profile="fast",
            )  # fmt: skip
            tenancy.add_member(uow, admin_ctx, user.email, ["helper"])
            people.append(user)
            raw, _tok = identity.issue_token(uow, user, "api", timedelta(hours=1), now)
            tokens.append(raw)
        ctx = tenancy.access_brand(uow.session, "crowd", None)
        points.write(uow, ctx, [
            rep.PointsEntry(u.id, ctx.brand.id, 200, "adjustment", rep.SubjectRef("user", u.id),
                            now - timedelta(days=30), f"seed:{u.id}")
            for u in people
        ])  # fmt: skip
        asker, helper = people[0], people[1]
        asker_ctx = tenancy.BrandContext(ctx.brand, asker, frozenset({"helper"}))
        helper_ctx = tenancy.BrandContext(ctx.brand, helper, frozenset({"helper"}))
        system_ctx = tenancy.BrandContext(ctx.brand, asker, frozenset({"brand_admin"}))
        place = community.create_community(uow, system_ctx, "main", "Main", "", False)
        question = community.ask(uow, asker_ctx, place, "Не работает интернет",
                                 "После обновления нет 4G.", "ru", [], now)  # fmt: skip
        answer = community.answer(uow, helper_ctx, question, "Перезагрузите телефон.", now)
        qid, aid = question.id, answer.id
    crowd = tokens[2:]

    def together(action: str) -> Counter[int]:
        barrier = threading.Barrier(PEOPLE)
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        def one(index: int, token: str) -> None:
            base = servers[index % 2]
            path, body = (
                (f"posts/{aid}/vote", {"value": 1})
                if action == "vote"
                else (f"questions/{qid}/answers", {"body": f"Ответ номер {index}."})
            )
            with httpx.Client(timeout=60) as client:
                barrier.wait()
                r = client.post(f"{base}/api/v1/brands/crowd/{path}", json=body,
                                headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            with lock:
                statuses[r.status_code] += 1

        threads = [threading.Thread(target=one, args=(i, t)) for i, t in enumerate(crowd)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        return statuses

    assert together("vote") == {200: PEOPLE}
    assert together("answer") == {201: PEOPLE}
    with db.sessions() as session:
        a = session.get_one(PostRow, aid)
        q = session.get_one(PostRow, qid)
        votes = session.scalar(select(func.count()).where(VoteRow.post_id == aid))
        assert (votes, a.up, a.down) == (PEOPLE, PEOPLE, 0)
        assert q.answers == PEOPLE + 1
        ctx = tenancy.access_brand(session, "crowd", None)
        for user_id in (helper.id, crowd_user_id(session, ctx)):
            counted = activity.counters(session, ctx.brand.id, user_id)
            assert counted == activity.recount(session, ctx.brand.id, user_id)
        assert activity.counters(session, ctx.brand.id, helper.id).upvotes_received == PEOPLE
    db.dispose()


def crowd_user_id(session: object, ctx: tenancy.BrandContext) -> int:
    """One of the crowd who answered (their answer count moved concurrently with others')."""
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    return int(
        session.scalars(
            select(PostRow.author_id).where(PostRow.brand_id == ctx.brand.id,
                                            PostRow.kind == "answer").order_by(PostRow.id.desc())
        ).first() or 0
    )  # fmt: skip


CLICKS = 6


def test_a_double_clicked_vote_counts_once_and_never_fails(
    database_url: str,
    servers: list[str],  # noqa: F811
) -> None:
    """The same member sends the same upvote six times at once through two processes: one
    counts, the others are told so (409, or 422 already_voted), none is a 500, and the
    ledger equals the total."""
    db = Database(database_url)
    now = utcnow()
    with db.transaction() as uow:
        tenancy.create_brand(uow, slug="dbl", name="Dbl", default_locale="ru", locales=["ru", "en"])
        ctx0 = tenancy.access_brand(uow.session, "dbl", None)
        people = []
        for i in range(3):
            u = identity.register(
                uow,
                email=f"d{i}@dbl.example",
                password="a long passphrase",
                display_name=f"D{i}",
                locale="ru",
                hash_profile="fast",
            )
            tenancy.add_member(uow, ctx0, u.email, ["helper"])
            people.append(u)
        voter = people[2]
        raw, _t = identity.issue_token(uow, voter, "api", timedelta(hours=1), now)
        ctx = tenancy.access_brand(uow.session, "dbl", None)
        points.write(
            uow,
            ctx,
            [
                rep.PointsEntry(
                    voter.id,
                    ctx.brand.id,
                    200,
                    "adjustment",
                    rep.SubjectRef("user", voter.id),
                    now - timedelta(days=30),
                    "seed",
                )
            ],
        )
        sys_ctx = tenancy.BrandContext(ctx.brand, people[0], frozenset({"brand_admin"}))
        place = community.create_community(uow, sys_ctx, "main", "Main", "", False)
        q = community.ask(
            uow,
            tenancy.BrandContext(ctx.brand, people[0], frozenset({"helper"})),
            place,
            "Вопрос",
            "Нет сети после обновления.",
            "ru",
            [],
            now,
        )
        a = community.answer(
            uow,
            tenancy.BrandContext(ctx.brand, people[1], frozenset({"helper"})),
            q,
            "Перезагрузите.",
            now,
        )
        aid, author_id = a.id, people[1].id
    barrier = threading.Barrier(CLICKS)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def click(i: int) -> None:
        with httpx.Client(timeout=60) as c:
            barrier.wait()
            r = c.post(
                f"{servers[i % 2]}/api/v1/brands/dbl/posts/{aid}/vote",
                json={"value": 1},
                headers={"Authorization": f"Bearer {raw}"},
            )
        with lock:
            statuses[r.status_code] += 1

    threads = [threading.Thread(target=click, args=(i,)) for i in range(CLICKS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with db.sessions() as s:
        ledger = (
            s.scalar(
                select(func.sum(PointsEntryRow.points)).where(PointsEntryRow.user_id == author_id)
            )
            or 0
        )
        ctx = tenancy.access_brand(s, "dbl", None)
        total = points.reputation_of(s, ctx, author_id)
    db.dispose()
    assert statuses[500] == 0, statuses
    assert statuses[200] == 1, statuses
    assert statuses[409] + statuses[422] == CLICKS - 1, statuses  # concurrent / already_voted
    assert ledger == total == 10, (ledger, total)
