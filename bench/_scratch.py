"""A scratch database for a bench: SQLite in a temporary folder, or a PostgreSQL database
created on the server the bench is given and dropped afterwards, migrated to head and
holding the demo data (``crowdcx migrate``, ``crowdcx demo`` of this tree)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def demo_database(postgres: str, prefix: str) -> Iterator[str]:
    """The SQLAlchemy URL of a new demo database: on the PostgreSQL server ``postgres``
    (a libpq URL; the database is dropped on exit) or, when it is empty, SQLite."""
    scratch = ""
    if postgres:
        import psycopg

        scratch = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {scratch}")
        url = postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        url = f"{url}/{scratch}"
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=f'crowdcx-{prefix}-')) / 'crowdcx.db'}"
    env = {
        "CROWDCX_DATABASE_URL": url,
        "CROWDCX_PASSWORD_HASH_PROFILE": "fast",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT / "src"),
    }  # fmt: skip  (this tree's)
    cli = [sys.executable, "-m", "crowdcx"]
    try:
        subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([*cli, "demo"], env=env, check=True, capture_output=True)
        yield url
    finally:
        if scratch:
            import psycopg

            with psycopg.connect(postgres, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")


def refresh(db: Any) -> None:
    """Fresh planner statistics (ANALYZE); on PostgreSQL VACUUM ANALYZE, as autovacuum does
    after a table's inserts: an index-only scan of a table never vacuumed must visit each
    row's heap page too (its visibility map is empty), so the planner rightly prefers a
    sequential scan there, a plan a running server does not use."""
    db.engine.dispose()
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
