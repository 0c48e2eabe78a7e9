"""Settlement through the API and the pages: the brand sees what it owes each expert and
member, records what it paid, and nobody is paid twice — not by a double click, not by two
admins at once."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import timedelta

from fastapi.testclient import TestClient

from crowdcx.identity import service as identity
from crowdcx.kernel.db import Database
from crowdcx.kernel.i18n import format_money, use_locale
from crowdcx.kernel.models import utcnow
from crowdcx.kernel.money import Money
from crowdcx.payouts import rules as pay
from crowdcx.payouts import service as ledger
from crowdcx.tenancy import service as tenancy
from tests.community.test_races import _at_once
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_concurrency import servers  # noqa: F401  (the fixture)
from tests.tickets.test_pages import sign_in
from tests.web.test_formats import shown


def _resolve(desk: Desk, n: int) -> int:
    """``n`` tickets resolved by the first expert; the sum of their rates."""
    expert = desk.experts[0]
    desk.online(expert)
    total = 0
    for _ in range(n):
        tid = desk.ask()["id"]
        assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
        assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
        total += desk.get(f"/tickets/{tid}", desk.agent).json()["rate_minor"]
    return total


def test_the_brand_pays_an_expert_in_parts_and_each_payment_is_recorded_once(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world)
    earned = _resolve(desk, 2)
    expert = desk.experts[0]
    account = pay.expert_earnings_account(str(expert.id))
    statement = desk.get("/payouts", desk.admin).json()
    [line] = statement["payees"]
    assert (line["account"], line["payee_kind"], line["user_id"]) == (account, "expert", expert.id)
    assert (line["earned_minor"], line["paid_minor"], line["owed_minor"]) == (earned, 0, earned)
    assert line["name"] == "专家0"
    assert line["email"] == expert.email
    assert statement["owed_minor"] == {line["currency"]: earned}
    cur = line["currency"]

    first = {"account": account, "amount_minor": 300, "currency": cur, "reference": "TX-0042"}
    r = desk.post("/payouts", desk.admin, first)
    assert r.status_code == 201, r.text
    assert r.json()["owed_after_minor"] == earned - 300
    # A double click, or a retry after a lost answer: the same payout, not a second one.
    again = desk.post("/payouts", desk.admin, first)
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True
    other = desk.post("/payouts", desk.admin, {**first, "amount_minor": 200})
    assert other.status_code == 409
    assert other.json()["code"] == "payout_reference_used"
    too_much = desk.post(
        "/payouts", desk.admin, {**first, "reference": "TX-43", "amount_minor": earned}
    )
    assert too_much.status_code == 409, too_much.text
    assert too_much.json()["code"] == "payout_exceeds_owed"
    with use_locale("en"):  # the detail writes money as the reader does; `owed` stays plain
        assert format_money(Money(earned - 300, cur)) in too_much.json()["detail"]
    assert too_much.json()["owed"] == str(Money(earned - 300, cur))
    for huge in (10**16, 2**63, 10**40):  # past any database integer: still "only … is owed"
        r = desk.post("/payouts", desk.admin, {**first, "reference": "TX-9", "amount_minor": huge})
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "payout_exceeds_owed"
    russian = desk.client.post(
        desk.url("/payouts"),
        json={**first, "reference": "TX-44", "amount_minor": earned},
        headers={**desk.admin.auth, "Accept-Language": "ru"},
    )
    with use_locale("ru"):
        assert format_money(Money(earned - 300, cur)) in russian.json()["detail"]
    wrong_cur = desk.post("/payouts", desk.admin, {**first, "reference": "T2", "currency": "EUR"})
    assert wrong_cur.status_code == 422
    assert wrong_cur.json()["code"] == "payout_currency"
    refused = (
        {"amount_minor": 0}, {"amount_minor": -5}, {"currency": "E1R"}, {"reference": ""},
        {"account": "brand:1:payable"}, {"account": "expert:x:y"},
    )  # fmt: skip
    for bad in refused:
        r = desk.post("/payouts", desk.admin, {**first, "reference": "T3", **bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    invisible = desk.post("/payouts", desk.admin, {**first, "reference": "T\u200b4"})
    assert invisible.status_code == 422
    assert invisible.json()["code"] == "payout_reference"

    # The rest, in Chinese: the reference is the bank's.
    rest = {**first, "reference": "工行转账 7788", "amount_minor": earned - 300}
    assert desk.post("/payouts", desk.admin, rest).status_code == 201
    [line] = desk.get("/payouts", desk.admin).json()["payees"]
    assert (line["paid_minor"], line["owed_minor"]) == (earned, 0)
    assert desk.get("/payouts?owed=true", desk.admin).json()["payees"] == []

    # The expert sees what they earned, what they were paid and the payments themselves.
    mine = desk.get("/earnings/me", expert).json()
    assert mine["totals"] == {cur: str(Money(earned, cur))}
    assert mine["paid_out"] == {cur: str(Money(earned, cur))}
    assert mine["owed"] == {cur: str(Money(0, cur))}
    payouts = [x for x in mine["lines"] if x["kind"] == "payout"]
    assert [(x["ticket_id"], x["subject"], x["amount_minor"]) for x in payouts] == [
        (None, "工行转账 7788", -(earned - 300)), (None, "TX-0042", -300),
    ]  # fmt: skip
    assert mine["effective_hourly"]  # payouts are not tickets: the rate still reads them
    html = client.get(f"/b/{desk.slug}/earnings", headers=expert.auth).text
    # They were told of each payment, once (the replay told nobody again).
    told = client.get(f"/b/{desk.slug}/notifications", headers=expert.auth).text
    assert told.count("TX-0042") == 1, told
    assert "工行转账 7788" in told
    assert "工行转账 7788" in html
    assert "TX-0042" in html

    # Only brand admins see or record payouts.
    for who in (expert, desk.agent, desk.customer):
        assert desk.get("/payouts", who).status_code == 403
        assert desk.post("/payouts", who, {**first, "reference": "T9"}).status_code == 403


def test_the_statement_lists_rewards_and_exports_a_spreadsheet_safe_csv(
    client: TestClient, world: World, db: Database
) -> None:
    desk = Desk(client, world)
    earned = _resolve(desk, 1)
    member = world.member(desk.slug, ["helper"], '=HYPERLINK("x")')
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, desk.slug, None)
        cur = ctx.brand.settings.get("currency", "USD")
        reward = pay.post_reward("1", str(ctx.brand.id), str(member.id), "cash",
                                 Money(earned * 3, cur), utcnow())  # fmt: skip
        ledger.post(uow.session, ctx.brand.id, reward)
    payees = desk.get("/payouts", desk.admin).json()["payees"]
    assert [(p["payee_kind"], p["reward_kind"], p["owed_minor"]) for p in payees] == [
        ("expert", "", earned),
        ("member", "cash", earned * 3),
    ]  # by account, whatever each is owed
    r = client.get(f"/api/v1/brands/{desk.slug}/payouts/statement.csv", headers=desk.admin.auth)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["payee_kind"] for row in rows] == ["expert", "member"]
    assert rows[1]["name"].startswith("'=")  # never a formula in a spreadsheet
    assert rows[0]["owed"] == str(Money(earned, cur).to_decimal())


def _admin_page_form(client: TestClient, desk: Desk) -> tuple[str, dict[str, str]]:
    html = client.get(f"/b/{desk.slug}/admin/payouts", headers=desk.admin.auth).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    account = re.search(r'name="account" value="([^"]+)"', html)
    currency = re.search(r'name="currency" value="([^"]+)"', html)
    assert token, html
    assert account, html
    assert currency, html
    return html, {"csrf_token": token.group(1), "account": account.group(1),
                  "currency": currency.group(1)}  # fmt: skip


def test_the_payouts_page_records_an_amount_as_people_type_it(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world)
    earned = _resolve(desk, 2)
    sign_in(client, desk.admin)
    html, form = _admin_page_form(client, desk)
    assert "专家0" in html
    assert shown(html, Money(earned, form["currency"])) in html
    url = f"/b/{desk.slug}/admin/payouts"
    bad = client.post(url, data={**form, "amount": "12,5,0", "reference": "x"})
    assert bad.status_code == 422
    assert "120.50" in bad.text
    assert 'value="12,5,0"' in bad.text  # and keeps what was typed
    # A currency of letters that are not ISO's (ª is a letter, and "upper-case" as it
    # stands) is a typing error, not a 500 (found by the page sweep).
    odd = client.post(url, data={**form, "currency": "AAª", "amount": "0", "reference": "x"})
    assert odd.status_code == 422
    over = client.post(url, data={**form, "amount": "99999", "reference": "x"})
    assert over.status_code == 409
    assert "is owed" in over.text
    # A Russian admin's decimal comma, full-width digits from a Chinese keyboard.
    ok = client.post(url, data={**form, "amount": "１,５", "reference": "п/п 17"},
                     follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303, ok.text
    page = client.get(ok.headers["location"]).text
    assert "Payout recorded." in page
    assert shown(page, Money(earned - 150, form["currency"])) in page


def test_an_implausibly_large_payout_is_refused_as_more_than_is_owed(
    client: TestClient, world: World
) -> None:
    """Twenty nines were "enter the amount as a number": they are one, just more than owed."""
    desk = Desk(client, world)
    earned = _resolve(desk, 1)
    sign_in(client, desk.admin)
    _html, form = _admin_page_form(client, desk)
    owed = Money(earned, form["currency"])
    url = f"/b/{desk.slug}/admin/payouts"
    for typed in ("9" * 20, "1 000 000 000 000 000 000,50", "９" * 16):
        over = client.post(url, data={**form, "amount": typed, "reference": "x"})
        assert over.status_code == 409, (typed, over.text[:300])
        assert "is owed" in over.text
        assert shown(over.text, owed) in over.text  # the amount owed, named
        assert "as a number" not in over.text
    statement = desk.get("/payouts", desk.admin).json()
    assert statement["owed_minor"] == {form["currency"]: earned}  # nothing was recorded


def test_two_admins_paying_at_once_never_pay_more_than_is_owed(
    database_url: str,
    servers: list[str],  # noqa: F811
) -> None:
    """20 payouts of 60 against 100 owed, each under its own reference, released together
    through two server processes: exactly one is recorded, the others are refused (409).
    Expert 4242 has no account any more (closed since): they are paid, not notified."""
    db = Database(database_url)
    with db.transaction() as uow:
        tenancy.create_brand(uow, slug="pay", name="Pay", default_locale="en", locales=["en"])
        ctx = tenancy.access_brand(uow.session, "pay", None)
        admin = identity.register(uow, email="a@pay.example", password="a long passphrase",
                                  display_name="A", locale="en", hash_profile="fast")  # fmt: skip
        tenancy.add_member(uow, ctx, admin.email, ["brand_admin"])
        raw, _ = identity.issue_token(uow, admin, "api", timedelta(hours=1), utcnow())
        earning = pay.decide_earning("1", str(ctx.brand.id), "4242", False, Money(100, "USD"),
                                     [], utcnow())  # fmt: skip
        assert isinstance(earning, pay.PostingSet)
        ledger.post(uow.session, ctx.brand.id, earning)
    n = 20
    statuses = _at_once(servers, n, "/api/v1/brands/pay/payouts", raw, lambda i: {
        "account": "expert:4242:earnings", "amount_minor": 60, "currency": "USD",
        "reference": f"TX-{i}",
    })  # fmt: skip
    assert statuses == Counter({201: 1, 409: n - 1}), statuses
    with db.sessions() as s:
        ctx = tenancy.access_brand(s, "pay", None)
        [line] = ledger.statement(s, ctx)
    assert (line.balance.paid.minor, line.balance.owed.minor) == (60, 40)


def test_a_reference_typed_full_width_is_the_same_payout(client: TestClient, world: World) -> None:
    """A reference pasted from a Chinese bank statement in full-width characters, or with an
    ideographic space, is the same transfer as its ASCII form: it was a new key, and the
    expert was paid twice for one transfer."""
    desk = Desk(client, world)
    earned = _resolve(desk, 2)
    account = pay.expert_earnings_account(str(desk.experts[0].id))
    cur = desk.get("/payouts", desk.admin).json()["payees"][0]["currency"]
    body = {"account": account, "amount_minor": 300, "currency": cur, "reference": "TX-0042"}
    assert desk.post("/payouts", desk.admin, body).status_code == 201
    wide = desk.post("/payouts", desk.admin, {**body, "reference": "\u3000ＴＸ－００４２"})
    assert wide.status_code == 200, wide.text
    assert wide.json()["replayed"] is True
    assert wide.json()["reference"] == "TX-0042"
    [line] = desk.get("/payouts", desk.admin).json()["payees"]
    assert line["paid_minor"] == 300
    assert line["owed_minor"] == earned - 300


def test_an_expert_paid_ahead_is_not_told_a_negative_amount_is_owed(
    client: TestClient, world: World, db: Database
) -> None:
    """Paid in full, then one ticket's earning reversed (reopened and resolved by staff): the
    expert's page said "still owed to you −2.50 USD" (ru: «вам ещё должны −2,50»). It says
    they were paid ahead, and that their next earnings make up for it."""
    desk = Desk(client, world)
    earned = _resolve(desk, 2)
    expert = desk.experts[0]
    account = pay.expert_earnings_account(str(expert.id))
    cur = desk.get("/payouts", desk.admin).json()["payees"][0]["currency"]
    body = {"account": account, "amount_minor": earned, "currency": cur, "reference": "TX-1"}
    assert desk.post("/payouts", desk.admin, body).status_code == 201
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, desk.slug, None)
        [row] = [p for p in ledger_rows(uow.session, ctx) if p.kind == "earning"][:1]
        reversal = pay.decide_reversal(row.correlation_key, ledger_rows(uow.session, ctx), utcnow())
        assert isinstance(reversal, pay.PostingSet)
        ledger.post(uow.session, ctx.brand.id, reversal)
    html = client.get(f"/b/{desk.slug}/earnings", headers=expert.auth).text
    assert 'data-testid="earnings-owed"' not in html
    assert 'data-testid="earnings-ahead"' in html
    ahead = html.split('data-testid="earnings-ahead">')[1].split("</span>")[0]
    assert "-" not in ahead, ahead


def ledger_rows(session: object, ctx: object) -> list[pay.Posting]:
    from sqlalchemy.orm import Session

    from crowdcx.payouts.models import LedgerPosting

    assert isinstance(session, Session)
    rows = session.scalars(ctx.scoped(LedgerPosting))  # type: ignore[attr-defined]
    return [
        pay.Posting(r.account, Money(r.amount_minor, r.currency), r.kind, r.correlation_key,
                    r.idempotency_key, r.at, r.memo)
        for r in rows
    ]  # fmt: skip


def test_a_negative_or_grouped_amount_on_the_payouts_page_is_answered_plainly(
    client: TestClient, world: World
) -> None:
    """ "-5" was told "enter the amount paid as a number, such as 120.50" — it is one; the
    admin needs to hear that a payout is above zero. "1,000" (a thousand, as English and
    Chinese write it) was refused the same way: it is read as a thousand, here more than
    is owed."""
    desk = Desk(client, world)
    _resolve(desk, 1)
    sign_in(client, desk.admin)
    _html, form = _admin_page_form(client, desk)
    url = f"/b/{desk.slug}/admin/payouts"
    for typed in ("-5", "−5", "－５"):
        r = client.post(url, data={**form, "amount": typed, "reference": "x"})
        assert r.status_code == 422, typed
        assert "Enter an amount above zero." in r.text, typed
        assert "as a number" not in r.text
    r = client.post(url, data={**form, "amount": "1,000", "reference": "x"})
    assert r.status_code == 409, r.text[:300]
    assert "is owed" in r.text


def test_a_reused_reference_is_explained_in_plain_chinese(client: TestClient, world: World) -> None:
    """ "请使用新转账自己的参考号" was a word-for-word "use the new transfer's own reference"."""
    desk = Desk(client, world)
    _resolve(desk, 2)
    sign_in(client, desk.admin)
    _html, form = _admin_page_form(client, desk)
    url = f"/b/{desk.slug}/admin/payouts"
    first = client.post(url, data={**form, "amount": "1", "reference": "TX-7"},
                        follow_redirects=False)  # fmt: skip
    assert first.status_code == 303
    for lang, text in (("zh-Hans", "请为这笔新转账填写它自己的参考号。"),
                       ("zh-Hant", "請為這筆新轉帳填寫它自己的參考號。")):  # fmt: skip
        again = client.post(f"{url}?lang={lang}", data={**form, "amount": "2", "reference": "TX-7"})
        assert again.status_code == 409, again.text[:300]
        assert text in again.text, lang
