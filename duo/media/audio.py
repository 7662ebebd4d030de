"""Audio transcoding for bios and voice messages (spec §11.7, chat §5.3.2).

Whatever the client sends is decoded with FFmpeg (via PyAV) and re-encoded as AAC-LC in
an ADTS stream, 128 kbit/s, 44.1 kHz mono, cut to the first 121 seconds; only that output
is ever stored.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
from av.audio.stream import AudioStream

from duo.media import MediaError, _base64

TOO_BIG = "Decoded file must be smaller than 10.0 MB"
PROCESSING_FAILED = "Error while processing audio"
VOICE_BIO_POSITION = -1  # the audio row of a voice bio; chat audio is not kept in that table

MAX_SECONDS = 121
SAMPLE_RATE = 44_100
BIT_RATE = 128_000
_MAX_SAMPLES = MAX_SECONDS * SAMPLE_RATE


def audio_key(media_id: str) -> str:
    """Object key of an audio file in the audio bucket."""
    return f"{media_id}.aac"


def process_audio(b64: object) -> bytes:
    """Decode a base64 (or data-URL) upload and transcode it; raises :class:`MediaError`."""
    data = _base64.decode(_base64.payload(b64), TOO_BIG)
    if not data:
        raise MediaError(PROCESSING_FAILED)
    try:
        out = transcode(data)
    except (av.FFmpegError, OSError, ValueError, RuntimeError, IndexError):
        raise MediaError(PROCESSING_FAILED) from None
    if not out:
        raise MediaError(PROCESSING_FAILED)
    return out


def transcode(data: bytes) -> bytes:
    """Any FFmpeg-readable audio → AAC ADTS bytes (empty if the input had no samples)."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="adts") as sink:
        stream = sink.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = BIT_RATE
        stream.codec_context.profile = "LC"
        for frame in _mono_frames(data):
            sink.mux(stream.encode(frame))
        sink.mux(stream.encode(None))
    return out.getvalue()


def _mono_frames(data: bytes) -> Iterator[av.AudioFrame]:
    """The first 121 s of the first audio stream, resampled to 44.1 kHz mono float."""
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=SAMPLE_RATE)
    emitted = 0
    with av.open(io.BytesIO(data), mode="r") as source:
        stream = source.streams.audio[0]
        for frame in _flushed(_decoded(source.demux(stream))):
            for out in resampler.resample(frame):
                keep = min(out.samples, _MAX_SAMPLES - emitted)
                if keep < out.samples:
                    out = _head(out, keep)
                out.pts = emitted
                emitted += keep
                yield out
                if emitted >= _MAX_SAMPLES:
                    return


def _decoded(packets: Iterator[av.Packet[AudioStream]]) -> Iterator[av.AudioFrame]:
    """Decode packet by packet, skipping corrupt ones as the ffmpeg command line does."""
    for packet in packets:
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            continue
        yield from frames


def _flushed(frames: Iterator[av.AudioFrame]) -> Iterator[av.AudioFrame | None]:
    """The decoded frames followed by ``None``, which flushes the resampler."""
    yield from frames
    yield None


def _head(frame: av.AudioFrame, samples: int) -> av.AudioFrame:
    """The first ``samples`` samples of a mono float-planar frame."""
    array = frame.to_ndarray()[:, :samples]
    head = av.AudioFrame.from_ndarray(array, format="fltp", layout="mono")
    head.sample_rate = frame.sample_rate
    return head
