"""nsfwphotorunner (scheduler.md §5.6, safety.md §8) with a small ONNX model made here: its score
is the mean of the preprocessed pixels, so white photos score ≈ 0.99 and mid-grey ones 0."""

import io
import pathlib
import uuid

import onnx
import trio
from onnx import TensorProto, helper
from PIL import Image

from duo.jobs import nsfwphotorunner
from duo.jobs.registry import scheduled_jobs
from duo.services import Services
from tests.factories import onboarded_user
from tests.jobs_support import NOW, with_env
from tests.plugins import app as app_plugin

PIXELS = nsfwphotorunner.SIDE * nsfwphotorunner.SIDE * 3


def mean_pixel_model(path: pathlib.Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=1),
         helper.make_node("Cast", ["m"], ["score"], to=TensorProto.FLOAT)],
        "mean_pixel",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["n", PIXELS])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["n", 1])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 120), colour).save(out, "JPEG", quality=95)
    return out.getvalue()


async def test_photos_are_scored_and_missing_ones_get_minus_one(svc: Services, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(60):
        model = tmp_path / "model.onnx"
        mean_pixel_model(model)
        live = with_env(svc, tmp_path, DUO_NSFW_MODEL=str(model))
        assert "nsfwphotorunner" in [job.name for job in scheduled_jobs(live.config)]
        user = await onboarded_user(svc, "Ana")
        white, grey, missing = (uuid.uuid4().hex * 2 for _ in range(3))
        await svc.storage.put("photos", f"450-{white}.jpg", jpeg((255, 255, 255)))
        await svc.storage.put("photos", f"450-{grey}.jpg", jpeg((128, 128, 128)))
        for position, photo in enumerate((white, grey, missing), start=1):
            await svc.db.execute("INSERT INTO photo (person_id, position, uuid, blurhash, hash) "
                                 "VALUES ($1, $2, $3, 'b', 'h')", user.person_id, position, photo)

        assert await nsfwphotorunner.iteration(live, NOW) == {"scored": 2, "missing": 1}

        scores = {r["uuid"]: r["nsfw_score"] for r in await svc.db.fetch("SELECT uuid, nsfw_score FROM photo")}
        assert 0.98 < scores[white] <= 1.0
        assert abs(scores[grey]) < 0.02
        assert scores[missing] == -1.0
        assert await nsfwphotorunner.iteration(live, NOW) == {"scored": 0, "missing": 0}


def test_without_a_model_the_job_is_off(tmp_path: pathlib.Path) -> None:
    config = app_plugin.test_config(tmp_path)
    assert "nsfwphotorunner" not in [job.name for job in scheduled_jobs(config)]
