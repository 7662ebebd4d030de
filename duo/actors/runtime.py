"""A small actor runtime on trio: mailboxes, call/cast, supervision trees, registries.

Public API
----------
* :func:`open_supervisor` - the root :class:`Supervisor`; an actor that exceeds its crash
  budget there raises :class:`ActorEscalation` out of the block (the process ends).
* :meth:`Supervisor.start` - start a child, returns its :class:`ActorRef` once the actor is
  ready. :meth:`Supervisor.spawn` - the same as ``async with``: the calling task owns the
  actor (leaving the block stops it; the actor ending cancels the block, a crash is raised
  from it as :class:`ActorCrashed`). :meth:`Supervisor.start_supervisor` - a nested
  supervisor with its own crash budget (sessions, rooms).
* Per-child :class:`Options`: :class:`Restart` (permanent, transient, temporary),
  :class:`Shutdown` (drain or cancel), :class:`Overflow` (raise, drop oldest, disconnect),
  ``capacity``, ``policy`` (:class:`RestartPolicy`), ``manual_ack``, ``tier``.
* :class:`ActorRef`: ``cast``, ``call`` (timeout optional), ``stop``, ``kill``,
  ``wait_stopped`` (returns the :data:`Reason`), ``monitor``/``demonitor`` (a :class:`Down`
  message to another actor or a trio channel), ``watch``/``unwatch`` (a callback),
  ``reason``, ``stopping``, ``queued``.
* :class:`Registry` (``get_or_start(key, factory)`` starts at most one actor per key) and
  :class:`MultiRegistry` (``add(key, ref)``, ``lookup(key) -> list[ref]``); entries go
  when their actors end.
* Errors: :class:`ActorError` and its subclasses :class:`ActorTimeout`,
  :class:`MailboxFull`, :class:`ActorStopped`, :class:`ActorCrashed`,
  :class:`ActorEscalation`.

Model
-----
* An actor is an async function ``actor(inbox, *, task_status)`` that owns its state and
  reads :class:`Envelope` s from its :class:`Inbox`. It calls ``task_status.started()``
  once it is ready to serve; that is when :meth:`Supervisor.start` returns. Each actor is
  exactly one trio task (restarts run in the same task), so idle actors are cheap.
* The mailbox belongs to the *ref*, not to the running incarnation: messages queued while
  an actor crashes and restarts are not lost. An actor started with ``manual_ack=True``
  also gets back, at the front, the casts it had taken but not acked (at-least-once).
* A crash is logged with its traceback. Permanent and transient actors are restarted after
  an exponential backoff; more than ``max_restarts`` crashes within ``window_seconds``
  exhaust the actor's budget: a supervisor with ``escalate=True`` (the root) raises
  :class:`ActorEscalation` and so crashes itself, one with ``escalate=False`` (sessions,
  rooms) ends just that child, logged. A nested supervisor is a child of its parent like
  any actor, so what happens when it crashes is the parent's policy.
* An actor that returns is not a crash: transient and temporary actors end with reason
  ``"normal"``; a permanent actor must not return while its mailbox is open and is
  restarted (counted against its budget).
* Shutdown: :func:`open_supervisor` shields actors from outside cancellation. When its
  block is left - normally, by an error or because an enclosing scope was cancelled -
  children stop tier by tier, highest tier first; the peers of one tier stop concurrently.
  In a static supervisor every child is its own tier (newest first); in a dynamic one all
  children are peers. ``Shutdown.DRAIN`` closes the mailbox and lets the actor finish what
  is queued; ``Shutdown.CANCEL`` cancels it at once. Whatever is still running when the
  grace period ends is cancelled, and calls still waiting fail with :class:`ActorStopped`.

All timing uses ``trio.current_time()``, so tests run on trio's MockClock. An idle actor
costs about 4 KiB (``bench/actors.py``).

Chat, for example::

    rooms = await root.start_supervisor("rooms")          # started first: stopped last
    sessions = await root.start_supervisor("sessions")
    by_person: MultiRegistry[UUID, Frame, None] = MultiRegistry()
    by_conversation: Registry[str, RoomMsg, None] = Registry()

    async def websocket_handler(ws):                      # owns its session
        async with sessions.spawn(session_actor(ws), name=f"session {uuid}",
                                  restart=Restart.TEMPORARY, shutdown=Shutdown.CANCEL,
                                  capacity=64, overflow=Overflow.DISCONNECT) as ref:
            by_person.add(uuid, ref)
            async for frame in ws:                        # cancelled if the session ends
                ref.cast(frame)

    room = await by_conversation.get_or_start(key, lambda: rooms.start(
        f"room {key}", room_actor(key), restart=Restart.TRANSIENT))
"""

from __future__ import annotations

import enum
import itertools
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Generic, Protocol, TypedDict, TypeVar, Unpack

import attrs
import trio

from duo.actors.errors import (
    ActorCrashed,
    ActorError,
    ActorEscalation,
    ActorStopped,
    ActorTimeout,
    MailboxFull,
)
from duo.actors.mailbox import Envelope, Inbox, Mailbox, Overflow, Reply
from duo.actors.registry import MultiRegistry, Registry

__all__ = [
    "KILLED", "NORMAL", "OVERFLOW", "STOPPED", "ActorCrashed", "ActorError",
    "ActorEscalation", "ActorFn", "ActorRef", "ActorStopped", "ActorTimeout", "Down",
    "Envelope", "Inbox", "MailboxFull", "MultiRegistry", "Options", "Overflow", "Reason",
    "Registry", "Restart", "RestartPolicy", "Shutdown", "Supervisor", "open_supervisor",
]

log = logging.getLogger("duo.actors")

M = TypeVar("M")
R = TypeVar("R")

NORMAL = "normal"  # the actor returned on its own
STOPPED = "stopped"  # stopped on request (drained, or cancelled by Shutdown.CANCEL)
KILLED = "killed"  # cancelled: the grace period ran out, or kill()
OVERFLOW = "overflow"  # a slow consumer disconnected by Overflow.DISCONNECT

Reason = str | BaseException
"""Why an actor ended: one of the strings above, or the exception it crashed with."""


class Restart(enum.Enum):
    """When a supervisor restarts a child that ended."""

    PERMANENT = "permanent"  # always (a server that must be there)
    TRANSIENT = "transient"  # only after a crash
    TEMPORARY = "temporary"  # never: a session whose connection ended simply ends


class Shutdown(enum.Enum):
    """How a child is stopped."""

    DRAIN = "drain"  # close the mailbox, let it finish what is queued (within the grace)
    CANCEL = "cancel"  # cancel at once (sessions: nothing queued is worth waiting for)


@attrs.frozen
class RestartPolicy:
    """An actor's crash budget, and how long to wait before each restart.

    More than ``max_restarts`` crashes within ``window_seconds`` exhaust the budget. The
    n-th crash inside the window waits ``min(backoff_max, backoff_initial * 2**(n-1))``: a
    crash loop slows down instead of spinning, a single crash restarts quickly.
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


DEFAULT_POLICY = RestartPolicy()


class Options(TypedDict, total=False):
    """How a supervisor runs one child (all optional).

    ``restart`` (default permanent), ``shutdown`` (default drain), ``policy`` (the crash
    budget and backoff), ``capacity`` (mailbox bound, default 1000), ``overflow`` (default
    raise), ``manual_ack`` (casts stay pending until :meth:`Envelope.ack`; for actors
    that batch), ``tier`` (stop order; see the module docstring).
    """

    restart: Restart
    shutdown: Shutdown
    policy: RestartPolicy
    capacity: int
    overflow: Overflow
    manual_ack: bool
    tier: int


@attrs.frozen
class Down:
    """The message a monitor receives when the actor ``ref`` ended."""

    ref: ActorRef[Any, Any]
    reason: Reason


class ActorFn(Protocol[M, R]):
    """Signature of an actor: read ``inbox``, call ``task_status.started()`` when ready."""

    def __call__(
        self, inbox: Inbox[M, R], *, task_status: trio.TaskStatus[None] = ...
    ) -> Awaitable[None]: ...


Watcher = Callable[["ActorRef[Any, Any]", Reason], None]


class ActorRef(Generic[M, R]):
    """The only handle other code has on an actor."""

    __slots__ = ("name", "id", "tier", "shutdown", "reason", "_mailbox", "_scope",
                 "_done", "_watchers", "_stop_reason")

    def __init__(self, name: str, id: int, tier: int, shutdown: Shutdown,
                 capacity: int, overflow: Overflow, manual_ack: bool) -> None:
        self.name = name
        self.id = id  # unique within its supervisor
        self.tier = tier
        self.shutdown = shutdown
        self.reason: Reason | None = None  # set once the actor has ended
        self._mailbox: Mailbox[M, R] = Mailbox(name, capacity, overflow, manual_ack)
        self._scope = trio.CancelScope(shield=True)  # the supervision loop runs inside
        self._done: trio.Event | None = None  # made when someone waits
        self._watchers: dict[object, Watcher] | None = None
        self._stop_reason = KILLED  # the reason if the actor is cancelled

    def __repr__(self) -> str:
        return f"<ActorRef {self.name!r}#{self.id}>"

    @property
    def stopping(self) -> bool:
        """Stopping or stopped: takes no new messages."""
        return self._mailbox.closed

    def cast(self, msg: M) -> None:
        """Queue ``msg`` without waiting.

        Never blocks, so it is safe from request handlers. A full mailbox applies the
        actor's :class:`Overflow` policy: :class:`MailboxFull` (the message is *not*
        queued; the caller decides whether to drop, log or answer 503), dropping the
        oldest message, or disconnecting the actor (:class:`ActorStopped`). A stopping
        actor raises :class:`ActorStopped`.
        """
        if not self._mailbox.put_nowait(Envelope(msg, None)):
            log.warning("actor %r does not keep up with its mailbox: disconnected", self.name)
            self.kill(OVERFLOW)
            raise ActorStopped(f"actor {self.name!r} was disconnected (overflow)")

    async def call(self, msg: M, timeout: float | None = None) -> R:
        """Send ``msg`` and wait for the reply, within the caller's cancel scope.

        Unlike :meth:`cast`, waits for room in a full mailbox. ``timeout`` bounds both
        together (:class:`ActorTimeout`). A call the caller stops waiting for (timeout or
        cancellation) is marked abandoned: the actor skips it if it is still queued.
        Raises :class:`ActorStopped` (also when the actor stops before answering),
        :class:`ActorCrashed`, or whatever the actor passed to :meth:`Envelope.fail`.
        """
        reply: Reply[R] = Reply()
        try:
            with trio.move_on_after(math.inf if timeout is None else timeout):
                await self._mailbox.put(Envelope(msg, reply))
                await reply.event.wait()
                return reply.unwrap()
            raise ActorTimeout(self.name, timeout or 0.0)
        finally:
            if not reply.answered:
                reply.abandoned = True

    def queued(self) -> int:
        return self._mailbox.queued()

    async def stop(self, grace: float) -> bool:
        """Stop the actor by its :class:`Shutdown` policy and wait until it has ended.

        Draining: close the mailbox and let the actor finish what is queued; if it is
        still running after ``grace`` seconds it is cancelled and False is returned.
        Cancelling: cancel at once (returns True).
        """
        if self.shutdown is Shutdown.CANCEL:
            self.kill(STOPPED)
        else:
            self._mailbox.close()
        with trio.move_on_after(grace):
            await self.wait_stopped()
            return True
        self._stop_reason = KILLED
        self._scope.cancel()
        with trio.CancelScope(shield=True):
            await self.wait_stopped()
        log.warning("actor %r cancelled after %ss grace", self.name, grace)
        return False

    def kill(self, reason: str = KILLED) -> None:
        """Cancel the actor now; it ends with ``reason``. Queued messages are lost."""
        if self.reason is None and not self._scope.cancel_called:
            self._stop_reason = reason
        self._mailbox.close()
        self._scope.cancel()

    async def wait_stopped(self) -> Reason:
        """Wait until the actor has ended; returns why."""
        if self.reason is None:
            if self._done is None:
                self._done = trio.Event()
            await self._done.wait()
        else:
            await trio.lowlevel.checkpoint()
        assert self.reason is not None
        return self.reason

    def monitor(self, target: ActorRef[Down, Any] | trio.MemorySendChannel[Down]) -> None:
        """Send ``Down(self, reason)`` to ``target`` when this actor ends (at once if it has).

        A full or closed target misses the message (logged): a monitor never blocks the
        actor's end.
        """

        def notify(ref: ActorRef[Any, Any], reason: Reason) -> None:
            try:
                if isinstance(target, ActorRef):
                    target.cast(Down(ref, reason))
                else:
                    target.send_nowait(Down(ref, reason))
            except (ActorError, trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
                log.warning("monitor of %r missed its Down message (%s)", ref.name, reason)

        self.watch(target, notify)

    def demonitor(self, target: object) -> None:
        """Stop monitoring; a no-op if ``target`` does not monitor this actor."""
        self.unwatch(target)

    def watch(self, key: object, watcher: Watcher) -> None:
        """Call ``watcher(ref, reason)`` when the actor ends (at once if it has).

        ``key`` identifies the watcher for :meth:`unwatch`; one watcher per key. Watchers
        run synchronously as the actor ends, so they must not block (an error is logged).
        """
        if self.reason is not None:
            watcher(self, self.reason)
            return
        if self._watchers is None:
            self._watchers = {}
        self._watchers[key] = watcher

    def unwatch(self, key: object) -> None:
        if self._watchers is not None:
            self._watchers.pop(key, None)

    def _ended(self, reason: Reason) -> int:
        """Record the end, fail waiting calls, tell watchers; returns the casts lost."""
        self.reason = reason
        lost = self._mailbox._discard()
        if self._done is not None:
            self._done.set()
        watchers, self._watchers = self._watchers, None
        for watcher in (watchers or {}).values():
            try:
                watcher(self, reason)
            except Exception:  # one broken watcher must not keep the others uninformed
                log.exception("a watcher of actor %r failed", self.name)
        return lost


class _Ready:
    """The task status an incarnation sees: the first ``started()`` releases ``start()``."""

    __slots__ = ("_outer", "_ref")

    def __init__(self, outer: trio.TaskStatus[ActorRef[Any, Any]], ref: ActorRef[Any, Any]) -> None:
        self._outer: trio.TaskStatus[ActorRef[Any, Any]] | None = outer
        self._ref: ActorRef[Any, Any] | None = ref

    @property
    def ready(self) -> bool:
        return self._outer is None

    def started(self, value: None = None) -> None:
        if self._outer is not None and self._ref is not None:
            outer, ref, self._outer, self._ref = self._outer, self._ref, None, None
            outer.started(ref)  # and let go: trio's status object holds the start nursery


class Supervisor:
    """Starts children in its nursery, keeps them by id, stops them tier by tier.

    See :func:`open_supervisor` (the root) and :meth:`start_supervisor` (nested).
    """

    __slots__ = ("name", "escalate", "dynamic", "grace", "ref", "_nursery", "_children",
                 "_ids", "_stopping")

    def __init__(self, name: str, *, escalate: bool, dynamic: bool, grace: float) -> None:
        self.name = name
        self.escalate = escalate  # a child past its budget crashes this supervisor
        self.dynamic = dynamic  # children are peers (tier 0) unless given a tier
        self.grace = grace  # for stopping its children when its own mailbox closes
        self.ref: ActorRef[None, None] | None = None  # set for nested supervisors
        self._nursery: trio.Nursery | None = None
        self._children: dict[int, ActorRef[Any, Any]] = {}
        self._ids = itertools.count()
        self._stopping = False

    def __len__(self) -> int:
        return len(self._children)

    def children(self) -> list[ActorRef[Any, Any]]:
        """The children now running, oldest first."""
        return list(self._children.values())

    async def start(self, name: str, actor: ActorFn[M, R], **options: Unpack[Options]) -> ActorRef[M, R]:
        """Start ``actor`` under supervision; returns once it called ``task_status.started()``.

        Raises :class:`ActorEscalation` or :class:`ActorCrashed` if the actor cannot even
        get ready, :class:`ActorStopped` if this supervisor is stopping.
        """
        if self._nursery is None or self._stopping:
            raise ActorStopped(f"supervisor {self.name!r} is stopping")
        id = next(self._ids)
        tier = options.get("tier", 0 if self.dynamic else id)
        ref: ActorRef[M, R] = ActorRef(
            name, id, tier,
            options.get("shutdown", Shutdown.DRAIN),
            options.get("capacity", 1000),
            options.get("overflow", Overflow.RAISE),
            options.get("manual_ack", False),
        )
        restart = options.get("restart", Restart.PERMANENT)
        policy = options.get("policy", DEFAULT_POLICY)
        await self._nursery.start(self._supervise, ref, actor, restart, policy)
        return ref

    @asynccontextmanager
    async def spawn(
        self, actor: ActorFn[M, R], *, name: str, grace: float | None = None, **options: Unpack[Options]
    ) -> AsyncIterator[ActorRef[M, R]]:
        """Start ``actor`` owned by the calling task for the duration of the block.

        Leaving the block stops the actor (by its shutdown policy, within ``grace``
        seconds, default the supervisor's). The actor ending first cancels the block; if
        it crashed, :class:`ActorCrashed` is raised from the block (``__cause__`` is the
        crash); otherwise the block just ends and ``ref.reason`` says why.
        """
        ref = await self.start(name, actor, **options)
        with trio.CancelScope() as owned:
            ref.watch(owned, lambda _ref, _reason: owned.cancel())
            try:
                yield ref
            finally:
                ref.unwatch(owned)
                with trio.CancelScope(shield=True):
                    await ref.stop(self.grace if grace is None else grace)
        if owned.cancelled_caught and isinstance(ref.reason, BaseException):
            raise ActorCrashed(f"actor {ref.name!r} crashed") from ref.reason

    async def start_supervisor(
        self,
        name: str,
        *,
        dynamic: bool = True,
        escalate: bool = False,
        grace: float = 10.0,
        **options: Unpack[Options],
    ) -> Supervisor:
        """Start a nested supervisor as a child of this one and return it.

        Its children's crash budgets are its own business: with ``escalate=False`` a child
        past its budget just ends (logged); with ``escalate=True`` this nested supervisor
        crashes and *its* ``restart`` policy here decides (a restarted supervisor starts
        empty). Stopping it stops its children tier by tier within ``grace``.
        """
        child = Supervisor(name, escalate=escalate, dynamic=dynamic, grace=grace)
        child.ref = await self.start(name, child._serve, **options)
        return child

    async def _serve(
        self, inbox: Inbox[None, None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """A nested supervisor as an actor: its nursery lives until its mailbox closes."""
        async with trio.open_nursery() as nursery:
            self._nursery, self._stopping = nursery, False
            try:
                task_status.started()
                async for envelope in inbox:
                    log.warning("supervisor %r ignores message %r", self.name, envelope.msg)
                await self.stop(self.grace)
            finally:
                self._nursery = None
                for ref in self.children():  # cancelled or crashed: no grace for anyone
                    ref.kill()

    async def stop(self, grace: float) -> None:
        """Stop all children, highest tier first, the peers of a tier concurrently.

        ``grace`` is the total budget; each tier gets what is left of it.
        """
        self._stopping = True
        deadline = trio.current_time() + grace
        for tier in sorted({ref.tier for ref in self._children.values()}, reverse=True):
            peers = [ref for ref in self._children.values() if ref.tier == tier]
            async with trio.open_nursery() as nursery:
                for ref in peers:
                    nursery.start_soon(ref.stop, max(deadline - trio.current_time(), 0.0))

    async def _supervise(
        self,
        ref: ActorRef[M, R],
        actor: ActorFn[M, R],
        restart: Restart,
        policy: RestartPolicy,
        *,
        task_status: trio.TaskStatus[ActorRef[M, R]] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Run ``actor`` in this one task until it ends, restarting it by ``restart``.

        One flat function on purpose: its frame is what every idle actor keeps alive.
        """
        ready = _Ready(task_status, ref)
        del task_status  # it holds the start nursery; _Ready lets go of it once started
        mailbox = ref._mailbox
        crashes: list[float] = []
        reason: Reason = ref._stop_reason
        self._children[ref.id] = ref
        try:
            with ref._scope:
                while True:
                    try:
                        await actor(mailbox, task_status=ready)
                    except Exception as exc:
                        log.exception("actor %r crashed", ref.name)
                        reason = exc
                    else:
                        if mailbox.closed:
                            reason = STOPPED  # stopped and drained (or chose to finish)
                            break
                        if restart is not Restart.PERMANENT:
                            reason = NORMAL
                            break
                        log.error("actor %r returned while its mailbox is open", ref.name)
                        reason = ActorCrashed(f"permanent actor {ref.name!r} returned")
                    mailbox._recover(policy.max_deliveries)
                    if restart is Restart.TEMPORARY:
                        break
                    now = trio.current_time()
                    crashes[:] = [t for t in crashes if t > now - policy.window_seconds]
                    crashes.append(now)
                    if len(crashes) > policy.max_restarts:
                        escalation = ActorEscalation(ref.name, len(crashes), policy.window_seconds)
                        escalation.__cause__ = reason if isinstance(reason, BaseException) else None
                        reason = escalation
                        if self.escalate or not ready.ready:
                            raise escalation
                        log.error("%s (supervisor %r carries on)", escalation, self.name)
                        break
                    delay = policy.backoff(len(crashes))
                    log.info("actor %r restarting in %.3fs", ref.name, delay)
                    await trio.sleep(delay)
        finally:
            if ref._scope.cancel_called and isinstance(reason, str):
                reason = ref._stop_reason  # killed, whether or not it noticed
            self._children.pop(ref.id, None)
            lost = ref._ended(reason)
            if lost:
                log.warning("actor %r ended (%s) with %d messages lost", ref.name, reason, lost)
        if not ready.ready:  # start() is waiting: tell it
            cause = reason if isinstance(reason, BaseException) else None
            raise ActorCrashed(f"actor {ref.name!r} ended before it was ready ({reason})") from cause


@asynccontextmanager
async def open_supervisor(grace: float = 10.0, *, name: str = "root") -> AsyncIterator[Supervisor]:
    """The root supervisor: its children stop in reverse start order on exit.

    Actors are shielded from cancellation of the enclosing scopes: when the block is left
    for any reason (including the root scope being cancelled) every child is stopped with
    :meth:`Supervisor.stop`, so it can finish queued work within ``grace`` seconds. An
    :class:`ActorEscalation` cancels the block and is raised from here (inside an
    ``ExceptionGroup``, like any nursery error).
    """
    supervisor = Supervisor(name, escalate=True, dynamic=False, grace=grace)
    async with trio.open_nursery() as nursery:
        supervisor._nursery = nursery
        try:
            yield supervisor
        finally:
            with trio.CancelScope(shield=True):
                await supervisor.stop(grace)
