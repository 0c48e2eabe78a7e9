"""The knowledge base and its search through HTTP: the review workflow, visibility inside
search, import/export, feedback, deflection events and the intake suggestions."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from tests.conftest import Person, World
from tests.knowledge.test_rules import UNREADABLE


class Kb:
    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.slug = world.brand(
            default_locale="zh-Hans", locales=["zh-Hans", "zh-Hant", "ru", "en"]
        )
        self.author = world.member(self.slug, ["agent"], "作者")
        self.reviewer = world.member(self.slug, ["brand_admin"], "审核")
        self.expert = world.member(self.slug, ["expert"], "专家")
        self.customer = world.member(self.slug, ["customer"], "顾客")

    def url(self, path: str) -> str:
        return f"/api/v1/brands/{self.slug}{path}"

    def post(self, path: str, who: Person | None, body: Any = None) -> Any:
        return self.client.post(self.url(path), json=body, headers=who.auth if who else {})

    def get(self, path: str, who: Person | None = None, **params: Any) -> Any:
        return self.client.get(self.url(path), params=params, headers=who.auth if who else {})

    def write(self, title: str, body: str, language: str = "zh-Hans", **extra: Any) -> int:
        r = self.post(
            "/articles", self.author, {"title": title, "body": body, "language": language, **extra}
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def publish(self, article_id: int) -> dict[str, Any]:
        assert self.post(f"/articles/{article_id}/submit", self.author).status_code == 200
        assert self.post(f"/articles/{article_id}/approve", self.reviewer).status_code == 200
        r = self.post(f"/articles/{article_id}/publish", self.reviewer)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def seed(self) -> None:
        """Other published articles, as any help center has (the out-of-scope confidence
        compares a query's evidence with the brand's corpus; one lone article is no corpus)."""
        for title, body, lang in [
            ("如何申请退货和退款？", "签收后 7 天内可无理由退货，在我的订单中申请。", "zh-Hans"),
            ("智能灯泡恢复出厂设置", "连续开关电源 5 次，灯泡闪烁三次即已重置。", "zh-Hans"),
            ("发票怎么开？", "在订单详情页点击申请发票，填写抬头和税号。", "zh-Hans"),
            ("配送需要多久？", "一般 2 到 3 天送达，偏远地区 5 天左右。", "zh-Hans"),
            ("會員積分如何使用？", "積分可在結帳時抵扣現金，100 積分抵 1 元。", "zh-Hant"),
            ("Change your delivery address", "Open the order and edit the address.", "en"),
            ("Как сменить тариф", "В приложении откройте раздел «Тарифы».", "ru"),
            ("Warranty period", "Every device has a two-year warranty.", "en"),
        ]:
            self.publish(self.write(title, body, lang))

    def import_file(
        self, who: Person, data: bytes, name: str = "faq.csv", mime: str = "text/csv",
        publish: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """Upload a FAQ (answered 202 at once), run the import jobs as the server's worker
        would, and return the job's summary."""
        from crowdcx.knowledge import jobs

        r = self.client.post(
            self.url("/imports"), files={"file": (name, data, mime)},
            data={"publish": "true"} if publish else {}, headers=who.auth,
        )  # fmt: skip
        assert r.status_code == 202, r.text
        jobs.run_pending(self.client.app.state.db)  # type: ignore[attr-defined]
        job = self.client.get(r.headers["location"], headers=who.auth)
        assert job.status_code == 200, job.text
        assert job.json()["state"] == "done", job.json()
        return dict(job.json()["summary"])

    def search(self, q: str, who: Person | None = None, **params: Any) -> dict[str, Any]:
        r = self.get("/search", who, q=q, **params)
        assert r.status_code == 200, r.text
        return dict(r.json())


def test_workflow_author_cannot_approve_and_publish_makes_it_findable(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    aid = kb.write(
        "耳机无法连接蓝牙怎么办？", "长按充电盒按钮 10 秒，然后重新配对蓝牙。", tags=["蓝牙"]
    )
    assert kb.search("蓝牙 配对", kb.customer)["results"] == []  # a draft is not findable
    assert kb.post(f"/articles/{aid}/submit", kb.author).status_code == 200
    own = kb.post(f"/articles/{aid}/approve", kb.author)
    assert own.status_code in (403, 409)
    assert own.headers["content-type"].startswith("application/problem+json")
    assert kb.post(f"/articles/{aid}/publish", kb.reviewer).status_code == 409  # not approved
    assert kb.post(f"/articles/{aid}/approve", kb.reviewer).status_code == 200
    r = kb.post(f"/articles/{aid}/publish", kb.reviewer)
    assert r.status_code == 200
    assert r.json()["state"] == "published"
    assert r.json()["live"]["version"] == 1
    found = kb.search("蓝牙连不上", kb.customer)
    assert [x["id"] for x in found["results"]] == [str(aid)]
    assert "<mark>" in found["results"][0]["snippet"]
    # Either script finds it.
    assert kb.search("藍牙", None)["results"][0]["id"] == str(aid)


def test_live_copy_stays_while_the_next_revision_is_reviewed(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    aid = kb.write("Reset the smart bulb", "Switch the power on and off five times.", "en")
    kb.publish(aid)
    r = client.patch(
        kb.url(f"/articles/{aid}"),
        json={"body": "Switch the power on and off six times, then re-add it in the app."},
        headers=kb.author.auth,
    )
    assert r.status_code == 200
    assert r.json()["state"] == "draft"
    assert r.json()["version"] == 2
    reader = kb.get(f"/articles/{aid}", kb.customer).json()
    assert "five times" in reader["body"]
    assert reader["version"] == 1
    assert kb.search("re-add app", kb.customer)["results"] == []
    diff = kb.get(f"/articles/{aid}/diff", kb.author, **{"from": 1, "to": 2}).json()["diff"]
    assert "-Switch the power on and off five times." in diff
    assert "+Switch" in diff
    kb.publish(aid)
    assert kb.search("re-add app", kb.customer)["results"][0]["id"] == str(aid)


def test_customers_never_see_restricted_articles_in_search(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    public = kb.write("Roaming prices", "Roaming costs less with the travel bundle.", "en")
    experts = kb.write(
        "Firmware downgrade secret", "Roaming firmware downgrade for experts only.", "en",
        visibility="experts",
    )  # fmt: skip
    staff = kb.write(
        "Manual SIM block", "Roaming SIM block after passport check, staff only.", "en",
        visibility="staff",
    )  # fmt: skip
    for aid in (public, experts, staff):
        kb.publish(aid)

    def ids(who: Person | None) -> set[str]:
        return {r["id"] for r in kb.search("roaming", who, limit=50)["results"]}

    assert ids(None) == ids(kb.customer) == {str(public)}
    assert ids(kb.expert) == {str(public), str(experts)}
    assert ids(kb.reviewer) == {str(public), str(experts), str(staff)}
    # No snippet, title or count leaks: a query only the restricted text matches is empty.
    hidden = kb.search("passport firmware", kb.customer)
    assert hidden["results"] == []
    assert hidden["out_of_scope"] is True
    assert "passport" not in str(hidden)
    assert kb.get(f"/articles/{staff}", kb.customer).status_code == 404
    assert kb.get(f"/articles/{experts}", kb.expert).status_code == 200
    listed = {a["id"] for a in kb.get("/articles", kb.customer, limit=100).json()["items"]}
    assert listed == {public}


STAFF_TITLE = "内部：退款审批的员工流程"


def test_experts_get_no_staff_article_through_any_path(client: TestClient, world: World) -> None:
    """Experts are default authors; writing does not lift what they may read. A staff-only
    article (live or draft) reaches them neither by id, list, tag, export, translations,
    versions nor diff."""
    kb = Kb(client, world)
    staff = kb.write(
        STAFF_TITLE, "仅限员工：超过 500 元的退款需主管批准。", visibility="staff", tags=["退款"]
    )
    kb.publish(staff)
    draft = kb.write(
        "内部：尚未发布的员工草稿", "员工草稿正文。", visibility="staff", tags=["退款"]
    )
    public = kb.write(
        "如何申請退款？", "在我的訂單中申請退款。", "zh-Hant", tags=["退款"], translation_of=staff
    )
    kb.publish(public)
    assert str(staff) not in {
        r["id"] for r in kb.search("退款审批", kb.expert, kind="article")["results"]
    }
    for aid in (staff, draft):
        assert kb.get(f"/articles/{aid}", kb.expert).status_code == 404
        assert kb.get(f"/articles/{aid}/versions", kb.expert).status_code == 404
        assert kb.get(f"/articles/{aid}/diff", kb.expert, **{"from": 1, "to": 1}).status_code == 404
    for params, expected in [
        ({}, [public]),
        ({"tag": "退款"}, [public]),
        ({"state": "draft"}, []),
        ({"lang": "zh-Hans"}, []),
    ]:
        items = kb.get("/articles", kb.expert, limit=100, **params).json()["items"]
        assert [a["id"] for a in items] == expected, params
    seen = kb.get(f"/articles/{public}", kb.expert).json()
    assert seen["translations"] == {}  # the staff original is not a variant experts see
    export = kb.get("/exports/faq.csv", kb.expert)
    assert export.status_code == 200
    assert STAFF_TITLE not in export.text
    assert "员工草稿" not in export.text
    assert "如何申請退款？" in export.text
    # Staff see all of it.
    listed = {a["id"] for a in kb.get("/articles", kb.reviewer, tag="退款").json()["items"]}
    assert listed == {staff, draft, public}
    assert kb.get(f"/articles/{public}", kb.reviewer).json()["translations"] == {"zh-Hans": staff}
    assert STAFF_TITLE in kb.get("/exports/faq.csv", kb.reviewer).text


def test_writers_cannot_write_above_their_reading_level(client: TestClient, world: World) -> None:
    kb = Kb(client, world)
    article = {"title": "固件降级", "body": "仅限专家。", "language": "zh-Hans"}
    r = kb.post("/articles", kb.expert, {**article, "visibility": "staff"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (r.json()["code"], r.json()["field"]) == ("visibility_not_allowed", "visibility")
    r = kb.post("/articles", kb.expert, {**article, "visibility": "experts"})
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    r = client.patch(
        kb.url(f"/articles/{aid}"), json={"visibility": "staff"}, headers=kb.expert.auth
    )
    assert r.status_code == 422
    assert r.json()["code"] == "visibility_not_allowed"
    assert kb.get(f"/articles/{aid}", kb.expert).json()["visibility"] == "experts"
    # A reviewer raises the expert's draft to staff: it leaves the expert's sight.
    r = client.patch(
        kb.url(f"/articles/{aid}"), json={"visibility": "staff"}, headers=kb.reviewer.auth
    )
    assert r.status_code == 200
    assert kb.get(f"/articles/{aid}", kb.expert).status_code == 404
    assert kb.post(f"/articles/{aid}/submit", kb.expert).status_code == 404
    # An import skips the rows above the importer's level.
    summary = kb.import_file(kb.expert, CSV.encode())
    assert summary["imported"] == 3
    assert "visibility_not_allowed" in [p["code"] for p in summary["problems"]]


def test_a_restricted_revision_leaves_experts_only_the_live_copy(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    aid = kb.write("Roaming in Europe", "Roaming is free in the EU.", "en", tags=["roaming"])
    kb.publish(aid)
    r = client.patch(
        kb.url(f"/articles/{aid}"),
        json={"body": "Internal: waive roaming fees up to 50 EUR.", "visibility": "staff",
              "tags": ["waiver"]},
        headers=kb.reviewer.auth,
    )  # fmt: skip
    assert r.status_code == 200
    seen = kb.get(f"/articles/{aid}", kb.expert).json()
    assert seen["state"] == "published"
    assert seen["version"] == 1
    assert seen["body"] == "Roaming is free in the EU."
    assert seen["allowed_actions"] == []
    assert "Internal" not in str(seen)
    assert "waiver" not in str(seen)
    assert kb.get(f"/articles/{aid}/versions", kb.expert).status_code == 403
    assert kb.get(f"/articles/{aid}/diff", kb.expert, **{"from": 1, "to": 2}).status_code == 403
    edit = client.patch(kb.url(f"/articles/{aid}"), json={"body": "x"}, headers=kb.expert.auth)
    assert edit.status_code == 403
    assert [a["id"] for a in kb.get("/articles", kb.expert).json()["items"]] == [aid]
    assert kb.get("/articles", kb.expert, state="draft").json()["items"] == []
    assert kb.get("/articles", kb.reviewer, state="draft").json()["items"][0]["id"] == aid


def test_nobody_approves_text_they_wrote(client: TestClient, world: World) -> None:
    """The approver differs from whoever wrote the revision under review: a reviewer who
    rewrote someone's draft does not approve it, nor does the draft's author."""
    kb = Kb(client, world)
    aid = kb.write("退货政策", "签收后 7 天内可退货。")
    r = client.patch(
        kb.url(f"/articles/{aid}"), json={"body": "签收后 90 天内可退货，运费由公司承担。"},
        headers=kb.reviewer.auth,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert kb.post(f"/articles/{aid}/submit", kb.reviewer).status_code == 200
    assert "approve" not in kb.get(f"/articles/{aid}", kb.reviewer).json()["allowed_actions"]
    for who in (kb.reviewer, kb.author):
        r = kb.post(f"/articles/{aid}/approve", who)
        assert r.status_code == 409, r.json()
        assert r.json()["code"] == "own_article"
    other = world.member(kb.slug, ["agent"], "另一位审核")
    assert kb.post(f"/articles/{aid}/approve", other).status_code == 200
    assert kb.post(f"/articles/{aid}/publish", other).status_code == 200
    # The next revision is the author's alone: the reviewer may approve it.
    r = client.patch(
        kb.url(f"/articles/{aid}"), json={"body": "签收后 30 天内可退货。"}, headers=kb.author.auth
    )
    assert r.status_code == 200
    assert kb.post(f"/articles/{aid}/submit", kb.author).status_code == 200
    assert kb.post(f"/articles/{aid}/approve", kb.reviewer).status_code == 200


def test_readers_keep_the_live_copys_tags_while_a_revision_waits(
    client: TestClient, world: World
) -> None:
    """The live copy keeps its own tags: while a new revision is pending, readers see and
    filter by the published tags, never the draft's."""
    kb = Kb(client, world)
    aid = kb.write("Roaming in Europe", "Roaming is free in the EU.", "en", tags=["roaming"])
    kb.publish(aid)

    def tagged(who: Person, tag: str) -> list[int]:
        return [a["id"] for a in kb.get("/articles", who, tag=tag).json()["items"]]

    assert kb.get(f"/articles/{aid}", kb.customer).json()["tags"] == ["roaming"]
    r = client.patch(
        kb.url(f"/articles/{aid}"), json={"tags": ["internal-waiver"]}, headers=kb.author.auth
    )
    assert r.status_code == 200
    assert kb.get(f"/articles/{aid}", kb.customer).json()["tags"] == ["roaming"]
    assert tagged(kb.customer, "internal-waiver") == []
    assert tagged(kb.customer, "roaming") == [aid]
    assert tagged(kb.author, "internal-waiver") == [aid]
    page = client.get(f"/b/{kb.slug}/help/articles/{aid}", headers=kb.customer.auth)
    assert "roaming" in page.text
    assert "internal-waiver" not in page.text
    kb.publish(aid)
    assert kb.get(f"/articles/{aid}", kb.customer).json()["tags"] == ["internal-waiver"]
    assert tagged(kb.customer, "internal-waiver") == [aid]
    assert tagged(kb.customer, "roaming") == []
    assert kb.post(f"/articles/{aid}/archive", kb.reviewer).status_code == 200
    assert tagged(kb.customer, "internal-waiver") == []


def test_history_shows_each_revision_only_at_the_level_it_was_written_for(
    client: TestClient, world: World
) -> None:
    """An agent's staff-only text, rewritten for experts and lowered to experts, stays out of
    the experts' sight in the version list and the diff; what is written for them shows."""
    kb = Kb(client, world)
    secret = "内部：超过 500 元的退款由主管王强审批，电话 8801。"
    aid = kb.write("退款审批", secret, visibility="staff")
    kb.publish(aid)
    r = client.patch(
        kb.url(f"/articles/{aid}"),
        json={"body": "超过 500 元的退款需要审批，请转交员工。", "visibility": "experts"},
        headers=kb.author.auth,
    )
    assert r.status_code == 200, r.text
    kb.publish(aid)
    r = client.patch(
        kb.url(f"/articles/{aid}"), json={"body": "超过 500 元的退款需审批，请转交员工处理。"},
        headers=kb.author.auth,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    seen = kb.get(f"/articles/{aid}/versions", kb.expert)
    assert seen.status_code == 200, seen.text
    assert [v["version"] for v in seen.json()["items"]] == [3, 2]
    assert "王强" not in seen.text
    for old, new in ((1, 2), (1, 3)):
        r = kb.get(f"/articles/{aid}/diff", kb.expert, **{"from": old, "to": new})
        assert r.status_code == 404, r.text
        assert "王强" not in r.text
    assert kb.get(f"/articles/{aid}/diff", kb.expert, **{"from": 2, "to": 3}).status_code == 200
    page = client.get(f"/b/{kb.slug}/help/articles/{aid}", headers=kb.expert.auth)
    assert page.status_code == 200
    assert "王强" not in page.text
    staff = kb.get(f"/articles/{aid}/versions", kb.reviewer).json()["items"]
    assert [v["version"] for v in staff] == [3, 2, 1]
    # Lowering the visibility without new text lowers the current revision with it.
    aid2 = kb.write("保修政策", "所有设备保修两年。", visibility="staff")
    r = client.patch(
        kb.url(f"/articles/{aid2}"), json={"visibility": "experts"}, headers=kb.author.auth
    )
    assert r.status_code == 200, r.text
    items = kb.get(f"/articles/{aid2}/versions", kb.expert).json()["items"]
    assert [v["version"] for v in items] == [1]


def test_readers_get_no_skills_of_a_pending_revision(client: TestClient, world: World) -> None:
    """Skills (routing labels) are stored like tags, for the working revision only: a pending
    draft's skills are not the published article's and readers must not see them."""
    kb = Kb(client, world)
    aid = kb.write("Roaming in Europe", "Roaming is free in the EU.", "en", skills=["roaming"])
    kb.publish(aid)
    assert kb.get(f"/articles/{aid}", kb.customer).json()["skills"] == ["roaming"]
    r = client.patch(
        kb.url(f"/articles/{aid}"), json={"skills": ["outage-hush-2026"]}, headers=kb.author.auth
    )
    assert r.status_code == 200
    for who in (kb.customer, None):
        assert "outage-hush-2026" not in str(kb.get(f"/articles/{aid}", who).json())
        listed = kb.get("/articles", who).json()["items"]
        assert "outage-hush-2026" not in str(listed)
    assert kb.get(f"/articles/{aid}", kb.author).json()["skills"] == ["outage-hush-2026"]
    kb.publish(aid)
    assert kb.get(f"/articles/{aid}", kb.customer).json()["skills"] == ["outage-hush-2026"]


def test_archive_takes_it_out_of_search_in_the_same_transaction(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    aid = kb.write("Как подключить интернет", "Включите передачу данных и проверьте APN.", "ru")
    kb.publish(aid)
    assert kb.search("подключение интернета", kb.customer)["results"][0]["id"] == str(aid)
    assert kb.post(f"/articles/{aid}/archive", kb.reviewer).status_code == 200
    assert kb.search("подключение интернета", kb.customer)["results"] == []
    assert kb.get(f"/articles/{aid}", kb.customer).status_code == 404


def test_a_visitor_counts_once_in_feedback_and_deflection(client: TestClient, world: World) -> None:
    """A script posting "this solved it" or "helpful" again and again moved the figures brand
    admins read (and helpfulness ranks search): each visitor — a person, or an address when
    signed out — now counts once per article (a changed mind moves the vote) and once a day
    per suggestion; a suggestion the visitor cannot read is refused like an unknown one."""
    kb = Kb(client, world)
    aid = kb.write("Return a product", "Returns are free within 7 days of delivery.", "en")
    kb.publish(aid)
    staff = kb.write("Refund override", "Agents may refund up to 50 EUR.", "en", visibility="staff")
    kb.publish(staff)
    solved = {"event": "solved", "kind": "article", "id": str(aid)}
    for who in (kb.customer, kb.customer, kb.customer, None, None, kb.expert):
        assert kb.post("/search/events", who, solved).status_code == 204
    assert kb.get("/search/deflection", kb.reviewer).json()["solved"] == 3
    for unknown in ({**solved, "id": str(staff)}, {**solved, "id": "999999"}):
        r = kb.post("/search/events", kb.customer, unknown)
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "unknown_suggestion"
    assert kb.post("/search/events", kb.reviewer, {**solved, "id": str(staff)}).status_code == 204
    for _ in range(3):
        r = kb.post(f"/articles/{aid}/feedback", kb.customer, {"helpful": True})
        assert r.status_code == 201
    assert (r.json()["helpful"], r.json()["unhelpful"]) == (1, 0)
    r = kb.post(f"/articles/{aid}/feedback", kb.customer, {"helpful": False, "comment": "过时"})
    assert (r.json()["helpful"], r.json()["unhelpful"]) == (0, 1)
    for _ in range(2):
        r = kb.post(f"/articles/{aid}/feedback", None, {"helpful": True})
    assert (r.json()["helpful"], r.json()["unhelpful"]) == (1, 1)


def test_feedback_counts_and_records_deflection(client: TestClient, world: World) -> None:
    kb = Kb(client, world)
    aid = kb.write("Return a product", "Returns are free within 7 days of delivery.", "en")
    kb.publish(aid)
    r = kb.post(f"/articles/{aid}/feedback", None, {"helpful": True})
    assert r.status_code == 201
    assert r.json()["helpful"] == 1
    r = kb.post(
        f"/articles/{aid}/feedback", kb.customer, {"helpful": False, "comment": "需要更多细节"}
    )
    assert r.json()["unhelpful"] == 1
    kb.search("return product", kb.customer)
    ev = kb.post(
        "/search/events", kb.customer, {"event": "solved", "kind": "article", "id": str(aid)}
    )
    assert ev.status_code == 204
    stats = kb.get("/search/deflection", kb.reviewer).json()
    assert stats["shown"] >= 1
    assert stats["solved"] == 1
    assert kb.get("/search/deflection", kb.customer).status_code == 403
    bad = kb.post(f"/articles/{aid}/feedback", kb.customer, {"helpful": "maybe"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_validation_errors_name_the_field(client: TestClient, world: World) -> None:
    kb = Kb(client, world)
    r = kb.post("/articles", kb.author, {"title": " ", "body": "x", "language": "en"})
    assert r.status_code == 422
    assert r.json()["code"] == "required"
    r = kb.post("/articles", kb.author, {"title": "t", "body": "x", "language": "fr"})
    assert r.status_code == 422
    assert r.json()["code"] == "bad_language"
    r = kb.post(
        "/articles", kb.author, {"title": "t", "body": "x", "language": "en", "visibility": "vip"}
    )
    assert r.status_code == 422
    assert r.json()["code"] == "bad_visibility"
    assert (
        kb.post("/articles", kb.customer, {"title": "t", "body": "x", "language": "en"}).status_code
        == 403
    )
    assert kb.get("/search", kb.customer, q="x", lang="xx").status_code == 422


def test_bad_cursors_page_sizes_and_choices_are_explained_in_the_readers_language(
    client: TestClient, world: World
) -> None:
    """A bad cursor, page size or choice is a 422 a Russian or Chinese reader can act on:
    translated, naming the allowed values, with no English validator text inside."""
    kb = Kb(client, world)
    kb.seed()
    ru = {"Accept-Language": "ru"}

    def detail(path: str, **params: Any) -> str:
        r = client.get(kb.url(path), params=params, headers=ru)
        assert r.status_code == 422, r.text
        return str(r.json()["detail"])

    cursor = detail("/articles", cursor="not-a-cursor")
    assert cursor == "Этот курсор выдан не этим API; начните сначала без него."
    assert detail("/articles", limit=0) == "Проверьте поле limit: Укажите число не меньше 1."
    assert detail("/search", q="тариф", limit=51) == (
        "Проверьте поле limit: Укажите число не больше 50."
    )
    assert detail("/search", q="тариф", source="web") == (
        "Проверьте поле source: Выберите одно из: help, ticket, question, assist, api."
    )
    r = client.post(
        kb.url("/search/events"), json={"event": "liked", "kind": "article", "id": "1"},
        headers={"Accept-Language": "zh-TW"},
    )  # fmt: skip
    assert r.status_code == 422
    assert r.json()["detail"] == "請檢查欄位 event：請從以下選項中選擇：opened, solved。"
    assert r.json()["errors"][0]["code"] == "not_allowed"
    for text_ in (cursor, detail("/articles", limit=101)):
        assert "Input should" not in text_
        assert "API gave out" not in text_


CSV = (
    "question,answer,language,tags,visibility\n"
    "如何申请退款？,在我的订单中申请退款。,zh-Hans,退款|订单,public\n"
    "如何申請退款？,在我的訂單中申請退款。,zh-TW,退款,public\n"
    "Как сменить тариф?,В приложении в разделе «Тарифы».,ru,тарифы,\n"
    ",no question here,en,,public\n"
    "Bad language,answer,fr,,public\n"
    "Secret,staff answer,en,,vip\n"
    "如何申请退款？,重复的行,zh-Hans,,public\n"
    "Internal escalation path,Call the duty manager.,en,ops,staff\n"
)


def test_csv_import_reports_bad_rows_and_keeps_the_good(client: TestClient, world: World) -> None:
    kb = Kb(client, world)
    summary = kb.import_file(kb.reviewer, CSV.encode(), publish=True)
    assert summary["imported"] == 4
    assert summary["skipped"] == 4
    codes = sorted(p["code"] for p in summary["problems"])
    assert codes == ["bad_language", "bad_visibility", "duplicate_row", "required"]
    assert all(p["where"] and p["reason"] for p in summary["problems"])
    assert kb.search("退款", kb.customer)["results"]
    assert kb.search("тариф", kb.customer)["results"]
    assert kb.search("duty manager", kb.customer)["results"] == []
    # Importing the same file again skips what exists.
    assert kb.import_file(kb.author, CSV.encode())["imported"] == 0
    export = client.get(kb.url("/exports/faq.csv"), headers=kb.author.auth)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 4
    assert {r["language"] for r in rows} == {"zh-Hans", "zh-Hant", "ru", "en"}
    assert any(r["tags"] == "退款|订单" for r in rows)


def test_import_refuses_what_it_cannot_read(client: TestClient, world: World) -> None:
    kb = Kb(client, world)

    def upload(data: bytes, who: Person) -> Any:
        return client.post(
            kb.url("/imports"), files={"file": ("f.csv", data, "text/csv")}, headers=who.auth
        )

    assert upload(UNREADABLE, kb.author).json()["code"] == "not_utf8"
    assert upload(b"title,body\nx,y\n", kb.author).json()["code"] == "missing_columns"
    assert upload(b"", kb.author).json()["code"] == "empty_file"
    assert upload(CSV.encode(), kb.customer).status_code == 403
    # Drafts only unless a reviewer asks to publish.
    r = client.post(
        kb.url("/imports"), files={"file": ("f.csv", CSV.encode(), "text/csv")},
        data={"publish": "true"}, headers=kb.expert.auth,
    )  # fmt: skip
    assert r.status_code == 403


def test_intake_suggestions_come_from_the_knowledge_base(client: TestClient, world: World) -> None:
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write("耳机无法连接蓝牙怎么办？", "长按充电盒按钮 10 秒，然后重新配对蓝牙。")
    kb.publish(aid)
    r = kb.post(
        "/tickets",
        kb.customer,
        {"subject": "蓝牙耳机连不上手机", "body": "配对总是失败", "skill": "general"},
    )
    assert r.status_code == 201, r.text
    suggestions = r.json()["suggestions"]
    assert suggestions
    assert suggestions[0]["id"] == aid
    assert suggestions[0]["url"].endswith(f"/help/articles/{aid}")


def test_resolved_tickets_are_searchable_by_experts_without_customer_data(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    admin = kb.reviewer
    r = client.put(
        kb.url(f"/experts/{kb.expert.id}"),
        json={"skills": {"general": 5}, "languages": ["zh-Hans", "en"], "tier": 0,
              "certifications": []},
        headers=admin.auth,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    client.put(kb.url("/policy"), json={"routing_mode": "pull"}, headers=admin.auth)
    assert kb.post("/experts/me/availability", kb.expert, {"online": True}).status_code == 200
    t = kb.post(
        "/tickets",
        kb.customer,
        {"subject": "Router firmware bricked", "body": "Call me at 13812345678 or a@b.com",
         "skill": "general", "language": "en", "customer_fields": {"phone": "13812345678"}},
    ).json()  # fmt: skip
    assert kb.post(f"/tickets/{t['id']}/claim", kb.expert).status_code == 200
    kb.post(f"/tickets/{t['id']}/messages", kb.expert, {"body": "Hold reset for 30 seconds."})
    assert kb.post(f"/tickets/{t['id']}/resolve", kb.expert).status_code == 200
    found = kb.search("router firmware", kb.expert, kind="ticket")
    assert [x["id"] for x in found["results"]] == [str(t["id"])]
    assert "13812345678" not in str(found)
    assert "a@b.com" not in str(found)
    assert kb.search("router firmware", kb.customer, kind="ticket")["results"] == []


def test_hostile_queries_are_searched_as_text(client: TestClient, world: World) -> None:
    kb = Kb(client, world)
    aid = kb.write("NEAR AND search syntax", 'Quotes " and stars * are text (here).', "en")
    kb.publish(aid)
    for q in ['"', "*", "(", "NEAR", "AND", "-", ":", "a OR b", "'; DROP TABLE articles; --",
              "😀 蓝牙", "title:foo", "NEAR(a b)", "^*"]:  # fmt: skip
        r = client.get(kb.url("/search"), params={"q": q}, headers=kb.customer.auth)
        assert r.status_code == 200, (q, r.text)
    # A lone surrogate (invalid UTF-8 when percent-decoded) is text too.
    r = client.get(kb.url("/search") + "?q=%ED%A0%80x", headers=kb.customer.auth)
    assert r.status_code in (200, 422), r.text
    assert kb.search('NEAR "syntax"', kb.customer)["results"][0]["id"] == str(aid)
    for q in ["", "   "]:
        r = client.get(kb.url("/search"), params={"q": q}, headers=kb.customer.auth)
        assert r.status_code == 422
        assert r.json()["code"] == "query_required"
    long = client.get(kb.url("/search"), params={"q": "x" * 10_000}, headers=kb.customer.auth)
    assert long.status_code == 422
    assert long.json()["field"] == "q"


def test_the_article_titled_as_asked_is_on_the_first_page_however_long(
    client: TestClient, world: World
) -> None:
    """A customer types the exact title of a long guide. Short articles sharing some of its
    words must not push it off the first page (nor under the noise floor): a title match
    is not worth less because the article is long."""
    import random

    kb = Kb(client, world)
    kb.seed()
    for model in ["AX1800", "AX3000", "BE9300", "N300", "C6", "C80"]:
        kb.publish(kb.write(f"Reset the {model} router", f"Hold the {model}'s pin.", "en"))
    for model in ["ZX10", "Deco M4", "Deco X20", "Archer A7", "Orbi RBK50", "Nighthawk"]:
        kb.publish(kb.write(f"Change the {model} router password", f"Use the {model} app.", "en"))
    rnd = random.Random(5)
    steps = (
        "open the admin page in a browser sign in with your account then go to system "
        "tools and follow each step carefully before you continue wait for the lights"
    )
    guide = kb.write(
        "Reset the router password", " ".join(rnd.choices(steps.split(), k=1500)), "en"
    )
    kb.publish(guide)
    found = kb.search("Reset the router password", kb.customer, lang="en")
    assert found["results"][0]["id"] == str(guide), found["results"][:3]
    page = client.get(f"/b/{kb.slug}/help", params={"q": "reset the router password"})
    assert f"/help/articles/{guide}?" in page.text


def test_out_of_scope_offers_the_next_lanes(
    client: TestClient, world: World, database_url: str
) -> None:
    kb = Kb(client, world)
    kb.seed()
    inside = kb.search("退货退款", kb.customer)
    assert inside["out_of_scope"] is False
    assert inside["next_lanes"] == []
    outside = kb.search("what is the weather in paris tomorrow", kb.customer)
    assert outside["out_of_scope"] is True
    assert [lane["lane"] for lane in outside["next_lanes"]] == ["community", "expert"]


def test_snippets_come_from_each_results_own_document(
    client: TestClient, world: World, db: Database
) -> None:
    """An article and a community question may share a ref_id; each result's snippet is read
    from its own kind's document (bodies are fetched per kind, by the unique index)."""
    from crowdcx.search import service
    from crowdcx.search.index import IndexDocument
    from crowdcx.tenancy.service import access_brand

    kb = Kb(client, world)
    kb.seed()
    with db.transaction() as uow:
        brand_id = access_brand(uow.session, kb.slug, None).brand.id
        for kind, body in (
            ("article", "Router lights blink red: restart the router."),
            ("question", "My router blinks red after the storm, what now?"),
        ):
            service.upsert(
                uow.session,
                IndexDocument(brand_id, kind, "900001", "en", "public", "Router blinks red", body),  # type: ignore[arg-type]
            )
    found = kb.search("router blinks red", kb.customer, lang="en")["results"]
    snippets = {r["kind"]: r["snippet"] for r in found if r["id"] == "900001"}
    assert set(snippets) == {"article", "question"}
    assert "restart the" in snippets["article"]
    assert "storm" in snippets["question"]
    assert all("<mark>" in s for s in snippets.values())


def test_a_tag_lists_every_tagged_article(client: TestClient, world: World) -> None:
    """?tag= pages through all of a tag's articles, however many newer untagged ones there
    are (it used to look only among the newest four pages' worth)."""
    kb = Kb(client, world)
    old = kb.write("退货政策", "七天无理由退货。", tags=["Returns"])
    also = kb.write("退款多久到账", "一般三个工作日。", tags=["returns", "refund"])
    for i in range(9):
        kb.write(f"其他文章 {i}", "与退货无关。")
    ids: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"tag": "RETURNS", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = kb.get("/articles", kb.author, **params).json()
        ids += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert ids == [also, old]
    assert [a["id"] for a in kb.get("/articles", kb.author, tag="refund").json()["items"]] == [also]


def test_semicolon_and_tab_separated_spreadsheets_import(client: TestClient, world: World) -> None:
    """Spreadsheets in ru (and other decimal-comma) locales save CSV with semicolons, and a
    "tab-separated values" download is common for zh sheets: both were refused as lacking the
    columns "question, answer, language", though the header was right there."""
    kb = Kb(client, world)
    semicolons = (
        "\ufeffquestion;answer;language;tags;visibility\r\n"
        'Как сменить тариф?;"Откройте «Тарифы»; выберите новый, затем нажмите «Сменить».";'
        "ru;тарифы|приложение;public\r\n"
        "Сколько стоит роуминг?;Цена 1,5 ₽ за минуту.;ru;;\r\n"
    )
    tabs = (
        "question\tanswer\tlanguage\ttags\tvisibility\n"
        "如何申请退款？\t在我的订单中申请退款，三天内到账。\tzh-Hans\t退款\tpublic\n"
        "如何申請發票？\t在訂單頁面申請；需要統一編號。\tzh-TW\t\tpublic\n"
    )
    for name, content in (("ru.csv", semicolons), ("zh.tsv", tabs)):
        summary = kb.import_file(kb.reviewer, content.encode(), name, publish=True)
        assert (summary["imported"], summary["skipped"]) == (2, 0), summary
    export = list(csv.DictReader(io.StringIO(client.get(
        kb.url("/exports/faq.csv"), headers=kb.author.auth).text)))  # fmt: skip
    by_title = {row["question"]: row for row in export}
    assert by_title["Как сменить тариф?"]["answer"] == (
        "Откройте «Тарифы»; выберите новый, затем нажмите «Сменить»."
    )
    assert by_title["Как сменить тариф?"]["tags"] == "тарифы|приложение"
    assert by_title["Сколько стоит роуминг?"]["answer"] == "Цена 1,5 ₽ за минуту."
    assert by_title["如何申請發票？"]["language"] == "zh-Hant"


def test_an_import_over_the_limit_is_refused_with_the_limit_it_broke(
    client: TestClient, world: World
) -> None:
    """Past the import body cap the problem said "larger than 1048576 bytes", the cap of
    ordinary requests, not the 5 MB an import may be."""
    kb = Kb(client, world)
    for size in (5 * 1024 * 1024 + 1, 9 * 1024 * 1024):
        r = client.post(
            kb.url("/imports"), files={"file": ("f.csv", b"x" * size, "text/csv")},
            headers={**kb.author.auth, "Accept-Language": "zh-Hans"},
        )  # fmt: skip
        assert r.status_code == 413, r.text[:300]
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "too_large"
        assert r.json()["detail"] == "每次最多导入 5 MB，请拆分文件。"


def test_an_article_of_invisible_characters_is_refused(client: TestClient, world: World) -> None:
    """A title or answer of zero-width spaces (pasted from a web page, or a cell a spreadsheet
    left with a stray BOM) was written and published as a blank article in the help center."""
    kb = Kb(client, world)
    for field, value in (("title", "\u200b\u2060"), ("body", "\ufeff \u200b")):
        body = {"title": "Как сменить тариф?", "body": "В приложении.", "language": "ru"}
        r = kb.post("/articles", kb.author, {**body, field: value})
        assert r.status_code == 422, r.text
        assert (r.json()["field"], r.json()["code"]) == (field, "invisible")
    content = (
        "question,answer,language\n"
        "\u200b\u200b,Ответ без вопроса.,ru\n"
        "\ufeffКак сменить тариф?\u200b,В приложении в разделе «Тарифы».,ru\n"
    )
    summary = kb.import_file(kb.author, content.encode())
    assert (summary["imported"], summary["skipped"]) == (1, 1)
    assert summary["problems"][0]["code"] == "invisible"
    items = kb.get("/articles", kb.author).json()["items"]
    assert [a["title"] for a in items] == ["Как сменить тариф?"]


def test_a_unicode_text_file_from_excel_imports(client: TestClient, world: World) -> None:
    """Excel's "Unicode Text" (the way older Excel writes Chinese and Cyrillic) is UTF-16 with
    a byte-order mark and tabs: it was refused with "save the CSV as UTF-8", though the mark
    says exactly how to read it."""
    kb = Kb(client, world)
    content = (
        "question\tanswer\tlanguage\ttags\tvisibility\r\n"
        "如何申请退款？\t在我的订单中申请退款。\tzh-Hans\t退款\tpublic\r\n"
        "Как сменить тариф?\tВ приложении.\tru\t\tpublic\r\n"
    )
    for encoding in ("utf-16", "utf-16-be"):  # "utf-16" writes the machine's order and a BOM
        data = content.encode(encoding)
        if encoding == "utf-16-be":
            data = b"\xfe\xff" + data
        summary = kb.import_file(kb.author, data, "faq.txt", "text/plain")
        assert summary["imported"] + sum(p["code"] == "exists" for p in summary["problems"]) == 2
    titles = {a["title"] for a in kb.get("/articles", kb.author).json()["items"]}
    assert titles == {"如何申请退款？", "Как сменить тариф?"}
    assert client.post(
        kb.url("/imports"), files={"file": ("f.csv", UNREADABLE, "text/csv")},
        headers=kb.author.auth,
    ).json()["code"] == "not_utf8"  # fmt: skip
    # U+0000 is still in no text: the bytes of UTF-16 may be 0, the decoded text may not.
    for data in (b"question,answer,language\nQ\x00,A,en\n", "question\x00".encode("utf-16")):
        r = client.post(
            kb.url("/imports"), files={"file": ("f.csv", data, "text/csv")},
            headers=kb.author.auth,
        )  # fmt: skip
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "nul_character"


def test_the_language_column_may_name_the_language(client: TestClient, world: World) -> None:
    """Staff filling a sheet write the language as the language picker shows it ("Русский",
    "中文（简体）", "中文（繁體）") or as they say it ("简体中文", "繁體中文", "英文"): every such
    row was skipped as "not a language we support"."""
    kb = Kb(client, world)
    rows = [
        ("Как сменить тариф?", "Русский"),
        ("Роуминг", "русский"),
        ("如何申请退款？", "中文（简体）"),
        ("如何开发票？", "简体中文"),
        ("如何申請退款？", "中文（繁體）"),
        ("如何申請發票？", "繁體中文"),
        ("Warranty", "English"),
        ("Delivery", "英文"),
    ]
    content = "question;answer;language\n" + "".join(f"{q};Ответ.;{lang}\n" for q, lang in rows)
    summary = kb.import_file(kb.author, content.encode())
    assert summary["skipped"] == 0, summary["problems"]
    got = {a["title"]: a["language"] for a in kb.get("/articles", kb.author).json()["items"]}
    assert got == {
        "Как сменить тариф?": "ru", "Роуминг": "ru", "如何申请退款？": "zh-Hans",
        "如何开发票？": "zh-Hans", "如何申請退款？": "zh-Hant", "如何申請發票？": "zh-Hant",
        "Warranty": "en", "Delivery": "en",
    }  # fmt: skip


def test_a_large_import_lets_other_writers_in_between_its_chunks(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import was one transaction: on SQLite 10,000 rows held the one write lock for
    ~12 s while every vote, ticket and sign-in waited. It now commits every IMPORT_CHUNK
    imported rows; the summary still covers the whole file."""
    from sqlalchemy import event

    from crowdcx.knowledge import service as kb_service

    monkeypatch.setattr(kb_service, "IMPORT_CHUNK", 2)
    kb = Kb(client, world)
    commits: list[int] = []
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    try:
        summary = kb.import_file(kb.reviewer, CSV.encode(), publish=True)
    finally:
        event.remove(db.engine, "commit", listener)
    assert summary["imported"] == 4
    assert summary["skipped"] == 4
    assert len(commits) >= 2  # a commit per two rows imported (one for the whole file before)
    assert kb.search("退款", kb.customer)["results"]


def test_a_ticket_a_suggestion_solved_counts_once_as_deflected(
    client: TestClient, world: World
) -> None:
    """A customer writes an inquiry, the intake answers with an article and the customer says
    "a suggestion solved it": the case is deflected, but the deflection figures brand admins
    read showed it shown and never solved."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write("耳机无法连接蓝牙怎么办？", "长按充电盒按钮 10 秒，然后重新配对蓝牙。")
    kb.publish(aid)
    r = kb.post(
        "/tickets",
        kb.customer,
        {"subject": "蓝牙耳机连不上手机", "body": "配对总是失败", "skill": "general"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["suggestions"]
    tid = r.json()["id"]
    r = kb.post(f"/tickets/{tid}/deflect", kb.customer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deflected"
    assert kb.post(f"/tickets/{tid}/deflect", kb.customer).status_code == 409
    stats = kb.get("/search/deflection", kb.reviewer).json()
    assert (stats["shown"], stats["solved"]) == (1, 1), stats


def test_a_deflected_case_counts_once_when_its_article_is_also_marked_solved(
    client: TestClient, world: World
) -> None:
    """A customer whose inquiry a suggested article answered says "a suggestion solved it" on
    the ticket and also marks the article as what solved it: one case, which the deflection
    figures counted as two solved. One case counts once; another reader whom the article
    solved (no ticket) still counts, and so does the same customer's next deflected case."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write("耳机无法连接蓝牙怎么办？", "长按充电盒按钮 10 秒，然后重新配对蓝牙。")
    kb.publish(aid)

    def deflected_case() -> None:
        r = kb.post(
            "/tickets", kb.customer,
            {"subject": "蓝牙耳机连不上手机", "body": "配对总是失败", "skill": "general"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        assert [s["id"] for s in r.json()["suggestions"]] == [aid]
        r = kb.post(f"/tickets/{r.json()['id']}/deflect", kb.customer)
        assert r.status_code == 200, r.text

    solved = {"event": "solved", "kind": "article", "id": str(aid), "source": "ticket"}
    deflected_case()
    assert kb.post("/search/events", kb.customer, solved).status_code == 204
    assert kb.get("/search/deflection", kb.reviewer).json()["solved"] == 1
    assert kb.post("/search/events", kb.expert, solved).status_code == 204  # another reader
    assert kb.get("/search/deflection", kb.reviewer).json()["solved"] == 2
    deflected_case()  # the customer's second case
    assert kb.get("/search/deflection", kb.reviewer).json()["solved"] == 3
