"""Rendering user Markdown: safe, and never the slow path a crafted message could force."""

from __future__ import annotations

import time

from crowdcx.kernel.markdown import MAX_BRACKETS, plain_text, render


def _cost(text: str) -> float:
    best = float("inf")
    for _ in range(5):  # the best of five: a loaded machine's pauses are not the renderer's
        start = time.perf_counter()
        render(text)
        best = min(best, time.perf_counter() - start)
    return best


def test_links_render_up_to_the_bracket_limit_and_show_as_typed_past_it() -> None:
    few = "См. [справку](https://help.example/a) и [FAQ](https://help.example/b)."
    assert render(few).count("<a ") == 2
    many = "[x](https://e.example) " + "[" * MAX_BRACKETS
    out = render(many)
    assert "<a " not in out
    assert out.count("[") == MAX_BRACKETS + 1
    assert plain_text("\\[ " * (MAX_BRACKETS + 1)).count("\\[") == MAX_BRACKETS + 1


def test_a_message_of_unclosed_brackets_costs_about_what_plain_text_does() -> None:
    """20,000 characters of unclosed brackets ("[" and newlines, "![["): markdown-it scanned
    for a closing bracket from each one, 0.5-1.9 s per render (and a ticket page renders
    every message on every view), some 30x a plain paragraph of the same length."""
    plain = _cost(("слово word 文字 " * 1500)[:20_000])
    for crafted in ("[\n" * 10_000, ("![[" * 7_000)[:20_000], "[" * 20_000):
        # The slow path took 0.5-1.9 s; the margin absorbs a shared machine's stalls (one
        # render of 36 ms against a 0.6 ms plain one failed at load 9).
        assert _cost(crafted) < 30 * plain + 0.1, (crafted[:6], _cost(crafted), plain)


def test_headings_of_every_level_stay_headings_under_the_page_s_own() -> None:
    """'# Intro' and '## Steps' were h1/h2, which the sanitiser strips: their text was left
    bare and ran into the next block ("StepsIntro")."""
    out = render("## 步骤\n# Intro\n### Detail\n###### Note\n\ntext")
    assert out.startswith("<h3>步骤</h3>\n<h3>Intro</h3>\n<h4>Detail</h4>\n<h4>Note</h4>")
    assert "<h1" not in out
    assert "<h2" not in out
    assert plain_text("## Steps\n# Intro") == "Steps Intro"
