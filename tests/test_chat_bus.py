"""The chat bus: the in-memory one, and Redis pub/sub against a real redis-server.

Two :class:`RedisBus` instances on one Redis stand for two processes. Redis tests await
real sockets, so they run on the real clock inside ``trio.fail_after``; nothing sleeps.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import trio
import trio.testing

from duo.aio import aio
from duo.chat.bus import (
    ONLINE_STATUS_SECONDS,
    Bus,
    MemoryBus,
    RedisBus,
    connection_topic,
    kick_topic,
    online_topic,
    open_bus,
    user_topic,
)
from duo.redis_client import open_redis

PERSON = "5b0b4bd0-0f59-4b7e-9d6c-9b0e6f3a2a11"


def fresh(topic: str) -> str:
    """A topic no other test uses (the redis-server lives for the whole session)."""
    return f"{topic}-{uuid.uuid4()}"


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest, redis_url: str, aio_loop: None) -> AsyncIterator[Bus]:
    async with open_bus("" if request.param == "memory" else redis_url) as opened:
        yield opened


@pytest.fixture
async def two_processes(redis_url: str, aio_loop: None) -> AsyncIterator[tuple[Bus, Bus, Any]]:
    """Two buses on one Redis (as two duo processes), and a plain client to inspect it."""
    async with open_bus(redis_url) as first, open_bus(redis_url) as second, open_redis(redis_url) as admin:
        yield first, second, admin


def test_topics_are_named_as_the_spec_names_them() -> None:
    assert user_topic(PERSON) == PERSON
    assert online_topic(PERSON) == f"online-{PERSON}"
    assert connection_topic("c0ffee") == "c0ffee"
    assert kick_topic(PERSON) == f"kick-{PERSON}"


async def test_every_subscriber_of_a_topic_gets_each_payload_once(bus: Bus) -> None:
    topic, other = fresh("t"), fresh("u")
    with trio.fail_after(10):
        async with bus.subscribe(topic) as a, bus.subscribe(topic) as b, bus.subscribe(other) as c:
            await bus.publish(topic, b"one")
            await bus.publish(topic, b"two")
            await bus.publish(other, b"elsewhere")
            assert [await a.receive(), await a.receive()] == [b"one", b"two"]
            assert [await b.receive(), await b.receive()] == [b"one", b"two"]
            assert await c.receive() == b"elsewhere"
            await bus.publish(other, b"marker")  # after it, nothing else can be in flight
            assert await c.receive() == b"marker"
            with pytest.raises(trio.WouldBlock):
                a.receive_nowait()


async def test_a_left_topic_delivers_nothing_and_is_forgotten(bus: Bus) -> None:
    topic, marker = fresh("t"), fresh("m")
    got: list[bytes] = []
    with trio.fail_after(10):
        async with bus.listen(topic, got.append):
            assert bus.local_topics() == 1
            await bus.publish(topic, b"while listening")
            async with bus.subscribe(marker) as markers:
                await bus.publish(marker, b"done")
                await markers.receive()
        assert bus.local_topics() == 0
        await bus.publish(topic, b"after leaving")
        async with bus.subscribe(marker) as markers:
            await bus.publish(marker, b"done")
            await markers.receive()
    assert got == [b"while listening"]


async def test_a_subscriber_that_does_not_keep_up_is_cut_off(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    topic = fresh("t")
    with trio.fail_after(10):
        async with bus.subscribe(topic, capacity=2) as slow, bus.subscribe(topic) as fine:
            for payload in (b"1", b"2", b"3", b"4"):
                await bus.publish(topic, payload)
            assert [await fine.receive() for _ in range(4)] == [b"1", b"2", b"3", b"4"]
            assert [payload async for payload in slow] == [b"1", b"2"]
    assert any("does not keep up" in r.getMessage() for r in caplog.records)


async def test_status_is_published_and_kept(bus: Bus) -> None:
    topic = online_topic(fresh("p"))
    with trio.fail_after(10):
        assert await bus.last(topic) is None  # nothing stored: offline
        async with bus.subscribe(topic) as events:
            await bus.publish(topic, b"<online/>", keep_seconds=ONLINE_STATUS_SECONDS)
            assert await events.receive() == b"<online/>"
        assert await bus.last(topic) == b"<online/>"


async def test_kept_status_expires_in_memory(autojump_clock: trio.testing.MockClock) -> None:
    bus = MemoryBus()
    await bus.publish("online-a", b"online", keep_seconds=ONLINE_STATUS_SECONDS)
    await trio.sleep(ONLINE_STATUS_SECONDS - 1)
    assert await bus.last("online-a") == b"online"
    await trio.sleep(1)
    assert await bus.last("online-a") is None  # expired: offline, and no event for it


async def test_expired_kept_payloads_are_swept_in_memory(autojump_clock: trio.testing.MockClock) -> None:
    bus = MemoryBus()
    for i in range(MemoryBus.SWEEP_EVERY - 1):
        await bus.publish(f"online-{i}", b"x", keep_seconds=10)
    await trio.sleep(11)
    await bus.publish("online-last", b"x", keep_seconds=10)
    assert bus._kept.keys() == {"online-last"}


async def test_two_processes_exchange_messages_over_one_redis(
    two_processes: tuple[Bus, Bus, Any],
) -> None:
    first, second, _ = two_processes
    topic = user_topic(fresh("person"))
    with trio.fail_after(10):
        async with first.subscribe(topic) as here, second.subscribe(topic) as there:
            await first.publish(topic, b"from the first")
            await second.publish(topic, b"from the second")
            for receive in (here, there):
                assert {await receive.receive(), await receive.receive()} == {
                    b"from the first",
                    b"from the second",
                }
        status = online_topic(fresh("person"))
        await first.publish(status, b"<duo_online_event/>", keep_seconds=ONLINE_STATUS_SECONDS)
        assert await second.last(status) == b"<duo_online_event/>"


async def test_one_redis_subscription_per_process(
    two_processes: tuple[Bus, Bus, Any],
) -> None:
    first, second, admin = two_processes
    topic, other = fresh("person"), fresh("person")
    with trio.fail_after(20):
        async with AsyncExitStack() as stack:
            channels = [await stack.enter_async_context(first.subscribe(topic)) for _ in range(50)]
            channels += [await stack.enter_async_context(first.subscribe(other)) for _ in range(10)]
            channels.append(await stack.enter_async_context(second.subscribe(topic)))
            counts = dict(await aio(admin.pubsub_numsub)(topic, other))
            assert counts == {topic.encode(): 2, other.encode(): 1}  # one per process
            pubsub_clients = await aio(admin.client_list)(_type="pubsub")
            assert len(pubsub_clients) == 2  # two processes, 61 local subscribers
            await second.publish(topic, b"fan-out")
            for channel in channels[:50] + channels[60:]:
                assert await channel.receive() == b"fan-out"
        counts = dict(await aio(admin.pubsub_numsub)(topic, other))
        assert counts == {topic.encode(): 0, other.encode(): 0}  # interest gone, unsubscribed
        assert first.local_topics() == 0 and second.local_topics() == 0


async def test_redis_keeps_status_for_twelve_hours(two_processes: tuple[Bus, Bus, Any]) -> None:
    first, _, admin = two_processes
    topic = online_topic(fresh("person"))
    with trio.fail_after(10):
        await first.publish(topic, b"<duo_online_event/>", keep_seconds=ONLINE_STATUS_SECONDS)
        ttl = await aio(admin.ttl)(topic)
    assert ONLINE_STATUS_SECONDS - 5 <= ttl <= ONLINE_STATUS_SECONDS


async def test_the_subscription_survives_a_lost_redis_connection(
    two_processes: tuple[Bus, Bus, Any], caplog: pytest.LogCaptureFixture
) -> None:
    first, second, admin = two_processes
    assert isinstance(first, RedisBus)
    first.RETRY_SECONDS = 0.01
    topic, later = fresh("person"), fresh("person")
    with trio.fail_after(10):
        async with first.subscribe(topic) as receive:
            await aio(admin.client_kill_filter)(_type="pubsub")  # both processes lose it
            async with first.subscribe(later) as receive_later:  # reconnects, resubscribes
                await second.publish(topic, b"after the loss")
                await second.publish(later, b"new topic")
                assert await receive.receive() == b"after the loss"
                assert await receive_later.receive() == b"new topic"
    assert any("lost Redis" in r.getMessage() for r in caplog.records)


async def test_a_subscribe_while_the_loss_is_being_repaired_waits_for_the_repair(
    two_processes: tuple[Bus, Bus, Any],
) -> None:
    """The reader has seen the loss and is pausing before it reconnects: a subscribe then must
    not go out on the lost connection (nobody reads it any more) but ride on the recovery."""
    first, second, admin = two_processes
    assert isinstance(first, RedisBus)
    first.RETRY_SECONDS = 0.3
    held, topic = fresh("person"), fresh("person")
    with trio.fail_after(10):
        async with first.subscribe(held):  # the reader reads only a subscribed connection
            await aio(admin.client_kill_filter)(_type="pubsub")
            while first._losses == 0:  # the reader has noticed; the recovery is pausing
                await trio.sleep(0.01)
            async with first.subscribe(topic) as receive:
                await second.publish(topic, b"after the repair")
                assert await receive.receive() == b"after the repair"
