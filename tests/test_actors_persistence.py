import trio

from duo.actors.persistence import Health, HealthReport, check, start_persistence
from duo.actors.runtime import RestartPolicy, open_supervisor
from duo.sql.database import Database, DatabaseUnavailable, DbSettings

FAST = RestartPolicy(max_restarts=3, window_seconds=60, backoff_initial=0.01, backoff_max=0.01)


async def test_owns_the_pool_and_reports_health(db_settings: DbSettings) -> None:
    with trio.fail_after(60):
        db = Database(db_settings, min_size=1, max_size=2)
        async with open_supervisor(grace=5) as supervisor:
            ref = await start_persistence(supervisor, db, policy=FAST)
            report = await ref.call(Health(), timeout=10)
            assert report.ok and report.error is None and report.latency_ms >= 0
            assert await db.fetchval("SELECT count(*) FROM duo_schema_migration") >= 1
        # the supervisor stopped the actor: the pool is closed again
        try:
            await db.fetchval("SELECT 1")
        except DatabaseUnavailable:
            pass
        else:
            raise AssertionError("the pool should be closed after the actor stopped")


async def test_unhealthy_database_restarts_with_a_fresh_pool(db_settings: DbSettings) -> None:
    with trio.fail_after(60):
        db = Database(db_settings, min_size=1, max_size=2)
        pools: list[object] = []
        failures_left = [2]
        recovered = trio.Event()

        async def flaky(database: Database) -> HealthReport:
            pools.append(database._pool)
            if failures_left[0]:
                failures_left[0] -= 1
                return HealthReport(False, 0.0, "simulated outage")
            recovered.set()
            return await check(database)

        async with open_supervisor(grace=5) as supervisor:
            await start_persistence(supervisor, db, policy=FAST, check_every=0.01, failures_allowed=2, probe=flaky)
            await recovered.wait()
            assert pools[0] is pools[1] and pools[-1] is not pools[0]  # reconnected after two failures
            assert await db.fetchval("SELECT 1") == 1
