"""Account lifecycle and data export (http-api-accounts §7): deactivate, delete, export."""

from __future__ import annotations

import datetime as dt
import json
import struct
import uuid
from typing import Any

from quart import Blueprint, Response

from duo.clubs import uncount_member
from duo.erlang_term import UNDECODABLE, decode_term
from duo.http.endpoint import Ctx, endpoint
from duo.http.errors import HttpError
from duo.http.questions import personality_page
from duo.kicks import end_chat_sessions
from duo.ratelimit import DAILY_3
from duo.search.filters import read_filters
from duo.sessions import ONBOARDED
from duo.sql import account as account_sql
from duo.sql import account_deletion
from duo.sql import questions as questions_sql
from duo.sql.database import Connection
from duo.sql.values import point_coordinates

bp = Blueprint("account", __name__)

EXPORT_TOKEN_LIFETIME = dt.timedelta(minutes=10)
INVALID_EXPORT_TOKEN = "Invalid token. Link might have expired."


@bp.post("/deactivate")
@endpoint(auth=ONBOARDED)
async def deactivate(ctx: Ctx) -> None:
    """Hide the account until the next sign-in; the session stays valid."""
    async with ctx.svc.db.transaction() as conn:
        changed = await account_sql.deactivate(conn, ctx.person_id)
        if changed:
            await uncount_member(conn, ctx.person_id)
    if changed:
        await end_chat_sessions(ctx.svc, str(ctx.me.person_uuid))


@bp.delete("/account")
@endpoint(auth=ONBOARDED)
async def delete_account(ctx: Ctx) -> list[dict[str, Any]]:
    """Delete the account for good; its media objects are queued for the cleaners."""
    async with ctx.svc.db.transaction() as conn:
        deleted = await account_deletion.delete_account(conn, ctx.person_id)
    if deleted is None:  # a concurrent deletion won the row lock
        raise HttpError(401, "Invalid session token")
    await end_chat_sessions(ctx.svc, deleted["person_uuid"])
    return [deleted]


@bp.get("/export-data-token")
@endpoint(auth=ONBOARDED, daily=DAILY_3)
async def export_data_token(ctx: Ctx) -> dict[str, Any]:
    """A one-time token, valid for ten minutes, for downloading one's data."""
    now = ctx.svc.now()
    token = await account_sql.new_export_token(ctx.svc.db, ctx.person_id, now, now + EXPORT_TOKEN_LIFETIME)
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
        person_id = await account_sql.redeem_export_token(conn, token_uuid, ctx.svc.now())
    if person_id is None:
        raise HttpError(401, INVALID_EXPORT_TOKEN)
    async with ctx.svc.db.transaction(isolation="repeatable_read") as conn:
        person = await questions_sql.person(conn, person_id)
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

async def raw_data(conn: Connection, person_id: int, media_url: str) -> dict[str, Any]:
    """The person's own rows, one array per table (``null`` when empty), as §7.4 lists."""
    tables = await account_sql.own_rows(conn, person_id)
    for row in tables["person"]:
        del row["id_salt"]
        row["personality"] = row.pop("personality_text")
    for row in tables["photo"]:
        row["photo_url"] = f"{media_url}/original-{row['uuid']}.jpg"
    for row in tables["verification_job"]:
        row["photo_url"] = f"{media_url}/450-{row['photo_uuid']}.jpg"
    for row in tables["mam_message"]:
        row["timestamp"] = archive_time(row["id"]).isoformat()
        row["message"] = decoded_message(row["message"])
    return {name: [{k: jsonable(v) for k, v in row.items()} for row in rows] or None for name, rows in tables.items()}


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
