"""The framework's floor: a hello-world JSON GET on Quart-Trio under hypercorn's trio worker.

    .venv/bin/python -P bench/floor.py --port 5099 [--reuse-port]

(``-P`` keeps bench/ off ``sys.path``: bench/http.py would shadow the stdlib package.)

bench/http.py starts one (or several with ``--reuse-port``, sharing the port as
``duo serve --workers N`` does) to show what duo's own request path adds on top.
Access logging is off, as in duo.
"""

from __future__ import annotations

import argparse
import functools
import signal

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from quart_trio import QuartTrio

from duo.workers import shared_port_bind

app = QuartTrio("floor")


@app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


async def main(port: int, reuse_port: bool) -> None:
    config = Config()
    # the same SO_REUSEPORT socket as the workers of duo serve --workers
    config.bind = [shared_port_bind("127.0.0.1", port) if reuse_port else f"127.0.0.1:{port}"]
    config.accesslog = None
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(functools.partial(serve, app, config, shutdown_trigger=shutdown.wait))
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                shutdown.set()
                break


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--reuse-port", action="store_true", help="share the port with other processes")
    args = parser.parse_args()
    trio.run(main, args.port, args.reuse_port)
