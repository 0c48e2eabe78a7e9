"""The rewards page in Chinese writes each kind's rate after a full-width colon."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def test_the_rewards_rates_read_with_the_readers_colon(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    sign_in(client, f.helpers[0])
    client.cookies.set("crowdcx_locale", "zh-Hant")
    hant = client.get(f"/b/{f.slug}/community/rewards").text
    assert re.search(r"帳戶餘額：100 積分", hant), hant[:3000]
    assert "帳戶餘額: " not in hant
    client.cookies.set("crowdcx_locale", "ru")
    assert "Бонус на счёт: 100 " in client.get(f"/b/{f.slug}/community/rewards").text
