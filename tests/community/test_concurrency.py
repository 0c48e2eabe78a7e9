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
        question = community.ask(uow, asker_ctx, place, "Не работает интернет", "Нет 4G.",
                                 "ru", [], now)  # fmt: skip
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
