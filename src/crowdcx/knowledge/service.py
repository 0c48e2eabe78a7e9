"""Use cases of the knowledge base: write, review, publish, archive, feedback, import/export.

Every change that alters what readers can find updates the search index in the same
transaction (crowdcx.search.service), so a published article is findable at commit and an
archived one is gone at commit.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, and_, bindparam, false, func, or_, select, text, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork, update_row
from crowdcx.kernel.errors import AppError, forbidden, invalid, not_found
from crowdcx.kernel.i18n import N_, _, list_separator
from crowdcx.kernel.language import LOCALE_NAMES
from crowdcx.kernel.markdown import one_line_break
from crowdcx.knowledge import labels, rules
from crowdcx.knowledge.models import (
    OPEN_SOURCE_DRAFT,
    Article,
    ArticleEvent,
    ArticleFeedback,
    ArticleVersion,
    SearchEvent,
)
from crowdcx.search import rules as search_rules
from crowdcx.search import service as search
from crowdcx.tenancy.service import BrandContext

MAX_COMMENT = 2000


def kb_policy(ctx: BrandContext) -> rules.KbRoles:
    return rules.kb_roles_from(ctx.brand.settings)


def reads(ctx: BrandContext) -> frozenset[str]:
    """The visibilities this viewer may read (the same reading level search applies)."""
    return frozenset(search_rules.visible_to(search.viewer_role(ctx)))


def actor_of(ctx: BrandContext) -> rules.Actor:
    user = ctx.user
    return rules.Actor(user.id if user else 0, ctx.roles, ctx.is_platform_admin, reads(ctx))


def can_write(ctx: BrandContext) -> bool:
    return ctx.user is not None and rules.may_write(actor_of(ctx), kb_policy(ctx))


def can_review(ctx: BrandContext) -> bool:
    return ctx.user is not None and rules.may_review(actor_of(ctx), kb_policy(ctx))


def can_see_gaps(ctx: BrandContext) -> bool:
    """Content gaps show what readers typed into a search box, in their own words: the
    brand's reviewers see them if they are its staff, not experts a brand lets review."""
    return can_review(ctx) and ctx.can("ticket.staff")


# Refusals an import job can also meet long after the upload: knowledge.jobs stores their
# code and says them again in its reader's language.
NOT_WRITER = N_("Only the brand's authors can write help-center articles.")
NOT_PUBLISHER = N_("Only a reviewer can import straight to published.")


def require_writer(ctx: BrandContext) -> None:
    if ctx.user is None:
        from crowdcx.kernel.errors import unauthenticated

        raise unauthenticated()
    if not can_write(ctx):
        raise forbidden(_(NOT_WRITER), "not_author")


def violation_error(v: rules.Violation) -> AppError:
    p = dict(v.params)
    # The state and action as the pages name them, not their codes.
    if "state" in p:
        p["state"] = labels.state_labels().get(str(p["state"]), p["state"])
    if "action" in p:
        p["action"] = labels.action_labels().get(str(p["action"]), p["action"])
    messages: dict[str, Callable[[], str]] = {
        "required": lambda: _("This field is required."),
        "invisible": lambda: _(
            "This text has only invisible characters (such as zero-width spaces); write "
            "something readers can see."
        ),
        "too_long": lambda: _("Keep this under %(max)s characters.") % p,
        "bad_language": lambda: (
            _("“%(value)s” is not a language we support: use en, ru, zh-Hans or zh-Hant.") % p
        ),
        "bad_visibility": lambda: (
            _("“%(value)s” is not a visibility: use public, experts or staff.") % p
        ),
        "tag_too_long": lambda: _("Tags are at most %(max)s characters long.") % p,
        "too_many_tags": lambda: _("Use at most %(max)s tags.") % p,
        "bad_state": lambda: _("An article in state “%(state)s” cannot be given “%(action)s”.") % p,
        "not_author": lambda: _("Only the author or a reviewer can do this."),
        "not_reviewer": lambda: _("Only a reviewer of this brand can do this."),
        "own_article": lambda: _(
            "Someone other than the author must approve an article; ask another reviewer."
        ),
        "archived": lambda: _("This article is archived; it can no longer be edited."),
        "restricted": lambda: _(
            "You cannot work on this article: its working revision is restricted to readers "
            "above your level."
        ),
        "visibility_not_allowed": lambda: (
            _("You can only give an article a visibility you may read yourself: %(allowed)s.") % p
        ),
        "unknown_action": lambda: _("Unknown action “%(action)s”.") % p,
        "empty_file": lambda: _("The file is empty."),
        "nul_character": lambda: _(
            "The file contains a NUL character (U+0000), which no text may hold; save it as "
            "UTF-8 text and upload it again."
        ),
        "bad_csv": lambda: _("The file is not valid CSV: %(reason)s") % p,
        "missing_columns": lambda: (
            _(
                "The header row lacks the column(s) %(columns)s; expected "
                "question,answer,language,tags,visibility."
            )
            # "question、answer、language" in Chinese: the reader's list separator.
            % {"columns": list_separator().join(c.strip() for c in str(p["columns"]).split(","))}
        ),
        "duplicate_row": lambda: _("The same question in the same language appears earlier."),
    }
    message = messages.get(v.code, lambda: _("This value is not accepted."))()
    if v.code in ("bad_state", "own_article", "archived"):
        return AppError(409, v.code, message, field=v.field or None)
    if v.code in ("not_author", "not_reviewer", "restricted"):
        return forbidden(message, v.code)
    return invalid(v.field or "body", message, v.code)


def reason_text(v: rules.Violation) -> str:
    return violation_error(v).detail


# --- reading ----------------------------------------------------------------------------------


def _view_of(article: Article, writers: frozenset[int] = frozenset()) -> rules.ArticleState:
    return rules.ArticleState(
        state=article.state,  # type: ignore[arg-type]
        author_id=article.author_id or 0,
        live=article.live,
        visibility=article.visibility,
        live_visibility=(article.live_visibility or "staff") if article.live else None,
        writers=writers,
    )


def state_of(session: Session, article: Article) -> rules.ArticleState:
    """What the workflow rules need to know about an article. Who wrote the text under review
    (the revisions' editors) is read only while it is in review: approval is the step that
    asks."""
    if article.state != "in_review":
        return _view_of(article)
    revisions = session.execute(
        select(ArticleVersion.version, ArticleVersion.editor_id).where(
            ArticleVersion.article_id == article.id,
            ArticleVersion.version > (article.live_version or 0),
        )
    )
    return _view_of(
        article,
        rules.text_authors(article.author_id, [(v, e) for v, e in revisions], article.live_version),
    )


def readable(ctx: BrandContext, article: Article) -> bool:
    """Readers see the live copy within their reading level; authors and reviewers also see the
    working revision, within the same level (writing never lifts it)."""
    return rules.may_read(_view_of(article), actor_of(ctx), kb_policy(ctx))


def sees_working(ctx: BrandContext, article: Article) -> bool:
    """Whether this viewer gets the working revision (an editor's view) or the live copy."""
    return rules.may_read_working(_view_of(article), actor_of(ctx), kb_policy(ctx))


def require_working(ctx: BrandContext, article: Article) -> None:
    if not sees_working(ctx, article):
        raise violation_error(rules.Violation("restricted", "action"))


def reader_tags(article: Article) -> list[str]:
    return list(rules.published_tags(article.live, article.live_tags))


def reader_skills(article: Article) -> list[str]:
    """Skills are kept for the working revision only (tags have a live copy, skills not):
    readers get them while the article is published as it stands, never a pending
    revision's."""
    return list(article.skills) if article.live and article.state == "published" else []


def _live_readable(visible: Sequence[str]) -> ColumnElement[bool]:
    return and_(
        Article.live_version.is_not(None),
        Article.state != "archived",
        Article.live_visibility.in_(visible),
    )


def _working_readable(visible: Sequence[str]) -> ColumnElement[bool]:
    """SQL for rules.may_read_working, for a viewer already known to write or review."""
    return and_(
        Article.visibility.in_(visible),
        or_(
            Article.live_version.is_(None),
            Article.state == "archived",
            Article.live_visibility.in_(visible),
        ),
    )


def get_article(session: Session, ctx: BrandContext, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None or article.brand_id != ctx.brand.id or not readable(ctx, article):
        # Same answer whether it does not exist or may not be seen: nothing leaks.
        raise not_found(_("There is no such article in this help center."), "article_not_found")
    return article


def list_articles(
    session: Session,
    ctx: BrandContext,
    *,
    state: str | None = None,
    language: str | None = None,
    tag: str | None = None,
    limit: int = 50,
    after: int | None = None,
) -> list[Article]:
    """Articles this viewer may read. An editor's rows are filtered on the working revision
    they see; every other row (and every row of a reader) on the live copy: state published,
    the live language and the published tags."""
    if state and state not in rules.STATES:
        raise invalid("state", _("Use one of: %(s)s.") % {"s": ", ".join(rules.STATES)})
    lang = None
    if language:
        lang = rules.normalise_language(language)
        if lang is None:
            raise violation_error(rules.Violation("bad_language", "lang", {"value": language}))
    visible = sorted(reads(ctx))
    editor = can_write(ctx) or can_review(ctx)
    as_reader = and_(
        _live_readable(visible),
        true() if not state or state == "published" else false(),
        Article.live_language == lang if lang else true(),
    )
    if editor:
        as_editor = and_(
            _working_readable(visible),
            Article.state == state if state else true(),
            or_(Article.live_language == lang, Article.language == lang) if lang else true(),
        )
        where = or_(as_editor, and_(~_working_readable(visible), as_reader))
    else:
        where = as_reader
    stmt = ctx.scoped(Article).where(where).order_by(Article.id.desc())

    def page(size: int) -> list[Article]:
        return list(
            session.scalars(
                (stmt.where(Article.id < after) if after is not None else stmt).limit(size)
            )
        )

    if not tag:
        return page(limit)
    # Tags live in a JSON list: read on, batch after batch, until the page is full (it used
    # to look only among the newest four pages' worth and missed older tagged articles).
    # Readers match the published tags, never a pending draft's.
    wanted = tag.strip().casefold()
    rows: list[Article] = []
    batch = max(limit, 200)
    while True:
        read = page(batch)
        rows += [a for a in read if wanted in (a.tags if sees_working(ctx, a) else reader_tags(a))]
        if len(rows) >= limit or len(read) < batch:
            return rows[:limit]
        after = read[-1].id


def group_languages(session: Session, ctx: BrandContext, article: Article) -> set[str]:
    """The languages an article's translation group has (itself included; archived variants
    left out)."""
    group = article.group_id or article.id
    return set(
        session.scalars(
            ctx.scoped(Article, select(Article.language)).where(
                or_(Article.group_id == group, Article.id == group), Article.state != "archived"
            )
        )
    )


def variants(session: Session, ctx: BrandContext, article: Article) -> list[Article]:
    """The article's translations that this viewer may read (itself excluded)."""
    group = article.group_id or article.id
    rows = session.scalars(
        ctx.scoped(Article).where(
            or_(Article.group_id == group, Article.id == group), Article.id != article.id
        )
    )
    return [a for a in rows if readable(ctx, a)]


def versions(session: Session, ctx: BrandContext, article: Article) -> list[ArticleVersion]:
    """The article's revisions this viewer may read: each at the visibility it was written
    for (a staff-only text rewritten for experts stays staff-only in the history)."""
    return list(
        session.scalars(
            ctx.scoped(ArticleVersion)
            .where(
                ArticleVersion.article_id == article.id,
                ArticleVersion.visibility.in_(sorted(reads(ctx))),
            )
            .order_by(ArticleVersion.version.desc())
        )
    )


def _two_versions(
    session: Session, ctx: BrandContext, article: Article, old: int, new: int
) -> tuple[ArticleVersion, ArticleVersion]:
    by_number = {v.version: v for v in versions(session, ctx, article)}
    if old not in by_number or new not in by_number:
        raise not_found(_("There is no such version of this article."), "version_not_found")
    return by_number[old], by_number[new]


def version_diff(session: Session, ctx: BrandContext, article: Article, old: int, new: int) -> str:
    a, b = _two_versions(session, ctx, article, old, new)
    return rules.diff(a.title, a.body, b.title, b.body, (f"v{old}", f"v{new}"))


def version_changes(
    session: Session, ctx: BrandContext, article: Article, old: int, new: int
) -> list[tuple[rules.DiffKind, str]]:
    """What a reviewer reads on the changes page: the lines that differ, with context."""
    a, b = _two_versions(session, ctx, article, old, new)
    return rules.diff_lines(a.title, a.body, b.title, b.body)


def stale(session: Session, ctx: BrandContext, now: datetime) -> list[Article]:
    """Live articles past their review-by date whose live copy this viewer may read."""
    return list(
        session.scalars(
            ctx.scoped(Article)
            .where(_live_readable(sorted(reads(ctx))), Article.review_by <= now)
            .order_by(Article.review_by)
        )
    )


def review_queue(session: Session, ctx: BrandContext) -> list[Article]:
    """Revisions in review or approved, within this viewer's reading level."""
    return list(
        session.scalars(
            ctx.scoped(Article)
            .where(
                Article.state.in_(("in_review", "approved")),
                _working_readable(sorted(reads(ctx))),
            )
            .order_by(Article.updated_at)
        )
    )


def my_drafts(session: Session, ctx: BrandContext, limit: int = 50) -> list[Article]:
    """The viewer's own drafts, within their reading level (a reviewer may have raised one)."""
    if ctx.user is None:
        return []
    return list(
        session.scalars(
            ctx.scoped(Article)
            .where(
                Article.author_id == ctx.user.id,
                Article.state == "draft",
                _working_readable(sorted(reads(ctx))),
            )
            .order_by(Article.updated_at.desc())
            .limit(limit)
        )
    )


# --- writing ----------------------------------------------------------------------------------


def _sync_index(session: Session, article: Article) -> None:
    session.flush()
    if not article.live:
        search.remove(session, article.brand_id, "article", str(article.id))
        return
    search.upsert(
        session,
        search.document(
            article.brand_id,
            "article",
            article.id,
            language=article.live_language or article.language,
            visibility=article.live_visibility or "staff",
            title=article.live_title or article.title,
            markdown=article.live_body or "",
            updated_at=article.published_at or article.updated_at,
            helpful=article.helpful,
            unhelpful=article.unhelpful,
        ),
    )


SourceKind = Literal["ticket", "question"]


def create_article(
    uow: UnitOfWork,
    ctx: BrandContext,
    draft: rules.Draft,
    now: datetime,
    *,
    translation_of: int | None = None,
    skills: Sequence[str] = (),
    author_id: int | None = None,
    source: tuple[SourceKind, int] | None = None,
) -> Article:
    require_writer(ctx)
    too_high = rules.check_visibility(draft.visibility, actor_of(ctx))
    if too_high is not None:
        raise violation_error(too_high)
    group_id = None
    if translation_of is not None:
        original = get_article(uow.session, ctx, translation_of)
        group_id = original.group_id or original.id
        if draft.language in group_languages(uow.session, ctx, original):
            # A second variant in one language: readers would be shown either at random.
            raise invalid(
                "language",
                _(
                    "This article already has a version in %(language)s: edit that one, or "
                    "choose another language for the translation."
                )
                % {"language": LOCALE_NAMES.get(draft.language, draft.language)},
                "translation_exists",
            )
    article = Article(
        brand_id=ctx.brand.id,
        group_id=group_id,
        language=draft.language,
        title=draft.title,
        body=draft.body,
        tags=list(draft.tags),
        skills=[s.strip() for s in skills if s.strip()][:20],
        visibility=draft.visibility,
        state="draft",
        version=1,
        author_id=author_id if author_id is not None else (ctx.user.id if ctx.user else None),
        source_kind=source[0] if source else None,
        source_id=source[1] if source else None,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(article)
    uow.session.flush()
    uow.session.add(
        ArticleVersion(
            brand_id=ctx.brand.id,
            article_id=article.id,
            version=1,
            title=draft.title,
            body=draft.body,
            visibility=draft.visibility,
            editor_id=ctx.user.id if ctx.user else None,
            created_at=now,
        )
    )
    return article


def update_article(
    uow: UnitOfWork,
    ctx: BrandContext,
    article: Article,
    changes: dict[str, Any],
    now: datetime,
) -> Article:
    """Edit the working revision: a new version, back to draft; the live copy is untouched."""
    require_writer(ctx) if not can_review(ctx) else None
    outcome = rules.edit_state(state_of(uow.session, article), actor_of(ctx), kb_policy(ctx))
    if isinstance(outcome, rules.Violation):
        raise violation_error(outcome)
    draft = rules.validate_draft(
        changes.get("title", article.title),
        changes.get("body", article.body),
        changes.get("language", article.language),
        changes.get("tags", article.tags),
        changes.get("visibility", article.visibility),
    )
    if isinstance(draft, rules.Violation):
        raise violation_error(draft)
    too_high = rules.check_visibility(draft.visibility, actor_of(ctx))
    if too_high is not None:
        raise violation_error(too_high)
    text_changed = (draft.title, draft.body) != (article.title, article.body)
    visibility_changed = draft.visibility != article.visibility
    article.title, article.body, article.language = draft.title, draft.body, draft.language
    article.tags, article.visibility = list(draft.tags), draft.visibility
    if "skills" in changes:
        article.skills = [s.strip() for s in changes["skills"] if s.strip()][:20]
    article.state = outcome
    article.approved_by = None
    article.updated_at = now
    if text_changed:
        article.version += 1
        uow.session.add(
            ArticleVersion(
                brand_id=ctx.brand.id,
                article_id=article.id,
                version=article.version,
                title=draft.title,
                body=draft.body,
                visibility=draft.visibility,
                editor_id=ctx.user.id if ctx.user else None,
                note=str(changes.get("note", ""))[:200],
                created_at=now,
            )
        )
    elif visibility_changed:
        # The same text, now meant for other readers: its revision follows the article.
        uow.session.execute(
            update(ArticleVersion)
            .where(ArticleVersion.article_id == article.id,
                   ArticleVersion.version == article.version)
            .values(visibility=draft.visibility)
        )  # fmt: skip
    return article


def _go_live(article: Article, now: datetime, policy: rules.KbRoles) -> None:
    """The working revision becomes the live copy readers see."""
    article.live_version = article.version
    article.live_title, article.live_body = article.title, article.body
    article.live_visibility, article.live_language = article.visibility, article.language
    article.live_tags = list(article.tags)
    article.published_at = now
    article.review_by = rules.review_by(now, policy)


def act(
    uow: UnitOfWork, ctx: BrandContext, article: Article, action: str, now: datetime
) -> Article:
    """submit | approve | publish | confirm (still accurate) | archive, as the rules allow."""
    if ctx.user is None:
        from crowdcx.kernel.errors import unauthenticated

        raise unauthenticated()
    policy = kb_policy(ctx)
    outcome = rules.transition(state_of(uow.session, article), action, actor_of(ctx), policy)
    if isinstance(outcome, rules.Violation):
        raise violation_error(outcome)
    article.state = outcome
    article.updated_at = now
    if action == "approve":
        article.approved_by = ctx.user.id
    elif action == "publish":
        _go_live(article, now, policy)
    elif action == "confirm":
        article.review_by = rules.review_by(now, policy)
    elif action == "archive":
        article.live_version = None
    uow.session.add(
        ArticleEvent(
            brand_id=ctx.brand.id,
            article_id=article.id,
            action=action,
            version=article.version,
            actor_id=ctx.user.id,
            created_at=now,
        )
    )
    if action in ("publish", "archive"):
        _sync_index(uow.session, article)
    return article


def feedback(
    uow: UnitOfWork,
    ctx: BrandContext,
    article: Article,
    helpful: bool,
    comment: str,
    now: datetime,
    visitor: str | None = None,
) -> ArticleFeedback:
    """Record a reader's "Was this helpful?". A ``visitor`` votes once per article: asked
    again, their vote (and comment, when given) is replaced and the counts move with it."""
    if not article.live:
        raise AppError(409, "not_published", _("Only published articles take feedback."))
    comment = rules.clean_text(one_line_break(comment))  # CR LF or a lone CR: one break
    if len(comment) > MAX_COMMENT:
        raise invalid(
            "comment", _("Keep the comment under %(max)s characters.") % {"max": MAX_COMMENT}
        )
    earlier = None
    if visitor is not None:
        earlier = uow.session.scalars(
            select(ArticleFeedback).where(
                ArticleFeedback.article_id == article.id, ArticleFeedback.visitor == visitor
            )
        ).first()
    if earlier is not None:
        moved = earlier.helpful != helpful
        earlier.helpful, earlier.created_at = helpful, now
        earlier.comment = comment or earlier.comment
        if not moved:
            return earlier
        row = earlier
        add = {"helpful": 1, "unhelpful": -1} if helpful else {"helpful": -1, "unhelpful": 1}
    else:
        row = ArticleFeedback(
            brand_id=ctx.brand.id,
            article_id=article.id,
            user_id=ctx.user.id if ctx.user else None,
            helpful=helpful,
            comment=comment,
            visitor=visitor,
            created_at=now,
        )
        uow.session.add(row)
        add = {"helpful": 1} if helpful else {"unhelpful": 1}
    # Added by the database: two readers clicking at once must both count.
    update_row(uow.session, article, add=add)
    _sync_index(uow.session, article)  # helpfulness is a ranking signal
    return row


def feedback_comments(
    session: Session, ctx: BrandContext, article: Article, limit: int, before: int | None = None
) -> list[ArticleFeedback]:
    """What readers wrote beside their "Was this helpful?", newest first, for the people who
    edit the article (the comments are how a reader says *what* is wrong). Readers' names are
    not given: a comment is the reader's words, not a thread."""
    if not (can_write(ctx) or can_review(ctx)) or not sees_working(ctx, article):
        raise forbidden(
            _("Only the brand's authors and reviewers read what readers wrote about an article."),
            "not_author",
        )
    stmt = ctx.scoped(ArticleFeedback).where(
        ArticleFeedback.article_id == article.id, ArticleFeedback.comment != ""
    )
    if before is not None:
        stmt = stmt.where(ArticleFeedback.id < before)
    return list(session.scalars(stmt.order_by(ArticleFeedback.id.desc()).limit(limit)))


def solved_cases(session: Session, ctx: BrandContext, article: Article) -> int:
    """How many tickets their customers closed saying this article solved them: each ticket
    once (a deflected ticket stays deflected), for the people who write the article."""
    from crowdcx.tickets.models import TicketDeflectionRow

    stmt = ctx.scoped(TicketDeflectionRow, select(func.count())).where(
        TicketDeflectionRow.kind == "article", TicketDeflectionRow.ref_id == article.id
    )
    return int(session.scalar(stmt) or 0)


# --- import / export --------------------------------------------------------------------------


def stated(v: rules.Violation) -> dict[str, Any]:
    """A refusal as a job stores it (JSON): its code, field and parameters, said again in
    each reader's language by :func:`problem_reasons`, and the reason in the writer's."""
    return {"code": v.code, "reason": reason_text(v), "field": v.field,
            "params": _json_params(v.params)}  # fmt: skip


def _json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A violation's parameters as stored with a job (JSON): plain values kept, others as
    text."""
    return {
        k: v if isinstance(v, str | int | float | bool) or v is None else str(v)
        for k, v in params.items()
    }


def problem_reasons(problems: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An import's skipped rows with their reasons in the *reader's* language.

    A job stores each row's code, field and parameters beside the reason it wrote in the
    uploader's language; whoever reads the summary later (another admin, the API client in
    another language) gets the reason rendered again from the code. Rows stored before the
    code was kept, and refusals that carry only a sentence, keep the stored one."""
    out: list[dict[str, Any]] = []
    for p in problems:
        reason = str(p.get("reason", ""))
        code = str(p.get("code", ""))
        if "field" in p:
            params = p.get("params") or {}
            # Parameters of another release that the message cannot take: keep the stored.
            with contextlib.suppress(KeyError, TypeError, ValueError):
                reason = reason_text(rules.Violation(code, str(p["field"]), dict(params)))
        elif code == "exists":
            reason = _exists_reason()
        where = str(p.get("where", ""))
        if isinstance(p.get("line"), int):
            column = CSV_COLUMN_OF.get(str(p.get("field", "")))
            where = _line_text(p["line"], column)
        out.append({"where": where, "code": code, "reason": reason})
    return out


def _exists_reason() -> str:
    return _("An article with this title and language already exists.")


@dataclass
class ImportSummary:
    imported: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    article_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped": len(self.skipped),
            "problems": self.skipped,
            "article_ids": self.article_ids,
        }


def _existing_titles(session: Session, ctx: BrandContext) -> set[tuple[str, str]]:
    rows = session.execute(
        select(Article.title, Article.language).where(
            Article.brand_id == ctx.brand.id, Article.state != "archived"
        )
    )
    return {(t.casefold(), lang) for t, lang in rows}


def import_drafts(
    uow: UnitOfWork,
    ctx: BrandContext,
    rows: Iterable[tuple[str, rules.Draft | None, rules.Violation | None]],
    now: datetime,
    *,
    publish: bool = False,
    progress: Callable[[], None] | None = None,
    commit_every: int = 0,
    summary: ImportSummary | None = None,
    checkpoint: Callable[[ImportSummary, int], bool] | None = None,
) -> ImportSummary:
    """Import validated rows, each in its own savepoint: a bad row is reported and skipped,
    never half-written, and never stops the others. ``publish`` (reviewers only) publishes
    the imported articles at once, recorded as approved by the importer.

    ``commit_every`` > 0 commits after that many imported rows: on SQLite a transaction
    holds the one write lock, and a 10,000-row import held it for ~12 s while every other
    writer (votes, tickets, sign-ins) waited. What was committed stays if a later chunk
    fails; running the same file again skips those rows as existing.

    A background job (knowledge.jobs) resumes with the ``summary`` it had stored and the
    rows after those it had done; ``checkpoint(summary, rows seen)`` runs just before each
    chunk's commit, in its transaction, so the job's progress commits with its articles
    (it raises to roll the chunk back, and returns False to stop after this commit).
    A chunk is one transaction on SQLite too, though its first write is a row's savepoint:
    the engine begins the transaction before it (``kernel.db._begin_before_savepoints``)."""
    require_writer(ctx)
    if publish and not can_review(ctx):
        raise forbidden(_(NOT_PUBLISHER), "not_reviewer")
    summary = summary or ImportSummary()
    existing = _existing_titles(uow.session, ctx)
    seen = 0
    for where, draft, problem in rows:
        seen += 1
        line = {"line": where.line} if isinstance(where, LineRef) else {}
        if progress:
            progress()
        if problem is not None or draft is None:
            summary.skipped.append(
                {"where": where, **line,
                 **(stated(problem) if problem else {"code": "invalid", "reason": ""})}
            )  # fmt: skip
            continue
        key = (draft.title.casefold(), draft.language)
        if key in existing:
            summary.skipped.append(
                {"where": where, **line, "code": "exists", "reason": _exists_reason()}
            )  # fmt: skip
            continue
        try:
            with uow.session.begin_nested():
                article = create_article(uow, ctx, draft, now, author_id=None)
                if publish:
                    _publish_import(uow, ctx, article, now)
        except AppError as exc:
            summary.skipped.append({"where": where, **line, "code": exc.code, "reason": exc.detail})
            continue
        existing.add(key)
        summary.imported += 1
        summary.article_ids.append(article.id)
        if commit_every > 0 and summary.imported % commit_every == 0:
            go_on = checkpoint(summary, seen) if checkpoint else True
            uow.commit()
            if not go_on:
                break
            # The writers' lock (kernel.db) is not a queue: without a pause this loop takes
            # it back before a waiting writer wakes, and they wait for the whole file anyway.
            time.sleep(_CHUNK_PAUSE_S)
    return summary


# Rows an import commits at a time (API, page, CLI): each chunk holds SQLite's write lock
# for a fraction of a second instead of the whole file's time. A 3,000-row import beside a
# writer writing every 20 ms (SQLite, on a loaded machine): the writer's
# longest wait 19.7 s in one transaction, 1.5 s with chunks of 200, 0.59 s with 50; the
# import itself 19.8 → 20.8 s.
IMPORT_CHUNK = 50
_CHUNK_PAUSE_S = 0.01


def _publish_import(uow: UnitOfWork, ctx: BrandContext, article: Article, now: datetime) -> None:
    assert ctx.user is not None
    article.state = "published"
    article.approved_by = ctx.user.id
    _go_live(article, now, kb_policy(ctx))
    uow.session.add(
        ArticleEvent(
            brand_id=ctx.brand.id,
            article_id=article.id,
            action="publish",
            version=article.version,
            actor_id=ctx.user.id,
            created_at=now,
        )
    )
    _sync_index(uow.session, article)


def csv_rows(content: str) -> list[tuple[str, rules.Draft | None, rules.Violation | None]]:
    return faq_rows(rules.parse_faq_csv(content))


def faq_rows(
    parsed: Iterator[rules.FaqRow] | rules.Violation,
) -> list[tuple[str, rules.Draft | None, rules.Violation | None]]:
    """The parsed file's rows, each with its line; a file refused whole is its 4xx."""
    if isinstance(parsed, rules.Violation):
        raise violation_error(parsed)
    return [(LineRef.of(r.line), r.draft, r.problem) for r in parsed]


class LineRef(str):
    """ "line N" in the importer's language that remembers N, so that a stored summary can
    say it again in its reader's language (:func:`problem_reasons`)."""

    line: int

    @classmethod
    def of(cls, line: int) -> LineRef:
        ref = cls(_line_text(line))
        ref.line = line
        return ref


# The CSV column a draft's field comes from: "line 3: this field is required" did not say
# which of the row's cells to fix.
CSV_COLUMN_OF: Final[Mapping[str, str]] = {
    "title": "question", "body": "answer", "language": "language", "tags": "tags",
    "visibility": "visibility",
}  # fmt: skip


def _line_text(line: int, column: str | None = None) -> str:
    if column:
        return _("line %(n)s, column “%(column)s”") % {"n": line, "column": column}
    return _("line %(n)s") % {"n": line}


def markdown_rows(
    folder: Path,
) -> list[tuple[str, rules.Draft | None, rules.Violation | None]]:
    """``*.md`` files with front matter (title, language, tags, visibility); the body is the
    Markdown after it. The title falls back to the first heading, then the file name."""
    import frontmatter
    import yaml

    out: list[tuple[str, rules.Draft | None, rules.Violation | None]] = []
    for path in sorted(p for p in folder.rglob("*.md") if p.is_file()):  # not a folder x.md
        where = str(path.relative_to(folder))
        try:
            # utf-8-sig: editors on Windows start the file with a byte-order mark, which
            # would hide the front matter and a first heading behind a U+FEFF.
            post = frontmatter.loads(path.read_text(encoding="utf-8-sig"))
        except TypeError:  # a key that is not text (`2024: notes`): Post(**metadata) refuses it
            reason = _("every front matter key must be text; put keys like 2024 in quotes")
            out.append((where, None, rules.Violation("bad_csv", "file", {"reason": reason})))
            continue
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
            out.append(
                (where, None, rules.Violation("bad_csv", "file", {"reason": str(exc)[:200]}))
            )
            continue
        meta = post.metadata
        body = post.content
        title = str(meta.get("title") or "")
        if not title:
            first = body.lstrip().splitlines()[0] if body.strip() else ""
            if first.startswith("#"):
                title = first.lstrip("#").strip()
                body = body.lstrip()[len(first) :]
            else:
                title = path.stem.replace("-", " ").replace("_", " ")
        tags = meta.get("tags") or []
        if isinstance(tags, str):
            tags = rules.split_tags(tags)
        result = rules.validate_draft(
            title,
            body,
            str(meta.get("language") or meta.get("lang") or ""),
            [str(t) for t in tags] if isinstance(tags, list) else [],
            str(meta.get("visibility") or "public").casefold(),
        )
        if isinstance(result, rules.Violation):
            out.append((where, None, result))
        else:
            out.append((where, result, None))
    return out


def export_csv(session: Session, ctx: BrandContext) -> str:
    """The live copy of each article (the working revision of one never published), within the
    exporter's reading level."""
    rows = session.scalars(
        ctx.scoped(Article).where(Article.state != "archived").order_by(Article.id)
    )
    return rules.faq_csv(
        (
            a.live_title or a.title if a.live else a.title,
            a.live_body or a.body if a.live else a.body,
            a.live_language or a.language if a.live else a.language,
            a.tags if sees_working(ctx, a) else reader_tags(a),
            a.live_visibility or a.visibility if a.live else a.visibility,
        )
        for a in rows
        if readable(ctx, a)
    )


def author_name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return _("Imported")
    user = session.get(User, user_id)
    return user.display_name if user else "—"


# --------------------------------------------------------------------------------------------
# Content gaps: searches that found nothing good enough, for the brand's reviewers
# --------------------------------------------------------------------------------------------

GAP_SEARCHES = 20_000  # the newest searches read: bounds a page view on a busy brand
GAP_CHECKED = 20  # gaps searched again to tell whether something answers them now


@dataclass(frozen=True)
class GapLine:
    gap: rules.Gap
    query: str  # as readers wrote it; e-mail addresses, phone and other long numbers masked
    language: str
    covered_by: search.Result | None  # what a signed-out reader finds for it now, if anything


@cache
def gap_searches() -> Any:
    """The brand's newest no-answer searches since ``since``: newest first by ``created_at``,
    so the ``(brand_id, event, created_at)`` index yields them in order and the read stops at
    GAP_SEARCHES (ordered by id, every search of the period was read and sorted first)."""
    return (
        select(SearchEvent.query, SearchEvent.created_at)
        .where(
            SearchEvent.brand_id == bindparam("brand"),
            SearchEvent.event == "no_answer",
            SearchEvent.created_at >= bindparam("since"),
            SearchEvent.query != "",
        )
        .order_by(SearchEvent.created_at.desc())
        .limit(GAP_SEARCHES)
    )


def content_gaps(
    session: Session, ctx: BrandContext, since: datetime, now: datetime, limit: int = 50
) -> list[GapLine]:
    """What readers searched for without a good answer since ``since``, most asked first;
    for the first ones, whether a published article or solved question answers it now (as a
    signed-out reader would search: nothing restricted counts as covering a gap)."""
    from crowdcx.kernel.language import detect_language
    from crowdcx.tickets.masking import scrub

    if not can_see_gaps(ctx):
        raise forbidden(
            _("Only the brand's staff who review articles see what readers could not find.")
        )
    rows = session.execute(gap_searches(), {"brand": ctx.brand.id, "since": since}).all()
    gaps = rules.content_gaps(((q, at) for q, at in rows), rules.gap_key, limit)
    reader = BrandContext(ctx.brand, None, frozenset())
    out = []
    for i, gap in enumerate(gaps):
        language = detect_language(gap.query)
        covered = None
        if i < GAP_CHECKED:
            found = search.search(session, reader, gap.query, language=language, now=now,
                                  limit=1, kinds=("article", "question"))  # fmt: skip
            if not found.out_of_scope and found.results:
                covered = found.results[0]
        out.append(GapLine(gap, rules.mask_numbers(scrub(gap.query)), language, covered))
    return out


# --------------------------------------------------------------------------------------------
# Curation: a draft article from a solved question or a resolved ticket
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drafted:
    """A draft from a source and whether this call made it (else it is the source's open
    draft, made before: drafting twice opens the first draft)."""

    article: Article
    created: bool


def _open_draft(
    session: Session, ctx: BrandContext, source: tuple[SourceKind, int]
) -> Article | None:
    """The source's draft that is still open (never published, not archived): at most one,
    ``ux_articles_source_open`` sees to it."""
    found: Article | None = session.scalar(
        ctx.scoped(Article).where(
            Article.source_kind == source[0], Article.source_id == source[1],
            text(OPEN_SOURCE_DRAFT),
        )
    )  # fmt: skip
    if found is not None and not readable(ctx, found):
        # A reviewer raised it above this writer's reading level: say so, show nothing of it.
        raise AppError(409, "article_draft_exists", _(
            "An article is already being drafted from this, at a visibility you may not read; "
            "ask the brand's reviewers about it."
        ))  # fmt: skip
    return found


def drafted_from(
    session: Session, ctx: BrandContext, kind: SourceKind, source_id: int
) -> Article | None:
    """For the help center's writers and reviewers: the newest article drafted from this
    source that is not archived (its open draft, else the last one published), if they may
    read it."""
    if not (can_write(ctx) or can_review(ctx)):
        return None
    found = session.scalar(drafted_from_query(ctx.brand.id, kind, source_id))
    return found if found is not None and readable(ctx, found) else None


def drafted_from_query(brand_id: int, kind: SourceKind, source_id: int) -> Any:
    """The newest article of the brand drafted from the source, not archived: one step down
    ``ix_articles_source`` (brand, kind, source, id) from its end (tests/knowledge)."""
    return (
        select(Article)
        .where(Article.brand_id == brand_id, Article.source_kind == kind,
               Article.source_id == source_id, Article.state != "archived")
        .order_by(Article.id.desc())
        .limit(1)
    )  # fmt: skip


def _curated(
    uow: UnitOfWork, ctx: BrandContext, source: tuple[SourceKind, int], title: str, body: str,
    language: str, tags: Sequence[str], visibility: str, now: datetime,
) -> Drafted:  # fmt: skip
    # The text's own language, even one the brand no longer lists (the editor offers it):
    # labelled with the brand's default, English text would be searched and shown as Russian.
    language = rules.normalise_language(language) or ctx.brand.default_locale
    draft = rules.validate_draft(title, body, language, tags, visibility)
    if isinstance(draft, rules.Violation) and draft.code == "too_long":
        # The writer typed none of it: "keep this under…" would not say what to do.
        raise AppError(422, "too_long_for_article", _(
            "Together this is longer than an article may be (%(max)s characters): write the "
            "article in the editor, summing it up."
        ) % {"max": draft.params["max"]}, field=draft.field)  # fmt: skip
    if isinstance(draft, rules.Violation):
        raise violation_error(draft)
    existing = _open_draft(uow.session, ctx, source)
    if existing is not None:
        return Drafted(existing, created=False)
    try:
        with uow.session.begin_nested():  # two presses at once: the other one made it
            article = create_article(uow, ctx, draft, now, source=source)
    except IntegrityError:
        existing = _open_draft(uow.session, ctx, source)
        if existing is None:
            raise
        return Drafted(existing, created=False)
    return Drafted(article, created=True)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def _closed_fences(text: str) -> str:
    """``text`` with a code block it leaves open closed at its end: pieced into one article,
    a question's unclosed ``` would turn the answer and the credit below it into code."""
    opened = ""
    for line in text.splitlines():
        match = _FENCE.match(line)
        if match is None:
            continue
        fence = match.group(1)
        if not opened:
            opened = fence
        elif fence[0] == opened[0] and len(fence) >= len(opened) and not line.strip(fence[0] + " "):
            opened = ""
    return f"{text}\n{opened}" if opened else text


def _markdown_text(text: str) -> str:
    """``text`` shown as typed in Markdown: a display name "[Support](https://…)" credits a
    person, it does not put a link in the brand's article."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


def draft_from_question(
    uow: UnitOfWork, ctx: BrandContext, question_id: int, now: datetime
) -> Drafted:
    """A draft of the question and its best answer (brand-approved, else accepted), in the
    question's language, crediting the answer's author; reviewed before anyone reads it.
    While a draft from this question is open (not yet published or archived), that one."""
    from crowdcx.community import service as community
    from crowdcx.community.models import PostRow
    from crowdcx.kernel.i18n import use_locale

    require_writer(ctx)
    q = community.readable_post(uow.session, ctx, question_id, "question")
    if q.hidden:  # staff read hidden posts to moderate them, not to publish them
        raise AppError(409, "question_hidden", _(
            "This question is hidden by moderation; it cannot become an article."
        ))  # fmt: skip
    best = uow.session.scalar(
        ctx.scoped(PostRow)
        .where(
            PostRow.question_id == q.id,
            PostRow.hidden.is_(False),
            or_(PostRow.accepted.is_(True), PostRow.brand_approved.is_(True)),
        )
        .order_by(PostRow.brand_approved.desc(), PostRow.accepted.desc(), PostRow.id)
        .limit(1)
    )
    if best is None:
        raise AppError(409, "question_not_solved", _(
            "Only a question with an accepted or brand-approved answer can become an article."
        ))  # fmt: skip
    author = uow.session.get(User, best.author_id)
    with use_locale(q.language):
        credit = _("Based on the community answer by %(name)s.") % {
            "name": _markdown_text(author.display_name) if author else "?"
        }
    question, answer = _closed_fences(q.body.strip()), _closed_fences(best.body.strip())
    body = f"{question}\n\n---\n\n{answer}\n\n*{credit}*"
    return _curated(uow, ctx, ("question", q.id), q.title, body, q.language, q.tags, "public", now)


def draft_from_ticket(uow: UnitOfWork, ctx: BrandContext, ticket_id: int, now: datetime) -> Drafted:
    """A draft of a resolved ticket for the brand's staff: the problem and the reply that
    solved it, with the customer's data removed, for experts only until a reviewer widens it.
    While a draft from this ticket is open (not yet published or archived), that one."""
    from crowdcx.kernel.i18n import use_locale
    from crowdcx.tickets import service as tickets
    from crowdcx.tickets.masking import scrub
    from crowdcx.tickets.models import TicketMessageRow

    require_writer(ctx)
    if not ctx.can("ticket.staff"):
        raise forbidden(_("Only the brand's staff can turn a ticket into an article."))
    row = tickets.get_ticket(uow.session, ctx, ticket_id)
    if row.status not in ("resolved", "closed"):
        raise AppError(409, "ticket_not_resolved", _(
            "Only a resolved ticket can become an article."
        ))  # fmt: skip
    reply = uow.session.scalar(
        select(TicketMessageRow.body)
        .where(
            TicketMessageRow.ticket_id == row.id,
            TicketMessageRow.internal.is_(False),
            TicketMessageRow.author_role != "customer",
        )
        .order_by(TicketMessageRow.id.desc())
        .limit(1)
    )
    if reply is None:
        raise AppError(409, "ticket_without_reply", _(
            "This ticket has no reply to the customer to turn into an article."
        ))  # fmt: skip
    known = dict(row.customer_fields or {})
    # Replies greet the customer by their account's name too, which the fields may not hold.
    account = uow.session.get(User, row.customer_id) if row.customer_id else None
    known_account = {"name": account.display_name, "email": account.email} if account else {}

    def clean(text: str) -> str:
        return _closed_fences(scrub(scrub(text, known), known_account))

    with use_locale(row.language):
        problem, solution = _("Problem"), _("Solution")
    body = f"## {problem}\n\n{clean(row.body)}\n\n## {solution}\n\n{clean(reply)}"
    title = scrub(scrub(row.subject, known), known_account)
    return _curated(uow, ctx, ("ticket", row.id), title, body, row.language, [], "experts", now)
