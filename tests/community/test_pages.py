"""Community pages through HTTP forms, as a browser submits them: a refused form comes back
with what the person typed and chose, and long lists page on."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


def textarea(page: str, element_id: str) -> str:
    """The text inside the textarea with this id, unescaped as a browser shows it."""
    found = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, element_id
    return html.unescape(found.group(1))


def test_a_refused_comment_keeps_what_was_typed(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Включите передачу данных.")
    token = sign_in(client, f.asker)
    typed = "Спасибо, <помогло>! " + "я" * 600
    refused = client.post(f"/b/{f.slug}/community/posts/{aid}/comment",
                          data={"csrf_token": token, "body": typed})  # fmt: skip
    assert refused.status_code == 422
    assert textarea(refused.text, f"new-comment-{aid}") == typed
    assert textarea(refused.text, f"new-comment-{qid}") == ""  # only the form it came from
    assert re.search(rf'<details class="inline" open>\s*<summary[^>]*>[^<]*</summary>\s*'
                     rf'<form[^>]*posts/{aid}/comment', refused.text)  # fmt: skip
    blank = client.post(f"/b/{f.slug}/community/posts/{qid}/comment",
                        data={"csrf_token": token, "body": " \n "})  # fmt: skip
    assert blank.status_code == 422
    assert 'id="e-comment-' in blank.text


def test_a_refused_redemption_keeps_the_amount_and_kind(
    client: TestClient, world: World, db: Database
) -> None:
    """A helper with 300 points asked for 500 as a charity donation: the page said why and
    came back with an empty amount and "Account credit" chosen."""
    f = Forum(client, world, db)
    f.grant(f.helpers[0], 300)
    token = sign_in(client, f.helpers[0])
    rewards = f"/b/{f.slug}/community/rewards"
    refused = client.post(rewards, data={"csrf_token": token, "amount": "500", "kind": "charity"})
    assert refused.status_code == 422
    assert re.search(r'<input id="r-amount" name="amount" value="500"', refused.text)
    assert re.findall(r'<option value="(\w+)" selected>', refused.text) == ["charity"]
    typo = client.post(rewards, data={"csrf_token": token, "amount": "2OO", "kind": "cash"})
    assert typo.status_code == 422
    assert re.search(r'<input id="r-amount" name="amount" value="2OO"', typo.text)
    assert re.findall(r'<option value="(\w+)" selected>', typo.text) == ["cash"]


def test_browser_line_breaks_count_as_one_character(
    client: TestClient, world: World, db: Database
) -> None:
    """A textarea sends each line break as CR LF: a 599-character comment of 60 short lines
    reached the server as 658 characters and was refused as longer than 600."""
    f = Forum(client, world, db)
    qid = f.ask()
    token = sign_in(client, f.asker)
    lines = ["Спасибо!!"] * 60  # 9 characters + a line break each
    typed = "\r\n".join(lines)
    assert len(typed.replace("\r\n", "\n")) == 599 < 600 < len(typed)
    form = {"csrf_token": token, "body": typed}
    posted = client.post(f"/b/{f.slug}/community/posts/{qid}/comment", data=form,
                         follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303, posted.text[:500]
    bodies = [c["body"] for c in f.get(f"/posts/{qid}/comments").json()["items"]]
    assert bodies == ["\n".join(lines)]  # stored with one kind of line break
    answer = "\r\n\r\n".join(["Проверьте настройки APN."] * 3)
    client.post(f"/b/{f.slug}/community/questions/{qid}/answer",
                data={"csrf_token": token, "body": answer})  # fmt: skip
    stored = f.get(f"/questions/{qid}").json()["answer_list"][0]["body"]
    assert "\r" not in stored
