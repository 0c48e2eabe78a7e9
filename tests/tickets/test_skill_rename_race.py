"""A skill renamed while a customer's ticket is being written (found in the eighth session).

The rename renames every ticket of the old name in its transaction; an intake reads the
policy (``prepare_intake``) and writes the ticket later (``submit_intake``, in the request's
transaction). A ticket written between the rename's read and its commit kept the old name,
which the policy no longer has. Now the two are ordered one way or the other, whichever
comes first: on PostgreSQL the intake holds the brand's policy while it writes and reads it
again; on SQLite it reads the policy again as the one writer, after its writes, and decides
again if a save came in between.
Deterministic interleavings through two units of work (two connections), on SQLite (file
database, the writers' lock) and PostgreSQL (advisory lock), a brand with a saved policy
and one on its defaults (no policy row to lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database, UnitOfWork
from crowdcx.kernel.errors import AppError
from crowdcx.kernel.models import utcnow
from crowdcx.tenancy import service as tenancy
from crowdcx.tickets import service
from tests.conftest import Person, World

INTAKE = service.Intake("Charged twice", "My card was charged twice for one order.", "billing",
                        "en")  # fmt: skip


def _brand(client: TestClient, world: World, saved: bool) -> tuple[str, Person, Person]:
    slug = world.brand(default_locale="en")
    admin = world.member(slug, ["brand_admin"])
    customer = world.member(slug, ["customer"], "Ada")
    if saved:
        r = client.put(f"/api/v1/brands/{slug}/policy", json={"max_concurrent": 2},
                       headers=admin.auth)  # fmt: skip
        assert r.status_code == 200, r.text
    return slug, admin, customer


def _prepare(
    db: Database, slug: str, customer: Person
) -> tuple[UnitOfWork, service.PreparedIntake]:
    uow = db.uow()
    ctx = tenancy.access_brand(uow.session, slug, None)
    user = uow.session.get_one(User, customer.id)
    return uow, service.prepare_intake(uow, ctx, user, INTAKE, utcnow())


def _submit(uow: UnitOfWork, slug: str, prepared: service.PreparedIntake) -> None:
    ctx = tenancy.access_brand(uow.session, slug, None)
    service.submit_intake(uow, ctx, prepared, utcnow())


def _rename(uow: UnitOfWork, slug: str) -> None:
    ctx = tenancy.access_brand(uow.session, slug, None)
    service.rename_skill(uow, ctx, "billing", "Payments", utcnow())


def _waits(step: Callable[[], None], then: Callable[[], None]) -> str | None:
    """Run ``step`` in a thread; it must still be waiting half a second later; then run
    ``then`` here (which lets it go). The code of the AppError ``step`` raised, if any."""
    outcome: dict[str, str] = {}

    def run() -> None:
        try:
            step()
        except AppError as error:
            outcome["code"] = error.code

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(0.5)
    waited = thread.is_alive()
    then()
    thread.join(30)
    assert not thread.is_alive()
    assert waited, "the second writer did not wait for the first"
    return outcome.get("code")


def _skills(client: TestClient, slug: str, admin: Person) -> list[str]:
    r = client.get(f"/api/v1/brands/{slug}/tickets", headers=admin.auth)
    assert r.status_code == 200, r.text
    return [t["skill"] for t in r.json()["items"]]


@pytest.mark.parametrize("saved", [True, False], ids=["saved_policy", "defaults"])
def test_an_intake_written_after_the_rename_commits_goes_by_the_new_policy(
    client: TestClient, world: World, db: Database, saved: bool
) -> None:
    """The intake read the policy before the rename; the rename holds the policy until it
    commits; the intake's write waits for it, reads the saved policy and is refused as a
    submission after the rename would be (the old name is no skill now) — no ticket keeps
    the old name."""
    slug, admin, customer = _brand(client, world, saved)
    intake, prepared = _prepare(db, slug, customer)
    with intake, db.uow() as renaming:
        _rename(renaming, slug)  # not committed yet

        def submit() -> None:
            _submit(intake, slug, prepared)
            intake.commit()

        code = _waits(submit, renaming.commit)
    assert code == "skill_unknown"
    assert _skills(client, slug, admin) == []
    # Sent again with the new name, it is taken.
    r = client.post(f"/api/v1/brands/{slug}/tickets", headers=customer.auth,
                    json={"subject": INTAKE.subject, "body": INTAKE.body, "skill": "Payments",
                          "language": "en"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert _skills(client, slug, admin) == ["Payments"]


@pytest.mark.parametrize("saved", [True, False], ids=["saved_policy", "defaults"])
def test_a_rename_waits_for_an_intake_writing_and_then_renames_its_ticket(
    client: TestClient, world: World, db: Database, saved: bool
) -> None:
    slug, admin, customer = _brand(client, world, saved)
    intake, prepared = _prepare(db, slug, customer)
    with intake, db.uow() as renaming:
        _submit(intake, slug, prepared)  # written, not committed yet

        def rename() -> None:
            _rename(renaming, slug)
            renaming.commit()

        assert _waits(rename, intake.commit) is None
    assert _skills(client, slug, admin) == ["Payments"]
