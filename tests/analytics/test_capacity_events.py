"""The brand's sales events through HTTP: remembered via the API and the page, left out of
the plan's ordinary week and trend, and the last past one's lift offered as the multiplier.

The brand of test_capacity_trend (Asia/Shanghai, planned Monday 7 December 2026 at 10:00):
tickets on Mondays at 20:xx — 5, 7, 10, 14, 20, 28 (26 October … 30 November)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from crowdcx.analytics import service
from crowdcx.kernel.errors import AppError
from crowdcx.tenancy import service as tenancy
from crowdcx.tickets.models import TicketRow
from tests.analytics.test_capacity_trend import (  # noqa: F401
    LIFT,
    NEXT_MONDAY_20,
    NOW,
    SHANGHAI,
    growing,
)
from tests.conftest import World
from tests.overlapping import second_waits_for_first
from tests.query_plans import recording
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in

SALE = {"name": "Black Friday", "start": "2026-11-30T20:00", "hours": 1}


def _add(desk: Desk, body: dict[str, Any], language: str = "en") -> Any:
    return desk.client.post(
        desk.url("/capacity/events"), json=body,
        headers={**desk.admin.auth, "Accept-Language": language},
    )  # fmt: skip


def test_a_remembered_sale_is_left_out_and_its_lift_is_the_multiplier(growing: Desk) -> None:  # noqa: F811
    """Without the sale the last four Mondays averaged 18 (10, 14, 20, 28); with it
    remembered, 30 November is left out: (10 + 14 + 20) ÷ 3. Its week is left out of the
    trend (five weeks kept), and its lift (28 where the weeks before expected 12.75 moved on
    by their growth: LIFT) is
    the multiplier when none is typed."""
    before = growing.get(f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1", growing.admin).json()
    assert before["inputs"]["multiplier_from"] == "default"
    added = _add(growing, SALE)
    assert added.status_code == 201, added.text
    assert added.json()["start"] == "2026-11-30T20:00:00+08:00"

    r = growing.get(f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1", growing.admin)
    assert r.status_code == 200, r.text
    inputs = r.json()["inputs"]
    assert (inputs["multiplier"], inputs["multiplier_from"]) == (LIFT, "last_event")
    assert inputs["learned_from"]["event"]["name"] == "Black Friday"
    assert inputs["learned_from"]["lift"]["observed_tickets"] == 28
    assert inputs["event_days_left_out"] == 1
    assert (inputs["trend"]["applied"], inputs["trend"]["weeks"]) == (True, 5)
    expected = r.json()["hours"][0]["expected_tickets"]
    assert expected == pytest.approx(44 / 3 * LIFT * inputs["trend"]["factor"], abs=0.01)
    typed = growing.get(
        f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1&multiplier=1", growing.admin
    ).json()
    assert typed["inputs"]["multiplier_from"] == "typed"
    assert typed["hours"][0]["expected_tickets"] == pytest.approx(
        44 / 3 * typed["inputs"]["trend"]["factor"], abs=0.01
    )
    assert 44 / 3 < 18  # the sale no longer raises the ordinary Monday

    listed = growing.get("/capacity/events", growing.admin).json()["events"]
    assert [(e["name"], e["past"], e["lift"]["lift"]) for e in listed] == [
        ("Black Friday", True, LIFT)
    ]
    gone = growing.client.delete(
        growing.url(f"/capacity/events/{listed[0]['id']}"), headers=growing.admin.auth
    )
    assert gone.status_code == 204
    again = growing.get(f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1", growing.admin).json()
    assert again["inputs"]["multiplier_from"] == "default"
    assert again["inputs"]["trend"]["weeks"] == 6


BAD = {
    "event_name_empty": ("name", {**SALE, "name": "  "}, {
        "en": "Give the event a name", "ru": "Дайте событию название",
        "zh-Hans": "给活动起个名字", "zh-Hant": "給活動起個名字",
    }),
    "event_name_too_long": ("name", {**SALE, "name": "x" * 121}, {
        "en": "at most 120 characters", "ru": "не длиннее 120 символов",
        "zh-Hans": "最多 120 个字符", "zh-Hant": "最多 120 個字元",
    }),
    "event_hours_out_of_range": ("hours", {**SALE, "hours": 169}, {
        "en": "from 1 to 168 hours", "ru": "от 1 до 168 ч", "zh-Hans": "1 至 168 小时",
        "zh-Hant": "1 至 168 小時",
    }),
    "event_start_out_of_range": ("start", {**SALE, "start": "2029-01-01T00:00"}, {
        "en": "a year ago to two years ahead", "ru": "не раньше чем год назад",
        "zh-Hans": "一年前至两年后", "zh-Hant": "一年前至兩年後",
    }),
    "event_overlaps": ("start", {**SALE, "name": "Other", "start": "2026-11-30T20:30"}, {
        "en": "overlaps another of your events", "ru": "пересекается с другим",
        "zh-Hans": "时间重叠", "zh-Hant": "時間重疊",
    }),
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(BAD))
def test_an_event_that_cannot_be_added_is_a_422_in_four_languages(
    growing: Desk,  # noqa: F811
    code: str,
) -> None:
    assert _add(growing, SALE).status_code == 201
    field, body, texts = BAD[code]
    for language, text in texts.items():
        r = _add(growing, body, language)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert (problem["code"], problem["errors"][0]["field"]) == (code, field), problem
        assert text in problem["detail"], (language, problem["detail"])
    assert len(growing.get("/capacity/events", growing.admin).json()["events"]) == 1


def test_events_belong_to_their_brand_and_to_its_admins(
    growing: Desk,  # noqa: F811
    world: World,
) -> None:
    event_id = _add(growing, SALE).json()["id"]
    other = world.brand()
    other_admin = world.member(other, ["brand_admin"])
    stolen = growing.client.delete(
        f"/api/v1/brands/{other}/capacity/events/{event_id}", headers=other_admin.auth
    )
    assert stolen.status_code == 404
    assert growing.get("/capacity/events", growing.customer).status_code in {403, 404}
    assert _add(growing, {**SALE, "start": "2026-12-01T00:00"}).status_code == 201
    customer = growing.client.post(
        growing.url("/capacity/events"), json=SALE, headers=growing.customer.auth
    )
    assert customer.status_code in {403, 404}
    assert len(growing.get("/capacity/events", growing.admin).json()["events"]) == 2
    missing = growing.client.delete(
        growing.url("/capacity/events/999999"), headers=growing.admin.auth
    )
    assert missing.status_code == 404


def test_the_page_adds_lists_plans_and_removes_events(
    client: TestClient,
    growing: Desk,  # noqa: F811
) -> None:
    token = sign_in(client, growing.admin)
    client.cookies.set("crowdcx_locale", "ru")
    base = f"/b/{growing.slug}/admin/capacity"
    assert "Событий пока нет." in client.get(base).text
    for name, start in (("Black Friday", "2026-11-30T20:00"), ("12.12", "2026-12-12T00:00")):
        added = client.post(
            f"{base}/events", follow_redirects=False,
            data={"csrf_token": token, "event_name": name, "event_start": start,
                  "event_hours": "24" if name == "12.12" else "1", "event_multiplier": ""},
        )  # fmt: skip
        assert added.status_code == 303, added.text
    html = client.get(base).text
    assert html.count('data-testid="event"') == 2
    ru_lift = f"{LIFT:.2f}".replace(".", ",")
    assert f'data-testid="event-lift">{ru_lift}×' in html  # the past sale's lift, Russian decimals
    assert 'data-testid="learned"' in html
    assert f'value="{LIFT:g}"' in html  # the multiplier field took the learned lift
    plan_link = f"{base}?start={quote('2026-12-12T00:00')}&amp;hours=24"
    assert plan_link in html
    assert "Спланировать это событие" in html
    planned = client.get(f"{base}?start=2026-12-12T00:00&hours=24")
    assert planned.status_code == 200
    assert 'data-testid="peak"' in planned.text

    client.cookies.set("crowdcx_locale", "zh-Hans")
    overlap = client.post(
        f"{base}/events",
        data={"csrf_token": token, "event_name": "x", "event_start": "2026-12-12T10:00",
              "event_hours": "2"},
    )  # fmt: skip
    assert overlap.status_code == 422
    assert "时间重叠" in overlap.text
    assert 'value="x"' in overlap.text  # what was typed is kept
    client.cookies.set("crowdcx_locale", "zh-Hant")
    empty = client.post(
        f"{base}/events", data={"csrf_token": token, "event_name": "", "event_start": ""}
    )
    assert empty.status_code == 422
    assert "請以日期和時間填寫開始時間" in empty.text

    listed = growing.get("/capacity/events", growing.admin).json()["events"]
    removed = client.post(
        f"{base}/events/{listed[0]['id']}/remove", data={"csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert removed.status_code == 303
    assert client.get(base).text.count('data-testid="event"') == 1


def test_two_admins_adding_overlapping_events_at_once_leave_one(
    growing: Desk,  # noqa: F811
    world: World,
) -> None:
    """The first add has checked for overlaps and inserted its event, not committed, when the
    second adds an event overlapping it: the second waits (PostgreSQL: the brand's events
    lock; SQLite: the one writer's lock, taken before the check reads), then sees the first
    and is refused. Both checks read the events before either insert, and both were kept."""
    now = NOW.astimezone(UTC)
    added: list[str] = []
    refused: list[AppError] = []

    def add(name: str, start: datetime, pause: Callable[[], None] | None = None) -> None:
        try:
            with world.db.transaction() as uow:
                ctx = tenancy.access_brand(uow.session, growing.slug, None)
                service.add_event(
                    uow.session, ctx, None, now, name=name, start=start, hours=24,
                    multiplier=None,
                )  # fmt: skip
                if pause is not None:
                    pause()
            added.append(name)
        except AppError as error:
            refused.append(error)

    sale = datetime(2026, 12, 12, 0, 0, tzinfo=SHANGHAI)
    second_waits_for_first(
        lambda pause: add("12.12", sale, pause), lambda: add("Double 12", sale + timedelta(hours=6))
    )
    assert added == ["12.12"]
    assert [(e.status, e.code) for e in refused] == [(422, "event_overlaps")]
    listed = growing.get("/capacity/events", growing.admin).json()["events"]
    assert [e["name"] for e in listed] == ["12.12"]


def _quiet_hours(desk: Desk, n: int, day: int) -> None:
    """``n`` past one-hour events on ``day`` December, in hours the brand never has tickets
    (it has them on Mondays at 20:xx only): their lift cannot be measured."""
    for i in range(n):
        body = {
            "name": f"Flash {day}.{i}",
            "start": f"2026-12-{day:02d}T{2 * i:02d}:00",
            "hours": 1,
        }
        assert _add(desk, body).status_code == 201


def _statements(client: TestClient, url: str) -> tuple[int, str]:
    with recording(client.app.state.db.engine) as seen:  # type: ignore[attr-defined]
        r = client.get(url)
    assert r.status_code == 200, r.text[:300]
    return len(seen), r.text


def test_the_page_measures_the_last_ten_past_events_and_learns_as_the_api(
    client: TestClient,
    growing: Desk,  # noqa: F811
) -> None:
    """Each view of the page measured every past event's lift again (queries for each), and
    learned the multiplier from the whole list where the API tried the five most recent:
    behind six unmeasurable events the page learned Black Friday's lift, the API the default.
    Now both try the ten most recent, the ten the page lists; older ones are behind a link."""
    token = sign_in(client, growing.admin)
    assert token
    base = f"/b/{growing.slug}/admin/capacity"
    plan = f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1"
    assert _add(growing, SALE).status_code == 201
    _quiet_hours(growing, 6, 1)

    learned = growing.get(plan, growing.admin).json()["inputs"]
    assert (learned["multiplier"], learned["multiplier_from"]) == (LIFT, "last_event")
    assert learned["learned_from"]["event"]["name"] == "Black Friday"
    _count, html = _statements(client, base)
    assert 'data-testid="learned"' in html
    assert f"Black Friday: {LIFT:.2f} times" in html
    assert html.count('data-testid="event"') == 7
    assert 'data-testid="all-events"' not in html

    _quiet_hours(growing, 4, 2)  # Black Friday is now the eleventh most recent past event
    default = growing.get(plan, growing.admin).json()["inputs"]
    assert (default["multiplier_from"], default["learned_from"]) == ("default", None)
    at_ten, html = _statements(client, base)
    assert 'data-testid="learned"' not in html
    assert html.count('data-testid="event"') == 10
    assert "Black Friday" not in html
    assert 'data-testid="older-events">Show 1 older past event<' in html
    assert 'data-testid="latest-events"' not in html
    client.cookies.set("crowdcx_locale", "ru")
    assert "Показать ещё 1 прошедшее событие" in client.get(base).text
    client.cookies.set("crowdcx_locale", "en")

    _quiet_hours(growing, 3, 3)  # three more past events: the view costs the same
    at_thirteen, html = _statements(client, base)
    assert at_thirteen == at_ten
    assert "Show 4 older past events" in html
    _older, html = _statements(client, _older_link(html))
    assert html.count('data-testid="event"') == 4
    assert f'data-testid="event-lift">{LIFT:.2f}×' in html  # Black Friday, listed and measured
    assert 'data-testid="learned"' not in html  # not learned from: too far back, as the API
    assert 'data-testid="older-events"' not in html
    assert f'href="{base}#events" data-testid="latest-events">Back to the most recent' in html
    assert 'data-testid="peak"' not in html  # the list asked for, not a plan


def _older_link(html: str) -> str:
    """The page's "show older" link (its query's cursor), unescaped."""
    found = re.search(r'href="([^"]+)" data-testid="older-events"', html)
    assert found is not None
    return found.group(1).replace("&amp;", "&").split("#")[0]


def test_a_page_of_older_past_events_costs_the_same_however_many_lie_behind_it(
    client: TestClient,
    growing: Desk,  # noqa: F811
) -> None:
    """`?events=all` measured every past event on one view (statements for each). The page
    of older ones now measures only its own ten, and the ten most recent again for the
    learned multiplier: ten more events further back leave its statements as they were, and
    its own "show older" link walks on to them, each event listed once."""
    assert sign_in(client, growing.admin)
    base = f"/b/{growing.slug}/admin/capacity"
    assert _add(growing, SALE).status_code == 201
    _quiet_hours(growing, 6, 1)
    _quiet_hours(growing, 6, 2)
    _quiet_hours(growing, 6, 3)  # 19 past events: ten listed, nine older

    def old(first: int) -> None:  # ten older than every other, each earlier than the last
        for i in range(first, first + 10):
            body = {"name": f"Old {i}", "start": f"2026-08-{30 - i:02d}T10:00", "hours": 1}
            assert _add(growing, body).status_code == 201

    old(0)
    _count, html = _statements(client, base)
    assert "Show the next 10 of 19 older past events" in html  # a page holds ten
    client.cookies.set("crowdcx_locale", "ru")
    assert "Показать следующие 10 из 19 более ранних прошедших событий" in client.get(base).text
    client.cookies.set("crowdcx_locale", "en")
    link = _older_link(html)
    before, page = _statements(client, link)
    old(10)
    after, again = _statements(client, link)
    # The viewer, the brand, its policy and handle time (4), the events (1); the page's
    # first ticket (1), Black Friday's baseline, weekly totals and window (3), nine empty
    # baselines (9); the learned lift's first ticket (1) and the ten most recent, each an
    # empty baseline (10); the unusual days' first ticket and daily counts (2).
    assert after == before
    assert before == 31
    assert again.count('data-testid="event"') == page.count('data-testid="event"') == 10
    assert "Show the next 10 of 19 older past events" in again

    listed: list[str] = []
    url: str | None = base
    while url is not None:
        html = client.get(url).text
        listed += re.findall(r'<tr data-testid="event"><td>([^<]+)</td>', html)
        url = _older_link(html) if 'data-testid="older-events"' in html else None
    assert len(listed) == len(set(listed)) == 39


def _api_statements(desk: Desk, path: str) -> tuple[int, Any]:
    with recording(desk.client.app.state.db.engine) as seen:  # type: ignore[attr-defined]
        r = desk.get(path, desk.admin)
    assert r.status_code == 200, r.text[:300]
    return len(seen), r.json()


def test_the_api_pages_past_events_and_measures_only_the_page(growing: Desk) -> None:  # noqa: F811
    """`GET /capacity/events` measured every past event (statements for each, however many
    the brand kept). A page now measures only its own past events: ten older past events
    added behind the three most recent leave the first page's statements as they were; the
    cursor walks every past event once, most recent first, and the upcoming events come on
    the first page."""
    assert _add(growing, SALE).status_code == 201
    assert _add(growing, {"name": "12.12", "start": "2026-12-12T00:00", "hours": 24}).status_code
    _quiet_hours(growing, 2, 1)
    small, first = _api_statements(growing, "/capacity/events?limit=3")
    assert [(e["name"], e["past"]) for e in first["events"]] == [
        ("Black Friday", True), ("Flash 1.0", True), ("Flash 1.1", True), ("12.12", False),
    ]  # fmt: skip
    assert first["next_cursor"] is None
    assert first["events"][0]["lift"]["lift"] == LIFT
    for i in range(10):  # older, before any week the listed events' baselines read
        body = {"name": f"Old {i}", "start": f"2026-08-02T{2 * i:02d}:00", "hours": 1}
        assert _add(growing, body).status_code == 201
    large, page = _api_statements(growing, "/capacity/events?limit=3")
    # The viewer and the brand (2), the events (1), the first ticket (1); Black Friday's
    # baseline, weekly totals and window (3); each flash sale's baseline, empty (1 + 1).
    assert small == 9
    assert large == small
    assert page["events"] == first["events"]
    assert page["next_cursor"] is not None
    every, _body = _api_statements(growing, "/capacity/events?limit=100")
    assert every > large  # what one request of every past event costs

    walked: list[str] = []
    cursor = None
    for _ in range(10):
        query = "/capacity/events?limit=4" + (f"&cursor={cursor}" if cursor else "")
        body = growing.get(query, growing.admin).json()
        past = [e for e in body["events"] if e["past"]]
        assert [e["start"] for e in past] == sorted(e["start"] for e in past)  # earliest first
        walked += [e["name"] for e in reversed(past)]
        assert all(e["past"] for e in body["events"]) == (cursor is not None)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(walked) == len(set(walked)) == 13
    assert walked[:3] == ["Flash 1.1", "Flash 1.0", "Black Friday"]
    assert walked[3:] == [f"Old {i}" for i in reversed(range(10))]


@pytest.mark.parametrize("query", ["cursor=nonsense", "cursor=eyJhZnRlciI6IDF9", "limit=0"])
def test_a_bad_events_page_is_a_422(growing: Desk, query: str) -> None:  # noqa: F811
    r = growing.get(f"/capacity/events?{query}", growing.admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] in {"cursor", "limit"}


def test_the_page_suggests_an_unrecorded_sale_and_records_it(
    client: TestClient,
    growing: Desk,  # noqa: F811
    world: World,
) -> None:
    """A Wednesday with 40 tickets (Wednesdays have none) nobody recorded: the page suggests
    it as a sales day — the growing Mondays are not suggested —; one press records it, and
    it is left out of the plan's ordinary week and no longer suggested."""
    ids = [growing.ask()["id"] for _ in range(40)]
    wednesday = datetime(2026, 11, 25, 12, 0, tzinfo=SHANGHAI)
    with world.db.transaction() as uow:
        for i, tid in enumerate(ids):
            at = (wednesday + timedelta(minutes=i)).astimezone(UTC)
            uow.session.execute(
                update(TicketRow).where(TicketRow.id == tid)
                .values(created_at=at, case_started_at=at, sweep_at=None)
            )  # fmt: skip
    token = sign_in(client, growing.admin)
    base = f"/b/{growing.slug}/admin/capacity"
    html = client.get(base).text
    assert html.count('data-testid="unusual-day"') == 1
    assert "Nov 25, 2026: 40 tickets" in html
    assert 'value="2026-11-25T00:00"' in html
    before = growing.get(f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1", growing.admin).json()
    assert before["inputs"]["event_days_left_out"] == 0
    recorded = client.post(
        f"{base}/events", follow_redirects=False,
        data={"csrf_token": token, "event_name": "Sales day Nov 25, 2026",
              "event_start": "2026-11-25T00:00", "event_hours": "24"},
    )  # fmt: skip
    assert recorded.status_code == 303, recorded.text
    after = client.get(base).text
    assert 'data-testid="unusual"' not in after
    assert "Sales day Nov 25, 2026" in after
    plan = growing.get(f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1", growing.admin).json()
    assert plan["inputs"]["event_days_left_out"] == 1
    assert plan["inputs"]["history_tickets"] == before["inputs"]["history_tickets"] - 40
    client.cookies.set("crowdcx_locale", "ru")
    removed = growing.get("/capacity/events", growing.admin).json()["events"][0]["id"]
    client.post(f"{base}/events/{removed}/remove", data={"csrf_token": token})
    assert "Похоже на распродажу" in client.get(base).text


def test_a_bad_older_cursor_on_the_page_is_a_422_with_the_latest_events(
    client: TestClient,
    growing: Desk,  # noqa: F811
) -> None:
    """A cursor the page did not give out (hand-edited, cut short) is no 500: the page says
    so and lists the most recent events, as without one."""
    assert sign_in(client, growing.admin)
    assert _add(growing, SALE).status_code == 201
    r = client.get(f"/b/{growing.slug}/admin/capacity?older=nonsense")
    assert r.status_code == 422
    assert 'data-testid="events-error"' in r.text
    assert "start again without it" in r.text
    assert r.text.count('data-testid="event"') == 1
    assert 'data-testid="peak"' not in r.text
