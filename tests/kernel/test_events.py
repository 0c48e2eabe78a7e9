"""After-commit events: delivered once after commit, dropped on rollback."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.events import EventBus


@dataclass(frozen=True)
class Happened:
    n: int


def test_handlers_run_after_commit_and_see_committed_data(database_url: str) -> None:
    db = Database(database_url)
    seen: list[tuple[int, int]] = []

    def handler(event: Happened) -> None:
        with db.sessions() as other:  # a separate connection sees the committed row
            count = len(list(other.scalars(select(User))))
        seen.append((event.n, count))

    db.bus.subscribe(Happened, handler)
    with db.transaction() as uow:
        uow.session.add(
            User(email="e@example.com", password_hash="x", display_name="E", locale="en")
        )
        uow.publish(Happened(1))
        assert seen == []
    assert seen == [(1, 1)]
    db.dispose()


def test_events_vanish_on_rollback(database_url: str) -> None:
    db = Database(database_url)
    seen: list[Happened] = []
    effects: list[str] = []
    db.bus.subscribe(Happened, seen.append)

    def failing_use_case() -> None:
        with db.transaction() as uow:
            uow.publish(Happened(2))
            uow.after_commit(lambda: effects.append("sent"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_use_case()
    assert seen == []
    assert effects == []
    db.dispose()


def test_a_failing_handler_does_not_stop_the_others() -> None:
    bus = EventBus()
    seen: list[int] = []

    def broken(_event: Happened) -> None:
        raise ValueError("broken handler")

    bus.subscribe(Happened, broken)
    bus.subscribe(Happened, lambda e: seen.append(e.n))
    bus.dispatch([Happened(3)])
    assert seen == [3]
