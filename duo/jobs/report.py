"""``duo jobs``: the operator's view of the scheduler, read from the database.

Any process can print it: the leader records every iteration in ``duo_job`` and itself in
``duo_job_leader``; ``pg_locks`` tells whether that leader's lock connection is still alive.
"""

from __future__ import annotations

import asyncpg

from duo.actors.scheduler import LOCK_ID
from duo.aio import aio
from duo.sql.database import DbSettings

LEADER_SQL = """
SELECT l.process, l.since,
       EXISTS (SELECT 1 FROM pg_locks k
               WHERE k.locktype = 'advisory' AND k.granted AND k.pid = l.backend_pid
                 AND k.objid = $1::bigint::oid) AS alive
FROM duo_job_leader l
"""

JOBS_SQL = """
SELECT name, schedule, last_started_at, last_finished_at, last_ok, last_result, consecutive_failures, runs
FROM duo_job ORDER BY name
"""


def _when(value: object) -> str:
    return "never" if value is None else str(value)


async def jobs_report(settings: DbSettings) -> str:
    """The text ``duo jobs`` prints."""
    conn = await aio(asyncpg.connect)(**settings.connect_kwargs())
    try:
        leader = await aio(conn.fetchrow)(LEADER_SQL, LOCK_ID)
        rows = await aio(conn.fetch)(JOBS_SQL)
    except asyncpg.UndefinedTableError:
        return "no jobs recorded: the schema is older than the scheduler (run duo migrate or duo serve)"
    finally:
        await aio(conn.close)()
    lines = []
    if leader is None:
        lines.append("leader: none yet (no process has run the jobs)")
    else:
        state = "leading now" if leader["alive"] else "gone; another process takes over when it polls"
        lines.append(f"leader: {leader['process']} since {leader['since']} ({state})")
    lines.append("this process is the leader: no (duo jobs runs no jobs)")
    for row in rows:
        result = "not run yet" if row["last_ok"] is None else ("ok" if row["last_ok"] else "FAILED")
        lines.append(
            f"{row['name']}: {row['schedule']}; last run {_when(row['last_started_at'])}"
            f" (finished {_when(row['last_finished_at'])}); {result}: {row['last_result'] or '-'}"
            f"; {row['consecutive_failures']} consecutive failures; {row['runs']} runs"
        )
    return "\n".join(lines)


async def print_jobs(settings: DbSettings) -> None:
    print(await jobs_report(settings))
