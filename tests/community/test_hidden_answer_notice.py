"""A notice about a hidden answer named it by its question's title ("Your post “<question>”
was hidden"), as if the author had written the question: it says it is their answer to it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import Person, World
from tests.tickets.test_pages import sign_in

TITLE = "Не работает мобильный интернет"


def _notes(f: Forum, who: Person, lang: str) -> list[dict[str, str]]:
    items: list[dict[str, str]] = f.get("/notifications", who, lang=lang).json()["items"]
    return items


def _texts(f: Forum, who: Person, kind: str, lang: str) -> list[str]:
    return [n["text"] for n in _notes(f, who, lang) if n["kind"] == kind]


def asked_and_answered(f: Forum, body: str) -> tuple[int, Person, int]:
    """A question titled :data:`TITLE` and one answer to it by a helper: (question, its
    answer's author, the answer)."""
    qid = f.ask(TITLE)
    author = f.helpers[3]
    return qid, author, f.answer(qid, author, body)


def test_a_hidden_answer_is_named_as_the_authors_answer_to_the_question(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid, author, aid = asked_and_answered(f, "Купите часы тут http://spam.example")
    for h in f.helpers[:3]:
        f.grant(h, 600)
        f.post(f"/posts/{aid}/flag", h, {"reason": "spam"})
    [hidden] = _texts(f, author, "hidden", "en")
    assert hidden.startswith(f"Your answer to “{TITLE}” was hidden automatically because 3")
    for lang in ("ru", "zh-Hans", "zh-Hant"):  # never the question's "post" in any language
        [text] = _texts(f, author, "hidden", lang)
        assert TITLE in text
        assert not any(w in text for w in ("публикация", "帖子", "貼文", "Your post")), text
    # The appeal upheld, then (another answer) a moderator's hide and restore: the same.
    assert f.post(f"/posts/{aid}/appeal", author, {"text": "Это не спам"}).status_code == 201
    r = f.post(f"/moderation/{aid}", f.agent, {"decision": "uphold"})
    assert r.status_code == 200, r.text
    assert _texts(f, author, "upheld", "en") == [
        f"A moderator reviewed your appeal; your answer to “{TITLE}” stays hidden."
    ]
    other = f.answer(qid, author, "Перезагрузите телефон и включите роуминг.")
    assert f.post(f"/moderation/{other}", f.agent, {"decision": "hide"}).status_code == 200
    # A moderator's hide was told as "hidden automatically because 1 trusted members flagged
    # it": it says a moderator hid it.
    moderated = [t for t in _texts(f, author, "hidden", "en") if "flagged" not in t]
    assert len(moderated) == 1, moderated
    assert moderated[0].startswith(f"A moderator hid your answer to “{TITLE}”. You can edit it")
    assert f.post(f"/moderation/{other}", f.agent, {"decision": "restore"}).status_code == 200
    assert _texts(f, author, "restored", "en") == [
        f"A moderator restored your answer to “{TITLE}”."
    ]


def test_a_hidden_question_is_still_the_authors_post(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask(TITLE)
    for h in f.helpers[:3]:
        f.grant(h, 600)
        f.post(f"/posts/{qid}/flag", h, {"reason": "spam"})
    [hidden] = _texts(f, f.asker, "hidden", "en")
    assert hidden.startswith(f"Your post “{TITLE}” was hidden automatically")


def test_a_question_a_moderator_hid_says_so(client: TestClient, world: World, db: Database) -> None:
    f = Forum(client, world, db)
    qid = f.ask(TITLE)
    assert f.post(f"/moderation/{qid}", f.agent, {"decision": "hide"}).status_code == 200
    [hidden] = _texts(f, f.asker, "hidden", "en")
    assert hidden.startswith(f"A moderator hid your post “{TITLE}”. You can edit it or appeal")
    assert "trusted members" not in hidden


def test_the_question_page_says_the_upheld_answer_is_the_authors_answer(
    client: TestClient, world: World, db: Database
) -> None:
    """The page under a hidden answer said "“<question>” stays hidden" to its author."""
    f = Forum(client, world, db)
    qid = f.ask(TITLE)
    author = f.helpers[3]
    aid = f.answer(qid, author, "Купите часы тут http://spam.example")
    assert f.post(f"/moderation/{aid}", f.agent, {"decision": "hide"}).status_code == 200
    assert f.post(f"/posts/{aid}/appeal", author, {"text": "Это не спам"}).status_code == 201
    assert f.post(f"/moderation/{aid}", f.agent, {"decision": "uphold"}).status_code == 200
    sign_in(client, author)
    client.cookies.set("crowdcx_locale", "en")
    page = client.get(f"/b/{f.slug}/community/questions/{qid}").text
    assert f"A moderator reviewed your appeal; your answer to “{TITLE}” stays hidden." in page
    assert f"appeal; “{TITLE}” stays hidden." not in page
