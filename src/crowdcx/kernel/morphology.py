"""Russian morphology: the dictionary readings of a word. Pure functions of a word.

pymorphy3 over the OpenCorpora dictionary that the ``pymorphy3-dicts-ru`` wheel ships inside
itself (nothing is downloaded at run time). The analyzer loads once, on first use (about
0.1 s and 30 MB), and each word's readings are cached, so a word seen before costs a dict
look-up. A reading is what the word can be: ``Льва`` is the genitive or accusative of the
name Лев and of the animal лев; ``мира`` only of the noun мир.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

# OpenCorpora grammemes: a first name, a surname, a patronymic.
_PERSON: Final = frozenset({"Name", "Surn", "Patr"})
# Readings that are proper names or made from one (a place, an organisation, a trademark,
# a possessive such as "Петров" = Petrov's): not the ordinary words a text writes in lower case.
_PROPER: Final = _PERSON | {"Geox", "Orgn", "Trad", "Poss"}


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading of a word: its lemma (``ё`` kept, as the dictionary writes it), whether it
    is a person's name, surname or patronymic, and whether it is an ordinary word."""

    lemma: str
    person: bool
    ordinary: bool


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    import pymorphy3

    # Without the estimator of how likely each reading is: which readings a word has is all
    # the callers ask, and the estimator is half of the time of a parse.
    return pymorphy3.MorphAnalyzer(lang="ru", probability_estimator_cls=None)


@lru_cache(maxsize=16384)
def readings(word: str) -> tuple[Reading, ...]:
    """The readings of one Russian ``word`` (any letter case), in the dictionary's order; for
    a word the dictionary does not hold, pymorphy3's guesses from its ending."""
    out: list[Reading] = []
    for parse in _analyzer().parse(word):
        grammemes = parse.tag.grammemes
        reading = Reading(
            lemma=parse.normal_form,
            person=bool(grammemes & _PERSON),
            ordinary=not grammemes & _PROPER,
        )
        if reading not in out:
            out.append(reading)
    return tuple(out)


@lru_cache(maxsize=4096)
def is_known(word: str) -> bool:
    """Whether the dictionary holds ``word`` as it is written (any letter case, ``е`` for
    ``ё``), rather than guessing its readings from the ending."""
    return bool(_analyzer().word_is_known(word.lower()))
