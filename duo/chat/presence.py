"""Online status (chat-protocol §5.7, §8.2, §8.3): the presence actor of this process.

Each authenticated connection makes its person ``online`` (published on
``online-<uuid>`` and stored for 12 hours), again every 4 minutes while it lives, and
``online-recently`` when it closes; ``person.last_online_time`` follows each of these.
One actor per process owns the counts of local connections per person and writes the
last-online times in one statement per flush (about once a second), so a thousand logins
cost one UPDATE, and the heartbeat is one timer for everybody rather than one per
connection.  Status events go out on the bus topic ``online-<uuid>`` and are kept there
(Redis ``SET … EX``, or in memory); subscribing answers from the kept one and makes the
session listen on that topic (unless either has blocked the other).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import trio

from duo.actors.runtime import ActorError, ActorRef, Inbox, Supervisor
from duo.chat import stanzas as st
from duo.chat import store
from duo.chat.bus import ONLINE_STATUS_SECONDS, Bus, online_topic
from duo.chat.payload import decode, encode
from duo.sql import chat as sql
from duo.sql.database import Database

if TYPE_CHECKING:
    from duo.chat.session import Session

log = logging.getLogger("duo.chat.presence")

HEARTBEAT_SECONDS = 240.0  # §8.3: every 4 minutes
FLUSH_SECONDS = 1.0  # last-online writes are batched about once a second


@attrs.frozen
class Connected:
    person: str


@attrs.frozen
class Disconnected:
    person: str


@attrs.frozen
class Flush:
    """Write the pending last-online times now (a call: returns once they are written)."""


PresenceMsg = Connected | Disconnected | Flush


class Presence:
    """The handle sessions use; connection changes are casts, subscriptions direct."""

    def __init__(self, ref: ActorRef[PresenceMsg, None], bus: Bus, db: Database) -> None:
        self._ref = ref
        self._bus = bus
        self._db = db

    def connected(self, person: str) -> None:
        self._cast(Connected(person))

    def disconnected(self, person: str) -> None:
        self._cast(Disconnected(person))

    async def flush(self) -> None:
        """Everything announced so far is in ``person.last_online_time`` when this returns."""
        await self._ref.call(Flush())

    def _cast(self, msg: PresenceMsg) -> None:
        try:
            self._ref.cast(msg)
        except ActorError as e:  # full or stopping: a status update is not worth a failure
            log.warning("presence: %s dropped (%s)", msg, e)

    async def subscribe(self, session: Session, person: str, stanza: st.SubscribeOnline) -> None:
        """§5.7: answer, then (unless blocked) subscribe and send the current status."""
        target = stanza.person
        blocked = None if target is None else await self._blocked(person, target)
        if target is None or blocked is None:
            session.deliver(st.SubscribeUnsuccessful(uuid=stanza.uuid))
            return
        session.deliver(st.SubscribeSuccessful(uuid=stanza.uuid))
        if blocked:
            return
        topic = online_topic(target)
        if topic not in session.online:  # subscribing twice only re-sends the status
            await self._bus.add_listener(topic, session.from_bus)
            session.online.add(topic)
        current = await self._bus.last(topic)
        rendered = None if current is None else decode(current)
        session.deliver(rendered or st.OnlineEvent(uuid=target, status="offline"))

    async def _blocked(self, person: str, target: str) -> bool | None:
        """Whether a skip exists either way; None if either person does not exist."""
        async with self._db.connection() as conn:
            found = await sql.people(conn, [person, target])
            if person not in found or target not in found:
                return None
            me, them = found[person].id, found[target].id
            return bool((await sql.existing_pairs(conn, [(me, them), (them, me)])).skipped)

    async def unsubscribe(self, session: Session, stanza: st.UnsubscribeOnline) -> None:
        if stanza.person is not None and (topic := online_topic(stanza.person)) in session.online:
            session.online.discard(topic)
            await self._bus.remove_listener(topic, session.from_bus)
        session.deliver(st.UnsubscribeSuccessful(uuid=stanza.uuid))


@attrs.define
class _State:
    """What the presence actor owns: local connections per person, last-online to write."""

    connections: dict[str, int] = attrs.field(factory=dict)
    seen: set[str] = attrs.field(factory=set)


async def start_presence(
    supervisor: Supervisor, bus: Bus, db: Database, now: Callable[[], dt.datetime]
) -> Presence:
    """Start the presence actor under ``supervisor``; returns the handle sessions use."""
    state = _State()

    async def announce(person: str, status: st.OnlineStatus) -> None:
        event = encode(st.OnlineEvent(uuid=person, status=status))
        await bus.publish(online_topic(person), event, keep_seconds=ONLINE_STATUS_SECONDS)

    async def flush() -> None:
        if state.seen:
            people, state.seen = state.seen, set()
            await store.touch_last_online(db, list(people), now())

    def note(msg: Connected | Disconnected) -> st.OnlineStatus:
        count = state.connections.get(msg.person, 0)
        state.seen.add(msg.person)
        if isinstance(msg, Connected):
            state.connections[msg.person] = count + 1
            return "online"
        if count <= 1:
            state.connections.pop(msg.person, None)
        else:
            state.connections[msg.person] = count - 1
        return "online-recently"

    async def presence(inbox: Inbox[PresenceMsg, None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        heartbeat_at = trio.current_time() + HEARTBEAT_SECONDS
        flush_at = math.inf
        while True:
            with trio.move_on_at(min(flush_at, heartbeat_at)):
                try:
                    envelope = await inbox.receive()
                except trio.EndOfChannel:
                    await flush()
                    return
                msg = envelope.msg
                if isinstance(msg, Flush):
                    await flush()
                    envelope.reply(None)
                    continue
                await announce(msg.person, note(msg))
                flush_at = min(flush_at, trio.current_time() + FLUSH_SECONDS)
            if trio.current_time() >= heartbeat_at:
                heartbeat_at = trio.current_time() + HEARTBEAT_SECONDS
                for person in state.connections:
                    await announce(person, "online")
                state.seen |= state.connections.keys()
                flush_at = trio.current_time()
            if trio.current_time() >= flush_at:
                flush_at = math.inf
                await flush()

    ref: ActorRef[PresenceMsg, None] = await supervisor.start("chat.presence", presence, capacity=100_000)
    return Presence(ref, bus, db)
