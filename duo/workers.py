"""``duo serve --workers N``: N processes of the same duo sharing the HTTP port.

One trio process uses one core; the API scales past it with processes.  The parent
starts the embedded PostgreSQL once (or uses the configured one) and applies the schema,
then runs N ``duo serve --worker`` children that reach that database through the
``DUO_DB_*`` variables, each with its share of the chat port range in ``DUO_CHAT_PORTS``.
Every worker binds the HTTP port with SO_REUSEPORT, so the kernel spreads connections.
SIGINT/SIGTERM to the parent is passed on; each worker drains its requests, then the
parent stops PostgreSQL.  A worker that dies unasked stops the rest and the parent exits 1,
so the process manager restarts the whole.  Rate-limit counters cross processes only
through Redis (``redis.url``); without it each worker counts alone.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from pathlib import Path

import trio

from duo.actors.persistence import prepare
from duo.aio import open_loop
from duo.config import Config
from duo.services import GRACE_SECONDS
from duo.sql.database import Database, DbSettings

log = logging.getLogger("duo.workers")


def worker_count(config: Config, asked: int | None) -> int:
    """``--workers``, else ``http.workers``, else one per core in prod and one in dev."""
    if asked:
        return asked
    if config.http.workers:
        return config.http.workers
    return len(os.sched_getaffinity(0)) if config.env == "prod" else 1


def chat_shares(ports: list[int], workers: int) -> list[list[int]]:
    """Split the chat ports into ``workers`` contiguous shares, as even as they go.

    With fewer ports than workers the last workers get none (they serve HTTP only).
    """
    base, extra = divmod(len(ports), workers)
    shares, start = [], 0
    for i in range(workers):
        size = base + (1 if i < extra else 0)
        shares.append(ports[start : start + size])
        start += size
    return shares


def port_text(ports: list[int]) -> str:
    """The ``chat.ports`` spelling of a contiguous share: ``5443``, ``5443-5444`` or empty."""
    if not ports:
        return ""
    return str(ports[0]) if len(ports) == 1 else f"{ports[0]}-{ports[-1]}"


def shared_port_bind(host: str, port: int) -> str:
    """A hypercorn bind (``fd://N``) for a socket on ``host:port`` that other workers share.

    hypercorn takes the descriptor over, listens on it and closes it.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host.strip("[]"), port))
    return f"fd://{sock.detach()}"


def worker_env(settings: DbSettings, chat_ports: list[int]) -> dict[str, str]:
    """The environment of one worker: the parent's, pointed at the one database."""
    return dict(
        os.environ,
        DUO_DB_HOST=settings.host,
        DUO_DB_PORT=str(settings.port),
        DUO_DB_USER=settings.user,
        DUO_DB_PASS=settings.password,
        DUO_DB_API_NAME=settings.database,
        DUO_CHAT_PORTS=port_text(chat_ports),
    )


async def run_workers(config: Config, workers: int, config_path: Path | None) -> None:
    """Run ``workers`` copies of ``duo serve`` until SIGINT/SIGTERM; exit 1 if one dies unasked."""
    from duo.supervisor import open_database  # it imports this module

    config.state_path.mkdir(parents=True, exist_ok=True)
    shares = chat_shares(config.chat_ports, workers)
    if not shares[-1]:
        log.warning("%d chat ports for %d workers: some workers serve HTTP only", len(config.chat_ports), workers)
    if workers > 1 and not config.redis.url:
        log.warning("no DUO_REDIS_URL: live chat traffic and online status stay within each worker")
    command = [sys.executable, "-m", "duo"]
    if config_path is not None:
        command += ["--config", str(config_path)]
    command += ["serve", "--worker"]
    failed = False
    async with open_database(config) as settings:
        async with open_loop():
            await prepare(Database(settings))
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            procs: list[trio.Process] = []
            async with trio.open_nursery() as nursery:
                for share in shares:
                    # a session of its own: a terminal's Ctrl-C reaches the parent only, once
                    proc = await trio.lowlevel.open_process(
                        command, env=worker_env(settings, share), start_new_session=True
                    )
                    procs.append(proc)
                log.info("started %d workers: pids %s", workers, ", ".join(str(p.pid) for p in procs))
                stopping = trio.Event()

                async def watch(proc: trio.Process) -> None:
                    nonlocal failed
                    code = await proc.wait()
                    if not stopping.is_set():
                        log.error("worker %d exited with %s: stopping the others", proc.pid, code)
                        failed = True
                        stopping.set()

                async def stop_on_signal() -> None:
                    async for signum in signals:
                        log.info("received %s: draining the workers", signal.Signals(signum).name)
                        break
                    stopping.set()

                for proc in procs:
                    nursery.start_soon(watch, proc)
                nursery.start_soon(stop_on_signal)
                await stopping.wait()
                for proc in procs:
                    if proc.returncode is None:
                        proc.send_signal(signal.SIGTERM)
                with trio.move_on_after(GRACE_SECONDS + 10):
                    for proc in procs:
                        await proc.wait()
                for proc in procs:
                    if proc.returncode is None:
                        log.error("worker %d did not stop in time: killing it", proc.pid)
                        proc.kill()
                        await proc.wait()
                # a worker still starting when it got our SIGTERM dies of it before its handler
                # is installed: it was asked to stop, so that is a clean stop too
                failed = failed or any(p.returncode not in (0, -signal.SIGTERM) for p in procs)
                nursery.cancel_scope.cancel()
    log.info("duo stopped")
    if failed:
        raise SystemExit(1)
