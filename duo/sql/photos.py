"""Queries of photos and audio bios (``photo``, ``onboardee_photo``, ``audio``) and of the
queues of objects waiting for deletion (``undeleted_photo``, ``undeleted_audio``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from asyncpg import Record

from duo.sql.database import Connection, Queryable

QueueTable = Literal["undeleted_photo", "undeleted_audio"]


async def queue_deletion(db: Queryable, table: QueueTable, media_ids: Iterable[str]) -> None:
    """Queue media ids for the cleaner jobs (duplicates ignored)."""
    ids = list(media_ids)
    if ids:
        await db.execute(
            f"INSERT INTO {table} (uuid) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", ids
        )


async def is_banned_hash(db: Queryable, photo_hash: str) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM banned_photo_hash WHERE hash = $1", photo_hash))


# Tables of media at positions, and the column naming their owner.
MediaTable = Literal["photo", "onboardee_photo", "audio"]
_OWNER = {"photo": "person_id", "onboardee_photo": "email", "audio": "person_id"}


async def lock_at(conn: Connection, table: MediaTable, owner: int | str, position: int) -> str | None:
    """The media id at a position (row locked), or None."""
    media_id: str | None = await conn.fetchval(
        f"SELECT uuid FROM {table} WHERE {_OWNER[table]} = $1 AND position = $2 FOR UPDATE", owner, position
    )
    return media_id


async def delete_at(conn: Connection, table: MediaTable, owner: int | str, positions: list[int]) -> list[str]:
    """Remove the media at positions; answers their media ids."""
    rows = await conn.fetch(
        f"DELETE FROM {table} WHERE {_OWNER[table]} = $1 AND position = ANY($2::smallint[]) RETURNING uuid",
        owner,
        positions,
    )
    return [r["uuid"] for r in rows]


# -- onboarding photos -------------------------------------------------------------------
async def queue_onboardee_photos(conn: Connection, email: str) -> None:
    """A restarted onboarding discards its photos: queue their objects (README decision)."""
    await conn.execute(
        """INSERT INTO undeleted_photo (uuid) SELECT uuid FROM onboardee_photo WHERE email = $1
           ON CONFLICT DO NOTHING""",
        email,
    )


async def put_onboardee_photo(
    conn: Connection, email: str, position: int, media_id: str, blurhash: str, extra_exts: list[str], photo_hash: str
) -> None:
    await conn.execute(
        """INSERT INTO onboardee_photo (email, position, uuid, blurhash, extra_exts, hash)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (email, position) DO UPDATE SET
             uuid = EXCLUDED.uuid, blurhash = EXCLUDED.blurhash,
             extra_exts = EXCLUDED.extra_exts, hash = EXCLUDED.hash""",
        email,
        position,
        media_id,
        blurhash,
        extra_exts,
        photo_hash,
    )


async def onboardee_has_photos(conn: Connection, email: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM onboardee_photo WHERE email = $1 LIMIT 1", email))


async def adopt_onboardee_photos(conn: Connection, person_id: int, email: str) -> None:
    """The new account takes over the onboarding photos, unverified."""
    await conn.execute(
        """INSERT INTO photo (person_id, position, uuid, blurhash, extra_exts, hash, verified)
           SELECT $1, position, uuid, blurhash, extra_exts, hash, FALSE
           FROM onboardee_photo WHERE email = $2""",
        person_id,
        email,
    )


# -- profile photos ----------------------------------------------------------------------
async def photos_of(conn: Connection, person_id: int) -> list[Record]:
    return await conn.fetch(
        "SELECT position, uuid, blurhash, extra_exts, verified FROM photo WHERE person_id = $1 ORDER BY position",
        person_id,
    )


async def put_photo(
    conn: Connection, person_id: int, position: int, media_id: str, blurhash: str, extra_exts: list[str], photo_hash: str
) -> None:
    """Store or replace the photo at a position; a replaced one is unverified again."""
    await conn.execute(
        """INSERT INTO photo (person_id, position, uuid, blurhash, extra_exts, hash, verified)
           VALUES ($1, $2, $3, $4, $5, $6, FALSE)
           ON CONFLICT (person_id, position) DO UPDATE SET
             uuid = EXCLUDED.uuid, blurhash = EXCLUDED.blurhash, extra_exts = EXCLUDED.extra_exts,
             hash = EXCLUDED.hash, verified = FALSE, nsfw_score = NULL""",
        person_id,
        position,
        media_id,
        blurhash,
        extra_exts,
        photo_hash,
    )


async def lock_positions(conn: Connection, person_id: int) -> dict[int, str]:
    """Position → media id of every photo (rows locked)."""
    rows = await conn.fetch("SELECT position, uuid FROM photo WHERE person_id = $1 FOR UPDATE", person_id)
    return {r["position"]: r["uuid"] for r in rows}


async def move_photos(conn: Connection, person_id: int, sources: list[int], targets: list[int]) -> None:
    """Move photos through negative positions, so that swaps never collide on the primary key."""
    await conn.execute(
        """UPDATE photo SET position = -m.target
           FROM unnest($2::smallint[], $3::smallint[]) AS m(source, target)
           WHERE photo.person_id = $1 AND photo.position = m.source""",
        person_id,
        sources,
        targets,
    )
    await conn.execute("UPDATE photo SET position = -position WHERE person_id = $1 AND position < 0", person_id)


# -- audio -------------------------------------------------------------------------------
async def put_audio(conn: Connection, person_id: int, position: int, media_id: str) -> None:
    await conn.execute(
        """INSERT INTO audio (person_id, position, uuid) VALUES ($1, $2, $3)
           ON CONFLICT (person_id, position) DO UPDATE SET uuid = EXCLUDED.uuid""",
        person_id,
        position,
        media_id,
    )


async def delete_audio(conn: Connection, person_id: int, position: int) -> list[str]:
    """Remove the audio at a position; answers its media ids."""
    rows = await conn.fetch(
        "DELETE FROM audio WHERE person_id = $1 AND position = $2 RETURNING uuid", person_id, position
    )
    return [r["uuid"] for r in rows]
