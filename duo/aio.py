"""The one bridge between trio and the asyncio libraries (asyncpg, redis).

Everything asyncio-flavoured is called through :func:`aio` so that swapping the
bridge (or the libraries) touches this module only.  The loop itself is opened
once at the root with :func:`open_loop`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

import trio_asyncio

P = ParamSpec("P")
T = TypeVar("T")


@asynccontextmanager
async def open_loop() -> AsyncIterator[None]:
    """Open the asyncio loop that asyncio libraries run on, for this trio run."""
    async with trio_asyncio.open_loop():
        yield


def aio(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Wrap an asyncio coroutine function so trio code can await it."""
    wrapped: Any = trio_asyncio.aio_as_trio(fn)
    return wrapped
