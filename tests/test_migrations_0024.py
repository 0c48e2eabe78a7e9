"""Migration 0024 back-fills what moderation recorded only implicitly before it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from tests.conftest import World


def test_0024_marks_moderations_take_backs_and_give_backs_outside_the_cap(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    from tests.community.test_api import Forum

    f = Forum(client, world, db)
    author, voter = f.helpers[0], f.helpers[1]
    f.grant(voter, 20)
    aid = f.answer(f.ask(), author, "Проверьте настройки APN.")
    assert f.post(f"/posts/{aid}/vote", voter, {"value": 1}).status_code == 200
    assert f.post(f"/moderation/{aid}", f.agent, {"decision": "hide"}).status_code == 200
    assert f.post(f"/moderation/{aid}", f.agent, {"decision": "restore"}).status_code == 200
    assert f.post(f"/posts/{aid}/vote", voter, {"value": 0}).status_code == 200  # withdrawn

    def marks() -> dict[str, bool]:
        engine = create_engine(database_url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT key, outside_cap FROM points_entries WHERE user_id = :u"),
                {"u": author.id},
            ).all()
        engine.dispose()
        return {k.rsplit(":author", 1)[1] or "vote": bool(v) for k, v in rows}

    live = marks()
    assert live == {"vote": False, ":rev": True, ":back:" + live_tag(live): True,
                    ":back:" + live_tag(live) + ":rev": False}  # fmt: skip
    db.engine.dispose()
    downgrade(database_url, "0024-1")
    upgrade(database_url, "heads")
    assert marks() == live


def live_tag(found: dict[str, bool]) -> str:
    """The restore's tag in the give-back's key (``…:back:<tag>``)."""
    return next(k for k in found if k.startswith(":back:") and not k.endswith(":rev"))[6:]


def test_0024_back_fills_by_staff_from_the_deciders_roles(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    """Decisions taken before 0024 get their decider's standing from the roles they hold at
    the upgrade (nothing better is known); decisions taken since keep what was recorded."""
    from tests.community.test_api import Forum

    f = Forum(client, world, db)
    reviewer = f.helpers[0]
    f.grant(reviewer, 600)
    f.grant(f.asker, 20)
    by_agent, by_member = f.ask("Первый"), f.ask("Второй")
    assert f.post(f"/moderation/{by_agent}", f.agent, {"decision": "hide"}).status_code == 200
    assert f.post(f"/moderation/{by_member}", reviewer, {"decision": "hide"}).status_code == 200
    appeal = f.post(f"/posts/{by_member}/appeal", f.asker, {"text": "Не спам"})
    assert appeal.status_code == 201

    def standing() -> list[tuple[int, str, bool]]:
        engine = create_engine(database_url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT post_id, action, by_staff FROM community_moderation ORDER BY id")
            ).all()
        engine.dispose()
        return [(p, a, bool(s)) for p, a, s in rows]

    recorded = standing()
    assert recorded == [(by_agent, "hide", True), (by_member, "hide", False),
                        (by_member, "appeal", False)]  # fmt: skip
    db.engine.dispose()
    downgrade(database_url, "0024-1")
    upgrade(database_url, "heads")
    assert standing() == recorded
