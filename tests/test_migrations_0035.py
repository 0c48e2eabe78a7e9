"""Migration 0035 analyses every search document again: an index written by the analysis
before it (Traditional folded character by character) does not find a Taiwan article by
its mainland words until the upgrade, and does after it, on each backend."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.search import analysis
from crowdcx.search.index import analyse_document
from tests.conftest import World
from tests.knowledge.test_api import Kb


def _forget_analyses() -> None:
    analyse_document.cache_clear()
    analysis.gram_count.cache_clear()


def test_0035_reanalyses_documents_written_before_it(
    client: TestClient,
    world: World,
    db: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def characters_only(text: str) -> str:  # the folding before 0035
        if not analysis._HAN_RE.search(text):
            return text
        return str(analysis._opencc("t2s").convert(text))

    kb = Kb(client, world)
    kb.seed()
    _forget_analyses()
    monkeypatch.setattr(analysis, "fold_chinese", characters_only)
    article = kb.write("收不到簡訊驗證碼", "確認號碼正確，簡訊可能延遲幾分鐘。", "zh-Hant")
    kb.publish(article)
    monkeypatch.undo()
    _forget_analyses()

    def found(query: str) -> list[str]:
        return [r["id"] for r in kb.search(query, kb.customer, lang="zh-Hans")["results"]]

    assert str(article) not in found("短信")  # stored under the old analysis
    assert found("驗證碼")[0] == str(article)
    db.engine.dispose()
    downgrade(database_url, "0034")
    upgrade(database_url, "heads")
    assert found("短信")[0] == str(article)
    assert found("驗證碼")[0] == str(article)
