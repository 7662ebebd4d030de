"""Cost of one trio → asyncpg crossing: duo.aio against plain trio-asyncio.

    .venv/bin/python bench/bridge.py --host /path/to/state/postgres [--tasks 50] [--seconds 5]

Both run the same ``SELECT 1`` (and a one-row session-like lookup) from ``--tasks``
concurrent trio tasks on an asyncpg pool of 10, and print calls/s and the process CPU per
call.  duo.aio is the bridge duo keeps; trio-asyncio is what it is measured against.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import trio
import trio_asyncio

from duo import aio as duo_aio

QUERIES = {
    "SELECT 1": ("SELECT 1", ()),
    "one row": ("SELECT $1::text AS email, 42 AS person_id, now() AS expiry, true AS signed_in", ("a@example.com",)),
}


@asynccontextmanager
async def _trio_asyncio_loop() -> AsyncIterator[None]:
    async with trio_asyncio.open_loop():
        yield


def _trio_asyncio(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    wrapped: Any = trio_asyncio.aio_as_trio(fn)
    return wrapped


BRIDGES: dict[str, tuple[Callable[[], AbstractAsyncContextManager[None]], Callable[..., Any]]] = {
    "duo.aio": (duo_aio.open_loop, duo_aio.aio),
    "trio-asyncio": (_trio_asyncio_loop, _trio_asyncio),
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(bridge: str, args: argparse.Namespace, sql: str, params: tuple[Any, ...]) -> tuple[float, float]:
    open_loop, aio = BRIDGES[bridge]
    async with open_loop():
        pool = await aio(asyncpg.create_pool)(host=args.host, port=args.port, user=args.user,
                                              database="postgres", min_size=10, max_size=10)
        try:
            calls = 0
            until = time.perf_counter() + args.seconds

            async def worker() -> None:
                nonlocal calls
                while time.perf_counter() < until:
                    await aio(pool.fetchrow)(sql, *params)
                    calls += 1

            start, cpu = time.perf_counter(), _cpu()
            async with trio.open_nursery() as nursery:
                for _ in range(args.tasks):
                    nursery.start_soon(worker)
            elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
        finally:
            await aio(pool.close)()
    return calls / elapsed, 1e6 * cpu / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", required=True, help="PostgreSQL host or socket directory")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2, help="alternate the bridges this many times")
    args = parser.parse_args()
    print(f"{'bridge':<14}{'query':<10}{'calls/s':>10}{'CPU µs/call':>13}")
    for _ in range(args.rounds):
        for name, (sql, params) in QUERIES.items():
            for bridge in BRIDGES:
                rate, cpu = trio.run(measure, bridge, args, sql, params)
                print(f"{bridge:<14}{name:<10}{rate:>10.0f}{cpu:>13.0f}", flush=True)


if __name__ == "__main__":
    main()
