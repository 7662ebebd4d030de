"""checkphotos (scheduler.md §5.9): blurhashes filled in and orphans removed, on moto S3."""

import io
import pathlib
import uuid

import attrs
import trio
from PIL import Image

from duo.jobs import checkphotos
from duo.jobs.bucket import photo_keys
from duo.media.storage import LocalSettings, LocalStorage
from duo.services import Services
from tests.factories import onboarded_user
from tests.jobs_support import NOW, s3_storage, with_env
from tests.plugins.s3 import S3Endpoint


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 60), (200, 30, 90)).save(out, "JPEG")
    return out.getvalue()


async def test_blurhashes_and_orphans(svc: Services, s3_endpoint: S3Endpoint, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(60):
        storage = s3_storage(s3_endpoint)
        ana = await onboarded_user(svc, "Ana")
        unhashed, hashed, onboarding, selfie, orphan = (uuid.uuid4().hex * 2 for _ in range(5))
        for photo in (unhashed, hashed, onboarding, selfie, orphan):
            for key in photo_keys(photo):
                await storage.put("photos", key, jpeg())
        await svc.db.execute("INSERT INTO photo (person_id, position, uuid, blurhash, hash) "
                             "VALUES ($1, 1, $2, '', 'h'), ($1, 2, $3, 'kept', 'h')", ana.person_id, unhashed, hashed)
        await svc.db.execute("INSERT INTO onboardee (email) VALUES ('o@example.com')")
        await svc.db.execute("INSERT INTO onboardee_photo (email, position, uuid, blurhash, hash) "
                             "VALUES ('o@example.com', 1, $1, 'b', 'h')", onboarding)
        await svc.db.execute("INSERT INTO verification_job (person_id, photo_uuid) VALUES ($1, $2)",
                             ana.person_id, selfie)

        dry = attrs.evolve(svc, storage=storage)
        assert await checkphotos.iteration(dry, NOW) == {"checked": 5, "blurhashed": 1, "orphans": 1, "deleted": 0}
        assert await svc.db.fetchval("SELECT blurhash FROM photo WHERE uuid = $1", unhashed) == ""
        assert await storage.get("photos", f"450-{orphan}.jpg") is not None

        live = attrs.evolve(with_env(svc, tmp_path, DUO_CRON_CHECK_PHOTOS_DRY_RUN="false"), storage=storage)
        assert await checkphotos.iteration(live, NOW) == {"checked": 5, "blurhashed": 1, "orphans": 1, "deleted": 1}
        code = await svc.db.fetchval("SELECT blurhash FROM photo WHERE uuid = $1", unhashed)
        assert code == checkphotos.photo_blurhash(jpeg()) and len(code) > 6
        assert await svc.db.fetchval("SELECT blurhash FROM photo WHERE uuid = $1", hashed) == "kept"
        for key in photo_keys(orphan):
            assert await storage.get("photos", key) is None
        for photo in (unhashed, hashed, onboarding, selfie):
            assert await storage.get("photos", f"450-{photo}.jpg") is not None


async def test_storage_lists_keys_page_by_page(s3_endpoint: S3Endpoint) -> None:
    with trio.fail_after(60):
        storage = s3_storage(s3_endpoint)
        for name in ("450-a.jpg", "450-b.jpg", "450-c.jpg", "900-a.jpg"):
            await storage.put("photos", name, b"x")
        pages = [page async for page in storage.pages("photos", "450-", 2)]
        assert pages == [["450-a.jpg", "450-b.jpg"], ["450-c.jpg"]]


async def test_local_storage_lists_keys_page_by_page(tmp_path: pathlib.Path) -> None:
    with trio.fail_after(30):
        storage = LocalStorage(LocalSettings(root=tmp_path))
        assert [page async for page in storage.pages("photos", "450-", 2)] == []
        for name in ("450-b.jpg", "450-a.jpg", "450-c.jpg", "900-a.jpg"):
            await storage.put("photos", name, b"x")
        pages = [page async for page in storage.pages("photos", "450-", 2)]
        assert pages == [["450-a.jpg", "450-b.jpg"], ["450-c.jpg"]]
