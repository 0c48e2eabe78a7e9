"""A customer's detail written without a space (a pasted link as the address, a long order
reference) stretched the ticket page on a desktop to thousands of pixels: the details'
value column grew to the longest word instead of wrapping it. On a phone it wrapped."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from crowdcx.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1200, "height": 900}


def test_a_long_unbroken_detail_wraps_on_a_desktop(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    page = browser.new_context(locale="zh-CN", viewport=DESKTOP).new_page()
    page.goto(f"{live_server}/login")
    page.fill("#f-email", "li.wei@lumen.example")
    page.fill("#f-password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/b/lumen/tickets/new")
    page.fill("#f-subject", "订单地址填错了")
    page.fill("#f-body", "下单时地址栏粘贴成了一个链接，请帮我改一下。")
    link = "https://maps.example.com/place/" + "上海市浦东新区世纪大道100号".encode().hex() * 4
    page.fill("#f-address", link[:300])
    page.fill("#f-order_number", "LM" + "0123456789" * 20)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/b/lumen/tickets/\d+$"))
    page.screenshot(path=str(artifacts / "desktop-long-details.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"], width
    box = page.locator("main dl.fields").bounding_box()
    assert box["x"] + box["width"] <= DESKTOP["width"], box
    page.context.close()
