"""An upvote's notice named the post by its question's title ("Your post “<question>” was
upvoted") whether the vote was for the question or for an answer to it: it says which."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.notifications.models import NotificationRow
from crowdcx.notifications.service import text
from tests.community.test_api import Forum
from tests.community.test_hidden_answer_notice import TITLE, _texts, asked_and_answered
from tests.conftest import World


def test_an_upvote_notice_says_whether_the_answer_or_the_question_was_upvoted(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid, author, aid = asked_and_answered(f, "Перезагрузите телефон и включите передачу данных.")
    voter = f.helpers[0]
    f.grant(voter, 600)
    assert f.post(f"/posts/{aid}/vote", voter, {"value": 1}).status_code == 200
    assert f.post(f"/posts/{qid}/vote", voter, {"value": 1}).status_code == 200
    assert _texts(f, author, "upvoted", "en") == [f"Your answer to “{TITLE}” was upvoted."]
    assert _texts(f, f.asker, "upvoted", "en") == [f"Your question “{TITLE}” was upvoted."]
    assert _texts(f, author, "upvoted", "ru") == [
        f"За ваш ответ на вопрос «{TITLE}» проголосовали."
    ]
    assert _texts(f, f.asker, "upvoted", "zh-Hant") == [f"您的問題「{TITLE}」獲得了讚。"]
    assert _texts(f, author, "upvoted", "zh-Hans") == [f"您对“{TITLE}”的回答获得了赞。"]


def test_a_notice_stored_before_the_change_still_reads_as_the_authors_post() -> None:
    """Rows written before the notice said which post carry only the title: they cannot be
    told apart, so they keep the old wording rather than guess."""
    old = NotificationRow(kind="upvoted", params={"title": TITLE})
    assert text(old) == f"Your post “{TITLE}” was upvoted."
