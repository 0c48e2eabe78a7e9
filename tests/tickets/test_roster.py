"""The brand's roster version moves on whenever someone leaves the experts online: the
candidate pool routing reads is cached per roster version, so a person whose expert role
was taken away, or whose account was erased, must not stay in it. Through HTTP: experts in
the cached pool lose the role (or erase their account), and the next ticket goes to the
expert still there — with a stale pool, every routing attempt was spent on people who
could no longer take it, and the ticket waited in the queue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crowdcx.kernel.db import Database
from crowdcx.tenancy import service as tenancy
from crowdcx.tickets.models import BrandPolicyRow, ExpertPresenceRow
from tests.conftest import PASSWORD, Person, World
from tests.tickets.test_api import Desk

# More of them than routing's attempts per decision (eight), all better than the one left.
GONE = 9


def _expert(desk: Desk, world: World, proficiency: int, name: str) -> Person:
    person = world.member(desk.slug, ["expert"], name)
    body = {"skills": {"general": proficiency}, "languages": ["zh-Hans", "en"], "tier": 0,
            "certifications": []}  # fmt: skip
    assert desk.put(f"/experts/{person.id}", body, desk.admin).status_code == 200
    desk.online(person)
    return person


def _roster(db: Database, slug: str) -> int:
    with db.sessions() as session:
        ctx = tenancy.access_brand(session, slug, None)
        version = session.scalar(
            select(BrandPolicyRow.roster_version).where(BrandPolicyRow.brand_id == ctx.brand.id)
        )
    assert version is not None
    return int(version)


@pytest.mark.parametrize("gone", ["role_removed", "account_erased"])
def test_an_expert_who_left_is_out_of_the_cached_pool_at_once(
    client: TestClient, world: World, db: Database, gone: str
) -> None:
    desk = Desk(client, world, experts=0)
    leaving = [_expert(desk, world, 5, f"专家{i}") for i in range(GONE)]
    staying = _expert(desk, world, 1, "留下")
    first = desk.ask()  # routing builds the brand's pool, with everyone in it, and caches it
    assert first["status"] == "offered"
    assert first["offered_to"] in {p.id for p in leaving}
    before = _roster(db, desk.slug)
    for person in leaving:
        if gone == "role_removed":
            r = desk.put(f"/members/{person.id}", {"roles": ["customer"]}, desk.admin)
        else:
            r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=person.auth)
        assert r.status_code == 200, r.text
    assert _roster(db, desk.slug) == before + GONE  # each departure moved the roster on
    ticket = desk.ask()
    assert (ticket["status"], ticket["offered_to"]) == ("offered", staying.id)


def test_a_role_taken_away_ends_the_presence_at_the_callers_clock(
    client: TestClient, world: World, db: Database
) -> None:
    desk = Desk(client, world, experts=1)
    [expert] = desk.experts
    desk.online(expert)
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)  # not the server's clock
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, desk.slug, None)
        tenancy.set_roles(uow, ctx, expert.id, ["customer"], at)
    with db.sessions() as session:
        [ended] = session.scalars(
            select(ExpertPresenceRow.offline_at).where(ExpertPresenceRow.user_id == expert.id)
        ).all()
    assert ended is not None
    assert (ended if ended.tzinfo else ended.replace(tzinfo=UTC)) == at
