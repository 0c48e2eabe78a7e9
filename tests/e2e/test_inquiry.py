"""The whole road of an inquiry in Simplified Chinese, in Debian's Chromium: a customer asks,
the online expert receives the live offer with its countdown, claims, sees the phone number
masked, replies and resolves; the customer rates; the expert sees the earning. Then a second
walk where the expert hands the case to staff and an agent resolves it (no earning)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from crowdcx.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

CUSTOMER = "li.wei@lumen.example"
EXPERT = "zhang.expert@lumen.example"
AGENT = "wang.agent@lumen.example"


def signed_in(browser: Any, base: str, email: str) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    return page


def click_action(page: Any, action: str) -> None:
    page.locator(f"form:has(input[name=action][value={action}]) button[type=submit]").first.click()


def ask(page: Any, base: str, subject: str) -> str:
    page.goto(f"{base}/b/lumen/tickets/new")
    page.fill("#f-subject", subject)
    page.fill("#f-body", "我上周买的耳机连不上蓝牙，重置以后也不行。")
    page.fill("#f-phone", "13812345678")
    page.fill("#f-order_number", "LM-2026-000123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/b/lumen/tickets/\d+$"))
    return str(page.url)


def test_customer_to_expert_to_rating_and_earning(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    expert = signed_in(browser, live_server, EXPERT)
    expert.goto(f"{live_server}/b/lumen/workspace")
    expert.locator("form.availability button[type=submit]").click()
    expert.wait_for_selector(".tag.online")
    expert.wait_for_function("() => window.crowdcxLive && window.crowdcxLive.readyState === 1")

    customer = signed_in(browser, live_server, CUSTOMER)
    subject = f"耳机无法连接蓝牙 {uuid.uuid4().hex[:4]}"
    ticket_url = ask(customer, live_server, subject)

    # The offer arrives live, with its countdown, without reloading the workspace.
    offer = expert.locator(".offer", has_text=subject)
    offer.wait_for(timeout=10_000)
    # The live toast says what arrived (it once showed the bare subject).
    toast = expert.locator("#toasts .toast", has_text=subject)
    assert toast.inner_text() == f"新派单：{subject}"
    countdown = "document.querySelector('.offer .countdown')"
    expert.wait_for_function(f"() => {countdown} && /\\d+:\\d\\d/.test({countdown}.textContent)")
    assert "¥" in offer.inner_text()
    expert.screenshot(path=str(artifacts / "inquiry-offer-zh-Hans.png"), full_page=True)
    offer.locator("form:has(input[value=claim]) button").click()
    expert.wait_for_url(re.compile(r".*/b/lumen/tickets/\d+$"))
    assert expert.locator("[data-field=phone]").inner_text() == "138****5678"
    expert.fill("#f-msg", "请在手机设置里**忘记此设备**，然后重新配对。")
    expert.locator("#messages form button[type=submit]").click()
    expert.wait_for_selector(".message strong")
    click_action(expert, "resolve")
    expert.wait_for_selector("[data-testid=ticket-status]")
    expert.screenshot(path=str(artifacts / "inquiry-expert-ticket-zh-Hans.png"), full_page=True)

    customer.goto(ticket_url)
    assert "忘记此设备" in customer.locator("#messages").inner_text()
    assert customer.locator("[data-field=phone]").inner_text() == "13812345678"
    customer.locator("form.rating input[name=csat][value='5']").check()
    customer.locator("form.rating button[type=submit]").click()
    customer.wait_for_selector(".alert.ok")
    customer.screenshot(path=str(artifacts / "inquiry-rated-zh-Hans.png"), full_page=True)

    expert.goto(f"{live_server}/b/lumen/earnings")
    row = expert.locator("table tbody tr", has_text=subject)
    assert row.count() == 1
    assert "¥" in row.inner_text()
    expert.screenshot(path=str(artifacts / "inquiry-earnings-zh-Hans.png"), full_page=True)

    # The brand admin pays the expert what is owed and records the transfer's reference; the
    # expert's earnings then show the payment and nothing more owed.
    admin = signed_in(browser, live_server, "admin@lumen.example")
    admin.goto(f"{live_server}/b/lumen/admin/payouts")
    payee = admin.locator("tr[data-account]", has_text="张")
    payee.wait_for()
    reference = f"工行转账 {uuid.uuid4().hex[:6]}"
    payee.locator("input[name=reference]").fill(reference)
    admin.screenshot(path=str(artifacts / "payouts-owed-zh-Hans.png"), full_page=True)
    payee.locator("button[type=submit]").click()
    admin.wait_for_selector(".alert.ok")
    admin.screenshot(path=str(artifacts / "payouts-zh-Hans.png"), full_page=True)
    expert.goto(f"{live_server}/b/lumen/earnings")
    assert expert.locator("table tbody tr", has_text=reference).count() == 1
    assert "¥0.00" in expert.locator("[data-testid=earnings-owed]").inner_text()
    expert.screenshot(path=str(artifacts / "inquiry-paid-zh-Hans.png"), full_page=True)
    # The admin's insights count the walk's ticket, and the capacity plan for a sales event
    # (ten times this hour's traffic next week) asks for experts online.
    admin.goto(f"{live_server}/b/lumen/admin/insights?days=7")
    assert int(admin.locator("[data-testid=by-experts]").inner_text()) >= 1
    admin.screenshot(path=str(artifacts / "insights-zh-Hans.png"), full_page=True)
    admin.goto(f"{live_server}/b/lumen/admin/capacity")
    start = admin.locator("#f-start").input_value()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00", start), start
    admin.locator("form[data-testid=plan-form] button[type=submit]").click()
    admin.wait_for_selector("[data-testid=peak]")
    assert admin.locator("section[aria-labelledby=plan-h] table tbody tr").count() == 24
    admin.screenshot(path=str(artifacts / "capacity-zh-Hans.png"), full_page=True)
    for page in (expert, customer, admin):
        page.context.close()


def test_expert_hands_to_staff_and_agent_resolves_without_earning(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    expert = signed_in(browser, live_server, EXPERT)
    expert.goto(f"{live_server}/b/lumen/workspace")
    if expert.locator(".tag.online").count() == 0:
        expert.locator("form.availability button[type=submit]").click()
        expert.wait_for_selector(".tag.online")
    customer = signed_in(browser, live_server, CUSTOMER)
    subject = f"申请退款 {uuid.uuid4().hex[:4]}"
    ticket_url = ask(customer, live_server, subject)

    expert.goto(f"{live_server}/b/lumen/workspace")
    expert.locator(".offer", has_text=subject).locator(
        "form:has(input[value=claim]) button"
    ).click()
    expert.wait_for_url(re.compile(r".*/b/lumen/tickets/\d+$"))
    expert.fill("#f-reason", "退款需要品牌客服审批")
    click_action(expert, "escalate")
    expert.wait_for_url(re.compile(r".*/b/lumen/workspace\?done=escalate$"))
    expert.wait_for_selector(".alert.ok")

    agent = signed_in(browser, live_server, AGENT)
    agent.goto(f"{live_server}/b/lumen/staff")
    agent.locator("a", has_text=subject).click()
    assert agent.locator("[data-field=phone]").inner_text() == "13812345678"  # staff see all
    click_action(agent, "resolve")
    agent.wait_for_selector("[data-testid=ticket-status]")
    agent.screenshot(path=str(artifacts / "inquiry-staff-resolved-zh-Hans.png"), full_page=True)

    expert.goto(f"{live_server}/b/lumen/earnings")
    assert expert.locator("table tbody tr", has_text=subject).count() == 0
    customer.goto(ticket_url)
    assert customer.locator("form.rating").count() == 1  # staff help is rated too
    for page in (expert, customer, agent):
        page.context.close()
