"""Masking customer fields: examples in the four scripts, and properties on odd input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.tickets.masking import (
    mask_field,
    mask_quoted,
    present,
    quoted_fields,
    scrub,
    visible_fields,
)
from crowdcx.tickets.policy import CUSTOMER_FIELDS, default_policy

POLICY = default_policy()  # tier 0: name; 1: +order_number; 2: +email; 3: +phone, address


@pytest.mark.parametrize(
    ("field", "raw", "shown"),
    [
        ("phone", "13812345678", "138****5678"),
        ("phone", "+7 (912) 345-67-89", "+7 (91*) ***-67-89"),
        ("phone", "0912-345-678", "****-**5-678"),
        ("phone", "12345", "***45"),
        ("phone", "9123 4567", "**** 4567"),  # Hong Kong mobile
        ("phone", "6123-4567", "****-4567"),  # Singapore
        ("phone", "812 345 678", "*** **5 678"),  # 9 digits
        ("phone", "+852 9123 4567", "+852 **** 4567"),
        ("phone", "+44 7911 123456", "+44 **** **3456"),  # 12 digits: half
        ("phone", "+86 138 1234 5678", "+86 1** **** 5678"),
        ("email", "alice@example.com", "a***@example.com"),
        ("email", "a@example.com", "***@example.com"),
        ("name", "张三丰", "张**"),
        ("name", "張三", "張*"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("name", "Иван Петров", "И*** П*****"),
        ("name", "John Smith", "J*** S****"),
        ("order_number", "ORD-2024-889123", "***-****-**9123"),
        ("address", "上海市浦东新区世纪大道100号", "上海市***"),
        ("address", "臺北市信義區市府路1號", "臺北市***"),
        ("address", "Москва, ул. Тверская, д. 1", "Москва, ***"),
        ("address", "221B Baker Street, London NW1 6XE", "***, London"),
        ("name", "", ""),
        ("name", "😀", "***"),
        ("phone", "\ud800\udfff", "***"),
    ],
)
def test_masking_examples(field: str, raw: str, shown: str) -> None:
    assert mask_field(field, raw) == shown


def test_visible_fields_grow_with_tier() -> None:
    assert visible_fields(0, POLICY) == {"name"}
    assert visible_fields(2, POLICY) == {"name", "order_number", "email"}
    assert visible_fields(3, POLICY) == set(CUSTOMER_FIELDS)
    assert visible_fields(-1, POLICY) == set()


def test_present_masks_and_lists_unmasked_fields_for_the_access_log() -> None:
    fields = {"name": "张三", "phone": "13812345678", "email": "", "order_number": None}
    shown, unmasked = present(fields, 0, POLICY)
    assert shown == {"name": "张三", "phone": "138****5678", "email": "", "order_number": ""}
    assert unmasked == ["name"]
    shown3, unmasked3 = present(fields, 3, POLICY)
    assert shown3["phone"] == "13812345678"
    assert set(unmasked3) == {"name", "phone"}


@pytest.mark.parametrize("raw", ["9123 4567", "91234567", "6123-4567", "812 345 678"])
def test_a_short_phone_hides_as_many_digits_as_a_mobile(raw: str) -> None:
    """138****5678 hides four digits; an 8–9-digit number (Hong Kong, Singapore, a mainland
    landline without its area code) used to show seven of them, the eighth one of ten."""
    masked = mask_field("phone", raw)
    hidden = sum(ch.isdigit() for ch in raw) - sum(ch.isdigit() for ch in masked)
    assert hidden >= 4, masked


def test_tier_0_does_not_see_a_hong_kong_mobile() -> None:
    shown, unmasked = present({"phone": "9123 4567"}, 0, POLICY)
    assert shown["phone"] == "**** 4567"
    assert unmasked == []


phone_numbers = st.lists(
    st.tuples(st.sampled_from("0123456789"), st.sampled_from(["", "", "", " ", "-"])),
    min_size=6,
    max_size=20,
).map(lambda parts: "".join(d + sep for d, sep in parts).strip(" -"))


@given(phone_numbers)
def test_a_masked_phone_shows_at_most_half_its_digits(raw: str) -> None:
    """At most half the digits (rounded up) — 11 digits keep the 3 + 4 of 138****5678 — and
    at least four hidden from 8 digits on; the punctuation stays where it was."""
    masked = mask_field("phone", raw)
    n = sum(ch.isdigit() for ch in raw)
    shown = sum(ch.isdigit() for ch in masked)
    assert shown <= (7 if n == 11 else math.ceil(n / 2)), (raw, masked)
    if n >= 8:
        assert n - shown >= 4, (raw, masked)
    assert len(masked) == len(raw)
    assert all(m in (r, "*") for r, m in zip(raw, masked, strict=True))


any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
field_names = st.sampled_from([*CUSTOMER_FIELDS, "notes"])


@given(field_names, any_text)
def test_masking_never_raises_and_never_reveals_every_letter(field: str, raw: str) -> None:
    masked = mask_field(field, raw)
    assert isinstance(masked, str)
    total = sum(ch.isalnum() for ch in raw)
    if total:
        assert sum(ch.isalnum() for ch in masked) < total
    if field == "phone":
        assert sum(ch.isdigit() for ch in masked) <= 7


@given(
    st.dictionaries(field_names, st.one_of(st.none(), any_text)),
    st.integers(min_value=-2, max_value=5),
)
def test_present_never_shows_more_than_the_tier_allows(
    fields: dict[str, str | None], tier: int
) -> None:
    allowed = visible_fields(tier, POLICY)
    shown, unmasked = present(fields, tier, POLICY)
    assert set(shown) == set(fields)
    assert set(unmasked) <= allowed
    for name, raw in fields.items():
        if raw and any(ch.isalnum() for ch in raw) and name not in allowed:
            assert shown[name] != raw
            assert name not in unmasked


@given(st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=3))
def test_a_higher_tier_never_sees_less(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert visible_fields(lo, POLICY) <= visible_fields(hi, POLICY)


FIELDS = {
    "name": "陳大文",
    "phone": "+886 912-345-678",
    "email": "иван@почта.рф",
    "order_number": "ORD-2024-889123",
    "address": "臺北市信義區市府路1號",
}


@pytest.mark.parametrize(
    ("text", "allowed", "shown"),
    [
        ("訂單 ord-2024-889123 沒到", {"name"}, "訂單 ***-****-**9123 沒到"),
        ("訂單 ORD-2024-889123 沒到", {"name", "order_number"}, "訂單 ORD-2024-889123 沒到"),
        ("請打 0912 345 678", {"name"}, "請打 **** **5 678"),  # another form of the phone
        ("Пишите: ИВАН@почта.рф", {"name"}, "Пишите: И***@почта.рф"),
        ("寄到臺北市信義區市府路1號給陳大文", {"name"}, "寄到臺北市***給陳大文"),
        ("寄到臺北市信義區市府路1號給陳大文", set(), "寄到臺北市***給陳**"),
        ("請打 +886.912.345.678", {"name"}, "請打 +88*.***.**5.678"),
        ("請打 ０９１２－３４５－６７８", {"name"}, "請打 ****－**５－６７８"),  # full-width
        ("other@example.com, 2026-11-30", {"name"}, "o***@example.com, 2026-11-30"),
    ],
)
def test_quoted_customer_data_is_masked_like_the_field(
    text: str, allowed: set[str], shown: str
) -> None:
    assert mask_quoted(text, FIELDS, allowed) == shown


@given(st.text(max_size=30), st.text(max_size=30), st.sampled_from(CUSTOMER_FIELDS))
def test_a_hidden_value_never_survives_in_the_text(before: str, after: str, field: str) -> None:
    value = FIELDS[field]
    out = mask_quoted(f"{before}{value.upper()}{after}{value}", FIELDS, {"x"})
    assert value not in out
    assert value.upper() not in out


def test_an_address_quoted_in_another_order_is_masked() -> None:
    fields = {"address": "Москва, ул. Тверская, д. 1"}
    shown = mask_quoted("Живу: ул. тверская, д. 1, Москва", fields, {"name"})
    assert shown == "Живу: ул. ***, д. 1, ***"


def test_quoted_fields_names_the_allowed_values_a_text_quotes() -> None:
    fields = {"name": "Иван Петров", "phone": "+7 916 123-45-67", "email": "ivan@example.ru",
              "order_number": "VL-2026-77"}  # fmt: skip
    text = "Позвоните ИВАН ПЕТРОВ по 8 (916) 123 45 67, заказ vl-2026-77."
    assert quoted_fields(text, fields, {"name", "phone", "order_number"}) == {
        "name", "phone", "order_number"
    }  # fmt: skip
    assert quoted_fields(text, fields, {"email"}) == set()  # hidden ones are masked, not read
    assert quoted_fields("请尽快处理，谢谢", fields, CUSTOMER_FIELDS) == set()
    assert quoted_fields("write to IVAN@example.ru", fields, {"email"}) == {"email"}


def test_a_russian_name_is_masked_in_every_case_it_is_declined_in() -> None:
    """ "Передайте Ивану Петрову": the name quoted in the dative was shown to experts whose tier
    hides it — only the nominative, as stored, was recognised."""
    fields = {"name": "Иван Петров", "phone": "+7 916 123-45-67"}
    text = "Передайте Ивану Петрову, что заказ Ивана Петрова готов; с Иваном Петровым всё ясно."
    masked = mask_quoted(text, fields, {"phone"})
    for form in ("Ивану", "Петрову", "Ивана", "Петрова", "Иваном", "Петровым"):
        assert form not in masked
    assert "Передайте И**** П******" in masked
    # Other words sharing the beginning are left alone; so is the name for those who may see it.
    other = "Петровский проспект, Иваново"
    assert mask_quoted(other, fields, {"phone"}) == other
    assert mask_quoted(text, fields, {"name"}) == text
    assert quoted_fields("для Ивана", fields, {"name"}) == {"name"}
    women = mask_quoted("Анной, Анне и Марии Кузнецовой", {"name": "Анна Кузнецова"}, set())
    assert women == "А****, А*** и Марии К*********"
    # Past tickets indexed for search lose the name in every case too.
    assert scrub("Спасибо, Ивану передали", fields) == "Спасибо, ▇▇▇ передали"


def test_fragments_of_a_chinese_address_are_masked_when_quoted() -> None:
    """Chinese writes an address without separators: "送到建国路88号" quoted the customer's
    street and number, and only the whole address, as stored, was recognised."""
    fields = {"address": "北京市朝阳区建国路88号1栋302室"}
    for text in ("快递送到建国路88号，谢谢", "放在88号1栋302室门口", "寄到朝阳区建国路88号"):
        masked = mask_quoted(text, fields, set())
        assert "88号" not in masked, masked
        assert scrub(text, fields).count("▇▇▇") == 1
    assert mask_quoted("我也在北京市朝阳区", fields, set()) == "我也在北京市朝阳区"  # the region
    taipei = {"address": "臺北市大安區忠孝東路四段100號5樓"}
    assert "100號" not in mask_quoted("請送到忠孝東路四段100號", taipei, {"name"})
    assert quoted_fields("請送到忠孝東路四段100號", taipei, {"address"}) == {"address"}


def test_scrub_takes_a_name_apart_and_an_order_number_without_its_prefix() -> None:
    from crowdcx.tickets.masking import scrub

    fields = {"name": "Alice Wong", "order_number": "LM-2026-778899"}
    assert scrub("Hi Alice, Ms. WONG: order #778899", fields) == "Hi ▇▇▇, Ms. ▇▇▇: order #▇▇▇"
    assert scrub("Alicea and 1778899 stay", fields) == "Alicea and 1778899 stay"
    assert scrub("欧阳女士、李先生您好", {"name": "欧阳娜娜"}) == "▇▇▇、李先生您好"


def test_a_word_of_the_name_used_alone_is_masked_where_it_is_written_as_a_name() -> None:
    """On screen only the whole name was masked: a tier that hides "Alice Wong" read "Hi
    Alice" and "李先生" (search cleaning caught them). A capitalised word of the name, or a
    Chinese surname with a title, is masked now; a lower-case "mark" is an ordinary word."""
    alice = {"name": "Alice Wong"}
    assert "Alice" not in mask_quoted("Hi Alice, thanks for waiting.", alice, set())
    assert "WONG" not in mask_quoted("Dear MS. WONG,", alice, set())
    assert mask_quoted("Hi Alice!", alice, {"name"}) == "Hi Alice!"  # allowed: as written
    mark = {"name": "Mark Lee"}
    assert mask_quoted("Please mark the order as urgent.", mark, set()) == (
        "Please mark the order as urgent."
    )
    assert "Mark" not in mask_quoted("Mark, your refund is on its way.", mark, set())
    assert "李先生" not in mask_quoted("李先生您好，已为您处理。", {"name": "李伟"}, set())
    assert quoted_fields("Hi Alice!", alice, {"name"}) == {"name"}
