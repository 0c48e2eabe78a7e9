"""Who shows up, through HTTP: experts switching themselves online and offline (API and
page) leave presence intervals, and the capacity plan shows, beside each hour's experts
needed, how many were online then on average and how many short that is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from crowdcx.tenancy.models import Brand
from crowdcx.tickets.models import ExpertPresenceRow, TicketRow
from tests.conftest import Person, World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
YESTERDAY = TODAY - timedelta(days=1)


def _in_utc(world: World, desk: Desk) -> None:
    with world.db.transaction() as uow:
        uow.session.execute(
            update(Brand).where(Brand.slug == desk.slug).values(settings={"timezone": "UTC"})
        )


def _intervals(world: World, person: Person) -> list[tuple[datetime, datetime | None]]:
    with world.db.transaction() as uow:
        rows = uow.session.execute(
            select(ExpertPresenceRow.online_at, ExpertPresenceRow.offline_at)
            .where(ExpertPresenceRow.user_id == person.id)
            .order_by(ExpertPresenceRow.id)
        )
        return [(a, b) for a, b in rows]


class Clock:
    """Sets the moment the availability switches (API and page) see."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from crowdcx.tickets import api, pages

        self.at = TODAY
        now: Callable[[], datetime] = lambda: self.at  # noqa: E731
        monkeypatch.setattr(api, "now", now)
        monkeypatch.setattr(pages, "now", now)


def _by_page(client: TestClient, desk: Desk, expert: Person, online: bool) -> None:
    token = sign_in(client, expert)
    r = client.post(
        f"/b/{desk.slug}/workspace/availability",
        data={"csrf_token": token, "online": "1" if online else ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_going_online_opens_one_interval_and_going_offline_closes_it(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    clock = Clock(monkeypatch)
    clock.at = YESTERDAY + timedelta(hours=9)
    desk.online(expert)
    clock.at += timedelta(minutes=5)
    desk.online(expert)  # twice (another tab, a retry): still the one interval
    _by_page(client, desk, expert, True)
    assert _intervals(world, expert) == [(YESTERDAY + timedelta(hours=9), None)]
    clock.at = YESTERDAY + timedelta(hours=10)
    _by_page(client, desk, expert, False)
    clock.at += timedelta(minutes=5)
    desk.online(expert, False)  # offline twice closes nothing more
    first = (YESTERDAY + timedelta(hours=9), YESTERDAY + timedelta(hours=10))
    assert _intervals(world, expert) == [first]
    clock.at = YESTERDAY + timedelta(hours=11)
    _by_page(client, desk, expert, True)
    assert _intervals(world, expert) == [first, (YESTERDAY + timedelta(hours=11), None)]
    # The expert role taken away: offline, the interval closes with it.
    r = client.put(
        desk.url(f"/members/{expert.id}"), json={"roles": ["customer"]}, headers=desk.admin.auth
    )
    assert r.status_code == 200, r.text
    [_, (_, closed)] = _intervals(world, expert)
    assert closed is not None


def test_the_plan_shows_who_was_online_beside_who_is_needed(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk(client, world)
    _in_utc(world, desk)
    first, second = desk.experts
    for _ in range(5):  # five tickets yesterday at 10:15: next week's 10:00 needs experts
        desk.ask()
    with world.db.transaction() as uow:
        brand = select(Brand.id).where(Brand.slug == desk.slug).scalar_subquery()
        uow.session.execute(
            update(TicketRow)
            .where(TicketRow.brand_id == brand)
            .values(created_at=YESTERDAY + timedelta(hours=10, minutes=15))
        )
    start = quote((YESTERDAY + timedelta(days=7, hours=10)).isoformat())
    query = f"start={start}&hours=3&multiplier=10"

    # Nothing recorded yet, and what is recorded today is not history before tomorrow.
    plan = desk.get(f"/capacity-plan?{query}", desk.admin).json()
    assert plan["presence"] == {"recorded": False, "first_day": None, "last_day": None}
    assert plan["hours"][0]["experts_online_avg"] is None
    assert plan["hours"][0]["short_by"] is None
    clock = Clock(monkeypatch)
    clock.at = datetime.now(UTC)
    desk.online(first)
    assert not desk.get(f"/capacity-plan?{query}", desk.admin).json()["presence"]["recorded"]
    sign_in(client, desk.admin)
    html = client.get(f"/b/{desk.slug}/admin/capacity?{query}&target_min=60&goal=80").text
    assert 'data-testid="no-presence"' in html
    desk.online(first, False)
    with world.db.transaction() as uow:  # that stretch was today: not part of this story
        uow.session.execute(
            ExpertPresenceRow.__table__.delete().where(ExpertPresenceRow.user_id == first.id)
        )

    # Yesterday: the first expert online 10:00–11:00 (API), the second 10:30–12:00 (page).
    clock.at = YESTERDAY + timedelta(hours=10)
    desk.online(first)
    clock.at = YESTERDAY + timedelta(hours=10, minutes=30)
    _by_page(client, desk, second, True)
    clock.at = YESTERDAY + timedelta(hours=11)
    desk.online(first, False)
    clock.at = YESTERDAY + timedelta(hours=12)
    _by_page(client, desk, second, False)

    r = desk.get(f"/capacity-plan?{query}", desk.admin)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["presence"] == {
        "recorded": True,
        "first_day": YESTERDAY.date().isoformat(),
        "last_day": YESTERDAY.date().isoformat(),
    }
    assert plan["experts_enrolled"] == 2  # still given
    ten, eleven, noon = plan["hours"]
    assert ten["experts"] >= 3
    assert (ten["experts_online_avg"], ten["short_by"]) == (1.5, ten["experts"] - 1)
    assert plan["peak"] == ten
    assert (eleven["experts_online_avg"], eleven["short_by"]) == (1.0, 0)
    assert (noon["experts_online_avg"], noon["short_by"]) == (0.0, 0)

    sign_in(client, desk.admin)
    for locale, short in (("en", "short by "), ("ru", "не хватает: "), ("zh-Hant", "差 ")):
        client.cookies.set("crowdcx_locale", locale)
        page = client.get(f"/b/{desk.slug}/admin/capacity?{query}&shrinkage=0")
        assert page.status_code == 200, page.text
        assert 'data-testid="presence-days"' in page.text
        assert 'data-testid="no-presence"' not in page.text
        assert f"{short}{ten['experts'] - 1}" in page.text
        assert 'data-testid="online">1.5<' in page.text.replace(",", ".")
        assert 'data-testid="peak-online"' in page.text


def test_housekeeping_drops_intervals_ended_twelve_weeks_ago(
    client: TestClient, world: World
) -> None:
    from crowdcx.tickets.sweeper import housekeep

    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    desk.online(expert, False)
    desk.online(expert)
    now = datetime.now(UTC)
    with world.db.transaction() as uow:
        old = uow.session.scalars(
            select(ExpertPresenceRow).where(ExpertPresenceRow.offline_at.is_not(None))
        ).one()
        old.online_at = now - timedelta(weeks=13)
        old.offline_at = now - timedelta(weeks=12, minutes=1)
    done = housekeep(world.db, now)
    assert done.get("presence_pruned") == 1
    with world.db.transaction() as uow:
        left = uow.session.scalar(
            select(func.count())
            .select_from(ExpertPresenceRow)
            .where(ExpertPresenceRow.user_id == expert.id)
        )
    assert left == 1  # the open one stays, whatever its age
    assert housekeep(world.db, now).get("presence_pruned") is None
