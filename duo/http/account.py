"""Account lifecycle and data export (http-api-accounts §7): deactivate, delete, export."""

from __future__ import annotations

import datetime as dt
import json
import struct
import uuid
from typing import Any

from quart import Blueprint, Response

from duo.erlang_term import UNDECODABLE, decode_term
from duo.http.endpoint import Ctx, endpoint
from duo.http.errors import HttpError
from duo.http.questions import PERSON_COLUMNS, personality_page
from duo.ratelimit import DAILY_3
from duo.search.filters import read_filters
from duo.sessions import ONBOARDED
from duo.sql.database import Connection
from duo.sql.values import point_coordinates

bp = Blueprint("account", __name__)

EXPORT_TOKEN_LIFETIME = dt.timedelta(minutes=10)
INVALID_EXPORT_TOKEN = "Invalid token. Link might have expired."


async def _leave_club_counts(conn: Connection, person_id: int) -> None:
    """An activated member stops counting in each of their clubs (never below zero)."""
    await conn.execute(
        """UPDATE club SET count_members = GREATEST(count_members - 1, 0)
           WHERE name IN (SELECT club_name FROM person_club WHERE person_id = $1)""",
        person_id,
    )


@bp.post("/deactivate")
@endpoint(auth=ONBOARDED)
async def deactivate(ctx: Ctx) -> None:
    """Hide the account until the next sign-in; the session stays valid."""
    async with ctx.svc.db.transaction() as conn:
        changed = await conn.fetchval(
            "UPDATE person SET activated = FALSE WHERE id = $1 AND activated RETURNING id", ctx.person_id
        )
        if changed:
            await _leave_club_counts(conn, ctx.person_id)


@bp.delete("/account")
@endpoint(auth=ONBOARDED)
async def delete_account(ctx: Ctx) -> list[dict[str, Any]]:
    """Delete the account for good; its media objects are queued for the cleaners."""
    async with ctx.svc.db.transaction() as conn:
        await conn.execute("SET LOCAL statement_timeout = '30s'")
        person = await conn.fetchrow("SELECT id, uuid, activated FROM person WHERE id = $1 FOR UPDATE", ctx.person_id)
        if person is None:  # a concurrent deletion won the row lock
            raise HttpError(401, "Invalid session token")
        username = str(person["uuid"])
        await conn.execute("DELETE FROM inbox WHERE luser = $1", username)
        await conn.execute("DELETE FROM duo_last_notification WHERE username = $1", username)
        await conn.execute("DELETE FROM duo_push_token WHERE username = $1", username)
        await conn.execute(
            """INSERT INTO undeleted_photo (uuid)
               SELECT uuid FROM photo WHERE person_id = $1
               UNION SELECT photo_uuid FROM verification_job WHERE person_id = $1
               ON CONFLICT DO NOTHING""",
            ctx.person_id,
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
            ctx.person_id,
        )
        await conn.execute("DELETE FROM mam_message WHERE person_id = $1", ctx.person_id)
        if person["activated"]:
            await _leave_club_counts(conn, ctx.person_id)
        await conn.execute("DELETE FROM person WHERE id = $1", ctx.person_id)
    return [{"person_id": person["id"], "person_uuid": username}]


@bp.get("/export-data-token")
@endpoint(auth=ONBOARDED, daily=DAILY_3)
async def export_data_token(ctx: Ctx) -> dict[str, Any]:
    """A one-time token, valid for ten minutes, for downloading one's data."""
    now = ctx.svc.now()
    token = await ctx.svc.db.fetchval(
        """INSERT INTO export_data_token (person_id, generated_at, expires_at)
           VALUES ($1, $2, $3) RETURNING token""",
        ctx.person_id,
        now,
        now + EXPORT_TOKEN_LIFETIME,
    )
    return {"token": str(token)}


@bp.get("/export-data/<token>")
@endpoint(auth=None)
async def export_data(ctx: Ctx, token: str) -> Response:
    """Download one's own data as a JSON attachment; the token works once."""
    try:
        token_uuid = uuid.UUID(token)
    except ValueError:
        raise HttpError(400, INVALID_EXPORT_TOKEN) from None
    async with ctx.svc.db.transaction() as conn:
        person_id = await conn.fetchval(
            "DELETE FROM export_data_token WHERE token = $1 RETURNING CASE WHEN expires_at > $2 THEN person_id END",
            token_uuid,
            ctx.svc.now(),
        )
    if person_id is None:
        raise HttpError(401, INVALID_EXPORT_TOKEN)
    async with ctx.svc.db.transaction(isolation="repeatable_read") as conn:
        person = await conn.fetchrow(f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.id = $1", person_id)
        if person is None:  # deleted since the token was presented
            raise HttpError(401, INVALID_EXPORT_TOKEN)
        document = {
            "raw_data": await raw_data(conn, person_id, ctx.svc.config.media_url),
            "inferred_personality_data": await personality_page(conn, person),
            "search_filters": await read_filters(conn, person_id),
        }
    return Response(
        json.dumps(document, indent=2, ensure_ascii=True),
        200,
        headers={
            "Content-Type": "text/json; charset=utf-8",
            "Content-Disposition": "attachment; filename=export.json",
            "Cache-Control": "no-cache",
        },
    )


# -- the export document ------------------------------------------------------------------

# (name column, lookup table, person column): every lookup id of a person, resolved
# against the table its column references (README: "data export names resolve correctly").
PERSON_NAMES = (
    ("gender_name", "gender", "gender_id"),
    ("has_profile_picture_name", "yes_no", "has_profile_picture_id"),
    ("verification_level_name", "verification_level", "verification_level_id"),
    ("orientation_name", "orientation", "orientation_id"),
    ("ethnicity_name", "ethnicity", "ethnicity_id"),
    ("looking_for_name", "looking_for", "looking_for_id"),
    ("smoking_name", "yes_no_optional", "smoking_id"),
    ("drinking_name", "frequency", "drinking_id"),
    ("drugs_name", "yes_no_optional", "drugs_id"),
    ("long_distance_name", "yes_no_optional", "long_distance_id"),
    ("relationship_status_name", "relationship_status", "relationship_status_id"),
    ("has_kids_name", "yes_no_optional", "has_kids_id"),
    ("wants_kids_name", "yes_no_maybe", "wants_kids_id"),
    ("exercise_name", "frequency", "exercise_id"),
    ("religion_name", "religion", "religion_id"),
    ("star_sign_name", "star_sign", "star_sign_id"),
    ("unit_name", "unit", "unit_id"),
    ("chats_notification_name", "immediacy", "chats_notification"),
    ("intros_notification_name", "immediacy", "intros_notification"),
    ("privacy_verification_level_name", "verification_level", "privacy_verification_level_id"),
)

_PERSON_SQL = "SELECT p.*, p.personality::text AS personality_text, {} FROM person p WHERE p.id = $1".format(
    ", ".join(f"(SELECT name FROM {table} WHERE id = p.{column}) AS {key}" for key, table, column in PERSON_NAMES)
)


async def raw_data(conn: Connection, person_id: int, media_url: str) -> dict[str, Any]:
    """The person's own rows, one array per table (``null`` when empty), as §7.4 lists."""
    person = await _rows(conn, _PERSON_SQL, person_id)
    for row in person:
        del row["id_salt"]
        row["personality"] = row.pop("personality_text")
    photos = await _rows(conn, "SELECT * FROM photo WHERE person_id = $1 ORDER BY position", person_id)
    for row in photos:
        row["photo_url"] = f"{media_url}/original-{row['uuid']}.jpg"
    jobs = await _rows(conn, "SELECT * FROM verification_job WHERE person_id = $1 ORDER BY id", person_id)
    for row in jobs:
        row["photo_url"] = f"{media_url}/450-{row['photo_uuid']}.jpg"
    messages = await _rows(conn, "SELECT * FROM mam_message WHERE person_id = $1 ORDER BY id", person_id)
    for row in messages:
        row["timestamp"] = archive_time(row["id"]).isoformat()
        row["message"] = decoded_message(row["message"])
    tables = {
        "person": person,
        "photo": photos,
        "answer": await _rows(
            conn,
            """SELECT q.id, q.question, a.answer, a.public_
               FROM answer a JOIN question q ON q.id = a.question_id
               WHERE a.person_id = $1 ORDER BY q.id""",
            person_id,
        ),
        "verification_job": jobs,
        "person_club": await _rows(conn, "SELECT * FROM person_club WHERE person_id = $1 ORDER BY club_name", person_id),
        "skipped": await _rows(
            conn,
            "SELECT * FROM skipped WHERE subject_person_id = $1 ORDER BY created_at, object_person_id", person_id
        ),
        "messaged": await _rows(
            conn,
            "SELECT * FROM messaged WHERE subject_person_id = $1 ORDER BY created_at, object_person_id", person_id
        ),
        "mam_message": messages,
    }
    return {name: [{k: jsonable(v) for k, v in row.items()} for row in rows] or None for name, rows in tables.items()}


async def _rows(conn: Connection, query: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(query, *args)]


def jsonable(value: Any) -> Any:
    """Database values as the reference's JSON shows them: timestamps as zone-less UTC ISO
    strings, points as hex EWKB (SRID 4326), byte strings as ``\\x`` hex."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    point = point_coordinates(value)
    if point is not None:
        return ewkb_point(*point)
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def ewkb_point(longitude: float, latitude: float) -> str:
    """PostGIS's text form of a WGS-84 point: little-endian EWKB with SRID, upper-case hex."""
    return struct.pack("<BIIdd", 1, 0x20000001, 4326, longitude, latitude).hex().upper()


def archive_time(message_id: int) -> dt.datetime:
    """Archive ids are send time in microseconds shifted left by 8 bits (chat-protocol §9.2)."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=message_id >> 8)


def decoded_message(blob: bytes) -> str:
    """The archived stanza as a JSON string of its decoded term; undecodable blobs stay hex."""
    try:
        return json.dumps(decode_term(bytes(blob)), ensure_ascii=False)
    except UNDECODABLE:
        return "\\x" + bytes(blob).hex()
