"""Sign-in back-off under concurrency: parallel guesses cannot outrun the lockout."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from crowdcx.identity import rules
from crowdcx.identity import service as identity
from crowdcx.identity.models import LoginThrottle
from crowdcx.kernel.db import Database


def test_parallel_guesses_meet_the_lockout(
    client: TestClient, db: Database, monkeypatch: Any
) -> None:
    """Twenty wrong passwords at once: five are checked (free), the rest find the lock, and
    each checked one is recorded. Before, all twenty were checked and one was recorded."""
    email = "victim@example.com"
    with db.transaction() as uow:
        # The production hash profile: verification costs real time, as in production.
        identity.register(
            uow,
            email=email,
            password="the real passphrase 42",
            display_name="Victim",
            locale="en",
            hash_profile="default",
        )

    checked = 0
    lock = threading.Lock()
    real_verify = identity.verify_password

    def counting_verify(*a: Any, **kw: Any) -> bool:
        nonlocal checked
        with lock:
            checked += 1
        return real_verify(*a, **kw)

    monkeypatch.setattr(identity, "verify_password", counting_verify)

    attempts = 20
    start = threading.Barrier(attempts)

    def guess(i: int) -> int:
        start.wait()
        r = client.post(
            "/api/v1/auth/token", json={"email": email, "password": f"guess number {i}"}
        )
        return r.status_code

    with ThreadPoolExecutor(attempts) as pool:
        codes = list(pool.map(guess, range(attempts)))

    with db.transaction() as uow:
        row = uow.session.scalar(select(LoginThrottle).where(LoginThrottle.email == email))
        failures = row.failures if row else 0
    assert 200 not in codes
    assert checked <= rules.FREE_FAILURES + 1, f"{checked} passwords were checked"
    assert failures == checked, f"{checked} wrong passwords but only {failures} recorded"
