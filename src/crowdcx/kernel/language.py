"""The four customer languages and how to tell them apart from text alone.

Pure functions. Locale codes are BCP 47 as the product shows them: ``zh-Hans``, ``zh-Hant``,
``ru``, ``en``. Detection is by script: Han characters mean Chinese (Traditional when folding
them to Simplified changes enough of them), Cyrillic means Russian, anything else English.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Final, Literal

Locale = Literal["zh-Hans", "zh-Hant", "ru", "en"]
LOCALES: Final[tuple[Locale, ...]] = ("zh-Hans", "zh-Hant", "ru", "en")
LOCALE_NAMES: Final[dict[str, str]] = {
    "zh-Hans": "中文（简体）",
    "zh-Hant": "中文（繁體）",
    "ru": "Русский",
    "en": "English",
}
DEFAULT_LOCALE: Final[Locale] = "en"

_ALIASES: Final[dict[str, Locale]] = {
    "zh": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh-hans": "zh-Hans",
    "zh-hans-cn": "zh-Hans",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-mo": "zh-Hant",
    "zh-hant": "zh-Hant",
    "zh-hant-tw": "zh-Hant",
    "ru": "ru",
    "ru-ru": "ru",
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
}


def normalize_locale(value: str) -> Locale | None:
    """Map a locale tag written any common way (``zh_TW``, ``ZH-hans``, ``ru-RU``) to ours."""
    key = value.strip().replace("_", "-").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    base = key.split("-", 1)[0]
    if base in ("ru", "en"):
        return _ALIASES[base]
    return None


def negotiate(accept_language: str, available: tuple[str, ...] = LOCALES) -> Locale | None:
    """Pick the best of ``available`` for an HTTP Accept-Language header, or None."""
    ranked: list[tuple[float, int, Locale]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        locale = normalize_locale(tag) if tag and tag != "*" else None
        if locale is not None and locale in available and quality > 0:
            ranked.append((-quality, index, locale))
    ranked.sort()
    return ranked[0][2] if ranked else None


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2FA1F
        or 0xF900 <= code <= 0xFAFF
    )


def _is_cyrillic(ch: str) -> bool:
    return 0x0400 <= ord(ch) <= 0x052F


@lru_cache(maxsize=1)
def _t2s() -> object:
    import opencc  # local import: the converter loads dictionaries once

    return opencc.OpenCC("t2s")


def han_is_traditional(text: str) -> bool:
    """True when folding to Simplified changes at least a tenth of the Han characters."""
    han = [ch for ch in text if _is_han(ch)]
    if not han:
        return False
    converted = _t2s().convert("".join(han))  # type: ignore[attr-defined]
    changed = sum(1 for a, b in zip(han, converted, strict=False) if a != b)
    return changed * 10 >= len(han) and changed > 0


def detect_language(text: str, default: Locale = "en") -> Locale:
    """Guess the writer's language from the script: Han → zh-Hans/zh-Hant, Cyrillic → ru,
    other letters → en; ``default`` (the writer's own language, when known) for a text with
    no letters at all (emoji, digits, punctuation)."""
    text = unicodedata.normalize("NFKC", text)
    han = cyr = latin = 0
    for ch in text:
        if _is_han(ch):
            han += 1
        elif _is_cyrillic(ch):
            cyr += 1
        elif ch.isalpha():
            latin += 1
    # A Han character carries about a word; weigh it against letters of alphabetic words.
    if han and han * 3 >= cyr + latin:
        return "zh-Hant" if han_is_traditional(text) else "zh-Hans"
    if cyr and cyr >= latin:
        return "ru"
    return "en" if latin else default
