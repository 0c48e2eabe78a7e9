"""An expert's earnings table showed the kind of each line as "earning" (in English, the
ledger's own code, lower-case in a table cell; "заработок" in Russian). It reads as a word
now: "Earning", "Заработок", "收入"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in


@pytest.mark.parametrize(
    ("lang", "kind"), [("en", "Earning"), ("ru", "Заработок"), ("zh-Hans", "收入")]
)
def test_the_kind_of_an_earning_reads_as_a_word(
    client: TestClient, world: World, lang: str, kind: str
) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    sign_in(client, expert)
    page = client.get(f"/b/{desk.slug}/earnings?lang={lang}")
    assert page.status_code == 200
    assert f">{kind}</td>" in page.text
    assert ">earning</td>" not in page.text
