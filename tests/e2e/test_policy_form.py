"""The Volga brand's admin changes the ticket policy through the form in Russian, in Debian's
Chromium: the first-response target in minutes and a skill's base amount typed with a
decimal comma; a bad value is explained beside its field; the JSON stays one click away. Then
a new skill, typed in Cyrillic on an empty row with its tier, certification, the customer field
it needs and its base amount, becomes a skill of the catalogue and of the rate card; a saved
skill is renamed on its row, a time-of-day band is added (an overlapping one is refused beside
its row) and Monday gets a second business-hours window after a lunch break."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_operations import ADMIN, shot, signed_in

pytestmark = pytest.mark.e2e


def test_the_admin_changes_the_sla_and_a_rate_through_the_form(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    base = live_server
    admin = signed_in(browser, base, ADMIN)
    admin.goto(f"{base}/b/volga/admin/policy")
    assert admin.locator("h1").inner_text() == "Политика обращений"
    # 5,000 kopecks (a new rouble brand starts at 50 ₽, not 5 ₽), as Russians write it.
    assert admin.locator("#f-base-1").input_value() == "50,00"
    assert admin.locator("#f-policy").is_hidden()  # the JSON waits under "Advanced"

    # A value the form cannot read: refused beside its field, the rest kept as typed.
    admin.fill("#f-sla-first", "30")
    admin.select_option("select[name='sla.first_response_s.unit']", "minutes")
    admin.fill("#f-base-1", "6,755")
    admin.locator("form[action$='/admin/policy/form'] button[type=submit]").click()
    error = admin.locator(".field.has-error .error").first
    error.wait_for()
    assert "после запятой" in error.inner_text()
    assert admin.locator("#f-sla-first").input_value() == "30"
    assert admin.locator("#f-base-1").get_attribute("aria-invalid") == "true"
    shot(admin, artifacts, "policy-1-refused")

    admin.fill("#f-base-1", "6,75")
    admin.locator("form[action$='/admin/policy/form'] button[type=submit]").click()
    admin.wait_for_url(f"{base}/b/volga/admin/policy?saved=1")
    assert admin.locator("p.alert.ok").inner_text() == "Сохранено."
    assert admin.locator("#f-sla-first").input_value() == "30"
    unit = admin.locator("select[name='sla.first_response_s.unit']")
    assert unit.input_value() == "minutes"
    assert admin.locator("#f-base-1").input_value() == "6,75"
    admin.locator("details.advanced summary").click()
    json_text = admin.locator("#f-policy").input_value()
    assert '"first_response_s": 1800' in json_text
    assert '"general": 675' in json_text
    shot(admin, artifacts, "policy-2-saved")

    # A new skill on the first empty row: named in Russian, for certified experts of tier 2
    # and above, who need the customer's e-mail; its base amount on the same row.
    row = admin.locator(".skill-row.new").first
    row.locator("input[id$='-name']").fill("Гарантийный ремонт")
    row.locator("select[name$='.required_tier']").select_option("2")
    row.locator("input[name$='.requires_certification']").check()
    row.locator("input[name$='.needs.email']").check()
    row.locator("input[id$='-base']").fill("9,90")
    shot(admin, artifacts, "policy-3-new-skill")
    admin.locator("form[action$='/admin/policy/form'] button[type=submit]").click()
    admin.wait_for_url(f"{base}/b/volga/admin/policy?saved=1")
    saved = admin.locator(".skill-row", has=admin.locator("h3", has_text="Гарантийный ремонт"))
    assert saved.count() == 1
    assert saved.locator("select[name$='.required_tier']").input_value() == "2"
    assert saved.locator("input[name$='.requires_certification']").is_checked()
    assert saved.locator("input[name$='.needs.email']").is_checked()
    assert not saved.locator("input[name$='.needs.phone']").is_checked()
    price = admin.get_by_role("textbox", name="Гарантийный ремонт", exact=True)
    assert price.input_value() == "9,90"
    admin.locator("details.advanced summary").click()
    json_text = admin.locator("#f-policy").input_value()
    assert '"Гарантийный ремонт": 990' in json_text
    shot(admin, artifacts, "policy-4-skill-saved")

    # A saved skill renamed on its row (its rate follows it), a morning band beside the
    # night one, and Monday's hours with a lunch break: two windows on one day.
    billing = admin.locator(".skill-row", has=admin.locator("input[value='billing']"))
    billing.locator("input[id$='-name']").fill("Оплата")
    admin.fill("#f-band-1-start", "07:00")
    admin.fill("#f-band-1-end", "09:00")
    admin.fill("#f-band-1-multiplier", "1,1")
    admin.fill("#f-band-1-label", "утро")
    admin.fill("#f-bh-zone", "Europe/Moscow")
    admin.fill("#f-bh-0-0-start", "09:00")
    admin.fill("#f-bh-0-0-end", "13:00")
    admin.locator("form[action$='/admin/policy/form'] button[type=submit]").click()
    admin.wait_for_url(f"{base}/b/volga/admin/policy?saved=1")
    admin.fill("#f-bh-0-1-start", "14:00")  # the row for another window under Monday's
    admin.fill("#f-bh-0-1-end", "18:00")
    # An overlapping band is explained beside its row, the rest kept as typed.
    admin.fill("#f-band-2-start", "08:00")
    admin.fill("#f-band-2-end", "10:00")
    admin.fill("#f-band-2-multiplier", "1,5")
    admin.locator("form[action$='/admin/policy/form'] button[type=submit]").click()
    problem = admin.locator(".band-row.has-error .error").first
    problem.wait_for()
    assert "07:00–09:00" in problem.inner_text()
    assert admin.locator("#f-bh-0-1-start").input_value() == "14:00"
    shot(admin, artifacts, "policy-5-band-refused")
    admin.fill("#f-band-2-start", "10:00")
    admin.fill("#f-band-2-end", "11:00")
    admin.locator("form[action$='/admin/policy/form'] button[type=submit]").click()
    admin.wait_for_url(f"{base}/b/volga/admin/policy?saved=1")
    admin.locator("details.advanced summary").click()
    json_text = admin.locator("#f-policy").input_value()
    assert '"Оплата": 1200' in json_text
    assert '"billing"' not in json_text
    assert '"label": "утро"' in json_text
    assert '"start": "14:00:00"' in json_text
    assert admin.locator(".skill-row", has=admin.locator("h3", has_text="Оплата")).count() == 1
    shot(admin, artifacts, "policy-6-renamed-bands-hours")

    # On a phone the longer form still fits the width.
    admin.set_viewport_size({"width": 390, "height": 844})
    admin.reload()
    width = admin.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    admin.screenshot(path=str(artifacts / "ops-policy-5-phone.png"), full_page=True)
    # And in Chinese, on the phone and on a desktop (looked at, not asserted word by word).
    admin.goto(f"{base}/b/volga/admin/policy?lang=zh-Hans")
    assert admin.locator("html").get_attribute("lang") == "zh-Hans"
    width = admin.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    admin.screenshot(path=str(artifacts / "ops-policy-7-phone-zh.png"), full_page=True)
    admin.set_viewport_size({"width": 1200, "height": 900})
    admin.reload()
    admin.screenshot(path=str(artifacts / "ops-policy-8-desktop-zh.png"), full_page=True)
