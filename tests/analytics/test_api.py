"""Insights and the capacity plan through HTTP, for brand admins only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from crowdcx.kernel.db import Database
from crowdcx.tenancy.models import Brand
from crowdcx.tickets.models import TicketRow
from tests.community.test_api import Forum
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in


def _traffic(desk: Desk) -> None:
    """Three tickets: one resolved by an expert and rated 5, one handed to staff and resolved
    there, one still queued."""
    expert = desk.experts[0]
    desk.online(expert)
    done = desk.ask()["id"]
    assert desk.post(f"/tickets/{done}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{done}/resolve", expert).status_code == 200
    rated = desk.post(f"/tickets/{done}/rating", desk.customer, {"csat": 5, "nps": 10})
    assert rated.status_code in (200, 201), rated.text
    staff = desk.ask()["id"]
    assert desk.post(f"/tickets/{staff}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{staff}/escalate", expert, {"reason": "refund"}).status_code == 200
    assert desk.post(f"/tickets/{staff}/resolve", desk.agent).status_code == 200
    desk.online(expert, False)
    desk.ask()


def _written_yesterday(db: Database, desk: Desk) -> None:
    """Move the brand's tickets a day back: the capacity plan's history is whole days ending
    yesterday (today is not over), so today's tickets are not in it yet."""
    brand = select(Brand.id).where(Brand.slug == desk.slug).scalar_subquery()
    with db.transaction() as uow:
        for row in uow.session.scalars(select(TicketRow).where(TicketRow.brand_id == brand)):
            row.created_at -= timedelta(days=1)


def test_insights_count_each_lane_for_the_period(client: TestClient, world: World) -> None:
    desk = Desk(client, world)
    _traffic(desk)
    r = desk.get("/insights?days=7", desk.admin)
    assert r.status_code == 200, r.text
    body = r.json()
    t = body["tickets"]
    assert (t["created"], t["resolved"], t["resolved_by_experts"], t["resolved_by_staff"]) == (
        3, 2, 1, 1,
    )  # fmt: skip
    assert t["escalated"] == 1
    assert t["open"] == 1
    assert t["expert_share"]["rate"] == 0.5
    assert t["first_response_met"]["whole"] >= 1
    sat = body["satisfaction"]
    assert (sat["ratings"], sat["csat_average"], sat["nps"]) == (1, 5.0, 100.0)
    assert body["self_service"]["tickets"] == 3
    [top] = body["top_experts"]
    assert (top["user_id"], top["resolved"], top["csat_average"]) == (desk.experts[0].id, 1, 5.0)
    for who in (desk.experts[0], desk.agent, desk.customer):
        assert desk.get("/insights", who).status_code == 403
    assert desk.get("/insights?days=0", desk.admin).status_code == 422


def test_the_capacity_plan_scales_this_weeks_hour_by_ten(
    client: TestClient, world: World, db: Database
) -> None:
    desk = Desk(client, world)
    _traffic(desk)
    _written_yesterday(db, desk)
    # The same hour next week (the brand's history is one week long: this hour had 3 tickets).
    start = (datetime.now(UTC) + timedelta(days=6)).replace(minute=0, second=0, microsecond=0)
    query = f"start={quote(start.isoformat())}&hours=2&multiplier=10"
    r = desk.get(f"/capacity-plan?{query}", desk.admin)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["inputs"]["history_weeks"] == 1
    assert plan["inputs"]["history_tickets"] == 3
    assert plan["inputs"]["concurrency"] == 2  # the brand's limit per expert
    assert plan["inputs"]["target_s"] > 0
    first = plan["hours"][0]
    assert first["expected_tickets"] == 30.0
    assert first["experts"] >= 1
    assert first["service_level"] >= 0.8
    assert plan["peak"] == first
    assert plan["experts_enrolled"] == 2
    for bad in ("multiplier=-1", "goal=1.5", "hours=0", "start=someday", "start=0001-01-01"):
        r = desk.get(f"/capacity-plan?{bad}", desk.admin)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert desk.get("/capacity-plan", desk.agent).status_code == 403


def test_the_pages_in_russian(client: TestClient, world: World) -> None:
    desk = Desk(client, world)
    _traffic(desk)
    sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "ru")
    html = client.get(f"/b/{desk.slug}/admin/insights?days=30").text
    assert "Сводка" in html
    assert 'data-testid="tickets-created">3<' in html
    assert "50%" in html.replace("\u00a0", "").replace(" ", "")
    # The average rating is a decimal too: a Russian reader's comma, not "5.00".
    assert 'data-testid="csat">5,00<' in html
    assert "<td>5,00</td>" in html  # the experts who resolved the most
    page = client.get(f"/b/{desk.slug}/admin/capacity")
    assert page.status_code == 200
    assert "10" in page.text  # the multiplier's default
    bad = client.get(f"/b/{desk.slug}/admin/capacity?multiplier=много&hours=2")
    assert bad.status_code == 422
    assert "Введите число" in bad.text
    ok = client.get(f"/b/{desk.slug}/admin/capacity?multiplier=１０&hours=3&goal=80,5")
    assert ok.status_code == 200, ok.text
    assert 'data-testid="peak"' in ok.text


def test_a_deflected_ticket_is_one_case_solved_not_also_a_ticket(
    client: TestClient, world: World
) -> None:
    """A customer who writes a ticket and then says a suggestion solved it has one case, solved
    without a ticket: it counted once among the solved cases and again among the tickets, so
    one deflected and one real ticket gave a self-service rate of 1/3 instead of 1/2."""
    desk = Desk(client, world)
    deflected = desk.ask()["id"]
    r = desk.post(f"/tickets/{deflected}/deflect", desk.customer)
    assert r.status_code == 200, r.text
    desk.ask()
    body = desk.get("/insights?days=7", desk.admin).json()
    assert body["tickets"]["created"] == 2
    assert body["tickets"]["deflected"] == 1
    ss = body["self_service"]
    assert (ss["solved"], ss["tickets"]) == (1, 1)
    assert ss["self_service_rate"] == {"part": 1, "whole": 2, "rate": 0.5}


def test_a_plan_no_crowd_could_staff_is_a_clear_422(client: TestClient, world: World) -> None:
    """Traffic no staffing up to 100,000 slots can carry (here a ticket held for ten years
    makes the average handle time absurd) was a 500, on the API and on the page."""
    from sqlalchemy import update

    from crowdcx.tickets.models import TicketRow

    desk = Desk(client, world)
    _traffic(desk)
    _written_yesterday(world.db, desk)
    with world.db.transaction() as uow:
        uow.session.execute(
            update(TicketRow)
            .where(TicketRow.claimed_at.is_not(None))
            .values(claimed_at=datetime.now(UTC) - timedelta(days=3650))
        )
    # The hour of the week of yesterday's tickets, next week.
    start = (datetime.now(UTC) + timedelta(days=6)).replace(minute=0, second=0, microsecond=0)
    query = f"start={quote(start.isoformat())}&hours=2&multiplier=100"
    r = desk.get(f"/capacity-plan?{query}", desk.admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "plan_too_large"
    sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "zh-Hans")
    local = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    page = client.get(f"/b/{desk.slug}/admin/capacity?start={local}&hours=2&multiplier=100")
    assert page.status_code == 422, page.text
    assert "100000" in page.text.replace(",", "").replace("\u00a0", "").replace(" ", "")


def test_the_plan_times_a_slot_by_expert_resolutions_alone(
    client: TestClient, world: World, db: Database
) -> None:
    """A ticket handed to staff holds the expert's slot only until the hand-off: its claim →
    staff resolution (10 h here) is not an expert's handle time (the expert's is 30 min)."""
    desk = Desk(client, world)
    _traffic(desk)
    with db.transaction() as uow:
        for row in uow.session.scalars(select(TicketRow).where(TicketRow.resolved_at.is_not(None))):
            assert row.resolved_at is not None
            span = timedelta(minutes=30) if not row.escalated else timedelta(hours=10)
            row.claimed_at = row.resolved_at - span
    plan = desk.get("/capacity-plan?hours=1", desk.admin).json()
    assert plan["inputs"]["handle_from_history"] is True
    assert plan["inputs"]["handle_s"] == 1800.0


def test_the_askers_own_follow_up_is_not_an_answer(
    client: TestClient, world: World, db: Database
) -> None:
    f = Forum(client, world, db)
    qid = f.ask()
    f.answer(qid, f.asker, "Добавлю: телефон Samsung, Android 14.")
    community = f.get("/insights?days=1", f.admin).json()["community"]
    assert community["asked"] == 1
    assert community["answered"]["part"] == 0
    f.answer(qid, f.helpers[0], "Проверьте точку доступа.")
    community = f.get("/insights?days=1", f.admin).json()["community"]
    assert community["answered"]["part"] == 1


SHANGHAI = ZoneInfo("Asia/Shanghai")
# A fixed moment: Monday 7 December 2026, 10:00 in Shanghai (02:00 UTC).
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)


def test_a_period_is_whole_days_in_the_brands_time_zone(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Last 7 days" is today and the six days before it, in the brand's time zone: from
    midnight of 1 December in Shanghai, not the last 7 × 24 hours (from 10:00 on 30
    November), which counted a ticket written late on 30 November."""
    from crowdcx.analytics import api, pages
    from crowdcx.tenancy.models import Brand

    desk = Desk(client, world)
    with world.db.transaction() as uow:
        brand = uow.session.scalars(select(Brand).where(Brand.slug == desk.slug)).one()
        settings = {**(brand.settings or {}), "timezone": "Asia/Shanghai"}
        uow.session.execute(update(Brand).where(Brand.id == brand.id).values(settings=settings))
    late = desk.ask()["id"]  # 23:30 on 30 November, Shanghai: the day before the period
    early = desk.ask()["id"]  # 00:30 on 1 December, Shanghai: the period's first day
    for tid, at in (
        (late, datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI)),
        (early, datetime(2026, 12, 1, 0, 30, tzinfo=SHANGHAI)),
    ):
        moment = at.astimezone(UTC)
        with world.db.transaction() as uow:
            uow.session.execute(
                update(TicketRow)
                .where(TicketRow.id == tid)
                .values(created_at=moment, case_started_at=moment, sweep_at=None)
            )
    monkeypatch.setattr(api, "now", lambda: NOW.astimezone(UTC))
    monkeypatch.setattr(pages, "now", lambda: NOW.astimezone(UTC))
    body = desk.get("/insights?days=7", desk.admin).json()
    assert body["tickets"]["created"] == 1
    assert datetime.fromisoformat(body["since"]) == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert desk.get("/insights?days=1", desk.admin).json()["tickets"]["created"] == 0
    sign_in(client, desk.admin)
    for locale, dates in (("en", "Dec 1 – 7, 2026"), ("ru", "1–7 дек. 2026 г.")):
        client.cookies.set("crowdcx_locale", locale)
        html = client.get(f"/b/{desk.slug}/admin/insights?days=7").text
        assert 'data-testid="tickets-created">1<' in html
        assert dates in html.replace("\u2009", " ").replace("\u202f", " "), html
        assert "Asia/Shanghai" in html


def test_the_capacity_history_is_whole_weeks_of_days_in_the_brands_time_zone(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Monday 7 December at 10:00 in Shanghai the history is 9 November 00:00 to 6
    December 24:00 there: four whole weeks ending yesterday. The last 28 × 24 hours (from
    10:00 on 9 November) left out 9 November's first hours, counted today's unfinished
    morning, and so counted two Mondays short."""
    from crowdcx.analytics import api, pages

    desk = Desk(client, world)
    with world.db.transaction() as uow:
        brand = uow.session.scalars(select(Brand).where(Brand.slug == desk.slug)).one()
        settings = {**(brand.settings or {}), "timezone": "Asia/Shanghai"}
        uow.session.execute(update(Brand).where(Brand.id == brand.id).values(settings=settings))
    # (created, claimed → resolved by an expert, or None)
    moments = {
        "before": (datetime(2026, 11, 8, 23, 30, tzinfo=SHANGHAI), timedelta(hours=10)),
        "first": (datetime(2026, 11, 9, 0, 30, tzinfo=SHANGHAI), timedelta(minutes=10)),
        "last": (datetime(2026, 12, 6, 23, 30, tzinfo=SHANGHAI), None),
        "today": (datetime(2026, 12, 7, 0, 30, tzinfo=SHANGHAI), None),
        "this morning": (datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI), None),
    }
    for at, span in moments.values():
        tid = desk.ask()["id"]
        created = at.astimezone(UTC)
        values: dict[str, object] = {
            "created_at": created, "case_started_at": created, "sweep_at": None,
        }  # fmt: skip
        if span is not None:  # resolved by an expert at the moment, claimed ``span`` before
            values |= {
                "status": "resolved", "resolved_by_role": "expert", "resolved_at": created,
                "claimed_at": created - span, "escalated": False, "reopened_at": None,
            }  # fmt: skip
        with world.db.transaction() as uow:
            uow.session.execute(update(TicketRow).where(TicketRow.id == tid).values(**values))
    monkeypatch.setattr(api, "now", lambda: NOW.astimezone(UTC))
    # Monday 14 December, 00:00 in Shanghai: the hour of the week of the "first" ticket.
    start = quote(datetime(2026, 12, 14, 0, 0, tzinfo=SHANGHAI).isoformat())
    r = desk.get(f"/capacity-plan?start={start}&hours=1&multiplier=8", desk.admin)
    assert r.status_code == 200, r.text
    inputs = r.json()["inputs"]
    assert (inputs["history_first_day"], inputs["history_last_day"]) == ("2026-11-09", "2026-12-06")
    assert (inputs["history_weeks"], inputs["history_tickets"]) == (4, 2)  # "first" and "last"
    # One Monday ticket in four weeks, in one of the two tickets' hours: 1/4 × 1/2 × 8.
    assert r.json()["hours"][0]["expected_tickets"] == 1.0
    # The slot is held for the 10 minutes of the ticket resolved inside the window.
    assert (inputs["handle_s"], inputs["handle_from_history"]) == (600.0, True)
    monkeypatch.setattr(pages, "now", lambda: NOW.astimezone(UTC))
    sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "en")
    html = client.get(f"/b/{desk.slug}/admin/capacity?start={start}&hours=1&multiplier=8").text
    shown = html.replace("\u2009", " ").replace("\u202f", " ")
    assert "Nov 9 – Dec 6, 2026" in shown, shown
    assert "Asia/Shanghai" in shown


def test_a_young_brand_plans_each_weekday_from_the_days_it_has_seen(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A brand whose first ticket came on Friday 27 November (Shanghai), planned on Monday
    7 December: a two-week history holding one Monday and two Fridays. Its one Monday had two
    tickets at 20:xx, so a Monday at 20:00 expects two — dividing by the two weeks planned one
    (and half the experts) for every weekday seen once."""
    from crowdcx.analytics import api

    desk = Desk(client, world)
    with world.db.transaction() as uow:
        brand = uow.session.scalars(select(Brand).where(Brand.slug == desk.slug)).one()
        settings = {**(brand.settings or {}), "timezone": "Asia/Shanghai"}
        uow.session.execute(update(Brand).where(Brand.id == brand.id).values(settings=settings))
    for at in [
        datetime(2026, 11, 27, 20, 5, tzinfo=SHANGHAI),  # the first ticket, a Friday
        datetime(2026, 11, 30, 20, 10, tzinfo=SHANGHAI),  # Monday
        datetime(2026, 11, 30, 20, 40, tzinfo=SHANGHAI),  # Monday
        datetime(2026, 12, 4, 20, 15, tzinfo=SHANGHAI),  # Friday
    ]:
        tid = desk.ask()["id"]
        created = at.astimezone(UTC)
        with world.db.transaction() as uow:
            uow.session.execute(
                update(TicketRow).where(TicketRow.id == tid)
                .values(created_at=created, case_started_at=created, sweep_at=None)
            )  # fmt: skip
    monkeypatch.setattr(api, "now", lambda: NOW.astimezone(UTC))
    for day, expected in [(14, 2.0), (18, 1.0)]:  # Monday 14, Friday 18 December at 20:00
        start = quote(datetime(2026, 12, day, 20, 0, tzinfo=SHANGHAI).isoformat())
        r = desk.get(f"/capacity-plan?start={start}&hours=1&multiplier=1", desk.admin)
        assert r.status_code == 200, r.text
        assert r.json()["inputs"]["history_weeks"] == 2
        assert r.json()["hours"][0]["expected_tickets"] == expected, day


def test_the_service_level_asides_read_as_chinese(client: TestClient, world: World) -> None:
    """Beside each target met, "255 中的 225" (a word-for-word "225 of 255"), and beside each
    median "90% 在 5小时 内", a sentence broken by spaces: a Chinese admin reads "225/255" and
    "90% 不超过 5小时"."""
    desk = Desk(client, world)
    _traffic(desk)
    sign_in(client, desk.admin)
    for lang, within in (("zh-Hans", "90% 不超过 "), ("zh-Hant", "90% 不超過 ")):
        html = client.get(f"/b/{desk.slug}/admin/insights?days=30&lang={lang}").text
        assert "中的" not in html, lang
        assert within in html, lang
        assert re.search(r"<span class=\"meta\">\d+/\d+</span>", html), lang


def test_the_ninetieth_percentile_is_written_as_each_reader_writes_a_percentage(
    client: TestClient, world: World
) -> None:
    """English read "90 % within 2 hr" beside "85.9%": the share is the percent filter's."""
    desk = Desk(client, world)
    _traffic(desk)
    sign_in(client, desk.admin)
    html = client.get(f"/b/{desk.slug}/admin/insights?days=30&lang=en").text
    assert "90% within " in html
    assert "90 %" not in html
    ru = client.get(f"/b/{desk.slug}/admin/insights?days=30&lang=ru").text
    assert "90% — в пределах " in ru
