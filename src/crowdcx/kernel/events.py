"""In-process domain events. Handlers are registered per event type and called after commit
by :class:`crowdcx.kernel.db.UnitOfWork`; a failing handler is logged, never re-raised into
the request that already committed."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
E = TypeVar("E")


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[Any], list[Callable[[Any], None]]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        self._handlers[event_type].append(handler)

    def dispatch(self, events: Iterable[object]) -> None:
        for event_ in events:
            for klass in type(event_).__mro__:
                for handler in self._handlers.get(klass, ()):
                    try:
                        handler(event_)
                    except Exception:
                        log.exception("event handler %r failed for %r", handler, event_)
