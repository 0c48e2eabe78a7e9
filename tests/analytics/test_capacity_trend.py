"""The capacity plan's trend and a past event's learned lift, through HTTP (API and page).

The brand (Asia/Shanghai) is planned on Monday 7 December 2026 at 10:00. Its tickets all
come on Mondays at 20:xx, growing about 40 % a week over six whole weeks: 5, 7, 10, 14, 20,
28 (26 October … 30 November)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from crowdcx.staffing.rules import weekly_growth
from crowdcx.tenancy.models import Brand
from crowdcx.tickets.models import TicketRow
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
MONDAYS = [datetime(2026, 10, 26, 20, 0, tzinfo=SHANGHAI) + timedelta(weeks=w) for w in range(6)]
PER_WEEK = [5, 7, 10, 14, 20, 28]
NEXT_MONDAY_20 = quote(datetime(2026, 12, 14, 20, 0, tzinfo=SHANGHAI).isoformat())
LAST_EVENT = quote(MONDAYS[-1].isoformat())  # 30 November, 20:00–21:00: 28 tickets


@pytest.fixture
def growing(client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> Desk:
    from crowdcx.analytics import api, pages

    desk = Desk(client, world)
    with world.db.transaction() as uow:
        brand = uow.session.scalars(select(Brand).where(Brand.slug == desk.slug)).one()
        settings = {**(brand.settings or {}), "timezone": "Asia/Shanghai"}
        uow.session.execute(update(Brand).where(Brand.id == brand.id).values(settings=settings))
    ids = [desk.ask()["id"] for _ in range(sum(PER_WEEK))]
    moments = [
        (monday + timedelta(minutes=2 * i)).astimezone(UTC)
        for monday, n in zip(MONDAYS, PER_WEEK, strict=True)
        for i in range(n)
    ]
    with world.db.transaction() as uow:
        for tid, at in zip(ids, moments, strict=True):
            uow.session.execute(
                update(TicketRow).where(TicketRow.id == tid)
                .values(created_at=at, case_started_at=at, sweep_at=None)
            )  # fmt: skip
    monkeypatch.setattr(api, "now", lambda: NOW.astimezone(UTC))
    monkeypatch.setattr(pages, "now", lambda: NOW.astimezone(UTC))
    return desk


def test_a_growing_brand_is_planned_above_its_four_week_average(growing: Desk) -> None:
    """The last four Mondays averaged (10 + 14 + 20 + 28) ÷ 4 = 18 tickets at 20:00; the old
    plan stopped there, though last Monday alone had 28. The trend (six whole weeks) plans
    next Monday above both the average and the last week."""
    r = growing.get(f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1&multiplier=1", growing.admin)
    assert r.status_code == 200, r.text
    inputs = r.json()["inputs"]
    trend = inputs["trend"]
    assert (trend["applied"], trend["weeks"]) == (True, 6)
    assert 0.1 < trend["weekly_growth"] <= 0.25
    assert trend["factor"] > 28 / 18
    expected = r.json()["hours"][0]["expected_tickets"]
    assert expected == pytest.approx(18 * trend["factor"], abs=0.01)
    assert (inputs["multiplier"], inputs["multiplier_from"], inputs["lift"]) == (1, "typed", None)


def test_a_young_brand_has_no_trend(growing: Desk, world: World) -> None:
    """Only the last two weeks: no trend, the four-week average as before."""
    cut = MONDAYS[4].astimezone(UTC)
    with world.db.transaction() as uow:
        uow.session.execute(
            update(TicketRow).where(TicketRow.created_at < cut)
            .values(created_at=cut + timedelta(minutes=1))
        )  # fmt: skip
    r = growing.get(f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1&multiplier=1", growing.admin)
    trend = r.json()["inputs"]["trend"]
    assert (trend["applied"], trend["weeks"], trend["factor"]) == (False, 2, 1.0)


def lift_of_last_monday(growth: float) -> tuple[float, float]:
    """30 November 20:00, one hour: the four weeks before it (Mondays of 7, 10, 14, 20)
    averaged 12.75, the level of their middle (2.5 weeks before it), moved on by the growth
    the five weeks before it (5 … 20) give. What it expected, and 28 ÷ that."""
    expected = 12.75 * (1 + growth) ** 2.5
    return expected, 28 / expected


# The growth the five weeks before last Monday give, and last Monday's lift against it.
GROWTH_BEFORE = weekly_growth(PER_WEEK[:5])
LIFT = round(lift_of_last_monday(GROWTH_BEFORE)[1], 2)


def test_a_past_events_lift_is_the_multiplier(growing: Desk) -> None:
    """Measured against the weeks' average alone, last Monday's 28 tickets were a lift of
    2.2 — most of it the brand's growth of about 40 % a week. Against the average moved on
    by the growth the weeks before it show (shrunk, as the plan's trend), the lift is what
    is left; it is the multiplier when none is typed."""
    query = f"start={NEXT_MONDAY_20}&hours=1&lift_start={LAST_EVENT}&lift_hours=1"
    r = growing.get(f"/capacity-plan?{query}", growing.admin)
    assert r.status_code == 200, r.text
    inputs = r.json()["inputs"]
    lift = inputs["lift"]
    growth = lift["trend"]["weekly_growth"]
    assert (lift["trend"]["applied"], lift["trend"]["weeks"]) == (True, 5)
    assert growth == round(GROWTH_BEFORE, 4)
    assert 0.05 < growth <= 0.25
    expected, measured = lift_of_last_monday(GROWTH_BEFORE)
    assert lift == {
        "start": MONDAYS[-1].isoformat(), "hours": 1, "observed_tickets": 28,
        "expected_tickets": pytest.approx(expected, abs=0.01), "lift": round(measured, 2),
        "average_expected_tickets": 12.75, "trend": lift["trend"],
    }  # fmt: skip
    assert 1 < measured < 28 / 12.75 - 0.3  # well below the 2.2 of the average alone
    assert (inputs["multiplier"], inputs["multiplier_from"]) == (round(measured, 2), "lift")
    factor = inputs["trend"]["factor"]
    assert r.json()["hours"][0]["expected_tickets"] == pytest.approx(
        18 * round(measured, 2) * factor, abs=0.01
    )
    typed = growing.get(f"/capacity-plan?{query}&multiplier=3", growing.admin).json()["inputs"]
    assert (typed["multiplier"], typed["multiplier_from"], typed["lift"]["lift"]) == (
        3,
        "typed",
        round(measured, 2),
    )
    plain = growing.get(f"/capacity-plan?start={NEXT_MONDAY_20}", growing.admin).json()
    assert (plain["inputs"]["multiplier"], plain["inputs"]["multiplier_from"]) == (10, "default")


BAD_WINDOWS = {
    # not over yet: from an hour ago for two hours
    "lift_not_past": ("lift_start", quote(NOW.isoformat()[:16]) + "&lift_hours=2", {
        "en": "has not ended yet", "ru": "ещё не закончилась",
        "zh-Hans": "尚未结束", "zh-Hant": "尚未結束",
    }),
    # longer than a week
    "lift_too_long": ("lift_hours", f"{LAST_EVENT}&lift_hours=169", {
        "en": "at most 168 hours", "ru": "не более чем за 168 ч",
        "zh-Hans": "最多按 168 小时", "zh-Hant": "最多按 168 小時",
    }),
    # before the brand's first ticket: nothing to compare with
    "lift_no_history": ("lift_start", "2026-10-19T20:00&lift_hours=1", {
        "en": "no history before that event", "ru": "нет истории",
        "zh-Hans": "没有可供比较的历史", "zh-Hant": "沒有可供比較的歷史",
    }),
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(BAD_WINDOWS))
def test_a_window_that_cannot_be_measured_is_a_422_in_four_languages(
    growing: Desk, code: str
) -> None:
    field, window, texts = BAD_WINDOWS[code]
    for language, text in texts.items():
        r = growing.client.get(
            growing.url(f"/capacity-plan?lift_start={window}"),
            headers={**growing.admin.auth, "Accept-Language": language},
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert (body["code"], body["errors"][0]["field"]) == (code, field), body
        assert text in body["detail"], (language, body["detail"])


def test_the_page_shows_the_trend_and_offers_the_lift(client: TestClient, growing: Desk) -> None:
    sign_in(client, growing.admin)
    client.cookies.set("crowdcx_locale", "ru")
    base = f"/b/{growing.slug}/admin/capacity?start=2026-12-14T20:00&hours=1"
    html = client.get(f"{base}&multiplier=1").text
    assert 'data-testid="trend"' in html
    assert "Тренд:" in html
    assert "в неделю" in html
    lifted = client.get(f"{base}&lift_start=2026-11-30T20:00&lift_hours=1")
    assert lifted.status_code == 200, lifted.text
    assert 'data-testid="lift"' in lifted.text
    assert f"{LIFT:.2f}".replace(".", ",") in lifted.text  # in a Russian reader's decimals
    assert f'value="{LIFT:g}"' in lifted.text  # the multiplier field took it
    assert 'data-testid="lift-trend"' in lifted.text
    assert "12,8" in lifted.text  # the weeks' average, before their growth
    assert 'data-testid="use-lift"' in lifted.text
    client.cookies.set("crowdcx_locale", "zh-Hant")
    bad = client.get(f"{base}&lift_start=2026-10-19T20:00&lift_hours=1")
    assert bad.status_code == 422
    assert "沒有可供比較的歷史" in bad.text
    too_long = client.get(f"{base}&lift_start=2026-11-30T20:00&lift_hours=200")
    assert too_long.status_code == 422
    assert "最多按 168 小時" in too_long.text


def test_the_trend_can_be_switched_off(growing: Desk) -> None:
    """An admin who knows the growth has ended (a campaign stopped) plans from the four
    weeks' average, 18 at 20:00; the answer says the trend was off and what it would have
    been."""
    base = f"/capacity-plan?start={NEXT_MONDAY_20}&hours=1&multiplier=1"
    on = growing.get(base, growing.admin).json()
    off = growing.get(f"{base}&trend=off", growing.admin)
    assert off.status_code == 200, off.text
    trend = off.json()["inputs"]["trend"]
    assert (trend["mode"], trend["applied"], trend["factor"], trend["weeks"]) == (
        "off", False, 1.0, 6,
    )  # fmt: skip
    assert trend["weekly_growth"] == on["inputs"]["trend"]["weekly_growth"] > 0.1
    assert on["inputs"]["trend"]["mode"] == "auto"
    assert off.json()["hours"][0]["expected_tickets"] == pytest.approx(18, abs=0.01)
    assert on["hours"][0]["expected_tickets"] > 18 * 1.2
    auto = growing.get(f"{base}&trend=AUTO", growing.admin).json()
    assert auto["hours"] == on["hours"]


@pytest.mark.parametrize("bad", ["sideways", "0", "%20no"])
def test_an_unknown_trend_is_a_422_in_four_languages(growing: Desk, bad: str) -> None:
    texts = {
        "en": "Give the trend as “auto”", "ru": "Укажите тренд",
        "zh-Hans": "请将趋势设为", "zh-Hant": "請將趨勢設為",
    }  # fmt: skip
    for language, text in texts.items():
        r = growing.client.get(
            growing.url(f"/capacity-plan?start={NEXT_MONDAY_20}&trend={bad}"),
            headers={**growing.admin.auth, "Accept-Language": language},
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert (body["code"], body["errors"][0]["field"]) == ("trend_unknown", "trend"), body
        assert text in body["detail"], (language, body["detail"])


def test_the_page_switches_the_trend_off(client: TestClient, growing: Desk) -> None:
    sign_in(client, growing.admin)
    base = f"/b/{growing.slug}/admin/capacity?start=2026-12-14T20:00&hours=1&multiplier=1"
    on = client.get(base).text
    assert '<option value="auto" selected>' in on
    off = client.get(f"{base}&trend=off")
    assert off.status_code == 200, off.text
    assert '<option value="off" selected>' in off.text
    assert "Trend switched off" in off.text
    assert "<td>18.0</td>" in off.text  # the four Mondays' average, not moved on
    assert "<td>18.0</td>" not in on
    client.cookies.set("crowdcx_locale", "zh-Hant")
    assert "趨勢已關閉" in client.get(f"{base}&trend=off").text
    bad = client.get(f"{base}&trend=sideways")
    assert bad.status_code == 422
    assert "請將趨勢設為" in bad.text
    assert 'data-testid="peak"' not in bad.text
