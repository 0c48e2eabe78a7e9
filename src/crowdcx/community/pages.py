"""Community pages: home (popular in the reader's language), a community with its onboarding,
the question page with votes, accepts, approval, flags (on posts and comments), answers and
appeals, the ask page with duplicate suggestions while typing, profiles, leaderboards, the
review queue (posts and hidden comments), rewards, top helpers and notifications. Every action
posts to the same use cases as the API."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from starlette.responses import HTMLResponse, RedirectResponse, Response

from crowdcx.community import engagement, rules, service
from crowdcx.community.labels import privilege_labels
from crowdcx.community.models import CommunityRow, ModerationRow, PostRow, RedemptionRow, VoteRow
from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError, invalid, not_found
from crowdcx.kernel.i18n import N_, _, current_locale
from crowdcx.kernel.numbers import ascii_int, typed_int
from crowdcx.notifications import service as notes
from crowdcx.reputation import rules as rep
from crowdcx.reputation import service as points
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

register_nav(NavItem(N_("Community"), "community", "brand.view", signed_in=False))
register_nav(
    NavItem(N_("Notifications"), "notifications", "brand.view", count="notifications/unread")
)
register_nav(
    NavItem(N_("Review queue"), "community/moderation", "brand.view",
            roles=frozenset({"agent", "brand_admin"}))
)  # fmt: skip


def reason_labels() -> dict[str, str]:
    return {
        "answer_upvoted": _("Answer upvoted"),
        "answer_downvoted": _("Answer downvoted"),
        "question_upvoted": _("Question upvoted"),
        "question_downvoted": _("Question downvoted"),
        "downvote_cast": _("Downvote cast"),
        "answer_accepted": _("Answer accepted"),
        "accepted_answer_given": _("Accepted an answer"),
        "ticket_resolved": _("Ticket resolved"),
        "csat_received": _("Customer rating"),
        "reward_redeemed": _("Reward redeemed"),
        "adjustment": _("Adjustment"),
    }


def flag_labels() -> dict[str, str]:
    return {code: notes.flag_reason_label(code) for code in service.FLAG_REASONS}


def action_labels() -> dict[str, str]:
    return {"hide": _("Hidden"), "appeal": _("Appealed"), "restore": _("Restored"),
            "uphold": _("Kept hidden"), "dismiss": _("Flags dismissed")}  # fmt: skip


def reward_labels() -> dict[str, str]:
    return {"credit": _("Account credit"), "cash": _("Cash"), "charity": _("Charity donation")}


def period_labels() -> dict[str, str]:
    return {"week": _("This week"), "month": _("This month"), "all": _("All time")}


def _reader_language(ctx: BrandContext) -> str:
    locale = current_locale()
    return locale if locale in ctx.brand.locales else ctx.brand.default_locale


def _common(uow: UnitOfWork, ctx: BrandContext) -> dict[str, Any]:
    return {
        "ctx": ctx,
        "is_agent": service.is_agent(ctx),
        "can_review": engagement.can_review(uow, ctx),
        "can_manage": ctx.user is not None and ctx.can("brand.manage"),
        "badge_names": notes.badge_names(),
    }


def _names(uow: UnitOfWork, ids: Any) -> dict[int, str]:
    return {uid: u.display_name for uid, u in engagement.users_by_id(uow, sorted(set(ids))).items()}


# --- home, community, ask -------------------------------------------------------------------


HOME_PAGE = 20  # questions per page of the community's list
COMMUNITY_PAGE = 30  # ... and of one community's


def _question_page(
    uow: UnitOfWork, ctx: BrandContext, *, community: CommunityRow | None, tag: str | None,
    sort: str, size: int, cursor: str,
) -> tuple[list[PostRow], str | None]:  # fmt: skip
    """One page of a question list from ``cursor`` on, and the next page's cursor (None on
    the last page)."""
    after, after_score = service.decode_question_cursor(cursor[:200], sort)
    rows = service.list_questions(uow.session, ctx, community=community, tag=tag, sort=sort,
                                  limit=size + 1, after=after, after_score=after_score)  # fmt: skip
    more = len(rows) > size
    rows = rows[:size]
    return rows, service.question_cursor(rows[-1], sort) if more else None


# Form fields a person types, each with the label its form shows them: a field refused at
# the edge (too long) is named by it (web.problems.form_label). The appeal's 4000 is twice
# engagement.MAX_APPEAL, for a browser's CR LF.
QuestionTitle = Annotated[str, Form(max_length=1000, title=N_("Your question in one line"))]
Details = Annotated[str, Form(max_length=100_000, title=N_("Details (Markdown)"))]
Tags = Annotated[str, Form(max_length=1000, title=N_("Tags, separated by commas"))]
AnswerBody = Annotated[str, Form(max_length=100_000, title=N_("Answer (Markdown)"))]
CommentBody = Annotated[str, Form(max_length=100_000, title=N_("Comment"))]
Appeal = Annotated[str, Form(max_length=4000, title=N_("Why should it be restored?"))]
NoteToAuthor = Annotated[str, Form(max_length=2000, title=N_("Note to the author"))]
DuplicateOf = Annotated[
    str, Form(max_length=300, title=N_("Duplicate of (question number or link, optional)"))
]
EditNote = Annotated[str, Form(max_length=200, title=N_("What changed (optional)"))]
CommunitySlug = Annotated[str, Form(alias="slug", max_length=40, title=N_("Address name"))]


@router.get("/b/{slug}/community")
def community_home(
    slug: str, request: Request, viewer: ViewerDep, uow: Uow, q: str = "", sort: str = "new",
    notice: str = "", tag: str = "", cursor: str = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, viewer.user)
    return _home(request, uow, ctx, q=q, sort=sort, notice=notice, tag=tag, cursor=cursor)


def _home(
    request: Request, uow: UnitOfWork, ctx: BrandContext, *, q: str = "", sort: str = "new",
    notice: str = "", tag: str = "", cursor: str = "", new_community: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    q = q[:500]
    tag = tag.strip()[:40]
    language = _reader_language(ctx)
    popular: list[PostRow] = []
    if not tag:  # a tag's page lists that tag's questions only
        query = service.questions_query(ctx.brand.id, sort="popular", language=language)
        popular = list(uow.session.scalars(query.limit(8)))
    sort = sort if sort in ("new", "votes", "unanswered", "unsolved") else "new"
    latest, next_cursor = _question_page(uow, ctx, community=None, tag=tag or None, sort=sort,
                                         size=HOME_PAGE, cursor=cursor)  # fmt: skip
    answer = None
    if q.strip():
        at = now()
        answer = search.search(uow.session, ctx, q, language=language, now=at, limit=10,
                               kinds=("question", "article"))  # fmt: skip
        # A submitted community search counts like the help center's (deflection figures,
        # and what readers could not find: the content gaps).
        search.record(uow.session, ctx, "no_answer" if answer.out_of_scope else "shown",
                      "community", query=q, results=len(answer.results), at=at)  # fmt: skip
        uow.commit()
    communities = service.communities(uow.session, ctx)
    follows = engagement.following(uow, ctx, ctx.user.id) if ctx.user and tag else set()
    waiting = engagement.waiting_applications(uow, ctx) if service.is_agent(ctx) else {}
    return page(
        request,
        "community/home.html",
        {
            **_common(uow, ctx), "communities": communities, "popular": popular,
            "latest": latest, "sort": sort, "q": q, "answer": answer, "tag": tag,
            "names": _names(uow, [p.author_id for p in [*popular, *latest]]),
            "community_names": {c.id: c.name for c in communities},
            "notice": notice[:20], "next_cursor": next_cursor, "paged": bool(cursor),
            "new_community": new_community or {}, "errors": errors or {},
            "following": ("tag", tag.casefold()) in follows, "waiting": waiting,
        },
        status=status,
    )  # fmt: skip


@router.post("/b/{slug}/community/new", dependencies=[CsrfChecked])
def new_community(
    slug: str, request: Request, user: CurrentUser, uow: Uow,
    name: Annotated[str, Form(max_length=120, title=N_("Name"))] = "",
    community_slug: CommunitySlug = "",
    description: Annotated[str, Form(max_length=2000, title=N_("Description"))] = "",
    closed: Annotated[str, Form(max_length=5)] = "",
) -> Response:  # fmt: skip
    """A brand admin opens a community from the community page (the API's
    ``POST /communities``): a new brand has none, and nobody can ask before one exists."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    form = {"name": name, "slug": community_slug, "description": description, "closed": closed}
    try:
        row = service.create_community(
            uow, ctx, community_slug.strip().lower(), name, description, bool(closed)
        )
    except AppError as error:
        uow.rollback()
        field = error.field or "slug"
        return _home(request, uow, ctx, new_community=form, errors={field: error.detail},
                     status=error.status)  # fmt: skip
    uow.commit()
    return RedirectResponse(f"/b/{slug}/community/c/{row.slug}", status_code=303)


@router.get("/b/{slug}/community/c/{community}")
def community_page(
    slug: str, community: str, request: Request, viewer: ViewerDep, uow: Uow, cursor: str = "",
    saved: str = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, viewer.user)
    comm = service.community_by(uow.session, ctx, community)
    return _community(request, uow, ctx, comm, {}, cursor=cursor, saved=bool(saved))


def _community(request: Request, uow: UnitOfWork, ctx: BrandContext, comm: CommunityRow,
               errors: dict[str, str], status: int = 200, cursor: str = "",
               form: dict[str, Any] | None = None,
               saved: bool = False) -> HTMLResponse:  # fmt: skip
    questions, next_cursor = _question_page(uow, ctx, community=comm, tag=None, sort="new",
                                            size=COMMUNITY_PAGE, cursor=cursor)  # fmt: skip
    member = engagement.membership(uow, ctx, comm)
    agent = service.is_agent(ctx)
    apps = engagement.applications(uow, ctx, comm) if agent else []
    follows = engagement.following(uow, ctx, ctx.user.id) if ctx.user else set()
    return page(
        request,
        "community/community.html",
        {
            **_common(uow, ctx), "community": comm, "questions": questions, "member": member,
            "onboarding": engagement.onboarding_of(comm), "applications": apps,
            "names": _names(uow, [q.author_id for q in questions] + [a.user_id for a in apps]),
            "following": ("community", comm.slug) in follows, "errors": errors,
            "quiz_text": rules.quiz_to_text(engagement.onboarding_of(comm)), "saved": saved,
            "next_cursor": next_cursor, "paged": bool(cursor), "form": form or {},
        },
        status=status,
    )  # fmt: skip


@router.post("/b/{slug}/community/c/{community}/join", dependencies=[CsrfChecked])
def join_community(slug: str, community: str, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user)
    comm = service.community_by(uow.session, ctx, community)
    service.join(uow, ctx, comm, now())
    uow.commit()
    return RedirectResponse(f"/b/{slug}/community/c/{comm.slug}", status_code=303)


@router.post("/b/{slug}/community/c/{community}/admit", dependencies=[CsrfChecked])
def admit_member(
    slug: str, community: str, user: CurrentUser, uow: Uow,
    user_id: Annotated[int, Form()],
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    comm = service.community_by(uow.session, ctx, community)
    engagement.admit(uow, ctx, comm, user_id, now())
    uow.commit()
    return RedirectResponse(f"/b/{slug}/community/c/{comm.slug}", status_code=303)


@router.post("/b/{slug}/community/c/{community}/onboarding", dependencies=[CsrfChecked])
async def onboarding(
    slug: str, community: str, request: Request, user: CurrentUser, uow: Uow
) -> Response:
    form = await request.form()
    ctx = access_brand(uow.session, slug, user)
    comm = service.community_by(uow.session, ctx, community)
    answers = {}
    for key, value in form.items():
        question, choice = ascii_int(key[1:]), ascii_int(value)
        if key.startswith("q") and question is not None and choice is not None:
            answers[question] = choice
    rules_accepted = form.get("rules_accepted") == "yes"
    try:
        engagement.complete_onboarding(uow, ctx, comm, rules_accepted, answers)
    except AppError as error:
        uow.rollback()
        # Back with the choices made, so only the wrong ones need changing.
        chosen = {"answers": answers, "rules_accepted": rules_accepted}
        return _community(request, uow, ctx, comm, {error.field or "quiz": error.detail},
                          error.status, form=chosen)  # fmt: skip
    uow.commit()
    return RedirectResponse(f"/b/{slug}/community/c/{comm.slug}", status_code=303)


@router.post("/b/{slug}/community/c/{community}/setup", dependencies=[CsrfChecked])
def setup_onboarding(
    slug: str, community: str, request: Request, user: CurrentUser, uow: Uow,
    rules_text: Annotated[str, Form(max_length=20_000, title=N_("Community rules"))] = "",
    quiz: Annotated[str, Form(max_length=20_000, title=N_("Quiz"))] = "",
) -> Response:  # fmt: skip
    """A brand admin writes the rules and quiz a closed community's new members go through
    (the API's ``PUT /communities/{c}/onboarding``)."""
    ctx = access_brand(uow.session, slug, user, "brand.manage")
    comm = service.community_by(uow.session, ctx, community)
    form = {"setup_rules": rules_text, "setup_quiz": quiz}
    parsed = rules.quiz_from_text(quiz)
    if not isinstance(parsed, list):
        n = int(dict(parsed.params).get("index", 0)) + 1
        detail = _(
            "Quiz question %(n)s does not read: write the question on its first line, then 2–6 "
            "choices, one per line, with * before the right one; a blank line before the next "
            "question (at most %(max)s questions)."
        ) % {"n": n, "max": rules.MAX_QUIZ_QUESTIONS}  # fmt: skip
        return _community(request, uow, ctx, comm, {"setup_quiz": detail}, 422, form=form)
    try:
        engagement.set_onboarding(uow, ctx, comm, {"rules": rules_text.strip(), "quiz": parsed})
    except AppError as error:
        uow.rollback()
        return _community(request, uow, ctx, comm, {"setup_quiz": error.detail}, error.status,
                          form=form)  # fmt: skip
    uow.commit()
    return RedirectResponse(f"/b/{slug}/community/c/{comm.slug}?saved=1", status_code=303)


@router.post("/b/{slug}/community/follow", dependencies=[CsrfChecked])
def follow(
    slug: str, user: CurrentUser, uow: Uow,
    kind: Annotated[str, Form(max_length=10)], target: Annotated[str, Form(max_length=60)],
    back: Annotated[str, Form(max_length=1000)] = "", stop: Annotated[str, Form(max_length=3)] = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    if stop:
        engagement.unfollow(uow, ctx, kind, target)
    else:
        engagement.follow(uow, ctx, kind, target, now())
    uow.commit()
    safe_back = back if back.startswith(f"/b/{slug}/") else f"/b/{slug}/community"
    return RedirectResponse(safe_back, status_code=303)


def _ask_page(request: Request, uow: UnitOfWork, ctx: BrandContext, form: dict[str, str],
              errors: dict[str, str], status: int = 200) -> HTMLResponse:  # fmt: skip
    return page(
        request,
        "community/ask.html",
        {**_common(uow, ctx), "communities": service.communities(uow.session, ctx),
         "form": form, "errors": errors, "answer": None, "q": ""},
        status=status,
    )  # fmt: skip


@router.get("/b/{slug}/community/ask")
def ask_form(
    slug: str, request: Request, user: CurrentUser, uow: Uow, community: str = "",
    title: str = "",
) -> Response:  # fmt: skip
    """The ask form; ``title`` is what the member searched the help center for when nothing
    answered it ("Ask the community" carries it)."""
    ctx = access_brand(uow.session, slug, user)
    form = {"community": community[:40], "language": _reader_language(ctx),
            "title": title.strip()[:300]}  # fmt: skip
    return _ask_page(request, uow, ctx, form, {})


@router.post("/b/{slug}/community/ask", dependencies=[CsrfChecked])
def ask(
    slug: str, request: Request, user: CurrentUser, uow: Uow,
    community: Annotated[str, Form(max_length=40)] = "",
    title: QuestionTitle = "", body: Details = "", tags: Tags = "",
    language: Annotated[str, Form(max_length=16)] = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    form = {"community": community, "title": title, "body": body, "tags": tags,
            "language": language}  # fmt: skip
    try:
        comm = service.community_by(uow.session, ctx, community or "-")
        tag_list = rules.split_tags(tags)
        post = service.ask(uow, ctx, comm, title, body, language or None, tag_list, now())
    except AppError as error:
        uow.rollback()
        field = error.field or ("community" if error.code == "community_not_found" else "body")
        return _ask_page(request, uow, ctx, form, {field: error.detail}, error.status)
    uow.commit()
    return RedirectResponse(f"/b/{slug}/community/questions/{post.id}", status_code=303)


@router.get("/b/{slug}/community/similar")
def similar(
    slug: str, request: Request, viewer: ViewerDep, uow: Uow, q: str = "", title: str = ""
) -> Response:
    """Possible duplicates and answers while the asker types (an htmx fragment; the ask
    form's title field sends ``title``)."""
    ctx = access_brand(uow.session, slug, viewer.user)
    q = (q or title)[:500]
    answer = None
    if len(q.strip()) >= 2:
        at = now()
        answer = search.search(uow.session, ctx, q, language=_reader_language(ctx), now=at,
                               limit=5, kinds=("question", "article"))  # fmt: skip
        # Typed so far, not asked: a fragment that finds nothing is no content gap ("how do
        # I get a ref…"); what it shows counts as shown, as before.
        if not answer.out_of_scope:
            search.record(uow.session, ctx, "shown", "community_ask", query=q,
                          results=len(answer.results), at=at)  # fmt: skip
            uow.commit()
    return page(request, "community/_similar.html", {**_common(uow, ctx), "answer": answer, "q": q})


# --- question page and its actions ----------------------------------------------------------


def _question(request: Request, uow: UnitOfWork, ctx: BrandContext, question_id: int,
              errors: dict[str, str] | None = None, status: int = 200,
              form: dict[str, str] | None = None) -> HTMLResponse:  # fmt: skip
    q = service.readable_post(uow.session, ctx, question_id, "question")
    mine = ctx.user is not None and ctx.user.id == q.author_id
    answers = service.ordered_answers(uow.session, ctx, q)
    if ctx.user is not None:
        votes = dict(
            uow.session.execute(
                select(VoteRow.post_id, VoteRow.value).where(
                    VoteRow.voter_id == ctx.user.id,
                    VoteRow.post_id.in_([q.id, *[a.id for a in answers]]),
                )
            ).all()
        )
    else:
        votes = {}
    hides = {
        m.post_id: m
        for m in uow.session.scalars(
            select(ModerationRow)
            .where(
                ModerationRow.post_id.in_([q.id, *[a.id for a in answers]]),
                ModerationRow.comment_id.is_(None),
            )
            .order_by(ModerationRow.created_at)
        )
    }
    sees_ticket = service.may_see_ticket_of(ctx, q)
    escalation = None
    if mine and not q.solved and q.ticket_id is None:
        escalation = rules.escalation_status(
            service._question_state(uow.session, q), now(), service.policy(ctx)
        )
    community = uow.session.get(CommunityRow, q.community_id)
    comments = service.comments_for(uow.session, ctx, [q.id, *[a.id for a in answers]])
    commenters = [c.author_id for cs in comments.values() for c in cs]
    privileges = (
        points.privileges_of(uow.session, ctx, ctx.user.id) if ctx.user is not None else frozenset()
    )
    can_edit_others = service.is_agent(ctx) or "edit_others" in privileges
    can_close = service.is_agent(ctx) or "close" in privileges
    can_flag = service.is_agent(ctx) or "flag" in privileges
    locks = _locks(privileges) if ctx.user is not None and not service.is_agent(ctx) else {}
    # The viewer's own hidden comments are shown to them, marked hidden with the reason.
    comment_hidden = service.comment_hide_reasons(
        uow.session, ctx, [c for cs in comments.values() for c in cs]
    )
    comment_appealed = service.appealed_comments(uow.session, ctx, comment_hidden)
    return page(
        request,
        "community/question.html",
        {
            **_common(uow, ctx), "q": q, "answers": answers, "votes": votes, "mine": mine,
            "errors": errors or {}, "form": form or {}, "flag_names": flag_labels(),
            "moderation": hides, "escalation": escalation, "community": community,
            "comments": comments,
            "names": _names(uow, [q.author_id, *[a.author_id for a in answers], *commenters]),
            "can_edit_others": can_edit_others, "can_close": can_close, "can_flag": can_flag,
            "locks": locks, "staff": service.is_agent(ctx),
            # Writers may turn a solved question into a draft article (knowledge curation).
            "can_draft_article": _can_write_articles(ctx) and not q.hidden
            and any((a.accepted or a.brand_approved) and not a.hidden for a in answers),
            "drafted_article": _drafted_article(uow, ctx, q.id),
            "comment_hidden": comment_hidden, "comment_appealed": comment_appealed,
            "views": q.views + counters(request).pending(PostRow, "views", q.id),
            "solved_cases": service.solved_cases(uow.session, ctx, q),
            "original": service.readable_or_none(uow.session, ctx, q.duplicate_of),
            # The ticket (its id, link and where it stands) only for those who may see it.
            "sees_ticket": sees_ticket,
            "ticket_stage": service.ticket_stage(uow.session, ctx, q.ticket_id)
            if sees_ticket
            else None,
        },
        status=status,
    )  # fmt: skip


def _can_write_articles(ctx: BrandContext) -> bool:
    from crowdcx.knowledge import service as kb  # the help center builds on the community

    return kb.can_write(ctx)


def _drafted_article(uow: UnitOfWork, ctx: BrandContext, question_id: int) -> Any:
    """The article drafted from this question, for the help center's staff who may read it."""
    from crowdcx.knowledge import service as kb  # the help center builds on the community

    return kb.drafted_from(uow.session, ctx, "question", question_id)


@router.get("/b/{slug}/community/questions/{question_id}")
def question_page(
    slug: str, question_id: int, request: Request, viewer: ViewerDep, uow: Uow, q: str = ""
) -> Response:
    ctx = access_brand(uow.session, slug, viewer.user)
    post = service.readable_post(uow.session, ctx, question_id, "question")  # 404 if hidden
    counters(request).increment(PostRow, "views", post.id)
    if q:
        search.record(uow.session, ctx, "opened", "community", query=q[:500], kind="question",
                      ref_id=str(post.id), at=now(),
                      visitor=visitor_key(request, viewer))  # fmt: skip
        uow.commit()
    return _question(request, uow, ctx, question_id)


LOCKABLE: Final = ("upvote", "downvote", "flag")


def _locks(privileges: frozenset[str]) -> dict[str, str]:
    """The post actions a member does not yet hold the privilege for (``upvote``,
    ``downvote``, ``flag``) → what opens them, in the reader's language. The page shows those
    buttons disabled with this beside them, rather than as buttons that answer with a
    refusal; the server still refuses them."""
    labels = privilege_labels()
    return {
        name: _("“%(privilege)s” opens at %(n)s points.")
        % {"privilege": labels[name], "n": points.POLICY.privileges[name]}
        for name in LOCKABLE
        if name not in privileges and name in points.POLICY.privileges
    }


def _act(
    request: Request, uow: UnitOfWork, ctx: BrandContext, question_id: int, action: Any,
    anchor: str = "", field: str = "action", form: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    try:
        action()
    except AppError as error:
        uow.rollback()
        return _question(request, uow, ctx, question_id, {field: error.detail}, error.status, form)
    uow.commit()
    return RedirectResponse(
        f"/b/{ctx.brand.slug}/community/questions/{question_id}{anchor}", status_code=303
    )


@router.post("/b/{slug}/community/questions/{question_id}/answer", dependencies=[CsrfChecked])
def post_answer(
    slug: str,
    question_id: int,
    request: Request,
    user: CurrentUser,
    uow: Uow,
    body: AnswerBody = "",
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")
    return _act(request, uow, ctx, question_id, lambda: service.answer(uow, ctx, q, body, now()),
                "#answers", "body", {"body": body})  # fmt: skip


@router.post("/b/{slug}/community/posts/{post_id}/vote", dependencies=[CsrfChecked])
def vote(
    slug: str, post_id: int, request: Request, user: CurrentUser, uow: Uow,
    value: Annotated[int, Form(ge=-1, le=1)],
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    post = service.readable_post(uow.session, ctx, post_id)
    qid = post.question_id or post.id
    return _act(request, uow, ctx, qid, lambda: service.vote(uow, ctx, post, value, now()),
                f"#post-{post.id}")  # fmt: skip


@router.post("/b/{slug}/community/questions/{question_id}/accept", dependencies=[CsrfChecked])
def accept(
    slug: str, question_id: int, request: Request, user: CurrentUser, uow: Uow,
    answer_id: Annotated[int, Form()],
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")

    def run() -> Any:
        return service.accept(uow, ctx, q, answer_id, now())

    return _act(request, uow, ctx, question_id, run, f"#post-{answer_id}")


@router.post("/b/{slug}/community/answers/{answer_id}/approve", dependencies=[CsrfChecked])
def approve(slug: str, answer_id: int, request: Request, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user)
    a = service.get_post(uow.session, ctx, answer_id, "answer")
    return _act(request, uow, ctx, a.question_id or 0,
                lambda: service.approve(uow, ctx, a, now()), f"#post-{a.id}")  # fmt: skip


@router.post("/b/{slug}/community/posts/{post_id}/flag", dependencies=[CsrfChecked])
def flag(
    slug: str, post_id: int, request: Request, user: CurrentUser, uow: Uow,
    reason: Annotated[str, Form(max_length=16)] = "spam",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    post = service.readable_post(uow.session, ctx, post_id)

    def run() -> Any:
        return service.flag(uow, ctx, post, reason, now())

    response = _act(request, uow, ctx, post.question_id or post.id, run, f"#post-{post.id}")
    if post.hidden and post.kind == "question" and response.status_code == 303:
        # The flag hid the question: the flagger can no longer see it, so say what happened.
        return RedirectResponse(f"/b/{slug}/community?notice=hidden", status_code=303)
    return response


@router.post("/b/{slug}/community/posts/{post_id}/appeal", dependencies=[CsrfChecked])
def appeal(
    slug: str, post_id: int, request: Request, user: CurrentUser, uow: Uow,
    text: Appeal = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    post = service.readable_post(uow.session, ctx, post_id)

    def run() -> Any:
        return engagement.appeal(uow, ctx, post, text, now())

    return _act(request, uow, ctx, post.question_id or post.id, run, f"#post-{post.id}")


@router.post("/b/{slug}/community/questions/{question_id}/escalate", dependencies=[CsrfChecked])
def escalate(
    slug: str, question_id: int, request: Request, user: CurrentUser, uow: Uow
) -> Response:
    ctx = access_brand(uow.session, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")
    try:
        ticket_id = service.escalate(uow, ctx, q, now())
    except AppError as error:
        uow.rollback()
        return _question(request, uow, ctx, question_id, {"action": error.detail}, error.status)
    uow.commit()
    return RedirectResponse(f"/b/{slug}/tickets/{ticket_id}", status_code=303)


@router.post("/b/{slug}/community/posts/{post_id}/comment", dependencies=[CsrfChecked])
def comment(
    slug: str, post_id: int, request: Request, user: CurrentUser, uow: Uow,
    body: CommentBody = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    post = service.readable_post(uow.session, ctx, post_id)

    def run() -> Any:
        return service.comment(uow, ctx, post, body, now())

    # Refused (too long, empty, no privilege yet): the page comes back with the text typed,
    # in the form of the post it was for, and the reason beside it.
    return _act(request, uow, ctx, post.question_id or post.id, run, f"#post-{post.id}",
                "comment", {"comment_post": str(post.id), "comment": body})  # fmt: skip


@router.post("/b/{slug}/community/comments/{comment_id}/flag", dependencies=[CsrfChecked])
def flag_comment(
    slug: str, comment_id: int, request: Request, user: CurrentUser, uow: Uow,
    reason: Annotated[str, Form(max_length=16)] = "spam",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    comment = service.readable_comment(uow.session, ctx, comment_id)
    return _on_comment(request, uow, ctx, comment,
                       lambda: service.flag_comment(uow, ctx, comment, reason, now()))  # fmt: skip


@router.post("/b/{slug}/community/comments/{comment_id}/appeal", dependencies=[CsrfChecked])
def appeal_comment(
    slug: str, comment_id: int, request: Request, user: CurrentUser, uow: Uow,
    text: Appeal = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    comment = service.readable_comment(uow.session, ctx, comment_id)

    def run() -> Any:
        return engagement.appeal_comment(uow, ctx, comment, text, now())

    return _on_comment(request, uow, ctx, comment, run)


def _on_comment(
    request: Request, uow: UnitOfWork, ctx: BrandContext, comment: Any, action: Any
) -> Response:
    """Run an action on a comment and come back to it on its question's page."""
    post = service.get_post(uow.session, ctx, comment.post_id)
    return _act(request, uow, ctx, post.question_id or post.id, action, f"#comment-{comment.id}")


@router.post("/b/{slug}/community/comments/{comment_id}/moderate", dependencies=[CsrfChecked])
def moderate_comment(
    slug: str, comment_id: int, request: Request, user: CurrentUser, uow: Uow,
    action: Annotated[str, Form(max_length=10)], note: NoteToAuthor = "",
    back: Annotated[str, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    """Hide from the question page; restore or keep hidden from the review queue
    (``back=queue``)."""
    ctx = access_brand(uow.session, slug, user)
    comment = service.get_comment(uow.session, ctx, comment_id)

    def run() -> Any:
        return engagement.moderate_comment(uow, ctx, comment, action, note, now())

    if back == "queue":
        run()
        uow.commit()
        return RedirectResponse(f"/b/{slug}/community/moderation", status_code=303)
    post = service.get_post(uow.session, ctx, comment.post_id)
    return _act(request, uow, ctx, post.question_id or post.id, run, f"#post-{post.id}")


@router.post("/b/{slug}/community/questions/{question_id}/close", dependencies=[CsrfChecked])
def close(
    slug: str, question_id: int, request: Request, user: CurrentUser, uow: Uow,
    duplicate_of: DuplicateOf = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")

    def run() -> Any:
        try:  # a question number or a pasted link to the question
            target = rules.duplicate_reference(duplicate_of)
        except ValueError:
            raise invalid(
                "duplicate_of",
                _("Enter the number of the question this one duplicates, or paste its link."),
                "duplicate_unreadable",
            ) from None
        return service.close(uow, ctx, q, target, now())

    # Refused, the close form comes back open with what was typed, to correct.
    return _act(request, uow, ctx, question_id, run, form={"duplicate_of": duplicate_of})


@router.post("/b/{slug}/community/questions/{question_id}/reopen", dependencies=[CsrfChecked])
def reopen(slug: str, question_id: int, request: Request, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user)
    q = service.readable_post(uow.session, ctx, question_id, "question")
    return _act(request, uow, ctx, question_id, lambda: service.reopen(uow, ctx, q, now()))


def _edit_page(
    request: Request, uow: UnitOfWork, ctx: BrandContext, post: PostRow,
    form: dict[str, str], errors: dict[str, str], status: int = 200,
) -> HTMLResponse:  # fmt: skip
    history = service.revisions(uow.session, ctx, post)
    return page(
        request,
        "community/edit.html",
        {**_common(uow, ctx), "post": post, "form": form, "errors": errors,
         "history": history, "names": _names(uow, [r.editor_id for r in history])},
        status=status,
    )  # fmt: skip


@router.get("/b/{slug}/community/posts/{post_id}/edit")
def edit_form(slug: str, post_id: int, request: Request, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user)
    post = service.readable_post(uow.session, ctx, post_id)
    service.check_may_edit(uow.session, ctx, post)
    return _edit_page(request, uow, ctx, post, {"title": post.title, "body": post.body}, {})


@router.post("/b/{slug}/community/posts/{post_id}/edit", dependencies=[CsrfChecked])
def edit_post(
    slug: str, post_id: int, request: Request, user: CurrentUser, uow: Uow,
    title: QuestionTitle = "", body: Details = "", note: EditNote = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    post = service.readable_post(uow.session, ctx, post_id)
    form = {"title": title, "body": body, "note": note}
    try:
        service.edit(uow, ctx, post, title if post.kind == "question" else None, body, note, now())
    except AppError as error:
        uow.rollback()
        post = service.readable_post(uow.session, ctx, post_id)
        return _edit_page(request, uow, ctx, post, form, {error.field or "body": error.detail},
                          error.status)  # fmt: skip
    uow.commit()
    qid = post.question_id or post.id
    return RedirectResponse(f"/b/{slug}/community/questions/{qid}#post-{post.id}", status_code=303)


# --- people: profile, leaderboard, rewards, notifications, top helpers ----------------------


@router.get("/b/{slug}/community/users/{user_id}")
def profile(slug: str, user_id: int, request: Request, viewer: ViewerDep, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, viewer.user)
    person = uow.session.get(User, user_id)
    if person is None:
        raise not_found(_("There is no such person."), "user_not_found")
    card = service.reputation_card(uow.session, ctx, user_id)
    thresholds = points.POLICY.level_thresholds
    level = card["level"]
    follows = engagement.following(uow, ctx, ctx.user.id) if ctx.user else set()
    # Their recent visible answers to questions the viewer can read: a hidden question's
    # title is not shown here either.
    question = aliased(PostRow)
    listed = (
        ctx.scoped(PostRow)
        .join(question, question.id == PostRow.question_id)
        .where(PostRow.author_id == user_id, PostRow.kind == "answer", PostRow.hidden.is_(False))
    )
    if not service.is_agent(ctx):
        listed = listed.where(
            question.hidden.is_(False)
            if ctx.user is None
            else or_(question.hidden.is_(False), question.author_id == ctx.user.id)
        )
    rows = uow.session.execute(
        listed.add_columns(question.title).order_by(PostRow.id.desc()).limit(10)
    ).all()
    answers = [a for a, _title in rows]
    titles = {a.question_id: title for a, title in rows}
    own = ctx.user is not None and ctx.user.id == user_id
    agent = service.is_agent(ctx)
    return page(
        request,
        "community/profile.html",
        {
            **_common(uow, ctx), "person": person, "card": card,
            "badges": engagement.badges_of(uow, ctx, user_id),
            "next_threshold": thresholds[level] if level < len(thresholds) else None,
            "level_start": thresholds[level - 1],
            "history": points.history(uow.session, ctx, user_id, 30) if own or agent else [],
            "reason_names": reason_labels(), "privilege_names": privilege_labels(),
            "following": ("user", str(user_id)) in follows, "own": own,
            "answers": answers, "titles": titles,
        },
    )  # fmt: skip


@router.get("/b/{slug}/community/leaderboard")
def leaderboard(
    slug: str, request: Request, viewer: ViewerDep, uow: Uow,
    period: str = "week", community: str = "", tag: str = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, viewer.user)
    period = period if period in rep.PERIODS else "week"
    comm = service.community_by(uow.session, ctx, community[:40]) if community else None
    rows = service.leaderboard(uow.session, ctx, period, comm, tag[:40] or None, now())
    levels = {r.user_id: points.level_of(uow.session, ctx, r.user_id) for r in rows}
    return page(
        request,
        "community/leaderboard.html",
        {
            **_common(uow, ctx), "rows": rows, "period": period, "periods": period_labels(),
            "community": comm, "tag": tag[:40], "names": _names(uow, [r.user_id for r in rows]),
            "levels": levels, "communities": service.communities(uow.session, ctx),
        },
    )  # fmt: skip


@router.get("/b/{slug}/community/moderation")
def moderation(slug: str, request: Request, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user)
    if not engagement.can_review(uow, ctx):
        raise AppError(403, "privilege_required",
                       _("The review queue opens at %(n)s reputation.")
                       % {"n": points.POLICY.privileges["review_queue"]})  # fmt: skip
    items = engagement.review_queue(uow, ctx)
    comment_items = engagement.comment_review_queue(uow, ctx)
    log = engagement.moderation_log(uow, ctx, 50)
    return page(
        request,
        "community/moderation.html",
        {
            **_common(uow, ctx), "items": items, "comment_items": comment_items, "log": log,
            "flag_names": flag_labels(), "action_names": action_labels(),
            "names": _names(uow, [i.post.author_id for i in items]
                            + [i.comment.author_id for i in comment_items]
                            + [m.actor_id for m in log if m.actor_id]),
        },
    )  # fmt: skip


@router.post("/b/{slug}/community/moderation/{post_id}", dependencies=[CsrfChecked])
def moderate(
    slug: str, post_id: int, user: CurrentUser, uow: Uow,
    decision: Annotated[str, Form(max_length=10)], note: NoteToAuthor = "",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    post = service.get_post(uow.session, ctx, post_id)
    engagement.review(uow, ctx, post, decision, note, now())
    uow.commit()
    return RedirectResponse(f"/b/{slug}/community/moderation", status_code=303)


def _rewards(request: Request, uow: UnitOfWork, ctx: BrandContext, errors: dict[str, str],
             status: int = 200, done: str = "",
             form: dict[str, str] | None = None) -> HTMLResponse:  # fmt: skip
    assert ctx.user is not None
    pol = service.reward_policy(ctx)
    history = list(
        uow.session.scalars(
            ctx.scoped(RedemptionRow)
            .where(RedemptionRow.user_id == ctx.user.id)
            .order_by(RedemptionRow.id.desc())
            .limit(20)
        )
    )
    start = rules.redemption_period_start(now(), pol)
    redeemed = uow.session.scalar(
        ctx.scoped(RedemptionRow, select(func.coalesce(func.sum(RedemptionRow.points), 0))).where(
            RedemptionRow.user_id == ctx.user.id, RedemptionRow.created_at >= start
        )
    )
    balance = points.balance_of(uow.session, ctx, ctx.user.id)
    return page(
        request,
        "community/rewards.html",
        {
            **_common(uow, ctx), "policy": pol, "balance": balance,
            "redeemable": rules.redeemable_points(balance, int(redeemed or 0), pol),
            "history": history, "kinds": reward_labels(), "errors": errors, "done": done,
            "form": form or {},
        },
        status=status,
    )  # fmt: skip


@router.get("/b/{slug}/community/rewards")
def rewards(slug: str, request: Request, user: CurrentUser, uow: Uow, done: str = "") -> Response:
    ctx = access_brand(uow.session, slug, user)
    return _rewards(request, uow, ctx, {}, done=done[:10])


@router.post("/b/{slug}/community/rewards", dependencies=[CsrfChecked])
def redeem(
    slug: str, request: Request, user: CurrentUser, uow: Uow,
    amount: Annotated[str, Form(max_length=12, title=N_("Points to redeem"))] = "",
    kind: Annotated[str, Form(max_length=10)] = "credit",
) -> Response:  # fmt: skip
    ctx = access_brand(uow.session, slug, user)
    form = {"amount": amount, "kind": kind}  # a refused form comes back as it was filled in
    points = typed_int(amount)  # "１００" from a full-width input method too
    if points is None:
        return _rewards(request, uow, ctx, {"points": _("Enter a whole number of points.")}, 422,
                        form=form)  # fmt: skip
    try:
        service.redeem(uow, ctx, points, kind, now())
    except AppError as error:
        uow.rollback()
        field = "kind" if error.field == "kind" else "points"
        return _rewards(request, uow, ctx, {field: error.detail}, error.status, form=form)
    uow.commit()
    return RedirectResponse(f"/b/{slug}/community/rewards?done=1", status_code=303)


@router.get("/b/{slug}/community/discover")
def discover(slug: str, request: Request, user: CurrentUser, uow: Uow, sent: str = "") -> Response:
    ctx = access_brand(uow.session, slug, user)
    candidates = engagement.super_user_candidates(uow, ctx)
    return page(
        request,
        "community/discover.html",
        {**_common(uow, ctx), "candidates": candidates, "policy": engagement.discovery_policy(ctx),
         "names": _names(uow, [c.user_id for c in candidates]), "sent": sent[:12]},
    )  # fmt: skip


@router.post("/b/{slug}/community/discover/invite", dependencies=[CsrfChecked])
def invite(slug: str, user: CurrentUser, uow: Uow, user_id: Annotated[int, Form()]) -> Response:
    ctx = access_brand(uow.session, slug, user)
    engagement.invite_expert(uow, ctx, user_id, now())
    uow.commit()
    return RedirectResponse(f"/b/{slug}/community/discover?sent={user_id}", status_code=303)


@router.get("/b/{slug}/notifications")
def notifications(slug: str, request: Request, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user)
    rows = notes.recent(uow.session, ctx.brand.id, user.id)
    items = [(r, notes.text(r)) for r in rows]
    return page(request, "community/notifications.html", {**_common(uow, ctx), "items": items})


@router.post("/b/{slug}/notifications/read", dependencies=[CsrfChecked])
def notifications_read(slug: str, user: CurrentUser, uow: Uow) -> Response:
    ctx = access_brand(uow.session, slug, user)
    notes.mark_read(uow.session, ctx.brand.id, user.id, now())
    uow.commit()
    return RedirectResponse(f"/b/{slug}/notifications", status_code=303)
