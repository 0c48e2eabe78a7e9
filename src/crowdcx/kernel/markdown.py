"""Markdown for user-written text (tickets, questions, answers, articles): rendered with
markdown-it-py (CommonMark; raw HTML off) and sanitised with nh3 (Ammonia), so a script tag
is shown as text or dropped, never stored live."""

from __future__ import annotations

import html as html_lib
import re
from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
        "a", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


# User text sits under the page's own headings (an article's title is the page's h1, its
# sections h2): "# Intro" and "## Steps" are shown as h3, "###" and below as h4. Stripping the
# h1/h2 tags instead left their text bare, run into the next heading ("StepsIntro").
HEADING_TAGS = {1: "h3", 2: "h3", 3: "h4", 4: "h4", 5: "h4", 6: "h4"}


def _heading(md: MarkdownIt) -> None:
    def shift(state: Any) -> None:
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = HEADING_TAGS[int(token.tag[1])]

    md.core.ruler.push("shift_headings", shift)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").use(_heading)


# Link labels are scanned for their closing bracket from every "[": text made of thousands of
# unclosed brackets took markdown-it 0.5-1.9 s to render (and a ticket page renders every
# message on every view). No message needs this many links; past it, the text is shown as
# typed, paragraph by paragraph, without Markdown.
MAX_BRACKETS = 1000


def _markdown_html(source: str) -> str:
    if source.count("[") <= MAX_BRACKETS:
        return str(_parser().render(source))
    paragraphs = (p.strip("\n") for p in source.replace("\r\n", "\n").split("\n\n"))
    return "".join(
        "<p>" + "<br>".join(html_lib.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p.strip()
    )


def render(source: str) -> str:
    """Safe HTML for ``source``; links get rel="nofollow noopener"."""
    html = _markdown_html(source)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


def plain_text(source: str) -> str:
    """The readable text of Markdown ``source`` (for search and snippets): no markup."""
    text = nh3.clean(_markdown_html(source), tags=set())
    return " ".join(html_lib.unescape(text).split())


def one_line_break(text: str) -> str:
    """``text`` with every line break as one LF. A browser's textarea sends CR LF (HTML's form
    encoding), so a length limit counted each line break twice, and old Mac text has a lone CR;
    counted and stored once, a text is as long as the person saw it."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def says_something(text: str, *, markdown: bool = False) -> bool:
    """Whether ``text`` shows a reader anything: a letter, digit, mark or symbol, not only
    spaces, zero-width or control characters (nor, for Markdown, only markup such as an
    empty link or a rule)."""
    import unicodedata

    shown = plain_text(text) if markdown else text
    return any(unicodedata.category(ch)[0] in "LNPS" for ch in shown)


# Chinese, Japanese and Korean characters: one says about what a short word does elsewhere
# (a Chinese text is about a third as many characters as its English or Russian translation).
_WIDE_SCRIPT = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)
WIDE_SCRIPT_WEIGHT = 3


def substance(text: str, *, markdown: bool = False) -> int:
    """How much ``text`` says, in the units of a minimum length that means the same in
    every language: each letter or digit counts 1 and each Chinese, Japanese or Korean
    character WIDE_SCRIPT_WEIGHT; spaces, punctuation, symbols, emoji, invisible characters
    (and, for Markdown, markup) count nothing. Above 0 exactly when the text has a letter or
    digit (says_something also takes punctuation and symbols)."""
    import unicodedata

    shown = plain_text(text) if markdown else text
    return sum(
        (WIDE_SCRIPT_WEIGHT if _WIDE_SCRIPT.match(ch) else 1)
        for ch in shown
        if unicodedata.category(ch)[0] in "LN"
    )
