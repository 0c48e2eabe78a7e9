"""The sign-up form: it refuses an address no mail can go to, in the reader's language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from tests.conftest import PASSWORD
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
