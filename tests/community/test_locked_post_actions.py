"""Vote and flag buttons were shown to members without the privilege, and pressing one
rendered a refusal at the POST address. A newcomer now sees them disabled, with the points
that open each beside them, in their language; the server still refuses the POST."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.reputation.service import POLICY
from tests.community.test_api import Forum
from tests.conftest import Person
from tests.conftest import World as WorldType
from tests.tickets.test_pages import sign_in


def _page(client: TestClient, f: Forum, who: Person, qid: int, lang: str = "en") -> str:
    sign_in(client, who)
    client.cookies.set("crowdcx_locale", lang)
    response = client.get(f"/b/{f.slug}/community/questions/{qid}")
    assert response.status_code == 200
    return response.text


def _post_actions(page: str, post_id: int) -> str:
    """The markup of ``post_id``'s votes and flag (up to the note beside them)."""
    start = page.index(f'/community/posts/{post_id}/vote"')
    end = page.index('<div class="comments">', start)
    return page[start:end]


def _locked(actions: str) -> set[str]:
    return set(re.findall(r'disabled aria-describedby="[^"]+" (?:data-vote="\w+" )?'
                          r'data-locked="(\w+)"', actions))  # fmt: skip


def _note(actions: str) -> str:
    found = re.search(r'data-testid="post-locks">([^<]*)<', actions)
    return found.group(1) if found else ""


def test_a_newcomer_sees_vote_and_flag_disabled_with_what_opens_them(
    client: TestClient, world: WorldType, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    aid = f.answer(qid, f.helpers[0], "Включите передачу данных в роуминге.")
    newcomer = f.helpers[1]
    page = _page(client, f, newcomer, qid)
    for post in (qid, aid):
        actions = _post_actions(page, post)
        assert _locked(actions) == {"upvote", "downvote", "flag"}
        assert 'name="value" value="1"' not in actions  # no button that only earns a refusal
        assert f'/community/posts/{post}/flag"' not in actions
        note = _note(actions)
        assert f"“Upvote” opens at {POLICY.privileges['upvote']} points." in note
        assert f"“Downvote” opens at {POLICY.privileges['downvote']} points." in note
        assert f"“Flag posts” opens at {POLICY.privileges['flag']} points." in note
    # The server still refuses, whatever the page shows.
    token = client.cookies.get("crowdcx_csrf")
    refused = client.post(f"/b/{f.slug}/community/posts/{aid}/vote",
                          data={"csrf_token": token, "value": "1"})  # fmt: skip
    assert refused.status_code == 403
    assert f.get(f"/questions/{qid}", newcomer).json()["answer_list"][0]["up"] == 0


def test_the_note_is_in_the_readers_language(
    client: TestClient, world: WorldType, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    note = _note(_post_actions(_page(client, f, f.helpers[1], qid, "zh-Hant"), qid))
    assert "「按讚」" in note  # the privilege's own name in Traditional Chinese
    assert "「按倒讚」" in note
    assert str(POLICY.privileges["downvote"]) in note


def test_each_button_opens_with_its_privilege_and_for_agents(
    client: TestClient, world: WorldType, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    member = f.helpers[2]
    f.grant(member, POLICY.privileges["upvote"])
    assert POLICY.privileges["flag"] <= POLICY.privileges["upvote"]
    assert POLICY.privileges["downvote"] > POLICY.privileges["upvote"]
    actions = _post_actions(_page(client, f, member, qid), qid)
    assert _locked(actions) == {"downvote"}
    assert 'name="value" value="1"' in actions
    assert f'/community/posts/{qid}/flag"' in actions
    assert _note(actions) == f"“Downvote” opens at {POLICY.privileges['downvote']} points."
    actions = _post_actions(_page(client, f, f.agent, qid), qid)
    assert _locked(actions) == set()
    assert _note(actions) == ""
    assert 'name="value" value="-1"' in actions
