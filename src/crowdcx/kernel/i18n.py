"""UI translations (Babel catalogs under ``crowdcx/translations``) and the request's locale.

English is the source language. Catalogs are read from the ``.po`` files at start-up (no
compile step to forget); the locale of the current request or command lives in a context
variable, so templates, validation messages and error details all speak the reader's language.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from copy import copy
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel.core import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_percent, get_minus_sign_symbol, parse_pattern
from babel.support import NullTranslations, Translations

from crowdcx.kernel.language import DEFAULT_LOCALE, LOCALES
from crowdcx.kernel.money import Money, minor_exponent
from crowdcx.kernel.numbers import NumberStyle

CATALOG_DIR = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("crowdcx_locale", default=DEFAULT_LOCALE)


def catalog_dirname(locale: str) -> str:
    """``zh-Hans`` → ``zh_Hans`` (the directory and Babel locale name)."""
    return locale.replace("-", "_")


def catalog_path(locale: str) -> Path:
    return CATALOG_DIR / catalog_dirname(locale) / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LOCALES))
def translations_for(locale: str) -> NullTranslations:
    path = catalog_path(locale)
    if locale == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=catalog_dirname(locale))
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def current_locale() -> str:
    return _current.get()


def format_money(amount: Money) -> str:
    """An amount as the current reader writes money: "1 234,50 ₽" in Russian, "¥1,234.50" in
    Simplified Chinese, "$1,234.50" in English; always with the currency's ISO 4217 minor
    digits (CLDR's cash digits differ for some currencies, and a ledger amount is exact).

    A negative amount takes the locale's own minus sign (CLDR's ``minusSign``, which Babel's
    patterns leave as the ASCII "-" they are written with): "−" (U+2212) where CLDR writes
    it, as in Swedish or Finnish, and the hyphen-minus in English, Russian and both Chinese,
    whose CLDR data write that — so the four languages of CrowdCX read "-1 234,50 ₽"."""
    locale = Locale.parse(current_locale().replace("-", "_"))
    pattern = copy(parse_pattern(locale.currency_formats["standard"]))
    digits = minor_exponent(amount.currency)
    pattern.frac_prec = (digits, digits)
    minus = get_minus_sign_symbol(locale)
    if minus != "-":
        pattern.prefix = (pattern.prefix[0], pattern.prefix[1].replace("-", minus))
        pattern.suffix = (pattern.suffix[0], pattern.suffix[1].replace("-", minus))
    return str(pattern.apply(amount.to_decimal(), locale, currency=amount.currency,
                             currency_digits=False))  # fmt: skip


def percent_text(share: float | Decimal, decimals: int = 1) -> str:
    """A share (0.873) as the current reader writes a percentage, with up to ``decimals``
    decimals, in the locale's own pattern: "87.3%", "87,3 %" in Russian (a no-break space
    before the sign, which a fixed "#,##0.#%" dropped)."""
    locale = Locale.parse(current_locale().replace("-", "_"))
    pattern = str(locale.percent_formats[None].pattern)
    if decimals > 0:
        pattern = pattern.replace("#,##0", "#,##0." + "#" * decimals, 1)
    return str(format_percent(share, pattern, locale=locale))


def list_separator() -> str:
    """What goes between the items of a list in the reader's language, from CLDR's list
    patterns: "、" in Chinese (a comma there reads as foreign), ", " in Russian and English."""
    middle = Locale.parse(current_locale().replace("-", "_")).list_patterns["standard"]["middle"]
    return str(middle).replace("{0}", "").replace("{1}", "")


def label_separator() -> str:
    """What follows a label before its value ("Total: 12"): the full-width colon in Chinese,
    with no space ("合计：12"; "合计: 12" reads as foreign punctuation), ": " otherwise."""
    return "：" if current_locale().startswith("zh") else ": "


def set_locale(locale: str) -> None:
    _current.set(locale)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations_for(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations_for(_current.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 — the gettext convention for "mark, translate later"
    """Mark a string for extraction without translating it now (translated at render)."""
    return message


def number_style() -> NumberStyle:
    """How the current reader writes decimal numbers (CLDR's Latin-digit symbols)."""
    symbols = Locale.parse(current_locale().replace("-", "_")).number_symbols["latn"]
    return NumberStyle(symbols["decimal"], symbols["group"])
