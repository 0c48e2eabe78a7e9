"""Live-update broadcasters: in memory always; through Redis when a server is configured."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
import redis  # a dependency of kernel.live.RedisBroadcaster

from crowdcx.kernel.live import LiveMessage, MemoryBroadcaster, RedisBroadcaster, sse_stream

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a fresh thread: the browser tests keep an event loop in the main one."""
    box: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]
    return box[0]


async def _first(
    broadcaster: MemoryBroadcaster | RedisBroadcaster,
    channel: str,
    publish: object,
    subscribed: Callable[[], bool] | None = None,
) -> LiveMessage:
    """The first message on ``channel`` after ``publish()``, which runs once the subscription
    is registered: ``subscribed()`` says so (a server round trip for Redis; a fixed 0.2 s
    pause lost the message on a slow machine and the read timed out)."""
    stream = broadcaster.subscribe([channel])
    task = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)
    for _ in range(100):
        if subscribed is None or subscribed():
            break
        await asyncio.sleep(0.05)
    publish()  # type: ignore[operator]
    try:
        return await asyncio.wait_for(task, timeout=5)
    finally:
        await stream.aclose()


def test_memory_broadcaster_delivers_across_threads() -> None:
    broadcaster = MemoryBroadcaster()

    def publish() -> None:
        thread = threading.Thread(
            target=broadcaster.publish, args=("user:1", "notice", {"text": "你好"})
        )
        thread.start()
        thread.join()

    message = run(_first(broadcaster, "user:1", publish))
    assert message == LiveMessage("user:1", "notice", {"text": "你好"})
    assert broadcaster.subscriber_count("user:1") == 0  # unsubscribed on close


def test_memory_broadcaster_only_reaches_the_channel() -> None:
    broadcaster = MemoryBroadcaster()

    async def scenario() -> list[LiveMessage]:
        stream = broadcaster.subscribe(["user:2"])
        task = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.05)
        broadcaster.publish("user:3", "notice", {"text": "not for you"})
        broadcaster.publish("user:2", "notice", {"text": "for you"})
        got = [await asyncio.wait_for(task, 2)]
        await stream.aclose()
        return got

    assert [m.data["text"] for m in run(scenario())] == ["for you"]


def test_sse_framing() -> None:
    assert LiveMessage("c", "offer", {"id": 1}).sse() == b'event: offer\ndata: {"id":1}\n\n'


@pytest.mark.redis
def test_redis_broadcaster_round_trip() -> None:
    url = os.environ.get("CROWDCX_TEST_REDIS_URL")
    if not url:
        pytest.skip("CROWDCX_TEST_REDIS_URL is not set")
    broadcaster = RedisBroadcaster(url, prefix="crowdcx-test:")
    probe = redis.Redis.from_url(url)

    async def scenario() -> LiveMessage:
        try:
            return await _first(
                broadcaster,
                "user:42",
                lambda: broadcaster.publish("user:42", "notice", {"text": "Привет"}),
                lambda: bool(probe.pubsub_numsub("crowdcx-test:user:42")[0][1]),
            )
        finally:
            await broadcaster.close()

    assert run(scenario()) == LiveMessage("user:42", "notice", {"text": "Привет"})


def test_sse_stream_ends_cleanly_when_the_client_goes_away() -> None:
    """A browser that disconnects while the stream waits for a message: the stream ends,
    unsubscribes, and closing the subscription raises nothing (it used to log
    "aclose(): asynchronous generator is already running")."""
    broadcaster = MemoryBroadcaster()
    gone = asyncio.Event()

    async def is_disconnected() -> bool:
        return gone.is_set()

    async def scenario() -> list[bytes]:
        chunks: list[bytes] = []
        stream = sse_stream(broadcaster, ["user:7"], is_disconnected, keepalive_s=0.2)
        chunks.append(await stream.__anext__())
        pending = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.02)  # the stream subscribes when its next chunk is asked for
        broadcaster.publish("user:7", "offer", {"subject": "Заказ 订单"})
        chunks.append(await pending)
        chunks.append(await stream.__anext__())  # silence: a keep-alive comment
        assert broadcaster.subscriber_count("user:7") == 1
        gone.set()  # the next wait times out with a message read still pending
        chunks += [chunk async for chunk in stream]
        assert broadcaster.subscriber_count("user:7") == 0
        return chunks

    chunks = run(scenario())
    assert chunks[0].startswith(b"retry: 3000")
    assert chunks[1].startswith(b"event: offer\ndata: ")
    assert "Заказ 订单".encode() in chunks[1]
    assert chunks[2] == b": keep-alive\n\n"
    assert len(chunks) == 3
