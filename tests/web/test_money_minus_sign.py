"""Which minus a negative amount is written with, for reading (CSV and the API keep "-"):
the locale's own, from CLDR. The walk-through asked for "−" (U+2212); CLDR's minusSign for
English, Russian and both Chinese is the hyphen-minus, so those keep "-", and a locale whose
CLDR minus is "−" (Swedish, Finnish, Norwegian) gets it — Babel's currency patterns alone
wrote "-" for every locale."""

from __future__ import annotations

import pytest
from babel.numbers import get_minus_sign_symbol

from crowdcx.kernel.i18n import format_money, use_locale
from crowdcx.kernel.money import Money

MINUSES = {"-", "\u2212"}


@pytest.mark.parametrize(
    ("locale", "minus"),
    [("en", "-"), ("ru", "-"), ("zh-Hans", "-"), ("zh-Hant", "-"),
     ("sv", "\u2212"), ("fi", "\u2212"), ("nb", "\u2212")],
)  # fmt: skip
def test_a_negative_amount_takes_the_locales_minus_sign(locale: str, minus: str) -> None:
    assert get_minus_sign_symbol(locale.replace("-", "_")) == minus  # CLDR's, as Babel has it
    with use_locale(locale):
        negative = format_money(Money(-123450, "EUR"))
        positive = format_money(Money(123450, "EUR"))
    assert minus in negative
    assert not (MINUSES - {minus}) & set(negative)  # never the other one as well
    assert negative.replace(minus, "", 1) == positive  # only the sign differs
    assert not MINUSES & set(positive)
