"""Notifications: written in the transaction of the event that causes them, shown in-app, and
mailed as one digest per user and period (rules: notifications/rules.py) over SMTP.

The text is rendered from ``kind`` + ``params`` in the reader's language at display or mail
time; unknown kinds fall back to a generic line rather than failing."""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crowdcx.identity.models import User
from crowdcx.kernel.db import append_rows
from crowdcx.kernel.i18n import _, format_money, ngettext, use_locale
from crowdcx.kernel.money import Money
from crowdcx.notifications import rules
from crowdcx.notifications.models import NotificationRow
from crowdcx.privacy.rules import DELETED_NAME
from crowdcx.tenancy.models import Brand

log = logging.getLogger(__name__)


def notify(
    session: Session, brand_id: int, user_ids: Iterable[int], kind: str, params: dict[str, Any],
    url: str, now: datetime, *, skip: int | None = None,
) -> int:  # fmt: skip
    """Add one notification per recipient (``skip`` is the actor: nobody is told of their own
    action). Returns how many were written."""
    rows = [
        {"brand_id": brand_id, "user_id": uid, "kind": kind, "params": params,
         "url": url[:300], "created_at": now}
        for uid in sorted(set(user_ids)) if uid != skip
    ]  # fmt: skip
    append_rows(session, NotificationRow, rows)
    return len(rows)


def badge_names() -> dict[str, str]:
    return {
        "first_question": _("First question"),
        "first_answer": _("First answer"),
        "first_accepted": _("First accepted answer"),
        "brand_approved": _("Brand-approved answer"),
        "helpful_10": _("Ten upvotes received"),
        "accepted_10": _("Ten accepted answers"),
        "polyglot_3": _("Helped in three languages"),
        "brand_approved_10": _("Ten brand-approved answers"),
        "first_ticket": _("First resolved ticket"),
        "accepted_100": _("A hundred accepted answers"),
        "reputation_10000": _("10,000 reputation"),
    }


def flag_reason_label(code: str) -> str:
    """A flag's reason (``spam``, ``rude``, ``off_topic``, ``other``) in the reader's language."""
    labels = {"spam": _("Spam"), "rude": _("Rude or abusive"), "off_topic": _("Off topic"),
              "other": _("Something else")}  # fmt: skip
    return labels.get(code, code)


def _shown_amount(stored: str) -> str:
    """A stored "6.00 RUB" as the reader writes money ("6,00 ₽"); anything else as stored."""
    amount, _sep, currency = stored.partition(" ")
    try:
        return format_money(Money.from_decimal(amount, currency))
    except (ArithmeticError, ValueError):
        return stored


def text(row: NotificationRow) -> str:
    p = row.params or {}
    title = str(p.get("title", ""))[:120]
    if row.kind == "answer":
        name = p.get("name", "")
        if name == DELETED_NAME:  # the answerer's account was erased since
            name = _(DELETED_NAME)
        return _("%(name)s answered your question “%(title)s”.") % {
            "name": name, "title": title}  # fmt: skip
    if row.kind == "accepted":
        return _("Your answer to “%(title)s” was accepted.") % {"title": title}
    if row.kind == "approved":
        return _("The brand approved your answer to “%(title)s”.") % {"title": title}
    if row.kind == "upvoted":
        if p.get("answer"):  # named by its question's title, so said as the answer to it
            return _("Your answer to “%(title)s” was upvoted.") % {"title": title}
        if p.get("question"):  # notices from before 2026-12-07 say neither: "your post"
            return _("Your question “%(title)s” was upvoted.") % {"title": title}
        return _("Your post “%(title)s” was upvoted.") % {"title": title}
    if row.kind == "badge":
        code = str(p.get("code", ""))
        return _("You earned the badge “%(badge)s”.") % {"badge": badge_names().get(code, code)}
    if row.kind == "level":
        return _("You reached level %(level)s.") % {"level": p.get("level", "")}
    # An answer is named as the author's answer to its question (the title is the question's).
    answer = bool(p.get("answer"))
    if row.kind == "hidden":
        hidden = {"title": title, "flags": p.get("flags", ""), "days": p.get("appeal_days", "")}
        if p.get("moderator"):  # a moderator's decision, not members' flags
            days = {"title": title, "days": hidden["days"]}
            if answer:
                return (
                    _(
                        "A moderator hid your answer to “%(title)s”. You can edit it or appeal "
                        "within %(days)s days."
                    )
                    % days
                )
            return (
                _(
                    "A moderator hid your post “%(title)s”. You can edit it or appeal within "
                    "%(days)s days."
                )
                % days
            )
        if answer:
            return (
                _(
                    "Your answer to “%(title)s” was hidden automatically because %(flags)s trusted "
                    "members flagged it. You can edit it or appeal within %(days)s days."
                )
                % hidden
            )
        return (
            _(
                "Your post “%(title)s” was hidden automatically because %(flags)s trusted members "
                "flagged it. You can edit it or appeal within %(days)s days."
            )
            % hidden
        )
    if row.kind == "restored":
        if answer:
            return _("A moderator restored your answer to “%(title)s”.") % {"title": title}
        return _("A moderator restored your post “%(title)s”.") % {"title": title}
    if row.kind == "upheld":
        if answer:
            return _(
                "A moderator reviewed your appeal; your answer to “%(title)s” stays hidden."
            ) % {"title": title}
        return _("A moderator reviewed your appeal; “%(title)s” stays hidden.") % {"title": title}
    if row.kind == "comment_hidden":
        if p.get("automatic"):
            return _(
                "Your comment on “%(title)s” was hidden automatically because %(flags)s trusted "
                "members flagged it (%(reason)s). A moderator will review it."
            ) % {"title": title, "flags": p.get("flags", ""),
                 "reason": flag_reason_label(str(p.get("reason", "other")))}  # fmt: skip
        if p.get("note"):
            return _("A moderator hid your comment on “%(title)s”: %(note)s") % {
                "title": title, "note": str(p.get("note", ""))[:500]}  # fmt: skip
        return _("A moderator hid your comment on “%(title)s”.") % {"title": title}
    if row.kind == "comment_restored":
        return _("A moderator restored your comment on “%(title)s”.") % {"title": title}
    if row.kind == "followed":
        return _("New question in what you follow: “%(title)s”.") % {"title": title}
    if row.kind == "membership":
        return _("Your application to “%(name)s” was accepted.") % {"name": p.get("name", "")}
    if row.kind == "escalated":
        if p.get("staff"):  # the case was already past its target: straight to staff
            return _("Nobody solved “%(title)s” in time, so the brand's staff are on it now.") % {
                "title": title}  # fmt: skip
        return _("Nobody solved “%(title)s” in time, so an expert is on it now.") % {
            "title": title}  # fmt: skip
    if row.kind == "ticket_resolved":
        return _("Your ticket “%(subject)s” was resolved. Please rate the help.") % {
            "subject": title}  # fmt: skip
    if row.kind == "ticket_reopened":
        return _("The customer reopened “%(subject)s”: it is back with you.") % {"subject": title}
    if row.kind == "ticket_reply":
        return _("There is a new reply on your ticket “%(subject)s”.") % {"subject": title}
    if row.kind == "paid":  # stored as "6.00 RUB", shown as the reader writes money
        return _("%(brand)s paid you %(amount)s (reference: %(reference)s).") % {
            "brand": p.get("brand", ""), "amount": _shown_amount(str(p.get("amount", ""))),
            "reference": str(p.get("reference", ""))[:60]}  # fmt: skip
    if row.kind == "quality_review":
        if p.get("passed"):
            return _(
                "Staff reviewed your work on ticket #%(ticket)s: %(score)s of 100, passed."
            ) % {"ticket": p.get("ticket", ""), "score": p.get("score", "")}
        return _(
            "Staff reviewed your work on ticket #%(ticket)s: %(score)s of 100, below the pass "
            "mark. Read their feedback."
        ) % {"ticket": p.get("ticket", ""), "score": p.get("score", "")}
    if row.kind == "invited":
        return _("%(brand)s invites you to apply as a paid expert.") % {
            "brand": p.get("brand", "")}  # fmt: skip
    return _("Something happened in the community.")


def recent(session: Session, brand_id: int, user_id: int, limit: int = 50) -> list[NotificationRow]:
    return list(
        session.scalars(
            select(NotificationRow)
            .where(NotificationRow.brand_id == brand_id, NotificationRow.user_id == user_id)
            .order_by(NotificationRow.created_at.desc(), NotificationRow.id.desc())
            .limit(limit)
        )
    )


def has_unread(session: Session, brand_id: int, user_id: int, kind: str, url: str) -> bool:
    """Whether ``user_id`` still has an unread notification of ``kind`` about ``url`` (news of
    the same thing need not pile up before they read the first)."""
    found = session.scalar(
        select(NotificationRow.id)
        .where(
            NotificationRow.brand_id == brand_id,
            NotificationRow.user_id == user_id,
            NotificationRow.read_at.is_(None),
            NotificationRow.kind == kind,
            NotificationRow.url == url[:300],
        )
        .limit(1)
    )
    return found is not None


def unread_count(session: Session, brand_id: int, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(NotificationRow.id)).where(
                NotificationRow.brand_id == brand_id,
                NotificationRow.user_id == user_id,
                NotificationRow.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(session: Session, brand_id: int, user_id: int, now: datetime) -> None:
    session.execute(
        update(NotificationRow)
        .where(
            NotificationRow.brand_id == brand_id,
            NotificationRow.user_id == user_id,
            NotificationRow.read_at.is_(None),
        )
        .values(read_at=now)
    )


# --- e-mail digest --------------------------------------------------------------------------

Sender = Callable[[EmailMessage], None]


def mail_from(value: str) -> Address:
    """The sender of every mail, from ``CROWDCX_MAIL_FROM``: ``Name <address>`` (the name may
    hold commas, semicolons, any script; quotes around it are optional) or a bare address.
    Built as an :class:`~email.headerregistry.Address`, so the From header quotes or encodes
    the name: written as typed, "Support, Acme <help@acme.test>" read as two addresses, and
    the envelope sender smtplib takes from the first was "Support". A value that is no
    address is refused here (ValueError), before any mail fails for it."""
    text = value.strip()
    name, spec = "", text
    if text.endswith(">") and "<" in text:
        cut = text.rindex("<")
        name, spec = text[:cut].strip(), text[cut + 1 : -1].strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
    try:
        address = Address(display_name=name, addr_spec=spec)
        if not (address.username and address.domain):
            raise ValueError("no user or domain")
        if not address.domain.isascii():
            # help@пример.рф as help@xn--e1afmkfd.xn--p1ai: a server without SMTPUTF8 refuses a
            # non-ASCII sender, and that refusal would fail every person's digest.
            ascii_domain = address.domain.encode("idna").decode("ascii")
            address = Address(name, address.username, ascii_domain)
    except (ValueError, IndexError, HeaderParseError):
        raise ValueError(
            f"CROWDCX_MAIL_FROM must look like Name <address@example.com>, not {value!r}"
        ) from None
    return address


def deliverable(address: str) -> str:
    """``address`` with its domain in ASCII (IDNA) when that is all that is not ASCII:
    ivan@почта.рф as ivan@xn--80a1acny.xn--p1ai reaches servers without SMTPUTF8. Anything
    else is given back as it is (a mailbox in another script needs SMTPUTF8 anyway)."""
    local, at, domain = address.rpartition("@")
    if not at or not local.isascii() or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def smtp_sender(url: str, sender_address: str = "") -> Sender:
    """``smtp://[user:password@]host[:port]`` (STARTTLS when the server offers it) or
    ``smtps://…`` (TLS from the start)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("CROWDCX_SMTP_URL must look like smtp://host:port or smtps://host:port")
    host, tls = parts.hostname, parts.scheme == "smtps"
    port = parts.port or (465 if tls else 25)
    sender = mail_from(sender_address or f"CrowdCX <no-reply@{host}>")

    def send(message: EmailMessage) -> None:
        if not message["From"]:
            message["From"] = sender
        client_cls = smtplib.SMTP_SSL if tls else smtplib.SMTP
        with client_cls(host, port, timeout=30) as client:
            if not tls and client.has_extn("starttls"):
                client.starttls()
            if parts.username:
                try:
                    client.login(parts.username, parts.password or "")
                except smtplib.SMTPNotSupportedError as exc:  # the server's, not one person's
                    raise smtplib.SMTPException(f"cannot sign in: {exc}") from exc
            client.send_message(message)

    return send


def _compose(user: User, rows: list[NotificationRow], brands: dict[int, str], more: int,
             base_url: str) -> EmailMessage:  # fmt: skip
    with use_locale(user.locale or "en"):
        message = EmailMessage()
        message["To"] = deliverable(user.email)
        total = len(rows) + more
        message["Subject"] = ngettext(
            "CrowdCX: %(n)s new notification", "CrowdCX: %(n)s new notifications", total
        ) % {"n": total}
        lines = [_("Hello %(name)s,") % {"name": user.display_name}, ""]
        for row in rows:
            brand = brands.get(row.brand_id)
            prefix = f"[{brand}] " if brand else ""
            link = f" {base_url.rstrip('/')}{row.url}" if row.url else ""
            lines.append(f"• {prefix}{text(row)}{link}")
        if more:
            lines += ["", _("…and %(n)s more in the app.") % {"n": more}]
        lines += ["", _("You get at most one digest a day. Read everything in the app.")]
        message.set_content("\n".join(lines))
    return message


# What can go wrong with one person's mail and not the next one's: a message that cannot be
# built or encoded for their address (ValueError, UnicodeEncodeError), a mailbox the server
# refuses (SMTPRecipientsRefused), a message it rejects (SMTPDataError), a non-ASCII address
# on a server without SMTPUTF8 (SMTPNotSupportedError). Everything else — the server down or
# gone mid-conversation, a refused sign-in — ends the run.
PERSONAL_FAILURES: tuple[type[Exception], ...] = (
    ValueError,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
)


@dataclass(frozen=True, slots=True)
class DigestRun:
    sent: int = 0
    failed: tuple[int, ...] = ()  # the users whose digest could not be built or sent


def send_digests(
    session: Session, send: Sender, now: datetime, *, base_url: str = "http://127.0.0.1:8000",
    interval: timedelta = rules.DEFAULT_INTERVAL,
) -> int:  # fmt: skip
    """:func:`mail_digests`, answering the number of mails sent."""
    return mail_digests(session, send, now, base_url=base_url, interval=interval).sent


def mail_digests(
    session: Session, send: Sender, now: datetime, *, base_url: str = "http://127.0.0.1:8000",
    interval: timedelta = rules.DEFAULT_INTERVAL,
) -> DigestRun:  # fmt: skip
    """Mail every due user one digest of their unread, unmailed notifications.

    Each person's notifications are claimed (marked mailed, committed) before their mail goes
    out, by an UPDATE that only takes rows nobody marked yet: of two runs at once, only one
    mails a person. When the mail cannot be built or sent, the claim is undone (the
    notifications wait for the next run), the failure is logged, and the run goes on with the
    next person (see PERSONAL_FAILURES); any other error undoes the claim and ends the run.
    Commits as it goes; no transaction is open while the mail server is talked to."""
    pending = [
        rules.Pending(r.id, r.user_id, r.created_at)
        for r in session.execute(
            select(NotificationRow.id, NotificationRow.user_id, NotificationRow.created_at).where(
                NotificationRow.emailed_at.is_(None), NotificationRow.read_at.is_(None)
            )
        )
    ]
    if not pending:
        return DigestRun()
    last: dict[int, datetime] = {
        uid: at
        for uid, at in session.execute(
            select(NotificationRow.user_id, func.max(NotificationRow.emailed_at))
            .where(NotificationRow.emailed_at.is_not(None))
            .group_by(NotificationRow.user_id)
        ).all()
        if at is not None
    }
    sent = 0
    failed: list[int] = []
    brands: dict[int, str] = dict(session.execute(select(Brand.id, Brand.name)).all())
    for digest in rules.digests_due(pending, last, now, interval):
        user = session.get(User, digest.user_id)
        if user is None or not user.is_active:
            continue
        rows = list(
            session.scalars(
                select(NotificationRow)
                .where(NotificationRow.id.in_(digest.shown_ids))
                .order_by(NotificationRow.created_at.desc(), NotificationRow.id.desc())
            )
        )
        try:
            message = _compose(user, rows, brands, digest.more, base_url)
        except ValueError as exc:
            log.warning("digest for user %s not sent: the message cannot be built: %s",
                        user.id, exc)  # fmt: skip
            failed.append(user.id)
            continue
        if not _claim(session, digest.notification_ids, now):
            continue  # another run is mailing this person
        try:
            send(message)
        except PERSONAL_FAILURES as exc:
            _release(session, digest.notification_ids)
            log.warning("digest for user %s not sent: %r", user.id, exc)
            failed.append(user.id)
            continue
        except BaseException:
            _release(session, digest.notification_ids)
            raise
        sent += 1
    return DigestRun(sent, tuple(failed))


def _claim(session: Session, ids: tuple[int, ...], now: datetime) -> bool:
    """Mark these notifications mailed, all or none, and commit; False (nothing changed) when
    another run marked any of them first."""
    claimed = session.execute(
        update(NotificationRow)
        .where(NotificationRow.id.in_(ids), NotificationRow.emailed_at.is_(None))
        .values(emailed_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != len(ids):  # type: ignore[attr-defined]
        session.rollback()
        return False
    session.commit()
    return True


def _release(session: Session, ids: tuple[int, ...]) -> None:
    """Undo a claim whose mail did not go out: the notifications wait for the next run."""
    session.execute(
        update(NotificationRow)
        .where(NotificationRow.id.in_(ids))
        .values(emailed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
