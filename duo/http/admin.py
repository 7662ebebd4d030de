"""Moderators' links from report e-mails (http-api-accounts §10, safety.md §11).

Each action has two steps: the "link" page only shows a confirmation link (so that a mail
client prefetching links changes nothing), the second URL acts.  The token in the path is
the only credential.  A token that is not a UUID is 400 (README), an unknown, used or
expired one 401; what the pages echo is escaped.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Awaitable, Callable

from quart import Blueprint

from duo.http.endpoint import Ctx, endpoint
from duo.http.errors import HttpError
from duo.kicks import end_chat_sessions
from duo.person_events import recompute_verification_level, reset_last_event
from duo.sql import account_deletion
from duo.sql import admin as sql
from duo.sql.database import Database
from duo.sql.photos import queue_deletion

bp = Blueprint("admin", __name__)

BAN_LINK_FAILED = "Invalid token. User might have already been banned"
BAN_FAILED = "Ban failed; User already banned or token invalid"
PHOTO_LINK_FAILED = "Invalid token"
PHOTO_FAILED = "Photo deletion failed"

TokenCheck = Callable[[Database, uuid.UUID], Awaitable[bool]]


def _token(value: str, failure: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise HttpError(400, failure) from None


async def _link_page(ctx: Ctx, token: str, known: TokenCheck, action: str, what: str, failure: str) -> str:
    """A confirmation link to ``/admin/<action>/<token>`` for a token ``known`` admits."""
    wanted = _token(token, failure)
    if not await known(ctx.svc.db, wanted):
        raise HttpError(401, failure)
    url = f"{ctx.svc.config.public_url}/admin/{action}/{wanted}"
    return f'<a href="{html.escape(url)}">Click to confirm {what} (token {html.escape(str(wanted))})</a>'


@bp.get("/admin/ban-link/<token>")
@endpoint(auth=None)
async def admin_ban_link(ctx: Ctx, token: str) -> str:
    """Confirmation page of a ban; changes nothing."""
    return await _link_page(ctx, token, sql.ban_token_known, "ban", "the ban", BAN_LINK_FAILED)


@bp.get("/admin/ban/<token>")
@endpoint(auth=None)
async def admin_ban(ctx: Ctx, token: str) -> str:
    """Ban a reported person for a month and delete their account."""
    wanted = _token(token, BAN_FAILED)
    now = ctx.svc.now()
    async with ctx.svc.db.transaction() as conn:
        person_id = await sql.consume_token(conn, "banned_person_admin_token", wanted, now)
        if person_id is None:
            raise HttpError(401, BAN_FAILED)
        await sql.ban_person(conn, person_id, now)
        deleted = await account_deletion.delete_account(conn, person_id)
        if deleted is None:
            raise HttpError(401, BAN_FAILED)
    await end_chat_sessions(ctx.svc, deleted["person_uuid"])
    return html.escape(f"Banned {[deleted]!r}", quote=False)


@bp.get("/admin/delete-photo-link/<token>")
@endpoint(auth=None)
async def admin_delete_photo_link(ctx: Ctx, token: str) -> str:
    """Confirmation page of a photo deletion; changes nothing."""
    return await _link_page(
        ctx, token, sql.photo_token_known, "delete-photo", "the photo deletion", PHOTO_LINK_FAILED
    )


@bp.get("/admin/delete-photo/<token>")
@endpoint(auth=None)
async def admin_delete_photo(ctx: Ctx, token: str) -> str:
    """Delete a reported photo and refuse the same image in future uploads."""
    wanted = _token(token, PHOTO_FAILED)
    async with ctx.svc.db.transaction() as conn:
        photo_uuid = await sql.consume_token(conn, "deleted_photo_admin_token", wanted, ctx.svc.now())
        photo = None if photo_uuid is None else await sql.delete_photo(conn, photo_uuid)
        if photo_uuid is None or photo is None:  # rolled back: the token stays as it was
            raise HttpError(401, PHOTO_FAILED)
        person_id = photo["person_id"]
        await reset_last_event(conn, person_id, data_key="added_photo_uuid", data_values=[photo_uuid])
        await queue_deletion(conn, "undeleted_photo", [photo_uuid])
        await recompute_verification_level(conn, person_id)
    return html.escape(f"Deleted photo {[{'uuid': photo_uuid, 'person_id': person_id}]!r}", quote=False)
