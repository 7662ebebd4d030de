"""Answers remembered for the current UTC minute: the public counts (http-api-accounts §8.2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class MinuteCache:
    """Answers remembered per (endpoint, arguments) for the current UTC minute.

    Counts may be up to a minute old (§8.2); older buckets are dropped on the next store.
    One per process, held by the services.
    """

    def __init__(self) -> None:
        self._values: dict[tuple[Hashable, ...], Any] = {}

    async def get(self, now: dt.datetime, key: tuple[Hashable, ...], compute: Callable[[], Awaitable[Any]]) -> Any:
        bucket = int(now.timestamp() // 60)
        full_key = (*key, bucket)
        if full_key not in self._values:
            value = await compute()
            self._values = {k: v for k, v in self._values.items() if k[-1] == bucket}
            self._values[full_key] = value
        return self._values[full_key]
