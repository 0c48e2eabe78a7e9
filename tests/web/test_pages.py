"""The web shell through HTTP: forms with CSRF, sign-in, locale switching, role navigation."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient

from crowdcx.app import create_app
from crowdcx.config import Settings
from tests.conftest import PASSWORD, World


def csrf(client: TestClient) -> str:
    client.get("/login")
    token = client.cookies.get("crowdcx_csrf")
    assert token
    return token


def test_register_sign_out_sign_in_by_forms(client: TestClient) -> None:
    token = csrf(client)
    page = client.post(
        "/register",
        data={
            "csrf_token": token,
            "email": "mei@example.com",
            "password": PASSWORD,
            "display_name": "美",
            "locale": "zh-Hant",
        },
        follow_redirects=False,
    )
    assert page.status_code == 303
    assert client.cookies.get("crowdcx_locale") == "zh-Hant"
    home = client.get("/")
    assert "登出" in home.text  # signed in, and the page speaks Traditional Chinese
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert "登入" in client.get("/").text
    bad = client.post(
        "/login", data={"csrf_token": token, "email": "mei@example.com", "password": "wrong wrong"}
    )
    assert bad.status_code == 401
    good = client.post(
        "/login",
        data={
            "csrf_token": token,
            "email": "mei@example.com",
            "password": PASSWORD,
            "next": "/account",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert good.headers["location"] == "/account"


def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    csrf(client)
    response = client.post("/login", data={"email": "x@example.com", "password": "whatever!!"})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]


def test_open_redirects_are_refused(client: TestClient, world: World) -> None:
    person = world.person()
    token = csrf(client)
    response = client.post(
        "/login",
        data={
            "csrf_token": token,
            "email": person.email,
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_registration_errors_are_shown_next_to_the_field(client: TestClient) -> None:
    token = csrf(client)
    client.cookies.set("crowdcx_locale", "ru")
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "email": "a@example.com",
            "password": "short",
            "display_name": "A",
            "locale": "ru",
        },
    )
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "символ" in response.text


def test_locale_switcher_translates_the_navigation(client: TestClient) -> None:
    token = csrf(client)
    english = client.get("/")
    assert "Sign in" in english.text
    switched = client.post(
        "/locale",
        data={"csrf_token": token, "locale": "zh-Hans", "next": "/"},
        follow_redirects=True,
    )
    assert switched.status_code == 200
    assert '<html lang="zh-Hans">' in switched.text
    assert "登录" in switched.text
    client.post("/locale", data={"csrf_token": token, "locale": "ru", "next": "/"})
    assert "Войти" in client.get("/").text


def test_brand_page_uses_brand_colours_and_role_navigation(
    client: TestClient, world: World
) -> None:
    slug = world.brand(name="Volga")
    admin = world.member(slug, ["brand_admin"])
    customer = world.member(slug, ["customer"])
    token = csrf(client)
    client.post("/login", data={"csrf_token": token, "email": customer.email, "password": PASSWORD})
    page = client.get(f"/b/{slug}/")
    assert "--brand:" in page.text
    assert f"/b/{slug}/admin/members" not in page.text
    assert client.get(f"/b/{slug}/admin/members").status_code == 403
    client.post("/logout", data={"csrf_token": token})
    client.post("/login", data={"csrf_token": token, "email": admin.email, "password": PASSWORD})
    page = client.get(f"/b/{slug}/")
    assert f"/b/{slug}/admin/members" in page.text
    members = client.get(f"/b/{slug}/admin/members")
    assert members.status_code == 200
    assert customer.email in members.text


def test_brand_admin_adds_a_member_by_form(client: TestClient, world: World) -> None:
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    newcomer = world.person("Новичок")
    token = csrf(client)
    client.post("/login", data={"csrf_token": token, "email": admin.email, "password": PASSWORD})
    added = client.post(
        f"/b/{slug}/admin/members",
        data={"csrf_token": token, "email": newcomer.email, "roles": ["expert", "helper"]},
    )
    assert added.status_code == 200
    assert "Новичок" in added.text
    missing = client.post(
        f"/b/{slug}/admin/members", data={"csrf_token": token, "email": newcomer.email}
    )
    assert missing.status_code == 422


def test_account_page_creates_and_revokes_api_tokens(client: TestClient, world: World) -> None:
    person = world.person()
    token = csrf(client)
    client.post("/login", data={"csrf_token": token, "email": person.email, "password": PASSWORD})
    created = client.post("/account/tokens", data={"csrf_token": token, "name": "ci script"})
    raw = re.search(r"cxa_[A-Za-z0-9_\-]+", created.text)
    assert raw is not None
    api = TestClient(client.app)
    assert (
        api.get("/api/v1/me", headers={"Authorization": f"Bearer {raw.group(0)}"}).status_code
        == 200
    )
    token_id = re.search(r"/account/tokens/(\d+)/revoke", created.text)
    assert token_id is not None
    client.post(f"/account/tokens/{token_id.group(1)}/revoke", data={"csrf_token": token})
    assert (
        api.get("/api/v1/me", headers={"Authorization": f"Bearer {raw.group(0)}"}).status_code
        == 401
    )


def test_cookie_session_api_writes_need_the_csrf_header(client: TestClient, world: World) -> None:
    person = world.person()
    token = csrf(client)
    client.post("/login", data={"csrf_token": token, "email": person.email, "password": PASSWORD})
    assert client.get("/api/v1/me").status_code == 200  # reads need no token
    refused = client.patch("/api/v1/me", json={"display_name": "X"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    allowed = client.patch(
        "/api/v1/me", json={"display_name": "X"}, headers={"X-CSRF-Token": token}
    )
    assert allowed.status_code == 200


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    page = client.get("/b/nobody/")
    assert page.status_code == 404
    assert "<main" in page.text
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_security_headers(client: TestClient) -> None:
    response = client.get("/")
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_live_stream_requires_sign_in(client: TestClient) -> None:
    assert client.get("/live").status_code == 401


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/brands",
        "/api/v1/brands/{slug}",
        "/api/v1/brands/{slug}/members",
        "/healthz",
    ):
        assert path in spec["paths"], path
    assert client.get("/api/docs").status_code == 200


def test_healthz_checks_the_database(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize(
    ("env", "threads", "expected"),
    [("production", 0, 1), ("production", 6, 6), ("test", 0, 40), ("development", 3, 3)],
)
def test_synchronous_handlers_per_worker(
    settings: Settings, env: str, threads: int, expected: int
) -> None:
    """In production on SQLite a worker runs one synchronous handler at a time (its threads
    would only contend for the GIL and the one write lock); the operator can set another."""
    app = create_app(settings.model_copy(update={"env": env, "threads": threads}))
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            tokens = client.portal.call(  # type: ignore[union-attr]
                lambda: to_thread.current_default_thread_limiter().total_tokens
            )
    finally:
        app.state.db.dispose()
    if not settings.is_sqlite and not threads:
        expected = 40  # on PostgreSQL handlers wait on the network: AnyIO's default stays
    assert tokens == expected


def _login_next(page: str) -> str:
    """The ``next`` the sign-in form will post."""
    found = re.search(r'action="/login".*?name="next" value="([^"]*)"', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def _sign_in_link(page: str) -> str:
    found = re.search(r'<main.*?<a class="button" href="(/login[^"]*)"', page, re.S)
    assert found is not None, page[:2000]
    return html.unescape(found.group(1))


def test_signing_in_goes_back_to_the_page_that_asked_for_it(
    client: TestClient, world: World
) -> None:
    """A signed-out visitor opening the ask form of one community was sent, after signing
    in, to the ask form without its community (the link dropped the query string), and
    the header's "Sign in" always led back to the start page."""
    slug = world.brand()
    person = world.member(slug, ["customer"])
    wanted = f"/b/{slug}/community/ask?community=mobile&lang=ru"
    refused = client.get(wanted)
    assert refused.status_code == 401
    link = _sign_in_link(refused.text)
    assert _login_next(client.get(link).text) == wanted
    token = client.cookies.get("crowdcx_csrf")
    signed_in = client.post(
        "/login",
        data={"csrf_token": token, "email": person.email, "password": PASSWORD,
              "next": wanted},
        follow_redirects=False,
    )  # fmt: skip
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == wanted
    client.post("/logout", data={"csrf_token": token})
    # The header's link from any page comes back to it too.
    community = client.get(f"/b/{slug}/community?sort=votes")
    header = re.search(r'<a href="(/login[^"]*)">Sign in</a>', community.text)
    assert header is not None
    assert parse_qs(urlsplit(html.unescape(header.group(1))).query)["next"] == [
        f"/b/{slug}/community?sort=votes"
    ]


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
     "https://evil.example/", "javascript:alert(1)", "evil.example", "/\\/evil.example"],
)  # fmt: skip
def test_sign_in_never_leaves_the_site(client: TestClient, world: World, target: str) -> None:
    person = world.person()
    token = csrf(client)
    assert _login_next(client.get("/login", params={"next": target}).text) == "/"
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": person.email, "password": PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_an_expired_form_gives_back_what_was_typed(client: TestClient, world: World) -> None:
    """A form left open while the browser dropped its CSRF cookie (a restart restores the
    tab and the sign-in, not the session cookie) was refused with a page that lost the
    text: it now shows the text to copy, and never a password."""
    slug = world.brand()
    person = world.member(slug, ["customer"])
    token = csrf(client)
    client.post("/login", data={"csrf_token": token, "email": person.email, "password": PASSWORD})
    client.cookies.delete("crowdcx_csrf")
    typed = "Мой заказ 123 не пришёл.\nЧто делать? <b>срочно</b>"
    refused = client.post(
        f"/b/{slug}/tickets/new",
        data={"csrf_token": token, "subject": "Заказ не пришёл", "body": typed,
              "skill": "general"},
    )  # fmt: skip
    assert refused.status_code == 403
    shown = [html.unescape(t) for t in re.findall(r"<textarea[^>]*readonly[^>]*>(.*?)</textarea>",
                                                  refused.text, re.S)]  # fmt: skip
    assert typed in shown
    assert "Заказ не пришёл" in shown
    assert token not in shown
    assert client.cookies.get("crowdcx_csrf")  # a fresh token: reloading the form works
    client.cookies.delete("crowdcx_csrf")
    again = client.post(
        "/login", data={"csrf_token": token, "email": person.email, "password": PASSWORD}
    )
    assert again.status_code == 403
    assert PASSWORD not in again.text


def test_decimals_are_written_as_the_reader_writes_them() -> None:
    """The capacity plan's expected tickets and quality scores: "0,5" on a Russian page."""
    from crowdcx.kernel.i18n import use_locale
    from crowdcx.web.templating import format_decimal_1

    with use_locale("ru"):
        assert format_decimal_1(0.46) == "0,5"
        assert format_decimal_1(1234.0) == "1\xa0234,0"
    with use_locale("en"):
        assert format_decimal_1(39.0) == "39.0"
    assert format_decimal_1(None) == "–"
