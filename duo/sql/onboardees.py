"""Queries of the ``onboardee`` record: what a signed-in newcomer has filled in so far."""

from __future__ import annotations

import datetime as dt

from asyncpg import Record

from duo.sql.database import Connection


async def ensure(conn: Connection, email: str) -> None:
    """Fields are upserted: the record exists even if the expiry job removed it."""
    await conn.execute("INSERT INTO onboardee (email) VALUES ($1) ON CONFLICT DO NOTHING", email)


async def delete(conn: Connection, email: str) -> None:
    await conn.execute("DELETE FROM onboardee WHERE email = $1", email)


async def set_name(conn: Connection, email: str, name: str) -> None:
    await conn.execute("UPDATE onboardee SET name = $2 WHERE email = $1", email, name)


async def set_date_of_birth(conn: Connection, email: str, born: dt.date) -> None:
    await conn.execute("UPDATE onboardee SET date_of_birth = $2 WHERE email = $1", email, born)


async def set_place(conn: Connection, email: str, latitude: float, longitude: float) -> None:
    await conn.execute(
        "UPDATE onboardee SET latitude = $2, longitude = $3 WHERE email = $1",
        email,
        latitude,
        longitude,
    )


async def set_gender(conn: Connection, email: str, gender_id: int) -> None:
    await conn.execute("UPDATE onboardee SET gender_id = $2 WHERE email = $1", email, gender_id)


async def set_wanted_genders(conn: Connection, email: str, gender_ids: list[int]) -> None:
    """Re-choosing genders replaces the set (README decision)."""
    await conn.execute("DELETE FROM onboardee_search_preference_gender WHERE email = $1", email)
    await conn.execute(
        """INSERT INTO onboardee_search_preference_gender (email, gender_id)
           SELECT $1, unnest($2::smallint[])""",
        email,
        gender_ids,
    )


async def lock(conn: Connection, email: str) -> Record | None:
    """The record (locked) with the wanted gender ids in ``wanted``."""
    return await conn.fetchrow(
        """SELECT name, date_of_birth, latitude, longitude, gender_id,
                  ARRAY(SELECT gender_id FROM onboardee_search_preference_gender g
                        WHERE g.email = o.email ORDER BY gender_id) AS wanted
           FROM onboardee o WHERE email = $1 FOR UPDATE""",
        email,
    )
