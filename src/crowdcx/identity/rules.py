"""Pure rules for accounts: what makes a password acceptable, and how sign-in failures back off.

Messages are returned as codes with parameters; the shell translates them for the reader.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from crowdcx.kernel.text import BLANK_LETTERS, visible

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


# --- display names ----------------------------------------------------------------------------

MAX_DISPLAY_NAME: Final = 80  # the column's length

_JOINERS: Final = frozenset("\u200c\u200d")  # ZWNJ, ZWJ
# Scripts whose words need the joiners (Hebrew to Mongolian and the Indic and South-East
# Asian blocks, Arabic presentation forms, the supplementary Brahmic scripts).
_JOINING_SCRIPTS: Final = ((0x0590, 0x1CFF), (0xA800, 0xABFF), (0xFB1D, 0xFEFC),
                           (0x10800, 0x11FFF))  # fmt: skip
_TAGS: Final = (0xE0020, 0xE007F)  # emoji tag sequences: the flags of England, Scotland, Wales


def _tag(ch: str) -> bool:
    return _TAGS[0] <= ord(ch) <= _TAGS[1]


def _pictograph(ch: str) -> bool:
    return unicodedata.category(ch) in ("So", "Sk") or ch == "\ufe0f"


def _joining_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM" and any(
        lo <= ord(ch) <= hi for lo, hi in _JOINING_SCRIPTS
    )


def _keeps_joiner(before: str, after: str) -> bool:
    """A zero-width (non-)joiner inside an emoji sequence (👨‍👩‍👧) or a word of a script that
    shapes with it (Persian, the Indic scripts) is part of what people see."""
    if not before or not after:
        return False
    if _pictograph(before) and _pictograph(after):
        return True
    return _joining_letter(before) and _joining_letter(after)


def clean_display_name(value: str) -> str:
    """A display name as it is stored: composed (NFC); format characters (Unicode category Cf:
    zero-width spaces, the BOM, bidi controls, soft hyphens, …) and blank letters dropped,
    except joiners inside an emoji or a word that needs them and an emoji flag's tags; control
    characters and runs of whitespace made one space; trimmed. An empty result, or one
    with nothing a reader can see (:func:`visible`), is no name."""
    text = unicodedata.normalize("NFC", value)
    first: list[str] = []  # what stays whatever its neighbours; joiners and tags wait for them
    for ch in text:
        category = unicodedata.category(ch)
        if ch in _JOINERS or _tag(ch):
            first.append(ch)
        elif category == "Cf" or ch in BLANK_LETTERS:
            continue
        elif category in ("Cc", "Zl", "Zp"):
            first.append(" ")
        else:
            first.append(ch)
    kept: list[str] = []
    for i, ch in enumerate(first):
        if ch in _JOINERS:
            after = first[i + 1] if i + 1 < len(first) else ""
            if _keeps_joiner(kept[-1] if kept else "", after):
                kept.append(ch)
        elif _tag(ch):
            if kept and (kept[-1] == "\U0001f3f4" or _tag(kept[-1])):
                kept.append(ch)
        else:
            kept.append(ch)
    # Again: a mark that followed a dropped character now sits on the letter before it.
    return unicodedata.normalize("NFC", " ".join("".join(kept).split()))


DisplayNameProblem = Literal["required", "blank_name", "too_long"]


def display_name_problem(raw: str, cleaned: str) -> DisplayNameProblem | None:
    """Why a (cleaned) display name cannot be used: nothing typed, nothing visible, too long."""
    if not raw.strip():
        return "required"
    if not visible(cleaned):
        return "blank_name"
    if len(cleaned) > MAX_DISPLAY_NAME:
        return "too_long"
    return None


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
    """E-mail addresses compare case-insensitively in practice; store them folded. NFKC makes
    full-width characters (＠, ．) plain; the ideographic full stop a Chinese input method types
    for the dot ("。") is a dot in a domain name (IDNA says so), so it becomes one there."""
    folded = unicodedata.normalize("NFKC", email).strip().lower()
    local, at, domain = folded.rpartition("@")
    return local + at + domain.replace("\u3002", ".") if at else folded
