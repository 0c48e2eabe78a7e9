"""Experts' presence intervals (when they were online) under data protection, through HTTP:
a person's export holds their own intervals; an erasure — of the account, or a brand's
erasure of a customer who also works there as an expert — leaves the intervals counted in
the capacity plan but naming nobody."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from crowdcx.tenancy import service as tenancy
from crowdcx.tenancy.models import Brand
from crowdcx.tickets.models import ExpertPresenceRow, ExpertProfileRow
from tests.conftest import PASSWORD, Person, World
from tests.tickets.test_api import Desk
from tests.tickets.test_roster import _roster


def _rows(world: World) -> list[tuple[int | None, bool]]:
    """Every interval as (whom it names, still open)."""
    with world.db.sessions() as session:
        return [
            (user_id, offline_at is None)
            for user_id, offline_at in session.execute(
                select(ExpertPresenceRow.user_id, ExpertPresenceRow.offline_at).order_by(
                    ExpertPresenceRow.id
                )
            )
        ]


def _two_stretches_and_another_expert(desk: Desk) -> tuple[Person, Person]:
    """The first expert online, offline and online again; the second online."""
    me, other = desk.experts
    for online in (True, False, True):
        desk.online(me, online)
    desk.online(other)
    return me, other


def test_my_export_holds_my_own_intervals(client: TestClient, world: World) -> None:
    desk = Desk(client, world)
    me, other = _two_stretches_and_another_expert(desk)
    r = client.get("/api/v1/me/export", headers=me.auth)
    assert r.status_code == 200, r.text
    [section] = r.json()["brands"]
    closed, still = section["presence"]
    assert datetime.fromisoformat(closed["online_at"]) <= datetime.fromisoformat(
        closed["offline_at"]
    )
    assert still["offline_at"] is None
    [theirs] = client.get("/api/v1/me/export", headers=other.auth).json()["brands"]
    assert len(theirs["presence"]) == 1  # each their own, nobody else's
    mine = client.get("/api/v1/me/export", headers=desk.customer.auth).json()
    assert all(s["presence"] == [] for s in mine["brands"])


def test_an_erased_account_goes_offline_and_its_intervals_name_nobody(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world)
    me, other = _two_stretches_and_another_expert(desk)
    r = client.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=me.auth)
    assert r.status_code == 200, r.text
    # Both of mine still counted, closed, detached; the other expert's untouched.
    assert sorted(_rows(world), key=str) == sorted(
        [(None, False), (None, False), (other.id, True)], key=str
    )
    with world.db.sessions() as session:
        online = session.scalar(
            select(ExpertProfileRow.online).where(ExpertProfileRow.user_id == me.id)
        )
    assert online is False


def test_a_brands_erasure_of_a_customer_who_is_also_its_expert(
    client: TestClient, world: World
) -> None:
    """The brand erases the person's data as its customer: they go offline there, as when
    the expert role is taken away (their open stretch ends at the erasure, the roster
    moves on, so the cached candidate pool no longer offers them tickets), and their
    presence there is detached. Another brand's intervals and status stay theirs."""
    desk = Desk(client, world, experts=0)
    elsewhere = Desk(client, world, experts=0)
    person = world.member(desk.slug, ["customer", "expert"], "Two Hats")
    with world.db.transaction() as uow:  # the same person is an expert at the other brand
        ctx = tenancy.access_brand(uow.session, elsewhere.slug, None)
        tenancy.add_member(uow, ctx, person.email, ["expert"])
    body = {"skills": {"general": 3}, "languages": ["en"], "tier": 0, "certifications": []}
    for d in (desk, elsewhere):
        assert d.put(f"/experts/{person.id}", body, d.admin).status_code == 200
    desk.online(person)
    desk.online(person, False)
    desk.online(person)
    elsewhere.online(person)
    first = desk.ask(subject="Where is my parcel?", body="It has not come.", language="en")
    assert first["offered_to"] == person.id  # the brand's pool, with them in it, is cached
    rosters = _roster(world.db, desk.slug), _roster(world.db, elsewhere.slug)
    r = desk.post(f"/customers/{person.id}/erase", desk.admin)
    assert r.status_code == 200, r.text
    rows = _rows(world)
    assert rows.count((None, False)) == 2  # this brand's past, detached and closed
    assert rows.count((None, True)) == 0
    assert rows.count((person.id, True)) == 1  # the other brand's only
    assert _online(world, person) == {desk.slug: False, elsewhere.slug: True}
    assert (_roster(world.db, desk.slug), _roster(world.db, elsewhere.slug)) == (
        rosters[0] + 1,
        rosters[1],
    )
    second = desk.ask(subject="Where is my other parcel?", body="Not here.", language="en")
    assert (second["status"], second["offered_to"]) == ("queued", None)
    desk.online(person)  # coming back is their own choice: a stretch of their own again
    assert _rows(world).count((person.id, True)) == 2


def _online(world: World, person: Person) -> dict[str, bool]:
    with world.db.sessions() as session:
        rows = session.execute(
            select(Brand.slug, ExpertProfileRow.online)
            .join(Brand, Brand.id == ExpertProfileRow.brand_id)
            .where(ExpertProfileRow.user_id == person.id)
        )
        return {slug: bool(online) for slug, online in rows}
