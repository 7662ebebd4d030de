"""One chat connection: SASL login, its frames handled strictly in order, its replies.

A session is two tasks around one WebSocket (its pings are scheduled by ``duo.chat.keepalive``) (chat-protocol §1.2, §3, §4):

* the *reader* takes frames one at a time and handles each completely (database look-ups
  included) before reading the next — the app sends ``auth`` and more stanzas without
  waiting, and relies on that order;
* the *writer* is the session's actor: everything the client is sent (replies, live
  messages from rooms, status events, a kick) is queued in its bounded mailbox and written
  in queue order.  Nobody else writes to the socket, so a slow client never blocks a room;
  a client that lets its mailbox fill up is disconnected (1008).

Messages are handed to their conversation's room (``duo.chat.room``), which acknowledges
them after storage; history, inbox, displayed and push tokens go to ``duo.chat.store``;
online status to ``duo.chat.presence``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from duo.actors.runtime import (
    OVERFLOW,
    ActorCrashed,
    ActorError,
    ActorRef,
    Inbox,
    Overflow,
    Restart,
)
from duo.chat import stanzas as st
from duo.chat import store
from duo.chat.bus import Deliver, kick_topic, user_topic
from duo.chat.keepalive import PING_TIMEOUT
from duo.chat.node import ChatNode
from duo.chat.payload import (
    INTERNAL_CODE,
    POLICY_CODE,
    UNSUPPORTED_CODE,
    Close,
    Delivery,
    Rendered,
    decode,
)
from duo.chat.protocol import Mode, parse, render
from duo.sessions import find_session

log = logging.getLogger("duo.chat")

MAILBOX_CAPACITY = 256  # queued outbound frames before a client counts as too slow


class Session:
    """The state of one connection; ``deliver`` is how the rest of chat reaches it."""

    __slots__ = ("ws", "mode", "node", "person", "person_id", "online", "listening", "ref")

    def __init__(self, ws: WebSocketConnection, mode: Mode, node: ChatNode) -> None:
        self.ws = ws
        self.mode: Mode = mode
        self.node = node
        self.person: str | None = None  # set once by a successful auth, never changed
        self.person_id = 0
        self.online: set[str] = set()  # status topics subscribed to (§5.7)
        self.listening: list[tuple[str, Deliver]] = []  # its user and kick topics, once authenticated
        self.ref: ActorRef[Delivery, None] | None = None  # the writer, once spawned

    # -- the mailbox (any task, never waits) --------------------------------------------
    def deliver(self, item: Delivery) -> None:
        """Queue ``item`` for the client; a full mailbox disconnects the client (overflow)."""
        if self.ref is None:
            return
        try:
            self.ref.cast(item)
        except ActorError:
            pass  # stopping, or just disconnected as too slow: the connection is going away

    async def deliver_all(self, items: Iterable[Delivery]) -> None:
        """Queue many frames (a history page, a whole inbox) without overflowing the mailbox:
        past half of it, each waits until the writer has sent it."""
        for item in items:
            if self.ref is None or self.ref.queued() < MAILBOX_CAPACITY // 2:
                self.deliver(item)
                continue
            try:
                await self.ref.call(item)
            except ActorError:
                return  # the connection is going away

    def from_bus(self, payload: bytes) -> None:
        """A frame published for this connection (runs in the bus's task: never waits)."""
        rendered = decode(payload)
        if rendered is not None:
            self.deliver(rendered)

    def kicked(self, payload: bytes) -> None:
        self.deliver(Close(POLICY_CODE, "account ended"))

    # -- the writer: the session's actor -------------------------------------------------
    async def writer(self, inbox: Inbox[Delivery, None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Write queued deliveries in order until a ``Close`` or the end of the mailbox."""
        task_status.started()
        try:
            async for envelope in inbox:
                item = envelope.msg
                if isinstance(item, Close):
                    await self.ws.aclose(item.code, item.reason or None)
                    return
                text = item.text(self.mode) if isinstance(item, Rendered) else render(item, self.mode)
                await self.ws.send_message(text)
                if envelope.is_call:  # deliver_all waits for this one
                    envelope.reply(None)
        except ConnectionClosed:
            pass

    # -- protocol pings (duo.chat.keepalive schedules them, §1.2) ------------------------
    async def ping(self) -> None:
        await self.ws.ping()

    def no_pong(self) -> None:
        self.deliver(Close(POLICY_CODE, "no pong"))

    # -- the reader ------------------------------------------------------------------------
    async def read_loop(self) -> None:
        """Handle frames one by one until the client goes or a frame ends the connection."""
        try:
            while await self._read_one():
                pass
        except ConnectionClosed:
            pass  # nothing more to say: the writer drains and ends
        except Exception:
            log.exception("chat session of %s failed", self.person)
            self.deliver(Close(INTERNAL_CODE, "internal error"))

    async def _read_one(self) -> bool:
        frame = await self.ws.get_message()
        if isinstance(frame, bytes):
            self.deliver(Close(UNSUPPORTED_CODE, "binary frames are not supported"))
            return False
        stanza = parse(frame, self.mode)
        if isinstance(stanza, st.Ignorable):
            return True
        if isinstance(stanza, st.Fatal):
            self.deliver(Close(POLICY_CODE, stanza.reason[:100]))
            return False
        return await self.handle(stanza)

    async def handle(self, stanza: st.Inbound) -> bool:
        """Handle one stanza in §4's dispatch order; False ends the connection."""
        if isinstance(stanza, st.StreamOpen):
            self.deliver(st.StreamOpened(id=str(uuid.uuid4()), version=stanza.version, from_=stanza.to))
            self.deliver(st.StreamFeatures(authenticated=self.person is not None))
        elif isinstance(stanza, st.Auth):
            return await self.authenticate(stanza)
        elif isinstance(stanza, st.Ping):
            self.deliver(st.Pong())
        elif self.person is None:
            pass  # §4 row 3: everything else needs authentication
        elif isinstance(stanza, st.Bind):
            self.deliver(st.BindResult(id=stanza.id, person=self.person))
        elif isinstance(stanza, st.SessionStart):
            self.deliver(st.SessionResult(id=stanza.id))
        elif isinstance(stanza, st.ChatMessage | st.AudioMessage | st.Typing):
            await self.node.rooms.submit(self, self.person, stanza)
        elif isinstance(stanza, st.MamQuery):
            await self.deliver_all(await store.history(self.node.svc.db, self.person_id, self.person, stanza))
            self.deliver(st.MamFin(person=self.person, query_id=stanza.query_id))
        elif isinstance(stanza, st.InboxQuery):
            await self.deliver_all(await store.inbox(self.node.svc.db, self.person, stanza.query_id))
            self.deliver(st.InboxFin(query_id=stanza.query_id))
        elif isinstance(stanza, st.Displayed):
            await store.mark_displayed(self.node.svc.db, [(self.person, stanza.to)])
        elif isinstance(stanza, st.RegisterPushToken):
            self.deliver(st.RegistrationSuccessful())  # §5.2: before the write
            await store.save_push_tokens(self.node.svc.db, [(self.person, stanza.token)])
        elif isinstance(stanza, st.SubscribeOnline):
            await self.node.presence.subscribe(self, self.person, stanza)
        elif isinstance(stanza, st.UnsubscribeOnline):
            await self.node.presence.unsubscribe(self, stanza)
        return True

    async def authenticate(self, auth: st.Auth) -> bool:
        """SASL PLAIN against a signed-in, unexpired session of that person (§3.3)."""
        if self.person is not None:  # a repeated auth fails; the first one stays in force
            self.deliver(st.AuthFailure())
            self.deliver(st.StreamClose())
            return True
        person = await self._check(auth)
        if person is None:
            self.deliver(st.AuthFailure())
            self.deliver(st.StreamClose())
            self.deliver(Close(POLICY_CODE, "not authorized"))
            return False
        self.person = person
        self.deliver(st.AuthSuccess())
        for topic, deliver in ((user_topic(person), self.from_bus), (kick_topic(person), self.kicked)):
            await self.node.bus.add_listener(topic, deliver)
            self.listening.append((topic, deliver))
        self.node.presence.connected(person)
        return True

    async def _check(self, auth: st.Auth) -> str | None:
        if auth.username is None:
            return None
        session = await find_session(self.node.svc.db, auth.password, self.node.svc.now())
        if session is None or not session.signed_in or session.person_uuid is None:
            return None
        if str(session.person_uuid) != auth.username:
            return None
        self.person_id = session.person_id or 0
        return auth.username

    async def end(self) -> None:
        """The connection is gone: stop listening and tell presence (§3.6)."""
        bus = self.node.bus
        for topic in self.online:
            await bus.remove_listener(topic, self.from_bus)
        self.online.clear()
        for topic, deliver in reversed(self.listening):
            await bus.remove_listener(topic, deliver)
        self.listening.clear()
        if self.person is not None:
            self.node.presence.disconnected(self.person)


async def run_session(ws: WebSocketConnection, mode: Mode, node: ChatNode) -> None:
    """Serve one accepted connection until it closes.

    This task is the reader; it owns the writer actor (``spawn``).  When the reader stops
    (the client went, or a frame ended the connection) the writer drains what is queued —
    a ``Close`` among it closes the socket.  When the writer ends first (a kick, shutdown's
    1001, a client too slow for its mailbox) the reader is cancelled.
    """
    session = Session(ws, mode, node)
    try:
        async with node.sessions.spawn(
            session.writer,
            name="chat.session",
            restart=Restart.TEMPORARY,
            capacity=MAILBOX_CAPACITY,
            overflow=Overflow.DISCONNECT,
            grace=PING_TIMEOUT,
        ) as ref:
            session.ref = ref
            with node.pinger.watching(session):
                await session.read_loop()
    except ActorCrashed:
        log.exception("chat session of %s: writer failed", session.person)
        with trio.move_on_after(PING_TIMEOUT):
            await ws.aclose(INTERNAL_CODE, "internal error")
    finally:
        await session.end()
    if session.ref is not None and session.ref.reason == OVERFLOW:
        log.warning("chat session of %s: mailbox full, disconnected a slow client", session.person)
        with trio.move_on_after(PING_TIMEOUT):
            await ws.aclose(POLICY_CODE, "too slow")
