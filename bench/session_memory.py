"""What an idle chat connection holds on the server side, by allocation site (tracemalloc).

Serves trio-websocket on loopback the way ``duo.chat.server`` does, with a handler that
holds the connection idle like an authenticated session (``--tasks`` extra sleeping tasks
stand in for a session's own tasks), opens ``--connections`` clients from another Python
(one with ``websockets``, e.g. the yardstick's venv) and prints the memory per connection
and the allocation sites that grew most between the snapshot before and after.

    .venv/bin/python bench/session_memory.py --python /path/to/venv-with-websockets/bin/python \\
        --connections 1000 --tasks 2
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import resource
import subprocess
import tracemalloc

import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

from duo.chat.protocol import MAX_FRAME_BYTES

CLIENT = """
import asyncio, sys
import websockets

async def main(url, n):
    conns = [await websockets.connect(url, subprotocols=["json"], ping_interval=None) for _ in range(n)]
    print("open", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for c in conns:
        await c.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def measure(python: str, connections: int, tasks: int, top: int) -> None:
    opened = 0

    async def handler(request: WebSocketRequest) -> None:
        nonlocal opened
        ws = await request.accept(subprotocol="json")
        opened += 1
        async with trio.open_nursery() as nursery:
            for _ in range(tasks):
                nursery.start_soon(trio.sleep_forever)
            with contextlib.suppress(ConnectionClosed):
                await ws.get_message()  # only when the client goes: it stays idle
            nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        serve = functools.partial(serve_websocket, handler, "127.0.0.1", 0, None, max_message_size=MAX_FRAME_BYTES)
        server = await nursery.start(serve)
        tracemalloc.start(8)
        before = tracemalloc.take_snapshot()
        client = await trio.lowlevel.open_process(
            [python, "-c", CLIENT, f"ws://127.0.0.1:{server.port}/", str(connections)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        assert client.stdout is not None and client.stdin is not None
        with trio.fail_after(120):
            await client.stdout.receive_some()
            while opened < connections:
                await trio.sleep(0.05)
            await trio.sleep(0.5)  # the last handshakes settle
        after = tracemalloc.take_snapshot()
        stats = after.compare_to(before, "lineno")
        grown = sum(s.size_diff for s in stats)
        print(f"{connections} idle connections, {tasks} extra tasks each: "
              f"{grown / connections / 1024:.1f} KiB traced per connection")
        for s in stats[:top]:
            frame = next((f for f in s.traceback if "trio_websocket" in f.filename or "wsproto" in f.filename
                          or "h11" in f.filename), s.traceback[0])
            print(f"{s.size_diff / connections:8.0f} B/conn  {s.count_diff / connections:5.1f} blocks  "
                  f"{frame.filename.rsplit('site-packages/', 1)[-1]}:{frame.lineno}")
        await client.stdin.aclose()
        await client.wait()
        nursery.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", required=True, help="a Python with websockets installed")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=0)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2 * args.connections + 256)), hard))
    trio.run(measure, args.python, args.connections, args.tasks, args.top)


if __name__ == "__main__":
    main()
