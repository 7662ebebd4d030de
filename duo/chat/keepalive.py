"""Protocol pings for every connection of the process from one scheduler (chat-protocol §1.2).

A sleeping task per connection costs a few KiB each for something that happens every 20 s;
here an idle connection is one entry in a queue ordered by when its next ping is due.  The
scheduler wakes for the earliest, and each ping runs as a task only while it waits for its
pong; a connection that does not answer within the timeout is told so (and dropped).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import trio
from trio_websocket import ConnectionClosed

log = logging.getLogger("duo.chat")

PING_INTERVAL = 20.0  # §1.2: protocol ping every 20 s, dropped without a pong in 20 s
PING_TIMEOUT = 20.0


class Pingable(Protocol):
    """A connection as the scheduler sees it."""

    async def ping(self) -> None:
        """Send a ping and return once its pong has arrived."""

    def no_pong(self) -> None:
        """The pong did not come in time (never waits)."""


class Pinger:
    """The ping schedule of all connections; :meth:`run` is its one task."""

    def __init__(self, interval: float = PING_INTERVAL, timeout: float = PING_TIMEOUT) -> None:
        self._interval = interval
        self._timeout = timeout
        self._due: collections.deque[tuple[float, Pingable]] = collections.deque()  # in time order
        self._watched: set[Pingable] = set()
        self._added = trio.Event()

    def __len__(self) -> int:
        return len(self._watched)

    @contextmanager
    def watching(self, conn: Pingable) -> Iterator[None]:
        """Ping ``conn`` every interval for the duration of the block."""
        self._watched.add(conn)
        self._due.append((trio.current_time() + self._interval, conn))  # every interval is equal: stays sorted
        self._added.set()
        try:
            yield
        finally:
            self._watched.discard(conn)  # its queue entry is dropped when it comes due

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Ping each connection when due, until cancelled."""
        async with trio.open_nursery() as pings:
            task_status.started()
            while True:
                if not self._due:
                    self._added = trio.Event()
                    await self._added.wait()
                    continue
                await trio.sleep_until(self._due[0][0])
                now = trio.current_time()
                while self._due and self._due[0][0] <= now:  # all that are due, in one wake-up
                    _, conn = self._due.popleft()
                    if conn in self._watched:
                        self._due.append((now + self._interval, conn))  # >= every queued time: stays sorted
                        pings.start_soon(self._ping, conn)

    async def _ping(self, conn: Pingable) -> None:
        """One ping; whatever goes wrong with one connection never ends the scheduler."""
        try:
            with trio.move_on_after(self._timeout) as waited:
                await conn.ping()
        except ConnectionClosed:
            return
        except Exception:
            log.exception("chat: a ping failed; dropping the connection")
            conn.no_pong()
            return
        if waited.cancelled_caught and conn in self._watched:
            conn.no_pong()
