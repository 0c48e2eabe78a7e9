"""Whole numbers typed by people: what forms, query strings and headers may mean by a number.

``str.isdigit()`` is true for '²', '٣' or '①', which ``int()`` then refuses (or, for Arabic
digits, reads): a check with it before ``int()`` turned such input into a 500. This is the
one reading of a typed number."""

from __future__ import annotations

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
