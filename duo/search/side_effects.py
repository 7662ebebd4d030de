"""What every ``/search`` does first (http-api-social §4.2): forget the pending club of all
the searcher's sessions and apply the ``club`` parameter to the club search preference.
"""

from __future__ import annotations

from duo import clubs
from duo.sql.database import Connection

CLEAR_CLUB = "\x00"


def normalise_club(value: str) -> str:
    """Lower-cased and trimmed; NUL alone stays NUL ("clear the club")."""
    return value if value == CLEAR_CLUB else value.strip().lower()


async def club_exists(conn: Connection, name: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM club WHERE name = $1", name))


async def apply(conn: Connection, person_id: int, club: str | None) -> None:
    """``club`` already normalised, and an existing club unless NUL or None (absent)."""
    await conn.execute(
        "UPDATE duo_session SET pending_club_name = NULL WHERE person_id = $1", person_id
    )
    if club == CLEAR_CLUB:
        await conn.execute("DELETE FROM search_preference_club WHERE person_id = $1", person_id)
    elif club is not None:
        await clubs.prefer(conn, person_id, club)
