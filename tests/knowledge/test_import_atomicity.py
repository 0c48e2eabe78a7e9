"""Imports commit what they say they commit: a chunk of IMPORT_CHUNK rows (``crowdcx
import-faq``) or the whole set (the demo data), never row by row.

Each row is imported in its own savepoint. On SQLite, pysqlite began no transaction before a
SAVEPOINT, so the first row's savepoint opened the transaction and its RELEASE committed it:
a failure after a few rows left those rows committed, half a chunk or half the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from crowdcx.kernel.db import Database
from crowdcx.knowledge import service as kb_service
from crowdcx.knowledge.models import Article
from tests.conftest import World
from tests.knowledge.test_api import CSV, Kb


class _CrashError(Exception):
    pass


def _crash_on(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    original = kb_service.create_article
    calls: list[int] = []

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == n:
            raise _CrashError
        return original(*args, **kwargs)

    monkeypatch.setattr(kb_service, "create_article", crashing)


def _articles(db: Database) -> int:
    with db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Article)) or 0)


def test_the_command_line_import_commits_whole_chunks_only(
    client: TestClient,
    world: World,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crowdcx.cli import app as cli

    monkeypatch.setattr(kb_service, "IMPORT_CHUNK", 2)
    _crash_on(monkeypatch, 4)  # the second chunk fails on its second row
    kb = Kb(client, world)
    source = tmp_path / "faq.csv"
    source.write_text(CSV, encoding="utf-8")
    args = ["import-faq", "--brand", kb.slug, "--as", kb.reviewer.email, str(source)]
    result = CliRunner().invoke(cli, args, env={"CROWDCX_DATABASE_URL": db.url})
    assert isinstance(result.exception, _CrashError), result.output
    assert _articles(db) == 2  # the first chunk; not the second chunk's first row


def test_the_demo_articles_load_all_or_nothing(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crowdcx import demo

    world.person(platform_admin=True)
    for slug in ("lumen", "volga"):  # the demo brands
        world.brand(slug)
    _crash_on(monkeypatch, 3)
    with pytest.raises(_CrashError):
        demo._load_articles(db)
    # Half a demo would stay half: a brand with any article is skipped by the next run.
    assert _articles(db) == 0
    monkeypatch.undo()
    demo._load_articles(db)
    assert _articles(db) > 2
