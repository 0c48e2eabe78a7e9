"""The e-mail digest run against a real SMTP server (aiosmtpd): one person's undeliverable
mail never stops the others', their notifications wait for the next run, and two runs at
once never mail anybody twice."""

from __future__ import annotations

import email
import email.policy
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from crowdcx.identity import service as identity
from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.notifications import service as notes
from crowdcx.notifications.models import NotificationRow
from crowdcx.tenancy.service import access_brand
from tests.conftest import PASSWORD, World


@dataclass
class Inbox:
    """What the server accepted, by recipient; ``refused`` mailboxes get a 550 at RCPT."""

    delivered: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    url: str = ""
    envelopes: list[tuple[str, bytes]] = field(default_factory=list)  # MAIL FROM, the message

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.delivered.extend(envelope.rcpt_tos)
        self.envelopes.append((envelope.mail_from, envelope.original_content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(*, smtputf8: bool = True) -> Iterator[Inbox]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


def _notify(db: Database, slug: str, user_ids: list[int]) -> None:
    with db.transaction() as uow:
        ctx = access_brand(uow.session, slug, None)
        notes.notify(uow.session, ctx.brand.id, user_ids, "accepted", {"title": "Роуминг"},
                     f"/b/{slug}/community", utcnow() - timedelta(hours=1))  # fmt: skip


def _store_address(db: Database, user_id: int, email: str) -> None:
    """An address as stored before sign-up checked them (the form only looked for an "@")."""
    with db.transaction() as uow:
        uow.session.execute(update(User).where(User.id == user_id).values(email=email))


def _register(db: Database, email: str) -> int:
    with db.transaction() as uow:
        user = identity.register(uow, email=email, password=PASSWORD, display_name="Ли",
                                 locale="ru", hash_profile="fast")  # fmt: skip
        return user.id


def _unmailed(db: Database, user_id: int) -> int:
    with db.sessions() as s:
        return int(
            s.scalar(
                select(func.count()).where(
                    NotificationRow.user_id == user_id, NotificationRow.emailed_at.is_(None)
                )
            )
            or 0
        )


def _run(db: Database, send: notes.Sender, now: datetime | None = None) -> notes.DigestRun:
    with db.sessions() as session:
        return notes.mail_digests(session, send, now or utcnow())


def test_an_address_no_message_can_hold_is_skipped_and_the_others_are_mailed(
    world: World, db: Database, inbox: Inbox
) -> None:
    """Composing the digest for an address with a line break raised ValueError (not OSError):
    the run stopped there, and everyone after it (by id) never got a digest again."""
    slug = world.brand()
    evil, victim = world.person("Evil"), world.person("Victim")
    assert evil.id < victim.id
    _store_address(db, evil.id, "evil@example.com\nbcc: all@example.com")
    _notify(db, slug, [evil.id, victim.id])
    run = _run(db, notes.smtp_sender(inbox.url))
    assert (run.sent, run.failed) == (1, (evil.id,))
    assert inbox.delivered == [victim.email]
    assert (_unmailed(db, evil.id), _unmailed(db, victim.id)) == (1, 0)


def test_a_refused_mailbox_is_retried_and_does_not_block_the_others(
    world: World, db: Database, inbox: Inbox
) -> None:
    """One bounced mailbox (550 at RCPT) ended every run before the people after it."""
    slug = world.brand()
    bad, good = world.person("Bounced"), world.person("Fine")
    assert bad.id < good.id
    inbox.refused.add(bad.email)
    _notify(db, slug, [bad.id, good.id])
    send = notes.smtp_sender(inbox.url)
    now = utcnow()
    for hour in range(2):  # two hourly cron runs
        run = _run(db, send, now + timedelta(hours=hour))
        assert run.failed == (bad.id,)
        assert (_unmailed(db, bad.id), _unmailed(db, good.id)) == (1, 0)
    assert inbox.delivered == [good.email]
    inbox.refused.clear()  # the mailbox exists again: the waiting digest goes out
    assert _run(db, send, now + timedelta(hours=2)) == notes.DigestRun(sent=1)
    assert inbox.delivered == [good.email, bad.email]
    assert _unmailed(db, bad.id) == 0


@pytest.mark.parametrize("smtputf8", [False, True])
def test_an_international_address_needs_a_server_that_takes_it(
    world: World, db: Database, smtputf8: bool
) -> None:
    """A server without SMTPUTF8 cannot take a non-ASCII address: that person waits, the
    others are mailed."""
    slug = world.brand()
    li = _register(db, "李雷@例子.广告")
    other = world.person("Other")
    _notify(db, slug, [li, other.id])
    with smtp_server(smtputf8=smtputf8) as server:
        run = _run(db, notes.smtp_sender(server.url))
    if smtputf8:
        assert run == notes.DigestRun(sent=2)
        assert sorted(server.delivered) == sorted(["李雷@例子.广告", other.email])
    else:
        assert (run.sent, run.failed) == (1, (li,))
        assert server.delivered == [other.email]
        assert _unmailed(db, li) == 1


def test_a_server_that_is_down_ends_the_run_and_marks_nobody(world: World, db: Database) -> None:
    slug = world.brand()
    a, b = world.person("A"), world.person("B")
    _notify(db, slug, [a.id, b.id])
    with pytest.raises(OSError):
        _run(db, notes.smtp_sender(f"smtp://127.0.0.1:{_free_port()}"))
    assert (_unmailed(db, a.id), _unmailed(db, b.id)) == (1, 1)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("Header values may not contain linefeed or carriage return characters"),
        UnicodeEncodeError("ascii", "李雷@例子.广告", 0, 1, "ordinal not in range(128)"),
        smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such mailbox")}),
        smtplib.SMTPDataError(554, b"Message refused"),
        smtplib.SMTPNotSupportedError("the server does not advertise SMTPUTF8"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_what_fails_for_one_person_skips_only_them(
    world: World, db: Database, error: Exception
) -> None:
    slug = world.brand()
    a, b = world.person("A"), world.person("B")
    _notify(db, slug, [a.id, b.id])
    mails: list[str] = []

    def send(message: EmailMessage) -> None:
        if message["To"] == a.email:
            raise error
        mails.append(str(message["To"]))

    assert _run(db, send) == notes.DigestRun(sent=1, failed=(a.id,))
    assert mails == [b.email]
    assert (_unmailed(db, a.id), _unmailed(db, b.id)) == (1, 0)


def test_losing_the_server_mid_run_ends_it_and_the_rest_wait(world: World, db: Database) -> None:
    slug = world.brand()
    a, b, c = world.person("A"), world.person("B"), world.person("C")
    _notify(db, slug, [a.id, b.id, c.id])

    def send(message: EmailMessage) -> None:
        if message["To"] == b.email:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    with pytest.raises(smtplib.SMTPServerDisconnected):
        _run(db, send)
    assert [_unmailed(db, p.id) for p in (a, b, c)] == [0, 1, 1]


def test_a_server_refusing_the_sign_in_ends_the_run(
    world: World, db: Database, inbox: Inbox
) -> None:
    """A setup problem is the server's, not each person's: no run of "everyone failed"."""
    slug = world.brand()
    a, b = world.person("A"), world.person("B")
    _notify(db, slug, [a.id, b.id])
    with pytest.raises(smtplib.SMTPException, match="cannot sign in"):
        _run(db, notes.smtp_sender(inbox.url.replace("//", "//user:secret@")))
    assert (_unmailed(db, a.id), _unmailed(db, b.id)) == (1, 1)


def test_a_run_starting_while_another_sends_does_not_mail_twice(world: World, db: Database) -> None:
    """Two overlapping runs (a slow server, cron every hour) each mailed everyone they had
    read as due. Here the second run starts and finishes during the first one's first send."""
    slug = world.brand()
    a, b = world.person("A"), world.person("B")
    _notify(db, slug, [a.id, b.id])
    mails: list[str] = []

    def second_run(message: EmailMessage) -> None:
        mails.append(str(message["To"]))

    def first_run(message: EmailMessage) -> None:
        if not mails:
            assert _run(db, second_run) == notes.DigestRun(sent=1)  # b; a is taken
        mails.append(str(message["To"]))

    assert _run(db, first_run) == notes.DigestRun(sent=1)  # a; b went out meanwhile
    assert sorted(mails) == sorted([a.email, b.email])


def test_simultaneous_runs_mail_each_person_once(world: World, db: Database) -> None:
    slug = world.brand()
    people = [world.person(f"P{i}") for i in range(6)]
    _notify(db, slug, [p.id for p in people])
    runs, barrier, lock = 4, threading.Barrier(4), threading.Lock()
    mails: list[str] = []
    sent: list[int] = []

    def slow(message: EmailMessage) -> None:
        time.sleep(0.02)
        with lock:
            mails.append(str(message["To"]))

    def one() -> None:
        barrier.wait()
        run = _run(db, slow)
        with lock:
            sent.append(run.sent)

    threads = [threading.Thread(target=one) for _ in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(sent) == runs
    assert sorted(mails) == sorted(p.email for p in people)
    assert sum(sent) == len(people)


def test_cli_reports_the_people_it_could_not_mail_in_one_line(
    world: World, db: Database, database_url: str, inbox: Inbox
) -> None:
    from crowdcx.cli import app as cli

    slug = world.brand()
    evil, victim = world.person("Evil"), world.person("Victim")
    _store_address(db, evil.id, "evil@example.com\nbcc: all@example.com")
    _notify(db, slug, [evil.id, victim.id])
    env = {"CROWDCX_DATABASE_URL": database_url, "CROWDCX_SMTP_URL": inbox.url}
    out = CliRunner().invoke(cli, ["send-digests"], env=env)
    assert out.exit_code == 1, out.output
    assert isinstance(out.exception, SystemExit), repr(out.exception)  # not a traceback
    assert "1 digests sent, 1 could not be sent" in out.output
    assert f"(user ids {evil.id})" in out.output
    assert "Traceback" not in out.output
    assert inbox.delivered == [victim.email]


@pytest.mark.parametrize(
    ("mail_from", "name", "address"),
    [
        ("Support, Acme <help@acme.test>", "Support, Acme", "help@acme.test"),
        ('"Support, Acme" <help@acme.test>', "Support, Acme", "help@acme.test"),
        ("Служба поддержки; МТС <help@acme.test>", "Служба поддержки; МТС", "help@acme.test"),
        ("客服中心 <help@acme.test>", "客服中心", "help@acme.test"),
        ("help@acme.test", "", "help@acme.test"),
    ],
)
def test_the_sender_name_reaches_the_inbox_as_written(
    world: World, db: Database, inbox: Inbox, mail_from: str, name: str, address: str
) -> None:
    """CROWDCX_MAIL_FROM="Support, Acme <help@acme.test>" went into the From header as typed:
    the comma made it two addresses, "Support" (no domain) and "Acme <help@acme.test>", and
    the envelope sender smtplib takes from the first one was "Support"."""
    slug = world.brand()
    person = world.person("Reader")
    _notify(db, slug, [person.id])
    assert _run(db, notes.smtp_sender(inbox.url, mail_from)) == notes.DigestRun(sent=1)
    ((envelope_from, raw),) = inbox.envelopes
    message = email.message_from_bytes(raw, policy=email.policy.default)
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (name, address)
    assert envelope_from == address


@pytest.mark.parametrize(
    "mail_from", ["Support <not an address>", "help@acme.test\nBcc: all@example.com", "a@b@c"]
)
def test_a_sender_no_mail_can_come_from_is_refused_before_sending(
    world: World, db: Database, database_url: str, inbox: Inbox, mail_from: str
) -> None:
    from crowdcx.cli import app as cli

    slug = world.brand()
    person = world.person("Reader")
    _notify(db, slug, [person.id])
    env = {"CROWDCX_DATABASE_URL": database_url, "CROWDCX_SMTP_URL": inbox.url,
           "CROWDCX_MAIL_FROM": mail_from}  # fmt: skip
    out = CliRunner().invoke(cli, ["send-digests"], env=env)
    assert out.exit_code == 2, out.output
    assert "CROWDCX_MAIL_FROM" in out.output
    assert "Traceback" not in out.output
    assert inbox.delivered == []
    assert _unmailed(db, person.id) == 1


def test_a_sender_on_an_international_domain_reaches_any_server(world: World, db: Database) -> None:
    """CROWDCX_MAIL_FROM on a Cyrillic or Chinese domain (help@пример.рф) made every digest
    need a server with SMTPUTF8: on any other each person's digest failed, every run. The
    domain has an ASCII spelling (IDNA) that every server takes."""
    slug = world.brand()
    person = world.person("Reader")
    _notify(db, slug, [person.id])
    with smtp_server(smtputf8=False) as server:
        run = _run(db, notes.smtp_sender(server.url, "Служба поддержки <help@пример.рф>"))
    assert run == notes.DigestRun(sent=1)
    ((envelope_from, raw),) = server.envelopes
    assert envelope_from == "help@xn--e1afmkfd.xn--p1ai"
    (sender,) = email.message_from_bytes(raw, policy=email.policy.default)["From"].addresses
    assert (sender.display_name, sender.domain) == ("Служба поддержки", "xn--e1afmkfd.xn--p1ai")


def test_an_ascii_mailbox_on_an_international_domain_reaches_any_server(
    world: World, db: Database
) -> None:
    """ivan@почта.рф waited forever for a server with SMTPUTF8, though only its domain is not
    ASCII and a domain has an ASCII spelling (IDNA). 李雷@例子.广告 still needs SMTPUTF8."""
    slug = world.brand()
    ivan = _register(db, "ivan@почта.рф")
    li = _register(db, "李雷@例子.广告")
    _notify(db, slug, [ivan, li])
    with smtp_server(smtputf8=False) as server:
        run = _run(db, notes.smtp_sender(server.url))
    assert (run.sent, run.failed) == (1, (li,))
    assert server.delivered == ["ivan@xn--80a1acny.xn--p1ai"]
    ((_from, raw),) = server.envelopes
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "ivan@xn--80a1acny.xn--p1ai"
