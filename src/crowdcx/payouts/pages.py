"""Settlement pages for brand admins: who is owed what, and recording a payout."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import N_, _
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


# Payees per page.
PAGE_SIZE = 50


def _page(
    request: Request,
    uow: Uow,
    ctx: BrandContext,
    show_all: bool,
    cursor: str = "",
    before: str = "",
    **extra: Any,
) -> Response:
    status = int(extra.pop("status", 200))
    part = service.statement_page(
        uow.session, ctx, PAGE_SIZE, owed_only=not show_all,
        cursor=cursor or None, before=before or None,
    )  # fmt: skip
    context = {
        "ctx": ctx,
        "lines": part.lines,
        "totals": {currency: total for currency, total in part.owed.items() if total.minor > 0},
        "count": part.count,
        "show_all": show_all,
        "cursor": cursor,
        "before": before,
        "next_cursor": part.next_cursor,
        "previous_cursor": part.previous_cursor,
        "labels": payee_labels(),
        "errors": {},
        "form": {},
        "message": "",
        **extra,
    }
    return page(request, "payouts/payouts.html", context, status=status)


@router.get("/b/{slug}/admin/payouts")
def payouts(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    all: str = "",
    paid: str = "",
    cursor: Annotated[str, Query(max_length=400)] = "",
    before: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    message = _("Payout recorded.") if paid == "1" else ""
    if paid == "again":
        message = _("This payout was already recorded under that reference; nothing was added.")
    return _page(request, uow, ctx, all == "1", cursor, before, message=message)


@router.post("/b/{slug}/admin/payouts", dependencies=[CsrfChecked])
def record_payout(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    account: Annotated[str, Form(max_length=80)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    amount: Annotated[str, Form(max_length=40, title=N_("Amount"))] = "",
    reference: Annotated[str, Form(max_length=200, title=N_("Reference of the payment"))] = "",
    cursor: Annotated[str, Form(max_length=400)] = "",
    before: Annotated[str, Form(max_length=400)] = "",
    all: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """Record a payout; the page it was recorded from (its cursor, and whether it listed
    every payee) is shown again: with the error next to the payee's row, or after the
    redirect."""
    show_all = all == "1"
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    row = f"{account}/{currency}"
    form = {row: {"amount": amount, "reference": reference}}
    code = currency.strip().upper()
    known = len(code) == 3 and code.isascii() and code.isalpha()
    money = pay.parse_amount(amount, code) if known else None
    if money is None:
        detail = (
            _("Enter an amount above zero.")
            if known and pay.is_negative_amount(amount, code)
            else _("Enter the amount paid as a number, such as 120.50.")
        )
        return _page(request, uow, ctx, show_all, cursor, before, errors={row: detail},
                     form=form, status=422)  # fmt: skip
    try:
        done = service.record_payout(uow.session, ctx, account, money, reference, now())
    except AppError as error:
        uow.rollback()
        return _page(request, uow, ctx, show_all, cursor, before, errors={row: error.detail},
                     form=form, status=error.status)  # fmt: skip
    uow.commit()
    query = {
        "all": "1" if show_all else "",
        "paid": "again" if done.replayed else "1",
        "cursor": cursor,
        "before": before,
    }
    return RedirectResponse(
        f"/b/{slug}/admin/payouts?{urlencode({k: v for k, v in query.items() if v})}",
        status_code=303,
    )
