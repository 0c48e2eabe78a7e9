"""The close form's "duplicate of (question number or link)": what an agent types or
pastes there is read as a question, or the form says so. "abc" (or a title pasted instead
of a link) closed the question as a plain one with no word, and the link of an answer —
".../questions/7#post-9", what the address bar shows after voting or accepting — was read
as post 9, the answer, and refused as "not found"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crowdcx.community import rules
from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_pages import sign_in


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("", None), ("  ", None), ("12", 12), ("#12", 12), ("＃１２", 12), (" 12 ", 12),
     ("https://x.example/b/lumen/community/questions/12", 12),
     ("/b/lumen/community/questions/12#post-40", 12),
     ("https://x.example/b/lumen/community/questions/12?lang=ru#answers", 12)],
)  # fmt: skip
def test_a_number_or_a_question_link_names_the_question(typed: str, expected: int | None) -> None:
    assert rules.duplicate_reference(typed) == expected


@pytest.mark.parametrize(
    "typed", ["abc", "耳机升级固件后左耳没有声音", "12 13", "9" * 30, "/b/x/help/articles/4"]
)
def test_anything_else_is_not_read_as_a_question(typed: str) -> None:
    with pytest.raises(ValueError):
        rules.duplicate_reference(typed)


def _close(client: TestClient, f: Forum, qid: int, typed: str) -> object:
    token = sign_in(client, f.agent)
    return client.post(
        f"/b/{f.slug}/community/questions/{qid}/close?lang=en",
        data={"csrf_token": token, "duplicate_of": typed},
        follow_redirects=False,
    )


def test_words_in_the_duplicate_field_leave_the_question_open_and_say_why(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    r = _close(client, f, qid, "the one about 4G")
    assert r.status_code == 422, r.status_code  # type: ignore[attr-defined]
    assert "the question this one duplicates, or paste its link" in r.text  # type: ignore[attr-defined]
    # the close form comes back open with what was typed, to correct
    assert 'value="the one about 4G"' in r.text  # type: ignore[attr-defined]
    assert '<details class="inline" open>' in r.text  # type: ignore[attr-defined]
    assert f.get(f"/questions/{qid}", f.asker).json()["closed"] is False


def test_an_answer_link_closes_as_a_duplicate_of_its_question(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    original = f.ask("Нет 4G после обновления телефона")
    answer = f.answer(original, f.helpers[0], "Проверьте точку доступа internet.volga.")
    qid = f.ask()
    link = f"http://testserver/b/{f.slug}/community/questions/{original}#post-{answer}"
    r = _close(client, f, qid, link)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    question = f.get(f"/questions/{qid}", f.asker).json()
    assert question["closed"] is True
    assert question["duplicate_of"] == original
