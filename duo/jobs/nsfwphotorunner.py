"""``nsfwphotorunner`` (scheduler.md §5.6): score new photos with the configured ONNX model.

Scheduled only when ``DUO_NSFW_MODEL`` names a model file (README decision: the upstream
model is unavailable). Preprocessing and scoring follow safety.md §8: RGB, longer side
scaled to 480 px, centred on a black 480×480 canvas, float16 ``(x − 128) / 128``,
flattened; the score is the mean of the first output over the image, its horizontal and
its vertical flip. Photos that cannot be downloaded get −1.0 and are never re-scored.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import trio
from PIL import Image

from duo.jobs.bucket import download_450
from duo.jobs.job import Counts
from duo.services import Services

BATCH = 50
SIDE = 480
MISSING_SCORE = -1.0


@functools.cache
def _session(path: str) -> Any:
    import onnxruntime  # loaded only when a model is configured: it is a large library

    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])


def _prepared(data: bytes, flip: Image.Transpose | None) -> Any:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if flip is not None:
        image = image.transpose(flip)
    scale = SIDE / max(image.size)
    image = image.resize((int(image.width * scale), int(image.height * scale)), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (SIDE, SIDE))
    canvas.paste(image, ((SIDE - image.width) // 2, (SIDE - image.height) // 2))
    pixels = np.asarray(canvas).astype(np.float16)
    return ((pixels - 128) / 128).reshape(-1)


def score_images(model_path: str, images: Sequence[bytes]) -> list[float]:
    """Blocking: the mean NSFW score of each image (run it in a worker thread)."""
    session = _session(model_path)
    input_name = session.get_inputs()[0].name
    runs = []
    for flip in (None, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM):
        batch = np.stack([_prepared(data, flip) for data in images])
        output = session.run(None, {input_name: batch})[0]
        runs.append(np.asarray(output, dtype=np.float64).reshape(len(images), -1)[:, 0])
    return [float(v) for v in np.mean(runs, axis=0)]


async def iteration(svc: Services, now: dt.datetime) -> Counts:
    uuids = [r["uuid"] for r in await svc.db.fetch("SELECT uuid FROM photo WHERE nsfw_score IS NULL LIMIT $1", BATCH)]
    if not uuids:
        return {"scored": 0, "missing": 0}
    downloads = await download_450(svc.storage, uuids)
    found = [(uuid, data) for uuid, data in zip(uuids, downloads, strict=True) if data is not None]
    scores = {uuid: MISSING_SCORE for uuid, data in zip(uuids, downloads, strict=True) if data is None}
    if found:
        computed = await trio.to_thread.run_sync(score_images, svc.config.openai.nsfw_model, [d for _, d in found])
        scores.update(zip([u for u, _ in found], computed, strict=True))
    async with svc.db.transaction() as conn:
        await conn.executemany("UPDATE photo SET nsfw_score = $2 WHERE uuid = $1", list(scores.items()))
    return {"scored": len(found), "missing": len(uuids) - len(found)}
