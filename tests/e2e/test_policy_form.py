"""The Volga brand's admin changes the ticket policy through the form in Russian, in Debian's
Chromium: the first-response target in minutes and a skill's base amount typed with a
decimal comma; a bad value is explained beside its field; the JSON stays one click away."""

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
