"""Counts on the question and profile pages in the reader's grammar: the asker's first
look at their own question read "1 views", and a member with one point "1 points" and
"1 points to level 2" (Russian "1 баллов до уровня 2")."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_one_view_and_one_point_read_in_the_singular(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    sign_in(client, f.asker)
    page = _text(client.get(f"/b/{f.slug}/community/questions/{qid}?lang=en").text)
    assert " 1 view" in page
    assert "1 views" not in page
    again = _text(client.get(f"/b/{f.slug}/community/questions/{qid}?lang=ru").text)
    assert re.search(r" (1 просмотр|2 просмотра)( |$)", again), again
    f.grant(f.helpers[0], 1)
    profile = f"/b/{f.slug}/community/users/{f.helpers[0].id}"
    english = _text(client.get(f"{profile}?lang=en").text)
    assert "1 point · Level 1" in english
    assert "1 points" not in english
    russian = _text(client.get(f"{profile}?lang=ru").text)
    assert "1 балл ·" in russian
    f.grant(f.helpers[1], 148)
    two = _text(client.get(f"/b/{f.slug}/community/users/{f.helpers[1].id}?lang=en").text)
    assert "2 points to level 2" in two
    assert "2 балла до уровня 2" in _text(
        client.get(f"/b/{f.slug}/community/users/{f.helpers[1].id}?lang=ru").text
    )


def test_the_top_helpers_bar_of_one_accepted_answer_reads_in_the_singular(
    client: TestClient, world: World, db: Database
) -> None:
    from crowdcx.tenancy.models import Brand

    f = Forum(client, world, db)
    with db.transaction() as uow:
        brand = uow.session.query(Brand).filter_by(slug=f.slug).one()
        discovery = {"min_accepted": 1, "min_reputation": 100}
        brand.settings = {**(brand.settings or {}), "community": {"discovery": discovery}}
    sign_in(client, f.admin)
    english = _text(client.get(f"/b/{f.slug}/community/discover?lang=en").text)
    assert "at least 1 accepted answer and 100 reputation" in english
    russian = _text(client.get(f"/b/{f.slug}/community/discover?lang=ru").text)
    assert "не меньше 1 принятого ответа" in russian
