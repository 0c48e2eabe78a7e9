"""Numbers on pages are written as the reader writes them: money above all, since an amount
read with the wrong separators is an amount read wrong."""

from __future__ import annotations

from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.kernel.i18n import format_money, use_locale
from crowdcx.kernel.money import Money, minor_exponent
from crowdcx.web.templating import format_share, make_environment

NBSP = "\u00a0"


def shown(html: str, amount: Money) -> str:
    """``amount`` as the page ``html`` (by its ``<html lang>``) writes it, HTML-escaped."""
    lang = html.split('<html lang="', 1)[1].split('"', 1)[0]
    with use_locale(lang):
        return escape(format_money(amount))


@pytest.mark.parametrize(
    ("locale", "amount", "expected"),
    [
        ("en", Money(123450, "USD"), "$1,234.50"),
        ("ru", Money(123450, "RUB"), f"1{NBSP}234,50{NBSP}₽"),
        ("ru", Money(-250, "USD"), f"-2,50{NBSP}$"),
        ("zh-Hans", Money(600, "CNY"), "¥6.00"),
        ("zh-Hant", Money(600, "TWD"), "$6.00"),
        # ISO 4217's minor digits, not CLDR's: a yen has none, a dinar three.
        ("en", Money(1234, "JPY"), "¥1,234"),
        ("ru", Money(1234, "KWD"), f"1,234{NBSP}KWD"),
    ],
)
def test_money_is_written_in_the_readers_locale(locale: str, amount: Money, expected: str) -> None:
    with use_locale(locale):
        assert format_money(amount).replace("\u202f", NBSP) == expected


def test_templates_print_money_in_the_readers_locale() -> None:
    env = make_environment()
    page = env.from_string("{{ total }} | {{ minor|money('RUB') }}")
    with use_locale("ru"):
        text = page.render(total=Money(123450, "RUB"), minor=650).replace("\u202f", NBSP)
    assert text == f"1{NBSP}234,50{NBSP}₽ | 6,50{NBSP}₽"
    with use_locale("en"):
        assert page.render(total=Money(5, "USD"), minor=650) == "$0.05 | RUB6.50"


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from(["USD", "RUB", "CNY", "TWD", "JPY", "KWD", "CLF"]),
    st.sampled_from(["en", "ru", "zh-Hans", "zh-Hant"]),
)
def test_every_minor_unit_is_shown(minor: int, currency: str, locale: str) -> None:
    """No amount is rounded for display: the digits shown are exactly the minor units."""
    with use_locale(locale):
        text = format_money(Money(minor, currency))
    digits = "".join(ch for ch in text if ch.isdigit())
    assert int(digits) == abs(minor)
    if minor_exponent(currency):
        assert len(digits) > minor_exponent(currency)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("ru", f"6,50{NBSP}₽"), ("zh-Hans", "RUB6.50"), ("en", "RUB6.50")],
)
def test_a_payment_notice_writes_the_amount_as_its_reader_does(locale: str, expected: str) -> None:
    """The notice is stored once ("6.50 RUB") and read later in each reader's language."""
    from crowdcx.notifications import service as notes
    from crowdcx.notifications.models import NotificationRow

    row = NotificationRow(
        kind="paid", params={"brand": "Lumen", "amount": "6.50 RUB", "reference": "п/п 17"}
    )
    with use_locale(locale):
        assert expected in notes.text(row).replace("\u202f", NBSP)
    # A notice stored in an unexpected shape still reads, as stored.
    odd = NotificationRow(kind="paid", params={"brand": "L", "amount": "six", "reference": "x"})
    with use_locale(locale):
        assert "six" in notes.text(odd)


@pytest.mark.parametrize(
    ("locale", "sep"), [("zh-Hans", "、"), ("zh-Hant", "、"), ("ru", ", "), ("en", ", ")]
)
def test_lists_are_joined_as_the_reader_writes_them(locale: str, sep: str) -> None:
    """Chinese lists take the enumeration comma (CLDR's list pattern): "简体中文, English" read
    as foreign punctuation on the home page, article translations and moderation reasons."""
    template = make_environment().from_string(
        "{% for l in langs %}{{ l }}{% if not loop.last %}{{ list_sep() }}{% endif %}{% endfor %}"
    )
    with use_locale(locale):
        assert template.render(langs=["a", "b", "c"]) == sep.join(["a", "b", "c"])


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("zh-Hans", "1（很差）"), ("zh-Hant", "1（很差）"), ("ru", "1 (很差)"), ("en", "1 (很差)")],
)
def test_a_remark_in_brackets_is_written_as_the_reader_writes_it(locale: str, shown: str) -> None:
    """The rating labels read "1 (很差)" in Chinese: ASCII brackets after a space."""
    template = make_environment().from_string("1{{ label|aside }}")
    with use_locale(locale):
        assert template.render(label="很差") == shown


@pytest.mark.parametrize("locale", ["en", "ru", "zh-Hans", "zh-Hant"])
def test_a_share_that_rounds_to_nothing_has_no_sign(locale: str) -> None:
    """A flat brand's trend of −0.00003 a week read "每週 -0%" on the capacity page."""
    with use_locale(locale):
        assert "-" not in format_share(-0.00003)
        assert format_share(-0.00003) == format_share(0.0)
        assert "-" in format_share(-0.012)  # a real decline keeps its sign


@pytest.mark.parametrize(
    ("locale", "shown"), [("zh-Hans", "合计：12"), ("zh-Hant", "合计：12"), ("ru", "合计: 12")]
)
def test_a_label_and_its_value_are_joined_as_the_reader_writes_it(locale: str, shown: str) -> None:
    """Chinese pages wrote "合计: 12", an ASCII colon and a space, where Chinese writes "："."""
    template = make_environment().from_string("{{ label }}{{ label_sep() }}{{ value }}")
    with use_locale(locale):
        assert template.render(label="合计", value=12) == shown


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("en", "87.3%"), ("zh-Hans", "87.3%"), ("zh-Hant", "87.3%"), ("ru", "87,3\u00a0%")],
)
def test_a_share_is_written_with_the_readers_percent_sign(locale: str, shown: str) -> None:
    """Russian writes a (no-break) space before the percent sign; the share's fixed pattern
    dropped it ("87,3%")."""
    with use_locale(locale):
        assert format_share(0.873) == shown
        assert format_share(0.9) == shown.replace("87", "90").replace(".3", "").replace(",3", "")
