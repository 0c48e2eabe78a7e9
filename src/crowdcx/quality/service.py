"""Quality control use cases: the sample of expert resolutions staff review, the review
itself (decided once, by a conditional update), and an expert's quality.

The hooks (:func:`on_expert_resolution`, :func:`on_low_rating`, :func:`on_reopened`) are
called by ``tickets.service`` inside the transaction of the ticket event, so a sampled
resolution and its pending review commit together. A review exists at most once per ticket
(the unique key ``brand_id, ticket_id``): a later reason to review it is added to the
pending review's reasons, never a second review."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crowdcx.identity.models import User
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError, forbidden, not_found
from crowdcx.kernel.i18n import _, percent_text
from crowdcx.kernel.pagination import MAX_LIMIT, Page, encode_cursor
from crowdcx.notifications import service as notes
from crowdcx.quality import rules
from crowdcx.quality.models import QualityReviewRow
from crowdcx.tenancy.service import BrandContext
from crowdcx.tickets import service as tickets
from crowdcx.tickets.models import ExpertProfileRow, TicketRow
from crowdcx.tickets.rules import Violation

STATES = ("pending", "done")
RECENT = 20

# The key of the sample's draw (rules.draw_for): the server's secret, set by create_app. A
# process that never set it (a CLI run) draws with this one.
_key: list[bytes] = [b"crowdcx-quality-sample"]


def set_sampling_key(secret: str) -> None:
    _key[0] = secret.encode()


def card(session: Session, ctx: BrandContext) -> rules.Scorecard:
    """The brand's scorecard: its criteria's weights and pass mark (the policy's "quality")."""
    policy, _roster = tickets.load_policy(session, ctx)
    return policy.quality.scorecard


def sampling(session: Session, ctx: BrandContext) -> rules.SamplingPolicy:
    """Which of the brand's expert resolutions are reviewed (the policy's "quality")."""
    policy, _roster = tickets.load_policy(session, ctx)
    return policy.quality.sampling


# ------------------------------------------------------------------------------------------
# Words for the data
# ------------------------------------------------------------------------------------------


def criterion_labels() -> dict[str, tuple[str, str]]:
    """Each criterion's name and the question the reviewer answers."""
    return {
        "solved": (_("Solved"), _("Did the answer solve the customer's problem?")),
        "accuracy": (_("Accuracy"), _("Was everything the expert said correct?")),
        "tone": (_("Tone"), _("Was the expert courteous, clear and easy to follow?")),
        "policy": (
            _("Policy compliance"),
            _("Did the expert follow the brand's policy and handle the customer's data as told?"),
        ),
    }


def _rate_text(rate: str) -> str:
    """A sampling rate kept in percent ("2.5") as the reader writes a percentage."""
    try:
        share = Decimal(rate) / 100
    except ArithmeticError:
        return rate
    if not share.is_finite():
        return rate
    return percent_text(share, decimals=2)


def reason_text(reason: Mapping[str, Any]) -> str:
    """Why a review was sampled, in the reader's language."""
    code = str(reason.get("code", ""))
    if code == "newcomer":
        return _("New expert: fewer than %(n)s reviews so far") % {"n": reason.get("needed", "")}
    if code == "low_csat":
        return _("The customer rated the help %(csat)s of 5") % {"csat": reason.get("csat", "")}
    if code == "reopened":
        return _("The customer reopened the ticket")
    if code == "base_rate":
        return _("Drawn at random (%(rate)s of resolutions)") % {
            "rate": _rate_text(str(reason.get("rate", "")))
        }
    return code


def _score_message(v: Violation, scorecard: rules.Scorecard) -> str:
    labels = criterion_labels()
    code = v.param("criterion") or ""
    name = labels[code][0] if code in labels else code
    if v.code == "score_missing":
        return _("Score “%(criterion)s” from 1 to 5.") % {"criterion": name}
    if v.code in ("score_not_integer", "score_out_of_range"):
        return _("Score “%(criterion)s” with a whole number from 1 to 5.") % {"criterion": name}
    return _("There is no criterion “%(criterion)s”; score %(known)s.") % {
        "criterion": name,
        "known": ", ".join(scorecard.codes),
    }


# ------------------------------------------------------------------------------------------
# The sample: hooks called inside the ticket event's transaction
# ------------------------------------------------------------------------------------------


def _reviews_of(session: Session, brand_id: int, expert_id: int) -> int:
    return int(
        session.execute(_count_reviews(), {"brand": brand_id, "expert": expert_id}).scalar_one()
    )


@cache
def _count_reviews() -> Any:
    return select(func.count(QualityReviewRow.id)).where(
        QualityReviewRow.brand_id == bindparam("brand"),
        QualityReviewRow.expert_id == bindparam("expert"),
    )


def _resolution(
    session: Session,
    ctx: BrandContext,
    ticket: TicketRow,
    expert_id: int,
    *,
    csat: int | None = None,
    reopened: bool = False,
) -> rules.Resolution:
    return rules.Resolution(
        ticket_id=str(ticket.id),
        expert_id=str(expert_id),
        draw=rules.draw_for(_key[0], str(ctx.brand.id), str(ticket.id)),
        reviews_before=_reviews_of(session, ctx.brand.id, expert_id),
        csat=csat,
        reopened=reopened or ticket.reopened_at is not None,
    )


def on_expert_resolution(
    session: Session, ctx: BrandContext, ticket: TicketRow, expert_id: int, now: datetime
) -> bool:
    """An expert resolved ``ticket``: sample it. True when it is (now) up for review."""
    decision = rules.decide_sample(
        _resolution(session, ctx, ticket, expert_id), sampling(session, ctx)
    )
    if decision.sampled:
        _ensure(session, ctx, ticket.id, expert_id, decision.reasons, now)
    return decision.sampled


def on_low_rating(
    session: Session,
    ctx: BrandContext,
    ticket: TicketRow,
    expert_id: int,
    csat: int,
    now: datetime,
) -> None:
    """The customer rated an expert's resolution: a low rating is always reviewed."""
    decision = rules.decide_sample(
        _resolution(session, ctx, ticket, expert_id, csat=csat), sampling(session, ctx)
    )
    if any(r.code == "low_csat" for r in decision.reasons):
        _ensure(session, ctx, ticket.id, expert_id, decision.reasons, now)


def on_reopened(
    session: Session, ctx: BrandContext, ticket: TicketRow, expert_id: int, now: datetime
) -> None:
    """The customer reopened an expert's resolution: it is reviewed (unless the brand's policy
    says reopened resolutions are not)."""
    decision = rules.decide_sample(
        _resolution(session, ctx, ticket, expert_id, reopened=True), sampling(session, ctx)
    )
    if any(r.code == "reopened" for r in decision.reasons):
        _ensure(session, ctx, ticket.id, expert_id, decision.reasons, now)


@cache
def _insert(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (brand_id, ticket_id) DO NOTHING``, built once per dialect."""
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    table = QualityReviewRow.__table__
    assert isinstance(table, Table)
    return insert_(table).on_conflict_do_nothing(index_elements=["brand_id", "ticket_id"])


def _ensure(
    session: Session,
    ctx: BrandContext,
    ticket_id: int,
    expert_id: int,
    reasons: tuple[rules.Reason, ...],
    now: datetime,
) -> None:
    """Make sure the ticket has a review: insert it, or add the reasons to its pending one
    (a decided review stays as it was decided)."""
    values = {
        "brand_id": ctx.brand.id,
        "ticket_id": ticket_id,
        "expert_id": expert_id,
        "reasons": [r.as_dict() for r in reasons],
        "state": "pending",
        "comment": "",
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    inserted = session.execute(_insert(dialect), values)
    if inserted.rowcount == 1:  # type: ignore[attr-defined]
        return
    row = session.execute(
        select(QualityReviewRow.id, QualityReviewRow.reasons, QualityReviewRow.state).where(
            QualityReviewRow.brand_id == ctx.brand.id, QualityReviewRow.ticket_id == ticket_id
        )
    ).one()
    merged = rules.merge_reasons(row.reasons or [], reasons)
    if row.state == "pending" and merged != row.reasons:
        session.execute(
            update(QualityReviewRow)
            .where(QualityReviewRow.id == row.id, QualityReviewRow.state == "pending")
            .values(reasons=merged)
            .execution_options(synchronize_session=False)
        )


# ------------------------------------------------------------------------------------------
# Reading and deciding reviews
# ------------------------------------------------------------------------------------------


def _state(state: str | None) -> str:
    if state is None or state == "":
        return "pending"
    if state not in STATES:
        raise AppError(
            422,
            "state_unknown",
            _("A review's state is “pending” or “done”, not “%(state)s”.") % {"state": state[:40]},
            field="state",
        )
    return state


def list_reviews(
    session: Session, ctx: BrandContext, state: str | None, after: int | None, limit: int
) -> Page[QualityReviewRow]:
    """Pending reviews oldest first (the queue); decided ones newest decided first."""
    wanted = _state(state)
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = ctx.scoped(QualityReviewRow).where(QualityReviewRow.state == wanted)
    if wanted == "pending":
        if after is not None:
            stmt = stmt.where(QualityReviewRow.id > after)
        stmt = stmt.order_by(QualityReviewRow.id)
    else:
        if after is not None:
            stmt = stmt.where(QualityReviewRow.id < after)
        stmt = stmt.order_by(QualityReviewRow.id.desc())
    rows = list(session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more and rows else None)


def get_review(session: Session, ctx: BrandContext, review_id: int) -> QualityReviewRow:
    return ctx.get(
        session, QualityReviewRow, review_id, _("There is no such review in this brand.")
    )


def pending_count(session: Session, ctx: BrandContext) -> int:
    return int(
        session.scalar(
            ctx.scoped(QualityReviewRow, select(func.count(QualityReviewRow.id))).where(
                QualityReviewRow.state == "pending"
            )
        )
        or 0
    )


def tickets_by_id(session: Session, ctx: BrandContext, ids: list[int]) -> dict[int, TicketRow]:
    if not ids:
        return {}
    return {t.id: t for t in session.scalars(ctx.scoped(TicketRow).where(TicketRow.id.in_(ids)))}


def names_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    return dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()
    )


def check_scores(scorecard: rules.Scorecard, scores: Mapping[str, object]) -> dict[str, str]:
    """The scorecard's problems by field (``scores.<criterion>``), in the reader's language."""
    return {
        v.field or "scores": _score_message(v, scorecard)
        for v in rules.score_problems(scorecard, scores)
    }


def decide(
    uow: UnitOfWork,
    ctx: BrandContext,
    user: User,
    review_id: int,
    scores: Mapping[str, object],
    comment: str,
    now: datetime,
) -> QualityReviewRow:
    """Staff score a pending review, once. The expert whose work it is cannot; a review
    already decided (by someone else a moment ago, too) is a 409."""
    ctx.require("ticket.staff")
    session = uow.session
    row = get_review(session, ctx, review_id)
    if row.expert_id == user.id:
        raise forbidden(
            _("You cannot review your own work; another member of staff will."), "own_work"
        )
    if row.state != "pending":
        raise _decided()
    scorecard = card(session, ctx)
    problems = check_scores(scorecard, scores)
    text = comment.strip()
    if len(text) > rules.MAX_COMMENT:
        problems["comment"] = _("Keep the comment under %(n)d characters.") % {
            "n": rules.MAX_COMMENT
        }
    if problems:
        field, detail = next(iter(problems.items()))
        errors = [
            {
                "field": f,
                "code": "invalid_score" if f.startswith("scores") else "too_long",
                "message": m,
            }
            for f, m in problems.items()
        ]
        raise AppError(422, "scorecard_invalid", detail, field=field, errors=errors)
    clean = {code: int(scores[code]) for code in scorecard.codes}  # type: ignore[call-overload]
    score = rules.weighted_score(scorecard, clean)
    done = session.execute(
        update(QualityReviewRow)
        .where(
            QualityReviewRow.id == row.id,
            QualityReviewRow.brand_id == ctx.brand.id,
            QualityReviewRow.state == "pending",
        )
        .values(
            state="done",
            scores=clean,
            score=score,
            pass_mark=scorecard.pass_mark,
            weights=rules.recorded_weights(scorecard),
            comment=text,
            reviewer_id=user.id,
            reviewed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise _decided()
    # The routing score reads it (routing.rules: the quality term), added by the database.
    session.execute(
        update(ExpertProfileRow)
        .where(ExpertProfileRow.brand_id == ctx.brand.id, ExpertProfileRow.user_id == row.expert_id)
        .values(
            quality_points=ExpertProfileRow.quality_points + score,
            quality_count=ExpertProfileRow.quality_count + 1,
        )
        .execution_options(synchronize_session=False)
    )
    notes.notify(
        session,
        ctx.brand.id,
        [row.expert_id],
        "quality_review",
        {"ticket": row.ticket_id, "score": score, "passed": rules.passes(scorecard, score)},
        f"/b/{ctx.brand.slug}/quality/mine",
        now,
    )
    session.refresh(row)
    return row


def _decided() -> AppError:
    return AppError(
        409, "review_decided", _("This review was already decided; reload it to see the scores.")
    )


@dataclass(frozen=True)
class ExpertQuality:
    expert_id: int
    name: str
    summary: rules.QualitySummary
    pending: int
    recent: list[QualityReviewRow]


def expert_quality(session: Session, ctx: BrandContext, expert_id: int) -> ExpertQuality:
    """An expert's quality in this brand: the summary of every decided review, how many
    wait, and the latest decided ones with their comments."""
    decided = session.execute(
        ctx.scoped(
            QualityReviewRow, select(QualityReviewRow.score, QualityReviewRow.pass_mark)
        ).where(QualityReviewRow.expert_id == expert_id, QualityReviewRow.state == "done")
    )
    summary = rules.summarize(
        (rules.Decided(int(s), m) for s, m in decided if s is not None), card(session, ctx)
    )
    pending = int(
        session.scalar(
            ctx.scoped(QualityReviewRow, select(func.count(QualityReviewRow.id))).where(
                QualityReviewRow.expert_id == expert_id, QualityReviewRow.state == "pending"
            )
        )
        or 0
    )
    recent = list(
        session.scalars(
            ctx.scoped(QualityReviewRow)
            .where(QualityReviewRow.expert_id == expert_id, QualityReviewRow.state == "done")
            .order_by(QualityReviewRow.reviewed_at.desc(), QualityReviewRow.id.desc())
            .limit(RECENT)
        )
    )
    name = names_by_id(session, {expert_id}).get(expert_id, "")
    return ExpertQuality(expert_id, name, summary, pending, recent)


def access_expert_quality(session: Session, ctx: BrandContext, user: User, expert_id: int) -> None:
    """Staff read the quality of any of the brand's experts (one with an expert profile
    here, or reviews from before their role was taken); an expert only their own. Anyone
    else: 404 (the page does not say whether the person exists)."""
    if ctx.can("ticket.staff"):
        if expert_id != user.id and not _is_brand_expert(session, ctx, expert_id):
            raise not_found(_("There is no such expert in this brand."), "expert_not_found")
        return
    if expert_id == user.id and "expert" in ctx.roles:
        return
    if user.id == expert_id:
        raise forbidden(_("Only experts have a quality record."), "not_an_expert")
    raise not_found(_("There is no such expert in this brand."), "expert_not_found")


def _is_brand_expert(session: Session, ctx: BrandContext, expert_id: int) -> bool:
    profile = session.scalar(
        ctx.scoped(ExpertProfileRow, select(ExpertProfileRow.id))
        .where(ExpertProfileRow.user_id == expert_id)
        .limit(1)
    )
    if profile is not None:
        return True
    reviewed = session.scalar(
        ctx.scoped(QualityReviewRow, select(QualityReviewRow.id))
        .where(QualityReviewRow.expert_id == expert_id)
        .limit(1)
    )
    return reviewed is not None


@dataclass(frozen=True)
class PeriodQuality:
    decided: int
    average: float | None
    passed: int

    @property
    def pass_share(self) -> float | None:
        return self.passed / self.decided if self.decided else None


def period_quality(session: Session, ctx: BrandContext, since: datetime) -> PeriodQuality:
    """Reviews decided since ``since``: how many, their average score, how many passed, each
    at the pass mark it was decided by (rules.passed_at; one not recorded: the brand's now)."""
    mark = func.coalesce(QualityReviewRow.pass_mark, card(session, ctx).pass_mark)
    n, avg, passed = session.execute(
        ctx.scoped(
            QualityReviewRow,
            select(
                func.count(QualityReviewRow.id),
                func.avg(QualityReviewRow.score),
                func.count(QualityReviewRow.id).filter(QualityReviewRow.score >= mark),
            ),
        ).where(QualityReviewRow.state == "done", QualityReviewRow.reviewed_at >= since)
    ).one()
    return PeriodQuality(
        int(n or 0), round(float(avg), 1) if avg is not None else None, int(passed or 0)
    )
