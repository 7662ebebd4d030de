"""The one bridge between trio and the asyncio libraries (asyncpg, redis).

Everything asyncio-flavoured is called through :func:`aio` so that swapping the
bridge (or the libraries) touches this module only.  The loop itself is opened
once at the root with :func:`open_loop`.

The asyncio loop runs in a thread of its own and :func:`aio` hands it each coroutine:
the trio task parks until the asyncio task is done, and a trio cancellation cancels
the asyncio task and waits for it to finish (so a connection is never left mid-query).
Measured against trio-asyncio, which runs asyncio's callbacks on the trio scheduler,
this costs less per crossing (bench/bridge.py, figures in docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

import attrs
import outcome
import trio

P = ParamSpec("P")
T = TypeVar("T")


@attrs.define
class _Loop:
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    users: int = 1


_CURRENT: trio.lowlevel.RunVar[_Loop | None] = trio.lowlevel.RunVar("duo_asyncio_loop", default=None)


@asynccontextmanager
async def open_loop() -> AsyncIterator[None]:
    """Open the asyncio loop that asyncio libraries run on, for this trio run.

    Nested or concurrent openings in one run share the loop (objects made on it stay
    usable everywhere); the last one out stops it.
    """
    current = _CURRENT.get()
    if current is None:
        # explicitly a selector loop: importing trio-asyncio (tests do) patches new_event_loop
        loop = asyncio.SelectorEventLoop()
        current = _Loop(loop, threading.Thread(target=loop.run_forever, name="duo-asyncio", daemon=True))
        current.thread.start()
        _CURRENT.set(current)
    else:
        current.users += 1
    try:
        yield
    finally:
        current.users -= 1
        if current.users == 0:
            with trio.CancelScope(shield=True):
                await _close(current)


async def _close(current: _Loop) -> None:
    _CURRENT.set(None)
    loop = current.loop

    async def cancel_the_rest() -> None:
        tasks = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task(loop)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await loop.shutdown_asyncgens()
        loop.stop()

    asyncio.run_coroutine_threadsafe(cancel_the_rest(), loop)
    await trio.to_thread.run_sync(current.thread.join)
    loop.close()


def _current_loop() -> asyncio.AbstractEventLoop:
    current = _CURRENT.get()
    if current is None:
        raise RuntimeError("no asyncio loop: call this inside duo.aio.open_loop()")
    return current.loop


class _Cancelled:
    """What the asyncio side reports when its task ended by cancellation."""


def aio(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Wrap an asyncio coroutine function so trio code can await it."""

    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        loop = _current_loop()
        trio_task = trio.lowlevel.current_task()
        token = trio.lowlevel.current_trio_token()
        started: list[asyncio.Task[T]] = []
        cancel_requested = False

        async def body() -> T:
            return await fn(*args, **kwargs)

        def finished(task: asyncio.Task[T]) -> None:
            result: outcome.Outcome[Any] = (
                outcome.Value(_Cancelled()) if task.cancelled() else outcome.capture(task.result)
            )
            try:
                token.run_sync_soon(trio.lowlevel.reschedule, trio_task, result)
            except trio.RunFinishedError:
                pass

        def start() -> None:
            task = loop.create_task(body())
            task.add_done_callback(finished)
            started.append(task)

        def abort(_: Any) -> trio.lowlevel.Abort:
            nonlocal cancel_requested
            cancel_requested = True
            loop.call_soon_threadsafe(lambda: started[0].cancel())
            return trio.lowlevel.Abort.FAILED  # rescheduled by ``finished`` once it has stopped

        loop.call_soon_threadsafe(start)
        result = await trio.lowlevel.wait_task_rescheduled(abort)
        if isinstance(result, _Cancelled):
            if cancel_requested:
                await trio.lowlevel.checkpoint()  # raises trio.Cancelled
            raise RuntimeError("the asyncio task was cancelled from the asyncio side")
        value: T = result
        return value

    return call
