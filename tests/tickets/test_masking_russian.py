"""Russian names in a ticket's text: every case form of the customer's name is masked (and
scrubbed for search), including those that drop a vowel (Лев → Льва), and ordinary words that
merely begin like the name (мир → мира) are not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.tickets.masking import mask_quoted, quoted_fields, scrub

HIDDEN: set[str] = {"phone"}  # the viewer may not see the name

# Each word of a name, its six case forms as a person writes them (nominative, genitive,
# dative, accusative, instrumental, prepositional), and whether the word is also an ordinary
# word (the animal лев, the adjective толстый): then only its capitalised forms are the name.
FORMS: dict[str, tuple[tuple[str, ...], bool]] = {
    "Лев": (("Лев", "Льва", "Льву", "Льва", "Львом", "Льве"), True),
    "Павел": (("Павел", "Павла", "Павлу", "Павла", "Павлом", "Павле"), False),
    "Пётр": (("Пётр", "Петра", "Петру", "Петра", "Петром", "Петре", "Петр"), False),
    "Сергей": (("Сергей", "Сергея", "Сергею", "Сергея", "Сергеем", "Сергее"), False),
    "Анна": (("Анна", "Анны", "Анне", "Анну", "Анной", "Анне"), False),
    "Ольга": (("Ольга", "Ольги", "Ольге", "Ольгу", "Ольгой", "Ольге"), False),
    "Любовь": (("Любовь", "Любови", "Любовью"), True),
    "Иванов": (("Иванов", "Иванова", "Иванову", "Иванова", "Ивановым", "Иванове"), False),
    "Иванова": (("Иванова", "Ивановой", "Иванову"), False),
    "Кузнецова": (("Кузнецова", "Кузнецовой", "Кузнецову"), False),
    "Толстой": (("Толстой", "Толстого", "Толстому", "Толстым", "Толстом"), True),
    "Николаевич": (("Николаевич", "Николаевича", "Николаевичу", "Николаевичем"), False),
    "Алексеевна": (("Алексеевна", "Алексеевны", "Алексеевне", "Алексеевну", "Алексеевной"), False),
    # Not in the dictionary: the rule of letters (the stem, then case endings).
    "Шевчукович": (("Шевчукович", "Шевчуковича", "Шевчуковичу", "Шевчуковичем"), False),
}


@pytest.mark.parametrize(
    ("name", "text", "shown"),
    [
        (
            "Лев Толстой",
            "Передайте Льву, что заказ Льва готов",
            "Передайте Л***, что заказ Л*** готов",
        ),
        ("Лев Толстой", "Со Львом Толстым всё ясно", "Со Л**** Т****** всё ясно"),
        ("Павел Смирнов", "Для Павла Смирнова", "Для П**** С*******"),
        ("Пётр Иванов", "У Петра и Петру", "У П**** и П****"),
        ("Пётр Иванов", "Ивановым и Иванова", "И******* и И******"),
        ("Анна Иванова", "Анны нет, с Анной Ивановой", "А*** нет, с А**** И*******"),
    ],
)
def test_a_name_that_drops_a_vowel_is_masked_in_every_case(
    name: str, text: str, shown: str
) -> None:
    """ "Передайте Льву": Лев, Павел and Пётр drop a vowel as they decline (Льва, Павла,
    Петра), and a name was recognised only by its letters, so those forms were shown."""
    assert mask_quoted(text, {"name": name}, HIDDEN) == shown
    assert quoted_fields(text, {"name": name}, {"name"}) == {"name"}
    assert "▇▇▇" in scrub(text, {"name": name})


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Мир", "Лучший сервис для всего мира, миру мир"),
        ("Мира Петрова", "для всего мира"),
        ("Роман Петров", "Прочитал роман, в романе и о романах"),
        ("Лев Толстой", "Видел льва в зоопарке, толстого и доброго"),
        ("Иван Петров", "Петровский проспект, Иваново, ива"),
    ],
)
def test_an_ordinary_word_that_begins_like_the_name_stays(name: str, text: str) -> None:
    """A customer named Мир: "для всего мира" read "для всего м**а" — every word that began
    with the name and went on with a case ending was masked, even inside "Владимир". Words
    that can be ordinary words count as the name only when capitalised, as names are written."""
    assert mask_quoted(text, {"name": name}, HIDDEN) == text
    assert scrub(text, {"name": name}) == text
    assert quoted_fields(text, {"name": name}, {"name"}) == set()


def test_an_ordinary_word_written_as_a_name_is_masked() -> None:
    assert mask_quoted("Передайте Миру, что Мир прав", {"name": "Мир"}, HIDDEN) == (
        "Передайте М***, что М** прав"
    )
    assert mask_quoted("Роману и роман", {"name": "Роман"}, HIDDEN) == "Р***** и роман"
    assert mask_quoted("ЛЬВУ ТОЛСТОМУ", {"name": "Лев Толстой"}, HIDDEN) == "Л*** Т*******"
    assert scrub("Владимир и Мир", {"name": "Мир"}) == "Владимир и ▇▇▇"


def test_a_name_only_a_name_is_masked_in_lower_case_too() -> None:
    fields = {"name": "Павел Иванов"}
    assert mask_quoted("пишу павлу иванову", fields, HIDDEN) == "пишу п**** и******"


def test_a_name_in_another_script_or_with_initials_is_as_before() -> None:
    fields = {"name": "Иванов И.И."}  # not Cyrillic words alone: also quoted as a whole
    assert mask_quoted("Иванову И.И. и ивановым", fields, HIDDEN) == "И****** И.И. и и*******"
    assert mask_quoted("Иванов И.И.", fields, HIDDEN) == "И***** И***"
    english = {"name": "Alice Wong"}
    assert mask_quoted("Алиса, ALICE WONG", english, HIDDEN) == "Алиса, A**** W***"
    assert scrub("Hi Alice, Алиса", english) == "Hi ▇▇▇, Алиса"


NAMES = st.lists(st.sampled_from(sorted(FORMS)), min_size=1, max_size=3, unique=True)
AROUND = st.text(max_size=20)


@given(NAMES, st.data(), AROUND, AROUND, st.sampled_from(["title", "upper", "lower"]))
def test_any_case_form_of_the_name_is_always_masked(
    words: list[str], data: st.DataObject, before: str, after: str, style: str
) -> None:
    word = data.draw(st.sampled_from(words))
    forms, ordinary = FORMS[word]
    form = data.draw(st.sampled_from(forms))
    if style == "upper":
        form = form.upper()
    elif style == "lower" and not ordinary:  # "льва" in lower case is the animal's
        form = form.lower()
    fields = {"name": " ".join(words)}
    text = f"{before} {form} {after}"
    already = before.count(form) + after.count(form)
    assert mask_quoted(text, fields, HIDDEN).count(form) <= already
    assert scrub(text, fields).count(form) <= already
    assert quoted_fields(text, fields, {"name"}) == {"name"}
