"""Memory per idle actor: the chat target is 10,000 idle sessions at <= 20 KiB each.

    .venv/bin/python bench/actors.py [--actors 10000]

Starts the actors under a dynamic child supervisor (as chat sessions are: temporary,
cancelled at shutdown, a small mailbox), once bare (``start``) and once each owned by a
task of its own through ``spawn`` (as a WebSocket handler owns its session). Prints KiB
per actor from the growth of the process RSS and, in a second run, from tracemalloc (the
Python heap only). Every actor has been sent one message, so its mailbox has been used.
"""

from __future__ import annotations

import argparse
import gc
import pathlib
import tracemalloc

import trio
import trio.testing

from duo.actors.runtime import Inbox, Options, Restart, Shutdown, Supervisor, open_supervisor

SESSION: Options = {"restart": Restart.TEMPORARY, "shutdown": Shutdown.CANCEL, "capacity": 64}


async def idle(inbox: Inbox[str, None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    task_status.started()
    async for _ in inbox:
        pass


def rss_kib() -> int:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


async def bare(sessions: Supervisor, count: int) -> None:
    for i in range(count):
        ref = await sessions.start(f"session-{i}", idle, **SESSION)
        ref.cast("hello")


async def owned(sessions: Supervisor, count: int, nursery: trio.Nursery) -> None:
    async def owner(i: int) -> None:
        async with sessions.spawn(idle, name=f"session-{i}", **SESSION) as ref:
            ref.cast("hello")
            await trio.sleep_forever()

    for i in range(count):
        nursery.start_soon(owner, i)  # as hypercorn starts a WebSocket handler


async def measure(kind: str, count: int, traced: bool) -> float:
    """KiB per actor while ``count`` actors of ``kind`` idle."""
    async with open_supervisor(grace=120) as root:
        sessions = await root.start_supervisor("sessions")
        async with trio.open_nursery() as owners:
            await trio.sleep(0)
            gc.collect()
            before = tracemalloc.get_traced_memory()[0] if traced else rss_kib() * 1024
            if kind == "start":
                await bare(sessions, count)
            else:
                await owned(sessions, count, owners)
            await trio.testing.wait_all_tasks_blocked()
            gc.collect()
            after = tracemalloc.get_traced_memory()[0] if traced else rss_kib() * 1024
            assert len(sessions) == count
            owners.cancel_scope.cancel()
    return (after - before) / 1024 / count


async def main(count: int) -> None:
    for kind in ("start", "spawn"):
        rss = await measure(kind, count, traced=False)
        tracemalloc.start()
        heap = await measure(kind, count, traced=True)
        tracemalloc.stop()
        print(f"{count} idle actors via {kind:5}: {rss:5.2f} KiB/actor RSS, {heap:5.2f} KiB/actor Python heap")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actors", type=int, default=10_000)
    trio.run(main, parser.parse_args().actors)
