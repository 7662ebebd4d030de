"""Fixed-window rate limits (http-api-accounts §2.6), in process or shared through Redis.

A window starts with its first hit and lasts for the limit's period.  With Redis the
window is ``SET NX EX`` then ``INCR`` in one transaction (one round trip), so several
processes share it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import attrs

from duo.aio import aio


@attrs.frozen
class Limit:
    count: int
    seconds: int
    text: str  # how the 429 page names it, e.g. "60 per 1 minute"


PER_MINUTE = Limit(60, 60, "60 per 1 minute")
PER_SECOND = Limit(12, 1, "12 per 1 second")
DEFAULTS = (PER_MINUTE, PER_SECOND)
OTP = Limit(3, 60, "3 per 1 minute")
DAILY_40 = Limit(40, 86400, "40 per 1 day")
DAILY_3 = Limit(3, 86400, "3 per 1 day")


class Counter(Protocol):
    async def hit(self, key: str, limit: Limit) -> bool:
        """Count one hit; return False when the limit is already exceeded."""


class MemoryCounter:
    """Counters of one process; an injected clock lets tests move time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: Limit) -> bool:
        now = self._clock()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= limit.seconds:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        if len(self._windows) > 200_000:
            self._forget_expired(now)
        return count <= limit.count

    def _forget_expired(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if now - v[0] < 86400}


class RedisCounter:
    """Counters shared by every process through Redis."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def hit(self, key: str, limit: Limit) -> bool:
        name = f"duo:rl:{limit.count}/{limit.seconds}:{key}"
        count = await aio(self._count)(name, limit.seconds)
        return count <= limit.count

    async def _count(self, name: str, seconds: int) -> int:
        """One round trip: create the window with its expiry if absent, then count the hit."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, ex=seconds, nx=True)
            pipe.incr(name)
            _, count = await pipe.execute()
        return int(count)


class RateLimitExceeded(Exception):
    def __init__(self, limit: Limit) -> None:
        super().__init__(limit.text)
        self.limit = limit


async def enforce(counter: Counter, key: str, limits: tuple[Limit, ...]) -> None:
    """Hit every limit (all counters move, as the reference does) and raise on the first exceeded."""
    exceeded = None
    for limit in limits:
        if not await counter.hit(f"{limit.count}/{limit.seconds}:{key}", limit) and exceeded is None:
            exceeded = limit
    if exceeded is not None:
        raise RateLimitExceeded(exceeded)
