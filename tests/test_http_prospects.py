import datetime as dt
import uuid

import httpx
import pytest
import trio

from duo.http import prospects
from duo.services import Services
from duo.sql import prospects as prospects_sql
from tests.factories import User, onboarded_user

PROFILE_KEYS = {
    "about", "age", "audio_bio_uuid", "count_answers", "drinking", "drugs", "education", "ethnicity",
    "exercise", "flair", "gender", "gets_reply_percentage", "gives_reply_percentage", "has_kids",
    "height_cm", "is_skipped", "location", "long_distance", "looking_for", "match_percentage",
    "mutual_clubs", "name", "occupation", "orientation", "other_clubs", "person_id", "photo_blurhashes",
    "photo_extra_exts", "photo_uuids", "photo_verifications", "relationship_status", "religion",
    "seconds_since_last_online", "seconds_since_sign_up", "smoking", "star_sign", "theme",
    "verified_age", "verified_ethnicity", "verified_gender", "wants_kids",
}


async def message(svc: Services, sender: User, recipient: User, at: dt.datetime | None = None) -> None:
    await svc.db.execute(
        "INSERT INTO messaged (subject_person_id, object_person_id, created_at) VALUES ($1, $2, $3)",
        sender.person_id, recipient.person_id, at or svc.now(),
    )


async def skip(svc: Services, subject: User, object_: User) -> None:
    await svc.db.execute(
        "INSERT INTO skipped (subject_person_id, object_person_id) VALUES ($1, $2)",
        subject.person_id, object_.person_id,
    )


async def add_photo(svc: Services, user: User, position: int, exts: list[str] | None = None) -> str:
    photo = f"{uuid.uuid4().hex}{uuid.uuid4().hex}"
    await svc.db.execute(
        """INSERT INTO photo (person_id, position, uuid, blurhash, extra_exts, hash, verified)
           VALUES ($1, $2, $3, $4, $5, 'h', $6)""",
        user.person_id, position, photo, f"blur{position}", exts or [], position == 1,
    )
    return photo


async def test_prospect_profile_fields_and_visit(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        now = svc.now()
        ana = await onboarded_user(svc, "Ana", clubs=["hiking", "jazz"])
        bo = await onboarded_user(
            svc, "Bo", gender="Man", clubs=["jazz", "anime", "board games"], about="x" * 500,
            occupation="Nurse", height_cm=180, smoking_id=3, wants_kids_id=4, has_gold=True,
            flair=["zebra", "gold"], count_answers=250, sign_up_time=now - dt.timedelta(days=40),
            last_online_time=now - dt.timedelta(seconds=90), title_color="#123456",
        )
        first = await add_photo(svc, bo, 1)
        second = await add_photo(svc, bo, 2, ["gif"])
        await svc.db.execute("INSERT INTO audio (person_id, position, uuid) VALUES ($1, -1, 'voice')", bo.person_id)

        r = await client.get(f"/prospect-profile/{str(bo.uuid).upper()}", headers=ana.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == PROFILE_KEYS
        assert body["person_id"] == bo.person_id and body["name"] == "Bo" and body["age"] == 30
        assert body["location"] == "Sydney, New South Wales, Australia"
        assert body["match_percentage"] == 50  # nobody answered anything
        assert body["gender"] == "Man" and body["smoking"] == "No" and body["wants_kids"] == "Maybe"
        assert body["orientation"] is None and body["religion"] is None
        assert (body["occupation"], body["education"], body["height_cm"]) == ("Nurse", None, 180)
        assert body["flair"] == ["gif", "gold", "long-bio", "one-month", "q-and-a-200", "voice-bio", "zebra"]
        assert body["photo_uuids"] == [first, second]
        assert body["photo_extra_exts"] == [[], ["gif"]]
        assert body["photo_blurhashes"] == ["blur1", "blur2"]
        assert body["photo_verifications"] == [True, False]
        assert body["audio_bio_uuid"] == "voice"
        assert body["mutual_clubs"] == ["jazz"] and body["other_clubs"] == ["anime", "board games"]
        assert body["theme"] == {"title_color": "#123456", "body_color": "#000000", "background_color": "#ffffff"}
        assert 89 <= body["seconds_since_last_online"] <= 120
        assert body["seconds_since_sign_up"] >= 40 * 86400
        assert body["is_skipped"] is False
        assert body["gets_reply_percentage"] is None and body["gives_reply_percentage"] is None

        visit = await svc.db.fetchrow("SELECT * FROM visited")
        assert (visit["subject_person_id"], visit["object_person_id"]) == (ana.person_id, bo.person_id)

        # own profile: shown, but self-visits are not recorded (README)
        r = await client.get(f"/prospect-profile/{ana.uuid}", headers=ana.headers)
        assert r.status_code == 200 and r.json()["name"] == "Ana"
        assert await svc.db.fetchval("SELECT count(*) FROM visited") == 1

        await svc.db.execute("UPDATE person SET show_my_age = FALSE, show_my_location = FALSE WHERE id = $1", bo.person_id)
        await skip(svc, ana, bo)
        body = (await client.get(f"/prospect-profile/{bo.uuid}", headers=ana.headers)).json()
        assert (body["age"], body["location"], body["is_skipped"]) == (None, None, True)


async def test_reply_statistics(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        now = svc.now()
        ana = await onboarded_user(svc, "Ana")
        bo = await onboarded_user(svc, "Bo", sign_up_time=now - dt.timedelta(days=3))
        others = [await onboarded_user(svc, f"X{i}") for i in range(6)]
        t0 = now - dt.timedelta(hours=5)
        for i, other in enumerate(others[:5]):  # Bo writes first to five; two of them reply
            await message(svc, bo, other, t0)
            if i < 2:
                await message(svc, other, bo, t0 + dt.timedelta(minutes=1))
        await message(svc, others[5], bo, t0)  # one intro received, replied
        await message(svc, bo, others[5], t0 + dt.timedelta(minutes=1))
        body = (await client.get(f"/prospect-profile/{bo.uuid}", headers=ana.headers)).json()
        assert body["gets_reply_percentage"] == 40.0
        assert body["gives_reply_percentage"] is None  # fewer than 5 intros received

        # the same history is not shown for someone who signed up less than a day ago
        await svc.db.execute("UPDATE person SET sign_up_time = $2 WHERE id = $1",
                             bo.person_id, now - dt.timedelta(hours=23))
        body = (await client.get(f"/prospect-profile/{bo.uuid}", headers=ana.headers)).json()
        assert body["gets_reply_percentage"] is None and body["gives_reply_percentage"] is None


async def test_reply_statistics_over_their_timeout_are_unknown(
    client: httpx.AsyncClient, svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with trio.fail_after(30):
        ana = await onboarded_user(svc, "Ana")
        bo = await onboarded_user(svc, "Bo", sign_up_time=svc.now() - dt.timedelta(days=3))
        # a statement that outlasts the timeout: cancelled on the server, the profile still shown
        monkeypatch.setattr(prospects_sql, "REPLY_STATS_SQL", "SELECT pg_sleep(30), $1::uuid")
        monkeypatch.setattr(prospects, "REPLY_STATS_TIMEOUT", 0.05)
        r = await client.get(f"/prospect-profile/{bo.uuid}", headers=ana.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["gets_reply_percentage"], r.json()["gives_reply_percentage"]) == (
            "Bo",
            None,
            None,
        )
        assert await svc.db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'") == 0


async def test_prospect_profile_visibility(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(60):
        viewer = await onboarded_user(svc, "Viewer")

        async def status(prospect: User, who: User = viewer) -> int:
            return (await client.get(f"/prospect-profile/{prospect.uuid}", headers=who.headers)).status_code

        hidden = await onboarded_user(svc, "Off", activated=False)
        assert await status(hidden) == 404

        blocker = await onboarded_user(svc, "Blocker")
        await skip(svc, blocker, viewer)
        assert await status(blocker) == 404
        assert await status(viewer, blocker) == 200  # the blocker may still look

        shy = await onboarded_user(svc, "Shy", hide_me_from_strangers=True)
        assert await status(shy) == 404
        assert await status(viewer, shy) == 200  # the viewer does not hide
        await message(svc, viewer, shy)
        assert await status(shy) == 404  # writing to them does not help
        await message(svc, shy, viewer)
        assert await status(shy) == 200

        private = await onboarded_user(svc, "Private", privacy_verification_level_id=2)
        assert await status(private) == 404
        await svc.db.execute("UPDATE person SET verification_level_id = 2 WHERE id = $1", viewer.person_id)
        assert await status(private) == 200
        strict = await onboarded_user(svc, "Strict", privacy_verification_level_id=3)
        assert await status(strict) == 404
        await message(svc, strict, viewer)
        assert await status(strict) == 200

        assert await svc.db.fetchval("SELECT count(*) FROM visited WHERE object_person_id = $1", hidden.person_id) == 0


async def test_bad_uuids_are_404(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        ana = await onboarded_user(svc, "Ana")
        for path in ("not-a-uuid", str(uuid.uuid4()), "1"):
            r = await client.get(f"/prospect-profile/{path}", headers=ana.headers)
            assert (r.status_code, r.text) == (404, ""), path
            r = await client.post(f"/skip/by-uuid/{path}", headers=ana.headers)
            assert r.status_code == 404, path
            r = await client.post(f"/skip/by-uuid/{path}", json={"report_reason": "spam"}, headers=ana.headers)
            assert r.status_code == 404, path
            r = await client.post(f"/unskip/by-uuid/{path}", headers=ana.headers)
            assert r.status_code == 200, path  # §8.2: a no-op
        for path in ("abc", "-1", "1.5"):
            r = await client.post(f"/unskip/{path}", headers=ana.headers)
            assert r.status_code == 404, path
        r = await client.post(f"/unskip/{2**40}", headers=ana.headers)
        assert r.status_code == 200
        assert await svc.db.fetchval("SELECT count(*) FROM skipped") == 0
        assert await svc.db.fetchval("SELECT count(*) FROM banned_person_admin_token") == 0
        r = await client.get(f"/prospect-profile/{ana.uuid}")
        assert r.status_code == 400


async def test_skip_and_unskip(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        ana = await onboarded_user(svc, "Ana")
        bo = await onboarded_user(svc, "Bo")
        for searcher, prospect in ((ana, bo), (bo, ana)):
            await svc.db.execute(
                """INSERT INTO search_cache (searcher_person_id, position, prospect_person_id, prospect_uuid,
                                             name, match_percentage, personality)
                   SELECT $1, 1, p.id, p.uuid, p.name, 50, p.personality FROM person p WHERE p.id = $2""",
                searcher.person_id, prospect.person_id,
            )
        r = await client.post(f"/skip/by-uuid/{bo.uuid}", headers=ana.headers)
        assert (r.status_code, r.text) == (200, "")
        row = await svc.db.fetchrow("SELECT * FROM skipped")
        assert (row["subject_person_id"], row["object_person_id"], row["reported"], row["report_reason"]) == (
            ana.person_id, bo.person_id, False, "")
        assert await svc.db.fetchval("SELECT count(*) FROM search_cache") == 0
        # the pair is mutually invisible now
        assert (await client.get(f"/prospect-profile/{ana.uuid}", headers=bo.headers)).status_code == 404

        for reason in ("", "   ", "x" * 10_001, 5):
            r = await client.post(f"/skip/by-uuid/{bo.uuid}", json={"report_reason": reason}, headers=ana.headers)
            assert r.status_code == 400, reason
        assert await svc.db.fetchval("SELECT reported FROM skipped") is False

        r = await client.post(f"/unskip/{bo.person_id}", headers=ana.headers)
        assert r.status_code == 200
        assert await svc.db.fetchval("SELECT count(*) FROM skipped") == 0
        await client.post(f"/skip/by-uuid/{bo.uuid}", headers=ana.headers)
        r = await client.post(f"/unskip/by-uuid/{bo.uuid}", headers=ana.headers)
        assert r.status_code == 200
        assert await svc.db.fetchval("SELECT count(*) FROM skipped") == 0
        assert (await client.get(f"/prospect-profile/{ana.uuid}", headers=bo.headers)).status_code == 200


async def test_inbox_info(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        me = await onboarded_user(svc, "Me")
        chat = await onboarded_user(svc, "Chat", verification_level_id=3)
        photo = await add_photo(svc, chat, 1)
        intro = await onboarded_user(svc, "Intro")
        sent = await onboarded_user(svc, "Sent")
        gone = await onboarded_user(svc, "Gone", activated=False)
        blocker = await onboarded_user(svc, "Blocker")
        blocked = await onboarded_user(svc, "Blocked")
        stranger = await onboarded_user(svc, "Stranger")
        await message(svc, chat, me)
        await message(svc, me, chat)
        await message(svc, intro, me)
        await message(svc, me, sent)
        await message(svc, gone, me)
        await message(svc, blocker, me)
        await skip(svc, blocker, me)
        await message(svc, blocked, me)
        await skip(svc, me, blocked)

        everyone = [chat, intro, sent, gone, blocker, blocked, stranger]
        r = await client.post("/inbox-info", json={"person_uuids": [str(u.uuid) for u in everyone]}, headers=me.headers)
        assert r.status_code == 200, r.text
        rows = {row["person_id"]: row for row in r.json()}
        assert [row["person_id"] for row in r.json()] == sorted(rows)
        assert stranger.person_id not in rows
        assert rows[chat.person_id] == {
            "person_id": chat.person_id, "person_uuid": str(chat.uuid), "name": "Chat", "verified": True,
            "match_percentage": 50, "image_uuid": photo, "image_blurhash": "blur1", "conversation_location": "chats",
        }
        assert rows[intro.person_id]["conversation_location"] == "intros"
        assert rows[sent.person_id]["conversation_location"] == "nowhere"
        for hidden in (gone, blocker):
            row = rows[hidden.person_id]
            assert (row["name"], row["verified"], row["match_percentage"], row["image_uuid"]) == (None, False, None, None)
            assert row["conversation_location"] == "archive"
        assert rows[blocked.person_id]["name"] == "Blocked"
        assert rows[blocked.person_id]["conversation_location"] == "archive"

        # README: only the uuids asked are answered
        r = await client.post("/inbox-info", json={"person_uuids": [str(intro.uuid)]}, headers=me.headers)
        assert [row["person_id"] for row in r.json()] == [intro.person_id]
        r = await client.post("/inbox-info", json={"person_uuids": []}, headers=me.headers)
        assert r.json() == []
        for body in ({}, {"person_uuids": None}, {"person_uuids": ["nope"]}, {"person_uuids": "x"}):
            r = await client.post("/inbox-info", json=body, headers=me.headers)
            assert r.status_code == 400, body


async def test_visitors(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(60):
        me = await onboarded_user(svc, "Me", last_visitor_check_time=svc.now() - dt.timedelta(hours=1))
        fan = await onboarded_user(svc, "Fan", gender="Man", show_my_age=False)
        photo = await add_photo(svc, fan, 1)
        private = await onboarded_user(svc, "Private", privacy_verification_level_id=3, show_my_location=False)
        await add_photo(svc, private, 1)
        old = await onboarded_user(svc, "Old")
        for visitor in (fan, private, old):
            r = await client.get(f"/prospect-profile/{me.uuid}", headers=visitor.headers)
            assert r.status_code == 200
        await svc.db.execute("UPDATE visited SET updated_at = updated_at - interval '8 days' WHERE subject_person_id = $1",
                             old.person_id)
        await svc.db.execute("UPDATE visited SET updated_at = updated_at - interval '1 minute' WHERE subject_person_id = $1",
                             fan.person_id)
        r = await client.get(f"/prospect-profile/{fan.uuid}", headers=me.headers)
        assert r.status_code == 200

        r = await client.get("/visitors", headers=me.headers)
        assert r.status_code == 200
        body = r.json()
        assert [v["name"] for v in body["visited_you"]] == ["Private", "Fan"]
        fan_item = body["visited_you"][1]
        assert fan_item == {
            "person_uuid": str(fan.uuid), "name": "Fan", "age": None, "gender": "Man",
            "location": "Sydney, New South Wales, Australia", "is_verified": False, "match_percentage": 50,
            "photo_uuid": photo, "photo_blurhash": "blur1", "time": fan_item["time"], "is_new": True,
            "verification_required_to_view": None,
        }
        private_item = body["visited_you"][0]
        assert (private_item["photo_uuid"], private_item["photo_blurhash"]) == (None, "blur1")
        assert private_item["verification_required_to_view"] == "photos" and private_item["location"] is None
        assert [(v["name"], v["is_new"]) for v in body["you_visited"]] == [("Fan", False)]

        r = await client.post("/mark-visitors-checked", headers=me.headers)
        assert r.status_code == 200
        body = (await client.get("/visitors", headers=me.headers)).json()
        assert [v["is_new"] for v in body["visited_you"]] == [False, False]

        # visibility rules, both directions
        await svc.db.execute("UPDATE person SET hide_me_from_strangers = TRUE WHERE id = $1", fan.person_id)
        body = (await client.get("/visitors", headers=me.headers)).json()
        assert [v["name"] for v in body["visited_you"]] == ["Private"] and body["you_visited"] == []
        assert [v["name"] for v in (await client.get("/visitors", headers=fan.headers)).json()["you_visited"]] == ["Me"]
        await message(svc, fan, me)
        body = (await client.get("/visitors", headers=me.headers)).json()
        assert [v["name"] for v in body["you_visited"]] == ["Fan"]

        await skip(svc, fan, me)
        body = (await client.get("/visitors", headers=me.headers)).json()
        assert body["you_visited"] == []
        fan_view = (await client.get("/visitors", headers=fan.headers)).json()
        assert fan_view["you_visited"] == []  # the skipper does not see whom they skipped ...
        await svc.db.execute("UPDATE search_preference_skipped SET skipped_id = 1 WHERE person_id = $1", fan.person_id)
        fan_view = (await client.get("/visitors", headers=fan.headers)).json()
        assert [v["name"] for v in fan_view["you_visited"]] == ["Me"]  # ... unless they ask to

        await svc.db.execute("UPDATE person SET activated = FALSE WHERE id = $1", private.person_id)
        body = (await client.get("/visitors", headers=me.headers)).json()
        assert body["visited_you"] == []
