"""Numbers typed by people: what forms, query strings and headers may mean by a number.

``str.isdigit()`` is true for '²', '٣' or '①', which ``int()`` then refuses (or, for Arabic
digits, reads): a check with it before ``int()`` turned such input into a 500. This is the
one reading of a typed number."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

MAX_ID: Final = 2**63 - 1  # the largest value a BIGINT column holds


def ascii_int(text: object, *, limit: int | None = MAX_ID) -> int | None:
    """The non-negative integer ``text`` spells in ASCII digits (surrounding spaces allowed),
    or None — for other scripts' digits, signs, decimals, empty text, and values past
    ``limit`` (None: no limit)."""
    s = str(text if text is not None else "").strip()
    if not s or not s.isascii() or not s.isdigit():
        return None
    value = int(s)
    return value if limit is None or value <= limit else None


# What NFKC makes of the full-width digits (U+FF10–FF19) a CJK input method types in
# full-width mode. Only these: NFKC would also read the superscript in "10²" as a digit (102).
_FULL_WIDTH_DIGITS: Final = {0xFF10 + d: ord("0") + d for d in range(10)}


def typed_int(text: object, *, limit: int | None = MAX_ID) -> int | None:
    """:func:`ascii_int` for a number a person typed into a form: full-width digits ("４２")
    and the ideographic space around them are read as their ASCII forms first. Ids in paths
    and query strings keep to :func:`ascii_int`."""
    s = str(text if text is not None else "").translate(_FULL_WIDTH_DIGITS)
    return ascii_int(s, limit=limit)


@dataclass(frozen=True, slots=True)
class NumberStyle:
    """How a reader writes a decimal number: its decimal mark and its thousands separator
    ("1 234,5" in Russian, "1,234.5" in English and Chinese). ``kernel.i18n.number_style``
    gives the current reader's."""

    decimal: str = "."
    group: str = ","


# Spaces a thousands separator may be typed or pasted as (NFKC makes the no-break ones " ").
_SPACES: Final = frozenset(" \u00a0\u202f\u2009")
_MAX_DIGITS: Final = 18  # on each side of the mark: more is a typo, not an amount


def typed_decimal(text: object, style: NumberStyle) -> Decimal | None:
    """The non-negative decimal number ``text`` spells in ``style``, exactly as typed, or None.

    Full-width digits and marks are read as ASCII (NFKC). Thousands separators are allowed
    only between groups of three digits, so "12,50" is not read as 1250 by an English reader
    (it is refused). Where the decimal mark is not "." (Russian "12,5"), "12.5" is read as
    well: a dot there separates no thousands. No signs, exponents, NaN or infinity."""
    s = unicodedata.normalize("NFKC", str(text if text is not None else "")).strip()
    group = style.group
    if group in _SPACES:
        s = "".join(" " if ch in _SPACES else ch for ch in s)
        group = " "
    marks = {style.decimal} | ({"."} if group != "." else set())
    whole, mark, fraction = s, "", ""
    for i in range(len(s) - 1, -1, -1):
        if s[i] in marks:
            whole, mark, fraction = s[:i], s[i], s[i + 1 :]
            break
    if mark and not fraction:
        return None
    parts = whole.split(group) if group in whole else [whole]
    if len(parts) > 1 and (not 1 <= len(parts[0]) <= 3 or any(len(p) != 3 for p in parts[1:])):
        return None
    digits = "".join(parts)
    for run in (digits, fraction):
        if run and (not run.isascii() or not run.isdigit() or len(run) > _MAX_DIGITS):
            return None
    if not digits:
        return None
    return Decimal(f"{digits}.{fraction}" if fraction else digits)


def decimal_text(value: Decimal, style: NumberStyle, *, grouping: bool = False) -> str:
    """``value`` written in ``style`` with exactly its own digits ("1.10" stays "1,10" in
    Russian; an exponent is written out), so :func:`typed_decimal` reads it back equal."""
    text = format(value, "f")
    sign = "-" if text.startswith("-") else ""
    whole, _dot, fraction = text.lstrip("-").partition(".")
    if grouping and len(whole) > 3:
        head = len(whole) % 3 or 3
        whole = style.group.join(
            [whole[:head], *(whole[i : i + 3] for i in range(head, len(whole), 3))]
        )
    return f"{sign}{whole}{style.decimal}{fraction}" if fraction else f"{sign}{whole}"
