"""Media objects served from the local media directory, standing in for the CDN.

Clients load ``<media_url>/<key>`` for photos and ``<media_url>/audio/<key>`` for audio
bios and voice messages (``media_url`` defaults to ``<public_url>/media``).  With S3/R2
storage a real CDN serves the bucket, and these routes answer 404.  They are exempt from
rate limits: a screen of search results loads dozens of images at once.
"""

from __future__ import annotations

import re

from quart import Blueprint, Response, send_from_directory

from duo.http.endpoint import Ctx, endpoint
from duo.http.errors import HttpError
from duo.media.storage import BucketKind, LocalStorage

bp = Blueprint("media", __name__)

# Object keys are flat names made by the media pipeline: original-<id>.jpg, 900-<id>.jpg,
# 450-<id>.jpg, <id>.gif (photos) and <id>.aac (audio).
CONTENT_TYPES: dict[BucketKind, dict[str, str]] = {
    "photos": {"jpg": "image/jpeg", "gif": "image/gif"},
    "audio": {"aac": "audio/aac"},
}
_KEY = re.compile(r"[A-Za-z0-9_-]+\.([a-z0-9]+)")
CACHE_SECONDS = 365 * 86400  # an object never changes under its key; a new upload gets a new id


async def _serve(ctx: Ctx, kind: BucketKind, key: str) -> Response:
    storage = ctx.svc.storage
    found = _KEY.fullmatch(key)
    if not isinstance(storage, LocalStorage) or found is None or found.group(1) not in CONTENT_TYPES[kind]:
        raise HttpError(404)
    response: Response = await send_from_directory(
        storage.directory(kind),
        key,
        mimetype=CONTENT_TYPES[kind][found.group(1)],
        conditional=True,
        cache_timeout=CACHE_SECONDS,
    )
    response.cache_control.immutable = True
    return response


@bp.get("/media/<key>")
@endpoint(auth=None, ip_limits=())
async def photo_object(ctx: Ctx, key: str) -> Response:
    """A photo rendition (JPEG) or an original GIF from local storage."""
    return await _serve(ctx, "photos", key)


@bp.get("/media/audio/<key>")
@endpoint(auth=None, ip_limits=())
async def audio_object(ctx: Ctx, key: str) -> Response:
    """An audio bio or voice message (AAC) from local storage."""
    return await _serve(ctx, "audio", key)
