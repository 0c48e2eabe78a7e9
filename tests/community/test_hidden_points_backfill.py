"""``crowdcx take-back-hidden-points``: posts hidden before hiding took points back
(2026-12-05) lose what they still earn, through reversal entries; run again, it writes
nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from crowdcx.cli import app as cli
from crowdcx.community.models import ModerationRow, PostRow
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.reputation.models import PointsEntryRow
from tests.community.test_api import Forum
from tests.conftest import World


def _hide_as_before(db: Database, post_id: int) -> None:
    """Hide a post the way moderation did before 2026-12-05: no points taken back."""
    with db.transaction() as uow:
        post = uow.session.get_one(PostRow, post_id)
        post.hidden = True
        uow.session.add(ModerationRow(
            brand_id=post.brand_id, post_id=post.id, action="hide", reason_code="review_hide",
            message="spam", automatic=False, created_at=utcnow(),
        ))  # fmt: skip


def _ledger(db: Database) -> list[tuple[int, str, int, str | None]]:
    with db.sessions() as session:
        return [
            tuple(r)  # type: ignore[misc]
            for r in session.execute(
                select(PointsEntryRow.id, PointsEntryRow.key, PointsEntryRow.points,
                       PointsEntryRow.reverses).order_by(PointsEntryRow.id)
            )
        ]  # fmt: skip


def test_take_back_hidden_points_once_through_the_ledger(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    f = Forum(client, world, db)
    author, voter, critic = f.helpers[0], f.helpers[1], f.helpers[2]
    f.grant(voter, 20)
    f.grant(critic, 200)  # may downvote
    qid = f.ask()
    old = f.answer(qid, author, "Купите часы http://spam.example")
    assert f.post(f"/posts/{old}/vote", voter, {"value": 1}).status_code == 200
    assert f.post(f"/posts/{old}/vote", critic, {"value": -1}).status_code == 200
    assert f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": old}).status_code == 200
    kept = f.answer(f.ask("Другой вопрос"), author, "Полезный ответ.")
    assert f.post(f"/posts/{kept}/vote", voter, {"value": 1}).status_code == 200
    hidden_now = f.answer(f.ask("Третий вопрос"), author, "Ещё спам про часы")
    assert f.post(f"/posts/{hidden_now}/vote", critic, {"value": 1}).status_code == 200
    assert f.post(f"/moderation/{hidden_now}", f.agent, {"decision": "hide"}).status_code == 200
    _hide_as_before(db, old)
    assert f.rep(author)["points"] == 10 + 15 - 2 + 10  # the old hide kept 25
    assert f.rep(f.asker)["points"] == 2
    before = _ledger(db)
    env = {"CROWDCX_DATABASE_URL": database_url}
    out = CliRunner().invoke(cli, ["take-back-hidden-points"], env=env)
    assert out.exit_code == 0, out.output
    assert "25 points taken back from 1 hidden posts" in out.output
    # The upvote and the accept of the old hidden answer are gone; the downvote's penalty,
    # the visible answer's upvote and the asker's bonus stay.
    assert f.rep(author)["points"] == -2 + 10
    assert f.rep(f.asker)["points"] == 2
    after = _ledger(db)
    assert after[: len(before)] == before  # appended, nothing edited
    added = after[len(before) :]
    assert sorted(r[2] for r in added) == [-15, -10]
    assert all(r[3] is not None and r[1] == f"{r[3]}:rev" for r in added)
    again = CliRunner().invoke(cli, ["take-back-hidden-points", "--brand", f.slug], env=env)
    assert again.exit_code == 0, again.output
    assert "0 points taken back from 0 hidden posts" in again.output
    assert _ledger(db) == after
    # Restoring it gives the points back like any hidden post's.
    assert f.post(f"/moderation/{old}", f.agent, {"decision": "restore"}).status_code == 200
    assert f.rep(author)["points"] == 10 + 15 - 2 + 10
    missing = CliRunner().invoke(cli, ["take-back-hidden-points", "--brand", "nope"], env=env)
    assert missing.exit_code == 2, missing.output
