"""Self-service suggestions for a new inquiry, from the knowledge-base search: published
articles and solved community questions the customer may see, best first. When nothing
matches well (out of scope) there are no suggestions: the inquiry goes to an expert."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crowdcx.kernel.i18n import current_locale
from crowdcx.kernel.models import utcnow
from crowdcx.search import rules as search_rules
from crowdcx.search import service as search
from crowdcx.tenancy.service import BrandContext


def for_text(
    session: Session,
    ctx: BrandContext,
    text: str,
    language: str,
    limit: int = 3,
    source: str = "ticket",
    record: bool = False,
) -> list[dict[str, Any]]:
    """Up to ``limit`` suggestions; ``record`` remembers them as shown (the caller commits)."""
    answer = search.search(
        session,
        ctx,
        text,
        language=language or current_locale(),
        now=utcnow(),
        limit=limit,
        kinds=("article", "question"),
        # Suggestions beside an ask form block nothing and the text is long (subject and
        # body), which lowers the confidence: half the help center's hand-off bar.
        threshold=search_rules.DEFAULT_OOS_THRESHOLD / 2,
    )
    if answer.out_of_scope:
        return []
    shown = [
        {
            "kind": r.kind,
            "id": int(r.id),
            "title": r.title,
            "snippet": r.snippet,
            "score": r.score,
            "url": r.url,
        }
        for r in answer.results
    ]
    if shown and record:
        record_shown(session, ctx, text, len(shown), source)
    return shown


def record_shown(
    session: Session, ctx: BrandContext, text: str, count: int, source: str = "ticket"
) -> None:
    """Remember that ``count`` suggestions were shown for ``text`` (the caller commits)."""
    search.record(session, ctx, "shown", source, query=text[:500], results=count, at=utcnow())


def assist(
    session: Session, ctx: BrandContext, text: str, language: str, exclude_ticket: int,
    limit: int = 5,
) -> list[dict[str, Any]]:  # fmt: skip
    """Agent assist: what the expert or staff member handling a ticket may reuse — articles at
    their visibility, solved community questions and past resolved tickets (customer data
    scrubbed at indexing), without the ticket itself. The search enforces the viewer's
    visibility, so an expert never sees staff-only material here."""
    answer = search.search(
        session, ctx, text, language=language or current_locale(), now=utcnow(),
        # More than shown: repeats are dropped below.
        limit=3 * limit + 1, kinds=("article", "question", "ticket"),
        threshold=search_rules.DEFAULT_OOS_THRESHOLD / 2,
    )  # fmt: skip
    if answer.out_of_scope:
        return []
    shown: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for r in answer.results:
        if r.kind == "ticket" and int(r.id) == exclude_ticket:
            continue
        # Past tickets often repeat word for word (the same question, the same stock
        # reply): one of them says it all, and the others would crowd out the articles.
        if (r.title, r.snippet) in seen:
            continue
        seen.add((r.title, r.snippet))
        shown.append(
            {"kind": r.kind, "id": int(r.id), "title": r.title, "snippet": r.snippet, "url": r.url}
        )
        if len(shown) == limit:
            break
    return shown
