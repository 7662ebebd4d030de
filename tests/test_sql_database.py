"""What duo/sql translates so that code outside it never sees asyncpg."""

from __future__ import annotations

import contextlib

import pytest
import trio

from duo.sql.database import Connection, Database, QueryTimeout, limit_statement_time
from duo.sql.values import point_coordinates


async def test_a_statement_over_its_time_limit_is_a_query_timeout_and_rolls_back(db: Database) -> None:
    with trio.fail_after(30):
        await db.execute("CREATE TABLE timeout_probe (n int)")
        with pytest.raises(QueryTimeout):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO timeout_probe VALUES (1)")
                await limit_statement_time(conn, "50ms")
                await conn.execute("SELECT pg_sleep(5)")
        assert await db.fetchval("SELECT count(*) FROM timeout_probe") == 0
        # the limit was local to that transaction
        assert await db.fetchval("SHOW statement_timeout") == "15s"


async def test_point_values_come_out_as_coordinates(db: Database) -> None:
    with trio.fail_after(30):
        assert point_coordinates(await db.fetchval("SELECT point(151.2, -33.9)")) == (151.2, -33.9)
        assert point_coordinates(await db.fetchval("SELECT 'text'")) is None


async def test_a_transaction_run_on_the_asyncio_side_commits_or_rolls_back_as_a_whole(db: Database) -> None:
    with trio.fail_after(30):
        await db.execute("CREATE TABLE side_probe (n int)")

        async def two_rows_one_savepoint_rolled_back(conn: Connection) -> int:
            await conn.execute("INSERT INTO side_probe VALUES (1)")
            with contextlib.suppress(ZeroDivisionError):
                async with conn.savepoint():
                    await conn.execute("INSERT INTO side_probe VALUES (2)")
                    raise ZeroDivisionError
            await conn.execute("INSERT INTO side_probe VALUES (3)")
            return int(await conn.fetchval("SELECT count(*) FROM side_probe"))

        assert await db.run_transaction(two_rows_one_savepoint_rolled_back) == 2

        async def fails_after_a_write(conn: Connection) -> None:
            await conn.execute("INSERT INTO side_probe VALUES (4)")
            raise LookupError("the caller's own error")

        with pytest.raises(LookupError, match="the caller's own error"):
            await db.run_transaction(fails_after_a_write)
        assert sorted(r["n"] for r in await db.fetch("SELECT n FROM side_probe")) == [1, 3]


async def test_a_transaction_on_the_asyncio_side_translates_timeouts_and_rolls_back_when_cancelled(db: Database) -> None:
    with trio.fail_after(30):
        await db.execute("CREATE TABLE side_timeout_probe (n int)")

        async def write_then_sleep(conn: Connection) -> None:
            await conn.execute("INSERT INTO side_timeout_probe VALUES (1)")
            await limit_statement_time(conn, "50ms")
            await conn.execute("SELECT pg_sleep(5)")

        with pytest.raises(QueryTimeout):
            await db.run_transaction(write_then_sleep)

        async def write_then_wait(conn: Connection) -> None:
            await conn.execute("INSERT INTO side_timeout_probe VALUES (2)")
            await conn.execute("SELECT pg_sleep(5)")

        with trio.move_on_after(0.5) as waited:  # real time: the statement runs on the server
            await db.run_transaction(write_then_wait)
        assert waited.cancelled_caught
        assert await db.fetchval("SELECT count(*) FROM side_timeout_probe") == 0
