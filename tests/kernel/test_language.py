from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.kernel.language import detect_language, negotiate, normalize_locale


def test_detects_the_four_languages_by_script() -> None:
    assert detect_language("我的订单什么时候发货？") == "zh-Hans"
    assert detect_language("我的訂單什麼時候發貨？") == "zh-Hant"
    assert detect_language("Когда придёт мой заказ?") == "ru"
    assert detect_language("When will my order ship?") == "en"
    assert detect_language("订单 12345 iPhone 没到") == "zh-Hans"


def test_locale_tags_in_common_spellings() -> None:
    assert normalize_locale("zh_TW") == "zh-Hant"
    assert normalize_locale("ZH-hans") == "zh-Hans"
    assert normalize_locale("ru-RU") == "ru"
    assert normalize_locale("fr") is None


def test_accept_language_negotiation() -> None:
    assert negotiate("zh-TW,zh;q=0.9,en;q=0.8") == "zh-Hant"
    assert negotiate("fr-FR, ru;q=0.5, en;q=0.4") == "ru"
    assert negotiate("fr, de") is None
    assert negotiate("en;q=0, ru") == "ru"


@given(st.text())
def test_detection_and_negotiation_never_raise(text: str) -> None:
    assert detect_language(text) in ("zh-Hans", "zh-Hant", "ru", "en")
    negotiate(text)
    normalize_locale(text)
