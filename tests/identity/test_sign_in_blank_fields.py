"""Signing in with a field left blank says what to fill in, not that something is wrong."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, World


def sign_in(client: TestClient, email: str, password: str) -> httpx.Response:
    client.get("/login")
    return client.post(
        "/login",
        data={"csrf_token": client.cookies.get("crowdcx_csrf"), "email": email,
              "password": password},
        follow_redirects=False,
    )  # fmt: skip


@pytest.mark.parametrize("email", ["", "   "])
def test_a_blank_address_asks_for_the_address(client: TestClient, email: str) -> None:
    """It said "The e-mail address or password is wrong." to someone who had typed none."""
    response = sign_in(client, email, PASSWORD)
    assert response.status_code == 422, response.text[:300]
    text = response.text
    assert "Enter your e-mail address." in text
    assert "is wrong" not in text
    assert 'aria-invalid="true"' in text


def test_a_blank_password_asks_for_the_password(client: TestClient, world: World) -> None:
    person = world.person()
    response = sign_in(client, person.email, "")
    assert response.status_code == 422
    text = response.text
    assert "Enter your password." in text
    assert "is wrong" not in text
    assert person.email in text  # the address typed is kept


def test_a_wrong_password_is_still_wrong(client: TestClient, world: World) -> None:
    person = world.person()
    response = sign_in(client, person.email, "not the password")
    assert response.status_code == 401
    assert "The e-mail address or password is wrong." in response.text
    assert sign_in(client, person.email, PASSWORD).status_code == 303
