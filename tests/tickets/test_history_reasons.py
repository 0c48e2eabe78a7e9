"""The reasons the system records on a ticket's transitions (an offer that ran out, an
automatic close, an escalation for the SLA or for want of a taker) were shown to experts and
staff as codes: "(Automatically: offer_expired)", "（系统自动：auto_close）", and the staff
queue's reason column showed "sla_at_risk" / "max_rings". They read as words now."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from crowdcx.kernel.db import Database
from crowdcx.kernel.i18n import use_locale
from crowdcx.kernel.models import utcnow
from crowdcx.tickets import rules as lifecycle
from crowdcx.tickets.service import escalation_reason_text
from crowdcx.tickets.sweeper import sweep_once
from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import sign_in

CODES = (
    "offer_expired",
    "auto_close",
    "sla_at_risk",
    "max_rings",
    lifecycle.LANGUAGE_NOT_SERVED,
    lifecycle.OWNER_UNAVAILABLE,
)


@pytest.mark.parametrize("locale", ["en", "ru", "zh-Hans", "zh-Hant"])
def test_every_system_reason_reads_as_words(locale: str) -> None:
    with use_locale(locale):
        texts = [escalation_reason_text(code) for code in CODES]
    for code, text in zip(CODES, texts, strict=True):
        assert text != code, (locale, code)
        assert "_" not in text, (locale, code, text)
    if locale != "en":
        with use_locale("en"):
            english = [escalation_reason_text(code) for code in CODES]
        assert not set(texts) & set(english), locale  # translated
    assert escalation_reason_text("需要退款") == "需要退款"  # a person's words as written


@pytest.mark.parametrize(
    ("lang", "shown"),
    [("en", "The offer ran out"), ("zh-Hans", "派单已过期"), ("zh-Hant", "派單已過期")],
)
def test_the_history_shows_an_expired_offer_in_words(
    client: TestClient, world: World, db: Database, lang: str, shown: str
) -> None:
    desk = Desk(client, world, experts=1)
    desk.online(desk.experts[0])
    offered = desk.ask()
    assert offered["status"] == "offered"
    assert sweep_once(db, utcnow() + timedelta(seconds=130)) == {"expire": 1}
    sign_in(client, desk.agent)
    page = client.get(f"/b/{desk.slug}/tickets/{offered['id']}?lang={lang}")
    assert page.status_code == 200
    history = page.text[page.text.index('id="hist-h"') :]
    assert "offer_expired" not in history
    assert re.search(re.escape(shown), history), history[:1500]
