"""The persistence actor: brings the schema up to date, owns the connection pool, reports health.

Handlers hold the same :class:`~duo.sql.database.Database` throughout; this actor connects
it, checks it periodically, and when the database stops answering it crashes on purpose so
the supervisor restarts it with a fresh pool (after backoff) instead of serving errors
from dead connections forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import attrs
import trio

from duo.actors.runtime import ActorFn, ActorRef, Inbox, RestartPolicy, Supervisor
from duo.sql.database import Database
from duo.sql.migrate import migrate
from duo.sql.seed import seed_reference_data

log = logging.getLogger("duo.actors.persistence")


@attrs.frozen
class Health:
    """Ask for a health report (call)."""


@attrs.frozen
class HealthReport:
    ok: bool
    latency_ms: float
    error: str | None = None


class DatabaseUnhealthy(Exception):
    """Several health checks in a row failed: restart with a fresh pool."""


async def check(db: Database, timeout: float = 5.0) -> HealthReport:
    """One round trip, timed."""
    started = time.perf_counter()
    try:
        with trio.fail_after(timeout):
            await db.fetchval("SELECT 1")
    except Exception as e:  # noqa: BLE001 - any failure is reported, not raised
        return HealthReport(False, 1000 * (time.perf_counter() - started), f"{type(e).__name__}: {e}")
    return HealthReport(True, 1000 * (time.perf_counter() - started))


async def prepare(db: Database) -> None:
    """Schema and reference data; safe when several processes start together."""
    await migrate(db.settings)
    async with Database.open(db.settings, min_size=1, max_size=1) as single:
        await seed_reference_data(single)


async def _watch(db: Database, every: float, failures_allowed: int,
                 probe: Callable[[Database], Awaitable[HealthReport]]) -> None:
    failures = 0
    while True:
        await trio.sleep(every)
        report = await probe(db)
        failures = 0 if report.ok else failures + 1
        if not report.ok:
            log.warning("database health check failed (%d/%d): %s", failures, failures_allowed, report.error)
        if failures >= failures_allowed:
            raise DatabaseUnhealthy(report.error)


def persistence_actor(
    db: Database,
    *,
    prepare_schema: bool = True,
    check_every: float = 30.0,
    failures_allowed: int = 3,
    probe: Callable[[Database], Awaitable[HealthReport]] = check,
) -> ActorFn[Health, HealthReport]:
    async def persistence(
        inbox: Inbox[Health, HealthReport], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        if prepare_schema:
            await prepare(db)
        async with db.connected(), trio.open_nursery() as nursery:
            nursery.start_soon(_watch, db, check_every, failures_allowed, probe)
            task_status.started()
            async for envelope in inbox:
                envelope.reply(await probe(db))
            nursery.cancel_scope.cancel()

    return persistence


RECONNECT = RestartPolicy(max_restarts=5, window_seconds=300, backoff_initial=1.0, backoff_max=30.0)


async def start_persistence(
    supervisor: Supervisor,
    db: Database,
    *,
    policy: RestartPolicy = RECONNECT,
    prepare_schema: bool = True,
    check_every: float = 30.0,
    failures_allowed: int = 3,
    probe: Callable[[Database], Awaitable[HealthReport]] = check,
) -> ActorRef[Health, HealthReport]:
    """Start the actor; returns once the schema is current and the pool is open.

    ``prepare_schema=False`` skips migrations and reference data, for a database known to
    be current (the tests' template copies).
    """
    actor = persistence_actor(
        db, prepare_schema=prepare_schema, check_every=check_every, failures_allowed=failures_allowed, probe=probe
    )
    return await supervisor.start("persistence", actor, policy=policy)
