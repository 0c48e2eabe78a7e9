"""The ticket policy's history over HTTP: every save that changes the policy — a whole save,
a skill renamed, a skill removed, the brand's languages followed — appends exactly one row
with what changed; a save that changes nothing, and a refused one, append none; only brand
admins read it, a page at a time, and the admin page says it in the reader's language."""

from __future__ import annotations

import html
from dataclasses import asdict
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.i18n import use_locale
from crowdcx.tickets.models import PolicyChangeRow
from crowdcx.tickets.policy import PolicyChange
from crowdcx.tickets.policy_history import change_lines
from tests.conftest import Person, World
from tests.tickets.test_pages import sign_in
from tests.tickets.test_policy_edit_conflict import Admins, _open_form


class Admin:
    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.slug = world.brand()
        self.admin = world.member(self.slug, ["brand_admin"], "Анна Админ")

    def url(self, path: str) -> str:
        return f"/api/v1/brands/{self.slug}{path}"

    def put(self, body: dict[str, Any], who: Person | None = None) -> Any:
        return self.client.put(self.url("/policy"), json=body, headers=(who or self.admin).auth)

    def policy(self) -> dict[str, Any]:
        r = self.client.get(self.url("/policy"), headers=self.admin.auth)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def history(self, query: str = "", who: Person | None = None) -> Any:
        return self.client.get(
            self.url(f"/policy/history{query}"), headers=(who or self.admin).auth
        )

    def items(self) -> list[dict[str, Any]]:
        r = self.history()
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items


@pytest.fixture
def desk(client: TestClient, world: World) -> Admin:
    return Admin(client, world)


def changes(entry: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    return [(c["path"], c["op"], c["before"], c["after"]) for c in entry["changes"]]


def test_a_save_writes_one_row_with_what_changed(desk: Admin) -> None:
    assert desk.items() == []
    opened = desk.policy()
    saved = desk.put({"sla": {"first_response_s": 1800}, "offer_timeout_s": 300})
    assert saved.status_code == 200, saved.text
    [entry] = desk.items()
    assert entry["kind"] == "save"
    assert entry["user_id"] == desk.admin.id
    assert entry["user_name"] == "Анна Админ"
    assert (entry["version_before"], entry["version_after"]) == (
        opened["version"],
        saved.json()["version"],
    )
    assert changes(entry) == [
        ("sla.first_response_s", "changed", 4 * 3600, 1800),
        ("offer_timeout_s", "changed", 120, 300),
    ]


def test_a_save_that_changes_nothing_writes_no_row(desk: Admin) -> None:
    assert desk.put({"offer_timeout_s": 300}).status_code == 200
    assert len(desk.items()) == 1
    assert desk.put({"offer_timeout_s": 300}).status_code == 200
    assert desk.put({}).status_code == 200
    everything = {k: v for k, v in desk.policy().items() if k != "version"}
    assert desk.put(everything).status_code == 200
    assert len(desk.items()) == 1


def test_rate_card_and_skills_are_diffed_by_name(desk: Admin) -> None:
    policy = desk.policy()
    skills = [*policy["skills"], {"name": "退款", "required_tier": 1}]
    base = {**policy["rate_card"]["base_minor"], "orders": 900, "退款": 1500}
    r = desk.put({"skills": skills, "rate_card": {"base_minor": base}})
    assert r.status_code == 200, r.text
    [entry] = desk.items()
    assert entry["kind"] == "save"
    assert changes(entry) == [
        ("skills[退款]", "added", None, {
            "name": "退款", "requires_certification": False, "required_tier": 1,
            "needs_fields": [],
        }),
        ("rate_card.base_minor[orders]", "changed", 800, 900),
        ("rate_card.base_minor[退款]", "added", None, 1500),
    ]  # fmt: skip
    assert [(c["field"], c["key"]) for c in entry["changes"]] == [
        ("skills[]", "退款"),
        ("rate_card.base_minor[]", "orders"),
        ("rate_card.base_minor[]", "退款"),
    ]


def test_a_renamed_skill_is_one_rename(desk: Admin) -> None:
    r = desk.client.post(
        desk.url("/policy/skills/rename"),
        json={"name": "billing", "new_name": "Payments"},
        headers=desk.admin.auth,
    )
    assert r.status_code == 200, r.text
    [entry] = desk.items()
    assert entry["kind"] == "rename_skill"
    assert changes(entry) == [("skills[billing]", "renamed", "billing", "Payments")]


def test_a_removed_skill_is_one_removal(desk: Admin) -> None:
    policy = desk.policy()
    skills = [s for s in policy["skills"] if s["name"] != "billing"]
    base = {k: v for k, v in policy["rate_card"]["base_minor"].items() if k != "billing"}
    r = desk.put({"skills": skills, "rate_card": {"base_minor": base}})
    assert r.status_code == 200, r.text
    [entry] = desk.items()
    assert entry["kind"] == "remove_skill"
    assert [(p, op) for p, op, _b, _a in changes(entry)] == [
        ("skills[billing]", "removed"),
        ("rate_card.base_minor[billing]", "removed"),
    ]


def test_following_the_brands_languages_is_one_row(desk: Admin) -> None:
    assert desk.put({"offer_timeout_s": 300}).status_code == 200  # a saved policy follows
    r = desk.client.patch(
        f"/api/v1/brands/{desk.slug}",
        json={"locales": ["en", "zh-Hans", "zh-Hant"]},
        headers=desk.admin.auth,
    )
    assert r.status_code == 200, r.text
    newest, _first = desk.items()
    assert newest["kind"] == "languages"
    assert newest["user_id"] == desk.admin.id
    assert changes(newest) == [
        ("languages", "changed", ["en", "ru", "zh-Hans", "zh-Hant"], ["en", "zh-Hans", "zh-Hant"])
    ]


def test_refused_saves_write_no_row(desk: Admin, client: TestClient, world: World) -> None:
    opened = desk.policy()["version"]
    assert desk.put({"offer_timeout_s": 300}).status_code == 200
    stale = desk.put({"offer_timeout_s": 600, "version": opened})
    assert (stale.status_code, stale.json()["code"]) == (409, "policy_changed")
    bad = desk.put({"sla": {"first_response_s": 60.5}})
    assert (bad.status_code, bad.json()["code"]) == (422, "not_integer")
    foreign = desk.put({"languages": ["xx"]})
    assert foreign.status_code == 422
    taken = desk.client.post(
        desk.url("/policy/skills/rename"),
        json={"name": "billing", "new_name": "orders"},
        headers=desk.admin.auth,
    )
    assert (taken.status_code, taken.json()["code"]) == (409, "skill_name_taken")
    customer = world.member(desk.slug, ["customer"])
    asked = client.post(
        desk.url("/tickets"),
        json={"subject": "Help", "body": "My invoice is wrong", "skill": "billing"},
        headers=customer.auth,
    )
    assert asked.status_code == 201, asked.text
    policy = desk.policy()
    skills = [s for s in policy["skills"] if s["name"] != "billing"]
    base = {k: v for k, v in policy["rate_card"]["base_minor"].items() if k != "billing"}
    in_use = desk.put({"skills": skills, "rate_card": {"base_minor": base}})
    assert (in_use.status_code, in_use.json()["code"]) == (409, "skill_in_use")
    assert [e["changes"][0]["after"] for e in desk.items()] == [300]


def test_only_brand_admins_read_the_history(desk: Admin, world: World) -> None:
    for roles in (["agent"], ["customer"], ["expert"]):
        other = world.member(desk.slug, roles)
        r = desk.history(who=other)
        assert r.status_code == 403, (roles, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    stranger = world.member(world.brand(), ["brand_admin"])
    assert desk.history(who=stranger).status_code in {403, 404}
    assert desk.client.get(desk.url("/policy/history")).status_code == 401


def test_history_pages_newest_first(desk: Admin) -> None:
    for timeout in (200, 300, 400):
        assert desk.put({"offer_timeout_s": timeout}).status_code == 200
    first = desk.history("?limit=2").json()
    assert [e["changes"][0]["after"] for e in first["items"]] == [400, 300]
    assert first["next_before"] == first["items"][-1]["id"]
    rest = desk.history(f"?limit=2&before={first['next_before']}").json()
    assert [e["changes"][0]["after"] for e in rest["items"]] == [200]
    assert rest["next_before"] is None
    for bad in ("?before=0", "?before=x", "?limit=0", "?limit=101", f"?before={2**63}"):
        r = desk.history(bad)
        assert r.status_code == 422, (bad, r.text)


def test_the_changes_page_says_who_and_what_in_the_readers_language(
    desk: Admin, client: TestClient, db: Database
) -> None:
    r = client.post(
        desk.url("/policy/skills/rename"),
        json={"name": "billing", "new_name": "Оплата"},
        headers=desk.admin.auth,
    )
    assert r.status_code == 200, r.text
    assert desk.put({"sla": {"first_response_s": 1800}}).status_code == 200
    sign_in(client, desk.admin)
    assert "/admin/policy/changes" in client.get(f"/b/{desk.slug}/admin/policy").text
    expected = {
        "en": ("Skill billing renamed Оплата", "First response within: 4 hr → 30 min"),
        "ru": ("Навык billing переименован в Оплата", "Первый ответ в течение: 4 ч → 30 мин"),
        "zh-Hans": ("技能 billing 改名为 Оплата", "首次回复时限：4小时 → 30分钟"),
        "zh-Hant": ("技能 billing 改名為 Оплата", "首次回覆時限：4 小時 → 30 分鐘"),
    }
    for locale, lines in expected.items():
        client.cookies.set("crowdcx_locale", locale)
        page = client.get(f"/b/{desk.slug}/admin/policy/changes")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "Анна Админ" in text
        for line in lines:
            assert line in text, (locale, line)
    with db.sessions() as session:
        assert session.query(PolicyChangeRow).count() == 2


def test_the_policy_form_writes_one_row_per_save(client: TestClient, world: World) -> None:
    """The admin form: a skill renamed on its row is one rename, a skill removed by its box
    one removal (with its rate), a form refused (422, 409) nothing."""
    admins = Admins(client, world)
    url = f"/b/{admins.slug}/admin/policy/form"
    history = f"/api/v1/brands/{admins.slug}/policy/history"

    def kinds() -> list[tuple[str, list[tuple[str, str]]]]:
        items = client.get(history, headers=admins.first.auth).json()["items"]
        return [(e["kind"], [(c["path"], c["op"]) for c in e["changes"]]) for e in items]

    saved = kinds()
    fields = _open_form(client, admins, "en")
    row = next(k.split(".")[1] for k, v in fields.items() if k.endswith(".name") and v == "orders")
    renamed = client.post(
        url, data=fields | {f"skills.{row}.name": "Заказы"}, follow_redirects=False
    )
    assert renamed.status_code == 303, renamed.text
    assert kinds()[0] == ("rename_skill", [("skills[orders]", "renamed")])
    fields = _open_form(client, admins, "ru")
    row = next(k.split(".")[1] for k, v in fields.items() if k.endswith(".name") and v == "billing")
    refused = client.post(url, data=fields | {"max_concurrent": "0"}, follow_redirects=False)
    assert refused.status_code == 422
    removed = client.post(url, data=fields | {f"skills.{row}.remove": "1"}, follow_redirects=False)
    assert removed.status_code == 303, removed.text
    assert kinds()[0] == (
        "remove_skill",
        [("skills[billing]", "removed"), ("rate_card.base_minor[billing]", "removed")],
    )
    stale = client.post(url, data=fields | {"offer_timeout_s": "300"}, follow_redirects=False)
    assert stale.status_code == 409
    assert len(kinds()) == len(saved) + 2
    page = html.unescape(client.get(f"/b/{admins.slug}/admin/policy/changes").text)
    assert "Навык orders переименован в Заказы" in page
    assert "Удалён навык billing" in page
    assert "Ann" in page


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", ["Base amount per skill (退款): — → CN¥15.00",
                "Skill general: Only certified experts: not ticked → ticked",
                "Tier 3 added: Phone, Address",
                "First response within: 4 hr → 1.5 hr (90 min)"]),
        ("ru", ["Базовая сумма по навыкам (退款): — → 15,00\xa0CN¥",
                "Навык general: Только сертифицированные эксперты: не отмечено → отмечено",
                "Уровень 3 добавлен: Телефон, Адрес",
                "Первый ответ в течение: 4 ч → 1,5 ч (90 мин)"]),
        ("zh-Hans", ["各技能的基础金额（退款）：— → ¥15.00",
                     "技能 general：仅限已认证的专家：未勾选 → 已勾选",
                     "已添加等级 3：电话、地址",
                     "首次回复时限：4小时 → 1.5小时（90分钟）"]),
        ("zh-Hant", ["各技能的基本金額（退款）：— → CN¥15.00",
                     "技能 general：僅限已認證的專家：未勾選 → 已勾選",
                     "已新增等級 3：電話、地址",
                     "首次回覆時限：4 小時 → 1.5 小時（90 分鐘）"]),
    ],
)  # fmt: skip
def test_changes_read_as_the_reader_writes(locale: str, expected: list[str]) -> None:
    changes = [
        PolicyChange("rate_card.base_minor[退款]", "added", None, 1500,
                     "rate_card.base_minor[]", "退款"),
        PolicyChange("skills[general].requires_certification", "changed", False, True,
                     "skills[].requires_certification", "general"),
        PolicyChange("tiers[3]", "added", None, {"tier": 3, "unmasked": ["phone", "address"]},
                     "tiers[]", "3"),
        PolicyChange("sla.first_response_s", "changed", 14400, 5400, "sla.first_response_s"),
    ]  # fmt: skip
    with use_locale(locale):
        assert change_lines([asdict(c) for c in changes], "CNY") == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", ["Business hours: — → Mon 09:00–18:00, Sat 10:00–14:30 (Europe/Moscow)",
                "Business hours: Mon 09:00–18:00 → Mon 08:00–18:00",
                "Scorecard (Tone): 15 → 30",
                "First response within: 4 hr → 30 min"]),
        ("ru", ["Рабочие часы: — → пн 09:00–18:00, сб 10:00–14:30 (Europe/Moscow)",
                "Рабочие часы: пн 09:00–18:00 → пн 08:00–18:00",
                "Оценочный лист (Тон): 15 → 30",
                "Первый ответ в течение: 4 ч → 30 мин"]),
        ("zh-Hans", ["营业时间：— → 周一 09:00–18:00、周六 10:00–14:30（Europe/Moscow）",
                     "营业时间：周一 09:00–18:00 → 周一 08:00–18:00",
                     "评分表（语气）：15 → 30",
                     "首次回复时限：4小时 → 30分钟"]),
        ("zh-Hant", ["營業時間：— → 週一 09:00–18:00、週六 10:00–14:30（Europe/Moscow）",
                     "營業時間：週一 09:00–18:00 → 週一 08:00–18:00",
                     "評分表（語氣）：15 → 30",
                     "首次回覆時限：4 小時 → 30 分鐘"]),
    ],
)  # fmt: skip
def test_hours_and_weights_read_as_the_reader_writes(locale: str, expected: list[str]) -> None:
    """Business hours read as JSON and a scorecard weight by its code (first page review);
    a whole number of minutes was said twice ("30 min (30 min)")."""
    monday = {"weekday": 0, "start": "09:00:00", "end": "18:00:00"}
    hours = {
        "timezone": "Europe/Moscow",
        "windows": [monday, {"weekday": 5, "start": "10:00:00", "end": "14:30:00"}],
    }
    changes = [
        PolicyChange("sla.business_hours", "added", None, hours, "sla.business_hours"),
        PolicyChange("sla.business_hours.windows", "changed", [monday],
                     [{**monday, "start": "08:00:00"}], "sla.business_hours.windows"),
        PolicyChange("quality.weights[tone]", "changed", 15, 30, "quality.weights[]", "tone"),
        PolicyChange("sla.first_response_s", "changed", 14400, 1800, "sla.first_response_s"),
    ]  # fmt: skip
    with use_locale(locale):
        assert change_lines([asdict(c) for c in changes], "RUB") == expected


def test_the_history_page_names_the_policy_as_the_policy_page_does(
    client: TestClient, desk: Admin
) -> None:
    """The policy page is 工单策略 / 工單策略; its history said 工单政策变更记录 and 已保存政策
    — another word, as if it were another thing."""
    body = desk.policy()
    body["sla"]["first_response_s"] = 1800
    assert desk.put(body).status_code == 200
    sign_in(client, desk.admin)
    for lang, title in (("zh-Hans", "工单策略变更记录"), ("zh-Hant", "工單策略變更紀錄")):
        page = client.get(f"/b/{desk.slug}/admin/policy/changes?lang={lang}").text
        assert title in page, lang
        assert "政策" not in page, lang
        form = client.get(f"/b/{desk.slug}/admin/policy?lang={lang}").text
        assert "政策" not in form, lang
