"""JSON API of the knowledge base and search (paths are contract: see docs/api.md)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from starlette.responses import JSONResponse, Response

from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError, invalid
from crowdcx.kernel.i18n import _, current_locale
from crowdcx.kernel.markdown import render
from crowdcx.kernel.pagination import decode_cursor, encode_cursor
from crowdcx.knowledge import jobs, rules, service
from crowdcx.knowledge.models import Article, ImportJob
from crowdcx.knowledge.schemas import (
    ArticleIn,
    ArticleList,
    ArticleOut,
    ArticlePatch,
    FeedbackComment,
    FeedbackIn,
    FeedbackList,
    FeedbackOut,
    ImportJobOut,
    ImportOut,
    ImportProgress,
    LiveOut,
    SearchEventIn,
    SearchOut,
    SearchResultOut,
)
from crowdcx.search import service as search
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.web.context import BodyLimit
from crowdcx.web.deps import CurrentUser, Uow, ViewerDep, get_db, now, visitor_key

router = APIRouter(prefix="/api/v1/brands/{slug}", tags=["knowledge"])

MAX_IMPORT_BYTES = 5 * 1024 * 1024


def too_large_message() -> str:
    return _("Import at most 5 MB at a time; split the file.")


# Both ways in to the FAQ import (this API and the page) take a body of the file's limit plus
# the form around it; the web context middleware refuses more before it is read.
IMPORT_LIMIT = BodyLimit(
    paths=re.compile(r"/(?:api/v1/brands/[a-z0-9-]{1,40}/imports|b/[a-z0-9-]{1,40}/help/import)"),
    max_bytes=MAX_IMPORT_BYTES + 256 * 1024,
    code="too_large",
    message=too_large_message,
    files_decoded_by_route=True,  # UTF-16 files; parse_faq_csv refuses a U+0000 in the text
)


def article_out(uow: UnitOfWork, ctx: BrandContext, a: Article) -> ArticleOut:
    at = now()
    # Authors and reviewers get the working revision only within their reading level.
    editor = service.sees_working(ctx, a)
    live = None
    if a.live:
        live = LiveOut(
            version=a.live_version or 0,
            title=a.live_title or "",
            body=a.live_body or "",
            body_html=render(a.live_body or ""),
            language=a.live_language or a.language,
            visibility=a.live_visibility or a.visibility,
            published_at=a.published_at,
            review_by=a.review_by,
            stale=rules.is_stale(a.review_by, a.live, at),
        )
    # Readers get the live copy only; the working revision is for authors and reviewers.
    title, body = (a.title, a.body) if editor or live is None else (live.title, live.body)
    language = a.language if editor or live is None else live.language
    visibility = a.visibility if editor or live is None else live.visibility
    actions = (
        rules.allowed_actions(
            service.state_of(uow.session, a), service.actor_of(ctx), service.kb_policy(ctx)
        )
        if editor
        else []
    )
    return ArticleOut(
        id=a.id,
        group_id=a.group_id or a.id,
        state=a.state if editor else "published",
        version=a.version if editor else (a.live_version or 0),
        title=title,
        body=body,
        body_html=render(body),
        language=language,
        tags=a.tags if editor else service.reader_tags(a),
        skills=a.skills if editor else service.reader_skills(a),
        visibility=visibility,
        author_id=a.author_id if editor else None,
        approved_by=a.approved_by if editor else None,
        helpful=a.helpful,
        unhelpful=a.unhelpful,
        live=live,
        translations={
            (v.live_language or v.language): v.id for v in service.variants(uow.session, ctx, a)
        },
        allowed_actions=actions,
        source_kind=a.source_kind if editor else None,
        source_id=a.source_id if editor else None,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


@router.get("/search", response_model=SearchOut)
def search_endpoint(
    slug: str,
    uow: Uow,
    viewer: ViewerDep,
    q: Annotated[str, Query(max_length=500)] = "",
    lang: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    kind: Annotated[list[str] | None, Query()] = None,
    explain: bool = False,
    source: Annotated[str, Query(pattern="^(help|ticket|question|assist|api)$")] = "api",
) -> SearchOut:
    """Published articles, solved community questions and, for experts and staff, past
    resolved tickets — only what the viewer may see. ``out_of_scope`` says "nothing good:
    offer the community or an expert" (see ``next_lanes``)."""
    ctx = access_brand(uow.session, slug, viewer.user)
    if not q.strip():
        raise invalid("q", _("Type something to search for."), "query_required")
    language = current_locale()
    if lang:
        lang_norm = rules.normalise_language(lang)
        if lang_norm is None:
            raise service.violation_error(rules.Violation("bad_language", "lang", {"value": lang}))
        language = lang_norm
    kinds = kind or ["article", "question", "ticket"]
    bad = [k for k in kinds if k not in ("article", "question", "ticket")]
    if bad:
        raise invalid("kind", _("Use kind=article, question or ticket."), "bad_kind")
    at = now()
    answer = search.search(
        uow.session, ctx, q, language=language, now=at, limit=limit, kinds=kinds, explain=explain
    )
    search.record(
        uow.session,
        ctx,
        "no_answer" if answer.out_of_scope else "shown",
        source,
        query=q,
        results=len(answer.results),
        at=at,
    )
    uow.commit()
    lanes = []
    if answer.out_of_scope:
        lanes = [
            {"lane": "community", "url": f"/b/{slug}/community/ask"},
            {"lane": "expert", "url": f"/b/{slug}/tickets/new"},
        ]
    return SearchOut(
        results=[
            SearchResultOut(
                kind=r.kind,
                id=r.id,
                title=r.title,
                snippet=r.snippet,
                score=r.score,
                url=r.url,
                language=r.language,
                explanation=r.explanation or None,
            )
            for r in answer.results
        ],
        out_of_scope=answer.out_of_scope,
        confidence=round(answer.confidence, 4),
        next_lanes=lanes,
    )


@router.post("/search/events", status_code=204)
def search_event(
    slug: str, body: SearchEventIn, request: Request, uow: Uow, viewer: ViewerDep
) -> Response:
    """Record that a suggestion was opened or solved the reader's problem: once per visitor,
    suggestion and day, and only for a suggestion this reader's searches can return."""
    ctx = access_brand(uow.session, slug, viewer.user)
    if not search.findable(uow.session, ctx, body.kind, body.id):
        raise AppError(
            404, "unknown_suggestion",
            _("There is no such suggestion to record: check the kind and id a search returned."),
        )  # fmt: skip
    search.record(
        uow.session, ctx, body.event, body.source, query=body.query, kind=body.kind,
        ref_id=body.id, at=now(), visitor=visitor_key(request, viewer),
    )  # fmt: skip
    uow.commit()
    return Response(status_code=204)


@router.get("/search/deflection")
def deflection(
    slug: str, uow: Uow, user: CurrentUser, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> dict[str, object]:
    """Suggestions shown / opened / solved and searches without an answer (brand admins)."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    counts = search.deflection(uow.session, ctx, now() - timedelta(days=days))
    searches = counts["shown"] + counts["no_answer"]
    return {
        "days": days,
        **counts,
        "solved_per_search": round(counts["solved"] / searches, 4) if searches else 0.0,
    }


@router.get("/content-gaps")
def content_gaps(
    slug: str,
    uow: Uow,
    user: CurrentUser,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, object]:
    """What readers searched for and did not find, most asked first (the brand's reviewers):
    each gap with how often, when last, its language and, for the first twenty, what a
    signed-out reader finds for it now (``covered_by``: null while nothing answers it)."""
    ctx = access_brand(uow.session, slug, user)
    at = now()
    lines = service.content_gaps(uow.session, ctx, at - timedelta(days=days), at, limit)
    return {
        "days": days,
        "gaps": [
            {
                "query": line.query, "count": line.gap.count,
                "last_at": line.gap.last_at.isoformat(), "spellings": line.gap.spellings,
                "language": line.language,
                "covered_by": (
                    {"kind": line.covered_by.kind, "id": line.covered_by.id,
                     "title": line.covered_by.title, "url": line.covered_by.url}
                    if line.covered_by else None
                ),
            }
            for line in lines
        ],
    }  # fmt: skip


@router.post("/articles", status_code=201, response_model=ArticleOut)
def create(slug: str, body: ArticleIn, uow: Uow, user: CurrentUser) -> ArticleOut:
    ctx = access_brand(uow.session, slug, user)
    service.require_writer(ctx)
    draft = rules.validate_draft(body.title, body.body, body.language, body.tags, body.visibility)
    if isinstance(draft, rules.Violation):
        raise service.violation_error(draft)
    article = service.create_article(
        uow, ctx, draft, now(), translation_of=body.translation_of, skills=body.skills
    )
    uow.commit()
    return article_out(uow, ctx, article)


DraftEndpoint = Callable[..., ArticleOut]


def _drafted(
    uow: UnitOfWork, ctx: BrandContext, drafted: service.Drafted, response: Response
) -> ArticleOut:
    """201 for a new draft; 200 for the source's open draft, made before (drafting twice)."""
    uow.commit()
    response.status_code = 201 if drafted.created else 200
    return article_out(uow, ctx, drafted.article)


def _drafting(path: str, source: str) -> Callable[[DraftEndpoint], DraftEndpoint]:
    """The route of a "draft an article from this": 201 or, for the open draft, 200."""
    opened = {"model": ArticleOut, "description": f"The {source}'s open draft, made before"}
    return router.post(path, status_code=201, response_model=ArticleOut, responses={200: opened})


@_drafting("/articles/from-question/{question_id}", "question")
def from_question(
    slug: str, question_id: int, uow: Uow, user: CurrentUser, response: Response
) -> ArticleOut:
    """A draft article from a solved community question and its best answer (writers); the
    question's open draft when it has one."""
    ctx = access_brand(uow.session, slug, user)
    return _drafted(uow, ctx, service.draft_from_question(uow, ctx, question_id, now()), response)


@_drafting("/articles/from-ticket/{ticket_id}", "ticket")
def from_ticket(
    slug: str, ticket_id: int, uow: Uow, user: CurrentUser, response: Response
) -> ArticleOut:
    """A draft article from a resolved ticket, customer data removed (staff who write); the
    ticket's open draft when it has one."""
    ctx = access_brand(uow.session, slug, user)
    return _drafted(uow, ctx, service.draft_from_ticket(uow, ctx, ticket_id, now()), response)


@router.get("/articles", response_model=ArticleList)
def list_(
    slug: str,
    uow: Uow,
    viewer: ViewerDep,
    state: Annotated[str | None, Query(max_length=20)] = None,
    lang: Annotated[str | None, Query(max_length=20)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ArticleList:
    ctx = access_brand(uow.session, slug, viewer.user)
    rows = service.list_articles(
        uow.session, ctx, state=state, language=lang, tag=tag, limit=limit,
        after=decode_cursor(cursor),
    )  # fmt: skip
    return ArticleList(
        items=[article_out(uow, ctx, a) for a in rows],
        next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None,
    )


@router.get("/articles/{article_id}", response_model=ArticleOut)
def get(slug: str, article_id: int, uow: Uow, viewer: ViewerDep) -> ArticleOut:
    ctx = access_brand(uow.session, slug, viewer.user)
    return article_out(uow, ctx, service.get_article(uow.session, ctx, article_id))


@router.patch("/articles/{article_id}", response_model=ArticleOut)
def patch(
    slug: str, article_id: int, body: ArticlePatch, uow: Uow, user: CurrentUser
) -> ArticleOut:
    ctx = access_brand(uow.session, slug, user)
    article = service.get_article(uow.session, ctx, article_id)
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise invalid("body", _("Send at least one field to change."), "empty_patch")
    service.update_article(uow, ctx, article, changes, now())
    uow.commit()
    return article_out(uow, ctx, article)


@router.get("/articles/{article_id}/versions")
def versions(slug: str, article_id: int, uow: Uow, user: CurrentUser) -> dict[str, object]:
    ctx = access_brand(uow.session, slug, user)
    service.require_writer(ctx) if not service.can_review(ctx) else None
    article = service.get_article(uow.session, ctx, article_id)
    service.require_working(ctx, article)
    return {
        "items": [
            {"version": v.version, "title": v.title, "editor_id": v.editor_id,
             "note": v.note, "created_at": v.created_at.isoformat()}
            for v in service.versions(uow.session, ctx, article)
        ]
    }  # fmt: skip


@router.get("/articles/{article_id}/diff")
def diff(
    slug: str,
    article_id: int,
    uow: Uow,
    user: CurrentUser,
    from_: Annotated[int, Query(alias="from", ge=1)],
    to: Annotated[int, Query(ge=1)],
) -> dict[str, object]:
    ctx = access_brand(uow.session, slug, user)
    service.require_writer(ctx) if not service.can_review(ctx) else None
    article = service.get_article(uow.session, ctx, article_id)
    service.require_working(ctx, article)
    return {
        "from": from_,
        "to": to,
        "diff": service.version_diff(uow.session, ctx, article, from_, to),
    }


def _action(name: str):  # type: ignore[no-untyped-def]
    def endpoint(slug: str, article_id: int, uow: Uow, user: CurrentUser) -> ArticleOut:
        ctx = access_brand(uow.session, slug, user)
        article = service.get_article(uow.session, ctx, article_id)
        service.act(uow, ctx, article, name, now())
        uow.commit()
        return article_out(uow, ctx, article)

    endpoint.__name__ = f"article_{name}"
    endpoint.__doc__ = f"Workflow action “{name}” (see docs/api.md)."
    return endpoint


for _name in rules.ACTIONS:
    router.add_api_route(
        f"/articles/{{article_id}}/{_name}", _action(_name), methods=["POST"],
        response_model=ArticleOut,
    )  # fmt: skip


@router.post("/articles/{article_id}/feedback", status_code=201, response_model=FeedbackOut)
def feedback(
    slug: str, article_id: int, body: FeedbackIn, request: Request, uow: Uow, viewer: ViewerDep
) -> FeedbackOut:
    """ "Was this helpful?" — anyone who can read the article, signed in or not."""
    ctx = access_brand(uow.session, slug, viewer.user)
    article = service.get_article(uow.session, ctx, article_id)
    row = service.feedback(
        uow, ctx, article, body.helpful, body.comment or "", now(), visitor_key(request, viewer)
    )
    uow.commit()
    return FeedbackOut(id=row.id, helpful=article.helpful, unhelpful=article.unhelpful)


@router.get("/articles/{article_id}/feedback", response_model=FeedbackList)
def feedback_list(
    slug: str,
    article_id: int,
    uow: Uow,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> FeedbackList:
    """The article's helpful/not helpful counts and the readers' comments, newest first
    (the brand's authors and reviewers)."""
    ctx = access_brand(uow.session, slug, user)
    article = service.get_article(uow.session, ctx, article_id)
    rows = service.feedback_comments(uow.session, ctx, article, limit, decode_cursor(cursor))
    return FeedbackList(
        helpful=article.helpful,
        unhelpful=article.unhelpful,
        solved_cases=service.solved_cases(uow.session, ctx, article),
        comments=[
            FeedbackComment(id=r.id, helpful=r.helpful, comment=r.comment, created_at=r.created_at)
            for r in rows
        ],
        next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None,
    )


def read_upload_text(raw: bytes, languages: Sequence[str]) -> rules.Decoded:
    """The uploaded file as text, or the problem it has (API and page: the same checks).
    A file that is not UTF-8 is read in the legacy encoding of one of the brand's
    ``languages`` that fits it (see rules.decode_upload)."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise AppError(413, "too_large", too_large_message())
    decoded = rules.decode_upload(raw, languages)
    if decoded is None:
        raise invalid("file", _("Save the CSV as UTF-8 and upload it again."), "not_utf8")
    return decoded


def wake_import_worker(request: Request) -> None:
    """Have this process's import worker look for the job just stored now, not in seconds."""
    worker: jobs.ImportWorker | None = getattr(request.app.state, "import_worker", None)
    if worker is not None:
        worker.wake()


def summary_out(job: ImportJob) -> ImportOut:
    return ImportOut.model_validate(
        {"imported": job.imported, "skipped": job.skipped,
         "problems": service.problem_reasons(job.problems),
         "article_ids": job.article_ids}
    )  # fmt: skip


def job_out(job: ImportJob) -> ImportJobOut:
    return ImportJobOut(
        id=job.id,
        state=job.state,
        file_name=job.file_name,
        publish=job.publish,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        progress=ImportProgress(
            rows_total=job.rows_total,
            rows_done=job.rows_done,
            imported=job.imported,
            skipped=job.skipped,
        ),
        summary=summary_out(job) if job.state == "done" else None,
        error=jobs.failure_text(job.error) if job.state == "failed" else None,
    )


@router.post(
    "/imports",
    status_code=202,
    response_model=ImportJobOut,
    responses={200: {"model": ImportOut, "description": "With `wait=true`: the summary."}},
)
async def import_csv(
    slug: str,
    request: Request,
    uow: Uow,
    user: CurrentUser,
    file: Annotated[
        UploadFile, File(description="FAQ CSV: question,answer,language,tags,visibility")
    ],
    publish: Annotated[bool, Form()] = False,
    wait: Annotated[
        bool, Query(description="Import within the request and answer 200 with the summary")
    ] = False,
) -> Any:
    """Checks the file and answers 202 at once; a background worker imports it (poll the
    Location). ``wait=true`` keeps the former answer: 200 with the summary, after the whole
    import (a large file holds the request for as long)."""
    raw = await file.read(MAX_IMPORT_BYTES + 1)
    ctx = access_brand(uow.session, slug, user)
    decoded = read_upload_text(raw, ctx.brand.locales)
    job = jobs.submit(
        uow, ctx, file_name=file.filename or "", content=decoded.text, publish=publish,
        locale=current_locale(), now=now(), claimed=wait,
    )  # fmt: skip
    uow.commit()
    if wait:
        db = get_db(request)
        await to_thread.run_sync(jobs.run_claimed, db, job.id, job.attempt)
        with db.sessions() as session:
            done = session.get_one(ImportJob, job.id)
        if done.state == "failed":
            raise _import_failed(slug, done)
        return JSONResponse(summary_out(done).model_dump(mode="json"))
    wake_import_worker(request)
    location = f"/api/v1/brands/{slug}/imports/{job.id}"
    return JSONResponse(
        job_out(job).model_dump(mode="json"), status_code=202, headers={"Location": location}
    )


def _import_failed(slug: str, job: ImportJob) -> AppError:
    """A job run with ``wait=true`` that failed, said with the job to look at and why.

    The status is the reason's: a refusal of the uploader (rights lost meanwhile) is 403; an
    error of ours (``unexpected``, logged with its traceback) stays 500, as it is a fault a
    retry may get past; any other reason is a refusal the service gave the file's content,
    a 422 whose ``reason`` is the refusal's code (``refused``: a job failed before codes
    were stored). The job keeps its state either way: nothing imported is lost, and its
    link says how far it went."""
    failed = jobs.failure(job.error or "unexpected")
    assert failed is not None
    reason, why = failed.code, failed.text
    if reason in jobs.REFUSALS:
        status = 403
    elif reason == "unexpected":
        status = 500
    else:
        status = 422
    location = f"/api/v1/brands/{slug}/imports/{job.id}"
    detail = _("FAQ import %(job)s failed: %(why)s See %(location)s for how far it went.") % {
        "job": job.id,
        "why": why,
        "location": location,
    }
    extra = {"job_id": job.id, "job": location, "reason": reason}
    return AppError(status, "import_failed", detail, extra=extra)


@router.get("/imports/{job_id}", response_model=ImportJobOut)
def import_job(slug: str, job_id: int, uow: Uow, user: CurrentUser) -> ImportJobOut:
    """A FAQ import: its state and progress, and its summary once done."""
    ctx = access_brand(uow.session, slug, user)
    return job_out(jobs.get_job(uow.session, ctx, job_id))


@router.get("/exports/faq.csv")
def export_csv(slug: str, uow: Uow, user: CurrentUser) -> Response:
    ctx = access_brand(uow.session, slug, user)
    service.require_writer(ctx) if not service.can_review(ctx) else None
    return Response(
        service.export_csv(uow.session, ctx),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-faq.csv"'},
    )
