"""The account page's data protection doors: download my data, delete my account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from crowdcx.identity.pages import account_page
from crowdcx.kernel.errors import AppError
from crowdcx.privacy import api, service
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
    password: Annotated[str, Form(max_length=1024)] = "",
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
