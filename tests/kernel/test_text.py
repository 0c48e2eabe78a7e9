"""What counts as visible text, with plain data and generated inputs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.kernel.text import strip_invisible, visible


@pytest.mark.parametrize(
    "text", ["", " ", "\u200b", "\ufeff\u200d", "\u202e\u2066", "\u3164", "\u2800", "\u0301"]
)
def test_blank_looking_text_is_not_visible(text: str) -> None:
    assert not visible(text)
    assert strip_invisible(text) == ("\u0301" if text == "\u0301" else "")


@pytest.mark.parametrize("text", ["a", "Я", "李", "👍", "\u200bx", "1"])
def test_text_with_something_to_see_is_visible(text: str) -> None:
    assert visible(text)


def test_only_the_ends_are_stripped() -> None:
    assert strip_invisible("\ufeff 如何\u200b退款？\u200b\n") == "如何\u200b退款？"


@given(st.text(max_size=60))
def test_stripping_keeps_what_is_visible(text: str) -> None:
    stripped = strip_invisible(text)
    assert visible(stripped) == visible(text)
    assert strip_invisible(stripped) == stripped
