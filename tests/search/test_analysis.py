"""Text analysis: each language, script folding, and hostile input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crowdcx.search.analysis import (
    analyze,
    analyze_query,
    cjk_tokens,
    fold_chinese,
    highlight,
    normalize,
)


def _shares_token(query: str, document: str) -> bool:
    return bool(set(analyze_query(query).words) & set(analyze(document).words))


def test_english_is_stemmed_and_case_folded() -> None:
    assert analyze("Cancelling my ORDERS").words == ("cancel", "my", "order")


def test_russian_word_in_any_case_and_form_finds_the_same_stem() -> None:
    forms = ["заказ", "ЗАКАЗ", "Заказы", "заказом", "ЗаКаЗа"]
    stems = {analyze(f).words for f in forms}
    assert stems == {("заказ",)}


def test_russian_yo_is_folded_to_ye() -> None:
    assert analyze("Ёлка").words == analyze("елка").words


def test_chinese_becomes_unigrams_and_bigrams() -> None:
    assert cjk_tokens("退款") == ["退", "款", "退款"]
    assert analyze("如何退款").words == ("如", "何", "退", "款", "如何", "何退", "退款")


def test_traditional_query_finds_simplified_document() -> None:
    assert _shares_token("訂單退款", "如何申请订单退款")
    assert analyze("訂單").words == analyze("订单").words


def test_simplified_query_finds_traditional_document() -> None:
    assert _shares_token("订单", "請問我的訂單在哪裡")


def test_taiwan_words_fold_to_the_mainlands() -> None:
    """Taiwan vocabulary differs in words, not only glyphs: folded phrase by phrase (OpenCC
    tw2sp), a Taiwan word finds the mainland word in either direction."""
    for taiwan, mainland in [
        ("網路連不上", "网络连接"),
        ("簡訊", "短信"),
        ("登入", "登录"),
        ("軟體", "软件"),
        ("行動電話", "手机"),
        ("程式", "程序"),
    ]:
        word = mainland[:2]
        assert word in analyze_query(taiwan).words, taiwan
        assert word in analyze(f"{taiwan}。").words, taiwan
        assert _shares_token(mainland, f"請問{taiwan}怎麼辦"), mainland


def test_simplified_text_keeps_its_mainland_words() -> None:
    """Read as Taiwan text, mainland words would change (程序 → 进程, 建立 → 创建, 文件 →
    文档) and part from the Taiwan words that mean them (程式 → 程序)."""
    text = "建立新的程序文件，然后重新连接网络"
    assert fold_chinese(text) == text
    assert "程序" in analyze("我的程序打不开").words
    assert _shares_token("程序", "應用程式無法啟動")


def test_mixed_language_text_is_analysed_word_by_word() -> None:
    words = analyze("iPhone заказы 退款").words
    assert "iphon" in words
    assert "заказ" in words
    assert "退款" in words


def test_full_width_characters_are_normalised() -> None:
    assert analyze("ＡＢＣ１２３").words == ("abc123",)


def test_grams_are_trigrams_of_non_han_words() -> None:
    analysed = analyze("order 退款", grams=True)
    assert analysed.grams == ("ord", "rde", "der")


def test_query_tokens_are_unique() -> None:
    assert analyze_query("card card CARD").words == ("card",)


def test_language_is_detected() -> None:
    assert analyze("Где мой заказ?").language == "ru"
    assert analyze("我的订单在哪里").language == "zh-Hans"
    assert analyze("我的訂單在哪裡").language == "zh-Hant"
    assert analyze("Where is my order?").language == "en"


HOSTILE = [
    "",
    " ",
    '"',
    '"unterminated',
    "* ( NEAR AND - : OR NOT ^ {title}:",
    "'; DROP TABLE search_document; --",
    "\ud800 lone surrogate \udfff",
    "😀👍🏽🇨🇳",
    "\x00\x01\x1f",
    "a" * 10_000,
    "退" * 5_000,
    "NEAR(a b, 5)",
    "title:foo OR body:bar",
    "_under_score_",
]


def test_hostile_inputs_never_raise_and_keep_tokens_alphanumeric() -> None:
    for text in HOSTILE:
        analysed = analyze_query(text, grams=True, jieba_words=True)
        for token in analysed.words + analysed.grams:
            assert token.isalnum(), (text, token)


def test_sql_and_search_syntax_become_plain_words() -> None:
    assert analyze_query("'; DROP TABLE x; --").words == ("drop", "tabl", "x")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_analyses_to_alphanumeric_tokens(text: str) -> None:
    analysed = analyze(text, grams=True)
    assert all(token and token.isalnum() for token in analysed.words + analysed.grams)
    assert isinstance(normalize(text), str)


@settings(max_examples=200, deadline=None)
@given(st.text(), st.lists(st.text(min_size=1, max_size=5), max_size=5))
def test_highlight_never_raises_and_spans_are_inside_the_snippet(
    text: str, terms: list[str]
) -> None:
    snippet = highlight(text, terms, width=40)
    assert len(snippet.text) <= max(40, 0) or len(text) <= 40
    for start, end in snippet.spans:
        assert 0 <= start < end <= len(snippet.text)


def test_highlight_marks_the_original_text() -> None:
    terms = analyze_query("cancel orders").words
    assert highlight("Cancelling my ORDERS now", terms).marked() == (
        "<mark>Cancelling</mark> my <mark>ORDERS</mark> now"
    )


def test_highlight_marks_traditional_text_for_a_simplified_query() -> None:
    terms = analyze_query("取消订单").words
    assert highlight("請問如何取消訂單？", terms).marked("[", "]") == "請問如何[取消訂單]？"


def test_a_chinese_snippet_marks_the_words_it_shares_not_every_character() -> None:
    """Seen in the zh-Hant ask walk: a sentence-long question marked 的, 上, 直 and 新 all
    over a suggestion. Where the text shares pairs of characters (words) with the query,
    only those are marked; a one-character query still marks its character."""
    terms = analyze_query("我的耳機一直無法連接藍牙，重新開機也沒用").words
    text = (
        "将耳机放回充电盒，长按盒上按钮 10 秒，直到指示灯闪烁白色。"
        "在手机的蓝牙设置中删除旧的配对记录。"
    )
    marked = highlight(text, terms).marked("[", "]")
    assert "[耳机]" in marked
    assert "[蓝牙]" in marked
    assert "[的]" not in marked
    assert "[上]" not in marked
    assert "[直]" not in marked
    assert highlight("請問書在哪裡", analyze_query("书").words).marked("[", "]") == "請問[書]在哪裡"


def test_highlight_picks_the_window_with_the_match() -> None:
    text = "filler " * 100 + "refund policy" + " filler" * 100
    snippet = highlight(text, analyze_query("refund").words, width=60)
    assert "refund" in snippet.text
    assert snippet.marked().count("<mark>") == 1


def test_highlight_window_does_not_cut_words() -> None:
    """Seen in the Russian e2e walk: snippets began "тане телефон…" (from "Казахстане")."""
    text = (
        "Если вы в Казахстане телефон видит сеть, звонки идут, а интернета нет. "
        "Включите передачу данных в роуминге в настройках телефона и проверьте услугу. "
    ) * 3
    for width in range(40, 120, 7):
        snippet = highlight(text, analyze_query("интернет").words, width=width)
        start = text.index(snippet.text)
        end = start + len(snippet.text)
        assert start == 0 or text[start - 1].isspace(), snippet.text
        assert end == len(text) or text[end].isspace() or text[end - 1].isspace(), snippet.text
        assert "интернет" in snippet.marked()
