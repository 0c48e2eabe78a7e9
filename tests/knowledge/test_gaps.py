"""Content gaps: what readers searched for and did not find, grouped, for the reviewers."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.knowledge.rules import content_gaps
from crowdcx.search.analysis import analyze_query
from tests.conftest import World
from tests.knowledge.test_api import Kb
from tests.tickets.test_pages import sign_in

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _key(text: str) -> str:
    return " ".join(sorted(set(analyze_query(text).words)))


def test_searches_group_by_what_they_ask() -> None:
    searches = [
        ("Refund card", T0),
        ("refund  cards", T0 + timedelta(hours=1)),
        ("card refund", T0 + timedelta(hours=2)),
        ("card refund", T0 + timedelta(hours=3)),
        ("退货运费", T0 + timedelta(hours=4)),
        ("???", T0 + timedelta(hours=5)),  # nothing to ask: left out
    ]
    gaps = content_gaps(searches, _key, limit=10)
    assert [(g.query, g.count, g.spellings) for g in gaps] == [
        ("card refund", 4, 3), ("退货运费", 1, 1),
    ]  # fmt: skip
    assert gaps[0].last_at == T0 + timedelta(hours=3)
    assert len(content_gaps(searches, _key, limit=1)) == 1


def test_reviewers_see_what_readers_could_not_find_until_an_article_answers_it(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    for q in (
        "如何更换耳机电池",
        "如何更换耳机电池？",
        "如何更换耳机电池！",
        "电话 13812345678 打不通",
    ):
        r = kb.get("/search", kb.customer, q=q)
        assert r.status_code == 200, r.text
        assert r.json()["out_of_scope"] is True
    gaps = kb.get("/content-gaps", kb.reviewer).json()["gaps"]
    assert (gaps[0]["count"], gaps[0]["spellings"]) == (3, 3), gaps
    assert gaps[0]["covered_by"] is None
    assert all("13812345678" not in g["query"] for g in gaps)  # typed data stays masked
    for who in (kb.customer, kb.expert):
        assert kb.get("/content-gaps", who).status_code == 403
    # An article is written and published: the gap says what answers it now.
    aid = kb.write("如何更换耳机电池", "打开电池仓，取出旧电池，放入新电池后充电两小时。")
    kb.publish(aid)
    gaps = kb.get("/content-gaps", kb.reviewer).json()["gaps"]
    assert gaps[0]["covered_by"]["id"] == str(aid), gaps[0]
    # The page, with a link that starts the article from the gap.
    sign_in(client, kb.reviewer)
    page = client.get(f"/b/{kb.slug}/help/gaps?days=7")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "如何更换耳机电池" in text
    assert "/help/new?title=" in text
    editor = client.get(f"/b/{kb.slug}/help/new", params={"title": "电话 打不通",
                                                          "language": "zh-Hans"})  # fmt: skip
    assert 'value="电话 打不通"' in editor.text


def test_one_gap_whatever_the_spacing_punctuation_script_or_small_words() -> None:
    from crowdcx.knowledge.rules import gap_key

    def same(*queries: str) -> None:
        keys = {gap_key(q) for q in queries}
        assert len(keys) == 1, {q: gap_key(q) for q in queries}

    same("如何更换耳机电池", "如何 更换 耳机 电池", "如何，更换耳机电池？", "如何更換耳機電池",
         "怎么更换耳机电池")  # fmt: skip
    same("возврат денег за заказ", "Возврата денег по заказу", "как возврат денег за заказ?")
    same("refund cards", "card refund", "How do I get a card refund?", "refunding the card")
    # An order or phone number says who asked, not what is missing.
    same("where is my order 12345678", "where is my order 87654321", "Where's my order?")
    # Different things stay apart.
    assert gap_key("iphone 15 battery") != gap_key("iphone 14 battery")
    assert gap_key("не работает интернет") != gap_key("работает интернет")
    assert gap_key("how") == gap_key("???") == ""


def test_order_and_postal_numbers_in_a_gap_are_masked(client: TestClient, world: World) -> None:
    kb = Kb(client, world)
    typed = ("заказ 778899 не пришёл", "посылка на индекс 101000 потерялась",
             "订单ＬＭ２０２６０００１２３没到")  # fmt: skip
    for q in typed:
        assert kb.get("/search", kb.customer, q=q).json()["out_of_scope"] is True
    shown = " ".join(g["query"] for g in kb.get("/content-gaps", kb.reviewer).json()["gaps"])
    for secret in ("778899", "101000", "000123", "０００１２３"):
        assert secret not in shown, shown
    assert "заказ" in shown  # what was asked stays readable
    assert "не пришёл" in shown


def test_the_newest_searches_are_read_through_the_index(sqlite_template: Path) -> None:
    """A brand with hundreds of thousands of searches: the newest GAP_SEARCHES come from the
    (brand_id, event, created_at) index in order, not from sorting every no-answer search of
    the period."""
    from sqlalchemy import create_engine

    from crowdcx.knowledge import service
    from tests.query_plans import plan

    engine = create_engine(f"sqlite:///{sqlite_template}")
    found = plan(engine, service.gap_searches(), {"brand": 1, "since": T0})
    engine.dispose()
    assert "ix_search_events_brand_event" in found, found
    assert "TEMP B-TREE" not in found, found


def test_experts_who_review_articles_do_not_read_what_customers_searched(
    client: TestClient, world: World, db: Database
) -> None:
    """A brand may let its experts review articles; what its readers typed into a search box
    (their own words, names and all) stays with its staff."""
    from crowdcx.tenancy.models import Brand

    kb = Kb(client, world)
    with db.transaction() as uow:
        brand = uow.session.query(Brand).filter_by(slug=kb.slug).one()
        brand.settings = {**(brand.settings or {}), "knowledge": {"reviewers": ["expert"]}}
    assert kb.get("/search", kb.customer, q="王小明 北京市朝阳区建国路 退货").status_code == 200
    denied = kb.get("/content-gaps", kb.expert)
    assert denied.status_code == 403
    assert denied.json()["detail"]
    sign_in(client, kb.expert)
    assert client.get(f"/b/{kb.slug}/help/gaps").status_code == 403
    assert f"/b/{kb.slug}/help/gaps" not in client.get(f"/b/{kb.slug}/help/review").text


def test_fragments_typed_are_no_gaps_and_submitted_searches_everywhere_are(
    client: TestClient, world: World
) -> None:
    """The as-you-type boxes recorded every fragment ("如何更", "如何更换耳") as a search
    that found nothing, and the community home's search recorded nothing at all."""
    kb = Kb(client, world)
    typing = {"hx-request": "true"}
    for fragment in ("如何更", "如何更换耳", "如何更换耳机电"):
        r = client.get(f"/b/{kb.slug}/help/search", params={"q": fragment}, headers=typing)
        assert r.status_code == 200
        r = client.get(f"/b/{kb.slug}/community/similar", params={"title": fragment},
                       headers=typing)  # fmt: skip
        assert r.status_code == 200
    assert kb.get("/content-gaps", kb.reviewer).json()["gaps"] == []
    assert client.get(f"/b/{kb.slug}/help", params={"q": "如何更换耳机电池"}).status_code == 200
    assert client.get(f"/b/{kb.slug}/community", params={"q": "耳机电池多久换"}).status_code == 200
    gaps = kb.get("/content-gaps", kb.reviewer).json()["gaps"]
    assert sorted(g["count"] for g in gaps) == [1, 1], gaps
