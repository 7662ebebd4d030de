"""Mailboxes: the bounded queue of one actor, its envelopes and the reply slot of a call.

The actor reads an :class:`Inbox`; its :class:`~duo.actors.runtime.ActorRef` and
supervisor hold the same object as a :class:`Mailbox`, which adds the sending and
recovery side.
"""

from __future__ import annotations

import collections
import enum
import logging
from typing import Any, Generic, TypeVar

import trio

from duo.actors.errors import ActorCrashed, ActorStopped, MailboxFull

log = logging.getLogger("duo.actors")

M = TypeVar("M")
R = TypeVar("R")


class Overflow(enum.Enum):
    """What a cast does when the mailbox is full."""

    RAISE = "raise"  # MailboxFull; the sender decides
    DROP_OLDEST = "drop_oldest"  # make room by dropping the oldest queued message
    DISCONNECT = "disconnect"  # a slow consumer: stop the actor with reason "overflow"


class Reply(Generic[R]):
    """One-shot reply slot of a call: written once by the actor, read by the caller."""

    __slots__ = ("event", "abandoned", "_value", "_error")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.abandoned = False  # the caller stopped waiting
        self._value: R | None = None
        self._error: BaseException | None = None

    @property
    def answered(self) -> bool:
        return self.event.is_set()

    def set(self, value: R | None, error: BaseException | None) -> None:
        if self.event.is_set():
            raise RuntimeError("call already answered")
        self._value, self._error = value, error
        self.event.set()

    def unwrap(self) -> R:
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # None only if R admits None


class Envelope(Generic[M, R]):
    """A message as the actor receives it.

    An envelope is *pending* from delivery until it is settled: a call by
    :meth:`reply`/:meth:`fail`; a cast by :meth:`ack` if the actor was started with
    ``manual_ack=True``, else as soon as it is received. If the actor crashes, pending
    casts are delivered again to its next incarnation (at-least-once; up to
    :attr:`~duo.actors.runtime.RestartPolicy.max_deliveries`) and pending calls fail with
    :class:`ActorCrashed` (the caller is waiting and decides itself whether to retry).
    So by default a crash loses only the cast being handled, never the queue behind it;
    actors that must not lose work (the mailer) ack manually.
    """

    __slots__ = ("msg", "deliveries", "_reply", "_settled")

    def __init__(self, msg: M, reply: Reply[R] | None) -> None:
        self.msg = msg
        self.deliveries = 0  # times handed to an actor; > 1 means redelivered
        self._reply = reply
        self._settled = False

    @property
    def is_call(self) -> bool:
        return self._reply is not None

    @property
    def abandoned(self) -> bool:
        """The caller gave up waiting (timeout, cancelled); the actor may skip the work."""
        return self._reply is not None and self._reply.abandoned

    def reply(self, value: R) -> None:
        """Answer a call (settles the envelope)."""
        if self._reply is None:
            raise RuntimeError("reply() on a cast")
        self._settled = True
        self._reply.set(value, None)

    def fail(self, error: BaseException) -> None:
        """Answer a call with an exception the caller will see raised."""
        if self._reply is None:
            raise RuntimeError("fail() on a cast")
        self._settled = True
        self._reply.set(None, error)

    def ack(self) -> None:
        """Mark a cast as done: it will not be redelivered after a crash."""
        self._settled = True

    def _fail_if_waiting(self, error: BaseException) -> None:
        if self._reply is not None and not self._reply.answered:
            self._settled = True
            self._reply.set(None, error)


class Inbox(Generic[M, R]):
    """The bounded queue of one actor, as the actor sees it: receiving only.

    ``async for envelope in inbox`` ends when the actor is stopped and its queue is
    drained. The queue outlives the actor's crashes (see :class:`Envelope`). Built for
    many idle actors: the deque exists only while messages are queued, a waiting receiver
    is a bare task reference, waiting senders (calls) get a parking lot only when one waits.
    """

    __slots__ = (
        "name", "capacity", "overflow", "manual_ack", "closed",
        "_queue", "_redeliver", "_pending", "_receiver", "_senders",
    )

    def __init__(self, name: str, capacity: int, overflow: Overflow, manual_ack: bool) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.name = name
        self.capacity = capacity
        self.overflow = overflow
        self.manual_ack = manual_ack
        self.closed = False  # set by close(): the actor is stopping
        self._queue: collections.deque[Envelope[M, R]] | None = None
        self._redeliver: list[Envelope[M, R]] = []  # front of the queue after a crash
        self._pending: list[Envelope[M, R]] = []  # delivered, not settled
        self._receiver: trio.lowlevel.Task | None = None
        self._senders: trio.lowlevel.ParkingLot | None = None

    def _take(self) -> Envelope[M, R] | None:
        """The next live envelope, None if there is none yet; EndOfChannel once closed."""
        while True:
            if self._redeliver:
                envelope = self._redeliver.pop(0)
            elif self._queue:
                envelope = self._queue.popleft()
                if not self._queue:
                    self._queue = None  # an idle actor keeps no deque
                if self._senders is not None:
                    self._senders.unpark()
            elif self.closed:
                raise trio.EndOfChannel
            else:
                return None
            if not envelope.abandoned:  # nobody waits for an abandoned call: skip it
                return self._deliver(envelope)

    def _deliver(self, envelope: Envelope[M, R]) -> Envelope[M, R]:
        if self._pending:
            self._pending = [e for e in self._pending if not e._settled and not e.abandoned]
        envelope.deliveries += 1
        if not self.manual_ack and envelope._reply is None:
            envelope._settled = True  # at-most-once: taking a cast is handling it
        else:
            self._pending.append(envelope)
        return envelope

    def receive_nowait(self) -> Envelope[M, R]:
        """Next message without waiting; raises ``trio.WouldBlock`` or ``trio.EndOfChannel``."""
        envelope = self._take()
        if envelope is None:
            raise trio.WouldBlock
        return envelope

    async def receive(self) -> Envelope[M, R]:
        """Next message; raises ``trio.EndOfChannel`` once stopped and drained."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise trio.EndOfChannel from None

    def __aiter__(self) -> Inbox[M, R]:
        return self

    async def __anext__(self) -> Envelope[M, R]:
        # The receive loop lives here, not in receive(): an idle actor in ``async for``
        # then waits with one coroutine frame less.
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                envelope = self._take()
            except trio.EndOfChannel:
                raise StopAsyncIteration from None
            if envelope is not None:
                await trio.lowlevel.cancel_shielded_checkpoint()
                return envelope
            if self._receiver is not None:
                raise RuntimeError(f"actor {self.name!r}: two tasks receive from one mailbox")
            self._receiver = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort_receive)

    def _abort_receive(self, _: Any) -> trio.lowlevel.Abort:
        self._receiver = None
        return trio.lowlevel.Abort.SUCCEEDED

    def receive_ready(self, limit: int) -> list[Envelope[M, R]]:
        """Up to ``limit`` messages that are queued right now (for batching)."""
        batch: list[Envelope[M, R]] = []
        while len(batch) < limit:
            try:
                envelope = self._take()
            except trio.EndOfChannel:
                break
            if envelope is None:
                break
            batch.append(envelope)
        return batch


class Mailbox(Inbox[M, R]):
    """The sending and supervising side of an :class:`Inbox`."""

    __slots__ = ()

    def queued(self) -> int:
        """Messages waiting for the actor, including those to be redelivered."""
        return len(self._queue or ()) + len(self._redeliver)

    def close(self) -> None:
        """Refuse new messages; the actor sees end-of-mailbox once the queue is empty."""
        self.closed = True
        self._wake_receiver()
        if self._senders is not None:
            self._senders.unpark_all()

    # -- sender side ----------------------------------------------------------------------
    def put_nowait(self, envelope: Envelope[M, R]) -> bool:
        """Queue ``envelope`` or apply the overflow policy; False: disconnect the actor."""
        if self.closed:
            raise ActorStopped(f"actor {self.name!r} is stopped")
        if len(self._queue or ()) >= self.capacity:
            if self.overflow is Overflow.RAISE:
                raise MailboxFull(f"mailbox of actor {self.name!r} is full")
            if self.overflow is Overflow.DISCONNECT:
                return False
            assert self._queue is not None
            self._queue.popleft()._fail_if_waiting(MailboxFull(f"mailbox of {self.name!r} overflowed"))
        self._append(envelope)
        return True

    async def put(self, envelope: Envelope[M, R]) -> None:
        """Queue ``envelope``, waiting for room in a full mailbox."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while not self.closed and len(self._queue or ()) >= self.capacity:
            if self._senders is None:
                self._senders = trio.lowlevel.ParkingLot()
            await self._senders.park()
        if self.closed:
            raise ActorStopped(f"actor {self.name!r} is stopped")
        self._append(envelope)
        await trio.lowlevel.cancel_shielded_checkpoint()

    def _append(self, envelope: Envelope[M, R]) -> None:
        if self._queue is None:
            self._queue = collections.deque()
        self._queue.append(envelope)
        self._wake_receiver()

    def _wake_receiver(self) -> None:
        if self._receiver is not None:
            task, self._receiver = self._receiver, None
            trio.lowlevel.reschedule(task)

    def _recover(self, max_deliveries: int) -> None:
        """After a crash: requeue unsettled casts in order, fail unanswered calls."""
        requeue: list[Envelope[M, R]] = []
        for envelope in self._pending:
            if envelope._settled:
                continue
            if envelope._reply is not None:
                envelope._fail_if_waiting(ActorCrashed(f"actor {self.name!r} crashed"))
            elif envelope.deliveries >= max_deliveries:
                log.error(
                    "actor %r: dropping a message after %d deliveries that all crashed: %r",
                    self.name,
                    envelope.deliveries,
                    envelope.msg,
                )
            else:
                requeue.append(envelope)
        self._pending = []
        self._redeliver[:0] = requeue

    def _discard(self) -> int:
        """The actor ended for good: fail every waiting call, return the casts lost."""
        self.close()
        stopped = ActorStopped(f"actor {self.name!r} stopped")
        lost = 0
        for envelope in [*self._pending, *self._redeliver, *(self._queue or ())]:
            if envelope._reply is not None:
                envelope._fail_if_waiting(stopped)
            elif not envelope._settled:
                lost += 1
        self._pending, self._redeliver, self._queue = [], [], None
        return lost
