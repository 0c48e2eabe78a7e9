"""Live updates to browsers: a broadcaster that request threads publish to and Server-Sent
Events streams subscribe to.

``MemoryBroadcaster`` reaches subscribers in this process (embedded mode, one worker).
``RedisBroadcaster`` goes through Redis pub/sub, so a publish in one worker reaches a browser
connected to another; it is used when ``CROWDCX_REDIS_URL`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveMessage:
    channel: str
    event: str
    data: dict[str, Any]

    def to_json(self) -> bytes:
        return orjson.dumps({"channel": self.channel, "event": self.event, "data": self.data})

    @classmethod
    def from_json(cls, raw: bytes | str) -> LiveMessage:
        obj = orjson.loads(raw)
        return cls(obj["channel"], obj["event"], obj["data"])

    def sse(self) -> bytes:
        return b"event: " + self.event.encode() + b"\ndata: " + orjson.dumps(self.data) + b"\n\n"


class Broadcaster(Protocol):
    def publish(self, channel: str, event: str, data: dict[str, Any]) -> None: ...

    def subscribe(self, channels: Iterable[str]) -> AsyncIterator[LiveMessage]: ...

    async def close(self) -> None: ...


class MemoryBroadcaster:
    """Fan-out to asyncio queues; ``publish`` is safe to call from any thread."""

    def __init__(self, queue_size: int = 100) -> None:
        self._subs: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[LiveMessage]]]]
        self._subs = defaultdict(set)
        self._lock = threading.Lock()
        self._queue_size = queue_size

    def publish(self, channel: str, event: str, data: dict[str, Any]) -> None:
        message = LiveMessage(channel, event, data)
        with self._lock:
            targets = list(self._subs.get(channel, ()))
        for loop, queue in targets:
            loop.call_soon_threadsafe(_offer, queue, message)

    async def subscribe(self, channels: Iterable[str]) -> AsyncIterator[LiveMessage]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[LiveMessage] = asyncio.Queue(self._queue_size)
        entry = (loop, queue)
        names = list(channels)
        with self._lock:
            for name in names:
                self._subs[name].add(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                for name in names:
                    self._subs[name].discard(entry)
                    if not self._subs[name]:
                        del self._subs[name]

    def subscriber_count(self, channel: str) -> int:
        with self._lock:
            return len(self._subs.get(channel, ()))

    async def close(self) -> None:
        return None


def _offer(queue: asyncio.Queue[LiveMessage], message: LiveMessage) -> None:
    # A browser that stops reading must not grow memory without bound: drop the oldest.
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(message)


class RedisBroadcaster:
    """Redis pub/sub: publish with a sync client (request threads), subscribe with asyncio."""

    def __init__(self, url: str, prefix: str = "crowdcx:live:") -> None:
        import redis
        import redis.asyncio as aioredis

        self._url = url
        self._prefix = prefix
        self._sync = redis.Redis.from_url(url)
        self._async = aioredis.Redis.from_url(url)

    def publish(self, channel: str, event: str, data: dict[str, Any]) -> None:
        message = LiveMessage(channel, event, data)
        try:
            self._sync.publish(self._prefix + channel, message.to_json())
        except Exception:
            # Live updates are best effort: the state is committed; the page shows it on load.
            log.warning("live publish to %s failed", channel, exc_info=True)

    async def subscribe(self, channels: Iterable[str]) -> AsyncIterator[LiveMessage]:
        pubsub = self._async.pubsub()
        await pubsub.subscribe(*[self._prefix + name for name in channels])
        try:
            while True:
                raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if raw is None:
                    continue
                yield LiveMessage.from_json(raw["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        self._sync.close()
        await self._async.aclose()


async def sse_stream(
    broadcaster: Broadcaster,
    channels: Iterable[str],
    is_disconnected: Callable[[], Awaitable[bool]],
    keepalive_s: float = 15,
    still_allowed: Callable[[], Awaitable[bool]] | None = None,
    recheck_s: float = 30,
) -> AsyncIterator[bytes]:
    """The bytes of a Server-Sent Events response: the messages of ``channels`` as they come,
    a comment line every ``keepalive_s`` seconds of silence, until the client goes away — or,
    every ``recheck_s`` seconds, until ``still_allowed`` says the listener may no longer hear
    these channels (a role taken away, a session ended); the browser's EventSource then
    reconnects after the ``retry`` delay and hears what it may hear now."""
    yield b"retry: 3000\n: connected\n\n"
    messages = broadcaster.subscribe(channels).__aiter__()
    next_message = asyncio.ensure_future(messages.__anext__())
    checked = time.monotonic()
    try:
        while True:
            done, _pending = await asyncio.wait({next_message}, timeout=keepalive_s)
            if await is_disconnected():
                break
            if still_allowed is not None and time.monotonic() - checked >= recheck_s:
                checked = time.monotonic()
                if not await still_allowed():
                    break
            if not done:
                yield b": keep-alive\n\n"
                continue
            yield next_message.result().sse()
            next_message = asyncio.ensure_future(messages.__anext__())
    finally:
        # The pending __anext__ runs inside the subscription generator: let its cancellation
        # finish first, or aclose() finds the generator still running and raises.
        next_message.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await next_message
        await messages.aclose()  # type: ignore[attr-defined]


def make_broadcaster(redis_url: str | None) -> MemoryBroadcaster | RedisBroadcaster:
    return RedisBroadcaster(redis_url) if redis_url else MemoryBroadcaster()
