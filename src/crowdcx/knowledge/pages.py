"""Help-center pages: home with as-you-type search, article with feedback, editor with
preview, review queue with stale content, import. Every action posts to the same use cases
the API calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from starlette.responses import HTMLResponse, RedirectResponse, Response

from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import N_, _, current_locale
from crowdcx.kernel.markdown import render
from crowdcx.kernel.numbers import ascii_int
from crowdcx.knowledge import jobs, rules, service
from crowdcx.knowledge.api import MAX_IMPORT_BYTES, read_upload_text, wake_import_worker
from crowdcx.knowledge.labels import action_labels, state_labels, visibility_labels
from crowdcx.knowledge.models import Article
from crowdcx.search import rules as search_rules
from crowdcx.search import service as search
from crowdcx.tenancy.service import BrandContext, access_brand
from crowdcx.web.deps import (
    CsrfChecked,
    CurrentUser,
    Uow,
    ViewerDep,
    counters,
    now,
    visitor_key,
)
from crowdcx.web.templating import NavItem, page, register_nav

router = APIRouter(include_in_schema=False)

register_nav(NavItem(N_("Help center"), "help", "brand.view", signed_in=False))
register_nav(
    NavItem(
        N_("Articles to review"), "help/review", "brand.view",
        roles=frozenset({"agent", "brand_admin", "expert"}),
    )
)  # fmt: skip

# A browser counts a line break as one character against the editor's maxlength and sends
# it as two (CR LF): twice rules.MAX_BODY, so a body it let through is never refused here.
# Named by the editor's label if it is.
Text = Annotated[str, Form(max_length=2 * rules.MAX_BODY, title=N_("Answer (Markdown)"))]


def _already_notes() -> dict[str, str]:
    """Said on the article page when "draft an article" opened the source's earlier draft."""
    return {
        "ticket": _("This ticket already has a draft article: here it is."),
        "question": _("This question already has a draft article: here it is."),
    }


def _common(ctx: BrandContext) -> dict[str, Any]:
    return {
        "ctx": ctx,
        "state_names": state_labels(),
        "visibility_names": visibility_labels(),
        "action_names": action_labels(),
        "can_write": service.can_write(ctx),
        "can_review": service.can_review(ctx),
        "can_see_gaps": service.can_see_gaps(ctx),
    }


def _reader_language(ctx: BrandContext) -> str:
    locale = current_locale()
    return locale if locale in ctx.brand.locales else ctx.brand.default_locale


def _lists(uow: Any, ctx: BrandContext, language: str) -> tuple[list[Article], list[Article]]:
    visible = list(search_rules.visible_to(search.viewer_role(ctx)))
    base = ctx.scoped(Article).where(
        Article.live_version.is_not(None),
        Article.state != "archived",
        Article.live_visibility.in_(visible),
    )
    same = base.where(Article.live_language == language)
    popular = list(
        uow.session.scalars(
            same.order_by((Article.helpful - Article.unhelpful + Article.views).desc()).limit(6)
        )
    )
    recent = list(uow.session.scalars(same.order_by(Article.published_at.desc()).limit(6)))
    if not popular:  # nothing in the reader's language yet: show the brand's others
        popular = list(uow.session.scalars(base.order_by(Article.published_at.desc()).limit(6)))
    return popular, recent


def _answer(uow: Any, ctx: BrandContext, q: str, *, typing: bool = False) -> search.Answer | None:
    """Search the help center and record it. ``typing``: an as-you-type fragment, whose
    finding nothing is no content gap ("how do I get a ref…" before the reader finishes):
    only what it shows is recorded."""
    if not q.strip():
        return None
    at = now()
    answer = search.search(
        uow.session, ctx, q, language=_reader_language(ctx), now=at, limit=10,
        kinds=("article", "question"),
    )  # fmt: skip
    if not (typing and answer.out_of_scope):
        search.record(
            uow.session, ctx, "no_answer" if answer.out_of_scope else "shown", "help",
            query=q, results=len(answer.results), at=at,
        )  # fmt: skip
        uow.commit()
    return answer


@router.get("/b/{slug}/help")
def help_home(slug: str, request: Request, viewer: ViewerDep, uow: Uow, q: str = "") -> Response:
    ctx = access_brand(uow.session, slug, viewer.user)
    q = q[:500]
    answer = _answer(uow, ctx, q)
    popular, recent = _lists(uow, ctx, _reader_language(ctx))
    return page(
        request,
        "help/home.html",
        {
            **_common(ctx),
            "q": q,
            "answer": answer,
            "popular": popular,
            "recent": recent,
            "title_html": search.title_html,
        },
    )


@router.get("/b/{slug}/help/search")
def help_search(slug: str, request: Request, viewer: ViewerDep, uow: Uow, q: str = "") -> Response:
    """As-you-type results (an htmx fragment); a plain GET gets the whole page."""
    if request.headers.get("hx-request") != "true":
        # Encoded: "AT&T", "C#" or "退货 + 退款" must arrive whole, not cut at & or #.
        return RedirectResponse(f"/b/{slug}/help?{urlencode({'q': q[:500]})}", status_code=303)
    ctx = access_brand(uow.session, slug, viewer.user)
    q = q[:500]
    answer = _answer(uow, ctx, q, typing=True) if len(q.strip()) >= 2 else None
    return page(
        request,
        "help/_results.html",
        {**_common(ctx), "q": q, "answer": answer, "title_html": search.title_html},
    )


COMMENTS_PAGE = 20  # readers' comments shown to an article's editors at a time


@router.get("/b/{slug}/help/articles/{article_id}")
def article_page(
    slug: str, article_id: int, request: Request, viewer: ViewerDep, uow: Uow, q: str = "",
    comments_before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, viewer.user)
    article = service.get_article(uow.session, ctx, article_id)
    # Authors and reviewers see the working revision only within their reading level.
    editor = service.sees_working(ctx, article)
    show_live = article.live and not (editor and request.query_params.get("draft"))
    title = (article.live_title if show_live else article.title) or article.title
    body = (article.live_body if show_live else article.body) or article.body
    tags = service.reader_tags(article) if show_live else article.tags
    if article.live:
        counters(request).increment(Article, "views", article.id)
        if q:
            search.record(
                uow.session, ctx, "opened", "help", query=q[:500], kind="article",
                ref_id=str(article.id), at=now(), visitor=visitor_key(request, viewer),
            )  # fmt: skip
            uow.commit()
    at = now()
    authoring = editor and (service.can_write(ctx) or service.can_review(ctx))
    history = service.versions(uow.session, ctx, article) if editor else []
    readable = {v.version for v in history}
    # The revision under review against what readers see now: a reviewer's first question.
    since_live = (
        article.live
        and article.version != article.live_version
        and {article.version, article.live_version} <= readable
    )
    return page(
        request,
        "help/article.html",
        {
            **_common(ctx),
            "editor": editor,
            "article": article,
            "title": title,
            "body_html": render(body),
            "tags": tags,
            "showing_live": show_live,
            "stale": rules.is_stale(article.review_by, article.live, at),
            "variants": service.variants(uow.session, ctx, article),
            # "Still accurate" is offered on an article due for review (the stale list's).
            "actions": [
                a
                for a in rules.allowed_actions(
                    service.state_of(uow.session, article),
                    service.actor_of(ctx),
                    service.kb_policy(ctx),
                )
                if a != "confirm" or rules.is_stale(article.review_by, article.live, at)
            ]
            if editor
            else [],
            "history": history,
            "since_live": since_live,
            "reader_comments": service.feedback_comments(
                uow.session, ctx, article, COMMENTS_PAGE, comments_before
            )
            if authoring
            else None,
            "solved_cases": service.solved_cases(uow.session, ctx, article) if authoring else None,
            "comments_page": COMMENTS_PAGE,
            "q": q[:500],
            "thanks": request.query_params.get("thanks", ""),
            "already": _already_notes().get(request.query_params.get("already", ""))
            if editor
            else None,
        },
    )


@router.get("/b/{slug}/help/articles/{article_id}/changes")
def article_changes(
    slug: str,
    article_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    old: Annotated[int, Query(alias="from", ge=1, le=2**62)],
    new: Annotated[int, Query(alias="to", ge=1, le=2**62)],
) -> Response:
    """Two revisions side by side for the reviewer (and the author): what changed."""
    ctx = access_brand(uow.session, slug, user)
    service.require_writer(ctx) if not service.can_review(ctx) else None
    article = service.get_article(uow.session, ctx, article_id)
    service.require_working(ctx, article)
    return page(
        request,
        "help/changes.html",
        {
            **_common(ctx),
            "article": article,
            "old": old,
            "new": new,
            "lines": service.version_changes(uow.session, ctx, article, old, new),
        },
    )


@router.post("/b/{slug}/help/articles/{article_id}/feedback", dependencies=[CsrfChecked])
def article_feedback(
    slug: str,
    article_id: int,
    request: Request,
    viewer: ViewerDep,
    uow: Uow,
    helpful: Annotated[str, Form(max_length=5)],
    comment: Annotated[str, Form(max_length=5000, title=N_("Comment (optional)"))] = "",
    q: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, viewer.user)
    article = service.get_article(uow.session, ctx, article_id)
    yes = helpful == "yes"
    visitor = visitor_key(request, viewer)
    service.feedback(uow, ctx, article, yes, comment, now(), visitor)
    if yes:
        search.record(
            uow.session, ctx, "solved", "help", query=q, kind="article",
            ref_id=str(article.id), at=now(), visitor=visitor,
        )  # fmt: skip
    uow.commit()
    # The search goes on with the reader: "ask an expert / the community" starts from it.
    params = {"thanks": "yes" if yes else "no", **({"q": q} if q.strip() else {})}
    return RedirectResponse(
        f"/b/{slug}/help/articles/{article_id}?{urlencode(params)}", status_code=303
    )


def _editor(
    request: Request,
    ctx: BrandContext,
    article: Article | None,
    form: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "help/editor.html",
        {
            **_common(ctx),
            "article": article,
            "form": form,
            "errors": errors,
            # Only visibilities the writer may read themselves.
            "visibility_choices": {
                v: label for v, label in visibility_labels().items() if v in service.reads(ctx)
            },
            "preview": render(form.get("body", "")) if form.get("body") else "",
        },
        status=status,
    )


@router.get("/b/{slug}/help/new")
def new_article(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    translation_of: int | None = None,
    title: str = "",
    language: str = "",
) -> Response:
    """The editor, empty or started from a content gap (``title``: what readers searched)."""
    ctx = access_brand(uow.session, slug, user)
    service.require_writer(ctx)
    form = {"language": _reader_language(ctx), "visibility": "public"}
    if title.strip():
        form["title"] = title.strip()[:200]
    if language in ctx.brand.locales:
        form["language"] = language
    if translation_of is not None:
        original = service.get_article(uow.session, ctx, translation_of)
        tags = (
            original.tags if service.sees_working(ctx, original) else service.reader_tags(original)
        )
        form.update(translation_of=str(original.id), tags=" | ".join(tags))
        # A translation goes into a language the article lacks: the reader's, else the
        # brand's first (not the original's own language, which saved a second copy).
        taken = service.group_languages(uow.session, ctx, original)
        if form["language"] in taken:
            order = [ctx.brand.default_locale, *ctx.brand.locales]
            missing = [code for code in order if code not in taken]
            form["language"] = missing[0] if missing else form["language"]
    return _editor(request, ctx, None, form, {})


def _form(title: str, body: str, language: str, tags: str, visibility: str) -> dict[str, str]:
    return {"title": title, "body": body, "language": language, "tags": tags,
            "visibility": visibility}  # fmt: skip


@router.post("/b/{slug}/help/new", dependencies=[CsrfChecked])
def create_article(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    title: Annotated[str, Form(max_length=1000, title=N_("Title"))] = "",
    body: Text = "",
    language: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=1000, title=N_("Tags (separated by |)"))] = "",
    visibility: Annotated[str, Form(max_length=20)] = "public",
    translation_of: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    service.require_writer(ctx)
    form = _form(title, body, language, tags, visibility)
    draft = rules.validate_draft(title, body, language, rules.split_tags(tags), visibility)
    if isinstance(draft, rules.Violation):
        return _editor(
            request, ctx, None, form, {draft.field: service.reason_text(draft)}, status=422
        )
    try:
        article = service.create_article(
            uow, ctx, draft, now(),
            translation_of=ascii_int(translation_of),
        )  # fmt: skip
    except AppError as exc:
        if exc.status != 422:
            raise
        return _editor(request, ctx, None, form, {exc.field or "body": exc.detail}, 422)
    uow.commit()
    return RedirectResponse(f"/b/{slug}/help/articles/{article.id}?draft=1", status_code=303)


@router.get("/b/{slug}/help/articles/{article_id}/edit")
def edit_article(
    slug: str, article_id: int, request: Request, user: CurrentUser, uow: Uow
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    article = service.get_article(uow.session, ctx, article_id)
    service.require_writer(ctx) if not service.can_review(ctx) else None
    service.require_working(ctx, article)
    form = _form(
        article.title, article.body, article.language, " | ".join(article.tags),
        article.visibility,
    )  # fmt: skip
    return _editor(request, ctx, article, form, {})


@router.post("/b/{slug}/help/articles/{article_id}/edit", dependencies=[CsrfChecked])
def save_article(
    slug: str,
    article_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    title: Annotated[str, Form(max_length=1000, title=N_("Title"))] = "",
    body: Text = "",
    language: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=1000, title=N_("Tags (separated by |)"))] = "",
    visibility: Annotated[str, Form(max_length=20)] = "public",
    note: Annotated[str, Form(max_length=200, title=N_("What changed (optional)"))] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    article = service.get_article(uow.session, ctx, article_id)
    form = _form(title, body, language, tags, visibility)
    changes = {**form, "tags": rules.split_tags(tags), "note": note}
    try:
        service.update_article(uow, ctx, article, changes, now())
    except AppError as exc:
        if exc.status != 422:
            raise
        uow.rollback()
        article = service.get_article(uow.session, ctx, article_id)
        return _editor(request, ctx, article, form, {exc.field or "body": exc.detail}, 422)
    uow.commit()
    return RedirectResponse(f"/b/{slug}/help/articles/{article_id}?draft=1", status_code=303)


@router.post("/b/{slug}/help/preview", dependencies=[CsrfChecked])
def preview(slug: str, user: CurrentUser, uow: Uow, body: Text = "") -> Response:
    """The editor's live preview (an htmx fragment): the same sanitised rendering readers get."""
    access_brand(uow.session, slug, user)
    # Outside the f-string: Babel does not read a message inside one, so it went untranslated.
    nothing = _("Nothing to preview yet.")
    return HTMLResponse(render(body) or f'<p class="meta">{nothing}</p>')


@router.post("/b/{slug}/help/articles/{article_id}/act", dependencies=[CsrfChecked])
def act(
    slug: str,
    article_id: int,
    user: CurrentUser,
    uow: Uow,
    action: Annotated[str, Form(max_length=20)],
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    article = service.get_article(uow.session, ctx, article_id)
    service.act(uow, ctx, article, action, now())
    uow.commit()
    suffix = "" if action in ("publish", "confirm") else "?draft=1"
    return RedirectResponse(f"/b/{slug}/help/articles/{article_id}{suffix}", status_code=303)


@router.get("/b/{slug}/help/gaps")
def content_gaps(
    slug: str, request: Request, user: CurrentUser, uow: Uow, days: str = "30"
) -> Response:
    """What readers could not find: the brand's reviewers decide what to write next."""
    ctx = access_brand(uow.session, slug, user)
    period = int(days) if days in ("7", "30", "90") else 30
    at = now()
    lines = service.content_gaps(uow.session, ctx, at - timedelta(days=period), at)
    return page(request, "help/gaps.html", {**_common(ctx), "lines": lines, "days": period})


def _open_drafted(slug: str, uow: Uow, drafted: service.Drafted, kind: str) -> Response:
    """A new draft opens in the editor; the source's open draft, made before, on its page
    with a notice (it may be in review: the editor would send it back to draft)."""
    uow.commit()
    at = f"/b/{slug}/help/articles/{drafted.article.id}"
    if drafted.created:
        return RedirectResponse(f"{at}/edit", status_code=303)
    return RedirectResponse(f"{at}?{urlencode({'draft': 1, 'already': kind})}", status_code=303)


@router.post("/b/{slug}/help/from-question/{question_id}", dependencies=[CsrfChecked])
def draft_from_question(slug: str, question_id: int, user: CurrentUser, uow: Uow) -> Response:
    """Turn a solved community question into a draft article and open it in the editor (or
    open the draft already made from it)."""
    ctx = access_brand(uow.session, slug, user)
    drafted = service.draft_from_question(uow, ctx, question_id, now())
    return _open_drafted(slug, uow, drafted, "question")


@router.post("/b/{slug}/help/from-ticket/{ticket_id}", dependencies=[CsrfChecked])
def draft_from_ticket(slug: str, ticket_id: int, user: CurrentUser, uow: Uow) -> Response:
    """Turn a resolved ticket into a draft article (customer data removed) for the editor (or
    open the draft already made from it)."""
    ctx = access_brand(uow.session, slug, user)
    drafted = service.draft_from_ticket(uow, ctx, ticket_id, now())
    return _open_drafted(slug, uow, drafted, "ticket")


@router.get("/b/{slug}/help/review")
def review(slug: str, request: Request, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user)
    service.require_writer(ctx) if not service.can_review(ctx) else None
    return page(
        request,
        "help/review.html",
        {
            **_common(ctx),
            "queue": service.review_queue(uow.session, ctx),
            "stale": service.stale(uow.session, ctx, now()),
            "drafts": service.my_drafts(uow.session, ctx),
        },
    )


@router.get("/b/{slug}/help/import")
def import_page(slug: str, request: Request, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user)
    return page(request, "help/import.html", _import_context(uow, ctx, ""))


def _import_context(uow: UnitOfWork, ctx: BrandContext, error: str) -> dict[str, Any]:
    """The import page's: the form, and the imports this person may open, newest first."""
    return {
        **_common(ctx),
        "error": error,
        "recent": jobs.recent(uow.session, ctx),
        "state_labels": import_state_labels(),
    }


@router.post("/b/{slug}/help/import", dependencies=[CsrfChecked])
async def import_upload(
    slug: str,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    file: Annotated[UploadFile | None, File(title=N_("CSV file"))] = None,
    publish: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    service.require_writer(ctx)
    if file is None or not (file.filename or file.size):
        # Sent with no file chosen (a browser that skips `required`, a form sent again):
        # the import page again, saying so beside the file field, not a bare refusal.
        context = _import_context(uow, ctx, _("Choose a CSV file to import."))
        return page(request, "help/import.html", context, status=422)
    raw = await file.read(MAX_IMPORT_BYTES + 1)
    try:
        decoded = read_upload_text(raw, ctx.brand.locales)
        job = jobs.submit(
            uow, ctx, file_name=file.filename or "", content=decoded.text,
            publish=publish == "on", locale=current_locale(), now=now(),
        )  # fmt: skip
    except AppError as exc:
        return page(
            request,
            "help/import.html",
            _import_context(uow, ctx, exc.detail),
            status=413 if exc.status == 413 else 422,
        )
    uow.commit()
    wake_import_worker(request)
    # A file read in a legacy encoding says which, so a wrong guess is seen at once.
    read_as = "" if decoded.encoding.startswith("utf") else f"?read_as={decoded.encoding}"
    return RedirectResponse(f"/b/{slug}/help/import/{job.id}{read_as}", status_code=303)


# Seconds between reloads of the page of an import still running.
IMPORT_REFRESH_S = 2


@router.get("/b/{slug}/help/import/{job_id}")
def import_progress(
    slug: str,
    job_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    read_as: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """An import's progress, reloading itself until the summary is there; ``read_as`` names
    the legacy encoding the file was read in, when it was not UTF-8."""
    ctx = access_brand(uow.session, slug, user)
    job = jobs.get_job(uow.session, ctx, job_id)
    return page(
        request,
        "help/import_job.html",
        {
            **_common(ctx),
            "job": job,
            "problems": service.problem_reasons(job.problems),
            "failure": jobs.failure_text(job.error) if job.state == "failed" else None,
            "refresh": IMPORT_REFRESH_S if job.state not in jobs.FINISHED else None,
            "state_label": import_state_labels()[job.state],
            "read_as": rules.ENCODING_NAMES.get(read_as, ""),
        },
    )


def import_state_labels() -> dict[str, str]:
    return {
        "queued": _("Waiting to start"),
        "running": _("Importing"),
        "done": _("Import finished"),
        "failed": _("Import failed"),
    }
