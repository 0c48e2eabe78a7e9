"""Migration 0038 adds payee_balances, back-filled from the ledger (each payee's earned and
paid per currency, the brand's own accounts left out), and takes it away again, on each
backend; the statement over HTTP reads the back-filled rows, and postings after the
upgrade move them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.migrate import downgrade, upgrade
from crowdcx.kernel.models import utcnow
from crowdcx.kernel.money import Money
from crowdcx.payouts import rules as pay
from crowdcx.payouts import service as ledger
from crowdcx.tenancy import service as tenancy
from tests.conftest import World
from tests.migration_db import rows, table_names

BALANCES = "SELECT account, currency, earned_minor, paid_minor FROM payee_balances ORDER BY 1, 2"


def _post(db: Database, slug: str, posting_set: pay.PostingSet) -> None:
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, slug, None)
        ledger.post(uow.session, ctx.brand.id, posting_set)


def test_0038_payee_balances_up_and_down(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    with db.sessions() as session:
        brand_id = str(tenancy.access_brand(session, slug, None).brand.id)
    at = utcnow()
    for ticket, minor in (("1", 700), ("2", 300)):
        earning = pay.decide_earning(ticket, brand_id, "7", False, Money(minor, "USD"), [], at)
        assert isinstance(earning, pay.PostingSet)
        _post(db, slug, earning)
    _post(db, slug, pay.post_reward("1", brand_id, "8", "cash", Money(500, "EUR"), at))
    _post(db, slug, pay.post_reward("2", brand_id, "8", "cash", Money(40, "USD"), at))
    expert = pay.expert_earnings_account("7")
    paid = client.post(f"/api/v1/brands/{slug}/payouts", headers=admin.auth, json={
        "account": expert, "amount_minor": 250, "currency": "USD", "reference": "TX-1",
    })  # fmt: skip
    assert paid.status_code == 201, paid.text
    statement = client.get(f"/api/v1/brands/{slug}/payouts", headers=admin.auth).json()
    written = rows(database_url, BALANCES)
    assert written == [
        (expert, "USD", 1000, 250),
        ("member:8:cash", "EUR", 500, 0),
        ("member:8:cash", "USD", 40, 0),
    ]
    db.engine.dispose()

    downgrade(database_url, "0037")
    assert "payee_balances" not in table_names(database_url)
    upgrade(database_url, "heads")
    assert "payee_balances" in table_names(database_url)
    assert rows(database_url, BALANCES) == written  # back-filled from the ledger
    assert client.get(f"/api/v1/brands/{slug}/payouts", headers=admin.auth).json() == statement

    # A posting after the upgrade moves the back-filled row.
    _post(db, slug, pay.post_reward("3", brand_id, "8", "cash", Money(60, "EUR"), at))
    assert ("member:8:cash", "EUR", 560, 0) in rows(database_url, BALANCES)
