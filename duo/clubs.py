"""Club membership rules shared by /join-club and the pending club of sign-in."""

from __future__ import annotations

from duo.safety.clubs import is_allowed_club_name
from duo.sql.database import Connection

QUOTA = 50
GOLD_QUOTA = 100


async def join(conn: Connection, person_id: int, name: str) -> bool:
    """Join (creating the club if new) unless the name is banned or the quota is reached."""
    if not is_allowed_club_name(name):
        return False
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM person_club WHERE person_id = $1) AS joined,
                  p.has_gold
           FROM person p WHERE p.id = $1""",
        person_id,
    )
    if row is None or row["joined"] >= (GOLD_QUOTA if row["has_gold"] else QUOTA):
        return False
    await conn.execute("INSERT INTO club (name, count_members) VALUES ($1, 0) ON CONFLICT DO NOTHING", name)
    added = await conn.fetchval(
        """INSERT INTO person_club (person_id, club_name, activated, latitude, longitude, gender_id)
           SELECT id, $2, activated, latitude, longitude, gender_id FROM person WHERE id = $1
           ON CONFLICT DO NOTHING RETURNING 1""",
        person_id,
        name,
    )
    if added:
        await conn.execute("UPDATE club SET count_members = count_members + 1 WHERE name = $1", name)
    return True


async def join_and_prefer(conn: Connection, person_id: int, name: str) -> None:
    """Join the pending club and make it the club search preference, when it exists."""
    await join(conn, person_id, name)
    if await conn.fetchval("SELECT 1 FROM club WHERE name = $1", name):
        await conn.execute(
            """INSERT INTO search_preference_club (person_id, club_name) VALUES ($1, $2)
               ON CONFLICT (person_id) DO UPDATE SET club_name = EXCLUDED.club_name""",
            person_id,
            name,
        )
