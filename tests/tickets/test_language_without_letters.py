"""An inquiry with no letters to tell its language by (emoji, digits, punctuation) was
taken for English, so a Chinese customer's "😀😀😀 / 🎧 123" went to English-speaking
experts labelled "English". It now takes the customer's own language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.language import detect_language
from tests.conftest import World
from tests.tickets.test_api import Desk


@pytest.mark.parametrize(("locale", "expected"), [("zh-Hans", "zh-Hans"), ("en", "en")])
def test_a_ticket_without_letters_is_in_the_customers_language(
    client: TestClient, world: World, db: Database, locale: str, expected: str
) -> None:
    desk = Desk(client, world, experts=1)
    with db.transaction() as uow:
        user = uow.session.get(User, desk.customer.id)
        assert user is not None
        user.locale = locale
    asked = desk.post(
        "/tickets", desk.customer, {"subject": "😀😀😀", "body": "🎧 123？", "skill": "general"}
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["language"] == expected


def test_letters_still_decide_the_language() -> None:
    assert detect_language("😀 耳机坏了") == "zh-Hans"
    assert detect_language("😀 broken", default="ru") == "en"
    assert detect_language("😀 123", default="ru") == "ru"
    assert detect_language("😀 123") == "en"
