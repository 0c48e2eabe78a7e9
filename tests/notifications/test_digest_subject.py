"""The digest's subject counts its notifications in the reader's grammar: an English
reader with one new notification was mailed "CrowdCX: 1 new notifications"."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest

from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.notifications import service as notes
from crowdcx.tenancy.service import access_brand
from tests.conftest import World


@pytest.mark.parametrize(
    ("locale", "count", "subject"),
    [("en", 1, "CrowdCX: 1 new notification"), ("en", 2, "CrowdCX: 2 new notifications"),
     ("ru", 1, "CrowdCX: 1 новое уведомление"), ("ru", 5, "CrowdCX: 5 новых уведомлений"),
     ("zh-Hans", 1, "CrowdCX：1 条新通知")],
)  # fmt: skip
def test_the_subject_counts_in_the_readers_grammar(
    world: World, db: Database, locale: str, count: int, subject: str
) -> None:
    slug = world.brand()
    reader = world.person("Reader", locale=locale)
    with db.transaction() as uow:
        ctx = access_brand(uow.session, slug, None)
        for i in range(count):
            notes.notify(uow.session, ctx.brand.id, [reader.id], "accepted", {"title": f"Q{i}"},
                         f"/b/{slug}/community", utcnow() - timedelta(hours=1))  # fmt: skip
    sent: list[EmailMessage] = []
    with db.sessions() as session:
        notes.mail_digests(session, sent.append, utcnow())
    assert [m["Subject"] for m in sent] == [subject]
