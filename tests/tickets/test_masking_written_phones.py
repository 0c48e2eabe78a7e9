"""A customer often writes their phone number in the description instead of the phone
field (or a second number beside the one in the field). A viewer whose tier hides phones
must not read it in full: numbers shaped as a mobile (mainland China, Russia, Taiwan) or
written in international form (+ and 8–15 digits) are masked like the phone field; dates,
order numbers, amounts and tracking numbers stay as written."""

from __future__ import annotations

import pytest

from crowdcx.tickets.masking import mask_quoted


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("They don't charge. Phone 13912345678", "They don't charge. Phone 139****5678"),
        ("电话：139 1234 5678，谢谢", "电话：139 **** 5678，谢谢"),
        ("请联系 +86 139-1234-5678", "请联系 +86 1**-****-5678"),
        ("Звоните 8 (912) 345-67-89", "Звоните 8 (91*) ***-67-89"),
        ("Мой номер +7 912 345 67 89", "Мой номер +7 91* *** 67 89"),
        ("請打 0912-345-678", "請打 ****-**5-678"),
        ("Call me on +44 7700 900123", "Call me on +44 **** **0123"),
        ("电话１３９１２３４５６７８", "电话１３９****５６７８"),  # full-width, no space
        ("电话13912345678", "电话139****5678"),
    ],
)
def test_a_phone_number_written_in_the_text_is_masked(text: str, shown: str) -> None:
    assert mask_quoted(text, {}, set()) == shown
    assert mask_quoted(text, {"phone": "13800000000"}, {"name"}) == shown  # another number


@pytest.mark.parametrize(
    "text",
    [
        "订单 LM-2026-000123 还没发货",
        "Order 2026-12-07, paid 1299.00",
        "顺丰单号 SF1391234567890",  # a tracking number, not a phone
        "快递单号 73100012345678",
        "型号 WH-1000XM5，序列号 12345678",
        "Заказ № 2026120712, 8 шт.",
    ],
)
def test_other_numbers_stay_as_written(text: str) -> None:
    assert mask_quoted(text, {}, set()) == text


def test_a_viewer_allowed_phones_reads_them_as_written() -> None:
    text = "Phone 13912345678, or +7 912 345 67 89"
    assert mask_quoted(text, {}, {"phone"}) == text
