"""Cursor pagination: opaque, URL-safe cursors over a strictly increasing key (the id).

A cursor survives inserts between pages (keyset pagination), unlike offsets."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from crowdcx.kernel.errors import invalid
from crowdcx.kernel.i18n import _

T = TypeVar("T")
MAX_LIMIT = 100
MAX_KEY_TEXT = 200  # the longest text part of a key cursor (the sort keys are short names)


def encode_cursor(last_id: int, score: int | None = None) -> str:
    """A cursor after ``last_id``; for a list ordered by a score first, with the last row's
    ``score`` too (the key is then (score, id))."""
    data: dict[str, int] = {"after": last_id}
    if score is not None:
        data["score"] = score
    return _encode(data)


def encode_key_cursor(key: Sequence[int | str]) -> str:
    """A cursor after the row whose sort key is ``key``, for a list ordered by more than a
    number and an id (the payouts statement: amount owed, then account, then currency)."""
    return _encode({"key": list(key)})


def _encode(data: dict[str, Any]) -> str:
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


def decode_key_cursor(
    cursor: str | None, shape: Sequence[type[int] | type[str]]
) -> tuple[int | str, ...] | None:
    """The sort key of a cursor made by :func:`encode_key_cursor`, checked against ``shape``
    (the type of each part); any other cursor is refused."""
    if not cursor:
        return None
    key = _cursor_data(cursor).get("key")
    if not isinstance(key, list) or len(key) != len(shape):
        raise _bad_cursor()
    parts: list[int | str] = []
    for value, kind in zip(key, shape, strict=True):
        if kind is int:
            parts.append(_whole(value))
        elif isinstance(value, str) and len(value) <= MAX_KEY_TEXT:
            parts.append(value)
        else:
            raise _bad_cursor()
    return tuple(parts)


def _bad_cursor() -> Exception:
    return invalid("cursor", _("The cursor is not one this API gave out; start again without it."))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
