"""What a vote and an accept cost the database, statement by statement, through HTTP: the two
writes the community load bench found slowest (issue 5). A statement added to either path —
a second read of a row, a badge check that cannot grant anything, a re-index of a document
that did not change — fails here rather than slowly in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from crowdcx.kernel.db import Database
from tests.community.test_api import Forum
from tests.conftest import World


def _statements(db: Database, act: Callable[[], Any]) -> tuple[Any, list[str]]:
    """What ``act`` returned, and the statements it ran (their first words and tables)."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        result = act()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return result, seen


def _reads(statements: list[str], table: str) -> int:
    return sum(1 for s in statements if s.startswith("SELECT") and f" FROM {table} " in f"{s} ")


def test_votes_and_an_accept_run_a_fixed_few_statements(
    client: TestClient, world: World, db: Database
) -> None:
    """An upvote runs 18 statements (16 once the answer has helped already), a withdrawn one
    13 and reads no badge; accepting an answer that has helped already, granting no badge,
    runs 15 besides the search index's 5 — and each still does all of its work."""
    f = Forum(client, world, db)
    helper = f.helpers[0]
    voters = f.helpers[1:4]
    for v in voters:
        f.grant(v, 20)  # the upvote privilege
    earlier = f.ask("Роуминг не подключается")
    first_aid = f.answer(earlier, helper, "Включите роуминг данных.")
    assert f.post(f"/questions/{earlier}/accept", f.asker, {"answer_id": first_aid}).is_success
    assert f.rep(helper)["badges"] == ["first_answer", "first_accepted"]
    qid = f.ask()
    aid = f.answer(qid, helper, "Проверьте точку доступа internet.volga.")

    def vote(who: Any, value: int) -> Any:
        return _statements(db, lambda: f.post(f"/posts/{aid}/vote", who, {"value": value}))

    first, first_sql = vote(voters[0], 1)
    assert first.status_code == 200
    assert first.json()["up"] == 1
    # The answer now helps in Russian: the badge check reads the helper's languages.
    assert _reads(first_sql, "community_helped_languages") == 1
    assert len(first_sql) == 18, first_sql

    second, second_sql = vote(voters[1], 1)
    assert second.json()["up"] == 2
    # It helped already: the languages did not move, and nothing reads them.
    assert _reads(second_sql, "community_helped_languages") == 0
    assert _reads(second_sql, "reputation_totals") == 2  # before deciding; the badge check
    assert len(second_sql) == 16, second_sql

    back, back_sql = vote(voters[1], 0)
    assert back.json()["up"] == 1
    # Nothing rose (the vote was taken back): no badge can have become due.
    assert _reads(back_sql, "community_badges") == 0
    assert _reads(back_sql, "community_activity") == 0
    assert len(back_sql) == 13, back_sql
    assert f.rep(helper)["points"] == 15 + 10

    accepted, accept_sql = _statements(
        db, lambda: f.post(f"/questions/{qid}/accept", f.asker, {"answer_id": aid})
    )
    assert accepted.status_code == 200
    assert accepted.json()["accepted"] is True
    assert _reads(accept_sql, "community_helped_languages") == 0  # upvoted: it helped already
    assert _reads(accept_sql, "community_posts") == 2  # the question, its answers
    # The search index's own statements differ by backend (FTS5 or tsvector), not their
    # number: the newly solved question was never indexed, so one read finds nothing to
    # delete, and its document, statistics and term counts are one statement each
    # (tests/search/test_index_writes.py counts each kind of write on both).
    ours = [s for s in accept_sql if "search_" not in s]
    assert len(ours) == 15, ours
    index = [s for s in accept_sql if "search_" in s]
    assert sum(1 for s in index if s.startswith("INSERT INTO search_document")) == 1
    assert not any(s.startswith("DELETE") for s in index), index
    assert sum(1 for s in index if s.startswith("INSERT INTO search_term")) == 1, index
    assert len(index) == 5, index  # SQLite: + FTS row; PostgreSQL: + the brand's stats lock
    assert f.rep(helper)["points"] == 15 + 10 + 15
    assert f.rep(helper)["badges"] == ["first_answer", "first_accepted"]
    found = f.get("/search", f.asker, q="точку доступа", kind="question").json()["results"]
    assert [r["id"] for r in found] == [str(qid)]


def test_a_vote_on_an_unsolved_question_reads_the_index_once_and_locks_nothing(
    client: TestClient, world: World, db: Database
) -> None:
    """An unsolved question is not in the search index, yet each vote on it re-syncs it
    there (a vote on a solved one moves its document's votes): one probe of the unique index
    finds nothing to remove, so the vote neither deletes nor takes the brand's statistics
    row, the lock every index writer of the brand holds until it commits (on PostgreSQL)."""
    f = Forum(client, world, db)
    voters = f.helpers[1:3]
    for v in voters:
        f.grant(v, 20)  # the upvote privilege
    earlier = f.ask("Роуминг не подключается")
    aid = f.answer(earlier, f.helpers[0], "Включите роуминг данных.")
    assert f.post(f"/questions/{earlier}/accept", f.asker, {"answer_id": aid}).is_success
    qid = f.ask()

    def vote(who: Any, value: int) -> Any:
        return _statements(db, lambda: f.post(f"/posts/{qid}/vote", who, {"value": value}))

    # 17 statements an upvote, 14 a withdrawn one, the index's probe among them.
    for who, value, up, count in ((voters[0], 1, 1, 17), (voters[1], 1, 2, 17),
                                  (voters[1], 0, 1, 14)):  # fmt: skip
        voted, sql = vote(who, value)
        assert voted.status_code == 200
        assert voted.json()["up"] == up
        index = [s for s in sql if "search_" in s]
        assert len(index) == 1, index
        assert index[0].startswith("SELECT 1 FROM search_document"), index
        assert len(sql) == count, sql
    stored = f.get("/search", f.asker, q="роуминг", kind="question").json()["results"]
    assert [r["id"] for r in stored] == [str(earlier)]  # the solved one is still found
