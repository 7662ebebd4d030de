"""Storage backends: local directory and S3 (against moto's server, boto3 unmocked)."""

from __future__ import annotations

import stat
from pathlib import Path

import boto3
import pytest
import trio
import trio.testing

from duo.media import new_media_id
from duo.media.storage import (
    PARALLEL_UPLOADS,
    BucketKind,
    LocalSettings,
    LocalStorage,
    S3Settings,
    S3Storage,
    Storage,
    StorageError,
    put_all,
    r2_endpoint,
)
from tests.plugins.s3 import ACCESS_KEY_ID, ACCESS_KEY_SECRET, S3Endpoint


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(LocalSettings(root=tmp_path / "media"))


def s3_settings(endpoint: S3Endpoint, **overrides: str) -> S3Settings:
    values = {
        "photos_bucket": endpoint.photos_bucket,
        "audio_bucket": endpoint.audio_bucket,
        "access_key_id": ACCESS_KEY_ID,
        "access_key_secret": ACCESS_KEY_SECRET,
        "endpoint_url": endpoint.url,
    } | overrides
    return S3Settings(**values)


@pytest.fixture
def s3(s3_endpoint: S3Endpoint) -> S3Storage:
    return S3Storage(s3_settings(s3_endpoint))


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    backend: Storage = request.getfixturevalue(request.param)
    return backend


async def test_put_get_delete_round_trip(storage: Storage) -> None:
    media_id = new_media_id()
    key = f"450-{media_id}.jpg"
    with trio.fail_after(30):
        assert await storage.get("photos", key) is None
        await storage.put("photos", key, b"jpeg bytes")
        assert await storage.get("photos", key) == b"jpeg bytes"
        assert await storage.get("audio", key) is None  # buckets are separate
        await storage.put("photos", key, b"replaced")
        assert await storage.get("photos", key) == b"replaced"
        await storage.delete("photos", [key, f"original-{media_id}.jpg"])  # one is missing
        assert await storage.get("photos", key) is None


async def test_delete_many_keys(storage: Storage) -> None:
    """More keys than one S3 DeleteObjects call takes; absent keys are fine."""
    kept, gone = f"{new_media_id()}.aac", f"{new_media_id()}.aac"
    keys = [f"{new_media_id()}.aac" for _ in range(1200)] + [gone]
    with trio.fail_after(30):
        await storage.put("audio", kept, b"keep")
        await storage.put("audio", gone, b"drop")
        await storage.delete("audio", keys)
        await storage.delete("audio", [])
        assert await storage.get("audio", gone) is None
        assert await storage.get("audio", kept) == b"keep"


async def test_put_all_uploads_everything(storage: Storage) -> None:
    objects = {f"{i}-{new_media_id()}.jpg": bytes([i]) * 10 for i in range(8)}
    with trio.fail_after(30):
        await put_all(storage, "photos", objects)
        for key, data in objects.items():
            assert await storage.get("photos", key) == data


async def test_s3_content_type_only_when_given(s3: S3Storage, s3_endpoint: S3Endpoint) -> None:
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint.url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=ACCESS_KEY_SECRET,
        region_name="us-east-1",
    )
    with trio.fail_after(30):
        await s3.put("photos", "typed.jpg", b"x", "image/jpeg")
        await s3.put("photos", "plain.jpg", b"x")
    head = client.head_object(Bucket=s3_endpoint.photos_bucket, Key="typed.jpg")
    assert head["ContentType"] == "image/jpeg"
    head = client.head_object(Bucket=s3_endpoint.photos_bucket, Key="plain.jpg")
    assert head["ContentType"] == "binary/octet-stream"  # S3's default: none was sent


async def test_s3_failures_raise_storage_error(s3_endpoint: S3Endpoint) -> None:
    missing = S3Storage(s3_settings(s3_endpoint, photos_bucket="no-such-bucket"))
    with trio.fail_after(30):
        with pytest.raises(StorageError):
            await missing.put("photos", "a.jpg", b"x")
        with pytest.raises(StorageError):
            await missing.get("photos", "a.jpg")


def test_settings_hide_the_secret(s3_endpoint: S3Endpoint) -> None:
    settings = s3_settings(s3_endpoint, access_key_secret="hunter2")
    assert "hunter2" not in repr(settings)
    assert settings.region == "auto"
    assert r2_endpoint("abc") == "https://abc.r2.cloudflarestorage.com"


async def test_local_layout_and_permissions(local: LocalStorage, tmp_path: Path) -> None:
    with trio.fail_after(30):
        await local.put("audio", "x.aac", b"aac")
    path = tmp_path / "media" / "audio" / "x.aac"
    assert local.directory("audio") == path.parent
    assert path.read_bytes() == b"aac"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["x.aac"]  # no temp files left


@pytest.mark.parametrize("key", ["../escape.jpg", "a/b.jpg", ".hidden", "", "/abs"])
async def test_local_refuses_unsafe_keys(local: LocalStorage, key: str) -> None:
    with trio.fail_after(30), pytest.raises(StorageError):
        await local.put("photos", key, b"x")


class FlakyStorage:
    """Counts concurrent uploads and fails on one key."""

    def __init__(self, failing_key: str | None = None) -> None:
        self.failing_key = failing_key
        self.active = 0
        self.most_active = 0
        self.stored: dict[str, bytes] = {}

    async def put(
        self, bucket_kind: BucketKind, key: str, data: bytes, content_type: str | None = None
    ) -> None:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            await trio.testing.wait_all_tasks_blocked()
            if key == self.failing_key:
                raise StorageError("boom")
            self.stored[key] = data
        finally:
            self.active -= 1

    async def delete(self, bucket_kind: BucketKind, keys: object) -> None:
        raise NotImplementedError

    async def get(self, bucket_kind: BucketKind, key: str) -> bytes | None:
        return self.stored.get(key)


async def test_put_all_limits_parallelism() -> None:
    flaky = FlakyStorage()
    with trio.fail_after(30):
        await put_all(flaky, "photos", {f"{i}.jpg": b"x" for i in range(12)})
    assert len(flaky.stored) == 12
    assert flaky.most_active == PARALLEL_UPLOADS


async def test_put_all_raises_the_storage_error() -> None:
    flaky = FlakyStorage(failing_key="3.jpg")
    with trio.fail_after(30), pytest.raises(StorageError, match="boom"):
        await put_all(flaky, "photos", {f"{i}.jpg": b"x" for i in range(12)})
