"""The one search engine behind the help center, the ask flows, agent assist and duplicate
detection: keeps the index in step with the data (same transaction) and answers queries with
visibility enforced inside the index query, ranked by :mod:`crowdcx.search.rules`.

Knows articles, community questions and resolved tickets only as index documents; the
capabilities call :func:`upsert` / :func:`remove` when their rows change.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crowdcx.kernel.language import LOCALES
from crowdcx.kernel.markdown import plain_text
from crowdcx.knowledge.models import SearchEvent, SearchEventDay
from crowdcx.search import rules
from crowdcx.search.analysis import Snippet, highlight
from crowdcx.search.index import (
    KINDS,
    IndexConfig,
    IndexDocument,
    Kind,
    SearchIndex,
    Visibility,
    analyse_document,
    index_class_for,
    query_tokens,
)
from crowdcx.tenancy.models import Brand
from crowdcx.tenancy.service import BrandContext

CONFIG = IndexConfig()
POLICY = rules.RankingPolicy()
MAX_QUERY = 500
MAX_LIMIT = 50
RELATIVE_FLOOR = 0.25  # of the best hit's text score


def index_for(session: Session) -> SearchIndex:
    """The backend for the session's database, on the session's connection (its transaction)."""
    conn = session.connection()
    return index_class_for(conn)(conn, CONFIG)


def viewer_role(ctx: BrandContext) -> str:
    """The widest search role the viewer holds in this brand (see rules.visible_to)."""
    if ctx.user is None:
        return "anonymous"
    if ctx.is_platform_admin or ctx.roles & {"agent", "brand_admin"}:
        return "agent"
    if "expert" in ctx.roles:
        return "expert"
    return "customer"


def upsert(session: Session, document: IndexDocument) -> None:
    index_for(session).add(document)


def prepare(document: IndexDocument) -> None:
    """Analyse a document now, before the caller's first write, so that :func:`upsert` inside
    the write transaction finds the analysis done (on SQLite the lock waits for nobody)."""
    analyse_document(document.title, document.body, document.language, CONFIG)


def remove(session: Session, brand_id: int, kind: Kind, ref_id: str) -> None:
    index_for(session).delete(brand_id, kind, ref_id)


def document(
    brand_id: int,
    kind: Kind,
    ref_id: int | str,
    *,
    language: str,
    visibility: str,
    title: str,
    markdown: str,
    updated_at: datetime,
    helpful: int = 0,
    unhelpful: int = 0,
    accepted: bool = False,
    brand_approved: bool = False,
) -> IndexDocument:
    vis: Visibility = visibility if visibility in ("public", "experts", "staff") else "staff"  # type: ignore[assignment]
    return IndexDocument(
        brand_id=brand_id,
        kind=kind,
        ref_id=str(ref_id),
        language=language if language in LOCALES else "en",
        visibility=vis,
        title=title,
        body=plain_text(markdown),
        helpful_votes=helpful,
        unhelpful_votes=unhelpful,
        accepted=accepted,
        brand_approved=brand_approved,
        updated_at=updated_at,
    )


@dataclass(frozen=True)
class Result:
    kind: str
    id: str
    title: str
    snippet: str  # HTML: escaped text with <mark> around matched terms
    score: float
    url: str
    language: str
    explanation: str = ""


@dataclass(frozen=True)
class Answer:
    results: list[Result]
    out_of_scope: bool
    confidence: float = 0.0
    query_terms: tuple[str, ...] = field(default=())


def marked_html(snippet: Snippet) -> str:
    """Escape the snippet's text piece by piece and wrap the matched spans in <mark>."""
    out: list[str] = []
    pos = 0
    for start, end in snippet.spans:
        out.append(html.escape(snippet.text[pos:start]))
        out.append(f"<mark>{html.escape(snippet.text[start:end])}</mark>")
        pos = end
    out.append(html.escape(snippet.text[pos:]))
    return "".join(out)


def url_for(slug: str, kind: str, ref_id: str) -> str:
    if kind == "article":
        return f"/b/{slug}/help/articles/{ref_id}"
    if kind == "question":
        return f"/b/{slug}/community/questions/{ref_id}"
    return f"/b/{slug}/tickets/{ref_id}"


# One kind's documents by ref_id. Equality on (brand_id, kind) and IN on ref_id lets both
# databases use the (brand_id, kind, ref_id) unique index; an OR of (kind, ref_id) pairs made
# SQLite scan the brand's documents by its (brand_id, visibility) index instead (4.6 ms at
# 5,000 documents, ~20x that at 100,000).
_BODIES = text(
    "SELECT ref_id, body FROM search_document "
    "WHERE brand_id = :brand_id AND kind = :kind AND ref_id IN :refs"
).bindparams(bindparam("refs", expanding=True))


def _bodies(session: Session, brand_id: int, keys: Sequence[tuple[str, str]]) -> dict[Any, str]:
    by_kind: dict[str, list[str]] = {}
    for kind, ref in keys:
        by_kind.setdefault(kind, []).append(ref)
    out: dict[Any, str] = {}
    for kind, refs in by_kind.items():
        rows = session.execute(_BODIES, {"brand_id": brand_id, "kind": kind, "refs": refs})
        out.update(((kind, str(r.ref_id)), r.body) for r in rows)
    return out


_GROUPS = text(
    "SELECT id, COALESCE(group_id, id) AS grp FROM articles "
    "WHERE brand_id = :brand_id AND id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def _groups(session: Session, brand_id: int, hits: Sequence[Any]) -> dict[str, tuple[str, str]]:
    """The translation group of each article hit, by ref_id (one primary-key lookup each)."""
    ids = [int(h.ref_id) for h in hits if h.kind == "article" and h.ref_id.isdigit()]
    if not ids:
        return {}
    rows = session.execute(_GROUPS, {"brand_id": brand_id, "ids": ids})
    return {str(r.id): ("article-group", str(r.grp)) for r in rows}


def search(
    session: Session,
    ctx: BrandContext,
    q: str,
    *,
    language: str,
    now: datetime,
    limit: int = 10,
    kinds: Sequence[str] = KINDS,
    explain: bool = False,
    threshold: float = rules.DEFAULT_OOS_THRESHOLD,
) -> Answer:
    """The viewer's best results for ``q`` in this brand, and whether to hand off instead."""
    q = q.strip()[:MAX_QUERY]
    limit = max(1, min(int(limit), MAX_LIMIT))
    role = viewer_role(ctx)
    visible = rules.visible_to(role)
    # Past tickets are for the brand's experts and staff only, whatever their visibility.
    wanted = [k for k in kinds if k in KINDS and (k != "ticket" or role in ("expert", "agent"))]
    tokens = query_tokens(q, CONFIG)
    if not q or tokens.is_empty() or not wanted:
        return Answer([], True)
    index = index_for(session)
    hits = index.search(ctx.brand.id, tokens, visible, wanted, limit=max(limit * 3, 20))
    if not hits:
        return Answer([], True, 0.0, tokens.words)
    confidence = rules.confidence(
        hits[0].text_score, index.max_score(ctx.brand.id, tokens, visible)
    )
    ranked = rules.rank(
        [
            rules.RankSignals(
                text_score=h.text_score,
                helpful_votes=h.helpful_votes,
                unhelpful_votes=h.unhelpful_votes,
                accepted=h.accepted,
                brand_approved=h.brand_approved,
                language=h.language,
                updated_at=h.updated_at,
            )
            for h in hits
        ],
        language,
        now,
        POLICY,
    )
    # Translations of one article are one result: the reader's variant at the group's place.
    ranked_hits = [hits[i] for i, _s in ranked]
    groups = _groups(session, ctx.brand.id, ranked_hits)
    collapsed = rules.one_per_group(
        [groups.get(h.ref_id, (h.kind, h.ref_id)) if h.kind == "article" else (h.kind, h.ref_id)
         for h in ranked_hits],
        [h.language for h in ranked_hits],
        language,
    )[:limit]  # fmt: skip
    # A result far below the best one is noise (e.g. one shared character): leave it out.
    floor = hits[0].text_score * RELATIVE_FLOOR
    kept = [(lead, shown) for lead, shown in collapsed if ranked_hits[lead].text_score >= floor]
    chosen = [ranked_hits[shown] for _lead, shown in kept]
    ranked = [ranked[lead] for lead, _shown in kept]
    bodies = _bodies(session, ctx.brand.id, [(h.kind, h.ref_id) for h in chosen])
    terms = set(tokens.words)
    results = [
        Result(
            kind=h.kind,
            id=h.ref_id,
            title=h.title,
            snippet=marked_html(highlight(bodies.get((h.kind, h.ref_id), ""), terms)),
            score=round(scored.total, 4),
            url=url_for(ctx.brand.slug, h.kind, h.ref_id),
            language=h.language,
            explanation=scored.explain() if explain else "",
        )
        for h, (_i, scored) in zip(chosen, ranked, strict=True)
    ]
    out_of_scope = rules.is_out_of_scope(confidence, threshold)
    return Answer(results, out_of_scope, confidence, tokens.words)


def title_html(title: str, terms: Sequence[str]) -> str:
    return marked_html(highlight(title, set(terms), width=len(title) + 1))


def record(
    session: Session,
    ctx: BrandContext,
    event: str,
    source: str,
    *,
    query: str = "",
    kind: str = "",
    ref_id: str = "",
    results: int = 0,
    at: datetime,
    visitor: str | None = None,
) -> None:
    """Remember a suggestion shown / opened / "this solved it" (deflection measurement).
    With a ``visitor``, the event counts once per visitor, suggestion and (UTC) day: a
    repeat is dropped by the database's unique key, so concurrent repeats count once too."""
    values = {
        "brand_id": ctx.brand.id, "event": event, "source": source[:16], "query": query[:500],
        "kind": kind, "ref_id": str(ref_id)[:64], "results": results,
        "user_id": ctx.user.id if ctx.user else None, "created_at": at,
        "visitor": visitor, "day": at.date().isoformat() if visitor else None,
    }  # fmt: skip
    if visitor is None:
        session.add(SearchEvent(**values))
        return
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert_(SearchEvent).values(**values).on_conflict_do_nothing())


def findable(session: Session, ctx: BrandContext, kind: str, ref_id: str) -> bool:
    """Whether this viewer's searches can return the document (kind, id) of the brand: the
    suggestions a deflection event may name."""
    return readable_title(session, ctx, kind, ref_id) is not None


def readable_title(session: Session, ctx: BrandContext, kind: str, ref_id: str) -> str | None:
    """The title of the document (kind, id) of the brand as this viewer's searches show it,
    or None when they cannot return it (another visibility, hidden, unpublished, deleted)."""
    return readable_titles(session, ctx, [(kind, ref_id)]).get((kind, ref_id))


_TITLES = text(
    "SELECT ref_id, title FROM search_document WHERE brand_id = :brand AND kind = :kind"
    " AND ref_id IN :refs AND visibility IN :visible"
).bindparams(bindparam("refs", expanding=True), bindparam("visible", expanding=True))


def readable_titles(
    session: Session, ctx: BrandContext, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """readable_title of each (kind, id) in ``keys`` that this viewer's searches can return,
    in one query per kind (the (brand_id, kind, ref_id) unique index, as ``_bodies``); the
    documents they cannot return are left out."""
    by_kind: dict[str, set[str]] = {}
    for kind, ref in keys:
        by_kind.setdefault(kind, set()).add(ref)
    visible = sorted(rules.visible_to(viewer_role(ctx)))
    out: dict[tuple[str, str], str] = {}
    for kind, refs in sorted(by_kind.items()):
        rows = session.execute(
            _TITLES, {"brand": ctx.brand.id, "kind": kind, "refs": sorted(refs), "visible": visible}
        )
        out.update(((kind, str(r.ref_id)), str(r.title)) for r in rows if r.title is not None)
    return out


def deflection(session: Session, ctx: BrandContext, since: datetime) -> dict[str, int]:
    """Counts of each search event since ``since`` (shown, opened, solved, no_answer).

    ``solved`` counts cases: each deflected ticket once (its ``solved`` event of kind
    ``ticket``), and each reader's "this solved it" on an article or question that is not a
    deflected ticket's case again (rules.same_case: exact where the ticket names the
    suggestion that solved it, the same-customer, same-day rule where it does not). The
    database counts, the rule in SQL (``_same_case``): no mark is loaded. The marks are
    counted on their own, with NOT EXISTS at the top of the WHERE clause, so PostgreSQL
    plans them as hashed anti-joins instead of a subquery run per mark
    (bench/deflection_count.py).

    The other events (mostly suggestions shown, a million a month for a busy brand) are read
    for whole past days from their daily counts (``SearchEventDay``, :func:`roll_up_events`)
    and counted in ``search_events`` only for the days not rolled up yet: the period's
    first, partial day and the last hours."""
    counts: dict[str, int] = {"shown": 0, "opened": 0, "solved": 0, "no_answer": 0}
    for event, n in _event_counts(session, ctx.brand.id, since.astimezone(UTC)).items():
        counts[event] = counts.get(event, 0) + n
    separate = session.scalar(separate_marks(session, ctx.brand.id, since))
    counts["solved"] += int(separate or 0)
    return counts


def _counted_events(
    session: Session, brand_id: int, start: datetime, end: datetime | None
) -> dict[str, int]:
    """Each event's count in ``search_events`` from ``start`` to ``end`` (or now), the
    readers' "this solved it" marks left out (:func:`separate_marks` counts them)."""
    rows = session.execute(
        select(SearchEvent.event, func.count())
        .where(*_counted(brand_id, start, end))
        .group_by(SearchEvent.event)
    ).all()
    return {str(event): int(n) for event, n in rows}


EVENTS = ("no_answer", "opened", "shown", "solved")  # every event :func:`record` writes


def _counted(brand_id: int, start: datetime, end: datetime | None) -> tuple[Any, ...]:
    """The brand's events from ``start`` to ``end`` (or now) but readers' own "this solved
    it" marks. Each event named, so the (brand, event, created_at, …) index is read for the
    period only, event by event: with ``event != 'solved'`` it read every event the brand
    ever had (at 1,000,000 shown, a partial day cost as much as the whole month)."""
    return (
        SearchEvent.brand_id == brand_id,
        SearchEvent.event.in_(EVENTS),
        SearchEvent.created_at >= start,
        *((SearchEvent.created_at < end,) if end is not None else ()),
        or_(SearchEvent.event != "solved", SearchEvent.kind == "ticket"),
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _event_counts(session: Session, brand_id: int, since: datetime) -> dict[str, int]:
    """:func:`_counted_events` since ``since``, whole rolled-up days read from their counts.
    The days rolled up are one unbroken run (:func:`roll_up_events` goes on from the last
    one), so the brand's first and last rolled days bound days that are all rolled."""
    first_rolled, last_rolled = session.execute(
        select(func.min(SearchEventDay.day), func.max(SearchEventDay.day)).where(
            SearchEventDay.brand_id == brand_id
        )
    ).one()
    first_whole = since.date() if since == _midnight(since.date()) else since.date() + _DAY
    if first_rolled is None:
        return _counted_events(session, brand_id, since, None)
    start = max(first_whole, _as_date(first_rolled))
    end = _as_date(last_rolled)
    if start > end:
        return _counted_events(session, brand_id, since, None)
    counts = _counted_events(session, brand_id, since, _midnight(start))
    rolled = session.execute(
        select(SearchEventDay.event, func.sum(SearchEventDay.n))
        .where(
            SearchEventDay.brand_id == brand_id,
            SearchEventDay.day >= start,
            SearchEventDay.day <= end,
        )
        .group_by(SearchEventDay.event)
    ).all()
    later = _counted_events(session, brand_id, _midnight(end + _DAY), None)
    for part in ({str(e): int(n) for e, n in rolled}, later):
        for event, n in part.items():
            counts[event] = counts.get(event, 0) + n
    return counts


_DAY = timedelta(days=1)
# A day is rolled up once it ended this long ago: an event written by a transaction that
# began before midnight and committed after it is in by then.
ROLL_UP_AFTER = timedelta(hours=1)


def _as_date(value: Any) -> date:
    """A day as the database gives it back (SQLite: ``YYYY-MM-DD`` text from ``date()``)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def roll_up_events(session: Session, now: datetime) -> int:
    """Count every brand's search events of each whole UTC day that ended at least
    ``ROLL_UP_AFTER`` before ``now`` and is not rolled up yet (``SearchEventDay``), from the
    day after the last rolled one (or the first event's day); returns the rows added.
    Idempotent, and safe beside another instance doing the same (a row already there is
    kept: both counted the same events)."""
    until = (now.astimezone(UTC) - ROLL_UP_AFTER).date()  # days before it are whole
    last = session.scalar(select(func.max(SearchEventDay.day)))
    if last is not None:
        start = _as_date(last) + _DAY
    else:
        first = session.scalar(select(func.min(SearchEvent.created_at)))
        if first is None:
            return 0
        start = first.astimezone(UTC).date()
    if start >= until:
        return 0
    day = _utc_day(session, SearchEvent.created_at)
    values = []
    for brand_id in session.scalars(select(Brand.id).order_by(Brand.id)):
        # Brand by brand, through the index: only the days to roll up are read.
        rows = session.execute(
            select(day, SearchEvent.event, func.count())
            .where(*_counted(brand_id, _midnight(start), _midnight(until)))
            .group_by(day, SearchEvent.event)
        ).all()
        values += [
            {"brand_id": brand_id, "day": _as_date(d), "event": str(event), "n": int(n)}
            for d, event, n in rows
        ]
    if not values:
        return 0
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert_(SearchEventDay).on_conflict_do_nothing(), values)
    return len(values)


def separate_marks(session: Session, brand_id: int, since: datetime) -> Any:
    """COUNT of the brand's readers' "this solved it" marks since ``since`` that are not a
    deflected ticket's case again. Every column it reads is in an index (migration 0037):
    the marks' (brand_id, event, created_at, kind, ref_id, visitor) and the deflections'
    (ticket_id, at, kind, ref_id), so SQLite, which checks each mark on its own, reads no
    table row for the marks or their deflections (bench/deflection_count.py).

    On PostgreSQL the rule's two cases are two NOT EXISTS (``_same_case``): each becomes a
    hashed anti-join whose keys pair a mark only with the deflections that may match it (the
    same day; the same suggestion). One NOT EXISTS over both hashed on the customer alone
    and tested each mark against every deflection of its customer: at 500,000 marks of
    customers with 40 tickets each, 11 million pairs and 4.3 s; 0.57 s as two
    (bench/deflection_count.py --query-against). SQLite runs a NOT EXISTS per mark through
    the customer's tickets, so there one over both walks them once."""
    return select(func.count()).where(
        SearchEvent.brand_id == brand_id,
        SearchEvent.event == "solved",
        SearchEvent.created_at >= since,
        SearchEvent.kind != "ticket",
        *(~case_ for case_ in _same_case(session, since)),
    )


def _utc_day(session: Session, at: Any) -> Any:
    """The UTC calendar day of a stored time, to compare with another: on SQLite the stored
    UTC wall time's date (YYYY-MM-DD text), on PostgreSQL the timestamptz read in UTC,
    whatever the session's zone, as a date (cheaper than formatting it as text)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", at), Date)
    return func.date(at)


def _same_case(session: Session, since: datetime) -> tuple[Any, ...]:
    """The EXISTS (PostgreSQL: two, one per case; SQLite: one over both) any of which makes
    the outer ``SearchEvent`` (a reader's "this solved it" since ``since``) a deflected
    ticket's case again — search.rules.same_case in SQL: a ticket naming no suggestion,
    deflected the (UTC) day of the mark; a ticket naming its suggestion, that one, marked
    from the ticket's writing to the end of its deflection's (UTC) day. The ticket's
    customer is the marker (``u:<customer id>``), found through the tickets' (brand,
    customer) index. Deflections before the day before ``since`` cannot match a mark since
    ``since`` and are not read."""
    from crowdcx.tickets.models import TicketDeflectionRow, TicketRow

    mark_day = _utc_day(session, SearchEvent.created_at)
    case_day = _utc_day(session, TicketDeflectionRow.at)
    named = and_(TicketDeflectionRow.kind.is_not(None), TicketDeflectionRow.ref_id.is_not(None))
    customer = case(
        (SearchEvent.visitor.like("u:%"), cast(func.substr(SearchEvent.visitor, 3), Integer)),
        else_=None,
    )
    cases = (
        select(TicketDeflectionRow.id)
        .join(TicketRow, TicketRow.id == TicketDeflectionRow.ticket_id)
        .where(
            TicketRow.brand_id == SearchEvent.brand_id,
            TicketRow.customer_id == customer,
            literal("u:") + cast(TicketRow.customer_id, String) == SearchEvent.visitor,
            TicketDeflectionRow.at >= since - timedelta(days=1),
        )
    )
    same_day = and_(~named, mark_day == case_day)
    same_suggestion = and_(
        named,
        TicketDeflectionRow.kind == SearchEvent.kind,
        cast(TicketDeflectionRow.ref_id, String) == SearchEvent.ref_id,
        TicketRow.created_at <= SearchEvent.created_at,
        mark_day <= case_day,
    )
    if session.get_bind().dialect.name != "postgresql":
        return (cases.where(or_(same_day, same_suggestion)).exists(),)
    return cases.where(same_day).exists(), cases.where(same_suggestion).exists()


def sync_ticket(session: Session, ticket: Any, to_state: str) -> None:
    """Index a resolved ticket for the brand's experts and staff (customer data removed);
    take it out again when it is reopened or handed back."""
    from crowdcx.tickets.masking import scrub
    from crowdcx.tickets.models import TicketMessageRow

    if to_state not in ("resolved", "closed"):
        remove(session, ticket.brand_id, "ticket", str(ticket.id))
        return
    replies = session.scalars(
        select(TicketMessageRow.body)
        .where(
            TicketMessageRow.ticket_id == ticket.id,
            TicketMessageRow.internal.is_(False),
            TicketMessageRow.author_role != "customer",
        )
        .order_by(TicketMessageRow.id)
        .limit(20)
    ).all()
    known = dict(ticket.customer_fields or {})
    body = scrub("\n\n".join([ticket.body, *replies]), known)
    upsert(
        session,
        document(
            ticket.brand_id,
            "ticket",
            ticket.id,
            language=ticket.language,
            visibility="experts",
            title=scrub(ticket.subject, known),
            markdown=body,
            updated_at=ticket.updated_at,
        ),
    )
