"""The expert's workspace says what is still owed as the earnings page does: in the reader's
number format ("4 916,50 ₽", not "4916.50 RUB"), and never a negative amount owed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.payouts import rules as pay
from crowdcx.payouts import service as ledger
from crowdcx.tenancy import service as tenancy
from tests.conftest import World
from tests.payouts.test_api import _resolve, ledger_rows
from tests.tickets.test_api import Desk


def _between(html: str, testid: str, end: str) -> str:
    return html.split(f'data-testid="{testid}">')[1].split(end)[0]


def test_the_workspace_says_what_is_owed_as_the_earnings_page_does(
    client: TestClient, world: World, db: Database
) -> None:
    desk = Desk(client, world)
    earned = _resolve(desk, 2)
    expert = desk.experts[0]
    account = pay.expert_earnings_account(str(expert.id))
    cur = desk.get("/payouts", desk.admin).json()["payees"][0]["currency"]
    body = {"account": account, "amount_minor": 100, "currency": cur, "reference": "TX-1"}
    assert desk.post("/payouts", desk.admin, body).status_code == 201
    for lang in ("ru", "zh-Hant", "en"):
        earnings = client.get(f"/b/{desk.slug}/earnings?lang={lang}", headers=expert.auth).text
        workspace = client.get(f"/b/{desk.slug}/workspace?lang={lang}", headers=expert.auth).text
        owed = _between(earnings, "earnings-owed", "</strong>")
        assert _between(workspace, "workspace-owed", "</span>") == owed, lang

    # Paid in full, then an earning reversed: paid ahead, not "still owed −2.50".
    rest = {**body, "amount_minor": earned - 100, "reference": "TX-2"}
    assert desk.post("/payouts", desk.admin, rest).status_code == 201
    with db.transaction() as uow:
        ctx = tenancy.access_brand(uow.session, desk.slug, None)
        [row] = [p for p in ledger_rows(uow.session, ctx) if p.kind == "earning"][:1]
        reversal = pay.decide_reversal(row.correlation_key, ledger_rows(uow.session, ctx), utcnow())
        assert isinstance(reversal, pay.PostingSet)
        ledger.post(uow.session, ctx.brand.id, reversal)
    workspace = client.get(f"/b/{desk.slug}/workspace?lang=en", headers=expert.auth).text
    assert 'data-testid="workspace-owed"' not in workspace
    assert "paid ahead by" in workspace
