"""The brand admin's operations in Russian, in Debian's Chromium, on the Volga demo brand: a
customer asks, the new expert resolves; an agent reviews the resolution against the scorecard
(every resolution of a newcomer is sampled) and the expert sees the score; the admin pays the
expert what is owed, typed with a Russian decimal comma; then reads the insights, plans for a
sales event, and sees what a customer searched the help center for and did not find."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from crowdcx.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

CUSTOMER = "ivan@volga.example"
EXPERT = "sergey.expert@volga.example"
AGENT = "anna.agent@volga.example"
ADMIN = "admin@volga.example"

# English words that must not show on a Russian page (an untranslated string slipped through).
ENGLISH = re.compile(
    r"\b(the|and|of|to|your|Payout|Record|Quality|Review|Score|Expert|Owed|Plan|Hours?)\b"
    r"|\((customer|expert|agent|system)\)"  # role codes in a ticket's history
)


def signed_in(browser: Any, base: str, email: str) -> Any:
    """As tests/e2e/test_inquiry.py, in a Russian browser; members whose own language is
    English (the agent, the admin) switch to Russian with the header's language switcher."""
    context = browser.new_context(locale="ru-RU", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    if page.locator("html").get_attribute("lang") != "ru":
        page.locator("form.locale-switcher button[value=ru]").click()
        page.wait_for_function("() => document.documentElement.lang === 'ru'")
    return page


def shot(page: Any, artifacts: Path, name: str) -> None:
    """A full-page screenshot, after checking the page reads as Russian throughout."""
    assert page.locator("html").get_attribute("lang") == "ru"
    text = page.locator("main").inner_text()
    # Ticket subjects, names and e-mails the walk typed may hold Latin letters; words may not.
    assert not ENGLISH.search(text), (name, ENGLISH.search(text))
    page.screenshot(path=str(artifacts / f"ops-{name}.png"), full_page=True)


def style(locator: Any, prop: str) -> str:
    return str(locator.evaluate(f"e => getComputedStyle(e).{prop}"))


def test_review_payout_insights_capacity_and_gaps_in_russian(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    base = live_server
    # 1. The customer asks; the expert goes online, claims and resolves.
    expert = signed_in(browser, base, EXPERT)
    expert.goto(f"{base}/b/volga/workspace")
    if expert.locator(".tag.online").count() == 0:
        expert.locator("form.availability button[type=submit]").click()
        expert.wait_for_selector(".tag.online")
    customer = signed_in(browser, base, CUSTOMER)
    subject = f"Не работает мобильный интернет {uuid.uuid4().hex[:4]}"
    customer.goto(f"{base}/b/volga/tickets/new")
    customer.fill("#f-subject", subject)
    customer.fill("#f-body", "После смены тарифа пропал интернет, перезагрузка не помогла.")
    if customer.locator("#f-phone").count():
        customer.fill("#f-phone", "+7 912 345-67-89")
    customer.locator("main form button[type=submit]").click()
    customer.wait_for_url(re.compile(r".*/b/volga/tickets/\d+$"))
    shot(customer, artifacts, "1-asked")

    expert.goto(f"{base}/b/volga/workspace")
    offer = expert.locator(".offer", has_text=subject)
    offer.wait_for(timeout=10_000)
    shot(expert, artifacts, "1-workspace")
    offer.locator("form:has(input[value=claim]) button").click()
    expert.wait_for_url(re.compile(r".*/b/volga/tickets/\d+$"))
    expert.fill("#f-msg", "Включите **передачу данных** в настройках и перезагрузите телефон.")
    expert.locator("#messages form button[type=submit]").click()
    expert.wait_for_selector(".message strong")
    expert.locator("form:has(input[name=action][value=resolve]) button[type=submit]").first.click()
    expert.wait_for_selector("[data-testid=ticket-status]")
    shot(expert, artifacts, "1-resolved")

    # 2. The agent reviews the newcomer's resolution; the expert sees the score.
    agent = signed_in(browser, base, AGENT)
    agent.goto(f"{base}/b/volga/quality")
    row = agent.locator("[data-testid=quality-queue] tr[data-review]", has_text=subject)
    row.wait_for()
    assert row.locator("[data-reason=newcomer]").count() == 1
    shot(agent, artifacts, "2-queue")
    row.locator("a", has_text=subject).click()
    agent.wait_for_url(re.compile(r".*/b/volga/quality/reviews/\d+$"))
    card = agent.locator("[data-testid=scorecard]")
    names = sorted(
        set(card.locator("input[type=radio]").evaluate_all("els => els.map(e => e.name)"))
    )
    assert names
    assert all(n.startswith("score_") for n in names), names
    for name in names:
        card.locator(f"input[name={name}][value='5']").check()
    agent.fill("#f-comment", "Точный и вежливый ответ, проблема решена.")
    shot(agent, artifacts, "2-scorecard")
    card.locator("button[type=submit]").click()
    agent.wait_for_url(re.compile(r".*/b/volga/quality\?decided=\d+$"))
    agent.wait_for_selector(".alert.ok")
    shot(agent, artifacts, "2-saved")

    expert.goto(f"{base}/b/volga/quality/mine")
    review = expert.locator("article[data-review]", has_text=subject)
    assert "100" in review.inner_text()
    assert "Точный и вежливый" in review.inner_text()
    assert int(expert.locator("[data-testid=quality-reviews]").inner_text()) >= 1
    assert re.fullmatch(r"\d+,\d", expert.locator("[data-testid=quality-score]").inner_text())
    shot(expert, artifacts, "2-mine")

    # 3. The admin pays the expert what is owed, typed with a decimal comma.
    admin = signed_in(browser, base, ADMIN)
    admin.goto(f"{base}/b/volga/admin/payouts")
    payee = admin.locator("tr[data-account]", has_text="Сергей")
    payee.wait_for()
    owed = payee.locator("input[name=amount]").input_value()
    assert re.fullmatch(r"\d+\.\d\d", owed), owed
    payee.locator("input[name=amount]").fill(owed.replace(".", ","))
    reference = f"Сбербанк п/п {uuid.uuid4().hex[:6]}"
    payee.locator("input[name=reference]").fill(reference)
    # The row's controls look like the rest of the app: inputs in the page's font, the
    # button outlined (white on a white table, it read as plain text before).
    assert re.search(r"₽ · \S", admin.locator("main p", has_text="CSV").inner_text())
    body_size = admin.evaluate("() => getComputedStyle(document.body).fontSize")
    assert style(payee.locator("input[name=reference]"), "fontSize") == body_size
    assert style(payee.locator("button[type=submit]"), "borderTopWidth") != "0px"
    shot(admin, artifacts, "3-payouts-owed")
    payee.locator("button[type=submit]").click()
    admin.wait_for_url(re.compile(r".*/admin/payouts\?paid=1$"))
    assert "Выплата записана" in admin.locator(".alert.ok").inner_text()
    assert admin.locator("tr[data-account]", has_text="Сергей").count() == 0  # nothing owed
    shot(admin, artifacts, "3-payouts-recorded")
    expert.goto(f"{base}/b/volga/earnings")
    assert expert.locator("table tbody tr", has_text=reference).count() == 1

    # 4. Insights, the capacity plan, and the help center's gaps after a fruitless search.
    admin.goto(f"{base}/b/volga/admin/insights?days=7")
    assert int(admin.locator("[data-testid=by-experts]").inner_text()) >= 1
    assert re.search(r"\S · План на распродажу", admin.locator("main nav").inner_text())
    shot(admin, artifacts, "4-insights")
    admin.goto(f"{base}/b/volga/admin/capacity")
    admin.locator("form[data-testid=plan-form] button[type=submit]").click()
    admin.wait_for_selector("[data-testid=peak]")
    hours = admin.locator("section[aria-labelledby=plan-h] table tbody tr")
    assert hours.count() >= 1
    expected = hours.first.locator("td").nth(1).inner_text()
    assert re.fullmatch(r"\d+,\d", expected), expected  # a Russian decimal comma
    shot(admin, artifacts, "4-capacity")

    absent = "телепортация сим-карты на марс"
    customer.goto(f"{base}/b/volga/help?q={absent}")
    search = customer.locator("#help-q")
    assert style(search, "fontSize") == body_size
    assert search.bounding_box()["width"] > 300  # room for what was typed
    shot(customer, artifacts, "4-search-absent")
    admin.goto(f"{base}/b/volga/help/gaps?days=7")
    assert admin.locator("main table tbody tr", has_text=absent).count() == 1
    shot(admin, artifacts, "4-gaps")
    for page in (expert, customer, agent, admin):
        page.context.close()
