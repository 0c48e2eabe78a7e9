"""Brands and members through the API, including every role boundary and tenant isolation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Person, World

BRAND = {
    "slug": "acme",
    "name": "Acme 阿克米",
    "default_locale": "zh-Hans",
    "locales": ["zh-Hans", "en"],
}


def test_platform_admin_creates_a_brand_anyone_can_read(client: TestClient, world: World) -> None:
    admin = world.person(platform_admin=True)
    created = client.post("/api/v1/brands", json=BRAND, headers=admin.auth)
    assert created.status_code == 201, created.text
    assert created.json()["settings"]["primary_color"].startswith("#")
    fetched = client.get("/api/v1/brands/acme")
    assert fetched.status_code == 200
    assert fetched.json()["name"] == "Acme 阿克米"


def test_only_platform_admins_create_brands(client: TestClient, world: World) -> None:
    person = world.person()
    response = client.post("/api/v1/brands", json=BRAND, headers=person.auth)
    assert response.status_code == 403
    assert response.json()["code"] == "platform_admin_required"
    assert client.post("/api/v1/brands", json=BRAND).status_code == 401


def test_brand_input_is_validated(client: TestClient, world: World) -> None:
    admin = world.person(platform_admin=True)
    cases = [
        ({**BRAND, "slug": "Bad Slug"}, "slug"),
        ({**BRAND, "slug": "admin"}, "slug"),
        ({**BRAND, "default_locale": "fr"}, "default_locale"),
        ({**BRAND, "locales": ["zh-Hans", "xx"]}, "locales"),
        ({**BRAND, "default_locale": "ru"}, "default_locale"),
        ({**BRAND, "settings": {"primary_color": "red"}}, "settings.primary_color"),
        ({**BRAND, "settings": {"currency": "R$1"}}, "settings.currency"),
        ({**BRAND, "settings": {"currency": "руб"}}, "settings.currency"),
        ({**BRAND, "settings": {"currency": "US"}}, "settings.currency"),
        ({**BRAND, "settings": {"timezone": "Mars/Olympus"}}, "settings.timezone"),
        ({**BRAND, "colour": "#ffffff"}, "colour"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/brands", json=body, headers=admin.auth)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, response.json()
    assert client.post("/api/v1/brands", json=BRAND, headers=admin.auth).status_code == 201
    again = client.post("/api/v1/brands", json=BRAND, headers=admin.auth)
    assert again.status_code == 409
    assert again.json()["code"] == "slug_taken"


def test_a_lower_case_currency_is_stored_upper_case_and_tickets_come_in(
    client: TestClient, world: World
) -> None:
    """ "rub" was stored as given: the ledger's Money refuses it, so every ticket was a 500."""
    admin = world.person(platform_admin=True)
    body = {"slug": "rub-shop", "name": "Rub Shop", "default_locale": "ru", "locales": ["ru"],
            "settings": {"currency": "rub", "timezone": "Europe/Moscow"}}  # fmt: skip
    made = client.post("/api/v1/brands", json=body, headers=admin.auth)
    assert made.status_code == 201, made.text
    assert made.json()["settings"]["currency"] == "RUB"
    customer = world.member("rub-shop", ["customer"], "Иван Петров")
    ticket = client.post(
        "/api/v1/brands/rub-shop/tickets",
        json={"subject": "Не работает", "body": "Заказ не пришёл", "skill": "general"},
        headers=customer.auth,
    )
    assert ticket.status_code == 201, ticket.text
    assert ticket.json()["currency"] == "RUB"


def test_a_currency_that_is_no_iso_code_is_refused_with_the_code_meant(
    client: TestClient, world: World
) -> None:
    """ "RMB" and "NTD", what people write for yuan and Taiwan dollars, were stored: tickets
    were priced and experts paid in a currency no bank knows."""
    admin = world.person(platform_admin=True)
    body = {"slug": "tw-shop", "name": "台灣小舖", "default_locale": "zh-Hant",
            "locales": ["zh-Hant"], "settings": {"currency": "NTD"}}  # fmt: skip
    refused = client.post(
        "/api/v1/brands", json=body, headers={**admin.auth, "Accept-Language": "zh-Hant"}
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["code"], problem["field"]) == ("currency_unknown", "settings.currency")
    assert "TWD" in problem["detail"]
    assert "NTD" in problem["detail"]
    assert "貨幣" in problem["detail"]
    made_up = client.post(
        "/api/v1/brands",
        json={**body, "settings": {"currency": "XYZ"}},
        headers={**admin.auth, "Accept-Language": "ru"},
    )
    assert made_up.status_code == 422
    assert made_up.json()["code"] == "currency_unknown"
    assert "ISO 4217" in made_up.json()["detail"]
    body["settings"] = {"currency": "twd"}
    assert client.post("/api/v1/brands", json=body, headers=admin.auth).status_code == 201


def test_brand_languages_are_taken_in_their_common_spellings(
    client: TestClient, world: World
) -> None:
    """The conventions promise zh_TW or ru-RU are accepted and normalised; a brand refused
    them as unknown languages."""
    admin = world.person(platform_admin=True)
    body = {"slug": "tw-shop", "name": "台灣小舖", "default_locale": "zh_TW",
            "locales": ["zh-tw", "en-US"]}  # fmt: skip
    made = client.post("/api/v1/brands", json=body, headers=admin.auth)
    assert made.status_code == 201, made.text
    assert (made.json()["default_locale"], made.json()["locales"]) == ("zh-Hant", ["zh-Hant", "en"])
    twice = {**body, "slug": "tw-shop-2", "locales": ["zh-Hant", "zh_TW"]}
    again = client.post("/api/v1/brands", json=twice, headers=admin.auth)
    assert (again.status_code, again.json()["code"]) == (422, "locales_duplicate")
    unknown = {**body, "slug": "de-shop", "locales": ["de-DE"], "default_locale": "de"}
    refused = client.post("/api/v1/brands", json=unknown, headers=admin.auth)
    assert (refused.status_code, refused.json()["code"]) == (422, "locale_unknown")


def test_brand_and_community_names_are_cleaned_like_peoples_names(
    client: TestClient, world: World
) -> None:
    """A brand named with zero-width spaces only was created (a blank card on the start
    page), and a bidi override in a name reversed the text after it wherever it showed."""
    admin = world.person(platform_admin=True)
    headers = {**admin.auth, "Accept-Language": "ru"}
    body = {"slug": "zw", "name": "\u200b\u200b", "default_locale": "ru", "locales": ["ru"]}
    blank = client.post("/api/v1/brands", json=body, headers=headers)
    assert (blank.status_code, blank.json()["code"]) == (422, "blank_name")
    assert blank.json()["field"] == "name"
    body["name"] = "Нева\u202e Маркет\u200b"
    made = client.post("/api/v1/brands", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Нева Маркет"
    community = {"slug": "main", "name": "\u200b\u3164"}
    refused = client.post("/api/v1/brands/zw/communities", json=community, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (422, "blank_name")
    community["name"] = "Общий\u202e раздел"
    made = client.post("/api/v1/brands/zw/communities", json=community, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Общий раздел"


def test_unknown_brand_is_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/brands/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "brand_not_found"
    assert response.headers["content-type"] == "application/problem+json"


def test_brand_admin_adds_members_and_changes_roles(client: TestClient, world: World) -> None:
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    newcomer = world.person()
    added = client.post(
        f"/api/v1/brands/{slug}/members",
        json={"email": newcomer.email, "roles": ["expert"]},
        headers=admin.auth,
    )
    assert added.status_code == 201, added.text
    assert added.json()["roles"] == ["expert"]
    duplicate = client.post(
        f"/api/v1/brands/{slug}/members",
        json={"email": newcomer.email, "roles": ["helper"]},
        headers=admin.auth,
    )
    assert duplicate.status_code == 409
    changed = client.put(
        f"/api/v1/brands/{slug}/members/{newcomer.id}",
        json={"roles": ["agent", "helper"]},
        headers=admin.auth,
    )
    assert changed.status_code == 200
    assert changed.json()["roles"] == ["agent", "helper"]
    me = client.get("/api/v1/me", headers=newcomer.auth).json()
    assert me["memberships"][0]["roles"] == ["agent", "helper"]


def test_a_brand_keeps_at_least_one_brand_admin(client: TestClient, world: World) -> None:
    """The only brand admin could take the role from themselves (a slip of the roles form),
    and then nobody but a platform admin could manage the brand again."""
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])

    def put(who: Person, target: Person, roles: list[str]) -> Any:
        return client.put(
            f"/api/v1/brands/{slug}/members/{target.id}", json={"roles": roles}, headers=who.auth
        )

    refused = put(admin, admin, ["agent"])
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "last_brand_admin"
    assert put(admin, admin, ["brand_admin", "agent"]).status_code == 200
    second = world.member(slug, ["agent"])
    assert put(admin, second, ["brand_admin"]).status_code == 200
    assert put(second, admin, ["agent"]).status_code == 200
    assert put(second, second, ["customer"]).json()["code"] == "last_brand_admin"


def test_member_input_errors(client: TestClient, world: World) -> None:
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    unknown_role = client.post(
        f"/api/v1/brands/{slug}/members",
        json={"email": admin.email, "roles": ["king"]},
        headers=admin.auth,
    )
    assert unknown_role.status_code == 422
    assert unknown_role.json()["field"] == "roles"
    nobody = client.post(
        f"/api/v1/brands/{slug}/members",
        json={"email": "ghost@example.com", "roles": ["expert"]},
        headers=admin.auth,
    )
    assert nobody.status_code == 404
    assert nobody.json()["field"] == "email"


def test_roles_other_than_brand_admin_cannot_manage_members(
    client: TestClient, world: World
) -> None:
    slug = world.brand()
    for role in ("customer", "helper", "expert", "agent"):
        person = world.member(slug, [role])
        response = client.post(
            f"/api/v1/brands/{slug}/members",
            json={"email": person.email, "roles": ["expert"]},
            headers=person.auth,
        )
        assert response.status_code == 403, role
        assert client.get(f"/api/v1/brands/{slug}/members", headers=person.auth).status_code == 403


def test_a_brand_admin_has_no_power_in_another_brand(client: TestClient, world: World) -> None:
    mine = world.brand()
    theirs = world.brand()
    admin = world.member(mine, ["brand_admin"])
    target = world.member(theirs, ["customer"])
    response = client.put(
        f"/api/v1/brands/{theirs}/members/{target.id}",
        json={"roles": ["agent"]},
        headers=admin.auth,
    )
    assert response.status_code == 403
    # A member of another brand addressed through my brand does not exist here: 404.
    hidden = client.put(
        f"/api/v1/brands/{mine}/members/{target.id}", json={"roles": ["agent"]}, headers=admin.auth
    )
    assert hidden.status_code == 404


def test_members_paginate_with_cursors(client: TestClient, world: World) -> None:
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    for _ in range(4):
        world.member(slug, ["customer"])
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(
            f"/api/v1/brands/{slug}/members", params=params, headers=admin.auth
        ).json()
        seen.extend(m["user_id"] for m in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5
    assert len(set(seen)) == 5
    bad = client.get(
        f"/api/v1/brands/{slug}/members", params={"cursor": "garbage!"}, headers=admin.auth
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "cursor"


def test_brands_list_paginates(client: TestClient, world: World) -> None:
    for _ in range(3):
        world.brand()
    first = client.get("/api/v1/brands", params={"limit": 2}).json()
    assert len(first["items"]) == 2
    second = client.get(
        "/api/v1/brands", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
