"""``garbagerecords`` (scheduler.md §5.3): expired and unwanted rows, in one transaction.

Differences from the reference, per the contract's decisions: photo uuids already queued
for deletion are not an error (``ON CONFLICT DO NOTHING``), and the verification level of
a person who lost a photo is recomputed *after* the deletion, so it no longer counts the
deleted photo.
"""

from __future__ import annotations

import datetime as dt

from duo.jobs.job import Counts
from duo.person_events import recompute_verification_level, reset_last_event
from duo.services import Services

NSFW_DELETE_ABOVE = 0.8

DELETE_SQL = """
WITH
admin_tokens AS (DELETE FROM banned_person_admin_token WHERE expires_at < $1 RETURNING 1),
photo_tokens AS (DELETE FROM deleted_photo_admin_token WHERE expires_at < $1 RETURNING 1),
bans AS (DELETE FROM banned_person WHERE expires_at < $1 RETURNING 1),
sessions AS (DELETE FROM duo_session WHERE session_expiry < $1 RETURNING 1),
onboardees AS (DELETE FROM onboardee WHERE created_at < $1::timestamptz - interval '1 week' RETURNING email),
jobs AS (DELETE FROM verification_job WHERE expires_at < $1 RETURNING photo_uuid),
photos AS (DELETE FROM photo WHERE nsfw_score > $2 RETURNING person_id, uuid),
export_tokens AS (DELETE FROM export_data_token WHERE expires_at < $1 RETURNING 1),
queued AS (
    INSERT INTO undeleted_photo (uuid)
    SELECT op.uuid FROM onboardee_photo op JOIN onboardees USING (email)
    UNION SELECT photo_uuid FROM jobs
    UNION SELECT uuid FROM photos
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM admin_tokens) + (SELECT count(*) FROM photo_tokens)
     + (SELECT count(*) FROM bans) + (SELECT count(*) FROM sessions)
     + (SELECT count(*) FROM onboardees) + (SELECT count(*) FROM jobs)
     + (SELECT count(*) FROM photos) + (SELECT count(*) FROM export_tokens) AS deleted,
       (SELECT count(*) FROM queued) AS queued,
       (SELECT count(*) FROM photos) AS nsfw_photos,
       ARRAY(SELECT DISTINCT person_id FROM photos) AS lost_photo
"""


async def iteration(svc: Services, now: dt.datetime) -> Counts:
    async with svc.db.transaction() as conn:
        row = await conn.fetchrow(DELETE_SQL, now, NSFW_DELETE_ABOVE)
        assert row is not None
        for person_id in row["lost_photo"]:
            await recompute_verification_level(conn, person_id)
            await reset_last_event(conn, person_id)
    return {"deleted": row["deleted"], "queued_photos": row["queued"], "nsfw_photos": row["nsfw_photos"]}
