"""What the badge rules count of each member's posts — questions, answers, accepted and
brand-approved answers, upvotes received, languages helped — kept as counters that move in
the transaction that changes the posts.

Counting the posts on every vote read all of the author's posts: 1.7 ms for a helper with
2,000 answers, growing with every answer — and the most prolific helpers get the most votes.
The counters are one row (and one per language) per member. Every change is an increment
done by the database (``SET answers = answers + 1``), so concurrent events never lose one.
The posts stay the truth: :func:`recount` counts them for one member and :func:`rebuild` for a
brand (``crowdcx recompute-reputation``); migration 0012 back-filled existing brands."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crowdcx.community.models import ActivityRow, HelpedLanguageRow, PostRow

COUNTERS = ("questions", "answers", "accepted_answers", "brand_approved_answers",
            "upvotes_received")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Activity:
    questions: int = 0
    answers: int = 0
    accepted_answers: int = 0
    brand_approved_answers: int = 0
    upvotes_received: int = 0
    # Answer languages (as stored, e.g. zh-Hant) with at least one answer that helped.
    languages: frozenset[str] = frozenset()


def move(session: Session, brand_id: int, user_id: int, **deltas: int) -> None:
    """Add ``deltas`` (named as :data:`COUNTERS`) to a member's counters."""
    if not any(deltas.values()):
        return
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown activity counters: {sorted(unknown)}")
    values = {c: deltas.get(c, 0) for c in COUNTERS}
    session.execute(
        _upsert(session.get_bind().dialect.name, "activity"),
        {"brand_id": brand_id, "user_id": user_id, **values},
    )


def move_language(session: Session, brand_id: int, user_id: int, language: str, delta: int) -> None:
    """Add ``delta`` to the member's count of helpful answers in ``language``."""
    if delta:
        session.execute(
            _upsert(session.get_bind().dialect.name, "languages"),
            {"brand_id": brand_id, "user_id": user_id, "language": language, "answers": delta},
        )


@cache
def _upsert(dialect: str, which: str) -> Any:
    """``INSERT … ON CONFLICT DO UPDATE SET c = c + excluded.c``: built once per dialect."""
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    columns: tuple[str, ...]
    if which == "activity":
        table, key, columns = ActivityRow.__table__, ["brand_id", "user_id"], COUNTERS
    else:
        table, key, columns = (
            HelpedLanguageRow.__table__,
            ["brand_id", "user_id", "language"],
            ("answers",),
        )
    assert isinstance(table, Table)
    stmt = insert_(table)
    return stmt.on_conflict_do_update(
        index_elements=key, set_={c: table.c[c] + stmt.excluded[c] for c in columns}
    )


def counters(
    session: Session | Connection, brand_id: int, user_id: int, languages: bool = True
) -> Activity:
    """A member's counters: one row read, and the languages (one more) when asked for."""
    whose = {"brand": brand_id, "user": user_id}
    row = session.execute(_counters(), whose).first()
    helped = frozenset(session.scalars(_languages(), whose)) if languages else frozenset()
    return _activity(row, helped)


def _activity(counts: Any, languages: frozenset[str]) -> Activity:
    if counts is None:
        return Activity(languages=languages)
    values = dict(zip(COUNTERS, (int(v or 0) for v in counts), strict=True))
    return Activity(**values, languages=languages)


@cache
def _counters() -> Any:
    return select(*(ActivityRow.__table__.c[c] for c in COUNTERS)).where(
        ActivityRow.brand_id == bindparam("brand"), ActivityRow.user_id == bindparam("user")
    )


@cache
def _languages() -> Any:
    return select(HelpedLanguageRow.language).where(
        HelpedLanguageRow.brand_id == bindparam("brand"),
        HelpedLanguageRow.user_id == bindparam("user"),
        HelpedLanguageRow.answers > 0,
    )


def _counted(brand_id: int, user_id: int | None = None) -> tuple[Any, Any]:
    """The counts from the posts themselves: per author, and per author and helped language."""
    helps = (PostRow.accepted.is_(True)) | (PostRow.up > 0) | PostRow.brand_approved.is_(True)
    is_answer = PostRow.kind == "answer"
    per_author = select(
        PostRow.brand_id, PostRow.author_id,
        func.sum(case((PostRow.kind == "question", 1), else_=0)),
        func.sum(case((is_answer, 1), else_=0)),
        func.sum(case((is_answer & PostRow.accepted.is_(True), 1), else_=0)),
        func.sum(case((is_answer & PostRow.brand_approved.is_(True), 1), else_=0)),
        func.sum(PostRow.up),
    ).where(PostRow.brand_id == brand_id).group_by(PostRow.brand_id, PostRow.author_id)  # fmt: skip
    per_language = (
        select(PostRow.brand_id, PostRow.author_id, PostRow.language, func.count(PostRow.id))
        .where(PostRow.brand_id == brand_id, is_answer, helps)
        .group_by(PostRow.brand_id, PostRow.author_id, PostRow.language)
    )
    if user_id is not None:
        per_author = per_author.where(PostRow.author_id == user_id)
        per_language = per_language.where(PostRow.author_id == user_id)
    return per_author, per_language


def recount(session: Session, brand_id: int, user_id: int) -> Activity:
    """What the counters must say, counted from the member's posts (the truth)."""
    per_author, per_language = _counted(brand_id, user_id)
    row = session.execute(per_author).first()
    helped = frozenset(lang for _b, _u, lang, _n in session.execute(per_language))
    return _activity(row[2:] if row is not None else None, helped)


def rebuild(session: Session, brand_id: int) -> int:
    """Recount a brand's counters from its posts; returns the members counted."""
    session.execute(delete(ActivityRow).where(ActivityRow.brand_id == brand_id))
    session.execute(delete(HelpedLanguageRow).where(HelpedLanguageRow.brand_id == brand_id))
    per_author, per_language = _counted(brand_id)
    columns = ["brand_id", "user_id", *COUNTERS]
    session.execute(insert(ActivityRow).from_select(columns, per_author))
    session.execute(
        insert(HelpedLanguageRow).from_select(
            ["brand_id", "user_id", "language", "answers"], per_language
        )
    )
    members = select(func.count()).where(ActivityRow.brand_id == brand_id)
    return int(session.scalar(members) or 0)
