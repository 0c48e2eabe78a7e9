"""On a phone the ticket tables broke every date in two at its hyphen ("2026-12-" over
"07 20:48"): the customer's own list, the staff queue, an expert's earnings and the access
log. A date and its time stay on one line; the table scrolls in its box if it must."""

from __future__ import annotations

import re
from typing import Any

import pytest

from crowdcx.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# How many lines each date cell of the main table's column `col` takes.
LINES = """(col) => [...document.querySelectorAll(`main table tbody tr td:nth-child(${col})`)]
  .slice(0, 5).map(td => { const r = document.createRange(); r.selectNodeContents(td);
    const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
    return [td.innerText, tops.size]; })"""


def signed_in(browser: Any, base: str, email: str) -> Any:
    page = browser.new_context(locale="zh-CN", viewport=PHONE, has_touch=True).new_page()
    page.goto(f"{base}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    return page


def one_line(page: Any, col: int) -> None:
    cells = page.evaluate(LINES, col)
    assert cells, page.url
    broken = [text for text, lines in cells if lines > 1]
    assert not broken, (page.url, broken)


def test_dates_stay_on_one_line_on_a_phone(live_server: str, browser: Any) -> None:
    base = live_server
    customer = signed_in(browser, base, "wu.fang@lumen.example")
    customer.goto(f"{base}/b/lumen/tickets/new")
    customer.fill("#f-subject", "耳机充不进电")
    customer.fill("#f-body", "充电盒插上线以后耳机还是充不进电。电话 13812345678")
    customer.locator("main form button[type=submit]").last.click()
    customer.wait_for_url(re.compile(r".*/b/lumen/tickets/\d+$"))
    customer.goto(f"{base}/b/lumen/tickets")
    one_line(customer, 3)
    agent = signed_in(browser, base, "wang.agent@lumen.example")
    agent.goto(f"{base}/b/lumen/staff")
    one_line(agent, 3)
    for page in (customer, agent):
        page.context.close()
