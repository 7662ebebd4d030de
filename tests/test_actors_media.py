import base64
import io

import pytest
import trio
from PIL import Image

from duo.actors.media import Media, start_media
from duo.actors.runtime import open_supervisor
from duo.media import MediaError


def jpeg_b64(size: tuple[int, int] = (64, 64)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "JPEG")
    return base64.b64encode(buffer.getvalue()).decode()


async def test_bad_input_fails_the_call_not_the_actor(media: Media) -> None:
    with trio.fail_after(30):
        with pytest.raises(MediaError):
            await media.photo("not base64 at all!", None)
        with pytest.raises(MediaError):
            await media.audio(base64.b64encode(b"no audio here").decode())
        photo = await media.photo(jpeg_b64(), None)
        assert set(photo.objects("x")) == {"original-x.jpg", "900-x.jpg", "450-x.jpg"}


async def test_a_burst_queues_behind_one_worker_and_every_job_completes() -> None:
    with trio.fail_after(60):
        async with open_supervisor(grace=5) as supervisor:
            media = await start_media(supervisor, workers=1)
            results: list[str] = []

            async def upload() -> None:
                results.append((await media.photo(jpeg_b64(), None)).blurhash)

            async with trio.open_nursery() as nursery:
                for _ in range(8):
                    nursery.start_soon(upload)
            assert len(results) == 8 and len(set(results)) == 1
