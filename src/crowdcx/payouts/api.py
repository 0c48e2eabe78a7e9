"""JSON API of settlement: the brand's statement of what it owes its payees (experts'
earnings, members' redeemed rewards) and recording what it paid them (see docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from crowdcx.kernel.money import Money
from crowdcx.payouts import rules as pay
from crowdcx.payouts import service
from crowdcx.tenancy.service import access_brand
from crowdcx.web.deps import CurrentUser, Uow, now

router = APIRouter(prefix="/api/v1/brands/{slug}", tags=["payouts"])


class PayeeOut(BaseModel):
    account: str
    payee_kind: Literal["expert", "member"]
    user_id: int
    reward_kind: str  # credit | cash | charity for members, "" for experts
    name: str
    email: str
    currency: str
    earned_minor: int
    paid_minor: int
    owed_minor: int
    owed: str


class StatementOut(BaseModel):
    payees: list[PayeeOut]
    owed_minor: dict[str, int]  # per currency, over the whole statement (every page)
    next_cursor: str | None  # the next page's, None on the last


# Payees per answer, unless the caller asks for another number up to MAX_STATEMENT_LIMIT.
STATEMENT_LIMIT = 100
MAX_STATEMENT_LIMIT = 500


class PayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Field(min_length=1, max_length=80)
    # No upper bound here: more than is owed is refused by the rule, naming what is owed (a
    # bound here answered a huge amount with a bare "less than or equal to 10^15"), and only
    # an amount within what is owed (stored, so within the database's integers) is written.
    amount_minor: int = Field(gt=0)
    currency: str = Field(pattern="^[A-Za-z]{3}$")
    reference: str = Field(min_length=1, max_length=60)


class PayoutOut(BaseModel):
    account: str
    amount_minor: int
    currency: str
    reference: str
    owed_after_minor: int
    replayed: bool


def _line_out(line: service.StatementLine) -> PayeeOut:
    b = line.balance
    return PayeeOut(
        account=b.payee.account,
        payee_kind=b.payee.kind,
        user_id=b.payee.user_id,
        reward_kind=b.payee.reward_kind,
        name=line.name,
        email=line.email,
        currency=b.currency,
        earned_minor=b.earned.minor,
        paid_minor=b.paid.minor,
        owed_minor=b.owed.minor,
        owed=str(b.owed),
    )


@router.get("/payouts", response_model=StatementOut)
def statement(
    slug: str,
    uow: Uow,
    user: CurrentUser,
    owed: Annotated[bool, Query(description="only payees owed money")] = False,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_STATEMENT_LIMIT)] = STATEMENT_LIMIT,
) -> StatementOut:
    """The payees with what they earned, were paid and are still owed, largest debt first,
    ``limit`` at a time (``next_cursor``); ``owed_minor`` totals the whole statement."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    part = service.statement_page(uow.session, ctx, limit, owed_only=owed, cursor=cursor)
    return StatementOut(
        payees=[_line_out(line) for line in part.lines],
        owed_minor={currency: total.minor for currency, total in part.owed.items()},
        next_cursor=part.next_cursor,
    )


@router.post("/payouts", response_model=PayoutOut, status_code=201)
def record_payout(slug: str, body: PayoutIn, uow: Uow, user: CurrentUser) -> Response:
    """Record that the brand paid a payee (outside CrowdCX: a transfer, a store credit, a
    donation). The same reference again for the same payee and amount is the same payout:
    answered 200 with ``replayed: true``, nothing paid twice."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    currency = body.currency.upper()  # the payee's currency is checked by the rule
    done = service.record_payout(
        uow.session, ctx, body.account, Money(body.amount_minor, currency), body.reference, now()
    )
    uow.commit()
    out = PayoutOut(
        account=body.account,
        amount_minor=body.amount_minor,
        currency=currency,
        reference=pay.clean_reference(body.reference),
        owed_after_minor=done.owed_after.minor,
        replayed=done.replayed,
    )
    return JSONResponse(out.model_dump(), status_code=200 if done.replayed else 201)


@router.get("/payouts/statement.csv")
def statement_csv(slug: str, uow: Uow, user: CurrentUser) -> Response:
    """The statement for a spreadsheet or the bank: one row per payee and currency."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    return Response(
        service.statement_csv(service.statement(uow.session, ctx)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-payouts.csv"'},
    )
