"""The shared Redis client (rate-limit counters now, cross-process chat routing later)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio
import trio

from duo.aio import aio


@asynccontextmanager
async def open_redis(url: str) -> AsyncIterator[Any]:
    """A client of ``url``, checked with a PING so a wrong URL fails start-up."""
    client = redis.asyncio.from_url(url)
    try:
        await aio(client.ping)()
        yield client
    finally:
        with trio.CancelScope(shield=True):
            await aio(client.aclose)()
