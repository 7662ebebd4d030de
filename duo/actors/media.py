"""The media actor: photo rendering and audio transcoding in a bounded set of worker threads.

Decoding and encoding are CPU-bound; running them through one mailbox with as many
workers as cores keeps a burst of uploads from starving request handling or memory
(every job holds a decoded image), and queues the excess instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import attrs
import trio

from duo.actors.runtime import ActorFn, ActorRef, Envelope, Inbox, RestartPolicy, Supervisor
from duo.media.audio import process_audio
from duo.media.images import PROFILE_SIZES, Crop, ProcessedPhoto, process_photo

log = logging.getLogger("duo.actors.media")


@attrs.frozen
class RenderPhoto:
    b64: object
    crop: Crop | None
    banned: bool = False
    sizes: tuple[int, ...] = tuple(PROFILE_SIZES)
    original: bool = True


@attrs.frozen
class TranscodeAudio:
    b64: object


MediaJob = RenderPhoto | TranscodeAudio
MediaResult = ProcessedPhoto | bytes


def _work(job: MediaJob) -> MediaResult:
    if isinstance(job, RenderPhoto):
        return process_photo(job.b64, job.crop, banned=job.banned, sizes=job.sizes, original=job.original)
    return process_audio(job.b64)


async def _run(envelope: Envelope[MediaJob, MediaResult], limiter: trio.CapacityLimiter) -> None:
    try:
        result = await trio.to_thread.run_sync(_work, envelope.msg)
    except Exception as e:  # noqa: BLE001 - a bad upload fails its caller, never the actor
        envelope.fail(e)
    else:
        envelope.reply(result)
    finally:
        limiter.release_on_behalf_of(envelope)


def media_actor(workers: int) -> ActorFn[MediaJob, MediaResult]:
    async def media(
        inbox: Inbox[MediaJob, MediaResult], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        limiter = trio.CapacityLimiter(workers)
        async with trio.open_nursery() as nursery:
            task_status.started()
            async for envelope in inbox:
                if not envelope.is_call:
                    log.warning("media job cast without a caller: ignored")
                    continue
                # take the next job only when a worker is free: the rest wait in the mailbox
                await limiter.acquire_on_behalf_of(envelope)
                nursery.start_soon(_run, envelope, limiter)

    return media


class Media:
    """What handlers hold: typed calls to the media actor."""

    def __init__(self, ref: ActorRef[MediaJob, MediaResult], timeout: float) -> None:
        self._ref = ref
        self._timeout = timeout

    async def photo(
        self, b64: object, crop: Crop | None, *, banned: bool = False,
        sizes: Sequence[int] = PROFILE_SIZES, original: bool = True,
    ) -> ProcessedPhoto:
        """Validate and render a photo (raises ``MediaError`` for bad input)."""
        result = await self._ref.call(RenderPhoto(b64, crop, banned, tuple(sizes), original), self._timeout)
        assert isinstance(result, ProcessedPhoto)
        return result

    async def audio(self, b64: object) -> bytes:
        """Transcode an audio bio (raises ``MediaError`` for bad input)."""
        result = await self._ref.call(TranscodeAudio(b64), self._timeout)
        assert isinstance(result, bytes)
        return result


async def start_media(supervisor: Supervisor, *, workers: int | None = None, timeout: float = 300.0) -> Media:
    """Start the media actor with one worker per core by default."""
    ref = await supervisor.start(
        "media", media_actor(workers or os.cpu_count() or 2), policy=RestartPolicy(), capacity=1000
    )
    return Media(ref, timeout)
