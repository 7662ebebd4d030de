"""garbagerecords (scheduler.md §5.3): what expires goes, photos of it are queued, levels recomputed."""

import datetime as dt
import uuid

import trio

from duo.jobs import garbagerecords
from duo.services import Services
from tests.factories import onboarded_user
from tests.jobs_support import NOW


def photo_uuid() -> str:
    return uuid.uuid4().hex * 2


async def test_expired_rows_go_and_their_photos_are_queued(svc: Services) -> None:
    with trio.fail_after(30):
        ana = await onboarded_user(svc, "Ana", verified_age=True, verified_gender=True, verification_level_id=3,
                                   last_event_name="added-photo")
        bo = await onboarded_user(svc, "Bo")
        db = svc.db
        day = dt.timedelta(days=1)
        # sessions: Ana's expired, Bo's not
        await db.execute("UPDATE duo_session SET session_expiry = $2 WHERE person_id = $1", ana.person_id, NOW - day)
        await db.execute("UPDATE duo_session SET session_expiry = $2 WHERE person_id = $1", bo.person_id, NOW + day)
        # onboardees: one older than a week with a photo, one fresh
        old_photo, fresh_photo = photo_uuid(), photo_uuid()
        for email, created, photo in (("old@example.com", NOW - 8 * day, old_photo),
                                      ("new@example.com", NOW - 6 * day, fresh_photo)):
            await db.execute("INSERT INTO onboardee (email, created_at) VALUES ($1, $2)", email, created)
            await db.execute("INSERT INTO onboardee_photo (email, position, uuid, blurhash, hash) "
                             "VALUES ($1, 1, $2, 'b', 'h')", email, photo)
        # verification jobs: one expired
        selfie, live_selfie = photo_uuid(), photo_uuid()
        for photo, expires in ((selfie, NOW - day), (live_selfie, NOW + day)):
            await db.execute("INSERT INTO verification_job (person_id, photo_uuid, expires_at) VALUES ($1, $2, $3)",
                             bo.person_id, photo, expires)
        # Ana's only verified photo scores as NSFW; an already-queued uuid is no error
        nsfw, decent = photo_uuid(), photo_uuid()
        await db.execute("INSERT INTO photo (person_id, position, uuid, blurhash, hash, verified, nsfw_score) "
                         "VALUES ($1, 1, $2, 'b', 'h', TRUE, 0.95), ($1, 2, $3, 'b', 'h', FALSE, 0.5)",
                         ana.person_id, nsfw, decent)
        await db.execute("INSERT INTO undeleted_photo (uuid) VALUES ($1)", nsfw)
        for table in ("banned_person_admin_token", "export_data_token"):
            await db.execute(f"INSERT INTO {table} (person_id, expires_at) VALUES ($1, $2), ($1, $3)",
                             bo.person_id, NOW - day, NOW + day)
        await db.execute("INSERT INTO deleted_photo_admin_token (photo_uuid, expires_at) VALUES ('x', $1), ('y', $2)",
                         NOW - day, NOW + day)
        await db.execute("INSERT INTO banned_person (normalized_email, expires_at) VALUES ('a', $1), ('b', $2)",
                         NOW - day, NOW + day)

        counts = await garbagerecords.iteration(svc, NOW)

        # 1 session, 1 onboardee, 1 job, 1 photo, 4 tokens/bans
        assert counts == {"deleted": 8, "queued_photos": 2, "nsfw_photos": 1}
        queued = {r["uuid"] for r in await db.fetch("SELECT uuid FROM undeleted_photo")}
        assert queued == {old_photo, selfie, nsfw}
        assert await db.fetchval("SELECT array_agg(email) FROM onboardee") == ["new@example.com"]
        assert await db.fetchval("SELECT array_agg(photo_uuid) FROM verification_job") == [live_selfie]
        assert await db.fetchval("SELECT array_agg(uuid) FROM photo") == [decent]
        assert await db.fetchval("SELECT array_agg(person_id) FROM duo_session") == [bo.person_id]
        for table in ("banned_person_admin_token", "export_data_token", "deleted_photo_admin_token", "banned_person"):
            assert await db.fetchval(f"SELECT count(*) FROM {table}") == 1, table
        ana_row = await db.fetchrow("SELECT verification_level_id, last_event_name FROM person WHERE id = $1",
                                    ana.person_id)
        # the deleted photo no longer counts: basics only
        assert (ana_row["verification_level_id"], ana_row["last_event_name"]) == (2, "joined")

        assert await garbagerecords.iteration(svc, NOW) == {"deleted": 0, "queued_photos": 0, "nsfw_photos": 0}
