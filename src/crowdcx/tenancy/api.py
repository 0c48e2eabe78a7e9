"""JSON API for brands and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crowdcx.identity.models import User
from crowdcx.kernel.errors import forbidden
from crowdcx.kernel.i18n import _
from crowdcx.tenancy import service
from crowdcx.tenancy.models import Brand, Membership
from crowdcx.tenancy.schemas import (
    BrandCreate,
    BrandOut,
    BrandPage,
    BrandUpdate,
    MemberCreate,
    MemberOut,
    MemberPage,
    RolesUpdate,
)
from crowdcx.tickets import service as tickets_service
from crowdcx.web.deps import CurrentUser, Uow, now

router = APIRouter(prefix="/api/v1/brands", tags=["brands"])


def brand_out(brand: Brand) -> BrandOut:
    return BrandOut(
        id=brand.id,
        slug=brand.slug,
        name=brand.name,
        default_locale=brand.default_locale,
        locales=brand.locales,
        settings=brand.settings,
        created_at=brand.created_at,
    )


def member_out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=sorted(membership.role_names),
        since=membership.created_at,
    )


@router.post("", status_code=201, response_model=BrandOut)
def create_brand(body: BrandCreate, user: CurrentUser, uow: Uow, request: Request) -> BrandOut:
    if not user.is_platform_admin:
        raise forbidden(
            _("Only a platform administrator can create brands."), "platform_admin_required"
        )
    settings = body.settings.model_dump(exclude_none=True) if body.settings else None
    brand = service.create_brand(
        uow,
        slug=body.slug,
        name=body.name,
        default_locale=body.default_locale,
        locales=body.locales,
        settings=settings,
    )
    uow.commit()
    request.app.state.brand_locales.forget(brand.slug)
    return brand_out(brand)


@router.get("", response_model=BrandPage)
def list_brands(
    uow: Uow,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BrandPage:
    page = service.list_brands(uow.session, cursor, limit)
    return BrandPage(items=[brand_out(b) for b in page.items], next_cursor=page.next_cursor)


@router.get("/{slug}", response_model=BrandOut)
def get_brand(slug: str, uow: Uow) -> BrandOut:
    return brand_out(service.get_brand(uow.session, slug))


@router.patch("/{slug}", response_model=BrandOut)
def update_brand(
    slug: str, body: BrandUpdate, user: CurrentUser, uow: Uow, request: Request
) -> BrandOut:
    ctx = service.access_brand(uow.session, slug, user, "brand.manage")
    settings = body.settings.model_dump(exclude_unset=True) if body.settings else {}
    before = list(ctx.brand.locales)
    brand = service.update_brand(
        uow,
        ctx,
        name=body.name,
        settings=settings,
        locales=body.locales,
        default_locale=body.default_locale,
    )
    if body.locales is not None:
        tickets_service.follow_brand_languages(uow, ctx, before, now())
    out = brand_out(brand)
    uow.commit()
    request.app.state.brand_locales.forget(brand.slug)
    return out


@router.post("/{slug}/members", status_code=201, response_model=MemberOut)
def add_member(slug: str, body: MemberCreate, user: CurrentUser, uow: Uow) -> MemberOut:
    ctx = service.access_brand(uow.session, slug, user, "members.manage")
    membership = service.add_member(uow, ctx, body.email, body.roles)
    member = uow.session.get_one(User, membership.user_id)
    uow.commit()
    return member_out(membership, member)


@router.post("/{slug}/join", status_code=201, response_model=MemberOut)
def join(slug: str, user: CurrentUser, uow: Uow, response: Response) -> MemberOut:
    """The signed-in person becomes the brand's customer (200 with their roles if already a
    member)."""
    ctx = service.access_brand(uow.session, slug, user)
    membership, created = service.join_as_customer(uow, ctx)
    roles = sorted(membership.role_names)
    uow.commit()
    if not created:
        response.status_code = 200
    return MemberOut(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=roles,
        since=membership.created_at,
    )


@router.get("/{slug}/members", response_model=MemberPage)
def list_members(
    slug: str,
    user: CurrentUser,
    uow: Uow,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> MemberPage:
    ctx = service.access_brand(uow.session, slug, user, "members.manage")
    page = service.list_members(uow.session, ctx, cursor, limit)
    return MemberPage(items=[member_out(m, u) for m, u in page.items], next_cursor=page.next_cursor)


@router.put("/{slug}/members/{user_id}", response_model=MemberOut)
def set_roles(slug: str, user_id: int, body: RolesUpdate, user: CurrentUser, uow: Uow) -> MemberOut:
    ctx = service.access_brand(uow.session, slug, user, "members.manage")
    membership = service.set_roles(uow, ctx, user_id, body.roles, now())
    uow.commit()
    fresh = uow.session.scalar(
        select(Membership)
        .where(Membership.id == membership.id)
        .options(selectinload(Membership.roles))
    )
    assert fresh is not None
    return member_out(fresh, uow.session.get_one(User, user_id))
