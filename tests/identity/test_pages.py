"""The sign-up form: it refuses an address no mail can go to, in the reader's language."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from tests.conftest import PASSWORD, World
from tests.identity.test_api import BAD_ADDRESSES, INTERNATIONAL_ADDRESSES


def sign_up(client: TestClient, email: str, locale: str = "en") -> object:
    client.get("/login")
    client.cookies.set("crowdcx_locale", locale)
    return client.post(
        "/register",
        data={"csrf_token": client.cookies.get("crowdcx_csrf"), "email": email,
              "password": PASSWORD, "display_name": "Someone", "locale": locale},
        follow_redirects=False,
    )  # fmt: skip


@pytest.mark.parametrize("email", BAD_ADDRESSES)
def test_the_form_refuses_an_address_mail_cannot_go_to(
    client: TestClient, db: Database, email: str
) -> None:
    """It used to check only for an "@": an address with a line break was stored, and the
    digest run stopped at it for everyone."""
    response = sign_up(client, email)
    assert response.status_code == 422, response.text[:300]
    assert 'aria-invalid="true"' in response.text
    assert "Enter a valid e-mail address" in response.text
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    ("locale", "words"),
    [("ru", "Введите правильный адрес"), ("zh-Hans", "请输入有效的电子邮件地址"),
     ("zh-Hant", "請輸入有效的電子郵件地址")],
)  # fmt: skip
def test_the_refusal_speaks_the_readers_language(
    client: TestClient, locale: str, words: str
) -> None:
    response = sign_up(client, "evil@example.com\nbcc: all@example.com", locale)
    assert response.status_code == 422
    assert words in response.text


@pytest.mark.parametrize("email", INTERNATIONAL_ADDRESSES)
def test_the_form_accepts_international_addresses(client: TestClient, email: str) -> None:
    response = sign_up(client, email)
    assert response.status_code == 303, response.text[:300]


def test_cookies_are_https_only_when_the_public_address_is_https(database_url: str) -> None:
    """Production behind TLS needed CROWDCX_COOKIE_SECURE=true or its session cookie also
    travelled over plain HTTP; an https:// public address now makes it the default."""
    from crowdcx.app import create_app
    from crowdcx.config import Settings

    base = {"database_url": database_url, "env": "test", "secret_key": "s",
            "password_hash_profile": "fast", "redis_url": None, "sweep_interval_s": 0}  # fmt: skip
    for public_url, flag, secure in (
        ("https://help.example.com", None, True),
        ("http://127.0.0.1:8000", None, False),
        ("https://help.example.com", False, False),
        ("http://127.0.0.1:8000", True, True),
    ):
        app = create_app(Settings(**base, public_url=public_url, cookie_secure=flag))
        with TestClient(app, base_url=public_url) as client:
            cookie = client.get("/login").headers.get("set-cookie", "")
        app.state.db.dispose()
        assert "crowdcx_csrf" in cookie
        assert ("; secure" in cookie.lower()) is secure, (public_url, flag, cookie)


@pytest.mark.parametrize(
    ("locale", "words"),
    [("en", "visible"), ("ru", "видим"), ("zh-Hans", "看得见"), ("zh-Hant", "看得見")],
)
def test_the_form_refuses_a_name_of_invisible_characters(
    client: TestClient, db: Database, locale: str, words: str
) -> None:
    client.get("/login")
    client.cookies.set("crowdcx_locale", locale)
    response = client.post(
        "/register",
        data={"csrf_token": client.cookies.get("crowdcx_csrf"), "email": "blank@example.com",
              "password": PASSWORD, "display_name": "\u200b\u200d\ufeff", "locale": locale},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 422, response.text[:300]
    assert 'aria-invalid="true"' in response.text
    assert words in response.text
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0


def test_the_form_refuses_a_name_too_long_for_the_column(client: TestClient, db: Database) -> None:
    """The form field allows 1024 characters and the column 80: on PostgreSQL the insert
    failed (a 500), on SQLite the long name was stored."""
    client.get("/login")
    response = client.post(
        "/register",
        data={"csrf_token": client.cookies.get("crowdcx_csrf"), "email": "long@example.com",
              "password": PASSWORD, "display_name": "Я" * 200, "locale": "ru"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 422, response.text[:300]
    assert 'aria-invalid="true"' in response.text
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    "typed", ["li@example\u3002com", "li\uff20example\uff0ecom", "LI@EXAMPLE\uff61COM"]
)
def test_an_address_typed_with_chinese_punctuation_is_the_same_address(
    client: TestClient, db: Database, typed: str
) -> None:
    """A Chinese input method in Chinese punctuation mode types "。" for the dot. The check
    took it as a dot (as IDNA does) but the form stored the address with the "。": mail went
    to a domain that does not exist, signing in with the ASCII address found no account, and
    the same address could be registered a second time."""
    response = sign_up(client, typed, "zh-Hans")
    assert response.status_code == 303, response.text[:300]
    with db.sessions() as s:
        assert s.scalars(select(User.email)).all() == ["li@example.com"]
    token = client.post(
        "/api/v1/auth/token", json={"email": "li@example.com", "password": PASSWORD}
    )
    assert token.status_code == 200, token.text
    client.cookies.clear()
    assert sign_up(client, "li@example.com").status_code == 409


def _form_next(page: str, action: str) -> str:
    """The ``next`` the form posting to ``action`` will send."""
    found = re.search(rf'action="{action}".*?name="next" value="([^"]*)"', page, re.S)
    assert found is not None, page[:2000]
    return html.unescape(found.group(1))


def _link(page: str, path: str) -> str:
    found = re.search(rf'<main.*?href="({path}[^"]*)"', page, re.S)
    assert found is not None, page[:2000]
    return html.unescape(found.group(1))


def test_signing_up_goes_back_to_the_page_that_asked_for_it(
    client: TestClient, world: World
) -> None:
    """Sign-in took ``next`` but sign-up did not: a visitor who chose "create an account" on a
    brand's page, or followed the link from the sign-in form, landed on the start page and
    had to find the brand again."""
    slug = world.brand()
    wanted = f"/b/{slug}/community/ask?community=mobile&lang=ru"
    login = client.get("/login", params={"next": wanted}).text
    register_link = _link(login, "/register")
    assert parse_qs(urlsplit(register_link).query)["next"] == [wanted]
    form = client.get(register_link).text
    assert _form_next(form, "/register") == wanted
    # And back: the register page's "Sign in" link keeps it too.
    assert parse_qs(urlsplit(_link(form, "/login")).query)["next"] == [wanted]
    response = client.post(
        "/register",
        data={"csrf_token": client.cookies.get("crowdcx_csrf"), "email": "new@example.com",
              "password": PASSWORD, "display_name": "New", "locale": "en", "next": wanted},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text[:300]
    assert response.headers["location"] == wanted
    # A refused form keeps it for the second try.
    client.cookies.clear()
    client.get("/login")
    again = client.post(
        "/register",
        data={"csrf_token": client.cookies.get("crowdcx_csrf"), "email": "new@example.com",
              "password": PASSWORD, "display_name": "New", "locale": "en", "next": wanted},
    )  # fmt: skip
    assert again.status_code == 409
    assert _form_next(again.text, "/register") == wanted
    # The brand page's sign-up link and the header's come back to the brand page.
    client.cookies.clear()
    home = client.get(f"/b/{slug}/").text
    for link in re.findall(r'href="(/register[^"]*)"', home):
        assert parse_qs(urlsplit(html.unescape(link)).query)["next"] == [f"/b/{slug}/"], link


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
     "https://evil.example/", "javascript:alert(1)", "evil.example", "/\\/evil.example"],
)  # fmt: skip
def test_signing_up_never_leaves_the_site(client: TestClient, target: str) -> None:
    assert _form_next(client.get("/register", params={"next": target}).text, "/register") == "/"
    response = client.post(
        "/register",
        data={"csrf_token": client.cookies.get("crowdcx_csrf"), "email": "x@example.com",
              "password": PASSWORD, "display_name": "X", "locale": "en", "next": target},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_form_names_every_problem_at_once_and_keeps_what_was_typed(
    client: TestClient, db: Database
) -> None:
    """A bad address and a short password: both said beside their fields in one answer (it
    said the address, then the password on the next try), in the reader's language."""
    client.get("/login")
    client.cookies.set("crowdcx_locale", "ru")
    response = client.post(
        "/register",
        data={"csrf_token": client.cookies.get("crowdcx_csrf"), "email": "ivan@",
              "password": "short", "display_name": "Иван", "locale": "ru"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert text.count('aria-invalid="true"') == 2
    assert "Введите правильный адрес" in text
    assert re.search(r"10\s+символ", text), text[-3000:]
    assert 'value="Иван"' in text
    assert 'value="ivan@"' in text
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
