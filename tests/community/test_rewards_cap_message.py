"""Over a redemption limit, the rewards form says which limit and what can still be
redeemed: "That is more than the limit of 25000 points" answered a member asking for 5000
points when they had redeemed 20450 this month, and left them guessing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def _redeem(client: TestClient, f: Forum, token: str, amount: int) -> str:
    r = client.post(
        f"/b/{f.slug}/community/rewards",
        data={"csrf_token": token, "amount": str(amount), "kind": "cash"},
        follow_redirects=False,
    )
    assert r.status_code in (303, 422), r.status_code
    return r.text


def test_over_a_limit_the_form_names_it_and_what_is_left(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    f.grant(f.helpers[0], 40_000)
    token = sign_in(client, f.helpers[0])
    client.cookies.set("crowdcx_locale", "en")
    once = _redeem(client, f, token, 12_000)
    assert "Redeem at most 10000 points at a time." in once, once[-3000:]
    _redeem(client, f, token, 10_000)
    _redeem(client, f, token, 10_000)
    period = _redeem(client, f, token, 6_000)
    assert "You can redeem 5000 more points this period (at most 25000)." in period
    client.cookies.set("crowdcx_locale", "zh-Hans")
    assert "本期您还可以兑换 5000 积分（每期最多 25000 积分）。" in _redeem(client, f, token, 7_000)
    _redeem(client, f, token, 5_000)
    done = _redeem(client, f, token, 100)
    assert "您已兑换本期允许的全部积分，下一期可再次兑换。" in done
