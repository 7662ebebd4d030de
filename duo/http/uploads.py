"""Photo and audio-bio uploads shared by onboarding and the own profile (§11).

README decision: objects are uploaded *before* the rows that name them are committed. A
media id whose rows never got committed (storage outage, database error) is queued for
deletion at once, so no object is orphaned; replaced or removed media go to the same
queues (``undeleted_photo`` / ``undeleted_audio``, §11.6).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio
from pydantic import Field

from duo.http.endpoint import Body
from duo.http.errors import HttpError, value_error
from duo.media import MediaError, new_media_id
from duo.media.audio import audio_key
from duo.media.images import PROFILE_SIZES, Crop, ProcessedPhoto, photo_hash
from duo.media.storage import BucketKind, StorageError, put_all
from duo.services import Services
from duo.sql.photos import QueueTable, is_banned_hash, queue_deletion


class PhotoUpload(Body):
    """``base64_file``: where the photo goes and the square-crop origin (§4.2, §11.1).

    ``base64`` stays untyped so that a missing or non-string value gets the media
    pipeline's own message (``Field base64 must be a valid base64 string``).
    """

    position: int = Field(ge=1, le=7)
    base64: Any = None
    top: int
    left: int


class AudioUpload(Body):
    """``base64_audio_file`` (§11.7)."""

    base64: Any = None


async def process_photo_upload(
    svc: Services, upload: PhotoUpload, *, sizes: Sequence[int] = PROFILE_SIZES, original: bool = True
) -> ProcessedPhoto:
    """Validate and render a photo (the selfie asks for fewer renditions); any rejection is
    a 400 at ``base64_file``."""
    try:
        banned = await is_banned_hash(svc.db, photo_hash(upload.base64))
        crop = Crop(top=upload.top, left=upload.left)
        return await svc.media.photo(upload.base64, crop, banned=banned, sizes=sizes, original=original)
    except MediaError as e:
        raise value_error(e.message, ["base64_file"]) from None


async def process_audio_upload(svc: Services, upload: AudioUpload) -> bytes:
    """Transcode an audio bio; any rejection is a 400 at ``base64_audio_file``."""
    try:
        return await svc.media.audio(upload.base64)
    except MediaError as e:
        raise value_error(e.message, ["base64_audio_file"]) from None


@asynccontextmanager
async def _stored(
    svc: Services, bucket: BucketKind, table: QueueTable, media_id: str, objects: Mapping[str, bytes]
) -> AsyncIterator[str]:
    """Upload, then run the caller's database writes; on any failure queue the id."""
    try:
        try:
            await put_all(svc.storage, bucket, objects)
        except StorageError:
            raise HttpError(500, "") from None
        yield media_id
    except BaseException:
        with trio.CancelScope(shield=True):
            await queue_deletion(svc.db, table, [media_id])
        raise


@asynccontextmanager
async def stored_photo(svc: Services, photo: ProcessedPhoto) -> AsyncIterator[str]:
    """A new media id whose renditions are in the photos bucket; write its rows inside."""
    media_id = new_media_id()
    async with _stored(svc, "photos", "undeleted_photo", media_id, photo.objects(media_id)) as stored:
        yield stored


@asynccontextmanager
async def stored_audio(svc: Services, aac: bytes) -> AsyncIterator[str]:
    """A new media id whose ``<id>.aac`` is in the audio bucket; write its rows inside."""
    media_id = new_media_id()
    async with _stored(svc, "audio", "undeleted_audio", media_id, {audio_key(media_id): aac}) as stored:
        yield stored
