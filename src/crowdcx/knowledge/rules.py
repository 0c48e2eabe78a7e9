"""Rules of the knowledge base. Pure: plain values in, decisions (or violations) out.

- The review workflow: draft → in_review → approved → published → archived, where the approver
  never wrote any of the text under review and who may write or review is brand policy
  (:class:`KbRoles`).
- Visibility: a person reads an article only at or below their own reading level, and writing
  or reviewing never lifts it: nobody sees, writes, edits or approves above what they may read.
- A published article stays live while its next revision is drafted and reviewed: the live
  copy changes only on publish.
- Freshness: a published article has a review-by date; past it, it is flagged as stale.
- FAQ rows (CSV import) are validated one by one into values or reasons, never half-written.
- Version diffs are unified diffs of title and body.

Only the standard library; ``now`` and every policy come in as arguments.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

import charset_normalizer

from crowdcx.kernel.language import LOCALE_NAMES, LOCALES
from crowdcx.kernel.text import strip_invisible, visible

State = Literal["draft", "in_review", "approved", "published", "archived"]
Visibility = Literal["public", "experts", "staff"]
Action = Literal["submit", "approve", "publish", "confirm", "archive", "edit"]

STATES: Final[tuple[State, ...]] = ("draft", "in_review", "approved", "published", "archived")
VISIBILITIES: Final[tuple[Visibility, ...]] = ("public", "experts", "staff")
ACTIONS: Final[tuple[Action, ...]] = ("submit", "approve", "publish", "confirm", "archive")

MAX_TITLE: Final = 300
MAX_BODY: Final = 50_000
MAX_TAGS: Final = 20
MAX_TAG: Final = 40
DEFAULT_REVIEW_DAYS: Final = 180

# Locale spellings people put in spreadsheets, mapped to the platform's four locales.
LANGUAGE_ALIASES: Final[dict[str, str]] = {
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "english": "en",
    "ru": "ru",
    "ru-ru": "ru",
    "russian": "ru",
    "zh-hans": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh": "zh-Hans",
    "zh_hans": "zh-Hans",
    "zh-hant": "zh-Hant",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh_hant": "zh-Hant",
    # The languages by name, as people write them in a sheet (the picker's names are added
    # below): in English, Russian and Chinese.
    "русский": "ru",
    "русский язык": "ru",
    "俄语": "ru",
    "俄語": "ru",
    "俄文": "ru",
    "английский": "en",
    "английский язык": "en",
    "英语": "en",
    "英語": "en",
    "英文": "en",
    "simplified chinese": "zh-Hans",
    "chinese (simplified)": "zh-Hans",
    "упрощённый китайский": "zh-Hans",
    "упрощенный китайский": "zh-Hans",
    "简体中文": "zh-Hans",
    "简体": "zh-Hans",
    "簡體中文": "zh-Hans",
    "traditional chinese": "zh-Hant",
    "chinese (traditional)": "zh-Hant",
    "традиционный китайский": "zh-Hant",
    "繁體中文": "zh-Hant",
    "繁体中文": "zh-Hant",
    "繁體": "zh-Hant",
    "繁体": "zh-Hant",
    "正體中文": "zh-Hant",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """Why something is refused: ``code`` is stable, ``field`` names the input, ``params``
    fill the translated message the shell chooses by code."""

    code: str
    field: str = ""
    params: Mapping[str, Any] = dc_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KbRoles:
    """Who may write and who may review a brand's articles (brand policy)."""

    authors: frozenset[str] = frozenset({"agent", "expert", "brand_admin"})
    reviewers: frozenset[str] = frozenset({"agent", "brand_admin"})
    review_days: int = DEFAULT_REVIEW_DAYS


def kb_roles_from(settings: Mapping[str, Any] | None) -> KbRoles:
    """Read the ``knowledge`` part of a brand's settings; unknown or bad values fall back."""
    raw = (settings or {}).get("knowledge") or {}
    default = KbRoles()
    if not isinstance(raw, Mapping):
        return default

    def roles(key: str, fallback: frozenset[str]) -> frozenset[str]:
        value = raw.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
            return frozenset(value)
        return fallback

    days = raw.get("review_days")
    return KbRoles(
        authors=roles("authors", default.authors),
        reviewers=roles("reviewers", default.reviewers),
        review_days=days if isinstance(days, int) and 1 <= days <= 3650 else default.review_days,
    )


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    roles: frozenset[str]
    platform_admin: bool = False
    # The visibilities this person may read (their reading level); public only unless told.
    reads: frozenset[str] = frozenset({"public"})


@dataclass(frozen=True, slots=True)
class ArticleState:
    """What the workflow needs to know about an article."""

    state: State
    author_id: int
    live: bool  # a published revision is visible to readers
    visibility: str = "public"  # of the working revision
    # Of the live copy, while there is one (None: the same as the working revision's).
    live_visibility: str | None = None
    # Who wrote text not yet reviewed (see :func:`text_authors`); they never approve it.
    writers: frozenset[int] = frozenset()


def may_write(actor: Actor, policy: KbRoles) -> bool:
    return actor.platform_admin or bool(actor.roles & policy.authors)


def may_review(actor: Actor, policy: KbRoles) -> bool:
    return actor.platform_admin or bool(actor.roles & policy.reviewers)


def may_read_live(article: ArticleState, actor: Actor) -> bool:
    """Anyone may read the live copy of an article at or below their reading level."""
    return article.live and (article.live_visibility or article.visibility) in actor.reads


def may_read_working(article: ArticleState, actor: Actor, policy: KbRoles) -> bool:
    """Authors and reviewers also see the working revision (drafts, history, workflow), but only
    at or below their reading level: being allowed to write never lifts what one may read. While
    the article is live, the live copy (shown beside the working revision) must be readable too.
    """
    if not (may_write(actor, policy) or may_review(actor, policy)):
        return False
    if article.visibility not in actor.reads:
        return False
    return not article.live or (article.live_visibility or article.visibility) in actor.reads


def may_read(article: ArticleState, actor: Actor, policy: KbRoles) -> bool:
    return may_read_live(article, actor) or may_read_working(article, actor, policy)


def check_visibility(visibility: str, actor: Actor) -> Violation | None:
    """A writer gives an article only a visibility they may read themselves."""
    if visibility in actor.reads:
        return None
    allowed = ", ".join(v for v in VISIBILITIES if v in actor.reads)
    return Violation(
        "visibility_not_allowed", "visibility", {"value": visibility, "allowed": allowed}
    )


def text_authors(
    author_id: int | None,
    revisions: Iterable[tuple[int, int | None]],
    live_version: int | None,
) -> frozenset[int]:
    """Who wrote the text under review: the article's author and the author of every revision
    (``(version, editor_id)``) after the live one — all of them before the first publish. A
    reviewer who rewrote someone else's draft is among them."""
    since = live_version or 0
    ids = {editor for version, editor in revisions if version > since and editor is not None}
    if author_id is not None:
        ids.add(author_id)
    return frozenset(ids)


_TRANSITIONS: Final[dict[str, tuple[frozenset[str], State]]] = {
    "submit": (frozenset({"draft"}), "in_review"),
    "approve": (frozenset({"in_review"}), "approved"),
    "publish": (frozenset({"approved"}), "published"),
    # A reviewer finds the live text still accurate: it is due for review again in a term.
    "confirm": (frozenset({"published"}), "published"),
    "archive": (frozenset({"draft", "in_review", "approved", "published"}), "archived"),
}


def transition(
    article: ArticleState, action: str, actor: Actor, policy: KbRoles
) -> State | Violation:
    """The state after ``action``, or why it is refused.

    Authors submit their drafts; a reviewer who wrote none of the text under review (neither
    the article's author nor the author of an unreviewed revision) approves; a reviewer
    publishes an approved revision; a reviewer archives (the author may archive an unpublished
    draft of their own). Nobody acts on an article whose working revision they may not read.
    """
    if action not in _TRANSITIONS:
        return Violation("unknown_action", "action", {"action": action})
    sources, target = _TRANSITIONS[action]
    if article.state not in sources:
        return Violation("bad_state", "state", {"action": action, "state": article.state})
    own = actor.user_id == article.author_id
    if action == "submit":
        if not (own and may_write(actor, policy)) and not may_review(actor, policy):
            return Violation("not_author", "action", {"action": action})
    elif action == "approve":
        if not may_review(actor, policy):
            return Violation("not_reviewer", "action", {"action": action})
        if own or actor.user_id in article.writers:
            return Violation("own_article", "action", {"action": action})
    elif action in ("publish", "confirm"):
        if not may_review(actor, policy):
            return Violation("not_reviewer", "action", {"action": action})
    elif action == "archive":
        allowed = may_review(actor, policy) or (
            own and not article.live and may_write(actor, policy)
        )
        if not allowed:
            return Violation("not_reviewer", "action", {"action": action})
    if not may_read_working(article, actor, policy):
        return Violation("restricted", "action", {"action": action})
    return target


def allowed_actions(article: ArticleState, actor: Actor, policy: KbRoles) -> list[str]:
    return [a for a in ACTIONS if isinstance(transition(article, a, actor, policy), str)]


def edit_state(article: ArticleState, actor: Actor, policy: KbRoles) -> State | Violation:
    """Editing makes a new draft revision. An archived article is read-only; a reviewer or the
    author may edit, if they may read the working revision; a live article stays live until the
    new revision is published. (The new visibility is checked with :func:`check_visibility`.)"""
    if article.state == "archived":
        return Violation("archived", "state", {"state": article.state})
    if not (
        may_review(actor, policy)
        or (actor.user_id == article.author_id and may_write(actor, policy))
    ):
        return Violation("not_author", "action", {"action": "edit"})
    if not may_read_working(article, actor, policy):
        return Violation("restricted", "action", {"action": "edit"})
    return "draft"


def published_tags(live: bool, live_tags: Iterable[str] | None) -> tuple[str, ...]:
    """The tags readers see: those of the live copy (kept apart from the working revision's,
    so a pending revision's tags stay with its editors), none when nothing is live."""
    return tuple(live_tags or ()) if live else ()


def review_by(published_at: datetime, policy: KbRoles) -> datetime:
    return published_at + timedelta(days=policy.review_days)


def is_stale(review_date: datetime | None, live: bool, now: datetime) -> bool:
    """A live article whose review-by date has passed is flagged for review."""
    return live and review_date is not None and review_date <= now


# --- validation -----------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """NFC, no NULs or stray control characters, trimmed."""
    value = unicodedata.normalize("NFC", value).replace("\x00", "")
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()


def _language_key(value: str) -> str:
    """Full-width brackets and letters made plain, case and spacing folded, ``_`` as ``-``."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().replace("_", "-").split())


_LANGUAGES: Final[dict[str, str]] = {
    **{_language_key(k): v for k, v in LANGUAGE_ALIASES.items()},
    **{_language_key(name): locale for locale, name in LOCALE_NAMES.items()},
    **{_language_key(locale): locale for locale in LOCALES},
}


def normalise_language(value: str) -> str | None:
    """One of the four locales from a code (zh-CN, zh_TW, RU), or the language's name as the
    language picker shows it or as people say it (Русский, 简体中文, 中文（繁體）, English)."""
    return _LANGUAGES.get(_language_key(value))


# What separates the tags of a list written as one line: the bar (also "｜", as a Chinese
# input method types it), commas (also "，" and "、") and semicolons (also "；").
_TAG_SEPARATORS: Final = re.compile(r"[|｜,，、;；]")


def split_tags(text: str) -> list[str]:
    """``退款｜订单``, ``退款，订单、发票``, ``роуминг; тарифы`` or ``a, b|c`` as a list of tags,
    as people type them (the editor, Markdown front matter). Not the CSV's tag cell: only the
    bar separates there, as the export joins with it and what it wrote imports back as it was."""
    return _TAG_SEPARATORS.split(text)


def normalise_tags(raw: Iterable[str]) -> list[str] | Violation:
    tags: list[str] = []
    for tag in raw:
        tag = clean_text(tag).casefold()
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            return Violation("tag_too_long", "tags", {"tag": tag[:20], "max": MAX_TAG})
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        return Violation("too_many_tags", "tags", {"max": MAX_TAGS})
    return tags


@dataclass(frozen=True, slots=True)
class Draft:
    """A validated article draft (title, Markdown body, language, tags, visibility)."""

    title: str
    body: str
    language: str
    tags: tuple[str, ...]
    visibility: Visibility


def validate_draft(
    title: str, body: str, language: str, tags: Iterable[str], visibility: str
) -> Draft | Violation:
    raw_title, raw_body = title, body
    title, body = strip_invisible(clean_text(title)), clean_text(body)
    if not raw_title.strip():
        return Violation("required", "title")
    if not visible(title):
        return Violation("invisible", "title")
    if len(title) > MAX_TITLE:
        return Violation("too_long", "title", {"max": MAX_TITLE})
    if not raw_body.strip():
        return Violation("required", "body")
    if not visible(body):
        return Violation("invisible", "body")
    if len(body.replace("\r\n", "\n")) > MAX_BODY:  # a line break as the writer counts it
        return Violation("too_long", "body", {"max": MAX_BODY})
    lang = normalise_language(language)
    if lang is None:
        return Violation("bad_language", "language", {"value": language[:20]})
    if visibility not in VISIBILITIES:
        return Violation("bad_visibility", "visibility", {"value": visibility[:20]})
    clean_tags = normalise_tags(tags)
    if isinstance(clean_tags, Violation):
        return clean_tags
    return Draft(title, body, lang, tuple(clean_tags), visibility)


# --- FAQ CSV --------------------------------------------------------------------------------

FAQ_COLUMNS: Final[tuple[str, ...]] = ("question", "answer", "language", "tags", "visibility")


@dataclass(frozen=True, slots=True)
class FaqRow:
    line: int
    draft: Draft | None
    problem: Violation | None = None


# Where a file is not UTF-8, what Excel and Notepad on Windows save by default for each
# language a brand serves (cp950 is Microsoft's Big5; gb18030 reads GBK and GB2312 too).
LEGACY_ENCODINGS: Final[Mapping[str, tuple[str, ...]]] = {
    "zh-Hans": ("gb18030",),
    "zh-Hant": ("cp950",),
    "ru": ("cp1251", "koi8_r"),
    "en": ("cp1252",),
}
ENCODING_NAMES: Final[Mapping[str, str]] = {
    "gb18030": "GB18030/GBK",
    "cp950": "Big5",
    "cp1251": "Windows-1251",
    "koi8_r": "KOI8-R",
    "cp1252": "Windows-1252",
}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # "utf-8", "utf-16" or one of LEGACY_ENCODINGS' values


def decode_upload(raw: bytes, languages: Iterable[str] = LOCALES) -> Decoded | None:
    """The text of an uploaded file: UTF-8 (with or without a byte-order mark), UTF-16 when
    its byte-order mark says so (Excel's "Unicode Text"), else the legacy encoding of one of
    the brand's ``languages`` that reads it best (Excel on a Chinese or Russian Windows saves
    CSV as GBK, Big5 or Windows-1251). charset-normalizer weighs the candidates by how
    coherent the decoded text is; the candidates are only the brand's languages' encodings,
    since a short file reads cleanly in several. None when no candidate reads it."""
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return Decoded(raw.decode("utf-16"), "utf-16")
        return Decoded(raw.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        pass
    candidates = list(
        dict.fromkeys(e for lang in languages for e in LEGACY_ENCODINGS.get(lang, ()))
    )
    if not candidates:
        return None
    best = charset_normalizer.from_bytes(raw, cp_isolation=candidates).best()
    if best is None or best.encoding not in ENCODING_NAMES:
        return None
    return Decoded(str(best), best.encoding)


def parse_faq_csv(content: str) -> Iterator[FaqRow] | Violation:
    """Rows of a FAQ CSV (header ``question,answer,language,tags,visibility``, cells separated
    by commas, semicolons or tabs; tags split by ``|``; visibility defaults to public). A bad
    row yields its problem; the others go on. Rows repeating an earlier (question, language)
    are reported as duplicates."""
    if content.startswith("\ufeff"):
        content = content[1:]
    if "\x00" in content:  # no text may hold it (PostgreSQL refuses it): the file is not text
        return Violation("nul_character", "file")
    skipped = 0
    told = _EXCEL_SEPARATOR.match(content)
    if told:  # Excel's "sep=;" line: the separator, said outright; not the header
        content, skipped = content[told.end() :], 1
    delimiter = told.group(1) if told else csv_delimiter(content)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return Violation("empty_file", "file")
    except csv.Error as exc:
        return Violation("bad_csv", "file", {"reason": str(exc)})
    columns = [column_name(c) for c in header]
    missing = [c for c in FAQ_COLUMNS[:3] if c not in columns]
    if missing:
        return Violation("missing_columns", "file", {"columns": ", ".join(missing)})
    index = {name: columns.index(name) for name in FAQ_COLUMNS if name in columns}
    return _faq_rows(reader, index, skipped)


# What spreadsheets separate cells with: a comma, a semicolon where the comma is the decimal
# mark (Excel in ru and most of Europe), a tab (TSV downloads).
CSV_DELIMITERS: Final[str] = ",;\t"
_SNIFF_LINES: Final = 20
# A first line "sep=;" (quoted or not) tells Excel the separator in any locale.
_EXCEL_SEPARATOR: Final = re.compile(r'"?sep=([,;\t])"?[ \t]*(?:\r\n|\r|\n)', re.IGNORECASE)
_SNIFF_CHARS: Final = 4096  # the sniffer's quote search grows with the square of the sample


def csv_delimiter(content: str) -> str:
    """The cell separator of a CSV file, guessed (:class:`csv.Sniffer`) from its first lines
    among :data:`CSV_DELIMITERS`, a comma when nothing is clear. The header row has the last
    word: the first separator (the guess, then comma, semicolon, tab) under which it names the
    required columns wins, so "1,5" in every answer of a semicolon file cannot mislead it."""
    lines = content[:_SNIFF_CHARS].splitlines(keepends=True)
    sample = "".join(lines[:_SNIFF_LINES])
    try:
        guess: str = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        guess = ","
    if lines:
        for delimiter in [guess, *list(CSV_DELIMITERS)]:
            names = _header_names(lines[0], delimiter)
            if all(c in names for c in FAQ_COLUMNS[:3]):
                return delimiter
    return guess


# The columns as an admin names them in a sheet in their own language ("问题,答案,语言"
# was refused as missing every column). Keys are as column_name() leaves them.
COLUMN_ALIASES: Final[dict[str, str]] = {
    "问题": "question", "問題": "question", "вопрос": "question", "title": "question",
    "答案": "answer", "回答": "answer", "ответ": "answer",
    "语言": "language", "語言": "language", "язык": "language",
    "标签": "tags", "標籤": "tags", "теги": "tags", "метки": "tags", "tag": "tags",
    "可见范围": "visibility", "可見範圍": "visibility", "可见性": "visibility",
    "видимость": "visibility",
}  # fmt: skip


def column_name(cell: str) -> str:
    """A header cell as a column name: case folded, without the invisible characters a paste
    leaves around it (a zero-width space, a BOM); a name in Chinese or Russian as the
    column it names."""
    name = strip_invisible(clean_text(cell)).casefold()
    return COLUMN_ALIASES.get(name, name)


def _header_names(line: str, delimiter: str) -> list[str]:
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []
    return [column_name(c) for c in cells]


def _faq_rows(reader: Any, index: dict[str, int], skipped: int = 0) -> Iterator[FaqRow]:
    seen: set[tuple[str, str]] = set()
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num + skipped
            yield FaqRow(line, None, Violation("bad_csv", "file", {"reason": str(exc)}))
            return
        line = reader.line_num + skipped  # the line of the file as the person sees it
        if not any(c.strip() for c in cells):
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            i = index.get(name)
            return csv_uncell(cells[i]) if i is not None and i < len(cells) else ""

        visibility = clean_text(cell("visibility")).casefold() or "public"
        result = validate_draft(
            cell("question"), cell("answer"), cell("language"), cell("tags").split("|"), visibility
        )
        if isinstance(result, Violation):
            yield FaqRow(line, None, result)
            continue
        key = (result.title.casefold(), result.language)
        if key in seen:
            yield FaqRow(
                line, None, Violation("duplicate_row", "question", {"title": result.title})
            )
            continue
        seen.add(key)
        yield FaqRow(line, result)


# A cell a spreadsheet would run as a formula (CSV injection): the export prefixes it with an
# apostrophe, which spreadsheets show as text and the import takes off again.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """``text`` safe to open in a spreadsheet: never read as a formula. Text that already
    starts with apostrophes before such a character gets one more, so that the import's
    :func:`csv_uncell` gives back exactly what was exported."""
    return "'" + text if text.lstrip("'").startswith(_FORMULA_START) else text


def csv_uncell(text: str) -> str:
    """The inverse of :func:`csv_cell` (an exported file imports as it was)."""
    escaped = text.startswith("'") and text.lstrip("'").startswith(_FORMULA_START)
    return text[1:] if escaped else text


def faq_csv(rows: Iterable[tuple[str, str, str, Iterable[str], str]]) -> str:
    """The export: the same columns the import reads; no cell starts a formula."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FAQ_COLUMNS)
    for question, answer, language, tags, visibility in rows:
        cells = [question, answer, language, "|".join(tags), visibility]
        writer.writerow([csv_cell(c) for c in cells])
    return out.getvalue()


# --- history --------------------------------------------------------------------------------


def diff(
    old_title: str, old_body: str, new_title: str, new_body: str, labels: tuple[str, str]
) -> str:
    """A unified diff of two revisions (title as the first line)."""
    old = [f"# {old_title}", *old_body.splitlines()]
    new = [f"# {new_title}", *new_body.splitlines()]
    return "\n".join(
        difflib.unified_diff(old, new, fromfile=labels[0], tofile=labels[1], lineterm="")
    )


DiffKind = Literal["same", "added", "removed", "gap"]


def diff_lines(
    old_title: str, old_body: str, new_title: str, new_body: str
) -> list[tuple[DiffKind, str]]:
    """Two revisions' changed lines for a reviewer, with three lines of context around each
    change and a "gap" between changes far apart; empty when they read the same."""
    kinds: dict[str, DiffKind] = {" ": "same", "+": "added", "-": "removed"}
    out: list[tuple[DiffKind, str]] = []
    for line in diff(
        old_title,
        old_body,
        new_title,
        new_body,
        ("", ""),
    ).splitlines()[2:]:
        if line.startswith("@@"):
            if out:
                out.append(("gap", ""))
            continue
        out.append((kinds.get(line[:1], "same"), line[1:]))
    return out


# --------------------------------------------------------------------------------------------
# Content gaps: what readers searched for and did not find
# --------------------------------------------------------------------------------------------


# Words a search is made of but that say nothing about what is missing, in the form the search
# analysis gives them (Snowball stems): "How do I get a refund?" and "refund" ask the same.
# Negations stay ("не работает" is not "работает").
_GAP_STOPWORDS_TEXT: Final = (
    "a an the to do doe did i my me is are was were be been am how what where whi when which"
    " who can could should would will get of for in on at it this that with from about pleas"
    " you your we our and or s there have has"
    " как что где поч когд можн ли за по на в во с со о об для у к мо мне мен я мы вы эт и ил"
    " а пожалуйст ест"
)
_GAP_STOPWORDS: Final = frozenset(_GAP_STOPWORDS_TEXT.split())
# Chinese question words and particles, removed before the text is cut into characters.
_GAP_CJK_FILLERS: Final = re.compile("请问|为什么|为何|怎么样|怎么|怎样|如何|吗|呢|吧|啊|呀")
_HAN: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
# What separates two Han characters that a reader may or may not type: spaces, punctuation.
_BETWEEN_HAN: Final = re.compile(f"(?<=[{_HAN}])[\\W_]+(?=[{_HAN}])")
# A token with six or more digits is an order, phone or postal number: who asked, not what.
_IDENTIFIER_TOKEN: Final = re.compile(r"(?:\D*\d){6}")


def gap_key(query: str) -> str:
    """What a search asks, for grouping content gaps: the search analysis' terms (stems,
    Chinese folded to Simplified, character uni/bigrams) of the query with the spaces and
    punctuation between Chinese characters, the small words of a question and numbers that
    identify someone left out. Empty when nothing is left to ask about."""
    from crowdcx.search.analysis import analyze_query, normalize

    text = _BETWEEN_HAN.sub("", normalize(query))
    text = _GAP_CJK_FILLERS.sub("", text)
    words = analyze_query(text).words
    return " ".join(
        sorted({w for w in words if w not in _GAP_STOPWORDS and not _IDENTIFIER_TOKEN.match(w)})
    )


# Six or more digits, as typed (ASCII or full-width, a space, dash, dot or slash between).
_LONG_NUMBER: Final = re.compile(r"\d(?:[-\s./\u3000－．／]?\d){5,}")


def mask_numbers(text: str) -> str:
    """``text`` with every number of six or more digits (an order, postal, account or phone
    number) shown as ``▇▇▇``: a content gap says what readers asked, not who they are.
    Shorter numbers (a model, a year, an error code) stay."""
    return _LONG_NUMBER.sub("▇▇▇", text)


@dataclass(frozen=True, slots=True)
class Gap:
    """Searches that found nothing good enough, grouped by what they ask: ``query`` is the
    spelling readers used most (the newest of equals), ``count`` how often, ``last_at`` the
    latest."""

    key: str
    query: str
    count: int
    last_at: datetime
    spellings: int


def content_gaps(
    searches: Iterable[tuple[str, datetime]], key: Callable[[str], str], limit: int
) -> list[Gap]:
    """Group ``(query, at)`` searches by ``key`` (the search analysis' terms of the query, so
    "Refund card", "refund cards" and "card refund" are one gap), most searched first, then
    the most recent. Queries whose key is empty (punctuation, emoji) are left out."""
    counts: dict[str, int] = {}
    last: dict[str, datetime] = {}
    forms: dict[str, dict[str, tuple[int, datetime]]] = {}
    keys: dict[str, str] = {}  # a busy brand's searches repeat: each text is analysed once
    for query, at in searches:
        text = " ".join(query.split())
        k = keys.get(text)
        if k is None:
            k = keys[text] = key(text)
        if not k or not text:
            continue
        counts[k] = counts.get(k, 0) + 1
        last[k] = max(last.get(k, at), at)
        seen = forms.setdefault(k, {})
        n, latest = seen.get(text, (0, at))
        seen[text] = (n + 1, max(latest, at))
    gaps = []
    for k, n in counts.items():
        spelled = max(forms[k].items(), key=lambda item: (item[1][0], item[1][1]))[0]
        gaps.append(Gap(k, spelled, n, last[k], len(forms[k])))
    gaps.sort(key=lambda g: (-g.count, -g.last_at.timestamp(), g.key))
    return gaps[:limit]
