"""Photo validation and renditions (spec §11.1-11.3).

Validation runs in the spec's order so that a photo failing several checks gets the same
message as upstream.  The banned-hash check (step 5) needs the database, so callers compute
:func:`photo_hash` first, look it up, and pass the answer as ``banned``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence

import attrs
import blurhash
from PIL import Image
from pillow_heif import register_heif_opener

from duo.media import MediaError, _base64

register_heif_opener()

TOO_BIG = "File must be smaller than 10.0 MB"
NOT_AN_IMAGE = "Base64 string is valid but is not an image"
IMAGE_INVALID = "Image invalid"
BANNED = "That pic breaks the rules 🙈"

PROFILE_SIZES = (900, 450)
SELFIE_SIZES = (450,)
BLURHASH_SIZE = 32
BLURHASH_COMPONENTS = 4

# (largest allowed long side, smallest allowed short side) per kind of image.
_GIF_LIMITS = (800, 10)
_OTHER_LIMITS = (5000, 50)
_MAX_PIXELS = _OTHER_LIMITS[0] ** 2

_ORIENTATION_TAG = 274
_ROTATIONS = {
    3: Image.Transpose.ROTATE_180,
    5: Image.Transpose.ROTATE_270,  # 90° clockwise
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.ROTATE_90,  # 90° counter-clockwise
    8: Image.Transpose.ROTATE_90,
}


@attrs.frozen
class Crop:
    """Origin of the square crop, in pixels of the rotated full-size image (clamped)."""

    top: int
    left: int


@attrs.frozen
class ProcessedPhoto:
    """Everything an upload produces: rendition bytes plus the values the DB stores."""

    jpegs: Mapping[str, bytes]
    """JPEG bytes keyed by key prefix: ``"original"`` and/or sizes such as ``"900"``."""
    gif: bytes | None
    """The uploaded bytes unchanged, for GIF input only (keeps the animation)."""
    blurhash: str
    hash: str

    @property
    def extra_exts(self) -> list[str]:
        """Value of the ``extra_exts`` column."""
        return ["gif"] if self.gif is not None else []

    def objects(self, media_id: str) -> dict[str, bytes]:
        """Object key → bytes, ready for upload to the photos bucket."""
        out = {f"{name}-{media_id}.jpg": data for name, data in self.jpegs.items()}
        if self.gif is not None:
            out[f"{media_id}.gif"] = self.gif
        return out


def photo_keys(media_id: str) -> list[str]:
    """Every key a photo may have; used by deferred deletion (§11.6)."""
    return [
        f"original-{media_id}.jpg",
        f"900-{media_id}.jpg",
        f"450-{media_id}.jpg",
        f"{media_id}.gif",
    ]


def photo_hash(b64: str) -> str:
    """Lowercase hex MD5 of the base64 text after the last comma (not of the bytes)."""
    return hashlib.md5(_base64.payload(b64).encode()).hexdigest()


def process_photo(
    b64: object,
    crop: Crop | None,
    *,
    banned: bool = False,
    sizes: Sequence[int] = PROFILE_SIZES,
    original: bool = True,
) -> ProcessedPhoto:
    """Validate an uploaded photo and render it; raises :class:`MediaError`.

    ``banned`` says whether :func:`photo_hash` is in ``banned_photo_hash``.  Profile
    photos use the defaults; the verification selfie uses ``sizes=SELFIE_SIZES,
    original=False``.
    """
    text = _base64.payload(b64)
    data = _base64.decode(text, TOO_BIG)
    image = _open(data)
    if banned:
        raise MediaError(BANNED)
    if image is None:
        raise MediaError(_too_large(is_gif=False))
    is_gif = image.format == "GIF"
    _check_dimensions(image.size, is_gif)
    # Every image left here was fully decoded by _open: larger ones fail the check above.
    try:
        rotated = _rotate(image)
        jpegs: dict[str, bytes] = {}
        if original:
            jpegs["original"] = _jpeg(rotated)
        for size in sizes:
            jpegs[str(size)] = _jpeg(_square(rotated, crop, size))
        thumb = _square(rotated, crop, BLURHASH_SIZE).convert("RGB")
    except (OSError, ValueError):  # exotic pixel modes Pillow cannot convert to RGB
        raise MediaError(IMAGE_INVALID) from None
    return ProcessedPhoto(
        jpegs=jpegs,
        gif=data if is_gif else None,
        blurhash=blurhash.encode(thumb, BLURHASH_COMPONENTS, BLURHASH_COMPONENTS),
        hash=hashlib.md5(text.encode()).hexdigest(),
    )


def _open(data: bytes) -> Image.Image | None:
    """Step 4: identify and decode.  Images too large to pass step 6 are identified but
    not decoded, so a huge upload costs no memory before it is rejected; ``None`` means
    Pillow refused even to identify it as a decompression bomb (also too large)."""
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        return None
    except Exception:  # Pillow and its plug-ins raise many error types on non-images
        raise MediaError(NOT_AN_IMAGE) from None
    width, height = image.size
    if width * height <= _MAX_PIXELS:
        try:
            image.load()
        except Exception:  # likewise for truncated or corrupt image data
            raise MediaError(IMAGE_INVALID) from None
    return image


def _too_large(*, is_gif: bool) -> str:
    limit = (_GIF_LIMITS if is_gif else _OTHER_LIMITS)[0]
    return f"Image must be less than {limit}x{limit} pixels"


def _check_dimensions(size: tuple[int, int], is_gif: bool) -> None:
    """Step 6, on the decoded size before EXIF rotation."""
    longest, shortest = _GIF_LIMITS if is_gif else _OTHER_LIMITS
    if max(size) > longest:
        raise MediaError(_too_large(is_gif=is_gif))
    if min(size) < shortest:
        raise MediaError(f"Image must be greater than {shortest}x{shortest} pixels")


def _rotate(image: Image.Image) -> Image.Image:
    """Apply EXIF orientation as upstream does: rotations only, mirroring ignored."""
    try:
        orientation = image.getexif().get(_ORIENTATION_TAG)
    except Exception:  # a corrupt EXIF block must not reject an otherwise good photo
        orientation = None
    method = _ROTATIONS.get(orientation) if isinstance(orientation, int) else None
    return image.transpose(method) if method is not None else image


def _square(image: Image.Image, crop: Crop | None, size: int) -> Image.Image:
    """Square crop at the (clamped) origin, or centred, then resize to ``size``."""
    width, height = image.size
    side = min(width, height)
    if crop is None:
        top, left = (height - side) // 2, (width - side) // 2
    else:
        top = min(max(crop.top, 0), height - side)
        left = min(max(crop.left, 0), width - side)
    square = image.crop((left, top, left + side, top + side))
    return square if side == size else square.resize((size, size))


def _jpeg(image: Image.Image) -> bytes:
    """RGB, progressive, optimised, quality 85, 4:2:0 — the spec's only output format."""
    out = io.BytesIO()
    image.convert("RGB").save(
        out, format="JPEG", quality=85, progressive=True, optimize=True, subsampling="4:2:0"
    )
    return out.getvalue()
