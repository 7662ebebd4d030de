"""Queries of the moderators' links (http-api-accounts §10): admin tokens, bans, photos."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from duo.sql.database import Connection, Queryable

BAN_LIFETIME = "1 month"

TokenTable = Literal["banned_person_admin_token", "deleted_photo_admin_token"]
TOKEN_NAMES: dict[TokenTable, str] = {"banned_person_admin_token": "person_id", "deleted_photo_admin_token": "photo_uuid"}


async def ban_token_known(db: Queryable, token: uuid.UUID) -> bool:
    """Whether a ban token exists for a person who still exists (expiry not checked)."""
    return bool(
        await db.fetchval(
            """SELECT 1 FROM banned_person_admin_token t JOIN person p ON p.id = t.person_id
               WHERE t.token = $1""",
            token,
        )
    )


async def photo_token_known(db: Queryable, token: uuid.UUID) -> bool:
    """Whether a photo-deletion token exists (expiry not checked)."""
    return bool(await db.fetchval("SELECT 1 FROM deleted_photo_admin_token WHERE token = $1", token))


async def consume_token(conn: Connection, table: TokenTable, token: uuid.UUID, now: dt.datetime) -> Any:
    """Delete an unexpired admin token; what it names (person id or photo id), or None."""
    return await conn.fetchval(
        f"DELETE FROM {table} WHERE token = $1 AND expires_at > $2 RETURNING {TOKEN_NAMES[table]}", token, now
    )


async def ban_person(conn: Connection, person_id: int, now: dt.datetime) -> None:
    """Ban the person's normalised e-mail from each IP their sessions came from, for a month,
    with the reasons reported against them.  Without any recorded IP the e-mail alone is
    banned (``ip_address`` NULL): no address is blocked for everyone else."""
    await conn.execute(
        f"""INSERT INTO banned_person (normalized_email, ip_address, banned_at, expires_at, report_reasons)
            SELECT p.normalized_email, ips.ip_address, $2::timestamptz, $2::timestamptz + interval '{BAN_LIFETIME}',
                   ARRAY(SELECT report_reason FROM skipped
                         WHERE object_person_id = p.id AND report_reason <> ''
                         ORDER BY created_at, subject_person_id)
            FROM person p
            CROSS JOIN LATERAL (
                SELECT DISTINCT ip_address FROM duo_session
                WHERE person_id = p.id AND ip_address IS NOT NULL
                UNION ALL
                SELECT NULL::inet WHERE NOT EXISTS (
                    SELECT 1 FROM duo_session WHERE person_id = p.id AND ip_address IS NOT NULL)
            ) ips
            WHERE p.id = $1
            ON CONFLICT (normalized_email, ip_address) DO NOTHING""",
        person_id,
        now,
    )


async def delete_photo(conn: Connection, photo_uuid: str) -> dict[str, Any] | None:
    """Delete the photo, banning its hash from future uploads; its owner and hash, or None."""
    row = await conn.fetchrow("DELETE FROM photo WHERE uuid = $1 RETURNING person_id, hash", photo_uuid)
    if row is None:
        return None
    if row["hash"]:
        await conn.execute("INSERT INTO banned_photo_hash (hash) VALUES ($1) ON CONFLICT DO NOTHING", row["hash"])
    return dict(row)
