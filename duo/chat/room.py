"""Rooms: one actor per active conversation, so a conversation's messages are accepted in order.

A session hands each chat, voice or typing stanza to :meth:`Rooms.submit` (voice is
transcoded and uploaded first, so nothing is stored for audio that fails — README
decision).  The conversation's room is started on demand and stops after
``IDLE_SECONDS`` without traffic.  Whatever queued up while the previous batch was being
stored goes into the next single ``pipeline.accept`` call (group commit: one transaction
for many messages), and the batches of all rooms that wait meet in one of a few storage
lanes (``committer``: one transaction for many conversations).  Then, per message in
order:

1. the sender's ``duo_message_delivered`` — only now, after the commit (§5.3.5);
2. the recipient's copy, published on the recipient's user topic, which reaches every
   connection of theirs on any process (§5.3.4);
3. the push notification, handed to the push worker (§8.1).

Rejections get their §6.3 reply; a batch the database refuses entirely gets
``duo_server_error`` for each message (nothing of it was acknowledged).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import attrs
import trio

from duo.actors.runtime import (
    ActorFn,
    ActorRef,
    ActorStopped,
    Inbox,
    MailboxFull,
    Registry,
    Restart,
    Supervisor,
)
from duo.chat import pipeline
from duo.chat import stanzas as st
from duo.chat.bus import Bus, user_topic
from duo.chat.payload import encode
from duo.services import Services

if TYPE_CHECKING:
    from duo.chat.session import Session

log = logging.getLogger("duo.chat.room")

IDLE_SECONDS = 30.0  # a room with no traffic for this long stops
BATCH_LIMIT = 1000  # messages per accept call (one transaction)
ROOM_CAPACITY = 10_000  # queued messages per room before new ones are refused
# Concurrent storage transactions, each taking every batch waiting (the pool has 10).
# bench/chat.py at 1,000 msg/s: p99 delivery ~120 ms with 2-3 lanes, 285-650 ms with 8,
# whose smaller batches cost more CPU per message.
COMMIT_LANES = 3


@attrs.frozen
class Pending:
    """A submission and the session that awaits its outcome."""

    submission: pipeline.Submission
    session: Session


def conversation(a: str, b: str) -> tuple[str, str]:
    """The room key: the two people in a fixed order, whoever sends."""
    return (a, b) if a <= b else (b, a)


Batch = list[pipeline.Submission]
Committer = ActorRef[Batch, list[pipeline.Outcome]]


def committer(deps: pipeline.ChatDeps) -> ActorFn[Batch, list[pipeline.Outcome]]:
    """A storage lane: the batches of every room that are waiting go into one ``accept``.

    Rooms of different conversations store together (one transaction for all of them), and
    a room waits for its batch before it hands over the next, so each conversation keeps
    its order.
    """

    async def commit(
        inbox: Inbox[Batch, list[pipeline.Outcome]], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        async for first in inbox:
            calls, total = [first], len(first.msg)
            while total < BATCH_LIMIT and (more := inbox.receive_ready(1)):
                calls += more
                total += len(more[0].msg)
            for call, outcomes in zip(calls, await _store_apart(deps, [call.msg for call in calls]), strict=True):
                call.reply(outcomes)

    return commit


async def _store_apart(deps: pipeline.ChatDeps, batches: list[Batch]) -> list[list[pipeline.Outcome]]:
    """The outcomes of several rooms' batches, stored in one ``accept``.

    ``accept`` answers database failures itself; should it raise (a bug one conversation
    trips), each batch is stored on its own and one that raises again is refused
    (``duo_server_error``): a conversation's fault fails neither the others nor the lane
    (a lane that crashed on every such batch would exhaust its restart budget and end chat).
    """
    try:
        outcomes = await pipeline.accept(deps, [s for batch in batches for s in batch])
    except Exception:
        if len(batches) > 1:
            return [(await _store_apart(deps, [batch]))[0] for batch in batches]
        log.exception("chat: storing a batch of %d messages failed", len(batches[0]))
        return [await pipeline.refuse(deps, batches[0])]
    split, start = [], 0
    for batch in batches:
        split.append(outcomes[start : start + len(batch)])
        start += len(batch)
    return split


class Rooms:
    """The rooms of this process by conversation, as actors under their own supervisor."""

    def __init__(
        self,
        svc: Services,
        bus: Bus,
        committers: list[Committer],
        supervisor: Supervisor,
    ) -> None:
        self._svc = svc
        self._bus = bus
        self._committers = committers
        self._in_flight = [0] * len(committers)  # batches handed to each lane and not yet back
        self._supervisor = supervisor
        self._registry: Registry[tuple[str, str], Pending, None] = Registry()

    @classmethod
    async def start(cls, supervisor: Supervisor, svc: Services, bus: Bus) -> Rooms:
        """Storage lanes, then the rooms' supervisor (so rooms stop first and drain into them)."""
        commit = committer(pipeline.ChatDeps(db=svc.db, now=svc.now))
        lanes = [await supervisor.start(f"chat.commit.{n}", commit) for n in range(COMMIT_LANES)]
        return cls(svc, bus, lanes, await supervisor.start_supervisor("chat.rooms"))

    def active(self) -> int:
        return len(self._registry)

    async def submit(self, session: Session, person: str, stanza: st.ChatMessage | st.AudioMessage | st.Typing) -> None:
        """Queue a message for its room (after transcoding a voice message)."""
        message: st.ChatMessage | st.Typing | pipeline.VoiceMessage
        if isinstance(stanza, st.AudioMessage):
            try:
                message = await pipeline.prepare_audio(self._svc.media, self._svc.storage, stanza)
            except pipeline.AudioFailed as e:
                log.info("voice message %r of %s refused: %s", stanza.id, person, e)
                session.deliver(st.ServerError(id=stanza.id))
                return
        else:
            message = stanza
        submission = pipeline.Submission(sender=person, message=message, received_at=self._svc.now())
        await self._enqueue(conversation(person, stanza.to), Pending(submission, session))

    async def _enqueue(self, key: tuple[str, str], pending: Pending) -> None:
        async def start() -> ActorRef[Pending, None]:
            return await self._supervisor.start(
                "chat.room", self._room, restart=Restart.TEMPORARY, capacity=ROOM_CAPACITY
            )

        for _ in range(3):  # a room that just went idle is replaced
            try:
                room = await self._registry.get_or_start(key, start)
                room.cast(pending)
                return
            except ActorStopped:
                continue
            except MailboxFull:
                break
        pending.session.deliver(st.ServerError(id=pending.submission.message.id))

    async def _room(self, inbox: Inbox[Pending, None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """One conversation's actor: batch what is queued, accept it, settle each message."""
        task_status.started()
        while batch := await _next_batch(inbox):
            await self._accept(batch)

    async def _accept(self, batch: list[Pending]) -> None:
        lane = min(range(len(self._committers)), key=self._in_flight.__getitem__)  # an idle one if any
        self._in_flight[lane] += 1
        try:
            outcomes = await self._committers[lane].call([p.submission for p in batch])
        except Exception:
            log.exception("chat: a batch of %d messages could not be stored", len(batch))
            for pending in batch:
                pending.session.deliver(st.ServerError(id=pending.submission.message.id))
            return
        finally:
            self._in_flight[lane] -= 1
        for pending, outcome in zip(batch, outcomes, strict=True):
            try:
                await self._settle(pending, outcome)
            except Exception:  # the room goes on: the rest of its batch and queue still get answers
                log.exception("chat: settling %r failed", pending.submission.message.id)
                pending.session.deliver(st.ServerError(id=pending.submission.message.id))

    async def _settle(self, pending: Pending, outcome: pipeline.Outcome) -> None:
        if isinstance(outcome, pipeline.Accepted):
            pending.session.deliver(outcome.delivered)
            await self._publish(outcome.message.recipient, outcome.incoming)
            if outcome.push is not None:
                self._svc.send_push(outcome.push)
        elif isinstance(outcome, st.IncomingTyping):
            await self._publish(outcome.recipient, outcome)
        elif not isinstance(outcome, pipeline.Ignored):
            pending.session.deliver(outcome)

    async def _publish(self, recipient: str, stanza: st.IncomingMessage | st.IncomingTyping) -> None:
        """Live delivery is best effort (§10: an offline recipient misses it too, and catches
        up from the archive): a bus failure is logged and the batch's other acks still go."""
        try:
            await self._bus.publish(user_topic(recipient), encode(stanza))
        except Exception:
            log.exception("chat: live copy of %r to %s not published", stanza.id, recipient)


async def _next_batch(inbox: Inbox[Pending, None]) -> list[Pending]:
    """What is queued now, waiting up to ``IDLE_SECONDS`` for the first; [] = stop.

    Returning [] ends the room with no checkpoint after the last look at the mailbox, so
    a message cast to it is either in this batch or finds the room stopped (and starts a
    new one).
    """
    first: list[Pending] = []
    with trio.move_on_after(IDLE_SECONDS):
        try:
            first.append((await inbox.receive()).msg)
        except trio.EndOfChannel:
            return []  # stopped (shutdown) and drained
    return first + [e.msg for e in inbox.receive_ready(BATCH_LIMIT - len(first))]
