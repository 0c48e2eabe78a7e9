"""Pure rules for accounts: what makes a password acceptable, and how sign-in failures back off.

Messages are returned as codes with parameters; the shell translates them for the reader.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

MIN_PASSWORD_CHARS: Final = 10
MAX_PASSWORD_CHARS: Final = 256
FREE_FAILURES: Final = 5
BASE_LOCK_SECONDS: Final = 30
MAX_LOCK_SECONDS: Final = 15 * 60

# The most common leaked passwords of ten or more characters (SecLists top lists); any
# password that is one of these, ignoring case, is refused.
COMMON_PASSWORDS: Final = frozenset(
    {
        "1234567890",
        "0123456789",
        "12345678910",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "qwertyuiop",
        "password12",
        "password123",
        "password1234",
        "iloveyou12",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "1234qwerty",
        "abc1234567",
        "abcd123456",
        "a123456789",
        "aa12345678",
        "1111111111",
        "0000000000",
        "123123123123",
        "football123",
        "baseball123",
        "welcome123",
        "sunshine123",
        "princess123",
        "dragon1234",
        "monkey1234",
        "letmein123",
        "trustno1234",
        "zaq12wsxcde",
        "passw0rd123",
        "administrator",
        "changeme123",
        "woaini1314",
        "woaini520520",
        "5201314520",
        "1314520520",
        "qazwsxedcrfv",
        "asdfghjkl123",
        "zxcvbnm123",
        "йцукенгшщз",
        "пароль1234",
        "пароль12345",
        "crowdcx123",
        "crowdcx1234",
    }
)


@dataclass(frozen=True, slots=True)
class PasswordProblem:
    code: str
    limit: int = 0


def password_problems(
    password: str, email: str = "", display_name: str = ""
) -> list[PasswordProblem]:
    """Why a new password is too weak, as data; an empty list means it is acceptable."""
    text = unicodedata.normalize("NFKC", password)
    problems: list[PasswordProblem] = []
    if len(text) < MIN_PASSWORD_CHARS:
        problems.append(PasswordProblem("password_too_short", MIN_PASSWORD_CHARS))
    if len(text) > MAX_PASSWORD_CHARS:
        problems.append(PasswordProblem("password_too_long", MAX_PASSWORD_CHARS))
    folded = text.casefold()
    if folded in COMMON_PASSWORDS:
        problems.append(PasswordProblem("password_common"))
    if text and len(set(folded)) <= 2:
        problems.append(PasswordProblem("password_repetitive"))
    local = email.split("@", 1)[0].casefold()
    if len(local) >= 4 and local in folded:
        problems.append(PasswordProblem("password_contains_email"))
    name = display_name.strip().casefold()
    if len(name) >= 4 and name in folded:
        problems.append(PasswordProblem("password_contains_name"))
    return problems


@dataclass(frozen=True, slots=True)
class Throttle:
    failures: int
    locked_until: datetime | None


def after_failure(previous: Throttle, now: datetime) -> Throttle:
    """Record one more failed sign-in. The first five are free; then each failure locks the
    address for 30 s, doubling up to 15 minutes."""
    failures = previous.failures + 1
    if failures < FREE_FAILURES:
        return Throttle(failures, None)
    seconds = min(BASE_LOCK_SECONDS * 2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS)
    return Throttle(failures, now + timedelta(seconds=seconds))


def locked_for(throttle: Throttle, now: datetime) -> int:
    """Whole seconds until the address may try again (0 when it may try now)."""
    if throttle.locked_until is None or throttle.locked_until <= now:
        return 0
    return max(1, int((throttle.locked_until - now).total_seconds() + 0.999))


def normalize_email(email: str) -> str:
    """E-mail addresses compare case-insensitively in practice; store them folded."""
    return unicodedata.normalize("NFKC", email).strip().lower()
