import datetime as dt
import json
import struct
from typing import Any

import httpx
import trio

from duo.erlang_term import decode_term
from duo.services import Services
from tests.factories import User, onboarded_user
from tests.plugins.app import bearer


async def club_count(svc: Services, name: str) -> int:
    return int(await svc.db.fetchval("SELECT count_members FROM club WHERE name = $1", name))


async def test_deactivate_hides_the_account_once(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        alice = await onboarded_user(svc, clubs=["anime"])
        await onboarded_user(svc, "Bob", clubs=["anime"])
        assert await club_count(svc, "anime") == 2

        for _ in range(2):  # the second call is a no-op: the count drops once
            r = await client.post("/deactivate", headers=bearer(alice.token))
            assert (r.status_code, r.text) == (200, "")
            assert await club_count(svc, "anime") == 1
        row = await svc.db.fetchrow(
            """SELECT p.activated, pc.activated AS club_copy
               FROM person p JOIN person_club pc ON pc.person_id = p.id WHERE p.id = $1""",
            alice.person_id,
        )
        assert dict(row) == {"activated": False, "club_copy": False}
        # the session stays valid
        r = await client.post("/check-session-token", headers=bearer(alice.token))
        assert r.status_code == 200 and r.json()["person_id"] == alice.person_id


async def test_deactivate_and_delete_need_a_signed_in_account(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        pending = await onboarded_user(svc, signed_in=False)
        for method, path in (("POST", "/deactivate"), ("DELETE", "/account"), ("GET", "/export-data-token")):
            r = await client.request(method, path, headers=bearer(pending.token))
            assert (r.status_code, r.text) == (401, "Unauthorized")
            r = await client.request(method, path)
            assert r.status_code == 400
        assert await svc.db.fetchval("SELECT activated FROM person WHERE id = $1", pending.person_id) is True
        assert await svc.db.fetchval("SELECT count(*) FROM export_data_token") == 0


async def add_chat_history(svc: Services, alice: User, bob: User) -> None:
    """Alice and Bob exchanged a shared voice message; Alice also kept a voice note of her own."""
    a, b = str(alice.uuid), str(bob.uuid)
    for owner, remote, direction in ((alice, b, "O"), (bob, a, "I")):
        await svc.db.execute(
            """INSERT INTO mam_message (id, from_jid, remote_bare_jid, direction, message, person_id, audio_uuid)
               VALUES ($1, '', $2, $3, '\\x83'::bytea, $4, 'shared-audio')""",
            (1_700_000_000_000_000 << 8) + (direction == "I"),
            remote,
            direction,
            owner.person_id,
        )
    await svc.db.execute(
        """INSERT INTO mam_message (id, from_jid, remote_bare_jid, direction, message, person_id, audio_uuid)
           VALUES (5, '', $1, 'O', '\\x83'::bytea, $2, 'own-audio')""",
        b,
        alice.person_id,
    )
    for luser, remote in ((a, b), (b, a)):
        await svc.db.execute(
            """INSERT INTO inbox (luser, remote_bare_jid, content, timestamp, unread_count)
               VALUES ($1, $2 || '@duolicious.app', ''::bytea, 1, 0)""",
            luser,
            remote,
        )
    await svc.db.execute("INSERT INTO duo_push_token (username, token) VALUES ($1, 'expo'), ($2, 'expo')", a, b)
    await svc.db.execute("INSERT INTO duo_last_notification (username) VALUES ($1), ($2)", a, b)
    await svc.db.execute(
        "INSERT INTO messaged (subject_person_id, object_person_id) VALUES ($1, $2)", alice.person_id, bob.person_id
    )


async def test_delete_account_removes_everything_and_queues_media(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        alice = await onboarded_user(svc, clubs=["anime", "chess"])
        bob = await onboarded_user(svc, "Bob", clubs=["anime"])
        await add_chat_history(svc, alice, bob)
        await svc.db.execute(
            """INSERT INTO photo (person_id, position, uuid, blurhash, hash)
               VALUES ($1, 1, 'photo-1', 'bh', 'h1'), ($1, 2, 'photo-2', 'bh', 'h2'), ($2, 1, 'bob-photo', 'bh', 'h3')""",
            alice.person_id,
            bob.person_id,
        )
        await svc.db.execute("INSERT INTO verification_job (person_id, photo_uuid) VALUES ($1, 'selfie')", alice.person_id)
        await svc.db.execute("INSERT INTO audio (person_id, position, uuid) VALUES ($1, -1, 'bio')", alice.person_id)
        second_session = await client.post("/request-otp", json={"email": alice.email})
        assert second_session.status_code == 200

        r = await client.delete("/account", headers=bearer(alice.token))
        assert r.status_code == 200, r.text
        assert r.json() == [{"person_id": alice.person_id, "person_uuid": str(alice.uuid)}]

        b = str(bob.uuid)
        assert await svc.db.fetchval("SELECT count(*) FROM person WHERE id = $1", alice.person_id) == 0
        assert await svc.db.fetchval("SELECT count(*) FROM duo_session WHERE email = $1", alice.email) == 0
        assert await svc.db.fetchval("SELECT count(*) FROM duo_session WHERE person_id = $1", bob.person_id) == 1
        assert [r["luser"] for r in await svc.db.fetch("SELECT luser FROM inbox")] == [b]
        assert [r["username"] for r in await svc.db.fetch("SELECT username FROM duo_push_token")] == [b]
        assert [r["username"] for r in await svc.db.fetch("SELECT username FROM duo_last_notification")] == [b]
        assert [r["person_id"] for r in await svc.db.fetch("SELECT person_id FROM mam_message")] == [bob.person_id]
        assert await svc.db.fetchval("SELECT count(*) FROM messaged") == 0
        queued_photos = {r["uuid"] for r in await svc.db.fetch("SELECT uuid FROM undeleted_photo")}
        assert queued_photos == {"photo-1", "photo-2", "selfie"}
        queued_audio = {r["uuid"] for r in await svc.db.fetch("SELECT uuid FROM undeleted_audio")}
        assert queued_audio == {"bio", "own-audio"}  # Bob still has the shared voice message
        assert (await club_count(svc, "anime"), await club_count(svc, "chess")) == (1, 0)

        r = await client.delete("/account", headers=bearer(alice.token))
        assert (r.status_code, r.text) == (401, "Invalid session token")


async def test_deleting_a_deactivated_account_leaves_club_counts(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        alice = await onboarded_user(svc, clubs=["anime"])
        await onboarded_user(svc, "Bob", clubs=["anime"])
        assert (await client.post("/deactivate", headers=bearer(alice.token))).status_code == 200
        assert (await client.delete("/account", headers=bearer(alice.token))).status_code == 200
        assert await club_count(svc, "anime") == 1


async def test_export_token_is_limited_to_three_a_day(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        alice = await onboarded_user(svc)
        now = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
        svc.now = lambda: now
        tokens = []
        for _ in range(3):
            r = await client.get("/export-data-token", headers=bearer(alice.token))
            assert r.status_code == 200, r.text
            assert set(r.json()) == {"token"}
            tokens.append(r.json()["token"])
        r = await client.get("/export-data-token", headers=bearer(alice.token))
        assert r.status_code == 429 and "3 per 1 day" in r.text
        rows = await svc.db.fetch("SELECT token::text, person_id, expires_at FROM export_data_token ORDER BY generated_at")
        assert sorted(r["token"] for r in rows) == sorted(tokens)
        assert {(r["person_id"], r["expires_at"]) for r in rows} == {(alice.person_id, now + dt.timedelta(minutes=10))}


def etf(term: Any) -> bytes:
    """Encode the few shapes of an archived stanza: atoms, binaries, tuples, lists."""

    def enc(t: Any) -> bytes:
        if isinstance(t, tuple) and t and t[0] == "atom":
            name = t[1].encode()
            return bytes([119, len(name)]) + name
        if isinstance(t, str):
            data = t.encode()
            return b"m" + struct.pack(">I", len(data)) + data
        if isinstance(t, tuple):
            return bytes([104, len(t)]) + b"".join(enc(x) for x in t)
        if not t:
            return b"j"
        return b"l" + struct.pack(">I", len(t)) + b"".join(enc(x) for x in t) + b"j"

    return b"\x83" + enc(term)


STANZA = (
    ("atom", "xmlel"),
    "message",
    [("from", "a@duolicious.app"), ("type", "chat")],
    [(("atom", "xmlel"), "body", [], [(("atom", "xmlcdata"), "héllo ✨")])],
)


def test_decode_term_of_an_archived_stanza() -> None:
    assert decode_term(etf(STANZA)) == [
        "xmlel", "message", [["from", "a@duolicious.app"], ["type", "chat"]],
        [["xmlel", "body", [], [["xmlcdata", "héllo ✨"]]]],
    ]
    # small integers, big integers, maps, strings, improper lists
    assert decode_term(b"\x83a\x07") == 7
    assert decode_term(b"\x83n\x02\x00\x01\x01") == 257
    assert decode_term(b"\x83t\x00\x00\x00\x01w\x01kk\x00\x02hi") == {"k": "hi"}
    assert decode_term(b"\x83l\x00\x00\x00\x01a\x01a\x02") == [1, 2]


async def test_export_data_has_every_section_with_resolved_names(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(
            svc, "Zoë", clubs=["anime"], orientation_id=3, relationship_status_id=2, has_kids_id=2,
            chats_notification=4, privacy_verification_level_id=3,
        )
        bob = await onboarded_user(svc, "Bob")
        await add_chat_history(svc, alice, bob)
        await svc.db.execute(
            "UPDATE mam_message SET message = $1 WHERE person_id = $2 AND id <> 5", etf(STANZA), alice.person_id
        )
        await svc.db.execute(
            "INSERT INTO photo (person_id, position, uuid, blurhash, hash) VALUES ($1, 1, 'abc', 'bh', 'h')",
            alice.person_id,
        )
        await svc.db.execute("INSERT INTO verification_job (person_id, photo_uuid) VALUES ($1, 'selfie')", alice.person_id)
        await svc.db.execute("INSERT INTO answer (person_id, question_id, answer, public_) VALUES ($1, 2, TRUE, FALSE)", alice.person_id)
        await svc.db.execute(
            "INSERT INTO skipped (subject_person_id, object_person_id, reported, report_reason) VALUES ($1, $2, TRUE, 'rude')",
            alice.person_id,
            bob.person_id,
        )
        await svc.db.execute(
            """INSERT INTO search_preference_answer (person_id, question_id, answer, accept_unanswered)
               VALUES ($1, 3, FALSE, TRUE)""",
            alice.person_id,
        )

        token = (await client.get("/export-data-token", headers=bearer(alice.token))).json()["token"]
        r = await client.get(f"/export-data/{token}")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/json; charset=utf-8"
        assert r.headers["content-disposition"] == "attachment; filename=export.json"
        assert r.headers["cache-control"] == "no-cache"
        assert r.text.startswith('{\n  "raw_data": {\n') and "Zo\\u00eb" in r.text
        doc = r.json()
        assert list(doc) == ["raw_data", "inferred_personality_data", "search_filters"]
        raw = doc["raw_data"]
        assert list(raw) == ["person", "photo", "answer", "verification_job", "person_club", "skipped", "messaged", "mam_message"]

        [person] = raw["person"]
        assert "id_salt" not in person
        assert (person["id"], person["uuid"], person["email"], person["name"]) == (alice.person_id, str(alice.uuid), alice.email, "Zoë")
        assert {k: person[k] for k in ("gender_name", "orientation_name", "relationship_status_name", "has_kids_name",
                                        "chats_notification_name", "intros_notification_name",
                                        "privacy_verification_level_name", "unit_name", "has_profile_picture_name")} == {
            "gender_name": "Woman", "orientation_name": "Gay", "relationship_status_name": "Single",
            "has_kids_name": "Yes", "chats_notification_name": "Weekly", "intros_notification_name": "Daily",
            "privacy_verification_level_name": "Photos", "unit_name": "Metric", "has_profile_picture_name": "Yes",
        }
        assert person["coordinates"] == "0101000020E6100000" + struct.pack("<dd", 151.2093, -33.8688).hex().upper()
        assert person["personality"].startswith("[0,0,") and person["personality"].endswith("]")
        dt.datetime.fromisoformat(person["sign_up_time"])
        assert "+" not in person["sign_up_time"] and person["date_of_birth"].count("-") == 2

        media = svc.config.media_url
        assert raw["photo"][0]["uuid"] == "abc" and raw["photo"][0]["photo_url"] == f"{media}/original-abc.jpg"
        assert raw["answer"] == [{"id": 2, "question": raw["answer"][0]["question"], "answer": True, "public_": False}]
        assert raw["verification_job"][0]["photo_url"] == f"{media}/450-selfie.jpg"
        assert [c["club_name"] for c in raw["person_club"]] == ["anime"]
        assert raw["skipped"][0]["object_person_id"] == bob.person_id and raw["skipped"][0]["report_reason"] == "rude"
        assert raw["messaged"][0]["object_person_id"] == bob.person_id
        shared, own = sorted(raw["mam_message"], key=lambda m: -m["id"])
        assert shared["timestamp"] == "2023-11-14T22:13:20+00:00"
        assert json.loads(shared["message"])[1] == "message"
        assert json.loads(shared["message"])[3][0][3] == [["xmlcdata", "héllo ✨"]]
        assert own["message"] == "\\x83"  # not a whole term: kept as hex

        me = doc["inferred_personality_data"]
        assert me["name"] == "Zoë" and me["person_id"] == person["tiny_id"]
        assert len(me["personality"]) == 46
        assert all(t["person_percentage"] is None for t in me["personality"])
        assert set(me["personality"][0]) == {"trait_name", "trait_min_label", "trait_max_label", "trait_description", "person_percentage"}

        filters = doc["search_filters"]
        assert set(filters) == {
            "answer", "gender", "orientation", "ethnicity", "age", "furthest_distance", "height",
            "has_a_profile_picture", "looking_for", "smoking", "drinking", "drugs", "long_distance",
            "relationship_status", "has_kids", "wants_kids", "exercise", "religion", "star_sign",
            "people_you_messaged", "people_you_skipped",
        }
        assert filters["answer"][0]["question_id"] == 3 and filters["answer"][0]["answer"] is False
        assert filters["has_kids"] == ["No", "Unanswered", "Yes"]
        assert filters["age"] == {"min_age": None, "max_age": None} and filters["furthest_distance"] is None
        assert (filters["people_you_messaged"], filters["people_you_skipped"]) == ("Yes", "No")

        # single use
        r = await client.get(f"/export-data/{token}")
        assert (r.status_code, r.text) == (401, "Invalid token. Link might have expired.")


async def test_export_of_a_bare_account_has_null_sections(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        alice = await onboarded_user(svc, search_preferences=False)
        token = (await client.get("/export-data-token", headers=bearer(alice.token))).json()["token"]
        raw = (await client.get(f"/export-data/{token}")).json()["raw_data"]
        assert len(raw["person"]) == 1
        assert all(raw[k] is None for k in raw if k != "person")


async def test_export_token_errors(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        alice = await onboarded_user(svc)
        token = (await client.get("/export-data-token", headers=bearer(alice.token))).json()["token"]
        for bad in ("not-a-uuid", "1234", "%3Cscript%3E"):
            r = await client.get(f"/export-data/{bad}")
            assert (r.status_code, r.text) == (400, "Invalid token. Link might have expired."), bad
        r = await client.get("/export-data/00000000-0000-0000-0000-000000000000")
        assert (r.status_code, r.text) == (401, "Invalid token. Link might have expired.")

        start = svc.now()
        svc.now = lambda: start + dt.timedelta(minutes=11)
        r = await client.get(f"/export-data/{token}")
        assert (r.status_code, r.text) == (401, "Invalid token. Link might have expired.")
        assert await svc.db.fetchval("SELECT count(*) FROM export_data_token") == 0
