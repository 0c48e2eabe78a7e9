"""Database engine and the unit of work.

The edge (a request handler, a CLI command, a job) opens a :class:`UnitOfWork`, calls use
cases with it, and commits. Services never commit. Events published during the unit of work
reach their handlers only after the commit succeeds, and vanish on rollback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from crowdcx.kernel.events import EventBus

log = logging.getLogger(__name__)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (psycopg 3)."""
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
        if url in ("sqlite://", "sqlite:///:memory:"):
            engine = create_engine(url, echo=echo, poolclass=StaticPool, connect_args=connect_args)
        else:
            engine = create_engine(
                url, echo=echo, pool_size=20, max_overflow=10, connect_args=connect_args
            )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


class UnitOfWork:
    """One transaction: a session, plus the events and effects that wait for its commit."""

    def __init__(self, session: Session, bus: EventBus) -> None:
        self.session = session
        self.bus = bus
        self._events: list[object] = []
        self._effects: list[Callable[[], None]] = []
        self.committed = False

    def publish(self, event_: object) -> None:
        """Queue a domain event; its handlers run after commit."""
        self._events.append(event_)

    def after_commit(self, effect: Callable[[], None]) -> None:
        """Queue a side effect (notify, reindex, broadcast) to run after commit."""
        self._effects.append(effect)

    def commit(self) -> None:
        self.session.commit()
        self.committed = True
        events, self._events = self._events, []
        effects, self._effects = self._effects, []
        self.bus.dispatch(events)
        for effect in effects:
            try:
                effect()
            except Exception:
                log.exception("after-commit effect failed")

    def rollback(self) -> None:
        self._events.clear()
        self._effects.clear()
        self.session.rollback()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self.committed:
                self.rollback()
        finally:
            self.session.close()


class Database:
    """Engine + session factory + event bus: what the app and the CLI share."""

    def __init__(self, url: str, bus: EventBus | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.bus = bus or EventBus()

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions(), self.bus)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """``with db.transaction() as uow:`` commits on success, rolls back on error."""
        with self.uow() as uow:
            yield uow
            uow.commit()

    def dispose(self) -> None:
        self.engine.dispose()
