"""Password and back-off rules, with plain data and generated inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
