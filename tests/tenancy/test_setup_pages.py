"""Setting up a new brand through the pages, as an operator and a brand admin meet it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, World


def csrf(client: TestClient) -> str:
    client.get("/login")
    token = client.cookies.get("crowdcx_csrf")
    assert token
    return token


def register(client: TestClient, email: str, name: str, locale: str) -> str:
    token = csrf(client)
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "email": email,
            "password": PASSWORD,
            "display_name": name,
            "locale": locale,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return token


def test_a_customer_who_signs_up_joins_the_brand_and_asks(client: TestClient, world: World) -> None:
    slug = world.brand(default_locale="ru", locales=["ru", "en"])
    token = register(client, "klient@example.com", "Клиент", "ru")
    home = client.get(f"/b/{slug}/")
    assert f'action="/b/{slug}/join"' in home.text  # the way in is on the brand's page
    assert "Стать клиентом" in home.text
    joined = client.post(f"/b/{slug}/join", data={"csrf_token": token}, follow_redirects=False)
    assert joined.status_code == 303
    assert client.get(f"/b/{slug}/tickets/new").status_code == 200
    again = client.post(f"/b/{slug}/join", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303  # a second click changes nothing
    home = client.get(f"/b/{slug}/")
    assert f'action="/b/{slug}/join"' not in home.text


def test_joining_by_api_gives_the_customer_role_only(client: TestClient, world: World) -> None:
    slug = world.brand()
    person = world.person()
    joined = client.post(f"/api/v1/brands/{slug}/join", headers=person.auth)
    assert joined.status_code == 201, joined.text
    assert joined.json()["roles"] == ["customer"]
    staff = world.member(slug, ["agent"])
    kept = client.post(f"/api/v1/brands/{slug}/join", headers=staff.auth)
    assert kept.status_code == 200
    assert kept.json()["roles"] == ["agent"]  # a member keeps the roles they have
    assert client.post(f"/api/v1/brands/{slug}/join").status_code == 401


def sign_in(client: TestClient, email: str) -> str:
    token = csrf(client)
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return token


def test_a_brand_admin_changes_a_members_roles_on_the_members_page(
    client: TestClient, world: World
) -> None:
    slug = world.brand(default_locale="ru", locales=["ru", "en"])
    admin = world.member(slug, ["brand_admin"])
    customer = world.member(slug, ["customer"], name="Пётр")
    token = sign_in(client, admin.email)
    client.cookies.set("crowdcx_locale", "ru")
    members = client.get(f"/b/{slug}/admin/members")
    assert f'action="/b/{slug}/admin/members/{customer.id}"' in members.text
    # Adding them again says to change their roles, and the page can.
    again = client.post(
        f"/b/{slug}/admin/members",
        data={"csrf_token": token, "email": customer.email, "roles": ["expert"]},
    )
    assert again.status_code == 409
    changed = client.post(
        f"/b/{slug}/admin/members/{customer.id}",
        data={"csrf_token": token, "roles": ["customer", "expert"]},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    listed = client.get(f"/api/v1/brands/{slug}/members", headers=admin.auth).json()["items"]
    assert {m["user_id"]: m["roles"] for m in listed}[customer.id] == ["customer", "expert"]
    # The page now lists them among the experts to configure.
    assert "Пётр" in client.get(f"/b/{slug}/admin/policy").text
    # The last brand admin cannot drop their own role; the refusal is in the page's language.
    refused = client.post(
        f"/b/{slug}/admin/members/{admin.id}",
        data={"csrf_token": token, "roles": ["agent"]},
    )
    assert refused.status_code == 409
    assert "хотя бы один администратор" in refused.text
    nothing = client.post(f"/b/{slug}/admin/members/{customer.id}", data={"csrf_token": token})
    assert nothing.status_code == 422
