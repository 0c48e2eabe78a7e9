"""A review decision weighs what its decider was when they decided: a member reviewer does not
overrule the staff's decisions, and the staff may overrule a member's — whoever the decider
has become since (promoted to the staff, or demoted from it)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.tenancy import service as tenancy
from tests.community.test_api import Forum
from tests.conftest import Person, World


def _decide(f: Forum, who: Person, post_id: int, decision: str) -> Any:
    return f.post(f"/moderation/{post_id}", who, {"decision": decision})


def _set_roles(f: Forum, db: Database, who: Person, roles: list[str]) -> None:
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, f.slug, None)
        tenancy.set_roles(uow, ctx, who.id, roles, utcnow())


def test_a_staff_decision_stays_the_staffs_after_the_decider_is_demoted(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    f.grant(f.asker, 20)
    reviewer = f.helpers[0]
    f.grant(reviewer, 600)  # review_queue at 500
    former = world.member(f.slug, ["agent"], "Бывший агент")
    qid = f.ask("Спорный вопрос")
    assert _decide(f, former, qid, "hide").status_code == 200
    cid = f.post(f"/posts/{f.ask('Другой вопрос')}/comments", f.asker,
                 {"body": "Комментарий"}).json()["id"]  # fmt: skip
    assert f.post(f"/comments/{cid}/moderate", former, {"action": "hide"}).status_code == 200
    _set_roles(f, db, former, ["helper"])  # no longer staff
    r = _decide(f, reviewer, qid, "restore")
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "staff_decision"
    queue = f.get("/moderation/queue", reviewer).json()
    assert queue["items"] == []  # the staff's to decide
    assert queue["comments"] == []
    r = f.post(f"/comments/{cid}/moderate", reviewer, {"action": "restore"})
    assert r.json()["code"] == "staff_decision", r.text
    # The brand's staff still decide on it.
    assert _decide(f, f.agent, qid, "restore").status_code == 200


def test_a_members_decision_stays_a_members_after_the_decider_joins_the_staff(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    f.grant(f.asker, 20)
    member, other = f.helpers[0], f.helpers[1]
    f.grant(member, 600)
    f.grant(other, 600)
    hidden = f.ask("Спам про часы")
    assert _decide(f, member, hidden, "hide").status_code == 200
    flagged = f.ask("Обычный вопрос")
    f.grant(f.helpers[2], 20)
    f.post(f"/posts/{flagged}/flag", f.helpers[2], {"reason": "rude"})
    assert _decide(f, member, flagged, "dismiss").status_code == 200
    _set_roles(f, db, member, ["agent"])  # joins the staff afterwards
    # Other member reviewers still see the post a member hid, and may restore it.
    queue = f.get("/moderation/queue", other).json()["items"]
    assert [i["post"]["id"] for i in queue] == [hidden]
    assert _decide(f, other, hidden, "restore").status_code == 200
    # The staff may overrule the member's dismissal.
    r = _decide(f, f.agent, flagged, "hide")
    assert r.status_code == 200, r.text
