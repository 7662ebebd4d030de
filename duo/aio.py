"""The one bridge between trio and the asyncio libraries (asyncpg, redis).

Everything asyncio-flavoured is called through :func:`aio` so that swapping the
bridge (or the libraries) touches this module only.  The loop itself is opened
once at the root with :func:`open_loop`.

The asyncio loop runs in a thread of its own.  :func:`aio` hands it a coroutine and
parks the trio task until the asyncio task is done; a trio cancellation cancels the
asyncio task and waits for it to stop, so a connection is never left mid-query.  Work
crosses in batches: one wake-up per side however many calls are queued, which is what
makes this cheaper per crossing than trio-asyncio, which runs asyncio's callbacks on the
trio scheduler (bench/bridge.py; figures in docs/decisions.md).  The loop is uvloop's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

import attrs
import outcome
import trio
import uvloop

log = logging.getLogger("duo.aio")

# How long closing waits for asyncio tasks to end after they are cancelled.
STOP_SECONDS = 10.0

P = ParamSpec("P")
T = TypeVar("T")


@attrs.define(eq=False)
class _Bridge:
    """The asyncio loop of one trio run and the two hand-over queues between them."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    token: trio.lowlevel.TrioToken
    users: int = 1
    to_asyncio: deque[Callable[[], object]] = attrs.field(factory=deque)
    to_trio: deque[tuple[trio.lowlevel.Task, outcome.Outcome[Any]]] = attrs.field(factory=deque)
    asyncio_woken: bool = False
    trio_woken: bool = False

    def submit(self, job: Callable[[], object]) -> None:
        """(trio thread) Run ``job`` on the loop; wake the loop only if it is not already woken."""
        self.to_asyncio.append(job)
        if not self.asyncio_woken:
            self.asyncio_woken = True
            self.loop.call_soon_threadsafe(self._run_jobs)

    def _run_jobs(self) -> None:
        # the flag drops before the queue is read: a job queued after this point wakes us again
        self.asyncio_woken = False
        while self.to_asyncio:
            self.to_asyncio.popleft()()

    def deliver(self, task: trio.lowlevel.Task, result: outcome.Outcome[Any]) -> None:
        """(asyncio thread) Reschedule a parked trio task with ``result``."""
        self.to_trio.append((task, result))
        if not self.trio_woken:
            self.trio_woken = True
            try:
                self.token.run_sync_soon(self._wake_tasks)
            except trio.RunFinishedError:
                pass

    def _wake_tasks(self) -> None:
        self.trio_woken = False
        while self.to_trio:
            trio.lowlevel.reschedule(*self.to_trio.popleft())


_CURRENT: trio.lowlevel.RunVar[_Bridge | None] = trio.lowlevel.RunVar("duo_asyncio_bridge", default=None)


@asynccontextmanager
async def open_loop() -> AsyncIterator[None]:
    """Open the asyncio loop that asyncio libraries run on, for this trio run.

    Nested or concurrent openings in one run share the loop (objects made on it stay
    usable everywhere); the last one out stops it.
    """
    bridge = _CURRENT.get()
    if bridge is None:
        loop = uvloop.new_event_loop()  # asyncpg's own protocol code runs about twice as fast on it
        thread = threading.Thread(target=loop.run_forever, name="duo-asyncio", daemon=True)
        bridge = _Bridge(loop, thread, trio.lowlevel.current_trio_token())
        thread.start()
        _CURRENT.set(bridge)
    else:
        bridge.users += 1
    try:
        yield
    finally:
        bridge.users -= 1
        if bridge.users == 0:
            with trio.CancelScope(shield=True):
                await _close(bridge)


async def _close(bridge: _Bridge) -> None:
    _CURRENT.set(None)
    loop = bridge.loop

    async def cancel_the_rest() -> None:
        tasks = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task(loop)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await loop.shutdown_asyncgens()
        loop.stop()

    asyncio.run_coroutine_threadsafe(cancel_the_rest(), loop)
    await trio.to_thread.run_sync(bridge.thread.join, STOP_SECONDS)
    if bridge.thread.is_alive():  # a task that ignores cancellation: leave the daemon thread be
        log.error("the asyncio loop did not stop within %s s", STOP_SECONDS)
        return
    loop.close()


class _Cancelled:
    """What the asyncio side reports when its task ended by cancellation."""


def aio(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Wrap an asyncio coroutine function so trio code can await it."""

    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        bridge = _CURRENT.get()
        if bridge is None:
            raise RuntimeError("no asyncio loop: call this inside duo.aio.open_loop()")
        trio_task = trio.lowlevel.current_task()
        started: list[asyncio.Task[T]] = []
        cancel_requested = False

        async def body() -> T:
            return await fn(*args, **kwargs)

        def finished(task: asyncio.Task[T]) -> None:
            cancelled = task.cancelled()
            bridge.deliver(trio_task, outcome.Value(_Cancelled()) if cancelled else outcome.capture(task.result))

        def start() -> None:
            task = bridge.loop.create_task(body())
            task.add_done_callback(finished)
            started.append(task)

        def abort(_: Any) -> trio.lowlevel.Abort:
            nonlocal cancel_requested
            cancel_requested = True
            bridge.submit(lambda: started[0].cancel())
            return trio.lowlevel.Abort.FAILED  # ``finished`` reschedules once it has stopped

        bridge.submit(start)
        result = await trio.lowlevel.wait_task_rescheduled(abort)
        if isinstance(result, _Cancelled):
            if cancel_requested:
                await trio.lowlevel.checkpoint()  # raises trio.Cancelled
            raise RuntimeError("the asyncio task was cancelled from the asyncio side")
        value: T = result
        return value

    return call
