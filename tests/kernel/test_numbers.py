"""Whole numbers typed by people (kernel.numbers.ascii_int)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.kernel.numbers import MAX_ID, ascii_int


def test_ascii_digits_only() -> None:
    assert ascii_int(" 42 ") == 42
    assert ascii_int(7) == 7
    for text in ("²", "٣", "①", "-1", "+1", "1.5", "", "  ", None, "4 2", "1e3"):
        assert ascii_int(text) is None, text
    assert ascii_int(str(MAX_ID)) == MAX_ID
    assert ascii_int(str(MAX_ID + 1)) is None
    assert ascii_int(str(MAX_ID + 1), limit=None) == MAX_ID + 1


@given(st.text())
def test_never_raises_and_round_trips(text: str) -> None:
    value = ascii_int(text)
    if value is not None:
        assert str(value) == text.strip().lstrip("0") or value == 0
