"""FAQ imports as background jobs.

A 10,000-row import ran inside its request for 12–60 s, holding the request and, on SQLite
with one handler thread per worker (``CROWDCX_THREADS``), the whole worker. Now the upload
(API and page) is checked as before — encoding, size, header — and stored as an
``import_jobs`` row; the request answers at once and a worker runs the job:

- :class:`ImportWorker`, a daemon thread in every server process (like the ticket sweeper),
  calls :func:`run_pending` every few seconds and at once when a job is stored here.
- A job is taken by :func:`claim`: one conditional ``UPDATE`` raising ``attempt``, so of
  several processes reaching a job only one gets it.
- :func:`run_job` imports with ``service.import_drafts`` in chunks of ``IMPORT_CHUNK`` rows,
  writing the job's progress (rows done, counts, skip reasons, article ids) and heartbeat in
  each chunk's transaction, on condition that its ``attempt`` is still the worker's. A job
  left ``running`` by a process that died (heartbeat older than :data:`STALE_AFTER`) is
  claimed again and resumes at the first row not committed; a worker that stalled that long
  and lost its job finds its condition false and rolls its chunk back. The rows are the
  file's, parsed again by ``service.csv_rows`` (deterministic), so "the rows after the first
  ``rows_done``" names the same rows in every attempt.

``crowdcx import-faq`` stays synchronous (a progress bar in a terminal), calling
``service.import_drafts`` directly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database, UnitOfWork
from crowdcx.kernel.errors import AppError, forbidden, not_found
from crowdcx.kernel.i18n import _, use_locale
from crowdcx.kernel.models import utcnow
from crowdcx.knowledge import rules, service
from crowdcx.knowledge.models import ImportJob
from crowdcx.tenancy.models import Brand
from crowdcx.tenancy.service import BrandContext, roles_in

log = logging.getLogger(__name__)

# A running job whose heartbeat (moved with every chunk, a fraction of a second apart; a
# chunk waiting for SQLite's write lock waits at most its 30 s busy timeout) is older than
# this belongs to a process that died: another claims it.
STALE_AFTER: Final = timedelta(minutes=2)
FINISHED = ("done", "failed")
# A job that ended (done or failed) this long ago is dropped by the hourly housekeeping
# (:func:`prune_finished`): its summary has been read, its articles live on without it.
KEEP_FINISHED: Final = timedelta(days=30)


class LostJobError(Exception):
    """Another worker claimed this job (this one was taken for dead): stop, roll back."""


def submit(
    uow: UnitOfWork,
    ctx: BrandContext,
    *,
    file_name: str,
    content: str,
    publish: bool,
    locale: str,
    now: datetime,
    claimed: bool = False,
) -> ImportJob:
    """Check the file (header, rows) and who may import it, and store the job: queued for
    the workers, or ``claimed`` (running, attempt 1) for the caller to run with
    :func:`run_claimed` — no worker takes it meanwhile."""
    service.require_writer(ctx)
    if publish and not service.can_review(ctx):
        raise forbidden(_("Only a reviewer can import straight to published."), "not_reviewer")
    rows = service.csv_rows(content)  # a file it cannot read is refused now, not later
    assert ctx.user is not None
    job = ImportJob(
        brand_id=ctx.brand.id,
        created_by=ctx.user.id,
        state="running" if claimed else "queued",
        attempt=1 if claimed else 0,
        heartbeat_at=now if claimed else None,
        started_at=now if claimed else None,
        file_name=file_name[:255],
        locale=locale,
        publish=publish,
        content=content,
        rows_total=len(rows),
        problems=[],
        article_ids=[],
        created_at=now,
    )
    uow.session.add(job)
    uow.session.flush()
    return job


def get_job(session: Session, ctx: BrandContext, job_id: int) -> ImportJob:
    """A job of this brand, for its importer or a reviewer (another brand's id is a 404)."""
    service.require_writer(ctx)
    job = session.scalar(
        select(ImportJob).where(ImportJob.id == job_id, ImportJob.brand_id == ctx.brand.id)
    )
    assert ctx.user is not None
    if job is None or (job.created_by != ctx.user.id and not service.can_review(ctx)):
        raise not_found(_("No such import."), "import_not_found")
    return job


RECENT: Final = 10


def recent(session: Session, ctx: BrandContext, limit: int = RECENT) -> list[tuple[ImportJob, str]]:
    """The brand's last ``limit`` imports, newest first, each with its uploader's name ("" for
    an account deleted since): every import for a reviewer, an author's own otherwise — the
    imports :func:`get_job` lets them open."""
    service.require_writer(ctx)
    assert ctx.user is not None
    stmt = (
        select(ImportJob, User.display_name)
        .outerjoin(User, User.id == ImportJob.created_by)
        .where(ImportJob.brand_id == ctx.brand.id)
        .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
        .limit(limit)
    )
    if not service.can_review(ctx):
        stmt = stmt.where(ImportJob.created_by == ctx.user.id)
    return [(job, name or "") for job, name in session.execute(stmt)]


def prune_finished(session: Session, now: datetime) -> int:
    """Drop the jobs (every brand) that ended more than :data:`KEEP_FINISHED` before ``now``;
    queued and running ones stay whatever their age. Returns the rows dropped."""
    gone = session.execute(
        delete(ImportJob)
        .where(
            ImportJob.state.in_(FINISHED),
            func.coalesce(ImportJob.finished_at, ImportJob.created_at) < now - KEEP_FINISHED,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        ImportJob.state == "queued",
        (ImportJob.state == "running") & (ImportJob.heartbeat_at < now - STALE_AFTER),
    )


def claim(db: Database, job_id: int, now: datetime) -> int | None:
    """Take the job if it is queued, or running with a stale heartbeat; the attempt number
    this worker holds it under, or None when it is not to be taken (another has it)."""
    with db.transaction() as uow:
        attempt = uow.session.scalar(select(ImportJob.attempt).where(ImportJob.id == job_id))
        if attempt is None:
            return None
        taken = uow.session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.attempt == attempt, _claimable(now))
            .values(
                state="running",
                attempt=attempt + 1,
                heartbeat_at=utcnow(),
                started_at=func.coalesce(ImportJob.started_at, utcnow()),
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    return attempt + 1 if taken == 1 else None


def pending_ids(db: Database, now: datetime, batch: int = 20) -> list[int]:
    with db.sessions() as session:
        return list(
            session.scalars(
                select(ImportJob.id).where(_claimable(now)).order_by(ImportJob.id).limit(batch)
            )
        )


@dataclass
class _Lease:
    job_id: int
    attempt: int
    stop: threading.Event | None = None
    stopped: bool = False

    def write(self, session: Session, **values: object) -> None:
        """Write the job's state, on condition this worker still holds it."""
        changed = session.execute(
            update(ImportJob)
            .where(
                ImportJob.id == self.job_id,
                ImportJob.attempt == self.attempt,
                ImportJob.state == "running",
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            raise LostJobError(self.job_id)


def _progress(summary: service.ImportSummary, rows_done: int) -> dict[str, object]:
    return {
        "rows_done": rows_done,
        "imported": summary.imported,
        "skipped": len(summary.skipped),
        "problems": list(summary.skipped),
        "article_ids": list(summary.article_ids),
        "heartbeat_at": utcnow(),
    }


def run_job(
    db: Database, job_id: int, now: datetime | None = None, stop: threading.Event | None = None
) -> bool:
    """Claim the job and run it to the end (or until ``stop`` is set: it is then queued again
    after the chunk in hand). False if another worker has it or took it over meanwhile."""
    attempt = claim(db, job_id, now or utcnow())
    if attempt is None:
        return False
    return run_claimed(db, job_id, attempt, stop)


def run_claimed(
    db: Database, job_id: int, attempt: int, stop: threading.Event | None = None
) -> bool:
    """Run a job this worker holds under ``attempt`` (see :func:`run_job`)."""
    lease = _Lease(job_id, attempt, stop)
    with db.uow() as uow:
        job = uow.session.get_one(ImportJob, job_id)
        with use_locale(job.locale):
            try:
                _run(uow, job, lease)
            except LostJobError:
                uow.rollback()
                log.warning("import job %s was taken over by another worker", job_id)
                return False
            except OperationalError:
                # The database, not the file: left running, it is claimed again once stale.
                uow.rollback()
                raise
            except JobRefusedError as refused:  # e.g. the importer lost the right to import
                uow.rollback()
                _fail(db, lease, refused.stored())
            except AppError as error:
                uow.rollback()
                # Its code and sentence: the sentence is the uploader's language, the code
                # is what the API answers (and says again, when it is one of _failures).
                _fail(db, lease, _kept(error.code, {"reason": error.detail}))
            except Exception:
                uow.rollback()
                log.exception("import job %s failed", job_id)
                _fail(db, lease, "unexpected")
    return True


class JobRefusedError(Exception):
    """A job that cannot go on for a reason :func:`failure_text` can say to any reader:
    one of :func:`_failures`, or a refusal ``stated`` with its field and parameters
    (service.stated)."""

    def __init__(self, code: str, stated: Mapping[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.stated = stated

    def stored(self) -> str:
        return self.code if self.stated is None else _kept(self.code, self.stated)


def _kept(code: str, stated: Mapping[str, Any]) -> str:
    """The error column's text for a failure with more than a code: JSON."""
    return json.dumps({**stated, "code": code}, ensure_ascii=False, sort_keys=True)


def _failures() -> dict[str, str]:
    return {
        "importer_gone": _(
            "The account that uploaded the file is gone or disabled; upload the file again."
        ),
        "not_author": _(service.NOT_WRITER),
        "not_reviewer": _(service.NOT_PUBLISHER),
        "unexpected": _("The import stopped on an unexpected error; try again."),
    }


# The failures that are refusals of the uploader, not faults of ours.
REFUSALS = frozenset({"importer_gone", "not_author", "not_reviewer"})


@dataclass(frozen=True)
class Failure:
    """Why a job failed: ``code`` (``refused`` for a job failed before codes were stored)
    and ``text``, in the reader's language where it can be said again."""

    code: str
    text: str


def failure(stored: str | None) -> Failure | None:
    """Why a job failed, in the *reader's* language: a failed job stores the reason's code
    — alone, or as JSON with the refusal's field and parameters, or with the sentence of an
    error that has none — and whoever reads it later (another admin, an API client in
    another language) gets it said again. A refusal without parameters keeps the uploader's
    sentence; jobs failed before their code was stored keep theirs, as ``refused``."""
    if stored is None:
        return None
    said = _failures()
    if stored in said:
        return Failure(stored, said[stored])
    kept = _decoded(stored)
    if kept is None:
        return Failure("refused", stored)
    code = str(kept["code"])
    if code in said:
        return Failure(code, said[code])
    return Failure(code, service.problem_reasons([kept])[0]["reason"])


def _decoded(stored: str) -> dict[str, Any] | None:
    if not stored.startswith("{"):
        return None
    with contextlib.suppress(ValueError):
        kept = json.loads(stored)
        if isinstance(kept, dict) and isinstance(kept.get("code"), str):
            return kept
    return None


def failure_text(stored: str | None) -> str | None:
    """:func:`failure`'s text."""
    failed = failure(stored)
    return None if failed is None else failed.text


def _run(uow: UnitOfWork, job: ImportJob, lease: _Lease) -> None:
    session = uow.session
    brand = session.get_one(Brand, job.brand_id)
    user = session.get(User, job.created_by) if job.created_by is not None else None
    ctx = BrandContext(brand, user, roles_in(session, user, brand.id))
    if user is None or not user.is_active:
        raise JobRefusedError("importer_gone")
    if not service.can_write(ctx):
        raise JobRefusedError("not_author")
    if job.publish and not service.can_review(ctx):
        raise JobRefusedError("not_reviewer")
    parsed = rules.parse_faq_csv(job.content or "")
    if isinstance(parsed, rules.Violation):  # stored by a release that read it otherwise
        raise JobRefusedError(parsed.code, service.stated(parsed))
    rows = service.faq_rows(parsed)
    done = job.rows_done
    summary = service.ImportSummary(
        imported=job.imported, skipped=list(job.problems), article_ids=list(job.article_ids)
    )

    def checkpoint(progress: service.ImportSummary, seen: int) -> bool:
        lease.write(session, **_progress(progress, done + seen))
        if lease.stop is not None and lease.stop.is_set():
            lease.write(session, state="queued", heartbeat_at=None)  # for the next process
            lease.stopped = True
            return False
        return True

    summary = service.import_drafts(
        uow, ctx, rows[done:], utcnow(), publish=job.publish, summary=summary,
        commit_every=service.IMPORT_CHUNK, checkpoint=checkpoint,
    )  # fmt: skip
    if lease.stopped:
        return
    lease.write(
        session, **_progress(summary, len(rows)), state="done", finished_at=utcnow(), content=None
    )
    uow.commit()


def _fail(db: Database, lease: _Lease, reason: str) -> None:
    with db.transaction() as uow, contextlib.suppress(LostJobError):  # another worker has it
        lease.write(uow.session, state="failed", error=reason, finished_at=utcnow(), content=None)


def run_pending(
    db: Database, now: datetime | None = None, stop: threading.Event | None = None
) -> int:
    """Run every job there is to run (queued, or running with a stale heartbeat); how many
    this worker ran."""
    ran = 0
    at = now or utcnow()
    for job_id in pending_ids(db, at):
        if stop is not None and stop.is_set():
            break
        if run_job(db, job_id, at, stop):
            ran += 1
    return ran


class ImportWorker:
    """A daemon thread calling :func:`run_pending` every ``interval`` seconds, and at once
    after :meth:`wake` (an upload in this process)."""

    def __init__(self, db: Database, interval: float = 2.0) -> None:
        self.db = db
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crowdcx-imports", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                run_pending(self.db, stop=self._stop)
            except Exception:
                log.exception("import worker pass failed")
