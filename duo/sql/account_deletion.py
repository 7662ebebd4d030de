"""Deleting an account for good (http-api-accounts §7.2), shared by DELETE /account and bans."""

from __future__ import annotations

from typing import Any

from duo.clubs import uncount_member
from duo.sql.database import Connection, limit_statement_time


async def delete_account(conn: Connection, person_id: int) -> dict[str, Any] | None:
    """Delete the person and everything that is theirs; their media go to the cleaners' queues.

    Returns ``{"person_id", "person_uuid"}``, or None when the person is already gone (a
    concurrent deletion won the row lock).  Runs in the caller's transaction.
    """
    await limit_statement_time(conn, "30s")
    person = await conn.fetchrow("SELECT id, uuid, activated FROM person WHERE id = $1 FOR UPDATE", person_id)
    if person is None:
        return None
    username = str(person["uuid"])
    await conn.execute("DELETE FROM inbox WHERE luser = $1", username)
    await conn.execute("DELETE FROM duo_last_notification WHERE username = $1", username)
    await conn.execute("DELETE FROM duo_push_token WHERE username = $1", username)
    await conn.execute(
        """INSERT INTO undeleted_photo (uuid)
           SELECT uuid FROM photo WHERE person_id = $1
           UNION SELECT photo_uuid FROM verification_job WHERE person_id = $1
           ON CONFLICT DO NOTHING""",
        person_id,
    )
    await conn.execute(
        """INSERT INTO undeleted_audio (uuid)
           SELECT uuid FROM audio WHERE person_id = $1
           UNION
           SELECT m.audio_uuid FROM mam_message m
           WHERE m.person_id = $1 AND m.audio_uuid IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM mam_message o
                             WHERE o.audio_uuid = m.audio_uuid AND o.person_id <> $1)
           ON CONFLICT DO NOTHING""",
        person_id,
    )
    await conn.execute("DELETE FROM mam_message WHERE person_id = $1", person_id)
    if person["activated"]:
        await uncount_member(conn, person_id)
    await conn.execute("DELETE FROM person WHERE id = $1", person_id)
    return {"person_id": person["id"], "person_uuid": username}
