"""A ticket never has two owners: 50 experts claim one queued ticket at the same moment
through two server processes sharing the database — on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from crowdcx.identity import service as identity
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.tenancy import service as tenancy
from crowdcx.tickets import service as tickets
from crowdcx.tickets.models import ExpertProfileRow, TicketRow, TicketTransitionRow
from tests.e2e.conftest import free_port

CLAIMERS = 50


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "CROWDCX_DATABASE_URL": url,
        "CROWDCX_PORT": str(port),
        "CROWDCX_SWEEP_INTERVAL_S": "0",
        "CROWDCX_PASSWORD_HASH_PROFILE": "fast",
        "CROWDCX_SECRET_KEY": "concurrency",
        "CROWDCX_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "crowdcx", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture
def servers(database_url: str) -> Iterator[list[str]]:
    started = [start_server(database_url) for _ in range(2)]
    deadline = time.monotonic() + 30
    for _proc, base in started:
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("servers did not start")
            time.sleep(0.1)
    yield [base for _proc, base in started]
    for proc, _base in started:
        proc.terminate()
        proc.wait(10)


def test_fifty_concurrent_claimers_make_exactly_one_owner(
    database_url: str, servers: list[str]
) -> None:
    db = Database(database_url)
    now = utcnow()
    tokens: dict[int, str] = {}
    with db.transaction() as uow:
        tenancy.create_brand(
            uow, slug="race", name="Race", default_locale="en", locales=["en", "ru"]
        )
        ctx = tenancy.access_brand(uow.session, "race", None)
        tickets.set_policy(uow, ctx, {"routing_mode": "pull", "max_concurrent": 3}, now)
        customer = identity.register(
            uow,
            email="c@race.example",
            password="a long passphrase",
            display_name="C",
            locale="en",
            hash_profile="fast",
        )
        tenancy.add_member(uow, ctx, customer.email, ["customer"])
        for i in range(CLAIMERS):
            user = identity.register(
                uow,
                email=f"e{i}@race.example",
                password="a long passphrase",
                display_name=f"E{i}",
                locale="en",
                hash_profile="fast",
            )
            tenancy.add_member(uow, ctx, user.email, ["expert"])
            ctx = tenancy.access_brand(uow.session, "race", None)
            tickets.upsert_expert(
                uow,
                ctx,
                user.id,
                skills={"general": 3},
                languages=["en"],
                tier=1,
                certifications=[],
                now=now,
            )
            uow.session.execute(
                ExpertProfileRow.__table__.update()
                .where(ExpertProfileRow.user_id == user.id)
                .values(online=True)
            )
            raw, _tok = identity.issue_token(uow, user, "api", timedelta(hours=1), now)
            tokens[user.id] = raw
        member_ctx = tenancy.BrandContext(ctx.brand, customer, frozenset({"customer"}))
        ticket = tickets.create_ticket(
            uow, member_ctx, customer, tickets.Intake("Race", "Who wins?", "general", "en"), now
        )
        ticket_id = ticket.id
    assert ticket.status == "queued"

    barrier = threading.Barrier(CLAIMERS)
    results: dict[int, httpx.Response] = {}

    def claim(index: int, user_id: int, token: str) -> None:
        base = servers[index % 2]
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            results[user_id] = client.post(
                f"{base}/api/v1/brands/race/tickets/{ticket_id}/claim",
                headers={"Authorization": f"Bearer {token}"},
            )

    threads = [
        threading.Thread(target=claim, args=(i, uid, tok))
        for i, (uid, tok) in enumerate(tokens.items())
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    statuses = Counter(r.status_code for r in results.values())
    assert statuses[200] == 1, statuses
    assert statuses[200] + statuses[409] == CLAIMERS, dict(statuses)
    assert all(
        r.status_code == 200 or r.json()["code"] == "already_claimed" for r in results.values()
    )
    winner = next(uid for uid, r in results.items() if r.status_code == 200)
    with db.sessions() as session:
        row = session.get_one(TicketRow, ticket_id)
        assert row.owner_id == winner
        assert row.status == "claimed"
        claims = session.scalar(
            select(func.count())
            .select_from(TicketTransitionRow)
            .where(
                TicketTransitionRow.ticket_id == ticket_id, TicketTransitionRow.action == "claim"
            )
        )
        assert claims == 1
        loads = dict(session.execute(select(ExpertProfileRow.user_id, ExpertProfileRow.load)).all())
        assert sum(loads.values()) == 1
        assert loads[winner] == 1
    db.dispose()
