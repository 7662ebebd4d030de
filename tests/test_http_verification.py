"""Selfie verification endpoints (http-api-social §13) against real PostgreSQL and moto S3."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from typing import Any

import attrs
import boto3
import httpx
import pytest
import trio
from PIL import Image

from duo.media.images import photo_hash
from duo.media.storage import S3Settings, S3Storage, StorageError
from duo.ratelimit import MemoryCounter
from duo.safety.verification import message
from duo.services import Services
from tests.factories import User, onboarded_user
from tests.plugins.app import bearer, serve
from tests.plugins.s3 import ACCESS_KEY_ID, ACCESS_KEY_SECRET, S3Endpoint


def image_b64(colour: str, size: tuple[int, int] = (600, 400), fmt: str = "JPEG") -> str:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def selfie(b64: str, **overrides: Any) -> dict[str, Any]:
    return {"base64_file": {"position": 1, "base64": b64, "top": 0, "left": 100} | overrides}


def bucket_keys(s3: S3Endpoint) -> set[str]:
    client = boto3.session.Session().client(
        "s3", endpoint_url=s3.url, aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=ACCESS_KEY_SECRET, region_name="us-east-1",
    )
    listing = client.list_objects_v2(Bucket=s3.photos_bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


@pytest.fixture
async def s3_svc(svc: Services, s3_endpoint: S3Endpoint) -> Services:
    storage = S3Storage(
        S3Settings(
            photos_bucket=s3_endpoint.photos_bucket, audio_bucket=s3_endpoint.audio_bucket,
            access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET,
            endpoint_url=s3_endpoint.url, region="us-east-1",
        )
    )
    return attrs.evolve(svc, storage=storage)


@pytest.fixture
async def s3_client(s3_svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(s3_svc) as http:
        yield http


async def jobs(svc: Services, user: User) -> list[dict[str, Any]]:
    rows = await svc.db.fetch(
        "SELECT status::text, message, photo_uuid, expires_at FROM verification_job WHERE person_id = $1 ORDER BY id",
        user.person_id,
    )
    return [dict(r) for r in rows]


async def undeleted(svc: Services) -> set[str]:
    return {r["uuid"] for r in await svc.db.fetch("SELECT uuid FROM undeleted_photo")}


async def test_selfie_flow(s3_client: httpx.AsyncClient, s3_svc: Services, s3_endpoint: S3Endpoint) -> None:
    with trio.fail_after(60):
        alice = await onboarded_user(s3_svc)
        r = await s3_client.get("/check-verification", headers=alice.headers)
        assert r.json() == {
            "message": None, "status": None, "verified_age": False, "verified_ethnicity": False,
            "verified_gender": False, "verified_photos": None,
        }
        # /verify without a job does nothing
        assert (await s3_client.post("/verify", headers=alice.headers)).status_code == 200
        assert await jobs(s3_svc, alice) == []

        first = image_b64("green")
        r = await s3_client.post("/verification-selfie", json=selfie(first), headers=alice.headers)
        assert (r.status_code, r.text) == (200, "")
        [job] = await jobs(s3_svc, alice)
        assert (job["status"], job["message"]) == ("uploading-photo", "Verifying")
        assert len(job["photo_uuid"]) == 64 and int(job["photo_uuid"], 16) >= 0
        assert (job["expires_at"] - s3_svc.now()).total_seconds() == pytest.approx(3 * 86400, abs=60)
        assert bucket_keys(s3_endpoint) == {f"450-{job['photo_uuid']}.jpg"}
        stored = await s3_svc.storage.get("photos", f"450-{job['photo_uuid']}.jpg")
        assert stored is not None and Image.open(io.BytesIO(stored)).size == (450, 450)
        assert await s3_svc.db.fetchval("SELECT hash FROM verification_photo_hash") == photo_hash(first)

        r = await s3_client.get("/check-verification", headers=alice.headers)
        assert (r.json()["status"], r.json()["message"]) == ("uploading-photo", "Verifying")

        r = await s3_client.post("/verify", headers=alice.headers)
        assert (r.status_code, r.text) == (200, "")
        r = await s3_client.get("/check-verification", headers=alice.headers)
        assert (r.json()["status"], r.json()["message"]) == ("queued", message("V_QUEUED"))
        assert message("V_QUEUED") == "Waiting in line for the next selfie checker."

        # a new selfie replaces the job; the old selfie is queued for deletion
        r = await s3_client.post("/verification-selfie", json=selfie(image_b64("blue")), headers=alice.headers)
        assert r.status_code == 200
        [second] = await jobs(s3_svc, alice)
        assert second["status"] == "uploading-photo" and second["photo_uuid"] != job["photo_uuid"]
        assert await undeleted(s3_svc) == {job["photo_uuid"]}

        # the first selfie again (by anyone): the current job fails, nothing is uploaded
        bob = await onboarded_user(s3_svc, "Bob")
        r = await s3_client.post("/verification-selfie", json=selfie(first), headers=bob.headers)
        assert r.status_code == 200
        assert await jobs(s3_svc, bob) == []
        r = await s3_client.post("/verification-selfie", json=selfie(first), headers=alice.headers)
        assert r.status_code == 200
        [failed] = await jobs(s3_svc, alice)
        assert (failed["status"], failed["message"], failed["photo_uuid"]) == (
            "failure", message("V_REUSED_SELFIE"), second["photo_uuid"]
        )
        assert message("V_REUSED_SELFIE") == "You can\u2019t submit the same selfie more than once."
        assert len(bucket_keys(s3_endpoint)) == 2
        # a failed job is not queued
        await s3_client.post("/verify", headers=alice.headers)
        assert (await jobs(s3_svc, alice))[0]["status"] == "failure"


async def test_check_verification_shows_flags_and_photos(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc, verified_age=True, verified_gender=True)
        for position, verified in ((1, True), (3, False)):
            await svc.db.execute(
                """INSERT INTO photo (person_id, position, uuid, blurhash, hash, verified)
                   VALUES ($1, $2, $3, 'b', 'h', $4)""",
                alice.person_id, position, f"{position:064x}", verified,
            )
        await svc.db.execute(
            """INSERT INTO verification_job (person_id, status, message, photo_uuid)
               VALUES ($1, 'success', '', 'x')""",
            alice.person_id,
        )
        r = await client.get("/check-verification", headers=alice.headers)
        assert r.status_code == 200
        assert r.json() == {
            "message": "", "status": "success", "verified_age": True, "verified_ethnicity": False,
            "verified_gender": True, "verified_photos": {"1": True, "3": False},
        }


BAD_SELFIES = [
    ({}, "missing", ["base64_file"]),
    ({"base64_file": None}, "model_type", ["base64_file"]),
    (selfie("not base64!"), "value_error", ["base64_file"]),
    (selfie(base64.b64encode(b"plain text").decode()), "value_error", ["base64_file"]),
    (selfie(image_b64("red", size=(40, 40))), "value_error", ["base64_file"]),
    (selfie(image_b64("red"), position=8), "less_than_equal", ["base64_file", "position"]),
    (selfie(image_b64("red"), top="x"), "int_parsing", ["base64_file", "top"]),
    ({"base64_file": {"position": 1, "base64": image_b64("red")}}, "missing", ["base64_file", "top"]),
]


@pytest.mark.parametrize(("body", "error_type", "loc"), BAD_SELFIES)
async def test_bad_selfies_are_400_and_change_nothing(
    client: httpx.AsyncClient, svc: Services, body: dict[str, Any], error_type: str, loc: list[str]
) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc)
        r = await client.post("/verification-selfie", json=body, headers=alice.headers)
        assert r.status_code == 400
        error = r.json()[0]
        assert (error["type"], error["loc"]) == (error_type, loc)
        assert await jobs(svc, alice) == []
        assert await svc.db.fetchval("SELECT count(*) FROM verification_photo_hash") == 0


async def test_banned_selfie_is_refused(client: httpx.AsyncClient, svc: Services, tmp_path: Any) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc)
        picture = image_b64("purple")
        await svc.db.execute("INSERT INTO banned_photo_hash (hash) VALUES ($1)", photo_hash(picture))
        r = await client.post("/verification-selfie", json=selfie(picture), headers=alice.headers)
        assert r.status_code == 400
        assert r.json() == [{"type": "value_error", "loc": ["base64_file"], "msg": "Value error, That pic breaks the rules 🙈"}]
        assert await jobs(svc, alice) == []
        assert not (tmp_path / "media" / "photos").exists() or not any((tmp_path / "media" / "photos").iterdir())


async def test_storage_outage_is_500_and_records_nothing(client: httpx.AsyncClient, svc: Services) -> None:
    class Broken:
        async def put(self, bucket_kind: str, key: str, data: bytes, content_type: str | None = None) -> None:
            raise StorageError("down")

    with trio.fail_after(30):
        alice = await onboarded_user(svc)
        svc.storage = Broken()  # type: ignore[assignment]
        r = await client.post("/verification-selfie", json=selfie(image_b64("teal")), headers=alice.headers)
        assert (r.status_code, r.text) == (500, "")
        assert await jobs(svc, alice) == []
        # the hash is not recorded, so the same selfie can be sent again
        assert await svc.db.fetchval("SELECT count(*) FROM verification_photo_hash") == 0
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_photo") == 1


async def test_gates_and_the_daily_verify_limit(svc: Services) -> None:
    with trio.fail_after(30):
        limited = attrs.evolve(svc, counter=MemoryCounter(clock=lambda: 0.0))
        alice = await onboarded_user(svc)
        pending = await onboarded_user(svc, "Pending", signed_in=False)
        async with serve(limited) as client:
            for method, path in (("POST", "/verification-selfie"), ("POST", "/verify"), ("GET", "/check-verification")):
                r = await client.request(method, path)
                assert (r.status_code, r.text) == (400, "Missing or malformed authorization header")
                r = await client.request(method, path, headers=bearer(pending.token))
                assert (r.status_code, r.text) == (401, "Unauthorized")
            for _ in range(8):
                assert (await client.post("/verify", headers=alice.headers)).status_code == 200
            r = await client.post("/verify", headers=alice.headers)
            assert r.status_code == 429 and "8 per 1 day" in r.text


async def test_a_gif_selfie_keeps_only_its_jpeg(client: httpx.AsyncClient, svc: Services, tmp_path: Any) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc)
        gif = image_b64("yellow", size=(300, 200), fmt="GIF")
        r = await client.post("/verification-selfie", json=selfie(gif), headers=alice.headers)
        assert (r.status_code, r.text) == (200, "")
        [job] = await jobs(svc, alice)
        assert {p.name for p in (tmp_path / "media" / "photos").iterdir()} == {f"450-{job['photo_uuid']}.jpg"}
