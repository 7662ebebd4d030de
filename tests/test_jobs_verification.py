"""verificationjobrunner (scheduler.md §5.7, safety.md §12.3) against a local HTTP server speaking
OpenAI's chat-completions wire format, with the real ``openai`` client pointed at it."""

import datetime as dt
import json
import pathlib
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trio

from duo.jobs import verification
from duo.jobs.registry import scheduled_jobs
from duo.safety.verification import message
from duo.services import Services
from tests.factories import User, onboarded_user
from tests.jobs_support import NOW, with_env

PASSING = {
    "image_1_was_not_edited": 0.9, "image_1_is_photograph": 0.95, "image_1_is_not_screenshot": 0.9,
    "image_1_has_at_least_one_person": 1.0, "image_1_has_exactly_one_person": 0.9,
    "image_1_has_claimed_gender": 0.8, "image_1_has_claimed_age": 0.7, "image_1_has_claimed_minimum_age": 0.99,
    "image_1_has_smiling_person": 0.9, "image_1_has_eyebrow_touch": 0.8, "image_1_has_thumb": 1.0,
    "image_1_has_downward_thumb": 0.85,
}


class FakeOpenAI:
    """POST /v1/chat/completions: records the request, answers ``answer`` (or ``status``)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = "{}"
        self.status = 200
        self.images: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "auth": self.headers["Authorization"], "body": body})
                reply = json.dumps({
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": fake.answer}}],
                } if fake.status == 200 else {"error": {"message": "down", "type": "server_error"}}).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def do_GET(self) -> None:  # the development image server (DUO_VERIFICATION_IMAGE_BASE_URL)
                fake.images.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"jpeg")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join()


def live(svc: Services, tmp_path: pathlib.Path, fake: FakeOpenAI, **env: str) -> Services:
    return with_env(svc, tmp_path, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=fake.url, **env)


async def person_with_job(svc: Services, **columns: Any) -> tuple[User, list[str], str, int]:
    user = await onboarded_user(svc, "Ana", **columns)
    photos = [uuid.uuid4().hex * 2 for _ in range(2)]
    for position, photo in enumerate(photos, start=1):
        await svc.db.execute("INSERT INTO photo (person_id, position, uuid, blurhash, hash) VALUES ($1, $2, $3, 'b', 'h')",
                             user.person_id, position, photo)
    selfie = uuid.uuid4().hex * 2
    job_id = await svc.db.fetchval(
        "INSERT INTO verification_job (person_id, photo_uuid, status, message) VALUES ($1, $2, 'queued', $3) RETURNING id",
        user.person_id, selfie, message("V_QUEUED"))
    return user, photos, selfie, job_id


async def job(svc: Services, job_id: int) -> Any:
    return await svc.db.fetchrow("SELECT status, message, raw_json FROM verification_job WHERE id = $1", job_id)


async def test_a_passing_answer_verifies_the_person_and_matching_photos(
    svc: Services, tmp_path: pathlib.Path, openai_server: FakeOpenAI
) -> None:
    with trio.fail_after(60):
        user, photos, selfie, job_id = await person_with_job(svc, ethnicity_id=2)
        answer = {**PASSING, "image_1_has_claimed_ethnicity": 0.6, "image_1_has_person_from_image_2": 0.95,
                  "image_1_has_person_from_image_3": 0.5}
        openai_server.answer = json.dumps(answer)
        running = live(svc, tmp_path, openai_server)

        # today, so that the claimed age is the factory's 30 years
        assert await verification.iteration(running, svc.now()) == {"requeued": 0, "success": 1, "failure": 0}

        row = await job(svc, job_id)
        assert (row["status"], row["message"], row["raw_json"]) == ("success", "", openai_server.answer)
        person = await svc.db.fetchrow("SELECT * FROM person WHERE id = $1", user.person_id)
        assert person["verification_level_id"] == 3
        assert (person["verified_age"], person["verified_gender"], person["verified_ethnicity"]) == (True, True, True)
        verified = {r["uuid"]: r["verified"] for r in await svc.db.fetch("SELECT uuid, verified FROM photo")}
        assert verified == {photos[0]: True, photos[1]: False}

        [request] = openai_server.requests
        assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
        body = request["body"]
        assert body["model"] == "gpt-4.1-2025-04-14"
        assert body["response_format"] == {"type": "json_object"}
        assert (body["temperature"], body["frequency_penalty"], body["presence_penalty"], body["max_tokens"]) == (
            0.0, 0.0, 0.0, 500)
        system, user_message = body["messages"]
        assert system["role"] == "system"
        keys = [line.split(":")[0].strip() for line in system["content"].splitlines() if line.startswith("  ")]
        assert keys[:6] == ["image_1_was_not_edited", "image_1_is_photograph", "image_1_is_not_screenshot",
                            "image_1_has_at_least_one_person", "image_1_has_exactly_one_person",
                            "image_1_has_claimed_gender"]
        assert "image_1_has_claimed_ethnicity" in keys
        assert keys[-2:] == ["image_1_has_person_from_image_2", "image_1_has_person_from_image_3"]
        assert "30 years old" in system["content"]
        content = user_message["content"]
        media = svc.config.media_url
        assert content == [
            {"type": "text", "text": "Image #1:"},
            {"type": "image_url", "image_url": {"url": f"{media}/450-{selfie}.jpg", "detail": "high"}},
            {"type": "text", "text": "Image #2:"},
            {"type": "image_url", "image_url": {"url": f"{media}/450-{photos[0]}.jpg", "detail": "low"}},
            {"type": "text", "text": "Image #3:"},
            {"type": "image_url", "image_url": {"url": f"{media}/450-{photos[1]}.jpg", "detail": "low"}},
        ]


@pytest.mark.parametrize(
    ("override", "constant"),
    [({"image_1_is_photograph": 0.5}, "V_NOT_REAL"),
     ({"image_1_has_claimed_minimum_age": 0.79}, "V_AGE"),
     ({"image_1_has_downward_thumb": 0.1, "image_1_has_smiling_person": 0.1}, "V_SMILING"),
     ({"image_1_has_eyebrow_touch": "lots"}, "V_SOMETHING_WENT_WRONG")],
)
async def test_a_failing_answer_changes_nothing_but_the_job(
    svc: Services, tmp_path: pathlib.Path, openai_server: FakeOpenAI, override: dict[str, Any], constant: str
) -> None:
    with trio.fail_after(60):
        user, _, _, job_id = await person_with_job(svc)
        openai_server.answer = json.dumps({**PASSING, **override, "image_1_has_person_from_image_2": 1.0})
        assert await verification.iteration(live(svc, tmp_path, openai_server), NOW) == {
            "requeued": 0, "success": 0, "failure": 1}
        row = await job(svc, job_id)
        assert (row["status"], row["message"]) == ("failure", message(constant))
        person = await svc.db.fetchrow("SELECT verification_level_id, verified_age FROM person WHERE id = $1",
                                       user.person_id)
        assert (person["verification_level_id"], person["verified_age"]) == (1, False)
        assert await svc.db.fetchval("SELECT bool_or(verified) FROM photo") is False


async def test_no_answer_stores_null(svc: Services, tmp_path: pathlib.Path, openai_server: FakeOpenAI) -> None:
    with trio.fail_after(60):
        _, _, _, job_id = await person_with_job(svc)
        openai_server.status = 500
        await verification.iteration(live(svc, tmp_path, openai_server), NOW)
        row = await job(svc, job_id)
        assert (row["status"], row["message"], row["raw_json"]) == (
            "failure", message("V_SOMETHING_WENT_WRONG"), None)


async def test_a_stuck_job_is_queued_again(svc: Services, tmp_path: pathlib.Path, openai_server: FakeOpenAI) -> None:
    with trio.fail_after(60):
        _, _, _, job_id = await person_with_job(svc)
        _, _, _, recent_id = await person_with_job(svc, email="bo@example.com")
        await svc.db.execute("UPDATE verification_job SET status = 'running', started_at = $2 WHERE id = $1",
                             job_id, NOW - dt.timedelta(minutes=10))
        await svc.db.execute("UPDATE verification_job SET status = 'running', started_at = $2 WHERE id = $1",
                             recent_id, NOW - dt.timedelta(minutes=1))
        openai_server.answer = json.dumps(PASSING)
        counts = await verification.iteration(live(svc, tmp_path, openai_server), NOW)
        assert counts == {"requeued": 1, "success": 1, "failure": 0}
        assert (await job(svc, job_id))["status"] == "success"
        assert (await job(svc, recent_id))["status"] == "running"  # its runner may still be at it


async def test_the_mock_answer_file_replaces_the_model(svc: Services, tmp_path: pathlib.Path,
                                                       openai_server: FakeOpenAI) -> None:
    with trio.fail_after(60):
        user, _, _, job_id = await person_with_job(svc)
        mock = tmp_path / "answer.json"
        mock.write_text(json.dumps(PASSING))
        running = live(svc, tmp_path, openai_server, DUO_VERIFICATION_MOCK_RESPONSE_FILE=str(mock))
        assert "verificationjobrunner" in [j.name for j in scheduled_jobs(running.config)]
        assert "verificationjobrunner" not in [j.name for j in scheduled_jobs(svc.config)]  # nothing configured
        await verification.iteration(running, NOW)
        assert openai_server.requests == []
        assert (await job(svc, job_id))["status"] == "success"
        # no photo matched: basics only
        assert await svc.db.fetchval("SELECT verification_level_id FROM person WHERE id = $1", user.person_id) == 2


async def test_images_are_sent_inline_from_the_development_base_url(
    svc: Services, tmp_path: pathlib.Path, openai_server: FakeOpenAI
) -> None:
    with trio.fail_after(60):
        _, photos, selfie, job_id = await person_with_job(svc)
        openai_server.answer = json.dumps(PASSING)
        base = openai_server.url.removesuffix("/v1") + "/images"
        await verification.iteration(live(svc, tmp_path, openai_server, DUO_VERIFICATION_IMAGE_BASE_URL=base), NOW)
        assert openai_server.images == [f"/images/450-{p}.jpg" for p in (selfie, *photos)]
        urls = [part["image_url"]["url"] for part in openai_server.requests[0]["body"]["messages"][1]["content"]
                if part["type"] == "image_url"]
        assert urls == ["data:image/jpeg;base64,anBlZw=="] * 3
        assert (await job(svc, job_id))["status"] == "success"
