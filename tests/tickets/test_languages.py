"""A ticket written in a language the brand does not serve: nobody could take it, and staff
got it only when the SLA ran out. It now goes straight to the staff queue with a note."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.tickets import rules
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in


def russian_desk(client: TestClient, world: World) -> Desk:
    """A brand serving Russian and English, with one Russian-speaking expert online."""
    desk = Desk.__new__(Desk)
    desk.client = client
    desk.slug = world.brand(default_locale="ru", locales=["ru", "en"])
    desk.admin = world.member(desk.slug, ["brand_admin"])
    desk.customer = world.member(desk.slug, ["customer"], "Ли Вэй")
    desk.agent = world.member(desk.slug, ["agent"], "Оператор")
    expert = world.member(desk.slug, ["expert"], "Сергей")
    body = {"skills": {"general": 5}, "languages": ["ru", "en"], "tier": 0, "certifications": []}
    assert desk.put(f"/experts/{expert.id}", body, desk.admin).status_code == 200
    desk.experts = [expert]
    desk.online(expert)
    return desk


def test_a_ticket_in_a_language_the_brand_does_not_serve_goes_straight_to_staff(
    client: TestClient, world: World
) -> None:
    desk = russian_desk(client, world)
    asked = desk.post(
        "/tickets",
        desk.customer,
        {"subject": "耳机无法连接蓝牙", "body": "我的耳机昨天开始连不上手机的蓝牙。",
         "skill": "general"},
    )  # fmt: skip
    assert asked.status_code == 201, asked.text  # the inquiry is not lost
    ticket = asked.json()
    assert ticket["language"] == "zh-Hans"
    assert ticket["status"] == "escalated"
    assert ticket["escalated"] is True
    assert "сотрудникам бренда" in ticket["note"]  # the brand default language: ru
    queue = desk.get("/tickets?status=escalated", desk.agent).json()["items"]
    assert [t["id"] for t in queue] == [ticket["id"]]
    assert desk.get("/offers", desk.experts[0]).json() == []
    # The customer's page says why; staff see the reason in their queue, in words.
    sign_in(client, desk.customer)
    client.cookies.set("crowdcx_locale", "zh-Hans")
    page = client.get(f"/b/{desk.slug}/tickets/{ticket['id']}").text
    assert "品牌员工" in page
    sign_in(client, desk.agent)
    client.cookies.set("crowdcx_locale", "ru")
    staff = client.get(f"/b/{desk.slug}/staff").text
    assert "language_not_served" not in staff
    assert "не обслуживает" in staff
    # A language the brand serves is routed as before.
    served = desk.post(
        "/tickets",
        desk.customer,
        {"subject": "Наушники не подключаются", "body": "Со вчерашнего дня не видят телефон.",
         "skill": "general"},
    )  # fmt: skip
    assert served.json()["status"] == "offered", served.text
    assert served.json()["note"] is None


def test_chinese_in_the_other_script_is_served_by_the_brands_chinese(
    client: TestClient, world: World
) -> None:
    """A Traditional-script message to a brand serving Simplified Chinese is no foreign
    language: its Chinese-speaking experts read it."""
    desk = Desk(client, world, experts=1)  # zh-Hans and en experts
    policy = desk.get("/policy", desk.admin).json()
    changed = desk.put("/policy", {**policy, "languages": ["zh-Hans", "en"]}, desk.admin)
    assert changed.status_code == 200, changed.text
    desk.online(desk.experts[0])
    ticket = desk.ask(subject="耳機無法連接藍牙", body="我的耳機昨天開始連不上手機的藍牙。")
    assert ticket["language"] == "zh-Hans"
    assert ticket["status"] == "offered"


def test_served_language_rule() -> None:
    assert rules.served_language("ru", ("ru", "en")) == "ru"
    assert rules.served_language("zh-Hant", ("zh-Hans",)) == "zh-Hans"
    assert rules.served_language("zh-Hans", ("ru", "zh-Hant")) == "zh-Hant"
    assert rules.served_language("zh-Hans", ("zh-Hant", "zh-Hans")) == "zh-Hans"
    assert rules.served_language("zh-Hans", ("ru", "en")) is None
    assert rules.served_language("en", ("ru",)) is None
