"""Whole numbers typed by people (kernel.numbers.ascii_int)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crowdcx.kernel.numbers import MAX_ID, ascii_int, typed_int


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


def test_typed_numbers_take_full_width_digits() -> None:
    """A Chinese or Japanese input method in full-width mode types "４" for 4: NFKC reads
    it as 4. Superscripts and circled digits stay refused: NFKC would read "10²" as 102."""
    assert typed_int("４") == 4
    assert typed_int("　１２　") == 12  # the ideographic space around it too
    assert typed_int("1０") == 10
    for text in ("²", "10²", "①", "٣", "－1", "１．５", "", None):
        assert typed_int(text) is None, text
    assert typed_int(str(MAX_ID + 1)) is None


@given(st.text())
def test_typed_int_reads_what_ascii_int_reads(text: str) -> None:
    if ascii_int(text) is not None:
        assert typed_int(text) == ascii_int(text)
