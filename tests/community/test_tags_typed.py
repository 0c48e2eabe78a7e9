"""Tags as people type them in the ask form's one line, "separated by commas": a Chinese
keyboard gives the full-width "，" or the enumeration comma "、", and "音箱，Wi-Fi，斷線"
was stored as one tag, "音箱，wi-fi，斷線"."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.community import rules
from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in

ASK = {"community": "mobile", "title": "Не работает мобильный интернет",
       "body": "Интернет пропал вчера вечером, перезагрузка не помогла."}  # fmt: skip


def test_the_ask_form_splits_tags_at_the_commas_of_every_script(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    token = sign_in(client, f.asker)
    asked = client.post(
        f"/b/{f.slug}/community/ask",
        data={"csrf_token": token, **ASK, "tags": "音箱，Wi-Fi、斷線；роуминг, 5G |音箱"},
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    qid = asked.headers["location"].rsplit("/", 1)[-1]
    question = f.get(f"/questions/{qid}", f.asker).json()
    assert sorted(question["tags"]) == sorted(["音箱", "wi-fi", "斷線", "роуминг", "5g"])


tag = st.text(st.characters(exclude_characters=",，、;；|"), min_size=1, max_size=12)


@given(st.lists(tag, min_size=1, max_size=6), st.sampled_from(",，、;；|"))
def test_split_tags_returns_what_was_joined(tags: list[str], separator: str) -> None:
    assert rules.split_tags(separator.join(tags)) == tags
