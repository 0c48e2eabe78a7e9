"""Brand administration pages: members and their roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import N_, _
from crowdcx.tenancy import service
from crowdcx.tenancy.rules import ROLES
from crowdcx.web.deps import CsrfChecked, CurrentUser, Uow
from crowdcx.web.labels import role_labels
from crowdcx.web.templating import NavItem, page, register_nav

router = APIRouter(include_in_schema=False)
register_nav(NavItem(N_("Members"), "admin/members", "members.manage"))


def _page(
    request: Request, ctx: service.BrandContext, uow: Uow, cursor: str | None, **extra: object
) -> Response:
    status = int(extra.pop("status", 200))  # type: ignore[call-overload]
    listing = service.list_members(uow.session, ctx, cursor, 50)
    context = {
        "ctx": ctx,
        "page": listing,
        "roles": ROLES,
        "role_names": role_labels(),
        "form": {},
        "errors": {},
        **extra,
    }
    return page(request, "members.html", context, status=status)


@router.get("/b/{slug}/admin/members")
def members(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    cursor: str | None = None,
    added: int = 0,
    changed: int = 0,
) -> Response:
    ctx = service.access_brand(uow.session, slug, user, "members.manage")
    message = _("Member added.") if added else _("Roles saved.") if changed else ""
    return _page(request, ctx, uow, cursor, message=message)


@router.post("/b/{slug}/admin/members", dependencies=[CsrfChecked])
def add_member(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    email: Annotated[str, Form(max_length=320)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    ctx = service.access_brand(uow.session, slug, user, "members.manage")
    try:
        service.add_member(uow, ctx, email, roles or [])
    except AppError as error:
        uow.rollback()
        form = {"email": email, "roles": roles or []}
        field = error.field or "email"
        return _page(
            request, ctx, uow, None, form=form, errors={field: error.detail}, status=error.status
        )
    uow.commit()
    return RedirectResponse(f"/b/{slug}/admin/members?added=1", status_code=303)


@router.post("/b/{slug}/admin/members/{user_id}", dependencies=[CsrfChecked])
def change_roles(
    slug: str,
    user_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """A member's roles, changed from their row: how a customer who signed up becomes an
    expert, or an admin hands the brand on."""
    ctx = service.access_brand(uow.session, slug, user, "members.manage")
    try:
        service.set_roles(uow, ctx, user_id, roles or [])
    except AppError as error:
        uow.rollback()
        return _page(
            request,
            ctx,
            uow,
            None,
            errors={f"roles-{user_id}": error.detail},
            status=error.status,
        )
    uow.commit()
    return RedirectResponse(f"/b/{slug}/admin/members?changed=1", status_code=303)
