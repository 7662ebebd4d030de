"""A small actor runtime on trio: mailboxes, call/cast, supervision with restarts.

Model
-----
* An actor is an async function ``actor(inbox, *, task_status)`` that owns its
  state and reads messages from its :class:`Inbox`. It calls
  ``task_status.started()`` once it is ready to serve; that is when
  :meth:`Supervisor.start` returns.
* The mailbox belongs to the *supervisor*, not to the running actor task, so
  messages queued while an actor crashes and restarts are not lost. An actor started
  with ``manual_ack=True`` also gets back, at the front, the casts it had taken but not
  acked (at-least-once delivery, see :class:`Envelope`).
* A crashed actor is logged with its traceback and restarted after an
  exponential backoff. More than ``max_restarts`` crashes within
  ``window_seconds`` escalate: :class:`ActorEscalation` is raised out of the
  supervisor, which tears the whole process down (it exits non-zero).
* Shutdown: :func:`open_supervisor` shields actors from outside cancellation.
  When its block is left - normally, by an error or because an enclosing scope
  was cancelled - every actor is stopped in reverse start order: its mailbox is
  closed for new messages, it drains what is queued and returns; whatever is
  still running when the grace period ends is cancelled.

All timing uses ``trio.current_time()``, so tests run on trio's MockClock.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, Generic, Protocol, TypeVar

import attrs
import trio

log = logging.getLogger("duo.actors")

M = TypeVar("M")
R = TypeVar("R")


class ActorError(Exception):
    """Base class of the runtime's errors."""


class ActorTimeout(ActorError):
    """A :meth:`ActorRef.call` got no reply within its timeout."""

    def __init__(self, actor: str, timeout: float) -> None:
        super().__init__(f"actor {actor!r} did not reply within {timeout}s")
        self.actor = actor
        self.timeout = timeout


class MailboxFull(ActorError):
    """:meth:`ActorRef.cast` found the mailbox at capacity (the message was not queued)."""


class ActorStopped(ActorError):
    """The actor is stopping or stopped and takes no new messages."""


class ActorCrashed(ActorError):
    """The actor crashed while handling this call; the call was not answered."""


class ActorEscalation(ActorError):
    """An actor crashed more often than its :class:`RestartPolicy` allows."""

    def __init__(self, actor: str, restarts: int, window: float) -> None:
        super().__init__(f"actor {actor!r} crashed {restarts} times within {window}s; giving up")
        self.actor = actor


@attrs.frozen
class RestartPolicy:
    """How often a crashed actor is restarted, and how long to wait before each restart.

    More than ``max_restarts`` crashes within ``window_seconds`` escalate. The n-th crash
    inside the window waits ``min(backoff_max, backoff_initial * 2**(n-1))``: a crash
    loop slows down instead of spinning, a single crash restarts quickly.
    ``max_deliveries`` bounds how often one message is handed to an actor that keeps
    crashing on it ("poison message"); after that it is logged and dropped.
    """

    max_restarts: int = 5
    window_seconds: float = 60.0
    backoff_initial: float = 0.1
    backoff_max: float = 10.0
    max_deliveries: int = 3

    def backoff(self, crashes_in_window: int) -> float:
        exponent = max(crashes_in_window - 1, 0)
        # Cap the exponent so 2**n never overflows a float.
        return min(self.backoff_max, self.backoff_initial * 2.0 ** min(exponent, 64))


class _Reply(Generic[R]):
    """One-shot reply slot of a call: written once by the actor, read by the caller."""

    def __init__(self) -> None:
        self.event = trio.Event()
        self.abandoned = False
        self._value: R | None = None
        self._error: BaseException | None = None

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
    :attr:`RestartPolicy.max_deliveries`) and pending calls fail with
    :class:`ActorCrashed` (the caller is waiting and decides itself whether to retry).
    So by default a crash loses only the cast being handled, never the queue behind it;
    actors that must not lose work (the mailer) ack manually.
    """

    __slots__ = ("msg", "deliveries", "_reply", "_settled")

    def __init__(self, msg: M, reply: _Reply[R] | None) -> None:
        self.msg = msg
        self.deliveries = 0  # times handed to an actor; > 1 means redelivered
        self._reply = reply
        self._settled = False

    @property
    def is_call(self) -> bool:
        return self._reply is not None

    @property
    def abandoned(self) -> bool:
        """The caller gave up waiting (timeout); the actor may skip the work."""
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


class Mailbox(Generic[M, R]):
    """The queue of one actor; owned by its supervisor and outliving actor crashes."""

    def __init__(self, name: str, capacity: int, manual_ack: bool) -> None:
        self.name = name
        self.manual_ack = manual_ack
        send, receive = trio.open_memory_channel[Envelope[M, R]](capacity)
        self._send = send
        self._receive = receive
        self._redeliver: collections.deque[Envelope[M, R]] = collections.deque()
        self._pending: list[Envelope[M, R]] = []
        self.closed = False  # set by close(): the actor is stopping

    def queued(self) -> int:
        """Messages waiting for the actor, including those to be redelivered."""
        return self._receive.statistics().current_buffer_used + len(self._redeliver)

    def close(self) -> None:
        """Refuse new messages; the actor sees end-of-mailbox once the queue is empty."""
        self.closed = True
        self._send.close()

    # -- actor side ---------------------------------------------------------------------
    def _deliver(self, envelope: Envelope[M, R]) -> Envelope[M, R]:
        self._pending = [e for e in self._pending if not e._settled and not e.abandoned]
        envelope.deliveries += 1
        if not self.manual_ack and envelope._reply is None:
            envelope._settled = True  # at-most-once: taking a cast is handling it
        else:
            self._pending.append(envelope)
        return envelope

    def _take_nowait(self) -> Envelope[M, R]:
        if self._redeliver:
            return self._deliver(self._redeliver.popleft())
        return self._deliver(self._receive.receive_nowait())

    def receive_nowait(self) -> Envelope[M, R]:
        """Next message without waiting; raises ``trio.WouldBlock`` or ``trio.EndOfChannel``."""
        return self._take_nowait()

    async def receive(self) -> Envelope[M, R]:
        """Next message; raises ``trio.EndOfChannel`` once stopped and drained."""
        if self._redeliver:
            await trio.lowlevel.checkpoint()
            return self._deliver(self._redeliver.popleft())
        return self._deliver(await self._receive.receive())

    def receive_ready(self, limit: int) -> list[Envelope[M, R]]:
        """Up to ``limit`` messages that are queued right now (for batching)."""
        batch: list[Envelope[M, R]] = []
        while len(batch) < limit:
            try:
                batch.append(self._take_nowait())
            except (trio.WouldBlock, trio.EndOfChannel):
                break
        return batch

    def _recover(self, policy: RestartPolicy) -> None:
        """After a crash: requeue unsettled casts in order, fail unanswered calls."""
        requeue: list[Envelope[M, R]] = []
        for envelope in self._pending:
            if envelope._settled:
                continue
            if envelope._reply is not None:
                if not envelope._reply.event.is_set():
                    envelope._reply.set(None, ActorCrashed(f"actor {self.name!r} crashed"))
            elif envelope.deliveries >= policy.max_deliveries:
                log.error(
                    "actor %r: dropping a message after %d deliveries that all crashed: %r",
                    self.name,
                    envelope.deliveries,
                    envelope.msg,
                )
            else:
                requeue.append(envelope)
        self._pending = []
        self._redeliver.extendleft(reversed(requeue))


class Inbox(Generic[M, R]):
    """What an actor sees of its mailbox: receiving only.

    ``async for envelope in inbox`` ends when the actor is stopped and its queue is drained.
    """

    def __init__(self, mailbox: Mailbox[M, R]) -> None:
        self._mailbox = mailbox
        self.name = mailbox.name

    async def receive(self) -> Envelope[M, R]:
        return await self._mailbox.receive()

    def receive_nowait(self) -> Envelope[M, R]:
        return self._mailbox.receive_nowait()

    def receive_ready(self, limit: int) -> list[Envelope[M, R]]:
        """Up to ``limit`` messages that are queued right now (for batching)."""
        return self._mailbox.receive_ready(limit)

    def __aiter__(self) -> Inbox[M, R]:
        return self

    async def __anext__(self) -> Envelope[M, R]:
        try:
            return await self._mailbox.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None


class ActorFn(Protocol[M, R]):
    """Signature of an actor: read ``inbox``, call ``task_status.started()`` when ready."""

    def __call__(
        self, inbox: Inbox[M, R], *, task_status: trio.TaskStatus[None] = ...
    ) -> Awaitable[None]: ...


class ActorRef(Generic[M, R]):
    """The only handle other code has on an actor."""

    def __init__(self, mailbox: Mailbox[M, R]) -> None:
        self.name = mailbox.name
        self._mailbox = mailbox
        self._scope = trio.CancelScope(shield=True)  # the supervision loop runs inside
        self._done = trio.Event()

    def cast(self, msg: M) -> None:
        """Queue ``msg`` without waiting.

        Never blocks, so it is safe from request handlers: a full mailbox raises
        :class:`MailboxFull` (the message is *not* queued; the caller decides whether to
        drop, log or answer 503). A stopping actor raises :class:`ActorStopped`.
        """
        try:
            self._mailbox._send.send_nowait(Envelope(msg, None))
        except trio.WouldBlock:
            raise MailboxFull(f"mailbox of actor {self.name!r} is full") from None
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise ActorStopped(f"actor {self.name!r} is stopped") from None

    async def call(self, msg: M, timeout: float) -> R:
        """Send ``msg`` and wait for the reply; both together take at most ``timeout``.

        Unlike :meth:`cast`, waits for room in a full mailbox (within the timeout).
        Raises :class:`ActorTimeout`, :class:`ActorStopped`, :class:`ActorCrashed`, or
        whatever the actor passed to :meth:`Envelope.fail`.
        """
        reply: _Reply[R] = _Reply()
        with trio.move_on_after(timeout):
            try:
                await self._mailbox._send.send(Envelope(msg, reply))
            except (trio.ClosedResourceError, trio.BrokenResourceError):
                raise ActorStopped(f"actor {self.name!r} is stopped") from None
            await reply.event.wait()
            return reply.unwrap()
        reply.abandoned = True
        raise ActorTimeout(self.name, timeout)

    def queued(self) -> int:
        return self._mailbox.queued()

    async def stop(self, grace: float) -> bool:
        """Close the mailbox, let the actor drain it, and wait until it has finished.

        Returns True if the actor finished within ``grace`` seconds; otherwise it is
        cancelled (queued messages are logged as lost) and False is returned.
        """
        self._mailbox.close()
        with trio.move_on_after(grace):
            await self._done.wait()
            return True
        self._scope.cancel()
        with trio.CancelScope(shield=True):
            await self._done.wait()
        lost = self._mailbox.queued()
        log.warning("actor %r cancelled after %ss grace, %d messages lost", self.name, grace, lost)
        return False


async def _supervise(
    ref: ActorRef[M, R],
    actor: ActorFn[M, R],
    policy: RestartPolicy,
    *,
    task_status: trio.TaskStatus[ActorRef[M, R]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run ``actor`` until it is stopped, restarting it after crashes; escalate past policy."""
    mailbox = ref._mailbox
    inbox = Inbox(mailbox)
    crashes: collections.deque[float] = collections.deque()
    ready = False
    try:
        with ref._scope:
            while True:
                try:
                    async with trio.open_nursery() as nursery:
                        await nursery.start(_incarnation, actor, inbox)
                        if not ready:
                            ready = True
                            task_status.started(ref)
                except Exception:
                    log.exception("actor %r crashed", ref.name)
                else:
                    if mailbox.closed:
                        return  # stopped and drained (or chose to finish)
                    log.error("actor %r returned while its mailbox is open", ref.name)
                mailbox._recover(policy)
                now = trio.current_time()
                crashes.append(now)
                while crashes and crashes[0] <= now - policy.window_seconds:
                    crashes.popleft()
                if len(crashes) > policy.max_restarts:
                    raise ActorEscalation(ref.name, len(crashes), policy.window_seconds)
                delay = policy.backoff(len(crashes))
                log.info("actor %r restarting in %.3fs", ref.name, delay)
                await trio.sleep(delay)
    finally:
        ref._done.set()


async def _incarnation(
    actor: ActorFn[M, R],
    inbox: Inbox[M, R],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    # A trampoline so the actor's own keyword-only task_status reaches it via nursery.start.
    await actor(inbox, task_status=task_status)


class Supervisor:
    """Starts actors in its nursery and stops them in reverse order. See :func:`open_supervisor`."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        self._refs: list[ActorRef[Any, Any]] = []

    async def start(
        self,
        name: str,
        actor: ActorFn[M, R],
        *,
        policy: RestartPolicy = RestartPolicy(),
        capacity: int = 1000,
        manual_ack: bool = False,
    ) -> ActorRef[M, R]:
        """Start ``actor`` under supervision; returns once it called ``task_status.started()``.

        ``capacity`` bounds the mailbox (see :meth:`ActorRef.cast`). ``manual_ack`` makes
        casts stay pending until :meth:`Envelope.ack` (for actors that batch).
        Raises :class:`ActorEscalation` if the actor cannot even get ready.
        """
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        ref: ActorRef[M, R] = ActorRef(Mailbox(name, capacity, manual_ack))
        self._refs.append(ref)
        await self._nursery.start(_supervise, ref, actor, policy)
        return ref

    async def stop(self, grace: float) -> None:
        """Stop all actors, newest first (later actors may depend on earlier ones).

        ``grace`` is the total budget; each actor gets what is left of it.
        """
        deadline = trio.current_time() + grace
        for ref in reversed(self._refs):
            await ref.stop(max(deadline - trio.current_time(), 0.0))


@asynccontextmanager
async def open_supervisor(grace: float = 10.0) -> AsyncIterator[Supervisor]:
    """A nursery of supervised actors that drain on exit.

    Actors are shielded from cancellation of the enclosing scopes: when the block is left
    for any reason (including the root scope being cancelled) every actor is stopped with
    :meth:`Supervisor.stop`, so it can finish queued work within ``grace`` seconds. An
    :class:`ActorEscalation` cancels the block and is raised from here (inside an
    ``ExceptionGroup``, like any nursery error).
    """
    async with trio.open_nursery() as nursery:
        supervisor = Supervisor(nursery)
        try:
            yield supervisor
        finally:
            with trio.CancelScope(shield=True):
                await supervisor.stop(grace)
