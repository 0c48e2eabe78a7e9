"""Database engine and the unit of work.

The edge (a request handler, a CLI command, a job) opens a :class:`UnitOfWork`, calls use
cases with it, and commits. Services never commit. Events published during the unit of work
reach their handlers only after the commit succeeds, and vanish on rollback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, insert, or_, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
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
            # Reads through the OS page cache (shared by every connection and worker) instead
            # of copying pages into each connection's own cache: search over a large index got
            # ~6 % faster at p50 and p95 (bench/search_latency.py, interleaved A/B).
            cur.execute("PRAGMA mmap_size=268435456")
            cur.close()

        if url not in ("sqlite://", "sqlite:///:memory:"):
            _queue_writers(engine, url.split("///", 1)[1] + "-writer.lock")
        _begin_before_savepoints(engine)  # after _queue_writers: the lock first, then BEGIN
        return engine
    return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


_READS = ("SELECT", "PRAGMA", "WITH", "EXPLAIN")


def _queue_writers(engine: Engine, lock_path: str) -> None:
    """Make SQLite writers from every process wait in the kernel's queue instead of SQLite's.

    SQLite lets one writer at a time and makes the others poll (busy_timeout sleeps 1…100 ms
    between tries), so under concurrent writes from several worker processes a write waits
    up to a second that the CPU spends idle. Here each connection takes an exclusive
    ``flock`` on a lock file just before its first write statement and drops it when the
    connection returns to the pool after its commit or rollback: the next writer is woken
    the moment the lock is free. Reads never take it.
    Every writer goes through this engine, so the holder is the only one writing and never
    waits on SQLite itself (busy_timeout stays as the backstop for other tools)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: SQLite's own busy handler does the waiting
        return

    @event.listens_for(engine, "connect")
    def _open_lock(_dbapi_conn: Any, record: Any) -> None:
        record.info["writer_fd"] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        record.info["writer_locked"] = False

    @event.listens_for(engine, "close")
    def _close_lock(_dbapi_conn: Any, record: Any) -> None:
        fd = record.info.pop("writer_fd", None)
        if fd is not None:
            os.close(fd)  # closing the descriptor also releases a held lock

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(_READS):
            return
        info = conn.connection._connection_record.info
        if not info.get("writer_locked") and "writer_fd" in info:
            fcntl.flock(info["writer_fd"], fcntl.LOCK_EX)
            info["writer_locked"] = True

    def _release(dbapi_conn: Any, record: Any) -> None:
        if record is not None and record.info.get("writer_locked"):
            fcntl.flock(record.info["writer_fd"], fcntl.LOCK_UN)
            record.info["writer_locked"] = False

    # Released when the connection goes back to the pool, i.e. after the commit or rollback
    # has reached SQLite (the engine's "commit" event fires before it does).
    event.listen(engine.pool, "checkin", _release)
    event.listen(engine.pool, "reset", lambda c, r, _state: _release(c, r))


def _begin_before_savepoints(engine: Engine) -> None:
    """Open the transaction before a SAVEPOINT that would otherwise open it.

    pysqlite (legacy transaction control, Python < 3.16) begins a transaction only before
    INSERT, UPDATE, DELETE and REPLACE. A SAVEPOINT emitted first (``begin_nested()`` before
    the unit of work's first write) starts a transaction of its own, and its RELEASE commits
    it: each row of an import committed alone, whatever failed after it. Here a SAVEPOINT
    on a connection in no transaction is preceded by ``BEGIN IMMEDIATE``, so it nests in
    the unit of work's transaction and the commit or rollback covers it.

    SQLAlchemy's documented fixes (``autocommit=False`` on Python 3.12+, or
    ``isolation_level=None`` plus BEGIN on every ``begin`` event) begin a transaction for
    reads too: a deferred read snapshot that later writes can fail with
    SQLITE_BUSY_SNAPSHOT, and reads here never queue for the writers' lock. This one leaves
    reads alone. IMMEDIATE: this connection already holds the writers' ``flock``
    (``_queue_writers`` runs first, SAVEPOINT being no read), so taking SQLite's write lock
    now costs no other writer anything, and a read inside the savepoint before its first
    write cannot go stale."""

    @event.listens_for(engine, "before_cursor_execute")
    def _begin(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement[:9].upper() == "SAVEPOINT":
            dbapi_conn = conn.connection.dbapi_connection
            if not dbapi_conn.in_transaction:
                dbapi_conn.execute("BEGIN IMMEDIATE")


def writing(session: Session) -> bool:
    """SQLite: whether this unit of work is the one writer already (its transaction began
    with a write or :func:`begin_writing`)."""
    return bool(session.connection().connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]


def begin_writing(session: Session) -> None:
    """SQLite: make this unit of work the one writer now, before it reads what its writes
    depend on — ``BEGIN IMMEDIATE`` through the writers' queue, unless it writes already.
    Its reads then see every commit before it, and no other writer commits until it ends
    (a plain read outside the transaction could be overtaken by one). PostgreSQL: nothing;
    take a row or advisory lock there."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def append_rows(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Plain INSERT of ``rows`` (column → value) into ``model``'s table, in one executemany,
    for append-only rows no use case reads back as objects in the same transaction
    (ledger entries, ticket history, notifications): the ORM's unit of work costs more per
    row than the insert itself. The statement is built once per table."""
    if rows:
        session.execute(_insert_into(model.__table__), rows)


@cache
def _insert_into(table: Any) -> Any:
    return insert(table)


def update_row(
    session: Session,
    row: Any,
    *,
    add: dict[str, int] | None = None,
    put: dict[str, Any] | None = None,
    read: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """Change one row in the database itself — counters as ``SET up = up + 1`` (``add``),
    values as ``SET accepted = true`` (``put``) — and return the row as it is after the change:
    the changed columns and those named in ``read``, also loaded into ``row``.

    Read-modify-write through the ORM loses concurrent updates: two votes that both read
    ``up = 5`` both write 6 (24 simultaneous upvotes once left an answer at 3). Here the
    database applies each change to the current value under its row lock, and the answer
    says exactly what changed. With ``put``, only a row where some value differs is
    updated: ``None`` means it already had them all (nothing changed, nothing to count)."""
    add, put = add or {}, put or {}
    names = tuple(sorted(add)), tuple(sorted(put)), tuple(sorted(set(read) - set(add) - set(put)))
    stmt = _update_statement(type(row).__table__, *names)
    params = {f"a_{c}": v for c, v in add.items()} | {f"p_{c}": v for c, v in put.items()}
    got = session.execute(stmt, {"row_id": row.id, **params}).first()
    if got is None:
        for column, value in put.items():
            set_committed_value(row, column, value)
        return None
    values = dict(got._mapping)
    for column, value in values.items():
        set_committed_value(row, column, value)
    return values


@cache
def _update_statement(
    table: Any, added: tuple[str, ...], put: tuple[str, ...], read: tuple[str, ...]
) -> Any:
    """Built once per shape (building a statement costs more than running it on SQLite)."""
    values: dict[str, Any] = {c: table.c[c] + bindparam(f"a_{c}") for c in added}
    values |= {c: bindparam(f"p_{c}") for c in put}
    stmt = update(table).where(table.c.id == bindparam("row_id")).values(values)
    if put:
        stmt = stmt.where(or_(*(table.c[c] != bindparam(f"p_{c}") for c in put)))
    return stmt.returning(*(table.c[c] for c in (*added, *put, *read)))


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

    def mark(self) -> tuple[int, int]:
        """Where the queued events and effects stand, for :meth:`rollback_to`."""
        return len(self._events), len(self._effects)

    def rollback_to(self, mark: tuple[int, int]) -> None:
        """Roll the transaction back and drop the events and effects queued since ``mark``,
        keeping those queued before (for a caller that wrote nothing before ``mark``)."""
        del self._events[mark[0] :]
        del self._effects[mark[1] :]
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
