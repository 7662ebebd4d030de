"""Cross-process routing for chat: publish to a topic, and every subscriber on any process gets it.

Topics are the channel names of chat-protocol §10: :func:`user_topic` (a person's
connections: message copies, typing), :func:`online_topic` (a person's status events, with
the last one kept for 12 hours, §8.3), :func:`connection_topic` (replies to one connection),
and our own :func:`kick_topic` (end a person's connections when their account ends).

Two implementations of one interface, :class:`Bus`:

* :class:`MemoryBus` - one process, no Redis: a publish is handed straight to the local
  subscribers.
* :class:`RedisBus` - Redis pub/sub through ``duo/aio.py``. The process holds **one**
  pub/sub connection, not one per WebSocket connection (spec README, Chat decisions): a
  topic is subscribed at Redis while at least one local subscriber wants it and
  unsubscribed when the last one leaves; what arrives is fanned out in process. A publish
  goes to Redis only and comes back through the subscription, so local and remote
  subscribers are reached the same way.

Local subscribers either take a receive channel (:meth:`Bus.subscribe`) or a callback that
never waits (:meth:`Bus.listen`). A subscriber whose channel is full does not keep up and
is cut off: its channel ends (live delivery is best effort in the spec; a reconnecting
client catches up from the archive).

:func:`open_bus` picks the implementation from the configured Redis URL.
"""

from __future__ import annotations

import abc
import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio
import redis.exceptions
import trio

from duo.aio import aio
from duo.redis_client import open_redis

log = logging.getLogger("duo.chat.bus")

ONLINE_STATUS_SECONDS = 43_200  # §8.3: the last status event is kept 12 hours
SUBSCRIBER_CAPACITY = 64  # payloads queued for one channel subscriber before it is cut off
CONFIRM_SECONDS = 5.0  # for a failed (un)subscribe to turn out a lost connection

Deliver = Callable[[bytes], None]

# How a lost connection shows around the subscription's calls. redis-py's pub/sub is not
# safe against two tasks reconnecting it at once (the reader and an (un)subscribe, when the
# connection dies under both); the loser fails with whatever the half-reconnected connection
# raises (ConnectionError, asyncio's RuntimeError "readuntil() called while another
# coroutine is already waiting", AttributeError on a dropped writer). So any error there
# means "lost", and recovery replaces the whole subscription.
LOST_CONNECTION = Exception


def user_topic(person: str) -> str:
    """Every connection of ``person`` (canonical lowercase UUID) listens here (§10)."""
    return person


def online_topic(person: str) -> str:
    """Status events of ``person`` (§8.2), and the key keeping the last one (§8.3)."""
    return f"online-{person}"


def connection_topic(connection_id: str) -> str:
    """Replies to one connection, by its random id (§10)."""
    return connection_id


def kick_topic(person: str) -> str:
    """End every connection of ``person``: their account was deleted, deactivated or banned."""
    return f"kick-{person}"


class Bus(abc.ABC):
    """Publish/subscribe by topic; the local fan-out is shared by both implementations."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Deliver]] = {}

    @abc.abstractmethod
    async def publish(self, topic: str, payload: bytes, *, keep_seconds: int | None = None) -> None:
        """Send ``payload`` to every subscriber of ``topic`` on every process.

        With ``keep_seconds`` the payload is also kept under the topic's name for that long
        (in the same transaction), for :meth:`last` - §8.3's ``PUBLISH`` + ``SET … EX``.
        """

    @abc.abstractmethod
    async def last(self, topic: str) -> bytes | None:
        """The payload last published to ``topic`` with ``keep_seconds``, if not expired."""

    async def add_listener(self, topic: str, deliver: Deliver) -> None:
        """Call ``deliver(payload)`` for every payload on ``topic`` until
        :meth:`remove_listener` (a connection holds a few of these for its whole life; two
        calls cost less memory than a context manager kept open).

        The subscription is in place on return, so a status read right after (§5.7) misses
        no event. ``deliver`` runs in the bus's own task and must not wait.
        """
        self._listeners.setdefault(topic, []).append(deliver)
        try:
            await self._sync(topic)
        except BaseException:
            await self.remove_listener(topic, deliver)
            raise

    async def remove_listener(self, topic: str, deliver: Deliver) -> None:
        """Stop calling ``deliver`` for ``topic`` (shielded: it runs on the way out)."""
        listeners = self._listeners[topic]
        listeners.remove(deliver)
        if not listeners:
            del self._listeners[topic]
        with trio.CancelScope(shield=True):
            await self._sync(topic)

    @asynccontextmanager
    async def listen(self, topic: str, deliver: Deliver) -> AsyncIterator[None]:
        """:meth:`add_listener` for the duration of the block."""
        await self.add_listener(topic, deliver)
        try:
            yield
        finally:
            await self.remove_listener(topic, deliver)

    @asynccontextmanager
    async def subscribe(
        self, topic: str, capacity: int = SUBSCRIBER_CAPACITY
    ) -> AsyncIterator[trio.MemoryReceiveChannel[bytes]]:
        """A receive channel of the payloads on ``topic`` while the block runs.

        If ``capacity`` payloads are waiting the subscriber is cut off: the channel ends.
        """
        send, receive = trio.open_memory_channel[bytes](capacity)

        def deliver(payload: bytes) -> None:
            try:
                send.send_nowait(payload)
            except trio.WouldBlock:
                log.warning("a subscriber of %r does not keep up: cut off", topic)
                send.close()
            except trio.ClosedResourceError:
                pass  # already cut off

        with send, receive:
            async with self.listen(topic, deliver):
                yield receive

    def local_topics(self) -> int:
        """Topics with at least one subscriber in this process."""
        return len(self._listeners)

    async def _sync(self, topic: str) -> None:
        """Bring the process's interest in ``topic`` to the other processes (if any)."""
        await trio.lowlevel.checkpoint()

    def _fan_out(self, topic: str, payload: bytes) -> None:
        for deliver in tuple(self._listeners.get(topic, ())):
            deliver(payload)


class MemoryBus(Bus):
    """One process: publishing is local fan-out; kept payloads expire on trio's clock."""

    SWEEP_EVERY = 1000  # kept payloads stored between two sweeps of the expired ones

    def __init__(self) -> None:
        super().__init__()
        self._kept: dict[str, tuple[bytes, float]] = {}
        self._stores = 0

    async def publish(self, topic: str, payload: bytes, *, keep_seconds: int | None = None) -> None:
        await trio.lowlevel.checkpoint()
        if keep_seconds is not None:
            self._keep(topic, payload, keep_seconds)
        self._fan_out(topic, payload)

    async def last(self, topic: str) -> bytes | None:
        await trio.lowlevel.checkpoint()
        kept = self._kept.get(topic)
        if kept is None or kept[1] <= trio.current_time():
            return None
        return kept[0]

    def _keep(self, topic: str, payload: bytes, seconds: int) -> None:
        now = trio.current_time()
        self._kept[topic] = (payload, now + seconds)
        self._stores += 1
        if self._stores % self.SWEEP_EVERY == 0:  # nothing grows without bound
            self._kept = {k: v for k, v in self._kept.items() if v[1] > now}


class RedisBus(Bus):
    """Redis pub/sub with one subscription connection per process; see :func:`open_bus`.

    Only :meth:`run` reads the subscription. When it finds the connection lost it does not
    trust the old one again: it opens a fresh subscription and subscribes it to every topic
    wanted, retrying with backoff while Redis is away. An (un)subscribe waits for Redis'
    confirmation of that topic, one at a time; a connection lost meanwhile releases the wait,
    and a subscriber then waits for the recovery instead.
    """

    RETRY_SECONDS = 1.0  # first pause before reconnecting, doubled up to RETRY_MAX_SECONDS
    RETRY_MAX_SECONDS = 30.0

    def __init__(self, client: Any) -> None:
        super().__init__()
        self._client = client
        self._pubsub: Any = client.pubsub()
        self._subscribed: set[str] = set()  # topics wanted at Redis
        self._lock = trio.Lock()  # one (un)subscribe or recovery at a time
        self._waiting: tuple[str, str, trio.Event] | None = None  # (kind, topic, confirmed)
        self._losses = 0  # connections lost so far
        self._recovered = trio.Event()  # set once the latest loss is repaired
        self._recovered.set()  # nothing lost yet

    async def publish(self, topic: str, payload: bytes, *, keep_seconds: int | None = None) -> None:
        if keep_seconds is None:
            await aio(self._client.publish)(topic, payload)
        else:
            await aio(_publish_and_keep)(self._client, topic, payload, keep_seconds)

    async def last(self, topic: str) -> bytes | None:
        value: bytes | None = await aio(self._client.get)(topic)
        return value

    async def _sync(self, topic: str) -> None:
        async with self._lock:
            wanted = topic in self._listeners
            if wanted == (topic in self._subscribed):
                return
            if not wanted:
                self._subscribed.discard(topic)
                with trio.move_on_after(CONFIRM_SECONDS):
                    try:
                        await self._confirm("unsubscribe", topic, self._pubsub.unsubscribe)
                    except LOST_CONNECTION as e:
                        log.warning("chat bus could not unsubscribe %r: %s", topic, e)
                return
            self._subscribed.add(topic)
            try:
                recovery = await self._confirm("subscribe", topic, self._pubsub.subscribe)
            except BaseException:
                self._subscribed.discard(topic)
                raise
        if recovery is not None:  # the connection was lost: the new one subscribes it
            await recovery.wait()

    async def _confirm(self, kind: str, topic: str, command: Callable[[str], Any]) -> trio.Event | None:
        """Send ``command`` and wait for Redis to confirm it.

        If the connection is lost meanwhile, or was lost and is not yet repaired, returns the
        event set once the recovery has subscribed anew: nothing is sent on the lost
        connection, which no reader reads any more. A failed send that no lost connection
        explains is raised.
        """
        if not self._recovered.is_set():
            return self._recovered  # the recovery (un)subscribes by ``_subscribed``
        losses = self._losses
        confirmed = trio.Event()
        self._waiting = (kind, topic, confirmed)
        failed: Exception | None = None
        try:
            await aio(command)(topic)
        except LOST_CONNECTION as e:
            failed = e  # a dying connection; the reader will tell (or not)
        try:
            if self._losses == losses:
                with trio.move_on_after(math.inf if failed is None else CONFIRM_SECONDS):
                    await confirmed.wait()
        finally:
            self._waiting = None
        if self._losses != losses:
            return self._recovered
        if failed is not None:
            raise failed
        return None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Read the one subscription and fan out what arrives; runs until cancelled."""
        await aio(self._pubsub.connect)()
        task_status.started()
        while True:
            try:
                message = await aio(self._pubsub.get_message)(timeout=None)
            except LOST_CONNECTION as e:
                log.warning("chat bus lost Redis (%s); reconnecting", e)
                self._losses += 1
                self._recovered = recovered = trio.Event()
                if self._waiting is not None:
                    self._waiting[2].set()  # released: it waits for the recovery instead
                await self._recover()
                recovered.set()
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind, channel = message["type"], message.get("channel")
        if not isinstance(channel, bytes):
            return  # not about a channel (pong)
        if kind == "message":
            self._fan_out(channel.decode(), message["data"])
        elif self._waiting is not None and self._waiting[:2] == (kind, channel.decode()):
            self._waiting[2].set()

    async def _recover(self) -> None:
        """A fresh subscription connection, with every topic wanted subscribed and confirmed."""
        broken = self._pubsub
        delay = self.RETRY_SECONDS
        while True:
            await trio.sleep(delay)
            delay = min(delay * 2, self.RETRY_MAX_SECONDS)
            async with self._lock:
                self._pubsub = self._client.pubsub()
                try:
                    await aio(self._pubsub.connect)()
                    topics = set(self._subscribed)
                    if topics:
                        await aio(self._pubsub.subscribe)(*topics)
                    while topics:
                        message = await aio(self._pubsub.get_message)(timeout=None)
                        if message is not None and message["type"] == "subscribe":
                            topics.discard(message["channel"].decode())
                        elif message is not None:
                            self._dispatch(message)
                    break
                except LOST_CONNECTION as e:
                    log.warning("chat bus cannot reach Redis (%s); retrying in %ss", e, delay)
                    await _close_quietly(self._pubsub)
        await _close_quietly(broken)
        log.info("chat bus reconnected to Redis (%d topics)", len(self._subscribed))

    async def close(self) -> None:
        """Drop the subscription connection."""
        await aio(self._pubsub.aclose)()


async def _close_quietly(pubsub: Any) -> None:
    try:
        await aio(pubsub.aclose)()
    except LOST_CONNECTION as e:
        log.debug("closing a lost chat bus subscription: %s", e)


async def _publish_and_keep(client: redis.asyncio.Redis, topic: str, payload: bytes, seconds: int) -> None:
    """(asyncio side) §8.3: ``PUBLISH`` and ``SET … EX`` in one transaction."""
    async with client.pipeline(transaction=True) as pipe:
        pipe.publish(topic, payload)
        pipe.set(topic, payload, ex=seconds)
        await pipe.execute()


@asynccontextmanager
async def open_bus(redis_url: str) -> AsyncIterator[Bus]:
    """The bus of this process: Redis when ``redis_url`` is set (``DUO_REDIS_URL``), else memory."""
    if not redis_url:
        yield MemoryBus()
        return
    async with open_redis(redis_url) as client, trio.open_nursery() as nursery:
        bus = RedisBus(client)
        try:
            await nursery.start(bus.run)
            yield bus
        finally:
            nursery.cancel_scope.cancel()
            with trio.CancelScope(shield=True):
                await bus.close()
