"""Masking customer data for display, by the viewer's tier.

Pure and total: every function returns a string for any input (empty, emoji, lone
surrogates, the wrong kind of value) and fails *closed* — when in doubt, show ``***``. A
masked value never reveals all of the original's letters and digits.

* phone ``13812345678`` → ``138****5678``; ``+7 (912) 345-67-89`` → ``+7 (91*) ***-67-89``
  (an 11-digit number: first three and last four digits, punctuation kept); shorter numbers
  keep only their last digits, at most half of them and never more than four
  (``9123 4567`` → ``**** 4567``); longer ones at most half, at most 3 + 4
* e-mail ``alice@example.com`` → ``a***@example.com``
* name ``张三丰`` → ``张**``, ``欧阳娜娜`` → ``欧阳**``, ``Иван Петров`` → ``И*** П*****``
* order number ``ORD-2024-889123`` → ``***-****-**9123`` (last four kept)
* address ``上海市浦东新区世纪大道100号`` → ``上海市***``; ``Москва, ул. Тверская, д. 1`` →
  ``Москва, ***``; ``221B Baker Street, London`` → ``***, London``
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Final

from crowdcx.kernel import morphology
from crowdcx.tickets.policy import CUSTOMER_FIELDS, BrandPolicy, DataAccessPolicy

STARS: Final = "***"
_PHONE_KEEP: Final = frozenset(" +-().\u3000＋－（）．")

# Two-character Chinese surnames (the common ones, Simplified and Traditional).
_COMPOUND_SURNAMES: Final = frozenset(
    {
        "欧阳",
        "歐陽",
        "司马",
        "司馬",
        "诸葛",
        "諸葛",
        "上官",
        "东方",
        "東方",
        "皇甫",
        "令狐",
        "慕容",
        "司徒",
        "夏侯",
        "长孙",
        "長孫",
        "宇文",
        "尉迟",
        "尉遲",
        "公孙",
        "公孫",
        "轩辕",
        "軒轅",
        "端木",
        "独孤",
        "獨孤",
        "南宫",
        "南宮",
        "西门",
        "西門",
    }
)
_CJK_ADMIN_SUFFIXES: Final = (
    "特别行政区",
    "特別行政區",
    "自治区",
    "自治區",
    "省",
    "市",
    "縣",
    "县",
)
_SEPARATORS: Final = re.compile(r"[,，、;；\n]")


def _is_han(ch: str) -> bool:
    c = ord(ch)
    return (
        0x4E00 <= c <= 0x9FFF
        or 0x3400 <= c <= 0x4DBF
        or 0x20000 <= c <= 0x2FA1F
        or 0xF900 <= c <= 0xFAFF
    )


def _alnum_count(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


def _fail_closed(original: str, masked: str) -> str:
    """Whatever a masker produced, never show every letter/digit of the original."""
    total = _alnum_count(original)
    if total == 0:
        return STARS if original.strip() else ""
    if _alnum_count(masked) >= total or "*" not in masked:
        return STARS
    return masked


def _phone_shown(digits: int) -> tuple[int, int]:
    """How many leading and trailing digits of a phone number stay visible: at most half of
    them (rounded up) and at most four for a number shorter than 11 digits, so that at least
    four stay hidden from 8 digits on; 11 digits (a mainland China or Russian mobile) keep the
    conventional 3 + 4, and no number shows more than 7."""
    if digits < 5:
        return 0, 0
    if digits < 11:
        return 0, min(4, digits // 2)
    if digits == 11:
        return 3, 4
    return min(3, (digits + 1) // 2 - 4), 4


def mask_phone(value: str) -> str:
    digits = sum(1 for ch in value if ch.isdigit())
    head, tail = _phone_shown(digits)
    out: list[str] = []
    seen = 0
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= head or seen > digits - tail else "*")
        elif ch in _PHONE_KEEP:
            out.append(ch)
        else:
            out.append("*")
    return "".join(out).strip()


def mask_email(value: str) -> str:
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return mask_text(value)
    if len(local) >= 2 and local[0].isprintable():
        return f"{local[0]}{STARS}@{domain}"
    return f"{STARS}@{domain}"


def _mask_word(word: str, keep: int = 1) -> str:
    if len(word) <= keep:
        return "*" * len(word)
    return word[:keep] + "*" * (len(word) - keep)


def mask_name(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    han = [ch for ch in text if _is_han(ch)]
    if han and len(han) * 2 >= sum(1 for ch in text if not ch.isspace()):
        compact = "".join(ch for ch in text if not ch.isspace() and ch not in "·•")
        keep = 2 if compact[:2] in _COMPOUND_SURNAMES and len(compact) > 2 else 1
        return _mask_word(compact, keep)
    return " ".join(_mask_word(w) for w in text.split())


def mask_order_number(value: str) -> str:
    total = _alnum_count(value)
    keep = 4 if total >= 8 else total // 2
    out: list[str] = []
    seen = 0
    for ch in value.strip():
        if ch.isalnum():
            seen += 1
            out.append(ch if seen > total - keep else "*")
        elif ch in "-_/# .":
            out.append(ch)
        else:
            out.append("*")
    return "".join(out)


def _first_suffix(text: str, start: int) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for suffix in _CJK_ADMIN_SUFFIXES:
        i = text.find(suffix, start)
        if i != -1 and i - start <= 8 and (best is None or i < best[0]):
            best = (i, suffix)
    return best


def _cjk_region(text: str) -> str | None:
    """The leading province/city of a Chinese address: 广东省深圳市…, 上海市…, 臺北市…"""
    first = _first_suffix(text, 0)
    if first is None:
        return None
    end = first[0] + len(first[1])
    if first[1] in ("市", "縣", "县"):
        return text[:end]
    city = _first_suffix(text, end)  # a province: add its city when one follows
    if city is not None and city[1] in ("市", "縣", "县"):
        end = city[0] + len(city[1])
    return text[:end]


def mask_address(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    if any(_is_han(ch) for ch in text[:6]):
        region = _cjk_region(text)
        if region is None:
            region = text[:2]
        return f"{region}{STARS}"
    segments = [s.strip() for s in _SEPARATORS.split(text) if s.strip()]
    if len(segments) >= 2:
        if not any(ch.isdigit() for ch in segments[0]):
            return f"{segments[0]}, {STARS}"  # city first (Russian, Chinese-in-Latin order)
        for seg in segments[1:]:  # street first (Western order): keep the first wordy segment
            words = [w for w in seg.split() if not any(ch.isdigit() for ch in w)]
            if words:
                return f"{STARS}, {' '.join(words)}"
        return STARS
    words = text.split()
    return (
        f"{words[0]} {STARS}"
        if len(words) > 1 and not any(c.isdigit() for c in words[0])
        else STARS
    )


def mask_text(value: str) -> str:
    """Generic fallback for unknown fields: first character and stars."""
    text = value.strip()
    if len(text) <= 2:
        return STARS if text else ""
    return text[0] + STARS


MASKERS: Final[Mapping[str, Callable[[str], str]]] = {
    "name": mask_name,
    "phone": mask_phone,
    "email": mask_email,
    "order_number": mask_order_number,
    "address": mask_address,
}


def mask_field(field_name: str, value: object) -> str:
    """Mask one value of a customer field; total (never raises) and fails closed."""
    if value is None:
        return ""
    try:
        text = value if isinstance(value, str) else str(value)
        masked = MASKERS.get(field_name, mask_text)(text)
    except Exception:  # any surprise in odd input must not leak the value or raise
        return STARS
    return _fail_closed(text, masked)


def _access(policy: BrandPolicy | DataAccessPolicy) -> DataAccessPolicy:
    return policy.data_access if isinstance(policy, BrandPolicy) else policy


def visible_fields(tier: int, policy: BrandPolicy | DataAccessPolicy) -> set[str]:
    """Customer fields a viewer of ``tier`` sees unmasked. Agents and brand admins are not
    tiered experts: the service passes the highest tier for them."""
    return set(_access(policy).unmasked_for(tier)) & set(CUSTOMER_FIELDS)


def present(
    fields: Mapping[str, object], viewer_tier: int, policy: BrandPolicy | DataAccessPolicy
) -> tuple[dict[str, str], list[str]]:
    """Values to show this viewer, and the names of fields shown unmasked (non-empty values
    only) — the service writes those to the access log."""
    allowed = visible_fields(viewer_tier, policy)
    shown: dict[str, str] = {}
    unmasked: list[str] = []
    for name, raw in fields.items():
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            shown[name] = ""
            continue
        if name in allowed:
            shown[name] = raw if isinstance(raw, str) else str(raw)
            unmasked.append(name)
        else:
            shown[name] = mask_field(name, raw)
    return shown, unmasked


_EMAIL_RE: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE: Final = re.compile(r"\+?\d[\d ()\-]{6,}\d")
# A number as people write one: ASCII or full-width digits, spaces, dots, dashes, brackets.
_NUMBER_RE: Final = re.compile(r"[+＋]?\d[\d \u3000().\-（）．－]{5,}\d")


def _digits(text: str) -> str:
    """The decimal digits of ``text`` in ASCII (full-width ０-９ as typed by Chinese input
    methods count as the same digits)."""
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def _quotable(fields: Mapping[str, object]) -> dict[str, str]:
    """The forms in which a text may quote the customer's field values, lower-cased, each
    with its field: every value, and each part of an address (its street, its city) that
    says something on its own, since people write an address's parts in any order."""
    known: dict[str, str] = {}
    for name, raw in fields.items():
        value = "" if raw is None else str(raw).strip()
        if name == "name" and _cyrillic_name(value):
            continue  # word by word, in any case, by _name_forms: "мир" is no part of "мира"
        if len(value) >= 2:
            known.setdefault(value.lower(), name)
        if name == "address":
            for part in _SEPARATORS.split(value):
                if _alnum_count(part) >= 4:
                    known.setdefault(part.strip().lower(), name)
            for part in _cjk_address_parts(value):
                known.setdefault(part.lower(), name)
    return known


# Where a Chinese address's units end: district, town, street, lane, number, building, floor,
# room. Chinese writes them without separators ("朝阳区建国路88号1栋302室").
_CJK_UNIT: Final = re.compile(
    r".+?(?:特别行政区|特別行政區|自治区|自治區|街道|单元|單元|区|區|镇|鎮|乡|鄉|大道|大街|路|街|巷|弄"
    r"|号|號|栋|棟|幢|楼|樓|层|層|室)"
)


def _cjk_address_parts(value: str) -> list[str]:
    """The fragments of a Chinese address a text may quote on its own: below its province
    and city (which the masked field shows anyway), every run of two or more consecutive
    units (建国路88号, 88号1栋302室, 朝阳区建国路) and any single unit of five or more
    characters (建国门外大街)."""
    text = "".join(value.split())
    if not any(_is_han(ch) for ch in text[:6]):
        return []
    region = _cjk_region(text) or ""
    rest = text[len(region) :]
    units = _CJK_UNIT.findall(rest)
    tail = rest[sum(len(u) for u in units) :]
    if _alnum_count(tail) >= 1:
        units.append(tail)
    parts = [u for u in units if _alnum_count(u) >= 5]
    parts += ["".join(units[i:j]) for i in range(len(units)) for j in range(i + 2, len(units) + 1)]
    return parts


def _quote_pattern(known: Iterable[str]) -> re.Pattern[str]:
    return re.compile(
        "|".join(re.escape(v) for v in sorted(known, key=len, reverse=True)), re.IGNORECASE
    )


# The digits of a number shaped as a phone on its own, whoever's it is: a mobile of mainland
# China (1[3-9] and 9 more digits, +86 or 0086 before it or not), Russia (9 and 9 more
# digits after 7 or 8, as +7 912 … or 8 912 … are written) or Taiwan (09 and 8 more, or
# 9 and 8 more after 886). Dates, amounts, order and tracking numbers are other shapes.
_MOBILE_DIGITS: Final = re.compile(
    r"(?:(?:00)?86)?1[3-9]\d{9}"  # mainland China
    r"|(?:(?:00)?7|8)9\d{9}"  # Russia
    r"|(?:(?:00)?886|0)9\d{8}"  # Taiwan
)


def _phone_shaped(text: str, match: re.Match[str]) -> bool:
    """``match`` (of :data:`_NUMBER_RE` in ``text``) is a phone number by its shape alone:
    a mobile's digits, or + and 8–15 digits (the international form); not when it goes on
    from a Latin letter or a digit before it ("SF1391234567890" is a tracking number; "电话
    13912345678" and "电话13912345678" are phones)."""
    start = match.start()
    before = unicodedata.normalize("NFKC", text[start - 1]) if start > 0 else ""
    if before.isascii() and before.isalnum():
        return False
    number = match.group()
    digits = _digits(number)
    if number[0] in "+＋" and 8 <= len(digits) <= 15:
        return True
    return _MOBILE_DIGITS.fullmatch(digits) is not None


def _same_number(number: str, tails: set[str]) -> bool:
    """A number in the text is the customer's one in another form (+86, +7 or 8 in front,
    spaces, dashes, dots) when its last seven digits are; dates and other numbers are not."""
    digits = _digits(number)
    return len(digits) >= 7 and digits[-7:] in tails


# Russian declines names, and some drop a vowel as they do: Иван → Ивана, Анна → Анной,
# Петров → Петровым, Лев → Льва, Павел → Павла, Пётр → Петра. A word of a text is a form of
# a word of the name when the dictionary (kernel.morphology) reads both as the same person's
# name, surname or patronymic — one lemma, tagged as a name. A name word the dictionary knows
# only as an ordinary word (Мир) stands for that word's forms. A text word that can also be
# an ordinary word (льва: the animal's; мира: the world's; роман: a novel) counts only with
# a capital letter, as Russian writes names: "для всего мира" stays as it is, "передайте
# Миру" does not. A name word the dictionary does not hold (a rare surname) keeps the rule
# of letters: the word less its final vowel, й or ь, then up to three letters of case
# endings (Snowball's stems are not stable enough on names: иван → "ива", ивану → "иван").
_CYRILLIC_WORD: Final = re.compile(r"^[а-яё]+(?:-[а-яё]+)*$", re.IGNORECASE)
_LETTER_RUN: Final = re.compile(r"[^\W\d_]+")
_NAME_ENDING: Final = "[аяуюеиыойьмх]{0,3}"


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


@dataclass(frozen=True, slots=True)
class _NameWord:
    """One word of a Russian name: as written (lower case, ``ё`` → ``е``), the lemmas its
    forms share (folded alike) and whether they must be read as a person's name; or, for a
    word the dictionary does not hold, the pattern of its forms by letters."""

    word: str
    lemmas: frozenset[str]
    person: bool
    by_letters: re.Pattern[str] | None

    @property
    def stem(self) -> str:
        """What every form of the word begins with: all but its last two letters, since a
        vowel may drop or turn into ь before the last one (Лев → Льва, Павел → Павла)."""
        return self.word[: max(1, len(self.word) - 2)]

    def matches(self, token: str, folded: str) -> bool:
        if not folded.startswith(self.stem):  # most words: no need to ask the dictionary
            return False
        if self.by_letters is not None:
            return self.by_letters.fullmatch(folded) is not None
        found = morphology.readings(token.lower())
        if folded != self.word and not any(
            _fold(r.lemma) in self.lemmas and (r.person or not self.person) for r in found
        ):
            return False
        return token[0].isupper() or not any(r.ordinary for r in found)


def _name_word(word: str) -> _NameWord:
    folded = _fold(word)
    if not morphology.is_known(word):
        base = folded[:-1] if len(folded) >= 4 and folded[-1] in "аяйьоеиыу" else folded
        ending = _NAME_ENDING if len(folded) >= 4 else ""  # shorter bases match other words
        return _NameWord(folded, frozenset(), False, re.compile(f"{re.escape(base)}{ending}"))
    found = morphology.readings(word.lower())
    person = {_fold(r.lemma) for r in found if r.person}
    # The name as stored is in its dictionary form (Лев, not лёва, whose plural genitive it
    # also is); a woman's surname or a patronymic is not (Иванова → иванов).
    lemmas = ({folded} & person) or person
    if not lemmas:  # known only as an ordinary word: its own forms
        lemmas = {_fold(r.lemma) for r in found if _fold(r.lemma) == folded} or {
            _fold(found[0].lemma)
        }
    return _NameWord(folded, frozenset(lemmas), bool(person), None)


def _cyrillic_name(name: object) -> bool:
    """Whether ``name`` is written in Cyrillic words alone (hyphenated ones included)."""
    words = str(name or "").split()
    return bool(words) and all(_CYRILLIC_WORD.match(w) for w in words)


@lru_cache(maxsize=1024)  # every message and subject of a ticket is masked on each view
def _russian_words(name: str) -> tuple[_NameWord, ...]:
    """The Cyrillic words of ``name`` of two or more letters (an initial matches too much)."""
    words = {w for w in _LETTER_RUN.findall(name) if len(w) >= 2 and _CYRILLIC_WORD.match(w)}
    return tuple(_name_word(w) for w in sorted(words))


def _name_forms(text: str, name: object) -> Iterator[re.Match[str]]:
    """The words of ``text`` that are the customer's Russian name, its parts in any case."""
    words = _russian_words(str(name or ""))
    if not words:
        return
    stems = tuple(w.stem for w in words)
    for match in _LETTER_RUN.finditer(text):
        token = match.group()
        folded = _fold(token)
        if not folded.startswith(stems) or not _CYRILLIC_WORD.match(token):
            continue
        if any(w.matches(token, folded) for w in words):
            yield match


def _quotes_name(text: str, name: object) -> bool:
    return next(_name_forms(text, name), None) is not None


def _replace_name_forms(text: str, name: object, repl: Callable[[str], str]) -> str:
    out: list[str] = []
    pos = 0
    for match in _name_forms(text, name):
        out.append(text[pos : match.start()])
        out.append(repl(match.group()))
        pos = match.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def mask_quoted(text: str, fields: Mapping[str, object], allowed: Iterable[str]) -> str:
    """``text`` (a ticket's subject, body or a message) as a viewer who sees the ``allowed``
    fields unmasked may read it: wherever it quotes a customer field value the viewer may not
    see (in any letter case), that value is masked as in the field itself, and so is the
    customer's phone number written in another form; when e-mail is hidden, every address in
    it is masked too; when phones are hidden, so is every number shaped as a phone (a
    mobile's digits, or the international form with +), which customers write in their
    description as often as in the field. Values of allowed fields stay as they are."""
    allowed = set(allowed)
    known = _quotable(fields)
    hide_email = "email" not in allowed
    hide_phone = "phone" not in allowed
    phone = "" if not hide_phone else _digits(str(fields.get("phone") or ""))
    tails = {phone[-7:]} if len(phone) >= 7 else set()
    hide_name = "name" not in allowed

    name_words = _name_words(str(fields.get("name") or "")) if hide_name else None

    def generic(part: str) -> str:
        if hide_name:  # "письмо для Ивана Петрова": the name in another case
            part = _replace_name_forms(part, fields.get("name"), partial(mask_field, "name"))
        if name_words is not None:  # "Hi Alice" for Alice Wong, 李先生 for 李伟
            part = name_words.sub(_capitalised_name_word, part)
        if hide_email:
            part = _EMAIL_RE.sub(lambda m: mask_field("email", m.group()), part)
        if hide_phone:
            whole = part  # what the matches' offsets are in (``text`` is the whole message)
            part = _NUMBER_RE.sub(
                lambda m: (
                    mask_field("phone", m.group())
                    if _same_number(m.group(), tails) or _phone_shaped(whole, m)
                    else m.group()
                ),
                part,
            )
        return part

    lowered = text.lower()
    known = {v: f for v, f in known.items() if v in lowered}  # most texts quote none
    if not known:
        return generic(text)
    pattern = _quote_pattern(known)
    out: list[str] = []
    pos = 0
    for match in pattern.finditer(text):
        out.append(generic(text[pos : match.start()]))
        field = known.get(match.group().lower(), "")
        quoted = match.group()
        out.append(quoted if field in allowed else mask_field(field, quoted))
        pos = match.end()
    out.append(generic(text[pos:]))
    return "".join(out)


def _capitalised_name_word(match: re.Match[str]) -> str:
    """A word of the customer's name used alone, masked on screen when it is written as a
    name is (capitalised: "Hi Alice", "Dear MARK") or is a Chinese surname with a title; a
    lower-case "mark" or "will" is an ordinary word and stays readable (the same rule as
    Russian names that are also words, docs/adr/russian-name-masking.md). Search cleaning
    (:func:`scrub`) removes them in any case."""
    word = match.group()
    return mask_field("name", word) if word[:1].isupper() or not word[:1].isascii() else word


def quoted_fields(text: str, fields: Mapping[str, object], allowed: Iterable[str]) -> set[str]:
    """The ``allowed`` fields whose values ``text`` quotes (in any letter case; the phone
    number in any form): what a viewer reads unmasked in it, for the access log."""
    allowed = set(allowed)
    lowered = text.lower()
    found = {f for v, f in _quotable(fields).items() if f in allowed and v in lowered}
    if "name" in allowed and "name" not in found:
        words = _name_words(str(fields.get("name") or ""))
        if _quotes_name(text, fields.get("name")) or (words and words.search(text)):
            found.add("name")
    phone = _digits(str(fields.get("phone") or "")) if "phone" in allowed else ""
    if "phone" not in found and len(phone) >= 7:
        tails = {phone[-7:]}
        if any(_same_number(m.group(), tails) for m in _NUMBER_RE.finditer(text)):
            found.add("phone")
    return found


_HONORIFICS: Final = "先生|女士|小姐|太太|老师|老師|师傅|師傅|经理|經理|总|總"
_LATIN_NAME_WORD: Final = re.compile(r"^[^\W\d_]{3,}$")


def _name_words(name: str) -> re.Pattern[str] | None:
    """A pattern for the parts of a name a reply uses alone: each word of a Latin-script
    name ("Hi Alice", "Ms. Wong"), and a Chinese surname with a title (李先生, 欧阳女士)."""
    alternatives: list[str] = []
    for word in name.split():
        if (
            _LATIN_NAME_WORD.match(word)
            and not any(_is_han(ch) for ch in word)
            and not _CYRILLIC_WORD.match(word)  # Russian words: _name_forms, in any case
        ):
            alternatives.append(rf"(?<!\w){re.escape(word)}(?!\w)")
    compact = "".join(ch for ch in name if _is_han(ch))
    if len(compact) >= 2:
        surname = compact[:2] if compact[:2] in _COMPOUND_SURNAMES else compact[0]
        alternatives.append(rf"{re.escape(surname)}(?:{_HONORIFICS})")
    if not alternatives:
        return None
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _order_digits(value: str) -> re.Pattern[str] | None:
    """An order number's own digit runs of five or more, quoted without its prefix or
    dashes ("order #778899" for LM-2026-778899)."""
    runs = [r for r in re.findall(r"\d+", _digits_only_ascii(value)) if len(r) >= 5]
    if not runs:
        return None
    return re.compile("|".join(rf"(?<!\d){r}(?!\d)" for r in runs))


def _digits_only_ascii(value: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in value)


def scrub(text: str, fields: Mapping[str, object] | None = None) -> str:
    """``text`` with customer data removed, for search over past tickets: the ticket's own
    customer field values (in any letter case, an address's parts in any order, the phone
    number in any form, a name's words alone and a Chinese surname with a title, the order
    number's digits without its prefix), e-mail addresses and phone-like digit runs become
    ``▇▇▇``."""
    fields = fields or {}
    known = _quotable(fields)
    if known:
        text = _quote_pattern(known).sub("▇▇▇", text)
    text = _replace_name_forms(text, fields.get("name"), lambda _: "▇▇▇")
    for pattern in (_name_words(str(fields.get("name") or "")),
                    _order_digits(str(fields.get("order_number") or ""))):  # fmt: skip
        if pattern is not None:
            text = pattern.sub("▇▇▇", text)
    tails = {d[-7:] for v in fields.values() if len(d := _digits(str(v or ""))) >= 7}
    if tails:
        text = _NUMBER_RE.sub(
            lambda m: "▇▇▇" if _same_number(m.group(), tails) else m.group(), text
        )
    text = _EMAIL_RE.sub("▇▇▇", text)
    return _PHONE_RE.sub("▇▇▇", text)
