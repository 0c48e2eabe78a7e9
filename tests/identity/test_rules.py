"""Password, back-off and display-name rules, with plain data and generated inputs."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.identity import rules

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def codes(password: str, email: str = "", name: str = "") -> set[str]:
    return {p.code for p in rules.password_problems(password, email, name)}


def test_short_common_and_repetitive_passwords_are_refused() -> None:
    assert "password_too_short" in codes("abc123")
    assert "password_common" in codes("Password123")
    assert "password_repetitive" in codes("aaaaaaaaaaaa")
    assert "password_contains_email" in codes("my-mailbox-alice-99", "alice@example.com")
    assert "password_contains_name" in codes("i am Vasily the great", name="Vasily")


def test_good_passwords_in_every_script_pass() -> None:
    for password in (
        "correct horse battery staple",
        "Мой пароль — лето 2026",
        "我的密码是春天的小河流水",
        "我的密碼是春天的小河流水",
    ):
        assert codes(password) == set(), password


def test_length_counts_characters_not_bytes() -> None:
    assert codes("春眠不觉晓处处闻啼鸟") == set()  # ten characters, thirty bytes


def test_five_failures_are_free_then_the_lock_doubles_up_to_fifteen_minutes() -> None:
    throttle = rules.Throttle(0, None)
    waits = []
    for _ in range(15):
        throttle = rules.after_failure(throttle, NOW)
        waits.append(rules.locked_for(throttle, NOW))
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:8] == [30, 60, 120, 240]
    assert max(waits) == 15 * 60
    assert rules.locked_for(throttle, NOW + timedelta(minutes=16)) == 0


@given(st.integers(min_value=0, max_value=60))
def test_the_lock_never_shrinks_as_failures_grow(failures: int) -> None:
    before = rules.after_failure(rules.Throttle(failures, None), NOW)
    after = rules.after_failure(rules.Throttle(failures + 1, None), NOW)
    assert rules.locked_for(after, NOW) >= rules.locked_for(before, NOW)
    assert rules.locked_for(after, NOW) <= rules.MAX_LOCK_SECONDS


@given(st.text(max_size=300))
def test_password_rules_never_raise(password: str) -> None:
    rules.password_problems(password, "someone@example.com", "Someone")


def test_email_is_folded() -> None:
    assert rules.normalize_email("  Alice@Example.COM ") == "alice@example.com"


def test_email_typed_with_chinese_punctuation_is_plain() -> None:
    assert rules.normalize_email("李\uff20例子\u3002广告") == "李@例子.广告"
    assert rules.normalize_email("a\u3002b@example\uff61com") == "a\u3002b@example.com"
    assert rules.normalize_email("no-at-sign\u3002com") == "no-at-sign\u3002com"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("  Алёна ", "Алёна"),
        ("Але\u0308на", "Алёна"),  # typed decomposed: stored composed
        ("\u200b李\u200b小龙\ufeff", "李小龙"),
        ("\u202eadmin\u202c", "admin"),  # a bidi override cannot flip the name on the page
        ("王\u3000\u3000小明", "王 小明"),
        ("Ann\nLee", "Ann Lee"),
        ("می\u200cخواهم", "می\u200cخواهم"),  # Persian needs its ZWNJ
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # one family emoji, not three people
        ("🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"),
        ("Ann\u200d Lee\u200d", "Ann Lee"),
        ("A\u200b\u0300", "\u00c0"),  # the mark sits on the A once the space between goes
        ("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
         "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"),
        ("Ann\U000e0067", "Ann"),
    ],
)  # fmt: skip
def test_display_names_are_stored_clean(raw: str, stored: str) -> None:
    assert rules.clean_display_name(raw) == stored
    assert rules.display_name_problem(raw, stored) is None


@pytest.mark.parametrize(
    "raw", ["\u200b", "\u200d\u200c", "\ufeff \u2060", "\u202e\u2066", "\u3164", "\u2800",
            "\u0301", "\ufe0f", "\U000e0067"],
)  # fmt: skip
def test_a_name_of_invisible_characters_is_no_name(raw: str) -> None:
    assert rules.display_name_problem(raw, rules.clean_display_name(raw)) == "blank_name"


def test_a_blank_or_long_name_is_refused() -> None:
    assert rules.display_name_problem(" \t", rules.clean_display_name(" \t")) == "required"
    long = "Я" * (rules.MAX_DISPLAY_NAME + 1)
    assert rules.display_name_problem(long, rules.clean_display_name(long)) == "too_long"
    fits = "Я" * rules.MAX_DISPLAY_NAME + "\u200b" * 10
    assert rules.display_name_problem(fits, rules.clean_display_name(fits)) is None


TRICKY = list("a Я李ក\u17b4\u200d\u200c👨🌈\ufe0f\u200b\u3164\n\u0301\U0001f3f4\U000e0067")


@given(st.text(max_size=120) | st.text(st.sampled_from(TRICKY), max_size=30))
def test_a_clean_name_is_stable_trimmed_and_free_of_stray_format_characters(raw: str) -> None:
    name = rules.clean_display_name(raw)
    assert rules.clean_display_name(name) == name
    assert name == name.strip()
    for i, ch in enumerate(name):
        if unicodedata.category(ch) == "Cf":
            assert ch in "\u200c\u200d" or 0xE0020 <= ord(ch) <= 0xE007F, (raw, name, i)
