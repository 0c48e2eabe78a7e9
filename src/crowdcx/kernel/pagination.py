"""Cursor pagination: opaque, URL-safe cursors over a strictly increasing key (the id).

A cursor survives inserts between pages (keyset pagination), unlike offsets."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson

from crowdcx.kernel.errors import invalid
from crowdcx.kernel.i18n import _

T = TypeVar("T")
MAX_LIMIT = 100


def encode_cursor(last_id: int, score: int | None = None) -> str:
    """A cursor after ``last_id``; for a list ordered by a score first, with the last row's
    ``score`` too (the key is then (score, id))."""
    data: dict[str, int] = {"after": last_id}
    if score is not None:
        data["score"] = score
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def _cursor_data(cursor: str) -> dict[str, object]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise _bad_cursor() from None
    if not isinstance(data, dict):
        raise _bad_cursor()
    return data


def _whole(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
        raise _bad_cursor()  # (past 64 bits PostgreSQL refuses the comparison: a 500)
    return value


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    return _whole(_cursor_data(cursor).get("after"))


def decode_scored_cursor(cursor: str | None) -> tuple[int, int] | None:
    """(score, id) of a cursor made with a score; a cursor without one is refused."""
    if not cursor:
        return None
    data = _cursor_data(cursor)
    return _whole(data.get("score")), _whole(data.get("after"))


def _bad_cursor() -> Exception:
    return invalid("cursor", _("The cursor is not one this API gave out; start again without it."))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
