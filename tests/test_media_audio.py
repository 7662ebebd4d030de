"""Audio transcoding: formats in, AAC-LC ADTS 44.1 kHz mono out, 121 s cap, errors."""

from __future__ import annotations

import base64
import io

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream
from PIL import Image

from duo.media import MAX_DECODED_BYTES, MediaError
from duo.media.audio import (
    MAX_SECONDS,
    PROCESSING_FAILED,
    SAMPLE_RATE,
    TOO_BIG,
    audio_key,
    process_audio,
)

BAD_BASE64 = "Field base64 must be a valid base64 string"


def sine(container: str, codec: str, seconds: float, rate: int = 48_000) -> bytes:
    """A 440 Hz stereo tone encoded by FFmpeg; PyAV converts to the codec's sample format."""
    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as sink:
        stream = sink.add_stream(codec, rate=rate, layout="stereo")
        assert isinstance(stream, AudioStream)
        total = int(seconds * rate)
        for start in range(0, total, rate):
            t = np.arange(start, min(start + rate, total)) / rate
            tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(
                np.repeat(tone, 2)[None, :], format="s16", layout="stereo"
            )
            frame.sample_rate = rate
            frame.pts = start
            sink.mux(stream.encode(frame))
        sink.mux(stream.encode(None))
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def decoded_samples(aac: bytes) -> int:
    """Check the output's format and return how many samples it decodes to."""
    with av.open(io.BytesIO(aac), mode="r") as source:
        assert source.format.name == "aac"  # FFmpeg's name for the ADTS demuxer
        stream = source.streams.audio[0]
        assert stream.codec_context.name == "aac"
        assert stream.codec_context.profile == "LC"
        assert stream.rate == SAMPLE_RATE
        assert stream.layout.nb_channels == 1
        return sum(frame.samples for frame in source.decode(stream))


def rejects(value: object, message: str) -> None:
    with pytest.raises(MediaError) as caught:
        process_audio(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("container", "codec"),
    [
        ("mp3", "libmp3lame"),
        ("ogg", "libopus"),
        ("webm", "libopus"),
        ("wav", "pcm_s16le"),
        ("ipod", "aac"),  # .m4a
        ("flac", "flac"),
    ],
)
def test_formats_are_transcoded_to_aac_adts_mono(container: str, codec: str) -> None:
    aac = process_audio("data:audio/whatever;base64," + b64(sine(container, codec, 2.0)))
    samples = decoded_samples(aac)
    # Encoders add a little priming/padding; the duration must stay about 2 s.
    assert 2 * SAMPLE_RATE <= samples <= 2 * SAMPLE_RATE + 4096


def test_bit_rate_is_about_128k() -> None:
    aac = process_audio(b64(sine("wav", "pcm_s16le", 10.0, rate=22_050)))
    assert 0.8 * 128_000 <= len(aac) * 8 / 10 <= 1.2 * 128_000


def test_output_is_cut_after_121_seconds() -> None:
    aac = process_audio(b64(sine("wav", "pcm_s16le", MAX_SECONDS + 4, rate=8_000)))
    samples = decoded_samples(aac)
    assert MAX_SECONDS * SAMPLE_RATE <= samples <= MAX_SECONDS * SAMPLE_RATE + 4096


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"this is not audio at all" * 40,
        sine("ipod", "aac", 1.0)[:200],  # truncated before any audio
    ],
)
def test_undecodable_input(data: bytes) -> None:
    rejects(b64(data), PROCESSING_FAILED)


def test_image_without_audio_stream() -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, format="PNG")
    rejects(b64(out.getvalue()), PROCESSING_FAILED)


@pytest.mark.parametrize("value", [None, 3, "abc"])
def test_bad_base64(value: object) -> None:
    rejects(value, BAD_BASE64)


def test_size_limit_counts_decoded_bytes() -> None:
    rejects(b64(b"\0" * (MAX_DECODED_BYTES + 1)), TOO_BIG)


def test_audio_key() -> None:
    assert audio_key("ab" * 32) == "ab" * 32 + ".aac"


