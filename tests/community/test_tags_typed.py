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


def test_too_many_or_too_long_tags_are_refused_with_a_reason_not_cut(
    client: TestClient, world: World, db: Database
) -> None:
    """Eleven tags kept the first ten in alphabetical order, and a tag over 40 characters was
    shortened, both without a word; the ask form had no place to show a tag error either."""
    f = Forum(client, world, db)
    token = sign_in(client, f.asker)
    client.cookies.set("crowdcx_locale", "zh-Hans")
    many = "，".join(f"标签{i}" for i in range(11))
    r = client.post(f"/b/{f.slug}/community/ask",
                    data={"csrf_token": token, **ASK, "tags": many},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 422
    assert "最多使用 10 个标签。" in r.text
    assert f'value="{many}"' in r.text  # what was typed comes back to fix
    long = "很长的标签" * 9
    r = client.post(f"/b/{f.slug}/community/ask",
                    data={"csrf_token": token, **ASK, "tags": f"固件，{long}"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 422
    assert f"每个标签最多 40 个字符，“{long}”超出了。" in r.text
    assert f.get("/questions", community="mobile").json()["items"] == []


def test_ten_tags_of_forty_characters_are_fine() -> None:
    assert rules.tag_problems([f"{i}" * 40 for i in range(10)] + ["", " "]) == []
    assert [v.code for v in rules.tag_problems(["a"] * 11)] == []  # one tag, typed 11 times
