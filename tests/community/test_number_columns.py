"""On a phone the leaderboard shows its points without scrolling: every cell of a scrolling
table kept 6.5rem, so rank, member, level and points (four columns) pushed the points — the
column the page is about — off a 390 px screen, and the profile's points history likewise."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in

CSS = Path(__file__).parents[2] / "src/crowdcx/web/static/app.css"


def test_number_columns_are_exempt_from_the_phone_cell_width(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    f.grant(f.helpers[0], 20)
    sign_in(client, f.helpers[0])
    board = client.get(f"/b/{f.slug}/community/leaderboard?period=all&lang=en").text
    assert '<th class="num">Points</th>' in board
    assert re.search(r'<td class="num">20</td>', board)
    profile = client.get(f"/b/{f.slug}/community/users/{f.helpers[0].id}?lang=en").text
    assert '<td class="num">+20</td>' in profile
    assert re.search(r"\.table-scroll th\.num, \.table-scroll td\.num \{ min-width: 0; \}",
                     CSS.read_text())  # fmt: skip


def test_the_redemptions_table_fits_a_phone_in_chinese(
    client: TestClient, world: World, db: Database
) -> None:
    """Its amount column was off a 390 px screen and each date broke after "2026-12-"."""
    f = Forum(client, world, db)
    f.grant(f.helpers[0], 500)
    token = sign_in(client, f.helpers[0])
    client.post(f"/b/{f.slug}/community/rewards",
                data={"csrf_token": token, "amount": "100", "kind": "cash"})  # fmt: skip
    page = client.get(f"/b/{f.slug}/community/rewards?lang=zh-Hans").text
    assert re.search(r'<td class="num nowrap">\d{4}-\d\d-\d\d</td><td class="num">100</td>'
                     r'<td class="short">现金</td><td class="num nowrap">', page)  # fmt: skip
    css = CSS.read_text()
    assert ".table-scroll th.short, .table-scroll td.short { min-width: 0; }" in css
    assert "td.nowrap { white-space: nowrap; }" in css


def test_the_invite_button_sits_with_the_member_not_in_a_last_column(
    client: TestClient, world: World, db: Database
) -> None:
    """On a phone the top helpers table scrolled six columns wide and the invite button,
    the page's one action, sat off the screen in the last."""
    from crowdcx.tenancy.models import Brand

    f = Forum(client, world, db)
    with db.transaction() as uow:
        brand = uow.session.query(Brand).filter_by(slug=f.slug).one()
        discovery = {"min_accepted": 1, "min_reputation": 10}
        brand.settings = {**(brand.settings or {}), "community": {"discovery": discovery}}
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Ответ по существу")
    f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid})
    sign_in(client, f.admin)
    page = client.get(f"/b/{f.slug}/community/discover?lang=en").text
    member = re.search(r'<td><a href="[^"]*/community/users/\d+">[^<]*</a>(.*?)</td>', page, re.S)
    assert member, page[-3000:]
    assert "/community/discover/invite" in member.group(1)
    assert len(re.findall(r"<th[ >]", page)) == 5
