"""``crowdcx clean-names``: names and addresses stored before the cleaning (zero-width and
bidi characters, full-width ＠, upper case) are cleaned as sign-up cleans them now; an
address that would fold onto another account's is reported and left."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.tenancy.models import Brand
from tests.conftest import PASSWORD, World


def test_clean_names_cleans_what_was_stored_before_the_cleaning(
    client: TestClient, world: World, db: Database, database_url: str
) -> None:
    from crowdcx.cli import app as cli

    slug = world.brand()
    alice, bob, twin, ghost = (world.person() for _ in range(4))
    with db.transaction() as uow:  # as an earlier release stored them
        s = uow.session
        s.execute(update(User).where(User.id == alice.id).values(
            display_name="Али\u200bна\u202e", email="ＡＬＩＮＡ＠Example.com"))  # fmt: skip
        s.execute(update(User).where(User.id == bob.id).values(display_name="  王\u00ad伟  "))
        # twin's address folds onto bob's: two accounts of one person, left for an operator.
        s.execute(update(User).where(User.id == twin.id).values(email=bob.email.upper()))
        s.execute(update(User).where(User.id == ghost.id).values(display_name="\u200b\u2063"))
        s.execute(update(Brand).where(Brand.slug == slug).values(name="Volga\u200b Telecom"))
    out = CliRunner().invoke(cli, ["clean-names"], env={"CROWDCX_DATABASE_URL": database_url})
    assert out.exit_code == 0, out.output
    assert "2 names and 1 e-mail addresses of people cleaned, 1 brand" in out.output
    assert f"User {twin.id}: the cleaned address is already user {bob.id}'s" in out.output
    assert f"User {ghost.id}: nothing visible" in out.output
    with db.sessions() as s:
        people = {u.id: u for u in s.scalars(select(User))}
        brand_name = s.scalar(select(Brand.name).where(Brand.slug == slug))
    assert (people[alice.id].display_name, people[alice.id].email) == (
        "Алина",
        "alina@example.com",
    )
    assert people[bob.id].display_name == "王伟"
    assert people[twin.id].email == bob.email.upper()  # left as it was
    assert brand_name == "Volga Telecom"
    # The cleaned address signs in as it is typed now, full-width or not.
    page = client.get("/login")
    assert page.status_code == 200
    token = client.cookies.get("crowdcx_csrf")
    r = client.post(
        "/login",
        data={"csrf_token": token, "email": "alina＠example.com", "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    again = CliRunner().invoke(cli, ["clean-names"], env={"CROWDCX_DATABASE_URL": database_url})
    assert "0 names and 0 e-mail addresses of people cleaned, 0 brand" in again.output
