"""Object-store helpers shared by the jobs (scheduler.md §4): queued deletions and downloads.

Deletions are confirmed before the queue row goes: a chunk whose batch delete reports an
error stays queued and is tried again on the next poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import trio

from duo.media.storage import BucketKind, Storage, StorageError
from duo.sql.database import Database

log = logging.getLogger("duo.jobs.bucket")

PHOTO_CHUNK = 200
AUDIO_CHUNK = 300
PARALLEL_DOWNLOADS = 5
DOWNLOAD_ATTEMPTS = 3


def photo_keys(uuid: str) -> list[str]:
    return [f"original-{uuid}.jpg", f"900-{uuid}.jpg", f"450-{uuid}.jpg", f"{uuid}.gif"]


def audio_keys(uuid: str) -> list[str]:
    return [f"{uuid}.aac"]


async def delete_photos(db: Database, storage: Storage, uuids: Sequence[str | None], *,
                        dry_run: bool, label: str) -> int:
    """§4.1: the four variants of each photo, then the ``undeleted_photo`` rows."""
    return await _delete_queued(db, storage, "photos", "undeleted_photo", PHOTO_CHUNK, photo_keys,
                                uuids, dry_run=dry_run, label=label)


async def delete_audio(db: Database, storage: Storage, uuids: Sequence[str | None], *,
                       dry_run: bool, label: str) -> int:
    """§4.2: ``<uuid>.aac`` of each, then the ``undeleted_audio`` rows."""
    return await _delete_queued(db, storage, "audio", "undeleted_audio", AUDIO_CHUNK, audio_keys,
                                uuids, dry_run=dry_run, label=label)


async def _delete_queued(db: Database, storage: Storage, bucket: BucketKind, queue: str, chunk_size: int,
                         keys_of: Callable[[str], list[str]], uuids: Sequence[str | None], *, dry_run: bool, label: str) -> int:
    """Delete in chunks; returns how many uuids left the queue (0 in a dry run)."""
    removed = 0
    for start in range(0, len(uuids), chunk_size):
        chunk = [u for u in uuids[start:start + chunk_size] if u is not None]
        keys = [key for u in chunk for key in keys_of(u)]
        if dry_run:
            for key in keys:
                log.info("%s: dry run, would delete %s/%s", label, bucket, key)
            continue
        try:
            await storage.delete(bucket, keys)
        except StorageError as e:
            log.error("%s: could not delete a chunk of %d objects, kept queued: %s", label, len(keys), e)
            continue
        for key in keys:
            log.info("%s: deleted %s/%s", label, bucket, key)
        await db.execute(f"DELETE FROM {queue} WHERE uuid = ANY($1::text[])", chunk)
        removed += len(chunk)
    return removed


async def download_450(storage: Storage, uuids: Sequence[str], *, retry_wait: float = 1.0) -> list[bytes | None]:
    """§4.3: the 450-pixel variant of each photo, in order; None when it stays missing.

    Missing objects are asked for three times (waiting 1 s, then 2 s: a fresh upload may
    not be visible yet); any other storage error is raised and aborts the iteration.
    """
    results: list[bytes | None] = [None] * len(uuids)
    limiter = trio.CapacityLimiter(PARALLEL_DOWNLOADS)

    async def fetch(i: int, uuid: str) -> None:
        async with limiter:
            for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
                data = await storage.get("photos", f"450-{uuid}.jpg")
                if data is not None:
                    results[i] = data
                    return
                if attempt < DOWNLOAD_ATTEMPTS:
                    await trio.sleep(retry_wait * attempt)

    async with trio.open_nursery() as nursery:
        for i, uuid in enumerate(uuids):
            nursery.start_soon(fetch, i, uuid)
    return results
