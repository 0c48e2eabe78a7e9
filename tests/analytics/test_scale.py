"""Insights on a big brand: a 90-day period of a brand with tens of thousands of tickets used
to take seconds (every ticket loaded whole, text and customer data included; the business
hours' open intervals recomputed three times per ticket: 14 s at 50,000 tickets with business
hours). These check the shape of the work, which a timer on a shared machine cannot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdcx.analytics.rules import summarize_tickets
from crowdcx.tickets import rules as tr
from crowdcx.tickets.rules import BusinessHours, OpenTime, SlaPolicy, State, Ticket, Window
from tests.analytics.test_api import _traffic
from tests.conftest import World
from tests.query_plans import recording
from tests.tickets.test_api import Desk

T0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
WEEKDAYS = BusinessHours(
    "Asia/Shanghai",
    (
        *(Window(i, tr.time(9), tr.time(18)) for i in range(5)),
        Window(5, tr.time(22), tr.time(0)),  # a window up to midnight
    ),
)


def test_insights_read_no_ticket_text_or_customer_data(client: TestClient, world: World) -> None:
    desk = Desk(client, world)
    _traffic(desk)
    with recording(client.app.state.db.engine) as seen:  # type: ignore[attr-defined]
        assert desk.get("/insights?days=90", desk.admin).status_code == 200
    reads = [s for s in seen if "FROM tickets" in s]
    assert reads
    for statement in reads:
        assert "tickets.body" not in statement, statement
        assert "customer_fields" not in statement, statement


def test_business_hours_are_laid_out_once_per_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = tr._intervals

    def counted(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args)

    monkeypatch.setattr(tr, "_intervals", counted)
    sla = SlaPolicy(first_response_s=3600, resolution_s=8 * 3600, business_hours=WEEKDAYS)
    tickets = [
        Ticket(str(n), "c", State.CLAIMED if n % 2 else State.RESOLVED,
               T0 + timedelta(hours=n), first_response_at=T0 + timedelta(hours=n, minutes=50),
               resolved_at=None if n % 2 else T0 + timedelta(hours=n + 30))
        for n in range(500)
    ]  # fmt: skip
    summary = summarize_tickets(tickets, sla, T0 + timedelta(days=40))
    assert summary.created == 500
    assert calls <= 3


moments = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=300, deadline=None)
@given(a=moments, b=moments)
def test_open_time_counts_as_business_seconds_between(a: datetime, b: datetime) -> None:
    clock = OpenTime(WEEKDAYS, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    # Exact microseconds; the function adds floats per window, a few ulps apart at most.
    assert clock.between(a, b) == pytest.approx(
        tr.business_seconds_between(a, b, WEEKDAYS), abs=1e-6
    )
    assert OpenTime(None, a, b).between(a, b) == (b - a).total_seconds()
