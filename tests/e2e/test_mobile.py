"""The pages on a phone (390×844, where most of a help center's customers arrive), in Debian's
Chromium, in English, Russian and Chinese: no page scrolls sideways (a wide table scrolls in
its own box), the header's navigation and language switcher fit, and every button, button-like
link and choice in a form is a tap target at least 44 px tall. On the inquiry form the
self-service suggestions show right under what the customer typed, before the details and the
submit button — not at the bottom of a long form, where nobody scrolls before sending."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crowdcx.demo import DEMO_PASSWORD
from tests.conftest import World
from tests.payouts.test_api import _resolve
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
STATIC = Path(__file__).resolve().parents[2] / "src" / "crowdcx" / "web" / "static"
TAP = 44  # px: WCAG 2.5.5 and the platforms' guidelines for a touch target

# The controls a thumb has to hit: the header's links and language buttons, and in the page
# every button, submit, button-like link, link inside a form or a post's actions, and
# radio/checkbox label.
TARGETS = (
    "header .main-nav a, header button, main form button, main input[type=submit],"
    " main a.button, main form a, main .post-actions a, main summary.link, main label.check"
)

MEASURE = """(selector) => [...document.querySelectorAll(selector)]
  .filter(e => e.getBoundingClientRect().width > 0 && !e.closest('.sr-only'))
  .map(e => ({what: `${e.tagName} "${(e.innerText || e.value || '').trim().slice(0, 30)}"`,
              height: e.getBoundingClientRect().height}))"""

# What sticks out past the right edge, for the failure message (the header's swipeable rows
# and a table's own scrolling box clip what they hold).
OUTSIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
               && !e.closest('.table-scroll, .main-nav ul, .locale-switcher'))
  .slice(0, 5)
  .map(e => `${e.tagName}.${e.className} → ${Math.round(e.getBoundingClientRect().right)}px`)"""

FIELDS_OUTSIDE = """() => [...document.querySelectorAll(
    'main input:not([type=hidden]), main select, main textarea')]
  .filter(e => !e.closest('.table-scroll, .sr-only'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth)
  .map(e => e.id || e.name)"""


# The width of the customer's details on a ticket (dl.fields) and of each value in it.
FIELD_WIDTHS = """() => {
  const list = document.querySelector('main dl.fields');
  return {list: list.getBoundingClientRect().width,
          values: [...list.querySelectorAll('dd')].map(d => d.getBoundingClientRect().width)};
}"""


def phone(browser: Any, locale: str) -> Any:
    return browser.new_context(locale=locale, viewport=PHONE, has_touch=True).new_page()


def signed_in(browser: Any, base: str, email: str, locale: str) -> Any:
    page = phone(browser, locale)
    page.goto(f"{base}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    return page


def speak(page: Any, lang: str) -> None:
    """Switch the signed-in member's language with the header's switcher (it is remembered)."""
    if page.locator("html").get_attribute("lang") != lang:
        page.locator(f"form.locale-switcher button[value={lang}]").click()
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")


def fits(page: Any, artifacts: Path, name: str, lang: str) -> None:
    """The page reads in `lang`, never scrolls sideways and its controls are thumb-sized."""
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang, name
    page.screenshot(path=str(artifacts / f"mobile-{name}.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.evaluate("() => window.innerWidth"), (
        name,
        width,
        page.evaluate(OUTSIDE),
    )
    small = [t for t in page.evaluate(MEASURE, TARGETS) if t["height"] < TAP - 0.5]
    assert not small, (name, small)
    # Form fields fit the width (those in a table's own scrolling box may scroll with it).
    wide = page.evaluate(FIELDS_OUTSIDE)
    assert not wide, (name, wide)
    # Every table scrolls inside its own box (a new one without it widened the page once).
    tables = page.locator("main table").count()
    assert page.locator("main .table-scroll table").count() == tables, name


def test_help_center_and_community_on_a_phone(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    base = live_server
    for locale, lang, brand, query in (
        ("en-US", "en", "volga", "internet"),
        ("ru-RU", "ru", "volga", "интернет"),
        ("zh-CN", "zh-Hans", "lumen", "蓝牙"),
    ):
        page = phone(browser, locale)
        page.goto(f"{base}/b/{brand}/help")
        fits(page, artifacts, f"{lang}-help", lang)
        page.goto(f"{base}/b/{brand}/help?q={query}")
        assert page.locator("main mark").count() >= 1
        fits(page, artifacts, f"{lang}-help-search", lang)
        page.locator("main a[href*='/help/articles/']").first.click()
        page.wait_for_url("**/help/articles/**")
        fits(page, artifacts, f"{lang}-article", lang)
        page.goto(f"{base}/b/{brand}/community")
        fits(page, artifacts, f"{lang}-community", lang)
        page.locator("main a[href*='/community/questions/']").first.click()
        page.wait_for_url("**/community/questions/**")
        fits(page, artifacts, f"{lang}-question", lang)
        page.context.close()


def test_inquiry_ticket_and_expert_queue_on_a_phone(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    base = live_server
    # Simplified Chinese: the suggestions sit right under what was typed.
    page = signed_in(browser, base, "li.wei@lumen.example", "zh-CN")
    page.goto(f"{base}/b/lumen/tickets/new")
    page.fill("#f-subject", "蓝牙耳机连不上手机")
    page.locator("#suggestions a").first.wait_for(timeout=10_000)
    fits(page, artifacts, "zh-Hans-new-inquiry", "zh-Hans")
    body = page.locator("#f-body").bounding_box()
    hint = page.locator("#suggestions a").first.bounding_box()
    details = page.locator("#f-skill").bounding_box()
    assert body["y"] + body["height"] <= hint["y"] < details["y"], (body, hint, details)
    # ...and on a phone's first two screens, not below the whole form.
    assert hint["y"] < 2 * PHONE["height"], hint
    page.context.close()

    # Russian: the customer asks with a long unbroken address; the expert claims and resolves.
    expert = signed_in(browser, base, "sergey.expert@volga.example", "ru-RU")
    expert.goto(f"{base}/b/volga/workspace")
    if expert.locator(".tag.online").count() == 0:
        expert.locator("form.availability button[type=submit]").click()
        expert.wait_for_selector(".tag.online")
    customer = signed_in(browser, base, "ivan@volga.example", "ru-RU")
    subject = f"Неработоспособность мобильного интернета {uuid.uuid4().hex[:4]}"
    customer.goto(f"{base}/b/volga/tickets/new")
    customer.fill("#f-subject", subject)
    customer.locator("#suggestions a").first.wait_for(timeout=10_000)
    customer.fill(
        "#f-body",
        "Пишет https://volga.example/поддержка/мобильный-интернет/настройки-точки-доступа"
        "?параметр=значение&ещё_один_параметр=длинное_значение_без_пробелов и "
        "высокоскоростнойинтернетнеподключаетсявообщеникогда.",
    )
    fits(customer, artifacts, "ru-new-inquiry", "ru")
    if customer.locator("#f-phone").count():
        customer.fill("#f-phone", "+7 912 345-67-89")
        customer.fill("#f-email", "ivan@volga.example")
    customer.locator("main form button[type=submit]").click()
    customer.wait_for_url(re.compile(r".*/b/volga/tickets/\d+$"))
    fits(customer, artifacts, "ru-ticket", "ru")
    # The customer's details read beside their labels: a long Russian label ("Адрес
    # электронной почты") once left each value a few characters a line.
    readable = customer.evaluate(FIELD_WIDTHS)
    assert len(readable["values"]) >= 2, readable
    assert min(readable["values"]) >= 0.45 * readable["list"], readable
    customer.goto(f"{base}/b/volga/tickets")
    fits(customer, artifacts, "ru-my-tickets", "ru")
    # A member sees a question with its vote, flag and comment controls.
    customer.goto(f"{base}/b/volga/community")
    customer.locator("main a[href*='/community/questions/']").first.click()
    customer.wait_for_url("**/community/questions/**")
    fits(customer, artifacts, "ru-question-member", "ru")

    expert.goto(f"{base}/b/volga/workspace")
    offer = expert.locator(".offer", has_text=subject)
    offer.wait_for(timeout=10_000)
    fits(expert, artifacts, "ru-workspace", "ru")
    offer.locator("form:has(input[value=claim]) button").click()
    expert.wait_for_url(re.compile(r".*/b/volga/tickets/\d+$"))
    fits(expert, artifacts, "ru-ticket-expert", "ru")
    expert.fill("#f-msg", "Включите передачу данных и перезагрузите телефон.")
    expert.locator("#messages form button[type=submit]").click()
    expert.wait_for_selector(".message")
    expert.locator("form:has(input[name=action][value=resolve]) button[type=submit]").first.click()
    expert.wait_for_selector("[data-testid=ticket-status]")
    fits(expert, artifacts, "ru-ticket-resolved", "ru")
    for page in (expert, customer):
        page.context.close()


ADMIN_PAGES = (
    "admin/payouts", "admin/insights", "quality", "admin/brand", "admin/members",
    "admin/policy", "admin/capacity", "help/import",
)  # fmt: skip


def test_admin_tables_on_a_phone(live_server: str, browser: Any, artifacts: Path) -> None:
    base = live_server
    admin = signed_in(browser, base, "admin@volga.example", "en-US")
    for lang in ("en", "ru"):
        speak(admin, lang)
        for path in ADMIN_PAGES:
            admin.goto(f"{base}/b/volga/{path}")
            fits(admin, artifacts, f"{lang}-{path.replace('/', '-')}", lang)
        admin.goto(f"{base}/b/volga/admin/payouts?all=1")
        fits(admin, artifacts, f"{lang}-payouts-all", lang)
    speak(admin, "en")  # the demo admin's own language, as the other walks expect
    admin.context.close()

    admin = signed_in(browser, base, "admin@lumen.example", "zh-CN")
    for path in ADMIN_PAGES:
        admin.goto(f"{base}/b/lumen/{path}")
        fits(admin, artifacts, f"zh-Hans-{path.replace('/', '-')}", "zh-Hans")
    admin.context.close()


def rendered_on_phone(browser: Any, html: str) -> Any:
    """A page as the app rendered it (``html``, from the test client) with the app's style
    sheet, on a phone in Simplified Chinese: what a phone shows of a page whose data the
    demo server has none of."""
    page = phone(browser, "zh-CN")
    page.set_content(re.sub(r"<link[^>]*stylesheet[^>]*>", "", html))
    page.add_style_tag(path=str(STATIC / "app.css"))
    return page


def on_screen(row: Any, parts: tuple[str, ...]) -> None:
    """Each of ``parts`` (selectors inside ``row``) lies within the phone's width."""
    for part in parts:
        box = row.locator(part).bounding_box()
        assert box is not None, part
        assert box["x"] >= 0, (part, box)
        assert box["x"] + box["width"] <= PHONE["width"], (part, box)


def test_recording_a_payout_on_a_phone_needs_no_sideways_scroll(
    client: TestClient, world: World, browser: Any
) -> None:
    """The payouts table kept the "record a payout" form in its last column, past the right
    edge of a phone: the admin saw names and sums and no way to pay. Each payee is now a
    block with the amount, reference and button inside the screen, each sum named. (The
    page as the app renders it, with its style sheet; the demo server owes nobody.)"""
    desk = Desk(client, world)
    _resolve(desk, 1)
    sign_in(client, desk.admin)
    html = client.get(f"/b/{desk.slug}/admin/payouts?lang=zh-Hans").text
    page = rendered_on_phone(browser, html)
    row = page.locator("main table tbody tr:has(input[name=amount])").first
    on_screen(row, ("input[name=amount]", "input[name=reference]", "button[type=submit]"))
    named = """() => [...document.querySelectorAll('main td[data-label]')]
      .map(td => getComputedStyle(td, '::before').content)"""
    assert page.evaluate(named)[:4] == ['"事由："', '"应得："', '"已付："', '"待付："']
    page.context.close()


def test_changing_a_members_roles_on_a_phone_needs_no_sideways_scroll(
    client: TestClient, world: World, browser: Any
) -> None:
    """The members table had the role checkboxes and "Save roles" in its last column, past
    the right edge of a phone (each row a screen tall, squeezed by it): on a phone each
    member is a block with their roles under their name."""
    desk = Desk(client, world)
    sign_in(client, desk.admin)
    html = client.get(f"/b/{desk.slug}/admin/members?lang=zh-Hans").text
    page = rendered_on_phone(browser, html)
    row = page.locator("main table tbody tr:has(fieldset.roles)").first
    for part in ("label.check", "button[type=submit]"):
        for box in [e.bounding_box() for e in row.locator(part).all()]:
            assert box is not None, part
            assert box["x"] + box["width"] <= PHONE["width"], (part, box)
    page.context.close()


def test_the_sales_events_on_a_phone_keep_their_plan_and_remove_links_on_screen(
    client: TestClient, world: World, browser: Any
) -> None:
    """The capacity page's list of sales events had "Plan this event" and "Remove" in its
    last columns, past the right edge of a phone; now each event is a block."""
    desk = Desk(client, world)
    sale = {"name": "双12", "start": "2027-12-12T00:00", "hours": 24}
    added = client.post(desk.url("/capacity/events"), headers=desk.admin.auth, json=sale)
    assert added.status_code == 201, added.text
    sign_in(client, desk.admin)
    html = client.get(f"/b/{desk.slug}/admin/capacity?lang=zh-Hans").text
    page = rendered_on_phone(browser, html)
    row = page.locator("[data-testid=event]").first
    on_screen(row, ("[data-testid=plan-event]", "button[type=submit]"))
    page.context.close()


def test_the_policy_history_on_a_phone_shows_what_changed(
    client: TestClient, world: World, browser: Any
) -> None:
    """The policy's history put "what changed" in its third column, cut off at the right
    edge of a phone, the time broken over three lines: each change is now a block."""
    desk = Desk(client, world)
    body = client.get(desk.url("/policy"), headers=desk.admin.auth).json()
    body["sla"]["first_response_s"] = 1800
    assert client.put(desk.url("/policy"), json=body, headers=desk.admin.auth).status_code == 200
    sign_in(client, desk.admin)
    html = client.get(f"/b/{desk.slug}/admin/policy/changes?lang=zh-Hans").text
    page = rendered_on_phone(browser, html)
    line = page.locator("[data-testid=policy-changes] li").first
    box = line.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"], box
    page.context.close()


def test_the_review_queue_on_a_phone_shows_each_sampled_ticket_whole(
    client: TestClient, world: World, browser: Any
) -> None:
    """The quality queue squeezed a ticket's title to two characters a line and put why it
    is reviewed and when past the right edge of a phone: each review is now a block."""
    from tests.quality.test_api import resolve

    desk = Desk(client, world)
    resolve(desk)
    sign_in(client, desk.agent)
    html = client.get(f"/b/{desk.slug}/quality?lang=zh-Hans").text
    page = rendered_on_phone(browser, html)
    row = page.locator("[data-testid=quality-queue] tbody tr").first
    for cell in row.locator("td").all():
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE["width"], (cell.inner_text(), box)
    page.context.close()


def test_an_experts_settings_on_a_phone_are_on_screen(
    client: TestClient, world: World, browser: Any
) -> None:
    """The policy page's experts table (skills, languages, tier, certifications, Save) was
    927 px wide on a 390 px phone, Save at its far end: each expert is now a block."""
    desk = Desk(client, world)
    sign_in(client, desk.admin)
    html = client.get(f"/b/{desk.slug}/admin/policy?lang=zh-Hans").text
    page = rendered_on_phone(browser, html)
    row = page.locator("section[aria-labelledby=exp-h] tbody tr").first
    on_screen(row, ("input[name=skills]", "input[name=tier]", "button[type=submit]"))
    page.context.close()
