"""Media pipeline: photo and audio-bio validation, renditions, and object storage (spec §11)."""

from __future__ import annotations

import secrets

MAX_DECODED_BYTES = 10_000_000


class MediaError(ValueError):
    """A client upload was rejected; ``str(error)`` is the exact spec text (without the
    ``Value error, `` prefix the HTTP layer adds)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def new_media_id() -> str:
    """A fresh media id: 64 lowercase hex characters from a CSPRNG (not an RFC 4122 UUID)."""
    return secrets.token_hex(32)
