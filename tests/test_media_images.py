"""Photo validation order, limits, renditions, crop, EXIF rotation, GIF and blurhash."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import zlib

import blurhash
import pytest
from PIL import Image

from duo.media import MAX_DECODED_BYTES, MediaError, new_media_id
from duo.media.images import (
    BANNED,
    IMAGE_INVALID,
    NOT_AN_IMAGE,
    SELFIE_SIZES,
    TOO_BIG,
    Crop,
    photo_hash,
    photo_keys,
    process_photo,
)

BAD_BASE64 = "Field base64 must be a valid base64 string"
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def encode(image: Image.Image, fmt: str, **params: object) -> str:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return base64.b64encode(out.getvalue()).decode()


def stripes(
    width: int = 300,
    height: int = 100,
    colours: tuple[tuple[int, int, int], ...] = (RED, GREEN, BLUE),
) -> Image.Image:
    """Equal vertical stripes, so the colour at the centre of a crop tells where it was."""
    image = Image.new("RGB", (width, height))
    band = width // len(colours)
    for i, colour in enumerate(colours):
        image.paste(colour, (i * band, 0, (i + 1) * band, height))
    return image


def jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


def centre(data: bytes) -> tuple[int, int, int]:
    image = jpeg(data).convert("RGB")
    pixel = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def near(actual: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) < 40 for a, e in zip(actual, expected, strict=True))


def rejects(b64: object, message: str, **kwargs: object) -> None:
    with pytest.raises(MediaError) as caught:
        process_photo(b64, None, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_jpeg_renditions_and_stored_values() -> None:
    b64 = encode(stripes(600, 400), "JPEG")
    photo = process_photo(b64, None)
    assert set(photo.jpegs) == {"original", "900", "450"}
    assert jpeg(photo.jpegs["original"]).size == (600, 400)
    assert jpeg(photo.jpegs["900"]).size == (900, 900)
    assert jpeg(photo.jpegs["450"]).size == (450, 450)
    assert all(jpeg(data).info.get("progressive") for data in photo.jpegs.values())
    assert photo.gif is None and photo.extra_exts == []
    assert photo.hash == hashlib.md5(b64.encode()).hexdigest() == photo_hash(b64)
    assert len(photo.blurhash) == 36 and blurhash.is_valid_blurhash(photo.blurhash)


def test_object_keys_follow_the_spec() -> None:
    media_id = new_media_id()
    assert len(media_id) == 64 and int(media_id, 16) >= 0
    photo = process_photo(encode(stripes(), "PNG"), None)
    assert set(photo.objects(media_id)) == {
        f"original-{media_id}.jpg",
        f"900-{media_id}.jpg",
        f"450-{media_id}.jpg",
    }
    assert photo_keys(media_id) == [
        f"original-{media_id}.jpg",
        f"900-{media_id}.jpg",
        f"450-{media_id}.jpg",
        f"{media_id}.gif",
    ]


def test_data_url_prefix_is_ignored_including_for_the_hash() -> None:
    b64 = encode(stripes(), "PNG")
    plain = process_photo(b64, None)
    prefixed = process_photo("data:image/png;base64," + b64, None)
    assert prefixed.hash == plain.hash == photo_hash("x,y," + b64)
    assert prefixed.jpegs == plain.jpegs


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIF", "BMP", "TIFF"])
def test_other_formats_are_accepted(fmt: str) -> None:
    image = stripes(150, 150, colours=(BLUE,))
    photo = process_photo(encode(image, fmt), None)
    assert near(centre(photo.jpegs["450"]), BLUE)


def test_alpha_is_discarded() -> None:
    image = Image.new("RGBA", (100, 100), (*GREEN, 0))
    photo = process_photo(encode(image, "PNG"), None)
    assert jpeg(photo.jpegs["original"]).mode == "RGB"
    assert near(centre(photo.jpegs["original"]), GREEN)


def test_animated_gif_keeps_original_bytes_and_renders_first_frame() -> None:
    frames = [Image.new("RGB", (120, 80), colour) for colour in (RED, BLUE)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    raw = out.getvalue()
    photo = process_photo(base64.b64encode(raw).decode(), None)
    assert photo.gif == raw and photo.extra_exts == ["gif"]
    assert near(centre(photo.jpegs["900"]), RED)
    media_id = new_media_id()
    assert photo.objects(media_id)[f"{media_id}.gif"] == raw


@pytest.mark.parametrize(
    ("size", "fmt", "message"),
    [
        ((801, 20), "GIF", "Image must be less than 800x800 pixels"),
        ((20, 9), "GIF", "Image must be greater than 10x10 pixels"),
        ((5001, 60), "PNG", "Image must be less than 5000x5000 pixels"),
        ((60, 49), "PNG", "Image must be greater than 50x50 pixels"),
    ],
)
def test_dimension_limits(size: tuple[int, int], fmt: str, message: str) -> None:
    rejects(encode(Image.new("RGB", size), fmt), message)


@pytest.mark.parametrize(("size", "fmt"), [((800, 10), "GIF"), ((50, 1000), "PNG")])
def test_dimension_limits_are_inclusive(size: tuple[int, int], fmt: str) -> None:
    process_photo(encode(Image.new("RGB", size), fmt), None)


def test_dimensions_are_checked_before_exif_rotation() -> None:
    image = Image.new("RGB", (5001, 60))
    exif = Image.Exif()
    exif[274] = 6
    rejects(encode(image, "JPEG", exif=exif), "Image must be less than 5000x5000 pixels")


@pytest.mark.parametrize("value", [None, 12, b"abcd", "abc"])
def test_missing_non_string_or_badly_padded_base64(value: object) -> None:
    rejects(value, BAD_BASE64)


def test_non_alphabet_characters_are_discarded() -> None:
    b64 = encode(stripes(), "PNG")
    noisy = "\n".join(b64[i : i + 60] for i in range(0, len(b64), 60)) + " é*"
    assert process_photo(noisy, None).jpegs == process_photo(b64, None).jpegs


def test_size_limit_counts_decoded_bytes() -> None:
    rejects(base64.b64encode(b"\0" * (MAX_DECODED_BYTES + 1)).decode(), TOO_BIG)
    rejects(base64.b64encode(b"\0" * MAX_DECODED_BYTES).decode(), NOT_AN_IMAGE)


def test_not_an_image_and_corrupt_image() -> None:
    rejects(base64.b64encode(b"hello, this is text").decode(), NOT_AN_IMAGE)
    whole = base64.b64decode(encode(stripes(600, 600), "JPEG"))
    truncated = whole[: len(whole) // 2]
    rejects(base64.b64encode(truncated).decode(), IMAGE_INVALID)


def test_banned_hash_is_checked_after_decoding_and_before_dimensions() -> None:
    rejects(base64.b64encode(b"not an image").decode(), NOT_AN_IMAGE, banned=True)
    rejects(encode(Image.new("RGB", (60, 10)), "PNG"), BANNED, banned=True)
    rejects(encode(stripes(), "PNG"), BANNED, banned=True)


def png_claiming(width: int, height: int) -> str:
    """A PNG whose header claims a huge size but whose pixel data is a few bytes: it must
    be rejected by dimension without ever being decoded."""
    out = io.BytesIO()
    Image.new("L", (60, 60)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return base64.b64encode(bytes(data)).decode()


@pytest.mark.parametrize(("width", "height"), [(6000, 6000), (60_000, 60_000)])
def test_huge_dimensions_are_rejected_without_decoding(width: int, height: int) -> None:
    rejects(png_claiming(width, height), "Image must be less than 5000x5000 pixels")
    rejects(png_claiming(width, height), BANNED, banned=True)


def test_small_enough_to_decode_means_decoded_in_spec_order() -> None:
    rejects(png_claiming(6000, 100), IMAGE_INVALID)


def test_crop_is_centred_by_default_and_clamped() -> None:
    b64 = encode(stripes(300, 100), "PNG")

    def crop_centre(crop: Crop | None) -> tuple[int, int, int]:
        return centre(process_photo(b64, crop).jpegs["450"])

    assert near(crop_centre(None), GREEN)
    assert near(crop_centre(Crop(top=0, left=0)), RED)
    assert near(crop_centre(Crop(top=-40, left=-40)), RED)
    assert near(crop_centre(Crop(top=999, left=200)), BLUE)
    assert near(crop_centre(Crop(top=0, left=10_000)), BLUE)
    assert near(crop_centre(Crop(top=5, left=100)), GREEN)


def test_original_is_not_cropped() -> None:
    photo = process_photo(encode(stripes(300, 100), "PNG"), Crop(top=0, left=0))
    assert jpeg(photo.jpegs["original"]).size == (300, 100)


def test_small_images_are_scaled_up() -> None:
    photo = process_photo(encode(Image.new("RGB", (60, 80), RED), "PNG"), None)
    assert jpeg(photo.jpegs["900"]).size == (900, 900)
    assert near(centre(photo.jpegs["900"]), RED)


def with_orientation(image: Image.Image, orientation: int) -> str:
    exif = Image.Exif()
    exif[274] = orientation
    return encode(image, "JPEG", exif=exif, quality=95)


@pytest.mark.parametrize(
    ("orientation", "size", "corner_colour"),
    [
        (1, (300, 100), RED),
        (2, (300, 100), RED),  # mirroring is not applied
        (3, (300, 100), BLUE),
        (4, (300, 100), RED),
        (5, (100, 300), RED),
        (6, (100, 300), RED),  # 90° clockwise: the left edge becomes the top
        (7, (100, 300), BLUE),
        (8, (100, 300), BLUE),  # 90° counter-clockwise: the right edge becomes the top
    ],
)
def test_exif_orientation(
    orientation: int, size: tuple[int, int], corner_colour: tuple[int, int, int]
) -> None:
    """The crop origin is in rotated coordinates, so crop (0, 0) shows the stripe that
    ends up at the top-left of the rotated picture."""
    photo = process_photo(with_orientation(stripes(300, 100), orientation), Crop(top=0, left=0))
    assert jpeg(photo.jpegs["original"]).size == size
    assert near(centre(photo.jpegs["450"]), corner_colour)


def test_blurhash_follows_the_crop() -> None:
    b64 = encode(stripes(300, 100), "PNG")
    left = process_photo(b64, Crop(top=0, left=0)).blurhash
    right = process_photo(b64, Crop(top=0, left=200)).blurhash
    assert left != right
    decoded = blurhash.decode(left, 8, 8)
    assert near(decoded.getpixel((4, 4)), RED)


def test_selfie_renders_only_450() -> None:
    photo = process_photo(encode(stripes(), "PNG"), None, sizes=SELFIE_SIZES, original=False)
    assert set(photo.jpegs) == {"450"}


