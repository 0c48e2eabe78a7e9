"""Pure rules of data protection (PIPL, Taiwan's PDPA, Russia's 152-FZ): what an erased
account looks like, which values an erasure scrubs from texts, how often a person may
download their data, and the download's file name.

Erasure anonymises in place: the user row keeps its id (tickets, posts, the points and
money ledgers point at it) but loses everything that says who the person was."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Final

# Stored as the display name of every erased account and translated where it is shown
# (web.templating's finalize, notifications.service.text): a language-neutral marker, so a
# Russian reader of a Chinese thread reads it in Russian.
DELETED_NAME: Final = "Deleted user"

# RFC 2606 reserves .invalid: no mail can ever be delivered to an erased account.
ERASED_DOMAIN: Final = "erased.invalid"

# At most one download of one's data per person a minute: an export reads every table.
EXPORT_INTERVAL_S: Final = 60

# The shortest account name scrubbed from texts on its own: shorter ones ("Al", "李") are
# substrings of too many ordinary words; the customer's own fields are scrubbed as masking
# does for search (two characters on).
MIN_SCRUBBED_NAME: Final = 3


def erased_email(user_id: int) -> str:
    """The unique, non-deliverable address an erased account keeps (the column is unique)."""
    return f"deleted-{int(user_id)}@{ERASED_DOMAIN}"


def is_erased(email: str) -> bool:
    return email.endswith("@" + ERASED_DOMAIN) and email.startswith("deleted-")


def scrub_values(
    fields: Mapping[str, object], account_name: str, account_email: str
) -> dict[str, object]:
    """The values an erasure removes from a ticket's texts: the ticket's customer fields plus
    the account's own name and address (a customer signs a message with the name they
    registered under even when the ticket's fields hold another). An erased account's marker
    name and address are not personal data and are left alone; a field the ticket already
    has keeps its value (the ticket's own name is scrubbed in its Russian case forms too)."""
    values: dict[str, object] = {k: v for k, v in fields.items() if v not in (None, "")}
    if not is_erased(account_email):
        if account_email and account_email not in values.values():
            values.setdefault("email", account_email)
            if values["email"] != account_email:
                values["account_email"] = account_email
        name = account_name.strip()
        alnum = sum(1 for ch in name if ch.isalnum())
        if name != DELETED_NAME and alnum >= MIN_SCRUBBED_NAME and name not in values.values():
            values.setdefault("name", name)
            if values["name"] != name:
                values["account_name"] = name
    return values


def export_wait(last: datetime | None, now: datetime, interval_s: int = EXPORT_INTERVAL_S) -> int:
    """Seconds until this person may download their data again (0: now)."""
    if last is None:
        return 0
    elapsed = (now - last).total_seconds()
    if elapsed >= interval_s or elapsed < 0:
        return 0
    return max(1, int(interval_s - elapsed + 0.999))


def export_filename(day: date) -> str:
    return f"crowdcx-my-data-{day.isoformat()}.json"
