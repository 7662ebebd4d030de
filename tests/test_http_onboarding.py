import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from PIL import Image
from pillow_heif import register_heif_opener

from duo.onboarding_defaults import (
    Newcomer,
    bisect_distance,
    count_compatible,
    default_age_range,
    furthest_distance,
)
from duo.services import Services
from tests.plugins.app import bearer

register_heif_opener()

SYDNEY = "Sydney, New South Wales, Australia"
NEW_YORK = "New York, New York, United States"
BLOCKED_NAME = "hitler"  # the display-name check refuses it


def image_b64(fmt: str, size: tuple[int, int] = (100, 100), colour: str = "red", data_url: bool = True) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    encoded = base64.b64encode(out.getvalue()).decode()
    return f"data:image/{fmt.lower()};base64,{encoded}" if data_url else encoded


def photo(position: int, fmt: str = "JPEG", **kwargs: Any) -> dict[str, Any]:
    return {"base64_file": {"position": position, "base64": image_b64(fmt, **kwargs), "top": 0, "left": 0}}


async def signed_in_token(client: httpx.AsyncClient, email: str, **extra: object) -> str:
    r = await client.post("/request-otp", json={"email": email, **extra})
    assert r.status_code == 200, r.text
    token = str(r.json()["session_token"])
    r = await client.post("/check-otp", json={"otp": "000000"}, headers=bearer(token))
    assert r.status_code == 200, r.text
    return token


async def patch_ok(client: httpx.AsyncClient, token: str, path: str, body: dict[str, Any]) -> None:
    r = await client.patch(path, json=body, headers=bearer(token))
    assert (r.status_code, r.text) == (200, ""), (body if "base64_file" not in body else "photo", r.text)


async def onboard(
    client: httpx.AsyncClient,
    email: str,
    *,
    name: str = "Jeff",
    born: str = "1990-1-1",
    location: str = SYDNEY,
    gender: str = "Man",
    wanted: tuple[str, ...] = ("Woman",),
    photos: tuple[dict[str, Any], ...] = (),
    **extra: object,
) -> tuple[str, dict[str, Any]]:
    """Sign up as the app does; returns the token and the /finish-onboarding answer."""
    token = await signed_in_token(client, email, **extra)
    for body in (
        {"name": name},
        {"date_of_birth": born},
        {"location": location},
        {"gender": gender},
        {"other_peoples_genders": list(wanted)},
        *photos,
    ):
        await patch_ok(client, token, "/onboardee-info", body)
    r = await client.post("/finish-onboarding", headers=bearer(token))
    assert r.status_code == 200, r.text
    return token, r.json()


def stored_keys(tmp_path: Path, bucket: str = "photos") -> set[str]:
    directory = tmp_path / "media" / bucket
    return {p.name for p in directory.iterdir() if not p.name.startswith(".")} if directory.exists() else set()


async def test_search_locations(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        r = await client.post("/request-otp", json={"email": "loc@example.com"})
        token = r.json()["session_token"]  # not signed in yet: the gate is any/any
        r = await client.get("/search-locations", params={"q": "  sydney  new "}, headers=bearer(token))
        assert r.status_code == 200, r.text
        names = r.json()
        assert names[0] == SYDNEY and 1 <= len(names) <= 10
        assert all(n.lower().startswith("s") for n in names)
        r = await client.get("/search-locations", params={"q": "New York"}, headers=bearer(token))
        assert NEW_YORK in r.json()[:3]
        for q in ("", "   "):
            r = await client.get("/search-locations", params={"q": q}, headers=bearer(token))
            assert r.json() == []
        assert (await client.get("/search-locations", headers=bearer(token))).json() == []
        r = await client.get("/search-locations", params={"q": "%_"}, headers=bearer(token))
        assert r.status_code == 200 and r.json() == []
        assert (await client.get("/search-locations", params={"q": "x"})).status_code == 400


async def test_sign_up_end_to_end(client: httpx.AsyncClient, svc: Services, tmp_path: Path) -> None:
    with trio.fail_after(60):
        email = "new.person@example.com"
        token = await signed_in_token(client, email)
        for body in (
            {"name": "  Jeff  "},
            {"date_of_birth": "1990-1-1"},
            {"location": SYDNEY},
            {"gender": "Man"},
            {"other_peoples_genders": ["Woman", "Man"]},
            {"other_peoples_genders": ["Woman", "Non-binary"]},  # replaces the earlier choice
            photo(1, "JPEG", colour="blue"),
            photo(2, "HEIF", size=(120, 100)),
            photo(3, "GIF", data_url=False),
        ):
            await patch_ok(client, token, "/onboardee-info", body)

        onboardee = await svc.db.fetchrow("SELECT * FROM onboardee WHERE email = $1", email)
        assert onboardee["name"] == "Jeff" and onboardee["date_of_birth"] == dt.date(1990, 1, 1)
        assert onboardee["gender_id"] == 1 and round(onboardee["latitude"]) == -34
        wanted = await svc.db.fetch("SELECT gender_id FROM onboardee_search_preference_gender ORDER BY 1")
        assert [r["gender_id"] for r in wanted] == [2, 6]
        photos = await svc.db.fetch("SELECT position, uuid, extra_exts, hash FROM onboardee_photo ORDER BY position")
        assert [p["extra_exts"] for p in photos] == [[], [], ["gif"]]
        keys = stored_keys(tmp_path)
        for p in photos:
            assert {f"original-{p['uuid']}.jpg", f"900-{p['uuid']}.jpg", f"450-{p['uuid']}.jpg"} <= keys
        assert f"{photos[2]['uuid']}.gif" in keys and f"{photos[0]['uuid']}.gif" not in keys

        # replacing position 1 queues the old object and stores the new hash
        await patch_ok(client, token, "/onboardee-info", photo(1, "PNG", colour="green"))
        new_one = await svc.db.fetchrow("SELECT uuid, hash FROM onboardee_photo WHERE position = 1")
        assert new_one["uuid"] != photos[0]["uuid"] and new_one["hash"] != photos[0]["hash"]
        assert await svc.db.fetchval("SELECT array_agg(uuid) FROM undeleted_photo") == [photos[0]["uuid"]]

        r = await client.post("/finish-onboarding", headers=bearer(token))
        assert r.status_code == 200, r.text
        summary = r.json()
        assert set(summary) == {"clubs", "do_show_donation_nag", "estimated_end_date", "name", "pending_club",
                                "person_id", "person_uuid", "units"}
        assert summary["name"] == "Jeff" and summary["units"] == "Metric" and summary["clubs"] == []
        assert summary["do_show_donation_nag"] is False and summary["pending_club"] is None
        person = await svc.db.fetchrow("SELECT * FROM person WHERE id = $1", summary["person_id"])
        assert str(person["uuid"]) == summary["person_uuid"]
        assert person["email"] == email and person["normalized_email"] == email and person["about"] == ""
        assert person["has_profile_picture_id"] == 1 and person["intros_notification"] == 2
        assert person["chats_notification"] == 1 and person["privacy_verification_level_id"] in (1, 3)
        assert person["last_event_name"] == "joined" and person["tiny_id"]
        copied = await svc.db.fetch("SELECT position, uuid, extra_exts, verified FROM photo ORDER BY position")
        assert [(p["position"], p["extra_exts"], p["verified"]) for p in copied] == [
            (1, [], False), (2, [], False), (3, ["gif"], False)]  # the GIF marker survives
        assert await svc.db.fetchval("SELECT count(*) FROM onboardee") == 0
        assert await svc.db.fetchval("SELECT person_id FROM duo_session") == summary["person_id"]
        prefs = await svc.db.fetch(
            "SELECT gender_id FROM search_preference_gender WHERE person_id = $1 ORDER BY 1", summary["person_id"])
        assert [p["gender_id"] for p in prefs] == [2, 6]
        age = await svc.db.fetchrow("SELECT min_age, max_age FROM search_preference_age")
        assert (age["min_age"], age["max_age"]) == default_age_range(
            svc.now().year - 1990 - (svc.now().date() < dt.date(svc.now().year, 1, 1)))
        assert await svc.db.fetchval("SELECT count(*) FROM search_preference_has_kids") == 3
        assert await svc.db.fetchval("SELECT count(*) FROM search_preference_wants_kids") == 4
        assert await svc.db.fetchval("SELECT count(*) FROM search_preference_orientation") == 10
        assert await svc.db.fetchval("SELECT messaged_id FROM search_preference_messaged") == 1
        assert await svc.db.fetchval("SELECT skipped_id FROM search_preference_skipped") == 2
        assert await svc.db.fetchval("SELECT distance FROM search_preference_distance") is None  # nobody else

        # the account now exists: onboarding endpoints refuse, the profile works
        for method, path in (("PATCH", "/onboardee-info"), ("POST", "/finish-onboarding"), ("DELETE", "/onboardee-info")):
            r = await client.request(method, path, json={"name": "X"}, headers=bearer(token))
            assert (r.status_code, r.text) == (401, "Unauthorized")
        r = await client.get("/profile-info", headers=bearer(token))
        assert r.status_code == 200 and r.json()["location"] == SYDNEY
        assert r.json()["photo_extra_exts"] == {"1": [], "2": [], "3": ["gif"]}

        # sign out, sign back in: the same account
        assert (await client.post("/sign-out", headers=bearer(token))).status_code == 200
        again = await signed_in_token(client, email)
        r = await client.post("/check-session-token", headers=bearer(again))
        assert r.json()["person_id"] == summary["person_id"] and r.json()["onboarded"] is True


async def test_imperial_units_and_pending_club(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        _, summary = await onboard(client, "yank@example.com", location=NEW_YORK, pending_club_name="Hiking")
        assert summary["units"] == "Imperial"
        assert summary["clubs"] == [{"count_members": -1, "name": "hiking", "search_preference": True}]
        assert summary["pending_club"] == {"count_members": 1, "name": "hiking"}
        assert await svc.db.fetchval("SELECT club_name FROM search_preference_club") == "hiking"
        assert await svc.db.fetchval("SELECT has_profile_picture_id FROM person") == 2


async def test_other_sessions_are_linked(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        first = await signed_in_token(client, "two@example.com")
        r = await client.post("/request-otp", json={"email": "two@example.com"})
        second = r.json()["session_token"]
        for body in ({"name": "Two"}, {"date_of_birth": "2000-02-29"}, {"location": SYDNEY}, {"gender": "Woman"}):
            await patch_ok(client, first, "/onboardee-info", body)
        r = await client.post("/finish-onboarding", headers=bearer(first))
        assert r.status_code == 200, r.text
        assert await svc.db.fetchval("SELECT count(*) FROM duo_session WHERE person_id IS NOT NULL") == 2
        r = await client.post("/check-otp", json={"otp": "000000"}, headers=bearer(second))
        assert r.json()["onboarded"] is True and r.json()["name"] == "Two"


BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({}, "Exactly one value must be set"),
    ({"unknown": 1}, "Exactly one value must be set"),
    ({"name": "A", "gender": "Man"}, "Exactly one value must be set"),
    ({"name": None}, "Field name must not be None"),
    ({"name": 12}, "valid string"),
    ({"name": "   "}, "at least 1"),
    ({"name": "x" * 65}, "at most 64"),
    ({"name": BLOCKED_NAME}, "Too rude"),
    ({"date_of_birth": "yesterday"}, "does not match format"),
    ({"date_of_birth": 19900101}, "valid string"),
    ({"date_of_birth": "2020-01-01"}, "Age must be 18 or up"),
    ({"location": "Atlantis, Nowhere"}, "Unknown location"),
    ({"location": ""}, "at least 1"),
    ({"location": ["Sydney"]}, "valid string"),
    ({"gender": "Wizard"}, "Unknown gender"),
    ({"gender": ""}, "at least 1"),
    ({"other_peoples_genders": []}, "at least 1"),
    ({"other_peoples_genders": ["Woman", "Wizard"]}, "Unknown gender"),
    ({"other_peoples_genders": "Woman"}, "valid list"),
    ({"other_peoples_genders": [""]}, "at least 1"),
    ({"base64_file": {"position": 1, "top": 0, "left": 0}}, "Field base64 must be a valid base64 string"),
    ({"base64_file": {"position": 1, "base64": 5, "top": 0, "left": 0}}, "valid base64 string"),
    ({"base64_file": {"position": 1, "base64": "abc", "top": 0, "left": 0}}, "valid base64 string"),
    ({"base64_file": {"position": 1, "base64": base64.b64encode(b"hello world!").decode(), "top": 0, "left": 0}},
     "not an image"),
    ({"base64_file": {"position": 8, "base64": "", "top": 0, "left": 0}}, "less than or equal to 7"),
    ({"base64_file": {"position": 1, "base64": "", "top": "x", "left": 0}}, "valid integer"),
    (photo(1, size=(40, 100)), "Image must be greater than 50x50 pixels"),
    (photo(1, size=(5001, 60)), "Image must be less than 5000x5000 pixels"),
    ({"base64_file": {"position": 1, "base64": base64.b64encode(b"\0" * 10_000_001).decode(), "top": 0, "left": 0}},
     "File must be smaller than 10.0 MB"),
]


@pytest.mark.parametrize(("body", "message"), BAD_FIELDS)
async def test_bad_onboardee_info_is_400_and_stores_nothing(
    client: httpx.AsyncClient, svc: Services, tmp_path: Path, body: dict[str, Any], message: str
) -> None:
    with trio.fail_after(30):
        token = await signed_in_token(client, "bad@example.com")
        r = await client.patch("/onboardee-info", json=body, headers=bearer(token))
        assert r.status_code == 400 and message in r.text, r.text
        if r.text.startswith("["):
            assert all(set(e) == {"type", "loc", "msg"} for e in json.loads(r.text))
        row = await svc.db.fetchrow("SELECT name, date_of_birth, latitude, gender_id FROM onboardee")
        assert tuple(row) == (None, None, None, None)
        assert await svc.db.fetchval("SELECT count(*) FROM onboardee_search_preference_gender") == 0
        assert await svc.db.fetchval("SELECT count(*) FROM onboardee_photo") == 0
        assert stored_keys(tmp_path) == set()


async def test_banned_photo_and_non_json_bodies(client: httpx.AsyncClient, svc: Services, tmp_path: Path) -> None:
    with trio.fail_after(30):
        token = await signed_in_token(client, "banned@example.com")
        body = photo(1)
        from duo.media.images import photo_hash

        await svc.db.execute("INSERT INTO banned_photo_hash (hash) VALUES ($1)", photo_hash(body["base64_file"]["base64"]))
        r = await client.patch("/onboardee-info", json=body, headers=bearer(token))
        assert r.status_code == 400 and "That pic breaks the rules" in r.json()[0]["msg"]
        assert r.json()[0]["loc"] == ["base64_file"]
        r = await client.patch("/onboardee-info", json=[{"name": "A"}], headers=bearer(token))
        assert r.status_code == 400
        r = await client.patch("/onboardee-info", content=b"name=A", headers=bearer(token))
        assert r.status_code == 400 and "Exactly one value must be set" in r.text
        assert stored_keys(tmp_path) == set()
        assert await svc.db.fetchval("SELECT name FROM onboardee") is None


async def test_storage_outage_is_500_and_queues_the_id(client: httpx.AsyncClient, svc: Services) -> None:
    from duo.media.storage import StorageError

    class Broken:
        async def put(self, bucket_kind: str, key: str, data: bytes, content_type: str | None = None) -> None:
            raise StorageError("down")

    with trio.fail_after(30):
        token = await signed_in_token(client, "outage@example.com")
        svc.storage = Broken()
        r = await client.patch("/onboardee-info", json=photo(1), headers=bearer(token))
        assert (r.status_code, r.text) == (500, "")
        assert await svc.db.fetchval("SELECT count(*) FROM onboardee_photo") == 0
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_photo") == 1


async def test_delete_onboardee_photos(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        token = await signed_in_token(client, "del@example.com")
        await patch_ok(client, token, "/onboardee-info", photo(2))
        await patch_ok(client, token, "/onboardee-info", photo(6, colour="blue"))
        uuids = dict(await svc.db.fetch("SELECT position, uuid FROM onboardee_photo"))
        for bad in ({}, {"files": None}, {"files": [0]}, {"files": [8]}, {"files": "2"}):
            r = await client.request("DELETE", "/onboardee-info", json=bad, headers=bearer(token))
            assert r.status_code == 400, bad
        r = await client.request("DELETE", "/onboardee-info", json={"files": [2, 2, 5]}, headers=bearer(token))
        assert (r.status_code, r.text) == (200, "")
        assert await svc.db.fetchval("SELECT array_agg(position) FROM onboardee_photo") == [6]
        assert await svc.db.fetchval("SELECT array_agg(uuid) FROM undeleted_photo") == [uuids[2]]
        r = await client.request("DELETE", "/onboardee-info", json={"files": []}, headers=bearer(token))
        assert r.status_code == 200


async def test_signing_in_again_restarts_onboarding(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        token = await signed_in_token(client, "again@example.com")
        await patch_ok(client, token, "/onboardee-info", {"name": "Again"})
        await patch_ok(client, token, "/onboardee-info", photo(1))
        uuid = await svc.db.fetchval("SELECT uuid FROM onboardee_photo")
        await signed_in_token(client, "again@example.com")
        assert await svc.db.fetchval("SELECT name FROM onboardee") is None
        assert await svc.db.fetchval("SELECT count(*) FROM onboardee_photo") == 0
        assert await svc.db.fetchval("SELECT array_agg(uuid) FROM undeleted_photo") == [uuid]


async def test_finish_onboarding_needs_every_field(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        token = await signed_in_token(client, "half@example.com")
        await patch_ok(client, token, "/onboardee-info", {"name": "Half"})
        r = await client.post("/finish-onboarding", headers=bearer(token))
        assert (r.status_code, r.text) == (400, "Onboarding incomplete")
        assert await svc.db.fetchval("SELECT count(*) FROM person") == 0
        r = await client.post("/request-otp", json={"email": "unsigned@example.com"})
        r = await client.patch("/onboardee-info", json={"name": "A"}, headers=bearer(r.json()["session_token"]))
        assert (r.status_code, r.text) == (401, "Unauthorized")


def test_default_age_range() -> None:
    assert default_age_range(26) == (22, 30)
    assert default_age_range(18) == (None, 20)
    assert default_age_range(20) == (None, 22)  # 17.6 rounds to 18: open-ended
    assert default_age_range(23) == (20, 26)
    assert default_age_range(80) == (66, 94)  # 65.6 → 66, 94.4 → 94
    assert default_age_range(85) == (70, None)  # 100.4 → 100: open-ended


async def test_bisection_steps() -> None:
    probes: list[float] = []

    def counter(people_at_km: list[float]) -> Any:
        async def count_at(km: float) -> int:
            probes.append(km)
            return min(4000, sum(1 for d in people_at_km if d <= km))
        return count_at

    # 2400 people 100 km away: every probe finds them all; ties go to the smaller distance
    point = await bisect_distance(counter([100.0] * 2400))
    assert probes == [5000, 2500, 3750, 3125, 2812.5]
    assert point == (2812.5, 2400) and furthest_distance(point, has_pending_club=False) == 2813
    assert furthest_distance(point, has_pending_club=True) is None

    # 3000 people 7000 km away: probes below find nobody, the sentinel is counted for real
    probes.clear()
    point = await bisect_distance(counter([7000.0] * 3000))
    assert probes == [5000] * 5 + [10000] and point == (10000, 3000)
    assert furthest_distance(point, has_pending_club=False) == 9000

    # an empty population: unlimited, not the sentinel's 9000 km
    assert furthest_distance(await bisect_distance(counter([])), has_pending_club=False) is None
    # a small population: unlimited
    assert furthest_distance(await bisect_distance(counter([10.0] * 499)), has_pending_club=False) is None


async def _seed_person(svc: Services, n: int, *, lat: float, lon: float, gender_id: int, born: dt.date,
                       wants: tuple[int, ...] = (1,), age: tuple[int | None, int | None] | None = (None, None),
                       distance: int | None = None, activated: bool = True) -> None:
    """``n`` people at one point with the given preferences."""
    ids = await svc.db.fetch(
        """INSERT INTO person (email, normalized_email, name, date_of_birth, latitude, longitude,
                               gender_id, about, unit_id, activated)
           SELECT 'seed' || g || '-' || md5(random()::text) || '@example.com', '', 'Seed', $2, $3, $4, $5, '', 2, $6
           FROM generate_series(1, $1) g RETURNING id""",
        n, born, lat, lon, gender_id, activated,
    )
    people = [r["id"] for r in ids]
    await svc.db.execute(
        "INSERT INTO search_preference_gender SELECT p, g FROM unnest($1::int[]) p, unnest($2::smallint[]) g",
        people, list(wants))
    if age is not None:
        await svc.db.execute(
            "INSERT INTO search_preference_age SELECT p, $2, $3 FROM unnest($1::int[]) p", people, *age)
    await svc.db.execute(
        "INSERT INTO search_preference_distance SELECT p, $2 FROM unnest($1::int[]) p", people, distance)


async def test_compatible_count_on_a_seeded_population(svc: Services) -> None:
    with trio.fail_after(60):
        today = dt.date(2025, 6, 1)
        born_1995 = dt.date(1995, 1, 1)  # 30 on `today`
        sydney = (-33.87, 151.21)
        newcastle = (-32.93, 151.78)  # about 117 km from Sydney
        await _seed_person(svc, 5, lat=sydney[0], lon=sydney[1], gender_id=2, born=born_1995)
        await _seed_person(svc, 4, lat=newcastle[0], lon=newcastle[1], gender_id=2, born=born_1995)
        # each group below fails exactly one rule
        await _seed_person(svc, 1, lat=sydney[0], lon=sydney[1], gender_id=3, born=born_1995)  # unwanted gender
        await _seed_person(svc, 1, lat=sydney[0], lon=sydney[1], gender_id=2, born=born_1995, wants=(2,))  # not into him
        await _seed_person(svc, 1, lat=newcastle[0], lon=newcastle[1], gender_id=2, born=born_1995, distance=50)
        await _seed_person(svc, 1, lat=sydney[0], lon=sydney[1], gender_id=2, born=dt.date(1960, 1, 1))  # too old
        await _seed_person(svc, 1, lat=sydney[0], lon=sydney[1], gender_id=2, born=born_1995, age=(40, None))
        await _seed_person(svc, 1, lat=sydney[0], lon=sydney[1], gender_id=2, born=born_1995, age=None)
        await _seed_person(svc, 1, lat=sydney[0], lon=sydney[1], gender_id=2, born=born_1995, activated=False)
        who = Newcomer(sydney[0], sydney[1], 1, 30, [2], *default_age_range(30))
        async with svc.db.connection() as conn:
            assert await count_compatible(conn, who, 50, today) == 5
            assert await count_compatible(conn, who, 200, today) == 9
            assert await count_compatible(conn, who, 10_000, today) == 9


async def test_finish_onboarding_sets_distance_from_population(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(60):
        born = dt.date(svc.now().year - 30, 1, 1)
        await _seed_person(svc, 600, lat=-33.87, lon=151.21, gender_id=2, born=born)
        _, summary = await onboard(client, "pop@example.com", born=born.isoformat())
        distance = await svc.db.fetchval(
            "SELECT distance FROM search_preference_distance WHERE person_id = $1", summary["person_id"])
        assert distance == 2813  # 600 people everywhere: the 2812.5 km probe, rounded
