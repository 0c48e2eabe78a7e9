"""Two admins editing the brand's ticket policy at once (found in the ninth session).

A form opened at 10:00 and saved at 10:30 overwrote what another admin saved at 10:15, and
``follow_brand_languages`` built its document from a read taken before the policy lock.
Now the policy has a version (a digest of the policy as read): the API returns it, the
pages carry it in a hidden field, and a save naming an older one is refused with 409
``policy_changed``, the form keeping what was typed. A save without it (older clients)
saves as before. Interleavings through two units of work, as in test_skill_rename_race.py,
on SQLite and PostgreSQL; and a community escalation waits for a rename before it writes."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from crowdcx.community import service as community
from crowdcx.community.models import PostRow
from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.i18n import _, use_locale
from crowdcx.kernel.models import utcnow
from crowdcx.tenancy import service as tenancy
from crowdcx.tickets import service
from crowdcx.tickets.models import TicketRow
from tests.community.test_api import Forum
from tests.conftest import Person, World
from tests.tickets.test_pages import sign_in
from tests.tickets.test_policy_form import beside, form_fields
from tests.tickets.test_skill_rename_race import _waits

CHANGED = (
    "Someone else saved this brand's ticket policy after you opened it, so nothing "
    "was saved. Compare your changes with the saved policy, then save again."
)


class Admins:
    """A brand (en and ru) with a saved policy and two brand admins."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.slug = world.brand(default_locale="en", locales=["en", "ru"])
        self.first = world.member(self.slug, ["brand_admin"], "Ann")
        self.second = world.member(self.slug, ["brand_admin"], "Bo")
        self.put({"max_concurrent": 2, "offer_timeout_s": 120, "languages": ["en"]}, self.first)

    def get(self) -> dict[str, Any]:
        r = self.client.get(f"/api/v1/brands/{self.slug}/policy", headers=self.first.auth)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def put(self, body: dict[str, Any], who: Person) -> Any:
        return self.client.put(f"/api/v1/brands/{self.slug}/policy", json=body, headers=who.auth)


@pytest.fixture
def admins(client: TestClient, world: World) -> Admins:
    return Admins(client, world)


def test_an_api_save_read_before_another_save_is_refused(admins: Admins) -> None:
    opened = admins.get()["version"]
    assert admins.get()["version"] == opened  # reading moves nothing
    r = admins.put({"max_concurrent": 7, "version": opened}, admins.second)
    assert r.status_code == 200, r.text
    assert r.json()["version"] != opened
    assert r.json()["version"] == admins.get()["version"]

    late = admins.put({"offer_timeout_s": 300, "version": opened}, admins.first)
    assert late.status_code == 409, late.text
    assert late.headers["content-type"].startswith("application/problem+json")
    assert late.json()["code"] == "policy_changed"
    assert late.json()["detail"] == CHANGED
    saved = admins.get()
    assert (saved["max_concurrent"], saved["offer_timeout_s"]) == (7, 120)

    # Sent again at the version it now is, or without one (an older client), it is saved.
    again = admins.put({"offer_timeout_s": 300, "version": saved["version"]}, admins.first)
    assert again.status_code == 200, again.text
    assert admins.put({"max_rings": 3}, admins.first).status_code == 200
    saved = admins.get()
    assert (saved["max_concurrent"], saved["offer_timeout_s"], saved["max_rings"]) == (7, 300, 3)
    # The whole document as read, sent back with a change: the version travels with it.
    stale = {**saved, "max_concurrent": 4}
    assert admins.put({"max_concurrent": 5}, admins.second).status_code == 200
    assert admins.put(stale, admins.first).json()["code"] == "policy_changed"


def test_a_rename_read_before_another_save_is_refused(admins: Admins) -> None:
    opened = admins.get()["version"]
    assert admins.put({"max_concurrent": 7}, admins.second).status_code == 200
    url = f"/api/v1/brands/{admins.slug}/policy/skills/rename"
    body = {"name": "general", "new_name": "Everyday", "version": opened}
    r = admins.client.post(url, json=body, headers=admins.first.auth)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "policy_changed"
    assert "Everyday" not in [s["name"] for s in admins.get()["skills"]]
    body["version"] = admins.get()["version"]
    r = admins.client.post(url, json=body, headers=admins.first.auth)
    assert r.status_code == 200, r.text
    assert r.json()["max_concurrent"] == 7
    assert "Everyday" in [s["name"] for s in r.json()["skills"]]


def _open_form(client: TestClient, admins: Admins, locale: str) -> dict[str, str]:
    token = sign_in(client, admins.first)
    client.cookies.set("crowdcx_locale", locale)
    page = client.get(f"/b/{admins.slug}/admin/policy")
    assert page.status_code == 200
    return form_fields(page.text) | {"csrf_token": token}


@pytest.mark.parametrize("locale", ["en", "ru", "zh-Hans", "zh-Hant"])
def test_the_form_saved_after_another_admin_keeps_what_was_typed(
    client: TestClient, world: World, locale: str
) -> None:
    admins = Admins(client, world)
    fields = _open_form(client, admins, locale)
    assert fields["version"] == admins.get()["version"]
    # Another admin saves meanwhile (the API, another browser).
    assert admins.put({"max_concurrent": 7}, admins.second).status_code == 200
    fields["offer_timeout_s"] = "300"
    url = f"/b/{admins.slug}/admin/policy/form"
    r = client.post(url, data=fields, follow_redirects=False)
    assert r.status_code == 409, r.text
    with use_locale(locale):
        said = _(CHANGED)
    assert locale == "en" or said != CHANGED  # translated
    assert said in html.unescape(r.text)
    kept = form_fields(r.text)
    assert kept["offer_timeout_s"] == "300"  # what was typed is on the page again
    assert kept["max_concurrent"] == "2"
    assert "7" in beside(r.text, "max_concurrent")  # and what is saved, beside its field
    # The admin's own change is not marked: no one else changed that field since.
    assert beside(r.text, "offer_timeout_s") == ""
    assert beside(r.text, "max_rings") == ""  # no one changed it
    saved = admins.get()
    assert (saved["max_concurrent"], saved["offer_timeout_s"]) == (7, 120)  # nothing saved
    # The page now carries the saved version: the admin takes the other's value and saves.
    assert kept["version"] == saved["version"]
    kept["max_concurrent"] = "7"
    r = client.post(url, data=kept | {"csrf_token": fields["csrf_token"]}, follow_redirects=False)
    assert r.status_code == 303, r.text
    saved = admins.get()
    assert (saved["max_concurrent"], saved["offer_timeout_s"]) == (7, 300)


def test_a_page_that_does_not_say_what_it_opened_marks_every_difference(
    client: TestClient, world: World
) -> None:
    """A form from before the page carried the policy it opened (or one whose copy is not
    the policy of its version) cannot tell the admin's changes from the other's: every
    field whose saved value differs from the typed one is marked."""
    admins = Admins(client, world)
    fields = _open_form(client, admins, "en")
    assert admins.put({"max_concurrent": 7}, admins.second).status_code == 200
    url = f"/b/{admins.slug}/admin/policy/form"
    for opened in ("", fields["opened"].replace('"max_concurrent":2', '"max_concurrent":5')):
        r = client.post(url, data=fields | {"offer_timeout_s": "300", "opened": opened})
        assert r.status_code == 409, r.text
        assert "7" in beside(r.text, "max_concurrent")
        assert "120" in beside(r.text, "offer_timeout_s")  # saved: 120, typed: 300


def test_a_form_refused_for_another_reason_keeps_the_version_it_was_read_at(
    client: TestClient, world: World
) -> None:
    admins = Admins(client, world)
    fields = _open_form(client, admins, "en")
    opened = fields["version"]
    r = client.post(
        f"/b/{admins.slug}/admin/policy/form",
        data=fields | {"max_concurrent": "0"},
        follow_redirects=False,
    )
    assert r.status_code == 422, r.text
    assert form_fields(r.text)["version"] == opened
    assert admins.put({"max_rings": 4}, admins.second).status_code == 200
    r = client.post(
        f"/b/{admins.slug}/admin/policy/form",
        data=form_fields(r.text) | {"max_concurrent": "3", "csrf_token": fields["csrf_token"]},
        follow_redirects=False,
    )
    assert r.status_code == 409, r.text
    assert admins.get()["max_rings"] == 4


def test_the_json_editor_saved_after_another_admin_keeps_the_text(
    client: TestClient, world: World
) -> None:
    admins = Admins(client, world)
    fields = _open_form(client, admins, "en")
    assert admins.put({"max_concurrent": 7}, admins.second).status_code == 200
    typed = '{"offer_timeout_s": 300}'
    r = client.post(
        f"/b/{admins.slug}/admin/policy",
        data={"csrf_token": fields["csrf_token"], "version": fields["version"],
              "policy_json": typed},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 409, r.text
    assert CHANGED in html.unescape(r.text)
    assert f">{typed}</textarea>" in html.unescape(r.text)
    assert admins.get()["offer_timeout_s"] == 120
    now_at = re.findall(r'name="version" value="([^"]*)"', r.text)
    assert set(now_at) == {admins.get()["version"]}
    r = client.post(
        f"/b/{admins.slug}/admin/policy",
        data={"csrf_token": fields["csrf_token"], "version": now_at[0], "policy_json": typed},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert (admins.get()["offer_timeout_s"], admins.get()["max_concurrent"]) == (300, 7)


# ------------------------------------------------------------------------------------------
# Interleavings: a save holds the policy until it commits; the other waits, then reads again
# ------------------------------------------------------------------------------------------


def _save(db: Database, slug: str, data: dict[str, Any], read_at: str | None = None) -> Any:
    uow = db.uow()
    ctx = tenancy.access_brand(uow.session, slug, None)
    service.set_policy(uow, ctx, data, utcnow(), read_at=read_at)
    return uow


@pytest.mark.parametrize("second", ["save", "rename"])
def test_a_save_read_before_a_save_still_uncommitted_is_refused_once_it_commits(
    admins: Admins, db: Database, second: str
) -> None:
    opened = admins.get()["version"]
    with _save(db, admins.slug, {"max_concurrent": 5}) as first, db.uow() as other:
        ctx = tenancy.access_brand(other.session, admins.slug, None)

        def step() -> None:
            if second == "save":
                service.set_policy(other, ctx, {"offer_timeout_s": 300}, utcnow(),
                                   read_at=opened)  # fmt: skip
            else:
                service.rename_skill(other, ctx, "general", "Everyday", utcnow(), opened)
            other.commit()

        code = _waits(step, first.commit)
    assert code == "policy_changed"
    saved = admins.get()
    assert (saved["max_concurrent"], saved["offer_timeout_s"]) == (5, 120)
    assert "Everyday" not in [s["name"] for s in saved["skills"]]


def test_a_rename_waiting_for_a_save_keeps_what_it_saved(admins: Admins, db: Database) -> None:
    with _save(db, admins.slug, {"max_concurrent": 5}) as first, db.uow() as other:
        ctx = tenancy.access_brand(other.session, admins.slug, None)

        def step() -> None:
            service.rename_skill(other, ctx, "general", "Everyday", utcnow())
            other.commit()

        assert _waits(step, first.commit) is None
    saved = admins.get()
    assert saved["max_concurrent"] == 5
    assert "Everyday" in [s["name"] for s in saved["skills"]]


def test_languages_followed_while_a_save_is_uncommitted_keep_what_it_saved(
    admins: Admins, db: Database
) -> None:
    """The brand takes Chinese while another admin's policy save is not committed yet: the
    languages are followed from the policy read after that save, which is kept."""
    saving = _save(db, admins.slug, {"max_concurrent": 5, "languages": ["en", "ru"]})
    with saving as first, db.uow() as other:
        admin = other.session.get_one(User, admins.second.id)
        ctx = tenancy.access_brand(other.session, admins.slug, admin, "brand.manage")
        before = list(ctx.brand.locales)

        def step() -> None:
            locales = ["en", "ru", "zh-Hans"]
            tenancy.update_brand(other, ctx, name=None, settings={}, locales=locales)
            service.follow_brand_languages(other, ctx, before, utcnow())
            other.commit()

        assert _waits(step, first.commit) is None
    saved = admins.get()
    assert saved["max_concurrent"] == 5
    assert saved["languages"] == ["en", "ru", "zh-Hans"]


# ------------------------------------------------------------------------------------------
# A community escalation waits for the policy before its first write
# ------------------------------------------------------------------------------------------


def test_an_escalation_waits_for_a_rename_before_it_writes(
    client: TestClient, world: World, db: Database
) -> None:
    """The escalation claims the question (a write) and writes a ticket by the policy. It
    now waits for a rename holding the policy before the claim: on PostgreSQL it held the
    question's row while it waited (a deadlock as soon as the rename touched it). Here the
    question's row is free while it waits, and its ticket takes the renamed skill."""
    f = Forum(client, world, db)
    qid = f.ask()
    with db.transaction() as uow:
        uow.session.execute(
            text("UPDATE community_posts SET created_at = :t WHERE id = :id"),
            {"t": utcnow() - timedelta(days=3), "id": qid},
        )
    r = client.get(f"/api/v1/brands/{f.slug}/policy", headers=f.admin.auth)
    first_skill = r.json()["skills"][0]["name"]
    with db.uow() as renaming, db.uow() as escalating:
        ctx = tenancy.access_brand(renaming.session, f.slug, None)
        service.rename_skill(renaming, ctx, first_skill, "Everyday", utcnow())  # uncommitted
        asker = escalating.session.get_one(User, f.asker.id)
        at = tenancy.access_brand(escalating.session, f.slug, asker)
        question = escalating.session.get_one(PostRow, qid)

        def escalate() -> None:
            community.escalate(escalating, at, question, utcnow())
            escalating.commit()

        held: list[str] = []

        def row_is_free_then_commit() -> None:
            if not db.is_sqlite:  # SQLite: one writer anyway, nothing to lock row by row
                with db.uow() as probe:
                    try:
                        probe.session.execute(
                            select(PostRow.id).where(PostRow.id == qid).with_for_update(nowait=True)
                        )
                    except DBAPIError as error:  # lock_not_available: the claim is written
                        held.append(str(error.orig))
            renaming.commit()

        assert _waits(escalate, row_is_free_then_commit) is None
        assert held == []
    with db.uow() as check:
        skills = check.session.scalars(
            select(TicketRow.skill).where(TicketRow.question_id == qid)
        ).all()
    assert skills == ["Everyday"]
