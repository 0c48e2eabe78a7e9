"""Staff's quality reviews feed the routing score: an expert whose work keeps failing review
is offered work after one whose work passes, and a newcomer starts at the prior."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.routing.rules import ExpertStats, explain_score, rank_candidates_naive
from crowdcx.tickets.models import ExpertProfileRow
from tests.conftest import World
from tests.quality.test_api import resolve, reviews
from tests.routing.test_rules import MAX, REQ, SKILLS, expert
from tests.tickets.test_api import Desk

POOR = {"solved": 1, "accuracy": 2, "tone": 3, "policy": 2}


def test_poor_reviews_rank_an_expert_after_an_equal_one_and_newcomers_get_the_prior() -> None:
    reviewed = expert("reviewed", stats=ExpertStats(quality_points=5 * 20, quality_count=5))
    newcomer = expert("new")
    ranked = rank_candidates_naive([reviewed, newcomer], REQ, SKILLS, MAX)
    assert [c.expert_id for c in ranked] == ["new", "reviewed"]
    term = {t.name: t for t in explain_score(newcomer, "general", MAX).terms}["quality"]
    assert term.value == 0.75  # Beta(3, 1): a newcomer is an ordinary expert
    good = expert("good", stats=ExpertStats(quality_points=5 * 95, quality_count=5))
    ranked = rank_candidates_naive([newcomer, good], REQ, SKILLS, MAX)
    assert [c.expert_id for c in ranked] == ["good", "new"]


def test_a_decided_review_moves_the_experts_routing_stats(
    client: TestClient, world: World, db: Database
) -> None:
    desk = Desk(client, world)
    resolve(desk)
    [item] = reviews(desk)
    r = desk.post(f"/quality/reviews/{item['id']}", desk.agent, {"scores": POOR})
    assert r.status_code == 200, r.text
    score = r.json()["score"]
    with db.sessions() as s:
        row = s.scalar(
            select(ExpertProfileRow).where(ExpertProfileRow.user_id == desk.experts[0].id)
        )
        assert row is not None
        assert (row.quality_points, row.quality_count) == (score, 1)


def test_0028_back_fills_the_stats_from_decided_reviews(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    desk = Desk(client, world)
    resolve(desk)
    [item] = reviews(desk)
    score = desk.post(f"/quality/reviews/{item['id']}", desk.agent, {"scores": POOR}).json()[
        "score"
    ]
    db.engine.dispose()
    downgrade(database_url, "0027")
    upgrade(database_url, "heads")
    fresh = Database(database_url)
    with fresh.sessions() as s:
        rows = {
            r.user_id: (r.quality_points, r.quality_count)
            for r in s.scalars(select(ExpertProfileRow))
        }
    fresh.dispose()
    assert rows[desk.experts[0].id] == (score, 1)
    assert rows[desk.experts[1].id] == (0, 0)
