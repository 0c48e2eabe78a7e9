"""Use cases for accounts: register, authenticate with back-off, issue and resolve tokens.

Each takes an open :class:`UnitOfWork`; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crowdcx.identity import rules
from crowdcx.identity.models import EMAIL_COLUMN_LENGTH, AuthToken, LoginThrottle, User
from crowdcx.identity.passwords import dummy_hash, hash_password, hasher, verify_password
from crowdcx.kernel.db import UnitOfWork
from crowdcx.kernel.errors import AppError, conflict, invalid, not_found
from crowdcx.kernel.i18n import _
from crowdcx.kernel.language import LOCALES, normalize_locale
from crowdcx.kernel.text import visible
from crowdcx.privacy.rules import DELETED_NAME


def password_message(problem: rules.PasswordProblem) -> str:
    messages = {
        "password_too_short": _("Use at least %(n)d characters for the password.")
        % {"n": problem.limit},
        "password_too_long": _("Use at most %(n)d characters for the password.")
        % {"n": problem.limit},
        "password_common": _("This password is one of the most commonly used; choose another."),
        "password_repetitive": _("The password repeats too few characters; mix more of them."),
        "password_contains_email": _("The password must not contain your e-mail address."),
        "password_contains_name": _("The password must not contain your name."),
    }
    return messages[problem.code]


def check_password(password: str, email: str, display_name: str) -> None:
    problems = rules.password_problems(password, email, display_name)
    if problems:
        error = invalid("password", password_message(problems[0]), problems[0].code)
        error.errors = [
            {"field": "password", "code": p.code, "message": password_message(p)} for p in problems
        ]
        raise error


def clean_email(raw: str) -> str:
    """The address as stored and looked up, or the 422 ``invalid_email``: the one way every
    door (sign-up form and API, members added by e-mail, the command line) reads a typed
    address. Full-width "＠" and "．" and the ideographic "。" of a Chinese input method are
    folded first (:func:`rules.normalize_email`), then the address is checked."""
    email = rules.normalize_email(raw)
    check_email(email)
    return email


def check_email(email: str) -> None:
    """Refuse an address no mail can go to: whitespace or control characters (a line break
    would end the header of every mail to it), no single @, a domain without a dot, … The
    check is email-validator's without the DNS look-up; addresses in any script (用户@例子.广告,
    почта@пример.рф) are accepted. Normalise first: :func:`clean_email` does both."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise invalid(
            "email", _("Enter a valid e-mail address, like name@example.com."), "invalid_email"
        ) from None


def check_display_name(value: str) -> str:
    """The name as stored (:func:`rules.clean_display_name`), or a field error: a name of
    zero-width or other invisible characters would show as a blank next to every post."""
    name = rules.clean_display_name(value)
    problem = rules.display_name_problem(value, name)
    if problem == "required":
        raise invalid("display_name", _("Enter the name other people will see."), "required")
    if problem == "blank_name":
        message = _("This name has no visible characters; enter the name other people will see.")
        raise invalid("display_name", message, "blank_name")
    if problem == "too_long":
        message = _("Use at most %(n)d characters for your name.") % {"n": rules.MAX_DISPLAY_NAME}
        raise invalid("display_name", message, "too_long")
    if name.casefold() == DELETED_NAME.casefold():  # it would pass for an erased account
        message = _("This name marks deleted accounts; choose another.")
        raise invalid("display_name", message, "name_reserved")
    return name


def check_locale(value: str, field: str = "locale") -> str:
    locale = normalize_locale(value)
    if locale is None:
        raise invalid(
            field,
            _("Unknown language %(value)s; choose one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(LOCALES)},
            "locale_unknown",
        )
    return locale


def register(
    uow: UnitOfWork,
    *,
    email: str,
    password: str,
    display_name: str,
    locale: str,
    hash_profile: str = "default",
    platform_admin: bool = False,
) -> User:
    email = clean_email(email)
    display_name = check_display_name(display_name)
    locale = check_locale(locale)
    check_password(password, email, display_name)
    session = uow.session
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise _email_taken()
    user = User(
        email=email,
        password_hash=hash_password(password, hash_profile),
        display_name=display_name,
        locale=locale,
        is_platform_admin=platform_admin,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # a concurrent registration with the same address won the race
        session.rollback()
        raise _email_taken() from None
    return user


def registration_problems(
    *, email: str, password: str, display_name: str, locale: str
) -> dict[str, str]:
    """Every field's problem at once (field → message in the reader's language), so that a
    person fixes the form in one go: :func:`register` stops at the first."""
    problems: dict[str, str] = {}

    def attempt(field: str, check: Callable[[], str | None]) -> str | None:
        try:
            return check()
        except AppError as error:
            problems.setdefault(error.field or field, error.detail)
            return None

    name = attempt("display_name", lambda: check_display_name(display_name))
    clean = attempt("email", lambda: clean_email(email))
    attempt("locale", lambda: check_locale(locale))
    attempt("password", lambda: check_password(password, clean or email, name or display_name))
    return problems


def _email_taken() -> AppError:
    error = conflict(
        "email_taken",
        _("An account with this e-mail address already exists. Sign in instead."),
    )
    error.field = "email"
    return error


@dataclass(frozen=True)
class SignIn:
    user: User | None
    retry_after: int = 0  # seconds, when the address is locked


def authenticate(
    uow: UnitOfWork, email: str, password: str, now: datetime, hash_profile: str = "default"
) -> SignIn:
    """Check a password. Records failures for back-off; never says whether the address exists.

    Each attempt is counted *before* the (slow) password check, in a short transaction of
    its own, as if it will fail — the lock it would set included. Read-then-write after the
    check let twenty parallel guesses all be checked while one failure was recorded (found
    in review); now the sixth of a burst finds the lock. A success clears the record."""
    key = rules.normalize_email(email)
    if len(key) > EMAIL_COLUMN_LENGTH:
        # No account has such an address, and the back-off's key column could not hold it
        # (PostgreSQL refused the row: a 500). NFKC can lengthen a 320-character address.
        return SignIn(None)
    wait, wait_if_wrong = _reserve_attempt(uow.session, key, now)
    if wait:
        return SignIn(None, wait)
    session = uow.session
    user = session.scalar(select(User).where(User.email == key))
    stored = user.password_hash if user is not None else dummy_hash(hash_profile)
    if verify_password(stored, password, hash_profile) and user is not None and user.is_active:
        session.execute(delete(LoginThrottle).where(LoginThrottle.email == key))
        if hash_profile == "default" and _needs_rehash(stored):
            user.password_hash = hash_password(password, hash_profile)
        return SignIn(user)
    return SignIn(None, wait_if_wrong)  # counted (and locked if due) by the reservation


def _reserve_attempt(session: Session, key: str, now: datetime) -> tuple[int, int]:
    """Count one sign-in attempt for ``key`` as a failure, unless the address is locked:
    then count nothing. Returns (seconds to wait now, seconds to wait if this attempt turns
    out wrong). Committed at once on its own
    connection (SQLite: its own short write; PostgreSQL: the row lock orders the attempts),
    so no lock is held during the password check."""
    bind = session.get_bind()
    # A session bound to one connection (an outer transaction) counts inside it instead.
    scope = bind.begin() if isinstance(bind, Engine) else nullcontext(session.connection())
    with scope as conn:
        conn.execute(_throttle_upsert(bind.dialect.name), {"email": key, "at": now})
        failures, locked_until = conn.execute(
            select(LoginThrottle.failures, LoginThrottle.locked_until).where(
                LoginThrottle.email == key
            )
        ).one()
        if locked_until is not None and locked_until.tzinfo is None:
            locked_until = locked_until.replace(tzinfo=UTC)
        before = rules.Throttle(int(failures) - 1, locked_until)
        wait = rules.locked_for(before, now)
        if wait:
            values: dict[str, Any] = {"failures": LoginThrottle.failures - 1}
            wait_if_wrong = wait
        else:
            after = rules.after_failure(before, now)
            values = {"locked_until": after.locked_until, "last_failure_at": now}
            wait_if_wrong = rules.locked_for(after, now)
        conn.execute(update(LoginThrottle).where(LoginThrottle.email == key).values(**values))
    return wait, wait_if_wrong


@cache
def _throttle_upsert(dialect: str) -> Any:
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert_(LoginThrottle).values(
        email=bindparam("email"), failures=1, last_failure_at=bindparam("at"), locked_until=None
    )
    return stmt.on_conflict_do_update(
        index_elements=["email"], set_={"failures": LoginThrottle.failures + 1}
    )


def _needs_rehash(stored: str) -> bool:
    return hasher("default").check_needs_rehash(stored)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(
    uow: UnitOfWork, user: User, kind: str, lifetime: timedelta, now: datetime, name: str = ""
) -> tuple[str, AuthToken]:
    raw = ("cxs_" if kind == "session" else "cxa_") + secrets.token_urlsafe(32)
    token = AuthToken(
        user_id=user.id,
        kind=kind,
        token_hash=token_digest(raw),
        name=name,
        expires_at=now + lifetime,
        created_at=now,
    )
    uow.session.add(token)
    uow.session.flush()
    return raw, token


def user_for_token(session: Session, raw: str, kind: str, now: datetime) -> User | None:
    if not raw or len(raw) > 200:
        return None
    user: User | None = session.scalar(
        _user_for_token(), {"digest": token_digest(raw), "kind": kind, "now": now}
    )
    return user


@cache
def _user_for_token() -> Any:
    """Built once: every signed-in request runs it, and building a statement (and its cache
    key) costs more than running it on SQLite."""
    return (
        select(User)
        .join(AuthToken, AuthToken.user_id == User.id)
        .where(
            AuthToken.token_hash == bindparam("digest"),
            AuthToken.kind == bindparam("kind"),
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > bindparam("now"),
            User.is_active.is_(True),
        )
    )


def revoke_token(uow: UnitOfWork, raw: str, now: datetime) -> None:
    token = uow.session.scalar(select(AuthToken).where(AuthToken.token_hash == token_digest(raw)))
    if token is not None and token.revoked_at is None:
        token.revoked_at = now


def api_tokens(session: Session, user: User, now: datetime) -> list[AuthToken]:
    return list(
        session.scalars(
            select(AuthToken)
            .where(
                AuthToken.user_id == user.id,
                AuthToken.kind == "api",
                AuthToken.revoked_at.is_(None),
                AuthToken.expires_at > now,
            )
            .order_by(AuthToken.id.desc())
        )
    )


def revoke_api_token(uow: UnitOfWork, user: User, token_id: int, now: datetime) -> None:
    token = uow.session.get(AuthToken, token_id)
    if token is None or token.user_id != user.id or token.kind != "api":
        raise not_found(_("This API token does not exist."), "token_not_found")
    token.revoked_at = now


def update_profile(
    uow: UnitOfWork, user: User, *, display_name: str | None = None, locale: str | None = None
) -> User:
    if display_name is not None:
        user.display_name = check_display_name(display_name)
    if locale is not None:
        user.locale = check_locale(locale)
    uow.session.flush()
    return user


@dataclass(frozen=True)
class PeopleCleaned:
    names: int  # display names cleaned
    emails: int  # addresses folded
    clashes: list[tuple[int, int]]  # (user, user already holding the folded address): left
    blank: list[int]  # users whose name has nothing visible: left for them to change


def clean_stored_people(session: Session) -> PeopleCleaned:
    """Once, after upgrading past the fifth session: names and addresses stored before the
    cleaning (zero-width and bidi characters in names, full-width ＠ or upper case in
    addresses) cleaned as sign-up cleans them now. An address whose folded form another
    account already holds is left as it is and reported (two accounts of one person: an
    operator merges or removes one); so is a name with nothing visible left."""
    names = emails = 0
    clashes: list[tuple[int, int]] = []
    blank: list[int] = []
    holders: dict[str, int] = dict(session.execute(select(User.email, User.id)).all())
    for user in session.scalars(select(User).order_by(User.id)):
        name = rules.clean_display_name(user.display_name)
        if name != user.display_name:
            if visible(name):
                user.display_name, names = name, names + 1
            else:
                blank.append(user.id)
        email = rules.normalize_email(user.email)
        if email != user.email:
            holder = holders.get(email)
            if holder is not None and holder != user.id:
                clashes.append((user.id, holder))
                continue
            holders.pop(user.email, None)
            user.email, holders[email], emails = email, user.id, emails + 1
            session.flush()
    return PeopleCleaned(names, emails, clashes, blank)
