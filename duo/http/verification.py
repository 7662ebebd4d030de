"""Selfie verification (http-api-social §13): upload the selfie, queue it, poll the result.

The endpoints only write ``verification_job`` rows; the scheduler's job runner picks up
``queued`` jobs and asks the vision model.  The selfie is stored like other photos: its
object is in the bucket before the job row that names it is committed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from quart import Blueprint

from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError
from duo.http.uploads import PhotoUpload, process_photo_upload, stored_photo
from duo.media.images import SELFIE_SIZES
from duo.ratelimit import Limit
from duo.safety.verification import message
from duo.sessions import ONBOARDED
from duo.sql import verification as sql
from duo.sql.photos import queue_deletion

bp = Blueprint("verification", __name__)

VERIFY_DAILY = Limit(8, 86400, "8 per 1 day")
JOB_LIFETIME = dt.timedelta(days=3)  # the scheduler deletes expired jobs


class SelfieBody(Body):
    base64_file: PhotoUpload


@bp.post("/verification-selfie")
@endpoint(auth=ONBOARDED, body=SelfieBody)
async def verification_selfie(ctx: Ctx, body: SelfieBody) -> None:
    """Upload a selfie: a new one starts a fresh job, a repeated one fails the current job."""
    rendered = await process_photo_upload(ctx.svc, body.base64_file, sizes=SELFIE_SIZES, original=False)
    selfie = attrs.evolve(rendered, gif=None)  # only the 450×450 JPEG is kept, even for a GIF
    # A repeated selfie names no new object, so nothing is uploaded for it.
    if await sql.selfie_known(ctx.svc.db, selfie.hash):
        await sql.fail_job(ctx.svc.db, ctx.person_id, message("V_REUSED_SELFIE"))
        return
    async with stored_photo(ctx.svc, selfie) as photo_uuid, ctx.svc.db.transaction() as conn:
        if not await sql.record_selfie(conn, selfie.hash):  # the same selfie, sent at the same time
            await sql.fail_job(conn, ctx.person_id, message("V_REUSED_SELFIE"))
            await queue_deletion(conn, "undeleted_photo", [photo_uuid])
            return
        expires_at = ctx.svc.now() + JOB_LIFETIME
        dropped = await sql.replace_job(conn, ctx.person_id, photo_uuid, expires_at)
        await queue_deletion(conn, "undeleted_photo", dropped)


@bp.post("/verify")
@endpoint(auth=ONBOARDED, daily=VERIFY_DAILY)
async def verify(ctx: Ctx) -> None:
    """Queue the uploaded selfie for the checker; without one nothing happens."""
    await sql.queue_job(ctx.svc.db, ctx.person_id, message("V_QUEUED"))


@bp.get("/check-verification")
@endpoint(auth=ONBOARDED)
async def check_verification(ctx: Ctx) -> dict[str, Any]:
    """The job's status and message (null without a job) and the verified flags."""
    state = await sql.verification_state(ctx.svc.db, ctx.person_id)
    if state is None:  # the account went away after the gate
        raise HttpError(400)
    return state
