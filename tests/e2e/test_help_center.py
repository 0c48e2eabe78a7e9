"""Self-service in Traditional Chinese, in Debian's Chromium: a customer types a question on
the ask page, sees a published article suggested before submitting, opens it and marks it
helpful — and the staff-only article with the same words never appears."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crowdcx.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

CUSTOMER = "li.wei@lumen.example"
STAFF_TITLE = "内部：蓝牙耳机批量连接故障的处理口径"


def test_traditional_chinese_customer_is_deflected_by_an_article(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    context = browser.new_context(locale="zh-TW", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#f-email", CUSTOMER)
    page.fill("#f-password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/")
    page.get_by_role("button", name="中文（繁體）").click()  # the switcher keeps the choice
    page.wait_for_load_state()
    page.goto(f"{live_server}/b/lumen/tickets/new")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert page.get_by_role("link", name="說明中心").first.is_visible()

    page.fill("#f-subject", "藍牙耳機連不上手機")
    suggestion = page.locator("#suggestions a").first
    suggestion.wait_for(timeout=10_000)
    texts = page.locator("#suggestions").inner_text()
    assert "藍牙" in texts or "蓝牙" in texts
    assert STAFF_TITLE not in page.content()
    page.screenshot(path=str(artifacts / "help-suggestions-zh-Hant.png"), full_page=True)

    suggestion.click()
    page.wait_for_url("**/help/articles/**")
    assert STAFF_TITLE not in page.content()
    page.locator("button[name=helpful][value=yes]").click()
    page.wait_for_url("**thanks=yes**")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert page.locator("main section p[role=status]").is_visible()
    page.screenshot(path=str(artifacts / "help-article-helpful-zh-Hant.png"), full_page=True)

    page.goto(f"{live_server}/b/lumen/help?q=藍牙")
    assert "<mark>" in page.content()
    assert STAFF_TITLE not in page.content()
    # Switch back so the demo customer's preference is as the other walks expect.
    page.get_by_role("button", name="中文（简体）").click()
    page.wait_for_load_state()
    context.close()
