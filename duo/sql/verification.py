"""Queries of selfie verification (http-api-social §13): the job row and the selfie hashes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from duo.sql.database import Connection, Queryable


async def selfie_known(db: Queryable, selfie_hash: str) -> bool:
    """Whether this selfie (by the MD5 of its base64 text) was ever accepted, by anyone."""
    return bool(await db.fetchval("SELECT 1 FROM verification_photo_hash WHERE hash = $1", selfie_hash))


async def record_selfie(conn: Connection, selfie_hash: str) -> bool:
    """Remember an accepted selfie; False when a concurrent upload recorded it first."""
    inserted = await conn.fetchval(
        "INSERT INTO verification_photo_hash (hash) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1",
        selfie_hash,
    )
    return bool(inserted)


async def fail_job(db: Queryable, person_id: int, message: str) -> None:
    """Set the person's job, if any, to ``failure`` with ``message``."""
    await db.execute(
        "UPDATE verification_job SET status = 'failure', message = $2 WHERE person_id = $1",
        person_id,
        message,
    )


async def replace_job(conn: Connection, person_id: int, photo_uuid: str, expires_at: dt.datetime) -> list[str]:
    """Drop the person's jobs and start a new one (``uploading-photo``, ``Verifying``: the
    column defaults); return the dropped jobs' selfie ids."""
    dropped = await conn.fetch("DELETE FROM verification_job WHERE person_id = $1 RETURNING photo_uuid", person_id)
    await conn.execute(
        "INSERT INTO verification_job (person_id, photo_uuid, expires_at) VALUES ($1, $2, $3)",
        person_id,
        photo_uuid,
        expires_at,
    )
    return [row["photo_uuid"] for row in dropped]


async def queue_job(db: Queryable, person_id: int, message: str) -> None:
    """Hand an uploaded selfie to the job runner; other states are left alone."""
    await db.execute(
        """UPDATE verification_job SET status = 'queued', message = $2
           WHERE person_id = $1 AND status = 'uploading-photo'""",
        person_id,
        message,
    )


async def verification_state(db: Queryable, person_id: int) -> dict[str, Any] | None:
    """The person's verified flags, photo flags by position and latest job (None: no person)."""
    row = await db.fetchrow(
        """SELECT p.verified_age, p.verified_gender, p.verified_ethnicity,
                  (SELECT json_object_agg(position::text, verified ORDER BY position)
                   FROM photo WHERE person_id = p.id) AS verified_photos,
                  j.status::text AS status, j.message
           FROM person p
           LEFT JOIN LATERAL (SELECT status, message FROM verification_job
                              WHERE person_id = p.id ORDER BY id DESC LIMIT 1) j ON TRUE
           WHERE p.id = $1""",
        person_id,
    )
    return None if row is None else dict(row)
