"""The account page's data protection doors (download my data, delete my account) and the
brand admin's erasure of a customer's data from the members page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crowdcx.identity.pages import account_page
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import N_
from crowdcx.privacy import api, service
from crowdcx.tenancy.service import access_brand
from crowdcx.web.context import SESSION_COOKIE
from crowdcx.web.deps import CsrfChecked, CurrentUser, Uow, now
from crowdcx.web.templating import page

router = APIRouter(include_in_schema=False)


@router.get("/account/export")
def export(request: Request, user: CurrentUser, uow: Uow) -> Response:
    try:
        return api.export_response(request, uow, user)
    except AppError as error:
        return account_page(request, uow, user, problem=error.detail, status=error.status)


@router.post("/account/delete", dependencies=[CsrfChecked])
def delete_account(
    request: Request,
    user: CurrentUser,
    uow: Uow,
    password: Annotated[str, Form(max_length=1024, title=N_("Your password, to confirm"))] = "",
) -> Response:
    try:
        api.confirm_password(request, uow, user, password)
        service.erase_account(uow, user, user, now(), self_service=True)
    except AppError as error:
        uow.rollback()
        return account_page(
            request,
            uow,
            user,
            delete_errors={error.field or "delete": error.detail},
            status=error.status,
        )
    uow.commit()
    response = page(request, "account_deleted.html", {"user": None})
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/b/{slug}/admin/members/{user_id}/erase")
def confirm_erase_customer(
    slug: str, user_id: int, request: Request, user: CurrentUser, uow: Uow
) -> Response:
    """The confirmation step, naming the person whose data would be erased."""
    ctx = access_brand(uow.session, slug, user, "members.manage")
    customer = service.only_customer(uow.session, ctx, user_id)
    return page(request, "erase_customer.html", {"ctx": ctx, "customer": customer})


@router.post("/b/{slug}/admin/members/{user_id}/erase", dependencies=[CsrfChecked])
def erase_customer(slug: str, user_id: int, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user, "members.manage")
    service.only_customer(uow.session, ctx, user_id)
    erased = service.erase_customer(uow, ctx, user_id, now())
    uow.commit()
    return RedirectResponse(f"/b/{slug}/admin/members?erased={erased}", status_code=303)
