"""Counters that need not be exact to the second (page views), written in the background.

Bumping a view counter inside the request would make every page view a write transaction —
on SQLite one writer at a time across all workers, so reading a question would queue behind
every vote. Instead a view adds to an in-memory tally, and a daemon thread writes the tally
in one transaction every ``interval_s`` seconds (and once more when the app stops). A page
shows the stored count plus what is still pending in this process. What a crash loses is
at most the last interval's views of that process.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from sqlalchemy import Table, bindparam, update

from crowdcx.kernel.db import Database

log = logging.getLogger(__name__)


class DeferredCounters:
    """``increment(Model, column, id)`` now; ``UPDATE table SET column = column + n`` later."""

    def __init__(self, db: Database, interval_s: float = 1.0) -> None:
        self._db = db
        self._interval = interval_s
        self._lock = threading.Lock()
        self._pending: Counter[tuple[Table, str, int]] = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def increment(self, model: type[Any], column: str, ident: int, n: int = 1) -> None:
        table: Table = model.__table__
        if column not in table.c:
            raise ValueError(f"{table.name} has no column {column}")
        with self._lock:
            self._pending[(table, column, int(ident))] += n

    def pending(self, model: type[Any], column: str, ident: int) -> int:
        with self._lock:
            return self._pending.get((model.__table__, column, int(ident)), 0)

    def flush(self) -> int:
        """Write what is pending in one transaction; returns how many counters moved. On a
        failure the counts go back to the tally (the next flush tries again)."""
        with self._lock:
            batch, self._pending = self._pending, Counter()
        if not batch:
            return 0
        groups: dict[tuple[Table, str], list[dict[str, int]]] = {}
        for (table, column, ident), n in sorted(batch.items(), key=lambda kv: kv[0][1:]):
            groups.setdefault((table, column), []).append({"ident": ident, "n": n})
        try:
            with self._db.uow() as uow:
                for (table, column), rows in groups.items():
                    stmt = (
                        update(table)
                        .where(table.c.id == bindparam("ident"))
                        .values({column: table.c[column] + bindparam("n")})
                    )
                    uow.session.connection().execute(stmt, rows)
                uow.commit()
        except Exception:
            log.warning("deferred counters not written; retrying later", exc_info=True)
            with self._lock:
                self._pending.update(batch)
            return 0
        return len(batch)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="crowdcx-counters", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()
