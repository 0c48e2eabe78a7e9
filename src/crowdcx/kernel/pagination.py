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


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": last_id})).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise _bad_cursor() from None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise _bad_cursor()  # (past 64 bits PostgreSQL refuses the comparison: a 500)
    return value


def _bad_cursor() -> Exception:
    return invalid("cursor", _("The cursor is not one this API gave out; start again without it."))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
