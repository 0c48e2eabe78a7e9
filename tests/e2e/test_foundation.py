"""The foundation as a person meets it, in Debian's Chromium: register, sign in, switch to
Simplified Chinese and see the navigation translated; an admin adds the person to a brand
and the person's open page is told so live (SSE)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from crowdcx.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def test_register_sign_in_switch_to_simplified_chinese(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 800})
    page = context.new_page()
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    password = "a long walk by the river"

    page.goto(f"{live_server}/register")
    page.get_by_label("Your name").fill("Test Person")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create an account").click()
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_role("button", name="Sign out").is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")

    page.get_by_role("button", name="中文（简体）").click()
    page.wait_for_load_state()
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.is_visible()
    assert nav.get_by_role("link", name="我的账户").is_visible()
    assert nav.get_by_role("button", name="退出登录").is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.screenshot(path=str(artifacts / "foundation-zh-Hans.png"), full_page=True)

    # The preference follows the person: a new browser signs in and sees Chinese at once.
    other = browser.new_context(locale="en-US").new_page()
    other.goto(f"{live_server}/login")
    other.get_by_label("E-mail address").fill(email)
    other.get_by_label("Password").fill(password)
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url(f"{live_server}/")
    assert other.get_by_role("button", name="退出登录").is_visible()
    context.close()


def test_member_added_arrives_live(live_server: str, browser: Any, artifacts: Path) -> None:
    email = f"live-{uuid.uuid4().hex[:8]}@example.com"
    password = "a long walk by the river"
    r = httpx.post(
        f"{live_server}/api/v1/auth/register",
        json={"email": email, "password": password, "display_name": "Live", "locale": "ru"},
    )
    assert r.status_code == 201
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Адрес электронной почты").fill(email)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(f"{live_server}/")
    page.wait_for_function("() => window.crowdcxLive && window.crowdcxLive.readyState === 1")

    token = httpx.post(
        f"{live_server}/api/v1/auth/token",
        json={"email": "admin@volga.example", "password": DEMO_PASSWORD},
    ).json()["access_token"]
    added = httpx.post(
        f"{live_server}/api/v1/brands/volga/members",
        json={"email": email, "roles": ["helper"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert added.status_code == 201
    toast = page.locator("#toasts .toast")
    toast.wait_for(timeout=5000)
    assert "Volga Telecom" in toast.inner_text()
    page.screenshot(path=str(artifacts / "foundation-live-ru.png"))
    context.close()


def test_the_api_reference_renders_in_the_browser(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    """/api/docs was FastAPI's default page: Swagger UI from a CDN with an inline script, both
    refused by the pages' Content-Security-Policy (and no CDN on an offline installation), so
    the reference was blank. It is served from this origin now, and no script is refused."""
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None,
    )
    page.goto(f"{live_server}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "CrowdCX API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector('[data-path="/api/v1/brands/{slug}/tickets"]', timeout=15_000)
    page.screenshot(path=str(artifacts / "api-docs.png"))
    assert refused == []
    assert outside == []
    context.close()
