"""The scheduler actor: the scheduled jobs (scheduler.md) on exactly one process.

Every ``duo serve`` starts this actor, but only the *leader* runs jobs: the process whose
dedicated PostgreSQL connection holds the scheduler's advisory lock. The others try to
take the lock every ``DUO_CRON_LEADER_POLL_SECONDS``; when the leader dies its connection
closes, the lock is released, and one of them takes over. The leader checks its lock
connection at the same rate and stops its jobs as soon as the connection is gone, so two
leaders overlap for at most one check interval.

Each job is one task (scheduler.md §1 loop shape): a random start delay, then iterations
separated by the job's poll interval. A failing iteration is logged and the job alone
waits longer (exponential backoff up to :data:`BACKOFF_MAX`) before the next; other jobs
keep their pace. After every iteration the job's state — schedule, last run, last result,
consecutive failures — is kept in memory (answered by a call, shown at
``/health/details``) and in ``duo_job`` (read by ``duo jobs`` from another process).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import attrs
import trio

from duo.actors.runtime import ActorError, ActorFn, ActorRef, Inbox, Supervisor
from duo.aio import aio
from duo.jobs.job import Job
from duo.services import Services
from duo.sql.database import Database

log = logging.getLogger("duo.actors.scheduler")

LOCK_ID = 0x64756F6A  # "duoj"; the migrations use "duo"
BACKOFF_MAX = 300.0
FAILING_AFTER = 3  # consecutive failures that mark a job as failing in /health/details
LOST_CONNECTION = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


@attrs.frozen
class JobsStatus:
    """Ask for :class:`SchedulerState` as a JSON-able dict (call)."""


@attrs.define
class JobState:
    name: str
    schedule: str
    dry_run: bool | None
    last_started: dt.datetime | None = None
    last_finished: dt.datetime | None = None
    last_ok: bool | None = None
    last_result: str = ""
    consecutive_failures: int = 0
    runs: int = 0

    def as_dict(self) -> dict[str, Any]:
        def iso(t: dt.datetime | None) -> str | None:
            return None if t is None else t.isoformat()

        return {
            "name": self.name,
            "schedule": self.schedule,
            "dry_run": self.dry_run,
            "last_started": iso(self.last_started),
            "last_finished": iso(self.last_finished),
            "last_ok": self.last_ok,
            "last_result": self.last_result,
            "consecutive_failures": self.consecutive_failures,
            "runs": self.runs,
            "status": "failing" if self.consecutive_failures >= FAILING_AFTER else "ok",
        }


class SchedulerState:
    """What the actor knows; it alone writes it. Tests wait on it with :meth:`wait_until`."""

    def __init__(self, identity: str, jobs: Sequence[Job]) -> None:
        self.identity = identity
        self.leader = False
        self.jobs = {job.name: JobState(job.name, job.schedule, job.dry_run) for job in jobs}
        self._changed = trio.Event()

    def changed(self) -> None:
        event, self._changed = self._changed, trio.Event()
        event.set()

    async def wait_until(self, predicate: Callable[[SchedulerState], bool]) -> None:
        """Return once ``predicate(self)`` holds (bound it with ``trio.fail_after``)."""
        while not predicate(self):
            await self._changed.wait()

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.identity,
            "leader": self.leader,
            "jobs": [state.as_dict() for state in self.jobs.values()],
        }


def process_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(poll_seconds: float, failures: int) -> float:
    """Wait after an iteration: the poll interval, doubled per consecutive failure up to
    :data:`BACKOFF_MAX` (or the poll interval, if that is longer)."""
    if failures == 0:
        return poll_seconds
    return min(max(poll_seconds, BACKOFF_MAX), poll_seconds * 2.0 ** min(failures - 1, 32))


UPSERT_JOB_SQL = """
INSERT INTO duo_job (name, schedule, dry_run, last_started_at, last_finished_at, last_ok, last_result,
                     consecutive_failures, runs, ran_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (name) DO UPDATE SET
    schedule = EXCLUDED.schedule, dry_run = EXCLUDED.dry_run,
    last_started_at = COALESCE(EXCLUDED.last_started_at, duo_job.last_started_at),
    last_finished_at = COALESCE(EXCLUDED.last_finished_at, duo_job.last_finished_at),
    last_ok = COALESCE(EXCLUDED.last_ok, duo_job.last_ok),
    last_result = CASE WHEN EXCLUDED.last_started_at IS NULL THEN duo_job.last_result ELSE EXCLUDED.last_result END,
    consecutive_failures = CASE WHEN EXCLUDED.last_started_at IS NULL THEN duo_job.consecutive_failures
                                ELSE EXCLUDED.consecutive_failures END,
    runs = CASE WHEN EXCLUDED.last_started_at IS NULL THEN duo_job.runs ELSE EXCLUDED.runs END,
    ran_by = EXCLUDED.ran_by
"""

LEADER_SQL = """
INSERT INTO duo_job_leader (id, process, backend_pid, since) VALUES (TRUE, $1, $2, $3)
ON CONFLICT (id) DO UPDATE SET process = EXCLUDED.process, backend_pid = EXCLUDED.backend_pid,
                               since = EXCLUDED.since
"""


async def _persist(db: Database, state: JobState, identity: str) -> None:
    """Best effort: the operator's view must not stop a job when the database hiccups."""
    try:
        await db.execute(
            UPSERT_JOB_SQL, state.name, state.schedule, state.dry_run, state.last_started, state.last_finished,
            state.last_ok, state.last_result, state.consecutive_failures, state.runs, identity,
        )
    except Exception as e:  # noqa: BLE001 - logged; the next iteration writes it again
        log.warning("could not record the state of job %s: %s", state.name, e)


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in counts.items())


async def run_job(svc: Services, job: Job, state: SchedulerState, start_delay: float) -> None:
    """One job forever: start delay, then iteration / record / wait."""
    job_state = state.jobs[job.name]
    await trio.sleep(start_delay)
    while True:
        job_state.last_started = svc.now()
        try:
            counts = await job.iteration(svc, job_state.last_started)
        except Exception as e:
            job_state.consecutive_failures += 1
            job_state.last_ok = False
            job_state.last_result = f"{type(e).__name__}: {e}"
            log.exception("job %s failed (%d in a row)", job.name, job_state.consecutive_failures)
        else:
            job_state.consecutive_failures = 0
            job_state.last_ok = True
            job_state.last_result = _summary(counts)
            # every iteration is logged; idle ones (all counts 0) only at DEBUG, some poll every second
            log.log(logging.INFO if any(counts.values()) else logging.DEBUG, "job %s: %s", job.name,
                    job_state.last_result)
        job_state.runs += 1
        job_state.last_finished = svc.now()
        await _persist(svc.db, job_state, state.identity)
        state.changed()
        await trio.sleep(backoff(job.poll_seconds, job_state.consecutive_failures))


async def _watch_lock(conn: asyncpg.Connection, every: float) -> None:
    """Return when the lock connection stops answering: the lock may be someone else's now."""
    while True:
        await trio.sleep(every)
        try:
            with trio.fail_after(max(every, 5.0)):
                await aio(conn.fetchval)("SELECT 1")
        except (*LOST_CONNECTION, trio.TooSlowError) as e:
            log.warning("scheduler lock connection lost: %s", e)
            return


async def _lead(svc: Services, jobs: Sequence[Job], state: SchedulerState, conn: asyncpg.Connection,
                poll: float, max_start_delay: int, rng: random.Random) -> None:
    """Wait for the lock on ``conn``, then run the jobs until the connection is lost."""
    while not await aio(conn.fetchval)("SELECT pg_try_advisory_lock($1)", LOCK_ID):
        await trio.sleep(poll)
    await aio(conn.execute)(LEADER_SQL, state.identity, conn.get_server_pid(), svc.now())
    log.info("this process (%s) is the job leader: running %d jobs", state.identity, len(jobs))
    for job in jobs:
        await _persist(svc.db, attrs.evolve(state.jobs[job.name], last_started=None), state.identity)
    state.leader = True
    state.changed()
    try:
        async with trio.open_nursery() as nursery:
            for job in jobs:
                nursery.start_soon(run_job, svc, job, state, rng.randint(0, max_start_delay))
            await _watch_lock(conn, poll)
            nursery.cancel_scope.cancel()
    finally:
        state.leader = False
        state.changed()


async def _close(conn: asyncpg.Connection) -> None:
    """Close the lock connection (which releases the lock), even while being cancelled."""
    with trio.CancelScope(shield=True):
        if conn.is_closed():
            return
        try:
            with trio.fail_after(5):
                await aio(conn.close)()
        except (*LOST_CONNECTION, trio.TooSlowError):
            conn.terminate()


async def _elect_and_run(svc: Services, jobs: Sequence[Job], state: SchedulerState, poll: float,
                         max_start_delay: int, rng: random.Random) -> None:
    """Forever: a dedicated connection, leadership when the lock is free, again after a loss."""
    while True:
        try:
            conn = await aio(asyncpg.connect)(**svc.db.settings.connect_kwargs())
        except LOST_CONNECTION as e:
            log.warning("scheduler cannot reach the database: %s", e)
            await trio.sleep(poll)
            continue
        try:
            await _lead(svc, jobs, state, conn, poll, max_start_delay, rng)
        except LOST_CONNECTION as e:
            log.warning("scheduler lock connection failed: %s", e)
        finally:
            await _close(conn)
        await trio.sleep(poll)


SchedulerRef = ActorRef[JobsStatus, dict[str, Any]]


def scheduler_actor(svc: Services, jobs: Sequence[Job], state: SchedulerState, *, poll: float,
                    max_start_delay: int, rng: random.Random) -> ActorFn[JobsStatus, dict[str, Any]]:
    async def scheduler(
        inbox: Inbox[JobsStatus, dict[str, Any]], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_elect_and_run, svc, jobs, state, poll, max_start_delay, rng)
            task_status.started()
            async for envelope in inbox:
                envelope.reply(state.as_dict())
            nursery.cancel_scope.cancel()

    return scheduler


def status_reader(ref: SchedulerRef, timeout: float = 5.0) -> Callable[[], Awaitable[dict[str, Any]]]:
    """What ``/health/details`` calls: the state, or the reason the actor cannot answer."""

    async def read() -> dict[str, Any]:
        try:
            return await ref.call(JobsStatus(), timeout)
        except ActorError as e:
            return {"error": str(e)}

    return read


async def start_scheduler(
    supervisor: Supervisor,
    svc: Services,
    jobs: Sequence[Job],
    *,
    identity: str | None = None,
    rng: random.Random | None = None,
    poll: float | None = None,
) -> tuple[SchedulerRef, SchedulerState]:
    """Start the actor; the returned state is read-only for everyone but the actor.

    ``poll`` overrides ``DUO_CRON_LEADER_POLL_SECONDS`` (tests use fractions of a second).
    """
    cron = svc.config.cron
    state = SchedulerState(identity or process_identity(), jobs)
    poll = float(cron.leader_poll_seconds) if poll is None else poll
    actor = scheduler_actor(svc, jobs, state, poll=poll,
                            max_start_delay=cron.max_random_start_delay, rng=rng or random.Random())
    ref = await supervisor.start("scheduler", actor)
    return ref, state
