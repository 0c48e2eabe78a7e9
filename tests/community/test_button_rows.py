"""The community pages' rows of buttons keep apart: the template's whitespace control ate
the space between them ("RewardsReview queue", "FollowAsk the community" stuck together),
and on a community's page the join and follow forms sat inside a <p>, which the browser
closes before a <form>, leaving the ask button alone on its own line."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in

CSS = Path(__file__).parents[2] / "src/crowdcx/web/static/app.css"


def _row(html: str) -> str:
    found = re.search(r'<div class="button-row">(.*?)</div>', html, re.S)
    assert found, html[-4000:]
    return found.group(1)


def test_the_buttons_of_the_community_pages_sit_in_a_spaced_row(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    sign_in(client, f.admin)
    home = _row(client.get(f"/b/{f.slug}/community?lang=en").text)
    for label in ("Ask the community", "Leaderboard", "Rewards", "Review queue", "Top helpers"):
        assert f">{label}</a>" in home, home
    page = client.get(f"/b/{f.slug}/community/c/mobile?lang=en").text
    row = _row(page)
    assert "/community/follow" in row, row
    assert ">Ask the community</a>" in row, row
    assert not re.search(r"<p>\s*<form", page)
    assert re.search(r"\.button-row \{[^}]*display: flex;[^}]*gap:", CSS.read_text())
