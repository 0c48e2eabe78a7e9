"""The Volga brand's admin changes the ticket policy through the form in Russian, in Debian's
Chromium: the first-response target in minutes and a skill's base amount typed with a
decimal comma; a bad value is explained beside its field; the JSON stays one click away. Then
a new skill, typed in Cyrillic on an empty row with its tier, certification, the customer field
it needs and its base amount, becomes a skill of the catalogue and of the rate card."""

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
    assert admin.locator("#f-base-1").input_value() == "5,00"  # 500 kopecks, as Russians write
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
    row = admin.locator(".skill-row", has=admin.locator("input[id$='-name']")).first
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

    # On a phone the longer form still fits the width.
    admin.set_viewport_size({"width": 390, "height": 844})
    admin.reload()
    width = admin.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    admin.screenshot(path=str(artifacts / "ops-policy-5-phone.png"), full_page=True)
