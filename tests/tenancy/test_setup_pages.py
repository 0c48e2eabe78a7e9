"""Setting up a new brand through the pages, as an operator and a brand admin meet it."""

from __future__ import annotations

import re

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


def test_a_brand_admin_creates_a_community_on_the_community_page(
    client: TestClient, world: World
) -> None:
    slug = world.brand(default_locale="zh-Hant", locales=["zh-Hant", "en"])
    admin = world.member(slug, ["brand_admin"])
    token = sign_in(client, admin.email)
    client.cookies.set("crowdcx_locale", "zh-Hant")
    home = client.get(f"/b/{slug}/community")
    assert f'action="/b/{slug}/community/new"' in home.text
    # A name in Chinese with a Chinese address name: refused in the reader's language, and
    # what was typed stays in the form.
    refused = client.post(
        f"/b/{slug}/community/new",
        data={"csrf_token": token, "name": "耳機討論區", "slug": "耳機", "description": "藍牙"},
    )
    assert refused.status_code == 422
    assert "拉丁字母" in refused.text
    assert 'value="耳機討論區"' in refused.text
    made = client.post(
        f"/b/{slug}/community/new",
        data={"csrf_token": token, "name": "耳機討論區", "slug": "headphones", "description": ""},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert made.headers["location"] == f"/b/{slug}/community/c/headphones"
    assert "耳機討論區" in client.get(made.headers["location"]).text
    # A customer who joined can now ask in it.
    customer = world.member(slug, ["customer"])
    customer_client = TestClient(client.app)
    ctoken = sign_in(customer_client, customer.email)
    assert (
        f'action="/b/{slug}/community/new"' not in customer_client.get(f"/b/{slug}/community").text
    )
    asked = customer_client.post(
        f"/b/{slug}/community/ask",
        data={"csrf_token": ctoken, "community": "headphones", "title": "耳機無法配對怎麼辦",
              "body": "藍牙耳機一直連不上手機", "tags": "", "language": "zh-Hant"},
        follow_redirects=False,
    )  # fmt: skip
    assert asked.status_code == 303, asked.text
    assert (
        customer_client.post(
            f"/b/{slug}/community/new",
            data={"csrf_token": ctoken, "name": "x", "slug": "x"},
        ).status_code
        == 403
    )


def test_the_platform_admin_creates_a_brand_on_a_page(client: TestClient, world: World) -> None:
    operator = world.person(platform_admin=True)
    token = sign_in(client, operator.email)
    client.cookies.set("crowdcx_locale", "ru")
    assert 'href="/admin/brands/new"' in client.get("/").text
    form = client.get("/admin/brands/new")
    assert form.status_code == 200
    assert "Валюта" in form.text
    refused = client.post(
        "/admin/brands/new",
        data={"csrf_token": token, "slug": "нева", "name": "Нева Маркет",
              "default_locale": "ru", "locales": ["ru", "en"], "currency": "RUB",
              "timezone": "Europe/Moscow"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "латинских букв" in refused.text  # in the operator's language, next to the field
    assert 'value="Нева Маркет"' in refused.text
    made = client.post(
        "/admin/brands/new",
        data={"csrf_token": token, "slug": "neva", "name": "Нева Маркет",
              "default_locale": "ru", "locales": ["ru", "en"], "currency": "rub",
              "timezone": "Europe/Moscow"},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    assert made.headers["location"] == "/b/neva/admin/members?created=1"
    brand = client.get("/api/v1/brands/neva").json()
    assert brand["name"] == "Нева Маркет"
    assert brand["locales"] == ["ru", "en"]
    assert brand["settings"]["currency"] == "RUB"
    assert brand["settings"]["timezone"] == "Europe/Moscow"
    # Next step: make someone its brand admin, on the page the operator lands on.
    assert "администратор" in client.get(made.headers["location"]).text.lower()
    # Only the platform administrator sees and uses the form.
    other = TestClient(client.app)
    person = world.person()
    other_token = sign_in(other, person.email)
    assert 'href="/admin/brands/new"' not in other.get("/").text
    assert other.get("/admin/brands/new").status_code == 403
    assert (
        other.post(
            "/admin/brands/new",
            data={"csrf_token": other_token, "slug": "x1", "name": "X",
                  "default_locale": "en", "locales": ["en"]},
        ).status_code
        == 403
    )  # fmt: skip


def test_a_new_brands_ticket_policy_serves_the_brands_languages(
    client: TestClient, world: World
) -> None:
    """A Russian/English brand started with a policy serving all four languages: its admin
    was offered Chinese and Taiwanese Chinese for every expert."""
    slug = world.brand(default_locale="ru", locales=["ru", "en"])
    admin = world.member(slug, ["brand_admin"])
    world.member(slug, ["expert"], name="Сергей")
    policy = client.get(f"/api/v1/brands/{slug}/policy", headers=admin.auth).json()
    assert policy["languages"] == ["ru", "en"]
    sign_in(client, admin.email)
    page = client.get(f"/b/{slug}/admin/policy")
    assert 'name="languages" value="ru"' in page.text
    assert 'name="languages" value="zh-Hans"' not in page.text
    # The expert's languages are named, not coded ("ru en" read as codes to the admin).
    assert '<span lang="ru">Русский</span>' in page.text


def test_a_customer_reads_the_default_topics_in_their_language(
    client: TestClient, world: World
) -> None:
    """The ticket form offered a Chinese or Russian customer the skill codes "general",
    "orders" and "billing" as its topics."""
    slug = world.brand(default_locale="zh-Hant", locales=["zh-Hant", "ru"])
    customer = world.member(slug, ["customer"])
    sign_in(client, customer.email)
    client.cookies.set("crowdcx_locale", "zh-Hant")
    form = client.get(f"/b/{slug}/tickets/new").text
    assert '<option value="orders" >訂單與配送</option>' in form
    assert ">general<" not in form
    client.cookies.set("crowdcx_locale", "ru")
    assert ">Оплата и счета<" in client.get(f"/b/{slug}/tickets/new").text


def test_forms_of_a_brand_offer_the_languages_it_serves(client: TestClient, world: World) -> None:
    """The ask and article forms of a Russian/English brand offered Chinese too."""
    slug = world.brand(default_locale="ru", locales=["ru", "en"])
    admin = world.member(slug, ["brand_admin", "customer"])
    sign_in(client, admin.email)
    client.cookies.set("crowdcx_locale", "ru")
    for path in (f"/b/{slug}/community/ask", f"/b/{slug}/help/new"):
        form = client.get(path).text
        assert 'value="ru"' in form, path
        assert 'value="en"' in form, path
        assert 'value="zh-Hans"' not in form.split("</header>", 1)[1], path


def test_a_brand_admin_edits_the_brands_name_tagline_and_colours(
    client: TestClient, world: World
) -> None:
    """Nothing about a brand could be changed once created: its page kept an empty tagline
    and the default blue, and a misspelt name stayed."""
    slug = world.brand(default_locale="zh-Hans", locales=["zh-Hans", "en"])
    admin = world.member(slug, ["brand_admin"])
    token = sign_in(client, admin.email)
    client.cookies.set("crowdcx_locale", "zh-Hans")
    assert f'href="/b/{slug}/admin/brand"' in client.get(f"/b/{slug}/").text
    form = client.get(f"/b/{slug}/admin/brand")
    assert form.status_code == 200
    assert 'name="tagline_zh-Hans"' in form.text
    assert 'name="tagline_ru"' not in form.text  # only the brand's languages
    bad = client.post(
        f"/b/{slug}/admin/brand",
        data={"csrf_token": token, "name": "光影电子", "primary_color": "红色",
              "accent_color": "#fdeceb", "timezone": "Asia/Shanghai",
              "tagline_zh-Hans": "智能家居与耳机"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "#RRGGBB" in bad.text
    assert 'value="智能家居与耳机"' in bad.text
    saved = client.post(
        f"/b/{slug}/admin/brand",
        data={"csrf_token": token, "name": "光影电子", "primary_color": "#b3261e",
              "accent_color": "#fdeceb", "timezone": "Asia/Shanghai",
              "tagline_zh-Hans": "智能家居与耳机", "tagline_en": "Smart home"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    home = client.get(f"/b/{slug}/").text
    assert "智能家居与耳机" in home
    assert "#b3261e" in home
    brand = client.get(f"/api/v1/brands/{slug}").json()
    assert brand["name"] == "光影电子"
    assert brand["settings"]["tagline"] == {"zh-Hans": "智能家居与耳机", "en": "Smart home"}
    assert brand["settings"]["timezone"] == "Asia/Shanghai"
    assert brand["settings"]["currency"] == "USD"  # not changed here: the ledger is in it
    patched = client.patch(
        f"/api/v1/brands/{slug}", json={"settings": {"tagline": {"en": "Headphones"}}},
        headers=admin.auth,
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["settings"]["tagline"] == {"en": "Headphones"}
    assert patched.json()["name"] == "光影电子"
    customer = world.member(slug, ["customer"])
    denied = client.patch(f"/api/v1/brands/{slug}", json={"name": "X"}, headers=customer.auth)
    assert denied.status_code == 403
    currency = client.patch(
        f"/api/v1/brands/{slug}", json={"settings": {"currency": "CNY"}}, headers=admin.auth
    )
    assert currency.status_code == 422


def test_create_brand_on_the_command_line_takes_currency_and_time_zone(
    client: TestClient, database_url: str
) -> None:
    """`crowdcx create-brand` made every brand USD in UTC, and the currency cannot be changed
    afterwards: an operator following the README got a Russian brand paying in dollars."""
    from typer.testing import CliRunner

    from crowdcx.cli import app as cli

    runner = CliRunner()
    env = {"CROWDCX_DATABASE_URL": database_url}
    args = ["create-brand", "--slug", "volga2", "--name", "Волга", "--default-locale", "ru_RU",
            "--locales", "ru,en", "--currency", "rub", "--timezone", "Europe/Moscow"]  # fmt: skip
    made = runner.invoke(cli, args, env=env)
    assert made.exit_code == 0, made.output
    brand = client.get("/api/v1/brands/volga2").json()
    assert brand["settings"]["currency"] == "RUB"
    assert brand["settings"]["timezone"] == "Europe/Moscow"
    assert brand["default_locale"] == "ru"
    wrong = runner.invoke(cli, [*args[:2], "volga3", *args[3:-4], "--currency", "RUR"], env=env)
    assert wrong.exit_code != 0
    assert "RUB" in wrong.output


def test_an_invite_only_brand_refuses_self_join_and_says_how_to_get_in(
    client: TestClient, world: World
) -> None:
    """Any signed-up person could make themselves a customer of any brand: a brand serving
    only its contract customers had no way to keep strangers out."""
    slug = world.brand(default_locale="ru", locales=["ru", "en"])
    admin = world.member(slug, ["brand_admin"])
    assert client.get(f"/api/v1/brands/{slug}").json()["settings"]["membership"] == "open"
    token = sign_in(client, admin.email)
    client.cookies.set("crowdcx_locale", "ru")
    form = client.get(f"/b/{slug}/admin/brand").text
    assert 'name="membership" value="invite_only"' in form
    saved = client.post(
        f"/b/{slug}/admin/brand",
        data={"csrf_token": token, "name": "Волга", "primary_color": "#1f4b99",
              "accent_color": "#e8eefb", "timezone": "UTC", "membership": "invite_only"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    assert client.get(f"/api/v1/brands/{slug}").json()["settings"]["membership"] == "invite_only"
    assert 'value="invite_only" checked' in client.get(f"/b/{slug}/admin/brand").text
    client.cookies.clear()
    stranger = world.person(locale="ru")
    token = sign_in(client, stranger.email)
    client.cookies.set("crowdcx_locale", "ru")
    home = client.get(f"/b/{slug}/").text
    assert f'action="/b/{slug}/join"' not in home
    assert "только по приглашению" in home  # how to get in
    refused = client.post(f"/b/{slug}/join", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 403
    api = client.post(
        f"/api/v1/brands/{slug}/join", headers={**stranger.auth, "Accept-Language": "ru"}
    )
    assert api.status_code == 403
    assert api.json()["code"] == "brand_invite_only"
    assert "приглаш" in api.json()["detail"]
    staff = world.member(slug, ["agent"])  # a member is let through: nothing changes
    assert client.post(f"/api/v1/brands/{slug}/join", headers=staff.auth).status_code == 200
    patched = client.patch(
        f"/api/v1/brands/{slug}", json={"settings": {"membership": "open"}}, headers=admin.auth
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["settings"]["membership"] == "open"
    assert client.post(f"/api/v1/brands/{slug}/join", headers=stranger.auth).status_code == 201
    bad = client.patch(
        f"/api/v1/brands/{slug}", json={"settings": {"membership": "closed"}}, headers=admin.auth
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "settings.membership"
    assert bad.json()["code"] == "membership_unknown"


def test_a_brand_is_created_invite_only(client: TestClient, world: World) -> None:
    admin = world.person(platform_admin=True)
    body = {"slug": "closed", "name": "Closed", "default_locale": "en", "locales": ["en"],
            "settings": {"membership": "invite_only"}}  # fmt: skip
    created = client.post("/api/v1/brands", json=body, headers=admin.auth)
    assert created.status_code == 201, created.text
    assert created.json()["settings"]["membership"] == "invite_only"
    person = world.person()
    assert client.post("/api/v1/brands/closed/join", headers=person.auth).status_code == 403


def test_a_brand_admin_adds_and_removes_languages(client: TestClient, world: World) -> None:
    """A brand's languages were fixed at creation: a Russian brand opening in Taiwan had to
    be made again. Adding one also lets the ticket policy serve it; the default language
    cannot be removed."""
    slug = world.brand(default_locale="ru", locales=["ru"])
    admin = world.member(slug, ["brand_admin"])
    url = f"/api/v1/brands/{slug}"
    saved_policy = client.get(f"{url}/policy", headers=admin.auth).json()
    assert client.put(f"{url}/policy", json=saved_policy, headers=admin.auth).status_code == 200
    added = client.patch(url, json={"locales": ["ru", "zh_TW", "en"]}, headers=admin.auth)
    assert added.status_code == 200, added.text
    assert added.json()["locales"] == ["ru", "zh-Hant", "en"]
    policy = client.get(f"{url}/policy", headers=admin.auth).json()
    assert policy["languages"] == ["ru", "zh-Hant", "en"]  # the saved policy follows
    removed = client.patch(
        url,
        json={"locales": ["ru", "en"], "settings": {"tagline": {"zh-Hant": "耳機", "en": "x"}}},
        headers=admin.auth,
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["locales"] == ["ru", "en"]
    assert removed.json()["settings"]["tagline"] == {"en": "x"}  # no tagline for a language gone
    assert client.get(f"{url}/policy", headers=admin.auth).json()["languages"] == ["ru", "en"]
    default = client.patch(url, json={"locales": ["en"]}, headers=admin.auth)
    assert default.status_code == 422
    assert default.json()["field"] == "locales"
    assert default.json()["code"] == "default_locale_removed"
    for bad, code in ((["ru", "fr"], "locale_unknown"), (["ru", "ru"], "locales_duplicate")):
        refused = client.patch(url, json={"locales": bad}, headers=admin.auth)
        assert refused.status_code == 422, bad
        assert refused.json()["code"] == code
    # A policy cannot serve a language the brand does not (read again: the read above is
    # older than the languages' change, and its version would be refused, 409).
    policy = client.get(f"{url}/policy", headers=admin.auth).json()
    wider = client.put(
        f"{url}/policy", json={**policy, "languages": ["ru", "zh-Hans"]}, headers=admin.auth
    )
    assert wider.status_code == 422
    assert wider.json()["field"] == "languages"
    # On the settings page.
    token = sign_in(client, admin.email)
    form = client.get(f"/b/{slug}/admin/brand").text
    assert 'name="locales" value="zh-Hans"' in form
    assert re.search(r'name="locales" value="ru"[^>]*checked[^>]*disabled', form)
    saved = client.post(
        f"/b/{slug}/admin/brand",
        data={"csrf_token": token, "name": "Volga", "primary_color": "#1f4b99",
              "accent_color": "#e8eefb", "timezone": "UTC", "locales": ["en", "zh-Hans"]},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    assert client.get(url).json()["locales"] == ["zh-Hans", "ru", "en"]  # the default stays


def test_a_brand_admin_changes_the_default_language(client: TestClient, world: World) -> None:
    """A Russian brand that moves to Taiwan makes Traditional Chinese its default: the
    language of every page for readers who chose none. The new default must be served; the
    old one stays served until it is unticked."""
    slug = world.brand(default_locale="ru", locales=["ru", "en"])
    admin = world.member(slug, ["brand_admin"])
    url = f"/api/v1/brands/{slug}"
    unserved = client.patch(url, json={"default_locale": "zh-Hant"}, headers=admin.auth)
    assert unserved.status_code == 422
    assert unserved.json()["code"] == "default_locale_not_enabled"
    assert unserved.json()["field"] == "default_locale"
    unknown = client.patch(url, json={"default_locale": "fr"}, headers=admin.auth)
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "locale_unknown"
    assert client.get(url).json()["default_locale"] == "ru"  # nothing changed on refusal
    moved = client.patch(url, json={"default_locale": "en"}, headers=admin.auth)
    assert moved.status_code == 200, moved.text
    assert moved.json()["default_locale"] == "en"
    # The old default can now be removed; the new one cannot.
    dropped = client.patch(url, json={"locales": ["en"]}, headers=admin.auth)
    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["locales"] == ["en"]
    kept = client.patch(url, json={"locales": ["ru"]}, headers=admin.auth)
    assert kept.json()["code"] == "default_locale_removed"
    # Both at once: a new language made the default in one request.
    both = client.patch(
        url, json={"locales": ["en", "zh_TW"], "default_locale": "zh_TW"}, headers=admin.auth
    )
    assert both.status_code == 200, both.text
    assert (both.json()["default_locale"], both.json()["locales"]) == ("zh-Hant", ["en", "zh-Hant"])
    # A signed-out reader with no language chosen now reads the help center in it.
    client.cookies.clear()
    assert '<html lang="zh-Hant"' in client.get(f"/b/{slug}/help").text


def test_the_default_language_is_chosen_on_the_settings_page(
    client: TestClient, world: World
) -> None:
    slug = world.brand(default_locale="ru", locales=["ru"])
    admin = world.member(slug, ["brand_admin"])
    token = sign_in(client, admin.email)
    form = client.get(f"/b/{slug}/admin/brand").text
    assert re.search(r'<option value="ru" selected>', form)
    fields = {"csrf_token": token, "name": "Volga", "primary_color": "#1f4b99",
              "accent_color": "#e8eefb", "timezone": "UTC"}  # fmt: skip
    saved = client.post(
        f"/b/{slug}/admin/brand",
        data={**fields, "default_locale": "zh-Hans"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    brand = client.get(f"/api/v1/brands/{slug}", headers=admin.auth).json()
    # Choosing an unserved language adds it; the old default stays until it is unticked.
    assert (brand["default_locale"], brand["locales"]) == ("zh-Hans", ["zh-Hans", "ru"])
    page = client.get(f"/b/{slug}/admin/brand").text
    assert re.search(r'name="locales" value="zh-Hans"[^>]*checked[^>]*disabled', page)
    again = client.post(
        f"/b/{slug}/admin/brand",
        data={**fields, "default_locale": "zh-Hans", "locales": ["zh-Hans"]},
        follow_redirects=False,
    )
    assert again.status_code == 303, again.text
    assert client.get(f"/api/v1/brands/{slug}").json()["locales"] == ["zh-Hans"]
    refused = client.post(f"/b/{slug}/admin/brand", data={**fields, "default_locale": "klingon"})
    assert refused.status_code == 422
    assert 'id="e-default_locale"' in refused.text


def test_adding_a_member_by_a_mistyped_address_says_it_is_no_address(
    client: TestClient, world: World
) -> None:
    """ "li.wei" (no @, no domain) was answered "no account uses this e-mail address; ask the
    person to register first": the admin sent an invitation to sign up instead of fixing a
    typo. A malformed address is named as one (422), beside the field, in the page's
    language; the API says it the same way."""
    slug = world.brand(default_locale="zh-Hans", locales=["zh-Hans", "en"])
    admin = world.member(slug, ["brand_admin"])
    token = sign_in(client, admin.email)
    for typed in ("li.wei", "li.wei@", "li wei@example.com"):
        form = {"csrf_token": token, "email": typed, "roles": ["expert"]}
        r = client.post(f"/b/{slug}/admin/members?lang=zh-Hans", data=form)
        assert r.status_code == 422, (typed, r.status_code)
        assert "请输入有效的电子邮件地址" in r.text, typed
        assert "请先让对方注册" not in r.text
    api = client.post(f"/api/v1/brands/{slug}/members", headers=admin.auth,
                      json={"email": "li.wei", "roles": ["expert"]})  # fmt: skip
    assert api.status_code == 422, api.text
