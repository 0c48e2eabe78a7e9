"""Text analysis for search: one function turns any text into index/query tokens.

Pure functions (the dictionaries of jieba, OpenCC and Snowball load once, lazily, and are
cached). Nothing here raises on any ``str``: lone surrogates, emoji, control characters and
search-engine syntax (``" * ( NEAR AND - :``) are all just text.

Pipeline (the same for documents and queries, so either side finds the other):

1. lone surrogates → space; Unicode NFKC; case folding; ``ё`` → ``е``;
2. Chinese folded to Simplified mainland wording (:func:`fold_chinese`), so a zh-Hant query
   finds a zh-Hans document and the reverse, Taiwan vocabulary included (網路 → 网络,
   登入 → 登录, 簡訊 → 短信);
3. runs of Han characters → character unigrams + bigrams (the baselines' best Chinese method:
   script-robust, no dictionary); optionally plus jieba search-mode words;
4. other letter/digit runs → Snowball stems: Russian for words with Cyrillic letters,
   English for the rest (mixed-language text is handled word by word);
5. optionally, character trigrams of every non-Han word (``grams``): a second, typo-tolerant
   field the index may weight in (it is what makes FTS5 ``trigram`` good on noisy English).

Every token is made of letters and digits only (no ``_`` or punctuation), so a token passes
unchanged through SQLite's ``unicode61`` tokenizer and PostgreSQL's ``simple`` parser.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from crowdcx.kernel.language import Locale, detect_language

__all__ = [
    "AnalyzedText",
    "Snippet",
    "analyze",
    "analyze_query",
    "cjk_tokens",
    "detect_language",
    "fold_chinese",
    "function_tokens",
    "gram_count",
    "highlight",
    "normalize",
    "word_tokens",
]

_HAN_RANGES: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
# A Han run, or a run of other letters/digits (``_`` excluded so tokens stay alphanumeric).
_RUN_RE: Final = re.compile(rf"([{_HAN_RANGES}]+)|([^\W_{_HAN_RANGES}]+)")
_HAN_RE: Final = re.compile(rf"[{_HAN_RANGES}]")
_HAN_RUN_RE: Final = re.compile(rf"[{_HAN_RANGES}]+")
_CYRILLIC_RE: Final = re.compile(r"[\u0400-\u052f]")
_SURROGATE_RE: Final = re.compile(r"[\ud800-\udfff]")
# Longest word we stem or keep; longer runs (base64, hashes) are cut, not dropped.
_MAX_WORD: Final = 64


@dataclass(frozen=True, slots=True)
class AnalyzedText:
    """Tokens of one text: ``words`` (stems + Han uni/bigrams) and ``grams`` (trigrams)."""

    words: tuple[str, ...]
    grams: tuple[str, ...] = ()
    language: Locale = "en"
    # Queries only: each non-Han word's stem with the trigrams of the word as written, so a
    # typo's trigrams can be found from its stem ("chargs" → "charg", but "rgs" is a gram
    # of what was typed).
    stem_grams: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Queries only: the Han tokens that lie inside a Chinese function word of the query
    # ("怎么办", "如何", "为什么", "吗"): a brand that never wrote them has not missed them, so
    # they do not raise the out-of-scope bound (``SearchIndex.max_score``) when unseen.
    function_words: frozenset[str] = frozenset()

    def is_empty(self) -> bool:
        return not self.words and not self.grams


@lru_cache(maxsize=3)
def _opencc(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(language)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


# Taiwan words that OpenCC's phrase tables fold to a mainland word other than the usual one.
_MAINLAND_WORDS: Final = (("移动电话", "手机"),)


def fold_chinese(text: str) -> str:
    """Chinese folded to Simplified mainland wording; text without Han characters as is.

    Traditional-looking text (at least a tenth of its Han characters are written only in
    Traditional, the share :func:`~crowdcx.kernel.language.han_is_traditional` asks for)
    goes through OpenCC ``tw2sp``: Taiwan phrases become the mainland's (網路 → 网络,
    軟體 → 软件, 簡訊 → 短信).
    Simplified text is only folded character by character (``t2s``): ``tw2sp`` would read its
    mainland words as Taiwan ones (程序 → 进程, 建立 → 创建, 文件 → 文档) and part them from
    the Taiwan words that mean them (程式 → 程序). Text whose characters are the same in
    both scripts (登入, 滑鼠) cannot tell: it keeps itself and gains the mainland
    reading of each run that ``tw2sp`` changes, so it finds either.
    """
    if not _HAN_RE.search(text):
        return text
    try:
        traditional_only, simplified_only = _script_characters()
        changed = len(traditional_only.findall(text))
        if changed and changed * 10 >= sum(map(len, _HAN_RUN_RE.findall(text))):
            return _mainland_words(str(_opencc("tw2sp").convert(text)))
        if changed:
            return _mainland_words(str(_opencc("t2s").convert(text)))
        text = _mainland_words(text)
        if simplified_only.search(text):
            return text
        runs = set(_HAN_RUN_RE.findall(text))
        mainland = _mainland_words(str(_opencc("tw2sp").convert(text)))
        extra = [run for run in dict.fromkeys(_HAN_RUN_RE.findall(mainland)) if run not in runs]
        return " ".join((text, *extra)) if extra else text
    except Exception:  # the converter is C++; never let a conversion failure reach a search
        return text


@lru_cache(maxsize=1)
def _script_characters() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Character classes of the Han characters only Traditional text writes (those ``t2s``
    changes on their own) and of those only Simplified text writes (``s2t`` changes them);
    characters both change (variants) are in neither. Built once: converting text to find
    out costs more than the conversion itself (``s2t`` is the slowest of the converters)."""
    chars = [
        chr(c)
        for first, last in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))
        for c in range(first, last + 1)
    ]
    changed: dict[str, set[str]] = {}
    for config in ("t2s", "s2t"):
        out = str(_opencc(config).convert("\n".join(chars))).split("\n")
        changed[config] = {c for c, o in zip(chars, out, strict=True) if o != c}
    both = changed["t2s"] & changed["s2t"]
    return tuple(  # type: ignore[return-value]
        re.compile("[" + re.escape("".join(sorted(changed[config] - both))) + "]")
        for config in ("t2s", "s2t")
    )


@lru_cache(maxsize=1)
def _chinese_function_words() -> tuple[frozenset[str], int]:
    """stopwords-iso's Chinese list (Simplified; folded as queries are), Han entries only,
    and the longest entry's length."""
    import stopwordsiso

    words = frozenset(
        w for w in (fold_chinese(x.casefold()) for x in stopwordsiso.stopwords("zh"))
        if _HAN_RUN_RE.fullmatch(w)
    )  # fmt: skip
    return words, max(map(len, words), default=0)


def function_tokens(norm: str) -> frozenset[str]:
    """The Han unigrams and bigrams of :func:`normalize`-d text that lie inside a Chinese
    function word (the longest one starting at each character): 退款怎么办 gives 怎, 么, 办,
    怎么, 么办 — not 退, 款 or 款怎."""
    words, longest = _chinese_function_words()
    out: set[str] = set()
    for run in _HAN_RUN_RE.findall(norm):
        i = 0
        while i < len(run):
            size = next(
                (n for n in range(min(longest, len(run) - i), 0, -1) if run[i : i + n] in words),
                0,
            )
            if size:
                found = run[i : i + size]
                out.update(found)
                out.update(found[j : j + 2] for j in range(size - 1))
                i += size
            else:
                i += 1
    return frozenset(out)


def _mainland_words(text: str) -> str:
    for taiwan, mainland in _MAINLAND_WORDS:
        text = text.replace(taiwan, mainland)
    return text


def normalize(text: str) -> str:
    """NFKC, case folding, ё→е, Traditional→Simplified. Total: any ``str`` gives a ``str``."""
    if not isinstance(text, str):
        text = str(text)
    text = _SURROGATE_RE.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("ё", "е")
    return fold_chinese(text)


def cjk_tokens(run: str) -> list[str]:
    """Character unigrams and bigrams of one run of Han characters."""
    tokens = list(run)
    tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def _stem(word: str) -> str:
    word = word[:_MAX_WORD]
    language = "russian" if _CYRILLIC_RE.search(word) else "english"
    stem = str(_stemmer(language).stemWord(word))
    return stem or word


def _trigrams(word: str) -> list[str]:
    word = word[:_MAX_WORD]
    if len(word) <= 3:
        return [word]
    return [word[i : i + 3] for i in range(len(word) - 2)]


@lru_cache(maxsize=65_536)
def gram_count(text: str) -> int:
    """How many trigrams :func:`analyze` gives ``text`` with ``grams=True`` (the index
    stores a title's trigrams before its body's: this says where the title's end)."""
    try:
        norm = normalize(text)
        return sum(len(_trigrams(m.group(2))) for m in _RUN_RE.finditer(norm) if m.group(2))
    except Exception:
        return 0


def word_tokens(text: str, *, jieba_words: bool = False) -> list[str]:
    """Index tokens of already-:func:`normalize`-d text: stems + Han uni/bigrams."""
    tokens: list[str] = []
    for match in _RUN_RE.finditer(text):
        han, other = match.group(1), match.group(2)
        if han:
            if not han.isalnum():  # unassigned code points inside the Han blocks
                han = "".join(ch if ch.isalnum() else " " for ch in han)
                for part in han.split():
                    tokens.extend(cjk_tokens(part))
                continue
            tokens.extend(cjk_tokens(han))
            if jieba_words and len(han) > 2:
                tokens.extend(w for w in _jieba().lcut_for_search(han, HMM=True) if len(w) > 2)
        elif other:
            tokens.append(_stem(other))
    return tokens


def analyze(
    text: str,
    *,
    grams: bool = False,
    jieba_words: bool = False,
    language: Locale | None = None,
) -> AnalyzedText:
    """Analyse one document text (or a query) into tokens. Never raises on a ``str``."""
    return _analyze(text, grams, jieba_words, language, stem_grams=False)


def analyze_query(text: str, *, grams: bool = False, jieba_words: bool = False) -> AnalyzedText:
    """Like :func:`analyze`, with duplicate tokens removed (order of first use kept), and
    with ``stem_grams`` (each word's stem and the trigrams of the word as typed)."""
    analysed = _analyze(text, grams, jieba_words, None, stem_grams=True)
    words = tuple(dict.fromkeys(analysed.words))
    try:
        function = function_tokens(normalize(text)) & frozenset(words)
    except Exception:  # a search box must never error on what a user typed
        function = frozenset()
    return AnalyzedText(
        words,
        tuple(dict.fromkeys(analysed.grams)),
        analysed.language,
        analysed.stem_grams,
        function,
    )


def _analyze(
    text: str, grams: bool, jieba_words: bool, language: Locale | None, *, stem_grams: bool
) -> AnalyzedText:
    try:
        norm = normalize(text)
        lang = language or detect_language(_SURROGATE_RE.sub(" ", text))
        words = tuple(word_tokens(norm, jieba_words=jieba_words))
        trigram_tokens: list[str] = []
        by_stem: dict[str, tuple[str, ...]] = {}
        if grams:
            for match in _RUN_RE.finditer(norm):
                word = match.group(2)
                if word:
                    tris = _trigrams(word)
                    trigram_tokens.extend(tris)
                    if stem_grams:
                        stem = _stem(word)
                        by_stem[stem] = tuple(dict.fromkeys((*by_stem.get(stem, ()), *tris)))
    except Exception:  # last resort: a search box must never error on what a user typed
        return AnalyzedText((), (), language or "en")
    return AnalyzedText(words, tuple(trigram_tokens), lang, tuple(by_stem.items()))


# --- highlight / snippet -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snippet:
    """A window of the original text; ``spans`` are (start, end) offsets of matched terms."""

    text: str
    spans: tuple[tuple[int, int], ...]

    def marked(self, start_mark: str = "<mark>", end_mark: str = "</mark>") -> str:
        """The snippet with every span wrapped. The caller escapes HTML *before* marking."""
        out: list[str] = []
        pos = 0
        for start, end in self.spans:
            out.extend((self.text[pos:start], start_mark, self.text[start:end], end_mark))
            pos = end
        out.append(self.text[pos:])
        return "".join(out)


def _match_spans(
    text: str, terms: set[str], *, unigrams: bool = True
) -> tuple[list[tuple[int, int]], bool]:
    """Spans of ``text`` (original offsets) whose analysed tokens are in ``terms``, and
    whether any of them is Chinese. Without ``unigrams``, a Chinese character is marked only
    inside a matched pair of characters (a word), not alone."""
    spans: list[tuple[int, int]] = []
    han = False
    for match in _RUN_RE.finditer(text):
        start = match.start()
        run = match.group(0)
        if match.group(1):  # Han: mark every character that is a matched unigram/bigram
            readings = _run_readings(run)
            # The first reading is character for character.
            hit = _hits(readings[0][0], terms, unigrams)
            for reading, blocks in readings[1:]:
                reading_hit = _hits(reading, terms, unigrams)
                if blocks is None:
                    hit = [a or b for a, b in zip(hit, reading_hit, strict=True)]
                    continue
                for i1, i2, j1, j2 in blocks:  # a changed phrase is marked whole
                    if any(reading_hit[j1:j2]):
                        hit[i1:i2] = [True] * (i2 - i1)
            i = 0
            while i < len(run):
                if hit[i]:
                    j = i
                    while j < len(run) and hit[j]:
                        j += 1
                    spans.append((start + i, start + j))
                    han = True
                    i = j
                else:
                    i += 1
        elif any(token in terms for token in _run_tokens(run)):
            spans.append((match.start(), match.end()))
    return spans, han


def _hits(folded: str, terms: set[str], unigrams: bool = True) -> list[bool]:
    """Which characters of folded Han text are in a matched bigram (or unigram)."""
    hit = [False] * len(folded)
    for i, ch in enumerate(folded):
        if unigrams and ch in terms:
            hit[i] = True
        if i + 1 < len(folded) and folded[i : i + 2] in terms:
            hit[i] = hit[i + 1] = True
    return hit


Blocks = tuple[tuple[int, int, int, int], ...]


@lru_cache(maxsize=65_536)
def _run_readings(run: str) -> tuple[tuple[str, Blocks | None], ...]:
    """The Simplified readings of one Han run, each with its alignment to the run: ``None``
    where the reading is the run's length (character for character), else blocks ``(i1, i2,
    j1, j2)`` saying that ``run[i1:i2]`` reads as ``reading[j1:j2]``. Readings: character by
    character (``t2s``), and, unless the run is Simplified, with Taiwan phrases in mainland
    words (``tw2sp``; 行動電話 → 手机 changes the length, so it is aligned by difference)."""
    import difflib

    try:
        chars = str(_opencc("t2s").convert(run))
        if len(chars) != len(run):
            return ((run, None),)
        if _script_characters()[1].search(run):  # Simplified: never read phrase by phrase
            return ((chars, None),)
        mainland = _mainland_words(str(_opencc("tw2sp").convert(run)))
        if mainland == chars:
            return ((chars, None),)
        if len(mainland) == len(run):
            return ((chars, None), (mainland, None))
        blocks: list[tuple[int, int, int, int]] = []
        matcher = difflib.SequenceMatcher(None, chars, mainland, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                blocks.extend((i1 + k, i1 + k + 1, j1 + k, j1 + k + 1) for k in range(i2 - i1))
            else:
                blocks.append((i1, i2, j1, j2))
        return ((chars, None), (mainland, tuple(blocks)))
    except Exception:  # the converter is C++: a failure leaves the run as written
        return ((run, None),)


@lru_cache(maxsize=65_536)
def _run_tokens(run: str) -> tuple[str, ...]:
    """Tokens of one non-Han word as written (a snippet's words repeat across results and
    searches: stemming each one anew was most of a search's highlighting time)."""
    return tuple(word_tokens(normalize(run)))


_SNAP = 16  # how far a snippet's edge moves to a word boundary (none in CJK text: it stays)


def _word_bounds(
    text: str, start: int, end: int, spans: Sequence[tuple[int, int]]
) -> tuple[int, int]:
    """The window ``start:end`` narrowed so it neither begins nor ends inside a word, when a
    space is near and no marked term inside the window is lost."""
    inside = [(s, e) for s, e in spans if s >= start and e <= end]
    first = min((s for s, _e in inside), default=end)
    last = max((e for _s, e in inside), default=start)
    if start > 0 and not text[start - 1].isspace():
        space = text.find(" ", start, min(start + _SNAP, first))
        if space != -1:
            start = space + 1
    if end < len(text) and not text[end].isspace() and not text[end - 1].isspace():
        space = text.rfind(" ", max(end - _SNAP, last), end)
        if space != -1:
            end = space
    return start, end


def highlight(
    text: str, query_terms: Iterable[str] | Sequence[str], *, width: int = 160
) -> Snippet:
    """The ``width``-character window of ``text`` with the most matched terms, and their spans.

    ``query_terms`` are analysed tokens (from :func:`analyze_query`). Offsets refer to the
    original text, so what the reader sees is what they wrote, not the folded form.
    """
    try:
        text = _SURROGATE_RE.sub("\ufffd", text)
        terms = set(query_terms)
        # A Chinese query is indexed as characters and pairs of characters: marking every
        # single character it shares (的, 上, 新…) speckled a snippet. Where the text shares
        # a pair (a word) with the query, only pairs are marked; otherwise single characters.
        spans: list[tuple[int, int]] = []
        if terms:
            spans, words = _match_spans(text, terms, unigrams=False)
            if not words:
                spans, _han = _match_spans(text, terms)
        if len(text) <= width:
            return Snippet(text, tuple(spans))
        best_start, best_count = 0, -1
        for first, _ in spans:
            window_start = max(0, first - width // 4)
            count = sum(1 for s, e in spans if s >= window_start and e <= window_start + width)
            if count > best_count:
                best_start, best_count = window_start, count
        window_end = min(len(text), best_start + width)
        best_start = max(0, window_end - width)
        best_start, window_end = _word_bounds(text, best_start, window_end, spans)
        inside = tuple(
            (s - best_start, e - best_start)
            for s, e in spans
            if s >= best_start and e <= window_end
        )
        return Snippet(text[best_start:window_end], inside)
    except Exception:
        return Snippet(text[:width] if isinstance(text, str) else "", ())
