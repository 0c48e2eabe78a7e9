"""``create_app(settings)``: the one place that wires the platform together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from starlette.types import Scope

from crowdcx import __version__
from crowdcx.analytics import api as analytics_api
from crowdcx.analytics import pages as analytics_pages
from crowdcx.community import api as community_api
from crowdcx.community import pages as community_pages
from crowdcx.config import Settings
from crowdcx.identity import api as identity_api
from crowdcx.identity import pages as identity_pages
from crowdcx.kernel.db import Database
from crowdcx.kernel.deferred import DeferredCounters
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import use_locale
from crowdcx.kernel.live import make_broadcaster
from crowdcx.knowledge import api as knowledge_api
from crowdcx.knowledge import pages as knowledge_pages
from crowdcx.knowledge.jobs import ImportWorker
from crowdcx.payouts import api as payouts_api
from crowdcx.payouts import pages as payouts_pages
from crowdcx.privacy import api as privacy_api
from crowdcx.privacy import pages as privacy_pages
from crowdcx.quality import api as quality_api
from crowdcx.quality import pages as quality_pages
from crowdcx.quality import service as quality_service
from crowdcx.tenancy import api as tenancy_api
from crowdcx.tenancy import pages as tenancy_pages
from crowdcx.tenancy.events import MemberAdded
from crowdcx.tenancy.models import Brand
from crowdcx.tickets import api as tickets_api
from crowdcx.tickets import pages as tickets_pages
from crowdcx.tickets.service import LiveNotice
from crowdcx.tickets.sweeper import Sweeper
from crowdcx.web import pages as web_pages
from crowdcx.web import problems
from crowdcx.web.context import BrandLocales, WebContextMiddleware
from crowdcx.web.labels import role_labels
from crowdcx.web.templating import Renderer, make_environment

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"
SWAGGER_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
API_DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CrowdCX API</title>
<link rel="icon" href="/api/docs-static/favicon.png">
<link rel="stylesheet" href="/api/docs-static/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="/api/docs-static/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body></html>
"""
log = logging.getLogger("crowdcx")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    db = Database(settings.database_url)
    broadcaster = make_broadcaster(settings.redis_url)

    sweeper = Sweeper(db, settings.sweep_interval_s) if settings.sweep_interval_s > 0 else None
    counters = DeferredCounters(db)
    importer = (
        ImportWorker(db, settings.import_interval_s) if settings.import_interval_s > 0 else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if sweeper is not None:
            sweeper.start()
        if importer is not None:
            importer.start()
        counters.start()
        if settings.handler_threads is not None:
            to_thread.current_default_thread_limiter().total_tokens = settings.handler_threads
        yield
        if sweeper is not None:
            sweeper.stop()
        if importer is not None:
            importer.stop()
        counters.stop()
        await broadcaster.close()
        db.dispose()

    app = FastAPI(
        title="CrowdCX API",
        version=__version__,
        description="Crowdsourced customer service: brands, people, self-service, community "
        "and a paid expert crowd. Errors are RFC 9457 problem+json with a stable `code`.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served below from local files: see api_docs
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    # The sample of expert resolutions staff review is drawn by a hash keyed with the secret.
    quality_service.set_sampling_key(settings.secret_key)
    app.state.db = db
    app.state.broadcaster = broadcaster
    app.state.counters = counters
    app.state.import_worker = importer
    app.state.export_throttle = privacy_api.ExportThrottle()
    renderer = Renderer(make_environment())
    app.state.render = renderer

    def brand_default_locale(slug: str) -> str | None:
        with db.sessions() as session:
            return session.scalar(select(Brand.default_locale).where(Brand.slug == slug))

    app.state.brand_locales = BrandLocales(brand_default_locale)

    def refusal_page(scope: Scope, status: int, code: str, title: str, detail: str) -> bytes:
        # The middleware's refusals (body too large, a NUL) as the error page a browser gets.
        error = AppError(status, code, detail, title=title)
        return bytes(renderer.error_page(Request(scope), error).body)

    app.add_middleware(
        WebContextMiddleware,
        brand_locales=app.state.brand_locales,
        max_body_bytes=settings.max_body_bytes,
        secure_cookies=settings.secure_cookies,
        body_limits=[knowledge_api.IMPORT_LIMIT],
        page_refusal=refusal_page,
    )
    problems.install(app, renderer.error_page)

    # After-commit effects: tell a person, live, that they joined a brand.
    def on_member_added(event: MemberAdded) -> None:
        with use_locale("en"):
            labels = role_labels()
        broadcaster.publish(
            f"user:{event.user_id}",
            "notice",
            {
                "kind": "member_added",
                "brand": event.brand_slug,
                "roles": list(event.roles),
                "text": f"{event.brand_name}: {', '.join(labels[r] for r in event.roles)}",
            },
        )

    db.bus.subscribe(MemberAdded, on_member_added)
    db.bus.subscribe(LiveNotice, lambda n: broadcaster.publish(n.channel, n.event, n.data))

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Swagger UI from the fastapi-offline wheel, not from a CDN: the pages' CSP allows
    # scripts from this origin only (FastAPI's default page, a CDN script and an inline
    # initializer, was a blank page), and an installation may have no internet.
    app.mount("/api/docs-static", StaticFiles(directory=SWAGGER_DIR), name="api-docs-static")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(API_DOCS_HTML)

    for router in (
        identity_api.router,
        tenancy_api.router,
        web_pages.ops_router,
        web_pages.router,
        identity_pages.router,
        tenancy_pages.router,
        tickets_api.router,
        tickets_pages.router,
        knowledge_api.router,
        knowledge_pages.router,
        community_api.router,
        community_pages.router,
        payouts_api.router,
        payouts_pages.router,
        analytics_api.router,
        analytics_pages.router,
        quality_api.router,
        quality_pages.router,
        privacy_api.router,
        privacy_pages.router,
    ):
        app.include_router(router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn workers: each builds its own app from the environment."""
    return create_app(Settings())
