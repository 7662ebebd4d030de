"""Object storage for photos and audio (spec §11.4, §11.6).

Two backends share one protocol: :class:`S3Storage` for an S3-compatible store (Cloudflare
R2 in production) and :class:`LocalStorage`, a directory per bucket with the same key
layout, so that a static file server can stand in for the CDN in development.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import attrs
import boto3
import trio
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

BucketKind = Literal["photos", "audio"]

PARALLEL_UPLOADS = 5
_S3_DELETE_BATCH = 1000  # DeleteObjects accepts at most this many keys
_SAFE_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


class StorageError(Exception):
    """An object could not be stored, fetched or deleted."""


class Storage(Protocol):
    """Where media objects live; every method is safe to call from any trio task."""

    async def put(
        self, bucket_kind: BucketKind, key: str, data: bytes, content_type: str | None = None
    ) -> None: ...

    async def delete(self, bucket_kind: BucketKind, keys: Sequence[str]) -> None: ...

    async def get(self, bucket_kind: BucketKind, key: str) -> bytes | None: ...

    def pages(self, bucket_kind: BucketKind, prefix: str, page_size: int) -> AsyncIterator[list[str]]:
        """The keys starting with ``prefix``, ``page_size`` at a time (bucket reconciliation)."""
        ...


async def put_all(storage: Storage, bucket_kind: BucketKind, objects: Mapping[str, bytes]) -> None:
    """Upload several objects, at most :data:`PARALLEL_UPLOADS` at a time; the first
    :class:`StorageError` cancels the remaining uploads and is raised as is."""
    limiter = trio.CapacityLimiter(PARALLEL_UPLOADS)
    errors: list[StorageError] = []

    async with trio.open_nursery() as nursery:

        async def put_one(key: str, data: bytes) -> None:
            async with limiter:
                try:
                    await storage.put(bucket_kind, key, data)
                except StorageError as e:
                    errors.append(e)
                    nursery.cancel_scope.cancel()

        for key, data in objects.items():
            nursery.start_soon(put_one, key, data)
    if errors:
        raise errors[0]


def r2_endpoint(account_id: str) -> str:
    """The R2 endpoint used when ``DUO_BOTO_ENDPOINT_URL`` is not set."""
    return f"https://{account_id}.r2.cloudflarestorage.com"


@attrs.frozen
class S3Settings:
    photos_bucket: str
    audio_bucket: str
    access_key_id: str
    access_key_secret: str = attrs.field(repr=False)
    endpoint_url: str
    region: str = "auto"


class S3Storage:
    """S3-compatible backend.  One boto3 client (thread-safe) is shared by all calls,
    which run in worker threads because boto3 blocks."""

    def __init__(self, settings: S3Settings) -> None:
        self._buckets: dict[BucketKind, str] = {
            "photos": settings.photos_bucket,
            "audio": settings.audio_bucket,
        }
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.access_key_secret,
            region_name=settings.region,
            config=Config(
                connect_timeout=10,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )

    async def put(
        self, bucket_kind: BucketKind, key: str, data: bytes, content_type: str | None = None
    ) -> None:
        """``PutObject``; upstream sets no content type, so it is only sent when given."""
        extra = {"ContentType": content_type} if content_type else {}
        await self._call(
            "put_object", Bucket=self._buckets[bucket_kind], Key=key, Body=data, **extra
        )

    async def delete(self, bucket_kind: BucketKind, keys: Sequence[str]) -> None:
        """Delete keys in ``DeleteObjects`` batches; missing keys are not an error."""
        for start in range(0, len(keys), _S3_DELETE_BATCH):
            batch = keys[start : start + _S3_DELETE_BATCH]
            reply = await self._call(
                "delete_objects",
                Bucket=self._buckets[bucket_kind],
                Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
            )
            if reply.get("Errors"):
                raise StorageError(f"could not delete: {reply['Errors']!r}")

    async def get(self, bucket_kind: BucketKind, key: str) -> bytes | None:
        """The object's bytes, or ``None`` if there is no such key."""

        def fetch() -> bytes | None:
            try:
                reply = self._client.get_object(Bucket=self._buckets[bucket_kind], Key=key)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            body: bytes = reply["Body"].read()
            return body

        try:
            return await trio.to_thread.run_sync(fetch)
        except (BotoCoreError, ClientError) as e:
            raise StorageError(f"get {key!r} failed: {e}") from e

    async def pages(self, bucket_kind: BucketKind, prefix: str, page_size: int) -> AsyncIterator[list[str]]:
        """``ListObjectsV2`` page by page."""
        token: dict[str, str] = {}
        while True:
            reply = await self._call(
                "list_objects_v2", Bucket=self._buckets[bucket_kind], Prefix=prefix, MaxKeys=page_size, **token
            )
            yield [item["Key"] for item in reply.get("Contents", [])]
            if not reply.get("IsTruncated"):
                return
            token = {"ContinuationToken": reply["NextContinuationToken"]}

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """Run one blocking client call in a worker thread, mapping boto errors."""
        fn = getattr(self._client, method)
        try:
            reply: dict[str, Any] = await trio.to_thread.run_sync(lambda: fn(**kwargs))
        except (BotoCoreError, ClientError) as e:
            raise StorageError(f"{method} failed: {e}") from e
        return reply


@attrs.frozen
class LocalSettings:
    root: Path
    """Objects go to ``root/photos/<key>`` and ``root/audio/<key>``."""


class LocalStorage:
    """Directory backend for development and tests; writes are atomic (temp file then
    rename) so a concurrent reader never sees half an object."""

    def __init__(self, settings: LocalSettings) -> None:
        self._root = settings.root

    def directory(self, bucket_kind: BucketKind) -> Path:
        """The directory that plays the bucket's role (serve it under the public URL)."""
        return self._root / bucket_kind

    async def put(
        self, bucket_kind: BucketKind, key: str, data: bytes, content_type: str | None = None
    ) -> None:
        """Write the object; ``content_type`` is not recorded (files have none)."""
        path = self._path(bucket_kind, key)
        await trio.to_thread.run_sync(_write_atomic, path, data)

    async def delete(self, bucket_kind: BucketKind, keys: Sequence[str]) -> None:
        """Remove the files; missing ones are ignored, like S3."""
        paths = [self._path(bucket_kind, k) for k in keys]
        await trio.to_thread.run_sync(_unlink_all, paths)

    async def get(self, bucket_kind: BucketKind, key: str) -> bytes | None:
        """The file's bytes, or ``None`` if it does not exist."""
        path = self._path(bucket_kind, key)
        return await trio.to_thread.run_sync(_read_or_none, path)

    async def pages(self, bucket_kind: BucketKind, prefix: str, page_size: int) -> AsyncIterator[list[str]]:
        """File names starting with ``prefix``, sorted, ``page_size`` at a time."""
        names = await trio.to_thread.run_sync(_names, self.directory(bucket_kind), prefix)
        for start in range(0, len(names), page_size):
            yield names[start : start + page_size]

    def _path(self, bucket_kind: BucketKind, key: str) -> Path:
        """Keys are flat names; anything that could escape the directory is refused."""
        if not _SAFE_KEY.fullmatch(key):
            raise StorageError(f"unsafe object key {key!r}")
        return self.directory(bucket_kind) / key


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the file from a web server
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:
        raise StorageError(f"could not write {path}: {e}") from e


def _unlink_all(paths: Iterable[Path]) -> None:
    try:
        for path in paths:
            path.unlink(missing_ok=True)
    except OSError as e:
        raise StorageError(f"could not delete: {e}") from e


def _names(directory: Path, prefix: str) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(prefix) and _SAFE_KEY.fullmatch(p.name))


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StorageError(f"could not read {path}: {e}") from e
