"""What duo/sql translates so that code outside it never sees asyncpg."""

from __future__ import annotations

import pytest
import trio

from duo.sql.database import Database, QueryTimeout, limit_statement_time
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
