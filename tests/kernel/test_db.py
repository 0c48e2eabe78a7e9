"""The unit of work is one transaction on every backend, savepoints included.

pysqlite (legacy transaction control) begins a transaction only before INSERT, UPDATE,
DELETE and REPLACE, not before SAVEPOINT: a savepoint emitted first opened the transaction
itself and its RELEASE committed it, so a unit of work whose first write was inside
``session.begin_nested()`` committed that write on its own, whatever happened after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from crowdcx.kernel.db import Database
from tests.conftest import PG_URL


@pytest.fixture(params=["sqlite-file", "sqlite-memory", *(["postgres"] if PG_URL else [])])
def probe_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with one table ``probe (v UNIQUE)``, on each backend."""
    if request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path / 'probe.db'}"
    elif request.param == "sqlite-memory":
        url = "sqlite://"
    else:
        url = request.getfixturevalue("postgres_url")
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS probe"))
        conn.execute(text("CREATE TABLE probe (v INTEGER NOT NULL UNIQUE)"))
    yield db
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE probe"))
    db.dispose()


def _put(db_session: Any, v: int) -> None:
    db_session.execute(text("INSERT INTO probe (v) VALUES (:v)"), {"v": v})


def _put_both(session: Any, a: int, b: int) -> None:
    with session.begin_nested():
        _put(session, a)
        _put(session, b)


def _values(db: Database) -> list[int]:
    with db.engine.connect() as conn:
        return sorted(conn.execute(text("SELECT v FROM probe")).scalars())


class _LaterError(Exception):
    pass


def _fail_after_savepoints(db: Database, values: tuple[int, ...], then: int | None) -> None:
    """A unit of work writing each of ``values`` in a savepoint of its own, then ``then``
    outside any, and failing after that."""
    with db.transaction() as uow:
        for v in values:
            with uow.session.begin_nested():
                _put(uow.session, v)
        if then is not None:
            _put(uow.session, then)
        raise _LaterError


def test_a_first_write_in_a_savepoint_rolls_back_with_its_transaction(probe_db: Database) -> None:
    with pytest.raises(_LaterError):
        _fail_after_savepoints(probe_db, (1,), then=2)
    assert _values(probe_db) == []


def test_each_of_several_savepoints_rolls_back_with_the_transaction(probe_db: Database) -> None:
    """The FAQ import's shape: a savepoint per row, the transaction failing after them."""
    with pytest.raises(_LaterError):
        _fail_after_savepoints(probe_db, (1, 2, 3), then=None)
    assert _values(probe_db) == []


def test_a_released_savepoint_is_not_committed_before_its_transaction(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'probe.db'}")
    other = Database(db.url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (v INTEGER NOT NULL UNIQUE)"))
        with db.transaction() as uow:
            with uow.session.begin_nested():
                _put(uow.session, 1)
            assert _values(other) == []  # another process sees nothing yet
        assert _values(other) == [1]
    finally:
        other.dispose()
        db.dispose()


def test_a_failed_savepoint_undoes_only_its_own_write(probe_db: Database) -> None:
    with probe_db.transaction() as uow:
        with uow.session.begin_nested():
            _put(uow.session, 1)
        with pytest.raises(IntegrityError):  # a duplicate: this savepoint is rolled back
            _put_both(uow.session, 3, 1)
        _put(uow.session, 2)
    assert _values(probe_db) == [1, 2]


def test_reads_open_no_transaction_and_take_no_write_lock(tmp_path: Path) -> None:
    """Reads stay outside any SQLite transaction (no snapshot to go stale before a write)
    and never queue for the writers' lock."""
    db = Database(f"sqlite:///{tmp_path / 'probe.db'}")
    try:
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (v INTEGER NOT NULL UNIQUE)"))
        with db.uow() as uow:
            assert uow.session.execute(text("SELECT count(*) FROM probe")).scalar() == 0
            fairy: Any = uow.session.connection().connection
            assert fairy.dbapi_connection.in_transaction is False
            assert fairy._connection_record.info["writer_locked"] is False
            with uow.session.begin_nested():
                _put(uow.session, 1)
            assert fairy.dbapi_connection.in_transaction is True
            assert fairy._connection_record.info["writer_locked"] is True
            uow.commit()
        assert _values(db) == [1]
    finally:
        db.dispose()
