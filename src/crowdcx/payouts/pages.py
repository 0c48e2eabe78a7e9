"""Settlement pages for brand admins: who is owed what, and recording a payout."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import N_, _
from crowdcx.kernel.money import Money
from crowdcx.payouts import rules as pay
from crowdcx.payouts import service
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.web.deps import CsrfChecked, CurrentUser, Uow, now
from crowdcx.web.templating import NavItem, page, register_nav

router = APIRouter(include_in_schema=False)
register_nav(NavItem(N_("Payouts"), "admin/payouts", "brand.manage", order=10))


def payee_labels() -> dict[str, str]:
    return {
        "expert": _("Expert earnings"),
        "credit": _("Reward: account credit"),
        "cash": _("Reward: cash"),
        "charity": _("Reward: charity donation"),
    }


def _page(request: Request, uow: Uow, ctx: BrandContext, show_all: bool, **extra: Any) -> Response:
    status = int(extra.pop("status", 200))
    lines = service.statement(uow.session, ctx, owed_only=not show_all)
    totals: dict[str, Money] = {}
    for line in lines:
        b = line.balance
        if b.owed.minor > 0:
            totals[b.currency] = totals.get(b.currency, Money.zero(b.currency)) + b.owed
    context = {
        "ctx": ctx,
        "lines": lines,
        "totals": totals,
        "show_all": show_all,
        "labels": payee_labels(),
        "errors": {},
        "form": {},
        "message": "",
        **extra,
    }
    return page(request, "payouts/payouts.html", context, status=status)


@router.get("/b/{slug}/admin/payouts")
def payouts(
    slug: str, request: Request, user: CurrentUser, uow: Uow, all: str = "", paid: str = ""
) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    message = _("Payout recorded.") if paid == "1" else ""
    if paid == "again":
        message = _("This payout was already recorded under that reference; nothing was added.")
    return _page(request, uow, ctx, all == "1", message=message)


@router.post("/b/{slug}/admin/payouts", dependencies=[CsrfChecked])
def record_payout(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    account: Annotated[str, Form(max_length=80)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    row = f"{account}/{currency}"
    form = {row: {"amount": amount, "reference": reference}}
    code = currency.strip().upper()
    money = pay.parse_amount(amount, code) if len(code) == 3 and code.isalpha() else None
    if money is None:
        detail = _("Enter the amount paid as a number, such as 120.50.")
        return _page(request, uow, ctx, False, errors={row: detail}, form=form, status=422)
    try:
        done = service.record_payout(uow.session, ctx, account, money, reference, now())
    except AppError as error:
        uow.rollback()
        return _page(request, uow, ctx, False, errors={row: error.detail}, form=form,
                     status=error.status)  # fmt: skip
    uow.commit()
    return RedirectResponse(
        f"/b/{slug}/admin/payouts?paid={'again' if done.replayed else '1'}", status_code=303
    )
