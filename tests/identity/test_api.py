"""Accounts through the HTTP API: registration, tokens, /me, back-off, bad input (and the
address check of registration itself)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crowdcx.identity import service as identity
from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.errors import AppError
from tests.conftest import PASSWORD, World


def register(client: TestClient, **overrides: object) -> object:
    body = {
        "email": "new.person@example.com",
        "password": PASSWORD,
        "display_name": "New Person",
        "locale": "ru",
    }
    body.update(overrides)
    return client.post("/api/v1/auth/register", json=body)


def test_register_then_token_then_me(client: TestClient) -> None:
    response = register(client)
    assert response.status_code == 201, response.text
    assert response.json()["locale"] == "ru"
    assert "password" not in response.text
    token = client.post(
        "/api/v1/auth/token", json={"email": "New.Person@example.com", "password": PASSWORD}
    )
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "new.person@example.com"
    assert me.json()["memberships"] == []


def test_me_lists_memberships(world: World, client: TestClient) -> None:
    slug = world.brand(name="Acme")
    person = world.member(slug, ["expert", "helper"])
    me = client.get("/api/v1/me", headers=person.auth).json()
    assert me["memberships"] == [
        {"brand_slug": slug, "brand_name": "Acme", "roles": ["expert", "helper"]}
    ]


def test_duplicate_email_is_a_conflict_naming_the_field(client: TestClient) -> None:
    assert register(client).status_code == 201
    again = register(client, email="NEW.person@example.com")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "email_taken"
    assert again.json()["field"] == "email"


def test_weak_password_is_refused_and_nothing_is_written(client: TestClient) -> None:
    weak = register(client, password="qwerty1234")
    assert weak.status_code == 422
    assert weak.json()["field"] == "password"
    assert weak.json()["code"] == "password_common"
    assert register(client).status_code == 201  # the address was not taken by the failed attempt


def test_invalid_locale_is_refused(client: TestClient) -> None:
    response = register(client, locale="klingon")
    assert response.status_code == 422
    assert response.json()["field"] == "locale"


def test_locale_aliases_are_accepted(client: TestClient) -> None:
    response = register(client, locale="zh_TW")
    assert response.status_code == 201
    assert response.json()["locale"] == "zh-Hant"


def test_validation_messages_speak_the_readers_language(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "a@example.com", "password": "short", "display_name": "A", "locale": "en"},
        headers={"Accept-Language": "ru-RU,ru;q=0.9"},
    )
    assert response.status_code == 422
    assert "символ" in response.json()["detail"]


def test_wrong_password_then_lockout_with_retry_after(client: TestClient, world: World) -> None:
    person = world.person()
    statuses = []
    for _ in range(6):
        r = client.post(
            "/api/v1/auth/token", json={"email": person.email, "password": "wrong password!"}
        )
        statuses.append(r.status_code)
    assert statuses[:4] == [401, 401, 401, 401]
    assert statuses[4] == 429
    locked = client.post("/api/v1/auth/token", json={"email": person.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "login_locked"
    assert int(locked.headers["retry-after"]) > 0


def test_unknown_address_and_wrong_password_look_the_same(client: TestClient, world: World) -> None:
    person = world.person()
    a = client.post(
        "/api/v1/auth/token", json={"email": person.email, "password": "nope nope nope"}
    )
    b = client.post(
        "/api/v1/auth/token", json={"email": "ghost@example.com", "password": "nope nope nope"}
    )
    assert a.status_code == b.status_code == 401
    assert a.json()["detail"] == b.json()["detail"]


def test_me_requires_a_valid_token(client: TestClient) -> None:
    assert client.get("/api/v1/me").status_code == 401
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer cxa_not-a-token"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "invalid_token"


def test_revoked_token_stops_working(client: TestClient, world: World) -> None:
    person = world.person()
    assert client.delete("/api/v1/auth/token", headers=person.auth).status_code == 204
    assert client.get("/api/v1/me", headers=person.auth).status_code == 401


def test_patch_me_changes_name_and_locale(client: TestClient, world: World) -> None:
    person = world.person()
    response = client.patch(
        "/api/v1/me", json={"display_name": "Алёна", "locale": "zh-Hans"}, headers=person.auth
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Алёна"
    assert response.json()["locale"] == "zh-Hans"
    assert client.patch("/api/v1/me", json={"locale": "xx"}, headers=person.auth).status_code == 422


# Addresses no mail can go to: a line break would end the header of every mail to it (and
# once stopped the digest run for everyone), a space, two or no @, a domain without a dot.
BAD_ADDRESSES = [
    "evil@example.com\nbcc: all@example.com",
    "evil@example.com\r\nbcc: all@example.com",
    "first last@example.com",
    "a@b@example.com",
    "no-at-sign.example.com",
    "name@localhost",
    "zero\u200bwidth@example.com",
]
# Addresses in other scripts are addresses too (SMTPUTF8 and IDN domains).
INTERNATIONAL_ADDRESSES = ["用户@例子.广告", "почта@пример.рф", "josé@bücher.example"]


@pytest.mark.parametrize("email", BAD_ADDRESSES)
def test_an_address_mail_cannot_go_to_is_refused(client: TestClient, email: str) -> None:
    response = register(client, email=email)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "email"
    assert response.json()["errors"][0]["code"] == "invalid_email"


@pytest.mark.parametrize("email", BAD_ADDRESSES)
def test_register_itself_refuses_an_address_mail_cannot_go_to(db: Database, email: str) -> None:
    """Not only the edges: the CLI and the demo loader register through the service."""
    with db.uow() as uow, pytest.raises(AppError) as refused:
        identity.register(uow, email=email, password=PASSWORD, display_name="X", locale="en",
                          hash_profile="fast")  # fmt: skip
    assert (refused.value.status, refused.value.code) == (422, "invalid_email")
    assert refused.value.field == "email"
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("email", INTERNATIONAL_ADDRESSES)
def test_international_addresses_are_accepted(client: TestClient, email: str) -> None:
    response = register(client, email=email)
    assert response.status_code == 201, response.text
    assert response.json()["email"] == email


# Names that look blank on every page: zero-width space/joiner, the BOM, bidi controls, the
# soft hyphen, Hangul fillers, ideographic and no-break spaces, alone or mixed.
BLANK_NAMES = [
    "\u200b",
    "\u200b\u200d\ufeff",
    " \u202e\u2066\u2069 ",
    "\u00ad\u2060",
    "\u3164\u3000\u00a0",
    "\u2800",
]


@pytest.mark.parametrize("name", BLANK_NAMES)
def test_a_name_of_invisible_characters_is_refused(
    client: TestClient, world: World, name: str
) -> None:
    """Sign-up and profile edit took a name of zero-width characters: the person appeared with
    no name at all next to their posts and in the members list."""
    response = register(client, display_name=name)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["field"], response.json()["code"]) == ("display_name", "blank_name")
    assert "visible" in response.json()["detail"]
    person = world.person("Visible")
    edit = client.patch("/api/v1/me", json={"display_name": name}, headers=person.auth)
    assert edit.status_code == 422, edit.text
    assert (edit.json()["field"], edit.json()["code"]) == ("display_name", "blank_name")
    me = client.get("/api/v1/me", headers=person.auth).json()
    assert me["display_name"] == "Visible"


def test_a_name_is_stored_clean_and_composed(client: TestClient, world: World) -> None:
    """Invisible characters around or inside a name are dropped, and a name typed as letters
    plus combining marks is stored composed (NFC), so "Алёна" is one spelling, not two. The
    joiners inside an emoji sequence or a word stay: they are part of what people see."""
    response = register(client, display_name=" \u200bАле\u0308на\u202e\u00a0")
    assert response.status_code == 201, response.text
    assert response.json()["display_name"] == "Алёна"
    person = world.person()
    family = "李\u200d小龙 👨\u200d👩\u200d👧"
    edit = client.patch("/api/v1/me", json={"display_name": family}, headers=person.auth)
    assert edit.status_code == 200, edit.text
    assert edit.json()["display_name"] == "李小龙 👨\u200d👩\u200d👧"


def test_a_name_longer_than_the_column_is_refused_by_the_service(db: Database) -> None:
    """The sign-up form allows 1024 characters for every field, and the column holds 80."""
    with db.transaction() as uow, pytest.raises(AppError) as caught:
        identity.register(uow, email="long@example.com", password=PASSWORD,
                          display_name="Я" * 81, locale="ru", hash_profile="fast")  # fmt: skip
    assert (caught.value.field, caught.value.code) == ("display_name", "too_long")


@pytest.mark.parametrize(
    "typed", ["li\uff20example.com", "li\uff20example\uff0ecom", "LI@EXAMPLE\u3002COM"]
)
def test_the_api_takes_an_address_typed_with_full_width_punctuation(
    client: TestClient, world: World, typed: str
) -> None:
    """The sign-up form folded "＠" and "。" into "@" and "." but the API's EmailStr refused
    "li＠example.com" as no address: the same person was let in by one door and not the
    other. Every door now normalises with identity.service.clean_email."""
    response = register(client, email=typed)
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "li@example.com"
    token = client.post("/api/v1/auth/token", json={"email": typed, "password": PASSWORD})
    assert token.status_code == 200, token.text
    assert register(client, email="li@example.com").status_code == 409
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    added = client.post(
        f"/api/v1/brands/{slug}/members",
        json={"email": typed, "roles": ["customer"]},
        headers=admin.auth,
    )
    assert added.status_code == 201, added.text
    assert added.json()["email"] == "li@example.com"


def test_one_function_normalises_and_checks_addresses() -> None:
    assert identity.clean_email("  Li\uff20Example\u3002COM ") == "li@example.com"
    with pytest.raises(AppError) as refused:
        identity.clean_email("li\uff20\uff20example.com")
    assert (refused.value.code, refused.value.field) == ("invalid_email", "email")
