"""Races a double click or two tabs produce, through two server processes sharing the
database (SQLite, and PostgreSQL when configured): concurrent redemptions keep within the
balance and the period cap, concurrent escalations make one ticket, and none is a 500."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from crowdcx.community import service as community
from crowdcx.community.models import RedemptionRow
from crowdcx.identity import service as identity
from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.reputation import rules as rep
from crowdcx.reputation import service as points
from crowdcx.tenancy import service as tenancy
from crowdcx.tickets.models import TicketRow
from tests.tickets.test_concurrency import servers  # noqa: F401  (the fixture)


def _member(database_url: str, slug: str, role: str) -> tuple[Database, User, str]:
    """A new brand with one member of ``role`` and an API token for them."""
    db = Database(database_url)
    with db.transaction() as uow:
        tenancy.create_brand(uow, slug=slug, name=slug.upper(), default_locale="en",
                             locales=["en"])  # fmt: skip
        ctx = tenancy.access_brand(uow.session, slug, None)
        user = identity.register(uow, email=f"m@{slug}.example", password="a long passphrase",
                                 display_name="M", locale="en", hash_profile="fast")  # fmt: skip
        tenancy.add_member(uow, ctx, user.email, [role])
        raw, _ = identity.issue_token(uow, user, "api", timedelta(hours=1), utcnow())
    return db, user, raw


def _at_once(bases: list[str], n: int, path: str, token: str, body: Any = None) -> Counter[int]:
    """``n`` POSTs released together, alternating between the server processes; the count of
    each status. ``body`` is the same for all, or a function of the request's number."""
    barrier = threading.Barrier(n)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def one(i: int) -> None:
        with httpx.Client(timeout=60) as c:
            barrier.wait()
            r = c.post(f"{bases[i % 2]}{path}", json=body(i) if callable(body) else body,
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        with lock:
            statuses[r.status_code] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return statuses


def _setup(database_url: str, grant: int) -> tuple[Database, str, int]:
    db, user, raw = _member(database_url, "rw", "helper")
    now = utcnow()
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, "rw", None)
        points.write(uow, ctx, [rep.PointsEntry(
            user.id, ctx.brand.id, grant, "adjustment", rep.SubjectRef("user", user.id),
            now - timedelta(days=40), f"seed:{user.id}",
        )])  # fmt: skip
    return db, raw, user.id


def _fire(bases: list[str], token: str, pts: int) -> Counter[int]:
    body = {"points": pts, "kind": "credit"}
    return _at_once(bases, 20, "/api/v1/brands/rw/rewards/redeem", token, body)


def test_concurrent_redemptions_respect_period_cap(
    database_url: str,
    servers: list[str],  # noqa: F811
) -> None:
    # Plenty of balance (100k); the period cap is 25,000 points; each asks 10,000.
    db, token, _uid = _setup(database_url, 100_000)
    statuses = _fire(servers, token, 10_000)
    with db.sessions() as s:
        total = s.scalar(select(func.coalesce(func.sum(RedemptionRow.points), 0)))
    db.dispose()
    assert statuses[500] == 0, statuses
    assert total <= 25_000, (total, statuses)  # was 100,000 (ten accepted)


def test_concurrent_redemptions_respect_balance(
    database_url: str,
    servers: list[str],  # noqa: F811
) -> None:
    db, token, uid = _setup(database_url, 1_000)
    statuses = _fire(servers, token, 500)
    with db.sessions() as s:
        total = s.scalar(select(func.coalesce(func.sum(RedemptionRow.points), 0)))
        bal = points.balance_of(s, tenancy.access_brand(s, "rw", None), uid)
    db.dispose()
    assert statuses[500] == 0, statuses
    assert total <= 1_000, (total, bal, statuses)
    assert bal >= 0, (total, bal, statuses)


def test_concurrent_escalate_clicks_make_one_ticket(
    database_url: str,
    servers: list[str],  # noqa: F811
) -> None:
    db, asker, token = _member(database_url, "esc", "customer")
    now = utcnow()
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, "esc", None)
        admin_ctx = tenancy.BrandContext(ctx.brand, asker, frozenset({"brand_admin"}))
        place = community.create_community(uow, admin_ctx, "main", "Main", "", False)
        asker_ctx = tenancy.BrandContext(ctx.brand, asker, frozenset({"customer"}))
        qid = community.ask(uow, asker_ctx, place, "Roaming does not work",
                            "No mobile data abroad.", "en", [],
                            now - timedelta(days=3)).id  # fmt: skip
    statuses = _at_once(servers, 10, f"/api/v1/brands/esc/questions/{qid}/escalate", token)
    with db.sessions() as s:
        tickets = s.scalar(select(func.count()).select_from(TicketRow))
    db.dispose()
    assert statuses[500] == 0, statuses
    assert tickets == 1, (tickets, statuses)
    assert statuses[201] == 1, statuses


def test_concurrent_review_decisions_decide_once(
    database_url: str,
    servers: list[str],  # noqa: F811
) -> None:
    """Reviewers deciding the same hidden post at the same moment: one decision is written,
    the others are told it is already decided (each used to pass the check, then write)."""
    from crowdcx.community import engagement
    from crowdcx.community.models import ModerationRow

    db, agent, token = _member(database_url, "rev", "agent")
    now = utcnow()
    with db.transaction() as uow:
        brand = tenancy.access_brand(uow.session, "rev", None).brand
        ctx = tenancy.BrandContext(brand, agent, frozenset({"brand_admin", "agent"}))
        place = community.create_community(uow, ctx, "main", "Main", "", False)
        qid = community.ask(uow, ctx, place, "Cheap watches", "http://spam.example", "en", [],
                            now - timedelta(days=1)).id  # fmt: skip
        post = community.get_post(uow.session, ctx, qid)
        engagement.review(uow, ctx, post, "hide", "spam", now - timedelta(hours=1))
    statuses = _at_once(servers, 10, f"/api/v1/brands/rev/moderation/{qid}", token,
                        {"decision": "uphold"})  # fmt: skip
    with db.sessions() as s:
        upheld = s.scalar(
            select(func.count()).select_from(ModerationRow).where(ModerationRow.action == "uphold")
        )
    db.dispose()
    assert statuses[500] == 0, statuses
    assert upheld == 1, (upheld, statuses)
    assert statuses == Counter({200: 1, 409: 9}), statuses
