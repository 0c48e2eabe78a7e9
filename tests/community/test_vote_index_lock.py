"""Votes on unsolved questions do not queue behind the brand's search index lock on
PostgreSQL. Such a question is not in the index (only solved ones are searchable), so its
vote has nothing to change there: it must not take the brand's ``search_stats`` row, which
every index writer of the brand holds until it commits. Here one transaction holds that row
while members vote through two server processes: the votes on unsolved questions complete,
and a vote on the solved question — whose document does change — waits until the holder is
gone, and then completes too."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from crowdcx.community import service as community
from crowdcx.community.models import PostRow
from crowdcx.identity import service as identity
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.reputation import rules as rep
from crowdcx.reputation import service as points
from crowdcx.tenancy import service as tenancy
from tests.tickets.test_concurrency import servers  # noqa: F401  (the fixture)

VOTERS = 8
UNSOLVED = 3


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_votes_on_unsolved_questions_do_not_wait_for_the_index_lock(
    database_url: str,
    servers: list[str],  # noqa: F811
) -> None:
    db = Database(database_url)
    now = utcnow()
    tokens: list[str] = []
    with db.transaction() as uow:
        tenancy.create_brand(uow, slug="lock", name="Lock", default_locale="ru",
                             locales=["ru", "en"])  # fmt: skip
        admin_ctx = tenancy.access_brand(uow.session, "lock", None)
        people = []
        for i in range(VOTERS + 2):
            user = identity.register(
                uow, email=f"v{i}@lock.example", password="a long passphrase",
                display_name=f"V{i}", locale="ru", hash_profile="fast",
            )  # fmt: skip
            tenancy.add_member(uow, admin_ctx, user.email, ["helper"])
            people.append(user)
            raw, _tok = identity.issue_token(uow, user, "api", timedelta(hours=1), now)
            tokens.append(raw)
        ctx = tenancy.access_brand(uow.session, "lock", None)
        points.write(uow, ctx, [  # the upvote privilege
            rep.PointsEntry(u.id, ctx.brand.id, 200, "adjustment", rep.SubjectRef("user", u.id),
                            now - timedelta(days=30), f"seed:{u.id}")
            for u in people
        ])  # fmt: skip
        asker, helper = people[0], people[1]
        asker_ctx = tenancy.BrandContext(ctx.brand, asker, frozenset({"helper"}))
        helper_ctx = tenancy.BrandContext(ctx.brand, helper, frozenset({"helper"}))
        admin = tenancy.BrandContext(ctx.brand, asker, frozenset({"brand_admin"}))
        place = community.create_community(uow, admin, "main", "Main", "", False)
        body = "После обновления нет 4G."
        unsolved = [
            community.ask(uow, asker_ctx, place, f"Сеть {i}", body, "ru", [], now).id
            for i in range(UNSOLVED)
        ]
        solved = community.ask(uow, asker_ctx, place, "Не подключается роуминг",
                               "В поездке нет сети.", "ru", [], now)  # fmt: skip
        answer = community.answer(uow, helper_ctx, solved, "Включите роуминг данных.", now)
        community.accept(uow, asker_ctx, solved, answer.id, now)  # indexed: the brand's row
        brand_id, solved_id = ctx.brand.id, solved.id
    crowd = tokens[2:]

    engine = create_engine(database_url)
    holder = engine.connect()
    holder.begin()
    # What every index writer of the brand takes first (PostgresSearchIndex._lock_brand).
    held = holder.execute(
        text("SELECT documents FROM search_stats "
             "WHERE brand_id = :b AND visibility = 'public' FOR UPDATE"),
        {"b": brand_id},
    ).scalar_one()  # fmt: skip
    assert held == 1
    statuses: Counter[int | str] = Counter()
    lock = threading.Lock()

    def vote(index: int, token: str, post_id: int, timeout: float) -> None:
        try:
            r = httpx.post(
                f"{servers[index % 2]}/api/v1/brands/lock/posts/{post_id}/vote",
                json={"value": 1}, headers={"Authorization": f"Bearer {token}"},
                timeout=timeout,
            )  # fmt: skip
            outcome: int | str = r.status_code
        except httpx.TimeoutException:
            outcome = "timed out"
        with lock:
            statuses[outcome] += 1

    try:
        barrier = threading.Barrier(VOTERS)

        def unsolved_vote(index: int, token: str) -> None:
            barrier.wait()
            vote(index, token, unsolved[index % UNSOLVED], 20)

        threads = [threading.Thread(target=unsolved_vote, args=(i, t)) for i, t in enumerate(crowd)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(40)
        assert statuses == {200: VOTERS}, statuses  # all done while the lock is held
        # A vote on the solved question re-adds its document: it takes the lock, and waits.
        waiting = threading.Thread(target=vote, args=(0, crowd[0], solved_id, 60))
        waiting.start()
        time.sleep(1.0)
        assert waiting.is_alive()  # the lock is held indeed: the index writer still waits
        holder.rollback()
        waiting.join(60)
        assert statuses == {200: VOTERS + 1}, statuses
    finally:
        holder.close()
        engine.dispose()
    with db.sessions() as session:
        ups = dict(session.execute(select(PostRow.id, PostRow.up).where(
            PostRow.id.in_([*unsolved, solved_id]))).all())  # fmt: skip
        expected = Counter(unsolved[i % UNSOLVED] for i in range(VOTERS))
        assert ups == {**expected, solved_id: 1}
        found = session.execute(
            text("SELECT kind, ref_id, helpful_votes FROM search_document WHERE brand_id = :b"),
            {"b": brand_id},
        ).all()
        assert [tuple(r) for r in found] == [("question", str(solved_id), 1)]
    db.dispose()
