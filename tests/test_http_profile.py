import base64
import datetime as dt
import io
import json
import math
import struct
import wave
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from duo.added_text import added_text_of
from duo.services import Services
from tests.plugins.app import bearer
from tests.test_http_onboarding import BLOCKED_NAME, NEW_YORK, SYDNEY, onboard, photo, stored_keys

PROFILE_KEYS = {
    "photo", "photo_extra_exts", "photo_blurhash", "photo_verification", "audio_bio_max_seconds",
    "audio_bio", "name", "about", "gender", "orientation", "ethnicity", "location", "occupation",
    "education", "height", "looking for", "smoking", "drinking", "drugs", "long distance",
    "relationship status", "has kids", "wants kids", "exercise", "religion", "star sign", "clubs",
    "units", "chats", "intros", "verification level", "show my location", "show my age",
    "hide me from strangers", "verified_gender", "verified_age", "verified_ethnicity", "theme",
}


def wav_b64(seconds: float = 0.5) -> str:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = int(8000 * seconds)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 5))) for i in range(frames)))
    return "data:audio/wav;base64," + base64.b64encode(out.getvalue()).decode()


async def profile(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    r = await client.get("/profile-info", headers=bearer(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def patch(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> httpx.Response:
    return await client.patch("/profile-info", json=body, headers=bearer(token))


async def last_event(svc: Services) -> tuple[str, dict[str, Any]]:
    row = await svc.db.fetchrow("SELECT last_event_name, last_event_data FROM person")
    return row["last_event_name"], row["last_event_data"]


async def test_fresh_profile(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        token, _ = await onboard(client, "fresh@example.com", name="Ann", gender="Woman", photos=(photo(1, "GIF"),))
        info = await profile(client, token)
        assert set(info) == PROFILE_KEYS
        uuid = await svc.db.fetchval("SELECT uuid FROM photo")
        assert info["photo"] == {"1": uuid} and info["photo_extra_exts"] == {"1": ["gif"]}
        assert info["photo_verification"] == {"1": False} and len(info["photo_blurhash"]["1"]) == 36
        assert info | {"photo": None, "photo_extra_exts": None, "photo_blurhash": None, "photo_verification": None} == {
            "photo": None, "photo_extra_exts": None, "photo_blurhash": None, "photo_verification": None,
            "audio_bio_max_seconds": 121, "audio_bio": None, "name": "Ann", "about": "", "gender": "Woman",
            "orientation": "Unanswered", "ethnicity": "Unanswered", "location": SYDNEY, "occupation": None,
            "education": None, "height": None, "looking for": "Unanswered", "smoking": "Unanswered",
            "drinking": "Unanswered", "drugs": "Unanswered", "long distance": "Unanswered",
            "relationship status": "Unanswered", "has kids": "Unanswered", "wants kids": "Unanswered",
            "exercise": "Unanswered", "religion": "Unanswered", "star sign": "Unanswered", "clubs": [],
            "units": "Metric", "chats": "Immediately", "intros": "Daily",
            "verification level": info["verification level"], "show my location": "Yes", "show my age": "Yes",
            "hide me from strangers": "No", "verified_gender": False, "verified_age": False,
            "verified_ethnicity": False,
            "theme": {"title_color": "#000000", "body_color": "#000000", "background_color": "#ffffff"},
        }
        assert info["verification level"] in ("No verification", "Photos")
        r = await client.get("/profile-info", headers=bearer("0" * 128))
        assert r.status_code == 401


EVERY_FIELD: list[tuple[dict[str, Any], str, Any]] = [
    ({"gender": "Non-binary"}, "gender", "Non-binary"),
    ({"orientation": "Bisexual"}, "orientation", "Bisexual"),
    ({"ethnicity": "South Asian"}, "ethnicity", "South Asian"),
    ({"location": NEW_YORK}, "location", NEW_YORK),
    ({"occupation": "  Baker "}, "occupation", "Baker"),
    ({"education": "MIT"}, "education", "MIT"),
    ({"height": 184}, "height", 184),
    ({"height": "185"}, "height", 185),
    ({"looking_for": "Long-term dating"}, "looking for", "Long-term dating"),
    ({"smoking": "No"}, "smoking", "No"),
    ({"drinking": "Sometimes"}, "drinking", "Sometimes"),
    ({"drugs": "No"}, "drugs", "No"),
    ({"long_distance": "Yes"}, "long distance", "Yes"),
    ({"relationship_status": "Single"}, "relationship status", "Single"),
    ({"has_kids": "No"}, "has kids", "No"),
    ({"wants_kids": "Maybe"}, "wants kids", "Maybe"),
    ({"exercise": "Often"}, "exercise", "Often"),
    ({"religion": "Buddhist"}, "religion", "Buddhist"),
    ({"star_sign": "Sagittarius"}, "star sign", "Sagittarius"),
    ({"units": "Imperial"}, "units", "Imperial"),
    ({"chats": "Weekly"}, "chats", "Weekly"),
    ({"intros": "Never"}, "intros", "Never"),
    ({"verification_level": "Basics only"}, "verification level", "Basics only"),
    ({"show_my_location": "No"}, "show my location", "No"),
    ({"show_my_age": "nope"}, "show my age", "No"),
    ({"hide_me_from_strangers": "Yes"}, "hide me from strangers", "Yes"),
    ({"about": "  I like hiking.  "}, "about", "I like hiking."),
]


async def test_patch_every_field(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(60):
        token, _ = await onboard(client, "every@example.com")
        no_account_limit = attrs.evolve(svc.config.safety, disable_account_rate_limit=True)
        svc.config = attrs.evolve(svc.config, safety=no_account_limit)  # many calls per second here
        for body, key, expected in EVERY_FIELD:
            r = await patch(client, token, body)
            assert (r.status_code, r.text) == (200, ""), (body, r.text)
            assert (await profile(client, token))[key] == expected, body

        # gold-only fields
        theme = {"title_color": "#ABCDEF", "body_color": "#123456", "background_color": "#012345"}
        for body in ({"name": "Jeffrey"}, {"theme": theme}):
            r = await patch(client, token, body)
            assert (r.status_code, r.text) == (403, "Requires gold")
        assert (await profile(client, token))["name"] == "Jeff"
        await svc.db.execute("UPDATE person SET has_gold = TRUE")
        assert (await patch(client, token, {"name": " Jeffrey "})).status_code == 200
        assert (await patch(client, token, {"theme": theme})).status_code == 200
        info = await profile(client, token)
        assert info["name"] == "Jeffrey" and info["theme"] == theme  # case preserved

        assert await svc.db.fetchval("SELECT array_agg(trait) FROM unmoderated_person") == ["about"]

        # verification: a changed gender or ethnicity must be verified again
        await svc.db.execute("UPDATE person SET verified_gender = TRUE, verified_age = TRUE, verified_ethnicity = TRUE,"
                             " verification_level_id = 2")
        assert (await patch(client, token, {"gender": "Non-binary"})).status_code == 200  # unchanged: kept
        assert await svc.db.fetchval("SELECT verification_level_id FROM person") == 2
        assert (await patch(client, token, {"gender": "Man"})).status_code == 200
        row = await svc.db.fetchrow("SELECT verified_gender, verified_ethnicity, verification_level_id FROM person")
        assert tuple(row) == (False, True, 1)
        assert (await patch(client, token, {"ethnicity": "Other"})).status_code == 200
        assert await svc.db.fetchval("SELECT verified_ethnicity FROM person") is False

        # verification_required is sticky when moving
        await svc.db.execute(f"UPDATE location SET verification_required = TRUE WHERE long_friendly = '{SYDNEY}'")
        assert (await patch(client, token, {"location": SYDNEY})).status_code == 200
        assert (await patch(client, token, {"location": NEW_YORK})).status_code == 200
        assert await svc.db.fetchval("SELECT verification_required FROM person") is True

        start = svc.now()
        svc.now = lambda: start + dt.timedelta(days=3)
        r = await client.post("/dismiss-donation", headers=bearer(token))
        assert (r.status_code, r.text) == (200, "")
        assert await svc.db.fetchval("SELECT last_nag_time FROM person") == start + dt.timedelta(days=3)


BAD_PROFILE: list[tuple[dict[str, Any], int, str]] = [
    ({}, 400, "Exactly one value must be set"),
    ({"smoking": "No", "drugs": "No"}, 400, "Exactly one value must be set"),
    ({"smoking": None}, 400, "Field smoking must not be None"),
    ({"smoking": 3}, 400, "valid string"),
    ({"smoking": "Sometimes"}, 400, "Unknown smoking"),
    ({"has_kids": "Maybe"}, 400, "Unknown has_kids"),
    ({"gender": "Wizard"}, 400, "Unknown gender"),
    ({"location": "Atlantis"}, 400, "Unknown location"),
    ({"units": "Furlongs"}, 400, "Unknown units"),
    ({"name": BLOCKED_NAME}, 400, "Too rude"),
    ({"name": ""}, 400, "at least 1"),
    ({"occupation": "x" * 65}, 400, "at most 64"),
    ({"occupation": ""}, 400, "at least 1"),
    ({"education": BLOCKED_NAME}, 400, "Too rude"),
    ({"about": "Pay me on cashapp"}, 400, "Spam"),
    ({"about": "Add me at https://www.example.com"}, 400, "Spam"),
    ({"about": "call 555 123 4567"}, 400, "Spam"),
    ({"about": "x" * 10_001}, 400, "at most 10000"),
    ({"height": 184.5}, 400, "fractional part"),
    ({"height": 40000}, 400, "less than or equal to 32767"),
    ({"height": "tall"}, 400, "valid integer"),
    ({"theme": {"title_color": "#abcdef", "body_color": "#123456"}}, 400, "Field required"),
    ({"theme": {"title_color": "red", "body_color": "#123456", "background_color": "#012345"}}, 400, "pattern"),
    ({"photo_assignments": {}}, 400, "Must have at least one assignment"),
    ({"photo_assignments": {"1": 1}}, 400, "Item can't be assigned to itself"),
    ({"photo_assignments": {"1": 3, "2": 3}}, 400, "Many photos were assigned to one position"),
    ({"photo_assignments": {"1": 8}}, 400, "less than or equal to 7"),
    ({"photo_assignments": {"1": 2}}, 400, "Many photos were assigned to one position"),  # 2 is taken
    ({"base64_file": {"position": 3, "base64": "not base64!", "top": 0, "left": 0}}, 400, "valid base64 string"),
    ({"base64_audio_file": {}}, 400, "Field base64 must be a valid base64 string"),
    ({"base64_audio_file": {"base64": base64.b64encode(b"not audio at all").decode()}}, 400,
     "Error while processing audio"),
    ({"base64_audio_file": {"base64": base64.b64encode(b"\0" * 10_000_001).decode()}}, 400,
     "Decoded file must be smaller than 10.0 MB"),
]


@pytest.mark.parametrize(("body", "status", "message"), BAD_PROFILE)
async def test_bad_profile_input_changes_nothing(
    client: httpx.AsyncClient, svc: Services, tmp_path: Path, body: dict[str, Any], status: int, message: str
) -> None:
    with trio.fail_after(30):
        token, _ = await onboard(client, "bad@example.com", photos=(photo(1), photo(2, colour="blue")))
        await svc.db.execute("UPDATE person SET has_gold = TRUE")
        before = await profile(client, token)
        keys = stored_keys(tmp_path), stored_keys(tmp_path, "audio")
        r = await patch(client, token, body)
        assert r.status_code == status and message in r.text, r.text
        assert await profile(client, token) == before
        assert (stored_keys(tmp_path), stored_keys(tmp_path, "audio")) == keys
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_photo") == 0


async def test_validation_body_shape(client: httpx.AsyncClient) -> None:
    with trio.fail_after(30):
        token, _ = await onboard(client, "shape@example.com")
        r = await patch(client, token, {"smoking": "No", "drugs": "No"})
        assert json.loads(r.text) == [{"type": "value_error", "loc": [], "msg": "Value error, Exactly one value must be set"}]
        r = await patch(client, token, {"about": "kill yourself"})
        assert json.loads(r.text) == [{"type": "value_error", "loc": ["about"], "msg": "Value error, Too rude"}]


async def test_photos_audio_and_feed_events(client: httpx.AsyncClient, svc: Services, tmp_path: Path) -> None:
    with trio.fail_after(60):
        token, _ = await onboard(client, "media@example.com", photos=(photo(1),))
        first = await svc.db.fetchval("SELECT uuid FROM photo WHERE position = 1")

        # upload: objects stored, event recorded
        assert (await patch(client, token, photo(2, "HEIF", colour="blue"))).status_code == 200
        second = await svc.db.fetchval("SELECT uuid FROM photo WHERE position = 2")
        assert {f"original-{second}.jpg", f"900-{second}.jpg", f"450-{second}.jpg"} <= stored_keys(tmp_path)
        name, data = await last_event(svc)
        blurhash = await svc.db.fetchval("SELECT blurhash FROM photo WHERE position = 2")
        assert (name, data) == ("added-photo", {"added_photo_uuid": second, "added_photo_blurhash": blurhash,
                                                "added_photo_extra_exts": []})

        # replacing a verified photo: old one queued, verification dropped
        await svc.db.execute("UPDATE photo SET verified = TRUE WHERE position = 1")
        await svc.db.execute("UPDATE person SET verification_level_id = 3")
        assert (await patch(client, token, photo(1, "GIF", colour="green"))).status_code == 200
        replaced = await svc.db.fetchrow("SELECT uuid, verified, extra_exts FROM photo WHERE position = 1")
        assert replaced["uuid"] != first and replaced["verified"] is False and replaced["extra_exts"] == ["gif"]
        assert f"{replaced['uuid']}.gif" in stored_keys(tmp_path)
        assert await svc.db.fetchval("SELECT array_agg(uuid) FROM undeleted_photo") == [first]
        assert await svc.db.fetchval("SELECT verification_level_id FROM person") == 1

        # reorder: a swap, then a move to a free position
        assert (await patch(client, token, {"photo_assignments": {"1": 2, "2": 1}})).status_code == 200
        assert (await profile(client, token))["photo"] == {"1": second, "2": replaced["uuid"]}
        assert (await patch(client, token, {"photo_assignments": {"2": 5, "7": 6}})).status_code == 200
        assert (await profile(client, token))["photo"] == {"1": second, "5": replaced["uuid"]}

        # audio bio
        assert (await patch(client, token, {"base64_audio_file": {"base64": wav_b64()}})).status_code == 200
        audio = await svc.db.fetchval("SELECT uuid FROM audio WHERE position = -1")
        assert stored_keys(tmp_path, "audio") == {f"{audio}.aac"}
        assert (await profile(client, token))["audio_bio"] == audio
        assert await last_event(svc) == ("added-voice-bio", {"added_audio_uuid": audio})
        assert (await patch(client, token, {"base64_audio_file": {"base64": wav_b64(0.3)}})).status_code == 200
        assert await svc.db.fetchval("SELECT array_agg(uuid) FROM undeleted_audio") == [audio]

        # about text: the added sentence becomes the feed event
        await svc.db.execute("UPDATE person SET body_color = '#111111'")
        assert (await patch(client, token, {"about": "Hello there."})).status_code == 200
        assert (await patch(client, token, {"about": "Hello there. I love hiking!"})).status_code == 200
        assert await last_event(svc) == ("updated-bio", {"added_text": "Hello there. I love hiking!", "body_color": "#111111",
                                                         "background_color": "#ffffff"})
        assert (await patch(client, token, {"about": "Hello there."})).status_code == 200  # only deletes
        assert (await last_event(svc))[0] == "joined"

        # deleting: rows gone, ids queued, events that named them reset
        assert (await patch(client, token, photo(3, colour="white"))).status_code == 200
        third = await svc.db.fetchval("SELECT uuid FROM photo WHERE position = 3")
        for bad in ({"files": []}, {"files": [0]}, {"files": [1] * 8}, {"audio_files": [1]},
                    {"audio_files": [-1, -1]}, {"files": "1"}):
            r = await client.request("DELETE", "/profile-info", json=bad, headers=bearer(token))
            assert r.status_code == 400, bad
        r = await client.request("DELETE", "/profile-info", json={}, headers=bearer(token))
        assert (r.status_code, r.text) == (200, "")
        r = await client.request("DELETE", "/profile-info", json={"files": [3, 4]}, headers=bearer(token))
        assert (r.status_code, r.text) == (200, "")
        assert third in await svc.db.fetchval("SELECT array_agg(uuid) FROM undeleted_photo")
        assert (await last_event(svc))[0] == "joined"
        assert (await patch(client, token, {"base64_audio_file": {"base64": wav_b64()}})).status_code == 200
        r = await client.request("DELETE", "/profile-info", json={"files": [1, 5], "audio_files": [-1]},
                                 headers=bearer(token))
        assert r.status_code == 200
        info = await profile(client, token)
        assert info["photo"] is None and info["audio_bio"] is None
        assert await last_event(svc) == ("joined", {})
        assert await svc.db.fetchval("SELECT has_profile_picture_id FROM person") == 2
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_audio") == 3

        # sign out and back in: the profile is still there
        assert (await client.post("/sign-out", headers=bearer(token))).status_code == 200
        r = await client.post("/request-otp", json={"email": "media@example.com"})
        again = r.json()["session_token"]
        assert (await client.post("/check-otp", json={"otp": "000000"}, headers=bearer(again))).status_code == 200
        assert (await profile(client, again))["about"] == "Hello there."


async def test_onboardee_cannot_use_profile(client: httpx.AsyncClient) -> None:
    with trio.fail_after(30):
        r = await client.post("/request-otp", json={"email": "early@example.com"})
        token = r.json()["session_token"]
        await client.post("/check-otp", json={"otp": "000000"}, headers=bearer(token))
        for method, path in (("GET", "/profile-info"), ("PATCH", "/profile-info"), ("DELETE", "/profile-info"),
                             ("POST", "/dismiss-donation")):
            r = await client.request(method, path, json={"smoking": "No"}, headers=bearer(token))
            assert (r.status_code, r.text) == (401, "Unauthorized"), path


def test_added_text() -> None:
    assert added_text_of("Hello there.", "Hello there. I love hiking!") == "Hello there. I love hiking!"
    # the snippet starts at the sentence start nearest to 150 characters before the addition
    assert added_text_of("One. " * 60, "One. " * 60 + "Two!") == "One. " * 30 + "Two!"
    # cut at 300 characters: an ellipsis says there is more
    assert added_text_of("a" * 500, "Yes! " + "a" * 500) == "Yes! " + "a" * 295 + "…"
    assert added_text_of("Hello.", "Hi!\n" + "Hello.") == "Hi!\nHello."
    assert added_text_of("a b", "a   b") is None  # only whitespace added
    assert added_text_of("Hello there.", "Hello.") is None  # only deleted
