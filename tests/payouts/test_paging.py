"""The payouts statement a page at a time: ``GET /payouts`` answered every payee at once (a
brand with thousands of experts and members got one answer of them all); it now answers
``limit`` payees (100 unless asked, at most 500) and a ``next_cursor``, and the payouts page
shows 50 with next and previous links. The totals stay those of the whole statement."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.kernel.money import Money
from crowdcx.kernel.pagination import encode_cursor, encode_key_cursor
from crowdcx.payouts import rules as pay
from crowdcx.payouts import service as ledger
from crowdcx.tenancy import service as tenancy
from tests.conftest import Person, World
from tests.tickets.test_pages import sign_in
from tests.web.test_formats import shown


class Books:
    """A brand whose ledger owes members rewards (posted as redemptions would post them)."""

    def __init__(self, client: TestClient, world: World, db: Database) -> None:
        self.client, self.db = client, db
        self.slug = world.brand()
        self.admin: Person = world.member(self.slug, ["brand_admin"])
        self.currency = ""
        self._n = 0

    def owe(self, *amounts: int) -> list[str]:
        """One member owed each amount; their accounts."""
        accounts = []
        with self.db.transaction() as uow:
            ctx = tenancy.access_brand(uow.session, self.slug, None)
            self.currency = ctx.brand.settings.get("currency", "USD")
            for minor in amounts:
                self._n += 1
                user = str(100_000 + self._n)
                ledger.post(uow.session, ctx.brand.id, pay.post_reward(
                    f"r{self._n}", str(ctx.brand.id), user, "cash",
                    Money(minor, self.currency), utcnow(),
                ))  # fmt: skip
                accounts.append(pay.member_rewards_account(user, "cash"))
        return accounts

    def owe_more(self, account: str, minor: int) -> None:
        """The member of ``account`` redeems more, owed ``minor`` more."""
        user = account.split(":")[1]
        with self.db.transaction() as uow:
            ctx = tenancy.access_brand(uow.session, self.slug, None)
            self._n += 1
            ledger.post(uow.session, ctx.brand.id, pay.post_reward(
                f"r{self._n}", str(ctx.brand.id), user, "cash",
                Money(minor, self.currency), utcnow(),
            ))  # fmt: skip

    def statement(self, **params: Any) -> Any:
        return self.client.get(
            f"/api/v1/brands/{self.slug}/payouts", params=params, headers=self.admin.auth
        )


def test_the_statement_is_walked_a_few_payees_at_a_time_each_payee_once(
    client: TestClient, world: World, db: Database
) -> None:
    books = Books(client, world, db)
    amounts = (500, 300, 300, 300, 200, 100, 100)  # listed by account, not by amount
    books.owe(*amounts)
    whole = books.statement(limit=500).json()
    assert whole["next_cursor"] is None
    assert len(whole["payees"]) == 7
    pages = []
    cursor = None
    while True:
        r = books.statement(limit=3, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        pages.append(r.json()["payees"])
        # Every page carries the whole statement's total, not its own.
        assert r.json()["owed_minor"] == {books.currency: sum(amounts)}
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    walked = [(p["account"], p["currency"]) for page in pages for p in page]
    assert walked == [(p["account"], p["currency"]) for p in whole["payees"]]
    assert len(set(walked)) == 7
    assert [p["owed_minor"] for page in pages for p in page] == list(amounts)

    # A payee who appears after the cursor's key is listed further on; nobody comes twice.
    first = books.statement(limit=3).json()
    [late] = books.owe(50)
    rest = books.statement(limit=500, cursor=first["next_cursor"]).json()["payees"]
    seen = [p["account"] for p in first["payees"] + rest]
    assert len(seen) == len(set(seen)) == 8
    assert seen[-1] == late


def test_the_statement_answers_the_first_hundred_payees_unless_asked_for_more(
    client: TestClient, world: World, db: Database
) -> None:
    books = Books(client, world, db)
    books.owe(*range(1000, 1101))  # 101 payees
    first = books.statement().json()
    assert len(first["payees"]) == 100
    assert first["next_cursor"]
    assert first["owed_minor"] == {books.currency: sum(range(1000, 1101))}
    [last] = books.statement(cursor=first["next_cursor"]).json()["payees"]
    assert last["owed_minor"] == 1100  # the last account (the last one owed), last
    assert len(books.statement(limit=500).json()["payees"]) == 101
    # owed=true pages the same way, over the payees owed money.
    assert len(books.statement(owed="true", limit=60).json()["payees"]) == 60


def test_a_bad_limit_or_cursor_is_a_problem_the_caller_can_act_on(
    client: TestClient, world: World, db: Database
) -> None:
    books = Books(client, world, db)
    books.owe(300, 200)
    for limit in ("0", "-1", "501", "ten", "1.5", ""):
        r = books.statement(limit=limit)
        assert r.status_code == 422, (limit, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == "limit", r.json()

    def raw(text: bytes) -> str:
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    bad_cursors = (
        "not a cursor!",
        raw(b"[1, 2]"),
        encode_cursor(5),  # another list's cursor: an id, not a statement key
        encode_key_cursor([1, 2, 3]),
        encode_key_cursor([300, "member:1:cash", "USD"]),  # (owed, account, currency) before
        encode_key_cursor(["300", "member:1:cash", "USD"]),
        encode_key_cursor([300, "member:1:cash"]),
        encode_key_cursor(["member:1:cash", 840]),
        encode_key_cursor(["x" * 201, "USD"]),
        raw(b'{"key": [1e30, "member:1:cash", "USD"]}'),
        raw(b'{"key": [99999999999999999999999, "member:1:cash", "USD"]}'),
        encode_key_cursor([300, "x" * 201, "USD"]),
        "A" * 401,
    )
    for cursor in bad_cursors:
        r = books.statement(cursor=cursor)
        assert r.status_code == 422, (cursor, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == "cursor", r.json()
    ok = books.statement(limit=1).json()
    assert books.statement(cursor=ok["next_cursor"]).status_code == 200


def _accounts(html: str) -> list[str]:
    return re.findall(r'<tr data-account="([^"]+)"', html)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_payouts_page_shows_fifty_payees_a_page_and_the_whole_total(
    client: TestClient, world: World, db: Database
) -> None:
    books = Books(client, world, db)
    amounts = list(range(2000, 2120))  # 120 payees
    everyone = books.owe(*amounts)
    sign_in(client, books.admin)
    url = f"/b/{books.slug}/admin/payouts"
    total = Money(sum(amounts), books.currency)

    pages = [client.get(url).text]
    while (after := _link(pages[-1], "next")) is not None:
        pages.append(client.get(url + after).text)
    assert [len(_accounts(html)) for html in pages] == [50, 50, 20]
    assert sorted(a for html in pages for a in _accounts(html)) == sorted(everyone)
    for html in pages:
        assert re.findall(r'data-testid="owed-total">([^<]+)<', html) == [shown(html, total)]
    assert _link(pages[0], "prev") is None
    assert _link(pages[2], "next") is None
    # Back from the last page: the middle page again.
    back = _link(pages[2], "prev")
    assert back is not None
    assert _accounts(client.get(url + back).text) == _accounts(pages[1])
    again = _link(client.get(url + back).text, "prev")
    assert again is not None
    assert _accounts(client.get(url + again).text) == _accounts(pages[0])

    # A payout recorded on the second page brings the admin back to that page.
    html = pages[1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    cursor = re.search(r'name="cursor" value="([^"]+)"', html)
    assert token
    assert cursor
    payee = _accounts(html)[0]
    r = client.post(url, data={
        "csrf_token": token.group(1), "account": payee, "currency": books.currency,
        "amount": "1", "reference": "TX-1", "cursor": cursor.group(1),
    }, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:500]
    assert "cursor=" in r.headers["location"]
    after_paid = client.get(r.headers["location"]).text
    # The same page, the payee paid where they were, owed one less.
    assert _accounts(after_paid) == _accounts(html)
    one = pay.parse_amount("1", books.currency)
    assert one is not None
    [line] = [p for p in books.statement(limit=500).json()["payees"] if p["account"] == payee]
    assert line["owed_minor"] == amounts[everyone.index(payee)] - one.minor
    # Every payee, paged the same way.
    every = client.get(url + "?all=1").text
    assert len(_accounts(every)) == 50
    assert (_link(every, "next") or "").startswith("?all=1&cursor=")
    # A payout refused or recorded from the every-payee view stays in that view.
    token = re.search(r'name="csrf_token" value="([^"]+)"', every)
    assert token
    assert 'name="all" value="1"' in every
    form = {"csrf_token": token.group(1), "account": _accounts(every)[0],
            "currency": books.currency, "all": "1"}  # fmt: skip
    refused = client.post(url, data={**form, "amount": "lots", "reference": "TX-2"})
    assert refused.status_code == 422
    assert 'name="all" value="1"' in refused.text
    assert len(_accounts(refused.text)) == 50
    paid = client.post(url, data={**form, "amount": "1", "reference": "TX-3"},
                       follow_redirects=False)  # fmt: skip
    assert paid.status_code == 303, paid.text[:500]
    assert "all=1" in paid.headers["location"]


def _walk(
    books: Books, limit: int, between: Any = None, **params: Any
) -> list[list[dict[str, Any]]]:
    """Every page of the statement, following ``next_cursor``; ``between(n)`` runs after the
    n-th page is read (a payout recorded, an earning posted)."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        r = books.statement(limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        pages.append(r.json()["payees"])
        if between is not None:
            between(len(pages))
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages


def _pay(books: Books, account: str, minor: int, reference: str) -> None:
    body = {"account": account, "amount_minor": minor, "currency": books.currency,
            "reference": reference}  # fmt: skip
    r = books.client.post(
        f"/api/v1/brands/{books.slug}/payouts", json=body, headers=books.admin.auth
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("owed", ["false", "true"])
def test_payees_paid_while_a_client_walks_the_pages_are_each_listed_once(
    client: TestClient, world: World, db: Database, owed: str
) -> None:
    """Between the first page and the second, the admin pays a payee of the first page part
    of their debt, and a payee of the last page earns more. Ordered by amount owed, the first
    fell behind the cursor's amount and came again, and the second jumped ahead of it and was
    never listed; ordered by payee, each is listed once, as they stand when their page is
    read."""
    books = Books(client, world, db)
    everyone = books.owe(900, 800, 700, 600, 500, 400, 300, 200, 100)

    def meanwhile(page: int) -> None:
        if page == 1:
            _pay(books, everyone[0], 850, "TX-1")  # 900 owed: 50 left
            books.owe_more(everyone[-1], 2000)  # 100 owed: 2,100

    pages = _walk(books, 3, meanwhile, owed=owed)
    walked = [p["account"] for page in pages for p in page]
    assert sorted(walked) == sorted(everyone)
    assert len(walked) == len(set(walked))
    assert walked == sorted(walked)  # by account, whatever anyone is owed
    owed_at_the_end = {p["account"]: p["owed_minor"] for p in pages[-1]}
    assert owed_at_the_end[everyone[-1]] == 2100  # read after the earning, as it stands


def test_a_payee_paid_off_before_their_page_leaves_the_owed_only_walk(
    client: TestClient, world: World, db: Database
) -> None:
    """Paid in full while the client is on the first page: no longer owed, not listed; paid
    in full after their page was read: listed once, on that page."""
    books = Books(client, world, db)
    everyone = books.owe(100, 200, 300, 400, 500)

    def meanwhile(page: int) -> None:
        if page == 1:
            _pay(books, everyone[0], 100, "TX-1")  # on the first page: already listed
            _pay(books, everyone[3], 400, "TX-2")  # on the second: no longer owed

    pages = _walk(books, 2, meanwhile, owed="true")
    walked = [p["account"] for page in pages for p in page]
    assert walked == [a for a in everyone if a != everyone[3]]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    st.lists(st.integers(1, 500), max_size=12),
    st.integers(1, 5),
    st.lists(st.tuples(st.integers(0, 11), st.integers(1, 500)), max_size=6),
)
def test_walking_the_pages_either_way_lists_every_payee_once_in_order(
    client: TestClient, world: World, db: Database,
    owed: list[int], limit: int, payments: list[tuple[int, int]],
) -> None:  # fmt: skip
    """Forward with payouts recorded between the pages, then back from the last page by
    each page's previous cursor (the payouts page's links): the same payees, once each."""
    books = Books(client, world, db)
    accounts = books.owe(*owed)
    left = dict(zip(accounts, owed, strict=True))
    queue = list(payments)

    def meanwhile(_page: int) -> None:
        if not queue or not accounts:
            return
        who, minor = queue.pop(0)
        account = accounts[who % len(accounts)]
        if left[account] > 0:
            paid = min(minor, left[account])
            _pay(books, account, paid, f"TX-{len(queue)}-{who}")
            left[account] -= paid

    forward = _walk(books, limit, meanwhile)
    walked = [p["account"] for page in forward for p in page]
    assert walked == sorted(accounts)
    assert all(len(page) == limit for page in forward[:-1])
    assert {
        p["account"]: p["owed_minor"] for p in books.statement(limit=500).json()["payees"]
    } == left
    # Back from the last page through the service (the page's previous links): same pages.
    with db.sessions() as session:
        ctx = tenancy.access_brand(session, books.slug, None)
        ends = [ledger.statement_page(session, ctx, limit, cursor=None)]
        while ends[-1].next_cursor is not None:
            ends.append(ledger.statement_page(session, ctx, limit, cursor=ends[-1].next_cursor))
        back = [ends[-1]]
        while back[-1].previous_cursor is not None:
            back.append(ledger.statement_page(session, ctx, limit, before=back[-1].previous_cursor))
    assert [[line.balance.payee.account for line in part.lines] for part in reversed(back)] == [
        [line.balance.payee.account for line in part.lines] for part in ends
    ]
    total = sum(max(v, 0) for v in left.values())
    assert ends[0].owed.get(books.currency, Money(0, books.currency)).minor == total
    assert ends[0].count == len(accounts)
