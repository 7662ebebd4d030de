"""photocleaner and audiocleaner (scheduler.md §5.4, §5.5) against a real S3 endpoint (moto)."""

import pathlib
import uuid

import attrs
import trio

from duo.jobs import audiocleaner, photocleaner
from duo.jobs.bucket import download_450, photo_keys
from duo.media.storage import S3Storage
from duo.services import Services
from tests.jobs_support import NOW, s3_storage, with_env
from tests.plugins.s3 import S3Endpoint


async def keys(storage: S3Storage, bucket: str) -> set[str]:
    client = storage._client
    reply = await trio.to_thread.run_sync(lambda: client.list_objects_v2(Bucket=bucket))
    return {item["Key"] for item in reply.get("Contents", [])}


async def put_photo(storage: S3Storage, photo: str) -> None:
    for key in photo_keys(photo)[:3]:  # no gif: a missing variant is harmless
        await storage.put("photos", key, b"jpeg")


async def test_queued_photos_leave_the_bucket_and_the_queue(
    svc: Services, s3_endpoint: S3Endpoint, tmp_path: pathlib.Path
) -> None:
    with trio.fail_after(60):
        storage = s3_storage(s3_endpoint)
        live = attrs.evolve(with_env(svc, tmp_path, DUO_CRON_PHOTO_CLEANER_DRY_RUN="false"), storage=storage)
        gone = [uuid.uuid4().hex * 2 for _ in range(205)]  # more than one chunk of 200
        kept = uuid.uuid4().hex * 2
        for photo in [*gone[:3], gone[-1], kept]:
            await put_photo(storage, photo)
        await svc.db.execute("INSERT INTO undeleted_photo (uuid) SELECT unnest($1::text[])", gone)

        assert await photocleaner.iteration(live, NOW) == {"queued": 205, "deleted": 205}
        assert await keys(storage, s3_endpoint.photos_bucket) == set(photo_keys(kept)[:3])
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_photo") == 0
        assert await photocleaner.iteration(live, NOW) == {"queued": 0, "deleted": 0}


async def test_dry_run_deletes_nothing(svc: Services, s3_endpoint: S3Endpoint, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(60):
        storage = s3_storage(s3_endpoint)
        dry = attrs.evolve(svc, storage=storage)  # the default is dry run
        photo, audio = uuid.uuid4().hex * 2, str(uuid.uuid4())
        await put_photo(storage, photo)
        await storage.put("audio", f"{audio}.aac", b"aac")
        await svc.db.execute("INSERT INTO undeleted_photo (uuid) VALUES ($1)", photo)
        await svc.db.execute("INSERT INTO undeleted_audio (uuid) VALUES ($1)", audio)

        assert await photocleaner.iteration(dry, NOW) == {"queued": 1, "deleted": 0}
        assert await audiocleaner.iteration(dry, NOW) == {"queued": 1, "deleted": 0}
        assert len(await keys(storage, s3_endpoint.photos_bucket)) == 3
        assert await keys(storage, s3_endpoint.audio_bucket) == {f"{audio}.aac"}
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_photo") == 1
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_audio") == 1


async def test_queued_audio_leaves_the_bucket(svc: Services, s3_endpoint: S3Endpoint, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(60):
        storage = s3_storage(s3_endpoint)
        live = attrs.evolve(with_env(svc, tmp_path, DUO_CRON_AUDIO_CLEANER_DRY_RUN="f"), storage=storage)
        gone, kept = str(uuid.uuid4()), str(uuid.uuid4())
        for audio in (gone, kept):
            await storage.put("audio", f"{audio}.aac", b"aac")
        await svc.db.execute("INSERT INTO undeleted_audio (uuid) VALUES ($1)", gone)

        assert await audiocleaner.iteration(live, NOW) == {"queued": 1, "deleted": 1}
        assert await keys(storage, s3_endpoint.audio_bucket) == {f"{kept}.aac"}
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_audio") == 0


async def test_a_failed_delete_keeps_the_chunk_queued(svc: Services, s3_endpoint: S3Endpoint,
                                                      tmp_path: pathlib.Path) -> None:
    with trio.fail_after(60):
        broken = attrs.evolve(s3_endpoint, photos_bucket="no-such-bucket")
        live = attrs.evolve(with_env(svc, tmp_path, DUO_CRON_PHOTO_CLEANER_DRY_RUN="0"), storage=s3_storage(broken))
        await svc.db.execute("INSERT INTO undeleted_photo (uuid) VALUES ('abc')")
        assert await photocleaner.iteration(live, NOW) == {"queued": 1, "deleted": 0}
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_photo") == 1


async def test_download_450_retries_missing_objects(s3_endpoint: S3Endpoint) -> None:
    with trio.fail_after(60):
        storage = s3_storage(s3_endpoint)
        await storage.put("photos", "450-present.jpg", b"jpeg")
        assert await download_450(storage, []) == []
        assert await download_450(storage, ["present", "absent"], retry_wait=0.0) == [b"jpeg", None]
