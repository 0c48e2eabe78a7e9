"""Text people type that must show something: what counts as visible. Pure (standard library).

Zero-width spaces, the byte-order mark, bidi controls and the like (Unicode category Cf), the
Hangul fillers and the blank braille pattern render as nothing: a name or a title made of them
reads as a blank on every page."""

from __future__ import annotations

import unicodedata
from typing import Final

# Letters that render as nothing (Hangul fillers, the blank braille pattern) and marks that
# show nothing on their own (combining grapheme joiner, Khmer inherent vowels).
BLANK_LETTERS: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5")
_UNSEEN: Final = frozenset({"Cc", "Cf", "Mn", "Me", "Zs", "Zl", "Zp"})


def visible(text: str) -> bool:
    """Whether a reader sees anything of ``text``: one character that is not whitespace, a
    format or control character, a blank letter or a mark with nothing to sit on."""
    return any(
        not ch.isspace() and unicodedata.category(ch) not in _UNSEEN and ch not in BLANK_LETTERS
        for ch in text
    )


def _edge(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") or ch in BLANK_LETTERS


def strip_invisible(text: str) -> str:
    """``text`` without whitespace and invisible characters at either end (a stray BOM or
    zero-width space left by a copy or a spreadsheet); what is between stays as it is."""
    start, end = 0, len(text)
    while start < end and _edge(text[start]):
        start += 1
    while end > start and _edge(text[end - 1]):
        end -= 1
    return text[start:end]
