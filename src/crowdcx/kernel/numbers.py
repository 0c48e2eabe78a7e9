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
