"""The root of the process: infrastructure up, actors supervised, listeners served.

Start-up reads top to bottom: database (embedded or configured) → migrations →
reference data → pool → actors → chat and HTTP listeners.  SIGINT/SIGTERM stop the
listeners from accepting, close chat sessions with 1001, let in-flight requests finish
within the grace period, drain the mailer, close the pool and stop the embedded PostgreSQL.
"""

from __future__ import annotations

import functools
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve

from duo.actors.runtime import open_supervisor
from duo.actors.scheduler import start_scheduler, status_reader
from duo.aio import open_loop
from duo.chat.server import run_chat
from duo.config import Config
from duo.http.app import STATUS_AREAS, create_app
from duo.jobs.registry import scheduled_jobs
from duo.safety.checks import warm_up
from duo.services import GRACE_SECONDS, Services, start_services
from duo.sql import embedded
from duo.sql.database import DbSettings
from duo.workers import shared_port_bind

log = logging.getLogger("duo")

# young collection every 10,000 net allocations (default 700); older ones 50 and 100 times rarer
GC_THRESHOLDS = (10_000, 50, 100)


@asynccontextmanager
async def open_database(config: Config) -> AsyncIterator[DbSettings]:
    """The configured server, or the embedded one (stopped again on the way out)."""
    if config.database.host:
        yield DbSettings(
            host=config.database.host,
            port=config.database.port,
            user=config.database.user,
            password=config.database.password,
            database=config.database.name,
        )
        return
    pgdata = config.state_path / "postgres"
    with embedded.exclusive(pgdata):
        settings = await embedded.start(pgdata)
        try:
            yield DbSettings(host=settings.host, port=settings.port, user=settings.user, database=config.database.name)
        finally:
            with trio.CancelScope(shield=True):
                await embedded.stop(pgdata)


def hypercorn_config(host: str, port: int, config: Config) -> HypercornConfig:
    hc = HypercornConfig()
    hc.bind = [f"{host}:{port}"]
    hc.accesslog = logging.getLogger("duo.access") if config.http.access_log else None
    hc.errorlog = logging.getLogger("hypercorn.error")
    hc.graceful_timeout = GRACE_SECONDS
    hc.keep_alive_timeout = 75
    hc.websocket_max_message_size = 70_000_000
    return hc


def http_app(svc: Services, *, status_only: bool = False) -> Any:
    """The ASGI app serving ``svc`` (the status page alone for the status port): the one
    place outside duo/http that builds it, for the listeners and the in-process seeding."""
    return create_app(svc, STATUS_AREAS) if status_only else create_app(svc)


async def serve_http(
    svc: Services,
    shutdown: trio.Event,
    *,
    shared_port: bool = False,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the API (and the optional status port) until ``shutdown`` is set.

    ``shared_port``: bind with SO_REUSEPORT, as one of the workers of duo.workers.
    """
    config = svc.config
    apps = [(config.http.port, http_app(svc))]
    if config.http.status_port:
        apps.append((config.http.status_port, http_app(svc, status_only=True)))
    binds: list[str] = []
    async with trio.open_nursery() as nursery:
        for port, app in apps:
            hc = hypercorn_config(config.http.host, port, config)
            if shared_port:
                hc.bind = [shared_port_bind(config.http.host, port)]
            binds += await nursery.start(functools.partial(serve, app, hc, shutdown_trigger=shutdown.wait))
        task_status.started(binds)


async def _wait_for_signal(shutdown: trio.Event) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("received %s: draining", signal.Signals(signum).name)
            shutdown.set()
            return


async def run(
    config: Config, *, shared_port: bool = False, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED
) -> None:
    """Run duo until SIGINT/SIGTERM (``shared_port``: as one of the workers of duo.workers)."""
    config.state_path.mkdir(parents=True, exist_ok=True)
    async with open_database(config) as db_settings, open_loop(), trio.open_nursery() as root:
        # compiling the word lists takes seconds: do it while the database starts
        filters_ready = trio.Event()
        root.start_soon(_warm_up_filters, filters_ready)
        async with open_supervisor(grace=GRACE_SECONDS) as supervisor, AsyncExitStack() as exits:
            svc = await start_services(supervisor, exits, config, db_settings)
            await filters_ready.wait()
            if config.cron.enabled:
                scheduler, _ = await start_scheduler(supervisor, svc, scheduled_jobs(config))
                svc.jobs_status = status_reader(scheduler)
            shutdown = trio.Event()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_wait_for_signal, shutdown)
                chat_binds = await nursery.start(run_chat, svc, shutdown)
                log.info("duo is serving chat on %s", ", ".join(chat_binds))
                binds = await nursery.start(functools.partial(serve_http, svc, shutdown, shared_port=shared_port))
                log.info("duo is serving HTTP on %s", ", ".join(binds))
                _freeze_start_up_heap()
                task_status.started(binds)
                await shutdown.wait()
                nursery.cancel_scope.deadline = trio.current_time() + GRACE_SECONDS
        root.cancel_scope.cancel()
    log.info("duo stopped")


def _freeze_start_up_heap() -> None:
    """Keep what start-up built (word-list filters, reference data, modules) out of the
    cyclic collector's sight, and collect less often than CPython's default.

    Every full collection otherwise walks that whole long-lived heap while requests wait:
    it was most of the request path's tail (bench/http.py, 2 workers: /health p99 126 ms
    → 36 ms, /check-session-token 143 ms → 61-69 ms; with the rarer collections 46-50 ms).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _warm_up_filters(done: trio.Event) -> None:
    await trio.to_thread.run_sync(warm_up)
    done.set()


