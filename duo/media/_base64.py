"""Base64 payload handling shared by photos and audio (spec §11.1 steps 1-3, §11.7)."""

from __future__ import annotations

import binascii
import re
from base64 import b64decode

from duo.media import MAX_DECODED_BYTES, MediaError

BAD_BASE64 = "Field base64 must be a valid base64 string"
_NOT_ALPHABET = re.compile(r"[^A-Za-z0-9+/=]")


def payload(value: object) -> str:
    """The text after the last comma, so that ``data:…;base64,`` prefixes are accepted."""
    if not isinstance(value, str):
        raise MediaError(BAD_BASE64)
    return value.rpartition(",")[2]


def decode(text: str, too_big: str) -> bytes:
    """Decode leniently (non-alphabet characters dropped, bad padding rejected) and
    enforce the 10,000,000-byte limit with the caller's message."""
    try:
        data = b64decode(_NOT_ALPHABET.sub("", text))
    except (binascii.Error, ValueError):
        raise MediaError(BAD_BASE64) from None
    if len(data) > MAX_DECODED_BYTES:
        raise MediaError(too_big)
    return data
