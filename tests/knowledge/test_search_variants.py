"""Translations of one article are one search result: the reader's own variant, at the place
the best-matching variant earned (API, help center and ticket intake share the engine)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.knowledge.test_api import Kb


def _variants(kb: Kb) -> tuple[int, int, int]:
    hans = kb.write("如何申请退款？", "在我的订单中点击申请退款，三天内到账。", tags=["退款"])
    kb.publish(hans)
    hant = kb.write(
        "如何申請退款？", "在我的訂單中點擊申請退款，三天內到帳。", "zh-Hant", translation_of=hans
    )
    kb.publish(hant)
    ru = kb.write(
        "Как вернуть деньги?", "Откройте заказ и нажмите «Вернуть деньги».", "ru",
        translation_of=hans,
    )  # fmt: skip
    kb.publish(ru)
    return hans, hant, ru


def test_one_result_per_article_in_the_readers_script(client: TestClient, world: World) -> None:
    kb = Kb(client, world)
    kb.seed()
    hans, hant, _ru = _variants(kb)
    other = kb.write("退款多久到账？", "退款一般三到五个工作日原路退回。")
    kb.publish(other)
    for lang, query, expected in [
        ("zh-Hans", "申请退款", hans),
        ("zh-Hans", "申請退款", hans),  # typed in Traditional: still the reader's variant
        ("zh-Hant", "申请退款", hant),
        ("zh-Hant", "申請退款", hant),
    ]:
        found = kb.search(query, kb.customer, lang=lang)["results"]
        ids = [r["id"] for r in found]
        group = [i for i in ids if i in {str(hans), str(hant)}]
        assert group == [str(expected)], (lang, query, ids)
        assert ids[0] == str(expected), (lang, query, ids)  # the group keeps its place
        assert str(other) in ids  # a different article is not collapsed into it
        scores = [r["score"] for r in found]
        assert scores == sorted(scores, reverse=True)
        shown = next(r for r in found if r["id"] == str(expected))
        assert shown["language"] == lang
        assert shown["url"].endswith(f"/help/articles/{expected}")


def test_a_reader_of_another_language_gets_the_best_match_once(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    kb.seed()
    hans, hant, ru = _variants(kb)
    found = kb.search("申请退款", kb.customer, lang="en")["results"]
    ids = [r["id"] for r in found]
    assert len({str(hans), str(hant)} & set(ids)) == 1
    russian = kb.search("вернуть деньги", kb.customer, lang="en")["results"]
    assert [r["id"] for r in russian][:1] == [str(ru)]
    assert not {str(hans), str(hant)} & {r["id"] for r in russian}


def test_a_variant_the_reader_may_not_see_is_never_the_one_shown(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    kb.seed()
    staff = kb.write(
        "如何审批退款？", "员工：超过 500 元的退款需主管批准。", visibility="staff", tags=["退款"]
    )
    kb.publish(staff)
    public = kb.write("如何申請退款？", "在我的訂單中申請退款。", "zh-Hant", translation_of=staff)
    kb.publish(public)
    for who in (kb.customer, kb.expert):
        ids = [r["id"] for r in kb.search("退款", who, lang="zh-Hans")["results"]]
        assert str(staff) not in ids
        assert str(public) in ids
    staff_ids = [r["id"] for r in kb.search("退款", kb.reviewer, lang="zh-Hans")["results"]]
    assert str(staff) in staff_ids
    assert str(public) not in staff_ids  # staff read the original: one result
