import attrs
import httpx
import trio

from duo.media.storage import S3Settings, S3Storage
from duo.ratelimit import MemoryCounter
from duo.services import Services
from tests.plugins.app import serve
from tests.plugins.s3 import ACCESS_KEY_ID, ACCESS_KEY_SECRET, S3Endpoint

JPEG = b"\xff\xd8\xff\xe0" + b"j" * 1000
GIF = b"GIF89a" + b"g" * 100
AAC = b"\xff\xf1" + b"a" * 5000


async def store_objects(svc: Services) -> None:
    await svc.storage.put("photos", "original-abc.jpg", JPEG)
    await svc.storage.put("photos", "abc.gif", GIF)
    await svc.storage.put("audio", "abc.aac", AAC)


async def test_local_objects_are_served_with_their_content_types(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        await store_objects(svc)
        for path, body, content_type in (
            ("/media/original-abc.jpg", JPEG, "image/jpeg"),
            ("/media/abc.gif", GIF, "image/gif"),
            ("/media/audio/abc.aac", AAC, "audio/aac"),
        ):
            r = await client.get(path)
            assert (r.status_code, r.content, r.headers["content-type"]) == (200, body, content_type), path
            assert "immutable" in r.headers["cache-control"]
        assert svc.config.media_url.endswith("/media")

        # audio players seek with range requests
        r = await client.get("/media/audio/abc.aac", headers={"Range": "bytes=0-1"})
        assert (r.status_code, r.content) == (206, AAC[:2])


async def test_missing_unsafe_and_misplaced_keys_are_404(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        await store_objects(svc)
        (svc.storage.directory("photos") / "notes.txt").write_text("secret")
        (svc.storage.directory("photos") / ".tmp-x.jpg").write_bytes(JPEG)
        for path in (
            "/media/missing.jpg",
            "/media/abc.aac",  # audio key in the photo route
            "/media/audio/abc.gif",  # photo key in the audio route
            "/media/notes.txt",
            "/media/.tmp-x.jpg",
            "/media/..%2F..%2Fetc%2Fpasswd",
            "/media/%2E%2E%2Fphotos%2Fabc.gif",
            "/media/audio/..%2Fphotos%2Fabc.gif",
            "/media/audio",
        ):
            r = await client.get(path)
            assert r.status_code == 404, (path, r.status_code)


async def test_media_is_not_rate_limited(svc: Services) -> None:
    http_config = attrs.evolve(svc.config.http, trusted_proxies=["127.0.0.0/8"])
    behind_proxy = attrs.evolve(
        svc, config=attrs.evolve(svc.config, http=http_config), counter=MemoryCounter(clock=lambda: 0.0)
    )
    with trio.fail_after(60):
        await store_objects(svc)
        async with serve(behind_proxy) as client:
            for _ in range(70):
                r = await client.get("/media/original-abc.jpg", headers={"X-Forwarded-For": "8.8.8.8"})
                assert r.status_code == 200


async def test_s3_storage_has_no_media_routes(svc: Services, s3_endpoint: S3Endpoint) -> None:
    storage = S3Storage(
        S3Settings(
            photos_bucket=s3_endpoint.photos_bucket,
            audio_bucket=s3_endpoint.audio_bucket,
            access_key_id=ACCESS_KEY_ID,
            access_key_secret=ACCESS_KEY_SECRET,
            endpoint_url=s3_endpoint.url,
            region="us-east-1",
        )
    )
    with trio.fail_after(30):
        await storage.put("photos", "original-abc.jpg", JPEG)
        async with serve(attrs.evolve(svc, storage=storage)) as client:
            r = await client.get("/media/original-abc.jpg")
            assert r.status_code == 404
            r = await client.get("/media/audio/abc.aac")
            assert r.status_code == 404
