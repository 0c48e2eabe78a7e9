"""What readers write beside "Was this helpful?" reaches the article's authors and reviewers
(and nobody else): a comment nobody can read is a comment lost."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World
from tests.knowledge.test_api import Kb
from tests.tickets.test_pages import sign_in


def test_authors_and_reviewers_read_the_readers_comments_newest_first(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    aid = kb.write("退货流程", "收到商品七天内可以免费退货。")
    kb.publish(aid)
    said = [
        (kb.customer, False, "第三步的按钮\r\n已经改名了"),  # typed in a textarea: CR LF
        (None, True, ""),  # a vote without a comment counts, but shows no comment
        (kb.expert, True, "Всё понятно, спасибо"),
    ]
    for who, helpful, comment in said:
        r = kb.post(f"/articles/{aid}/feedback", who, {"helpful": helpful, "comment": comment})
        assert r.status_code == 201, r.text
    for reader in (kb.author, kb.reviewer, kb.expert):
        got = kb.get(f"/articles/{aid}/feedback", reader)
        assert got.status_code == 200, got.text
        body = got.json()
        assert (body["helpful"], body["unhelpful"]) == (2, 1)
        assert [(c["helpful"], c["comment"]) for c in body["comments"]] == [
            (True, "Всё понятно, спасибо"),
            (False, "第三步的按钮\n已经改名了"),
        ]
    # A page at a time, newest first.
    first = kb.get(f"/articles/{aid}/feedback", kb.author, limit=1).json()
    assert [c["comment"] for c in first["comments"]] == ["Всё понятно, спасибо"]
    rest = kb.get(f"/articles/{aid}/feedback", kb.author, limit=1, cursor=first["next_cursor"])
    assert [c["comment"] for c in rest.json()["comments"]] == ["第三步的按钮\n已经改名了"]
    bad = kb.get(f"/articles/{aid}/feedback", kb.author, cursor="nonsense")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    # Readers are refused (experts write articles in the default policy, so they read them).
    refused = kb.get(f"/articles/{aid}/feedback", kb.customer)
    assert refused.status_code == 403, refused.text
    assert kb.get(f"/articles/{aid}/feedback", None).status_code == 401

    # The article page shows them to its editors, not to its readers.
    sign_in(client, kb.author)
    page = client.get(f"/b/{kb.slug}/help/articles/{aid}").text
    assert 'data-testid="reader-feedback"' in page
    assert "第三步的按钮\n已经改名了" in page
    assert page.index("Всё понятно") < page.index("第三步的按钮")
    sign_in(client, kb.customer)
    page = client.get(f"/b/{kb.slug}/help/articles/{aid}").text
    assert 'data-testid="reader-feedback"' not in page
    assert "第三步的按钮" not in page


def test_the_page_shows_older_comments_a_page_at_a_time(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crowdcx.knowledge import pages

    monkeypatch.setattr(pages, "COMMENTS_PAGE", 2)
    kb = Kb(client, world)
    aid = kb.write("Возврат товара", "Вернуть товар можно в течение 7 дней.", "ru")
    kb.publish(aid)
    for n, who in enumerate((kb.customer, kb.expert, kb.author)):
        r = kb.post(f"/articles/{aid}/feedback", who, {"helpful": True, "comment": f"отзыв {n}"})
        assert r.status_code == 201
    sign_in(client, kb.reviewer)
    page = client.get(f"/b/{kb.slug}/help/articles/{aid}").text
    assert "отзыв 2<" in page
    assert "отзыв 0<" not in page
    link = page.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    older = client.get(f"/b/{kb.slug}/help/articles/{aid}{link.split('#')[0]}").text
    assert "отзыв 0<" in older
    assert "отзыв 2<" not in older
    bad = client.get(f"/b/{kb.slug}/help/articles/{aid}?comments_before=x")
    assert bad.status_code == 422


def test_a_readers_comments_are_in_their_copy_and_go_with_their_erasure(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    aid = kb.write("退货流程", "收到商品七天内可以免费退货。")
    kb.publish(aid)
    note = "我的订单号 A-1234 还没退款"
    assert kb.post(
        f"/articles/{aid}/feedback", kb.customer, {"helpful": False, "comment": note}
    ).status_code == 201  # fmt: skip
    copy = client.get("/api/v1/me/export", headers=kb.customer.auth).json()
    mine = [f for b in copy["brands"] for f in b["article_feedback"]]
    assert [(f["article_id"], f["helpful"], f["comment"]) for f in mine] == [(aid, False, note)]
    # The brand erases the customer's data: the vote still counts, the words are gone.
    r = client.post(
        f"/api/v1/brands/{kb.slug}/customers/{kb.customer.id}/erase", headers=kb.reviewer.auth
    )
    assert r.status_code == 200, r.text
    body = kb.get(f"/articles/{aid}/feedback", kb.author).json()
    assert body["unhelpful"] == 1
    assert body["comments"] == []
