import trio

from duo.sql.database import Database, DbSettings
from duo.sql.migrate import migrate, migration_files


async def test_migrations_recorded_and_idempotent(db_settings: DbSettings) -> None:
    with trio.fail_after(30):
        # the template already applied everything: a second run applies nothing
        assert await migrate(db_settings) == []
        async with Database.open(db_settings, min_size=1, max_size=1) as db:
            versions = [r["version"] for r in await db.fetch("SELECT version FROM duo_schema_migration ORDER BY 1")]
        assert versions == [v for v, _, _ in migration_files()]


async def test_concurrent_migrations_wait_for_each_other(pg_server: DbSettings, aio_loop: None) -> None:
    settings = DbSettings(host=pg_server.host, port=pg_server.port, user=pg_server.user, database="duo_concurrent")
    results: list[list[str]] = []

    async def run() -> None:
        results.append(await migrate(settings))

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(run)
    applied = sorted(results, key=len)
    assert applied[0] == [] and applied[1] == []
    assert applied[2] == [name for _, name, _ in migration_files()]
