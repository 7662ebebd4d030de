"""Migration 0001 and the reference-data seed, against the real embedded PostgreSQL."""

from __future__ import annotations

import json
import math
from importlib import resources

import trio

from duo.sql.database import Database
from duo.sql.seed import load_questions, seed_reference_data

# Every table of data-model.md with its columns (person's lat/lon replace the PostGIS point:
# `coordinates` is now a core point derived from them).
EXPECTED_COLUMNS: dict[str, set[str]] = {
    "person": {
        "id",
        "id_salt",
        "tiny_id",
        "uuid",
        "email",
        "normalized_email",
        "name",
        "date_of_birth",
        "latitude",
        "longitude",
        "coordinates",
        "gender_id",
        "about",
        "personality",
        "presence_score",
        "absence_score",
        "count_answers",
        "has_profile_picture_id",
        "verification_level_id",
        "verified_age",
        "verified_gender",
        "verified_ethnicity",
        "verification_required",
        "orientation_id",
        "ethnicity_id",
        "occupation",
        "education",
        "height_cm",
        "looking_for_id",
        "smoking_id",
        "drinking_id",
        "drugs_id",
        "long_distance_id",
        "relationship_status_id",
        "has_kids_id",
        "wants_kids_id",
        "exercise_id",
        "religion_id",
        "star_sign_id",
        "title_color",
        "body_color",
        "background_color",
        "unit_id",
        "chats_notification",
        "intros_notification",
        "show_my_location",
        "show_my_age",
        "hide_me_from_strangers",
        "privacy_verification_level_id",
        "sign_up_time",
        "sign_in_count",
        "sign_in_time",
        "last_nag_time",
        "last_online_time",
        "last_visitor_check_time",
        "activated",
        "last_event_time",
        "last_event_name",
        "last_event_data",
        "flair",
        "roles",
        "has_gold",
    },
    "unmoderated_person": {"person_id", "trait"},
    "onboardee": {
        "email",
        "name",
        "date_of_birth",
        "latitude",
        "longitude",
        "coordinates",
        "gender_id",
        "about",
        "created_at",
    },
    "onboardee_search_preference_gender": {"email", "gender_id"},
    "onboardee_photo": {"email", "position", "uuid", "blurhash", "extra_exts", "hash"},
    "duo_session": {
        "session_token_hash",
        "person_id",
        "email",
        "pending_club_name",
        "otp",
        "ip_address",
        "signed_in",
        "session_expiry",
        "otp_expiry",
    },
    "banned_person": {
        "normalized_email",
        "ip_address",
        "banned_at",
        "expires_at",
        "report_reasons",
    },
    "banned_person_admin_token": {"token", "person_id", "generated_at", "expires_at"},
    "deleted_photo_admin_token": {"token", "photo_uuid", "generated_at", "expires_at"},
    "export_data_token": {"token", "person_id", "generated_at", "expires_at"},
    "funding": {"id", "estimated_end_date", "cost_per_month_usd", "token_hash_revenuecat"},
    "photo": {
        "person_id",
        "position",
        "uuid",
        "blurhash",
        "verified",
        "nsfw_score",
        "extra_exts",
        "hash",
    },
    "undeleted_photo": {"uuid"},
    "banned_photo_hash": {"hash"},
    "audio": {"person_id", "position", "uuid"},
    "undeleted_audio": {"uuid"},
    "question": {
        "id",
        "question",
        "topic",
        "presence_given_yes",
        "presence_given_no",
        "absence_given_yes",
        "absence_given_no",
        "count_yes",
        "count_no",
    },
    "answer": {"person_id", "question_id", "answer", "public_"},
    "trait": {"id", "name", "description", "min_label", "max_label"},
    "trait_topic": {"trait_id", "name"},
    "verification_job": {
        "id",
        "person_id",
        "status",
        "message",
        "photo_uuid",
        "raw_json",
        "expires_at",
        "started_at",  # when the job runner took the job
    },
    "verification_photo_hash": {"hash"},
    "club": {"name", "count_members"},
    "person_club": {
        "person_id",
        "club_name",
        "activated",
        "latitude",
        "longitude",
        "coordinates",
        "gender_id",
    },
    "banned_club": {"name"},
    "search_preference_answer": {"person_id", "question_id", "answer", "accept_unanswered"},
    "search_preference_gender": {"person_id", "gender_id"},
    "search_preference_orientation": {"person_id", "orientation_id"},
    "search_preference_ethnicity": {"person_id", "ethnicity_id"},
    "search_preference_age": {"person_id", "min_age", "max_age"},
    "search_preference_distance": {"person_id", "distance"},
    "search_preference_height_cm": {"person_id", "min_height_cm", "max_height_cm"},
    "search_preference_has_profile_picture": {"person_id", "has_profile_picture_id"},
    "search_preference_looking_for": {"person_id", "looking_for_id"},
    "search_preference_smoking": {"person_id", "smoking_id"},
    "search_preference_drinking": {"person_id", "drinking_id"},
    "search_preference_drugs": {"person_id", "drugs_id"},
    "search_preference_long_distance": {"person_id", "long_distance_id"},
    "search_preference_relationship_status": {"person_id", "relationship_status_id"},
    "search_preference_has_kids": {"person_id", "has_kids_id"},
    "search_preference_wants_kids": {"person_id", "wants_kids_id"},
    "search_preference_exercise": {"person_id", "exercise_id"},
    "search_preference_religion": {"person_id", "religion_id"},
    "search_preference_star_sign": {"person_id", "star_sign_id"},
    "search_preference_club": {"person_id", "club_name"},
    "search_preference_messaged": {"person_id", "messaged_id"},
    "search_preference_skipped": {"person_id", "skipped_id", "created_at"},
    "messaged": {"subject_person_id", "object_person_id", "created_at"},
    "skipped": {"subject_person_id", "object_person_id", "reported", "report_reason", "created_at"},
    "visited": {"subject_person_id", "object_person_id", "updated_at"},
    "search_cache": {
        "searcher_person_id",
        "position",
        "prospect_person_id",
        "prospect_uuid",
        "profile_photo_uuid",
        "profile_photo_blurhash",
        "verified",
        "name",
        "age",
        "match_percentage",
        "personality",
    },
    "mam_message": {
        "id",
        "from_jid",
        "remote_bare_jid",
        "direction",
        "message",
        "search_body",
        "person_id",
        "audio_uuid",
    },
    "inbox": {"luser", "remote_bare_jid", "msg_id", "box", "content", "timestamp", "unread_count"},
    "intro_hash": {"hash", "last_used_at"},
    "duo_last_notification": {"username", "intro_seconds", "chat_seconds"},
    "duo_push_token": {"username", "token"},
    "rude_message": {"person_id", "created_at", "message"},
    "location": {
        "id",
        "short_friendly",
        "long_friendly",
        "city",
        "subdivision",
        "country",
        "latitude",
        "longitude",
        "coordinates",
        "verification_required",
    },
    "good_email_domain": {"domain"},
    "bad_email_domain": {"domain"},
}

LOOKUPS: dict[str, list[str]] = {
    "verification_level": ["No verification", "Basics only", "Photos"],
    "gender": [
        "Man",
        "Woman",
        "Agender",
        "Femboy",
        "Intersex",
        "Non-binary",
        "Transgender",
        "Trans woman",
        "Trans man",
        "Other",
    ],
    "orientation": [
        "Unanswered",
        "Straight",
        "Gay",
        "Lesbian",
        "Bisexual",
        "Asexual",
        "Demisexual",
        "Pansexual",
        "Queer",
        "Other",
    ],
    "ethnicity": [
        "Unanswered",
        "Black/African Descent",
        "East Asian",
        "Hispanic/Latino",
        "Middle Eastern",
        "Native American",
        "Pacific Islander",
        "South Asian",
        "Southeast Asian",
        "White/Caucasian",
        "Other",
    ],
    "looking_for": ["Unanswered", "Friends", "Short-term dating", "Long-term dating", "Marriage"],
    "relationship_status": [
        "Unanswered",
        "Single",
        "Seeing someone",
        "Engaged",
        "Married",
        "Divorced",
        "Widowed",
        "Other",
    ],
    "religion": [
        "Unanswered",
        "Agnostic",
        "Atheist",
        "Buddhist",
        "Christian",
        "Hindu",
        "Jewish",
        "Muslim",
        "Zoroastrian",
        "Other",
    ],
    "star_sign": [
        "Unanswered",
        "Aquarius",
        "Aries",
        "Cancer",
        "Capricorn",
        "Gemini",
        "Leo",
        "Libra",
        "Pisces",
        "Sagittarius",
        "Scorpio",
        "Taurus",
        "Virgo",
    ],
    "unit": ["Imperial", "Metric"],
    "immediacy": ["Immediately", "Daily", "Every 3 days", "Weekly", "Never"],
    "frequency": ["Unanswered", "Often", "Sometimes", "Never"],
    "yes_no": ["Yes", "No"],
    "yes_no_optional": ["Unanswered", "Yes", "No"],
    "yes_no_maybe": ["Unanswered", "Yes", "No", "Maybe"],
}

SYDNEY = (-33.86785, 151.20732)


async def _columns(db: Database) -> dict[str, set[str]]:
    rows = await db.fetch(
        """SELECT table_name, column_name FROM information_schema.columns
           WHERE table_schema = 'public'"""
    )
    result: dict[str, set[str]] = {}
    for r in rows:
        result.setdefault(r["table_name"], set()).add(r["column_name"])
    return result


async def _snapshot(db: Database) -> dict[str, object]:
    tables = [
        "trait",
        "trait_topic",
        "question",
        "location",
        "good_email_domain",
        "bad_email_domain",
        "banned_club",
        "funding",
        "duo_seed_state",
        *LOOKUPS,
    ]
    snap: dict[str, object] = {}
    for table in tables:
        rows = await db.fetch(f"SELECT * FROM {table} ORDER BY 1")
        snap[table] = [tuple(r.values()) for r in rows]
    return snap


async def _insert_person(
    db: Database, email: str, lat: float, lon: float, gender_id: int = 1
) -> int:
    person_id: int = await db.fetchval(
        """INSERT INTO person (email, normalized_email, name, date_of_birth, latitude, longitude,
                               gender_id, about, unit_id)
           VALUES ($1, $1, 'Test', '1990-01-01', $2, $3, $4, '', 2) RETURNING id""",
        email,
        lat,
        lon,
        gender_id,
    )
    return person_id


async def test_every_table_has_its_columns(db: Database) -> None:
    with trio.fail_after(30):
        columns = await _columns(db)
        for table, expected in EXPECTED_COLUMNS.items():
            assert table in columns, table
            assert columns[table] == expected, (table, columns[table] ^ expected)
        for table in LOOKUPS:
            assert columns[table] == {"id", "name"}


async def test_types_and_key_constraints(db: Database) -> None:
    with trio.fail_after(30):
        types = {
            (r["table_name"], r["column_name"]): r["udt_name"]
            for r in await db.fetch(
                "SELECT table_name, column_name, udt_name FROM information_schema.columns "
                "WHERE table_schema = 'public'"
            )
        }
        assert types[("person", "personality")] == "vector"
        assert types[("person", "coordinates")] == "point"
        assert types[("person", "latitude")] == "float8"
        assert types[("person", "sign_up_time")] == "timestamptz"
        assert types[("mam_message", "direction")] == "mam_direction"
        assert types[("verification_job", "status")] == "verification_job_status"
        assert types[("person", "last_event_name")] == "person_event"
        assert (
            await db.fetchval("SELECT relpersistence FROM pg_class WHERE relname = 'search_cache'")
            == b"u"
        )
        extensions = {r["extname"] for r in await db.fetch("SELECT extname FROM pg_extension")}
        assert extensions == {"plpgsql", "vector"}
        enum = [
            r["v"]
            for r in await db.fetch("SELECT unnest(enum_range(NULL::person_event))::TEXT AS v")
        ]
        assert enum == [
            "added-photo",
            "added-voice-bio",
            "joined",
            "updated-bio",
            "was-recently-online",
            "recently-online-with-photo",
            "recently-online-with-voice-bio",
            "recently-online-with-bio",
        ]
        # person.uuid is unique (README decision)
        a = await _insert_person(db, "a@example.com", *SYDNEY)
        uuid = await db.fetchval("SELECT uuid FROM person WHERE id = $1", a)
        b = await _insert_person(db, "b@example.com", *SYDNEY)
        try:
            await db.execute("UPDATE person SET uuid = $1 WHERE id = $2", uuid, b)
            raise AssertionError("duplicate uuid accepted")
        except Exception as e:  # asyncpg.UniqueViolationError
            assert "unique" in str(e).lower() or "duplicate" in str(e).lower()
        # the check constraints named as upstream
        assert (
            await db.fetchval(
                "SELECT count(*) FROM pg_constraint WHERE conname = 'name' AND contype = 'c'"
            )
            == 1
        )
        assert (
            await db.fetchval(
                "SELECT count(*) FROM pg_constraint WHERE conname = 'id' AND contype = 'c'"
            )
            == 1
        )


async def test_lookup_ids_and_names(db: Database) -> None:
    with trio.fail_after(30):
        for table, names in LOOKUPS.items():
            rows = await db.fetch(f"SELECT id, name FROM {table} ORDER BY id")
            assert [(r["id"], r["name"]) for r in rows] == list(enumerate(names, start=1)), table
        funding = await db.fetchrow("SELECT * FROM funding")
        assert funding is not None and funding["id"] == 1
        assert funding["cost_per_month_usd"] == 360.0 and funding["token_hash_revenuecat"] == ""


async def test_questions_seeded_in_file_order(db: Database) -> None:
    with trio.fail_after(30):
        lines = (
            resources.files("duo.data").joinpath("questions.txt").read_text("utf-8").splitlines()
        )
        assert len(lines) == 2005
        rows = await db.fetch(
            "SELECT id, question, topic, presence_given_yes FROM question ORDER BY id"
        )
        assert len(rows) == 2005 == len(load_questions())
        assert [r["question"] for r in rows] == lines
        assert rows[0]["id"] == 1 and rows[0]["topic"] == "Interpersonal"
        assert rows[0]["question"] == "Would you date a robot if they had a great personality?"
        assert (rows[1]["topic"], rows[2]["topic"]) == ("Values", "Other")
        counts = {
            r["topic"]: r["n"]
            for r in await db.fetch("SELECT topic, count(*) AS n FROM question GROUP BY topic")
        }
        assert counts == {"Interpersonal": 884, "Values": 612, "Other": 433, "Sex": 76}
        # every question carries the generated trait scores, one per trait
        assert all(len(r["presence_given_yes"]) == 46 for r in rows)


async def test_traits_and_topics(db: Database) -> None:
    with trio.fail_after(30):
        data = json.loads(resources.files("duo.data").joinpath("traits.json").read_text("utf-8"))
        rows = await db.fetch("SELECT * FROM trait ORDER BY id")
        assert len(rows) == 46 == len(data)
        for row, raw in zip(rows, data, strict=True):
            assert (
                row["id"],
                row["name"],
                row["description"],
                row["min_label"],
                row["max_label"],
            ) == (raw["id"], raw["name"], raw["description"], raw["min_label"], raw["max_label"])
        topics: dict[str, list[int]] = {}
        for r in await db.fetch("SELECT trait_id, name FROM trait_topic ORDER BY trait_id"):
            topics.setdefault(r["name"], []).append(r["trait_id"])
        assert sorted(topics["MBTI"]) == [20, 22, 38, 41]
        assert sorted(topics["Big 5"]) == [1, 4, 5, 20, 28]
        assert topics["Attachment Style"] == [2, 3]
        assert sorted(topics["Politics"]) == [11, 13, 19, 21, 23, 27, 35]
        # README decision: attachment traits are not also in Other
        assert 2 not in topics["Other"] and 3 not in topics["Other"]
        assert len(topics["Other"]) == 29


async def test_lists_seeded(db: Database) -> None:
    with trio.fail_after(30):
        assert await db.fetchval("SELECT count(*) FROM good_email_domain") == 10527
        assert await db.fetchval("SELECT count(*) FROM bad_email_domain") == 352
        assert await db.fetchval("SELECT count(*) FROM banned_club") == 3337
        assert await db.fetchval("SELECT 1 FROM bad_email_domain WHERE domain = 'mailinator.com'")


async def test_locations(db: Database) -> None:
    with trio.fail_after(30):
        n = await db.fetchval("SELECT count(*) FROM location")
        assert n > 30000
        for name, country in [
            ("Sydney, New South Wales, Australia", "Australia"),
            ("New York, New York, United States", "United States"),
            ("London, England, United Kingdom", "United Kingdom"),
        ]:
            row = await db.fetchrow("SELECT * FROM location WHERE long_friendly = $1", name)
            assert row is not None, name
            assert row["country"] == country and row["short_friendly"] == name
            assert (
                row["coordinates"].x == row["longitude"] and row["coordinates"].y == row["latitude"]
            )
        sydney = await db.fetchrow(
            "SELECT * FROM location WHERE long_friendly = 'Sydney, New South Wales, Australia'"
        )
        assert sydney is not None
        assert (sydney["city"], sydney["subdivision"]) == ("Sydney", "New South Wales")
        assert (
            abs(sydney["latitude"] - SYDNEY[0]) < 0.01
            and abs(sydney["longitude"] - SYDNEY[1]) < 0.01
        )
        # nearest location: exact for a stored point, sensible for a point in between
        assert await db.fetchval("SELECT nearest_location_id($1, $2)", *SYDNEY) == sydney["id"]
        near = await db.fetchval(
            "SELECT long_friendly FROM location WHERE id = nearest_location_id(51.5072, -0.1276)"
        )
        assert near == "London, England, United Kingdom"
        # first-character candidates for the location search use the prefix index
        plan = "\n".join(
            r[0]
            for r in await db.fetch(
                "EXPLAIN SELECT long_friendly FROM location WHERE lower(long_friendly) LIKE 's%'"
            )
        )
        assert "idx__location__long_friendly" in plan


async def test_seeding_twice_changes_nothing(db: Database) -> None:
    with trio.fail_after(60):
        before = await _snapshot(db)
        await seed_reference_data(db)
        async with trio.open_nursery() as nursery:  # concurrent starts are serialised
            nursery.start_soon(seed_reference_data, db)
            nursery.start_soon(seed_reference_data, db)
        assert await _snapshot(db) == before


async def test_seed_restores_missing_rows_and_removes_banned_clubs(db: Database) -> None:
    with trio.fail_after(60):
        await db.execute("DELETE FROM good_email_domain WHERE domain = '163.com'")
        await db.execute("INSERT INTO club (name) VALUES ('10y'), ('hiking')")
        await db.execute("UPDATE duo_seed_state SET fingerprint = 'old'")
        await seed_reference_data(db)
        assert await db.fetchval("SELECT 1 FROM good_email_domain WHERE domain = '163.com'")
        assert [r["name"] for r in await db.fetch("SELECT name FROM club")] == ["hiking"]
        assert (
            await db.fetchval(
                "SELECT count(*) FROM location WHERE long_friendly = 'Sydney, New South Wales, Australia'"
            )
            == 1
        )


def _vincenty_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    a, f = 6378137.0, 1 / 298.257223563
    b = (1 - f) * a
    u1, u2 = (
        math.atan((1 - f) * math.tan(math.radians(lat1))),
        math.atan((1 - f) * math.tan(math.radians(lat2))),
    )
    big_l = math.radians(lon2 - lon1)
    lam = big_l
    for _ in range(200):
        sin_s = math.hypot(
            math.cos(u2) * math.sin(lam),
            math.cos(u1) * math.sin(u2) - math.sin(u1) * math.cos(u2) * math.cos(lam),
        )
        cos_s = math.sin(u1) * math.sin(u2) + math.cos(u1) * math.cos(u2) * math.cos(lam)
        sigma = math.atan2(sin_s, cos_s)
        sin_a = math.cos(u1) * math.cos(u2) * math.sin(lam) / sin_s
        cos2_a = 1 - sin_a**2
        cos_2sm = cos_s - 2 * math.sin(u1) * math.sin(u2) / cos2_a if cos2_a else 0.0
        c = f / 16 * cos2_a * (4 + f * (4 - 3 * cos2_a))
        prev, lam = (
            lam,
            big_l
            + (1 - c)
            * f
            * sin_a
            * (sigma + c * sin_s * (cos_2sm + c * cos_s * (-1 + 2 * cos_2sm**2))),
        )
        if abs(lam - prev) < 1e-12:
            break
    u_sq = cos2_a * (a * a - b * b) / (b * b)
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    d_sigma = (
        big_b
        * sin_s
        * (
            cos_2sm
            + big_b
            / 4
            * (
                cos_s * (-1 + 2 * cos_2sm**2)
                - big_b / 6 * cos_2sm * (-3 + 4 * sin_s**2) * (-3 + 4 * cos_2sm**2)
            )
        )
    )
    return b * big_a * (sigma - d_sigma)


async def test_geo_distance_matches_the_ellipsoid(db: Database) -> None:
    with trio.fail_after(30):
        pairs = [
            (SYDNEY, (-37.81400, 144.96332)),  # Melbourne
            ((51.50853, -0.12574), (48.85341, 2.3488)),  # London - Paris
            ((40.71427, -74.00597), (51.50853, -0.12574)),  # New York - London
            ((64.1355, -21.8954), (-33.92584, 18.42322)),  # Reykjavik - Cape Town
            ((0.0, 179.9), (0.0, -179.9)),  # across the antimeridian
            (SYDNEY, (-33.86785 + 0.0001, 151.20732)),  # ~11 m
        ]
        for (lat1, lon1), (lat2, lon2) in pairs:
            got = await db.fetchval("SELECT geo_distance_m($1, $2, $3, $4)", lat1, lon1, lat2, lon2)
            want = _vincenty_m(lat1, lon1, lat2, lon2)
            assert abs(got - want) <= max(1.0, want * 1e-4), ((lat1, lon1, lat2, lon2), got, want)
        assert await db.fetchval("SELECT geo_distance_m(1, 2, 1, 2)") == 0.0
        # the bounding box never excludes a point within the radius, also near poles/antimeridian
        for lat, lon, r in [
            (*SYDNEY, 50_000.0),
            (89.5, 10.0, 100_000.0),
            (-10.0, 179.8, 80_000.0),
            (60.0, 0.0, 3_000_000.0),
        ]:
            for bearing in range(0, 360, 15):
                # destination ~r*0.999 away (spherical estimate, then checked with geo_distance_m)
                d = r * 0.999 / 6371008.8
                th = math.radians(bearing)
                la1, lo1 = math.radians(lat), math.radians(lon)
                la2 = math.asin(
                    math.sin(la1) * math.cos(d) + math.cos(la1) * math.sin(d) * math.cos(th)
                )
                lo2 = lo1 + math.atan2(
                    math.sin(th) * math.sin(d) * math.cos(la1),
                    math.cos(d) - math.sin(la1) * math.sin(la2),
                )
                plat, plon = math.degrees(la2), (math.degrees(lo2) + 540) % 360 - 180
                inside, dist = await db.fetchrow(
                    "SELECT point($4, $3) <@ geo_bbox($1, $2, $5), geo_distance_m($1, $2, $3, $4)",
                    lat,
                    lon,
                    plat,
                    plon,
                    r,
                )
                assert dist > r or inside, (lat, lon, r, bearing, plat, plon)


async def test_within_50_km_of_sydney_nearest_first(db: Database) -> None:
    with trio.fail_after(30):
        ids = {
            "sydney": await _insert_person(db, "syd@example.com", *SYDNEY),
            "parramatta": await _insert_person(db, "par@example.com", -33.81667, 151.0),  # ~20 km
            "gosford": await _insert_person(db, "gos@example.com", -33.4244, 151.34284),  # ~50+ km
            "wollongong": await _insert_person(db, "wol@example.com", -34.424, 150.89345),  # ~68 km
            "melbourne": await _insert_person(db, "mel@example.com", -37.814, 144.96332),
            "fiji": await _insert_person(db, "fiji@example.com", -18.14161, 178.44149),
        }
        await db.execute("UPDATE person SET activated = FALSE WHERE id = $1", ids["fiji"])
        query = """
            SELECT id, geo_distance_m(latitude, longitude, $1, $2) AS d
            FROM person
            WHERE activated
              AND coordinates <@ geo_bbox($1, $2, $3)
              AND geo_distance_m(latitude, longitude, $1, $2) <= $3
            ORDER BY d, id
        """
        rows = await db.fetch(query, *SYDNEY, 50_000.0)
        assert [r["id"] for r in rows] == [ids["sydney"], ids["parramatta"]]
        assert rows[0]["d"] == 0.0 and 15_000 < rows[1]["d"] < 25_000
        rows = await db.fetch(query, *SYDNEY, 100_000.0)
        assert [r["id"] for r in rows] == [
            ids["sydney"],
            ids["parramatta"],
            ids["gosford"],
            ids["wollongong"],
        ]
        # the planner can use the partial GiST index for the box
        async with db.connection() as conn:
            await conn.execute("SET enable_seqscan = off")
            plan = "\n".join(
                r[0]
                for r in await conn.fetch(
                    "EXPLAIN "
                    + query.replace("$1", "-33.86785")
                    .replace("$2", "151.20732")
                    .replace("$3", "50000")
                )
            )
            await conn.execute("RESET enable_seqscan")
        assert "idx__person__activated__coordinates" in plan, plan


async def test_triggers(db: Database) -> None:
    with trio.fail_after(30):
        pid = await _insert_person(db, "t@example.com", *SYDNEY, gender_id=2)
        person = await db.fetchrow("SELECT * FROM person WHERE id = $1", pid)
        assert person is not None
        assert person["has_profile_picture_id"] == 2 and person["tiny_id"]
        assert (
            person["personality"].to_list() == [0.0] * 47 and person["presence_score"] == [0] * 46
        )
        await db.execute(
            "INSERT INTO photo (person_id, position, uuid, blurhash, hash) VALUES ($1, 1, 'u', 'b', 'h')",
            pid,
        )
        assert (
            await db.fetchval("SELECT has_profile_picture_id FROM person WHERE id = $1", pid) == 1
        )
        await db.execute("DELETE FROM photo WHERE person_id = $1", pid)
        assert (
            await db.fetchval("SELECT has_profile_picture_id FROM person WHERE id = $1", pid) == 2
        )

        await db.execute("INSERT INTO club (name) VALUES ('hiking')")
        await db.execute(
            """INSERT INTO person_club (person_id, club_name, activated, latitude, longitude, gender_id)
               VALUES ($1, 'hiking', FALSE, 0, 0, 1)""",
            pid,
        )
        row = await db.fetchrow("SELECT * FROM person_club WHERE person_id = $1", pid)
        assert row is not None
        assert (row["activated"], row["latitude"], row["longitude"], row["gender_id"]) == (
            True,
            *SYDNEY,
            2,
        )
        await db.execute(
            "UPDATE person SET activated = FALSE, latitude = 51.5, longitude = -0.1, gender_id = 1 WHERE id = $1",
            pid,
        )
        row = await db.fetchrow("SELECT * FROM person_club WHERE person_id = $1", pid)
        assert row is not None
        assert (row["activated"], row["latitude"], row["longitude"], row["gender_id"]) == (
            False,
            51.5,
            -0.1,
            1,
        )
        assert (row["coordinates"].x, row["coordinates"].y) == (-0.1, 51.5)


async def test_functions(db: Database) -> None:
    with trio.fail_after(30):
        assert await db.fetchval("SELECT base62_encode(0)") == "0"
        assert await db.fetchval("SELECT base62_encode(61)") == "Z"
        assert await db.fetchval("SELECT base62_encode(62)") == "10"
        assert await db.fetchval("SELECT base62_encode(NULL)") is None
        assert await db.fetchval("SELECT uuid_or_null('nope')") is None
        assert str(
            await db.fetchval("SELECT uuid_or_null('00000000-0000-0000-0000-000000000001')")
        ) == ("00000000-0000-0000-0000-000000000001")
        assert (
            await db.fetchval("SELECT iso8601_utc('2024-01-02 03:04:05.678+02'::TIMESTAMPTZ)")
            == "2024-01-02T01:04:05.678Z"
        )
        assert await db.fetchval("SELECT clamp(0, 99, 120)") == 99
        assert await db.fetchval("SELECT array_full(3, 7)") == [7, 7, 7]
        odds = await db.fetchval("SELECT age_gap_acceptability_odds(25, 30)")
        assert abs(odds - math.exp(-8 * (1 - 12 / 17) ** 2)) < 1e-12
        ratios = await db.fetch(
            "SELECT * FROM trait_ratio(ARRAY[6000, 1, 0], ARRAY[4000, 1, 0], 5000)"
        )
        assert [(r["trait_id"], r["ratio"]) for r in ratios] == [
            (1, 0.6000000238418579),
            (2, None),
            (3, None),
        ]

        # personality: one answer of +1000 presence on trait 1 (46 traits)
        presence = [1000] + [500] * 45
        absence = [0] + [500] * 45
        row = await db.fetchrow(
            """SELECT (v).* FROM (SELECT compute_personality_vectors(
                   $1, $2, NULL, NULL, array_full(46, 0), array_full(46, 0), 0::SMALLINT) AS v) s""",
            presence,
            absence,
        )
        assert row is not None
        assert row["count_answers"] == 1
        assert row["presence_score"] == [1000] + [0] * 45 and row["absence_score"] == [0] * 46
        w = math.log(math.log(2) + 1) / math.log(math.log(251) + 1)
        norm = math.sqrt(1 + 1e-10)
        assert abs(row["personality"][0] - w / norm) < 1e-6
        assert abs(row["personality"][46] - w * 1e-5 / norm) < 1e-9
        # removing the same answer brings everything back to zero
        back = await db.fetchrow(
            """SELECT (v).* FROM (SELECT compute_personality_vectors(
                   NULL, NULL, $1, $2, $3, $4, 1::SMALLINT) AS v) s""",
            presence,
            absence,
            row["presence_score"],
            row["absence_score"],
        )
        assert back is not None
        assert back["count_answers"] == 0 and back["personality"] == [0.0] * 47
        # unscored question (empty arrays) counts as absent
        same = await db.fetchrow(
            """SELECT (v).* FROM (SELECT compute_personality_vectors(
                   '{}', '{}', NULL, NULL, array_full(46, 0), array_full(46, 0), 0::SMALLINT) AS v) s"""
        )
        assert same is not None and same["count_answers"] == 0
        vec = await db.fetchrow("SELECT (answer_score_vectors(1, TRUE)).*")
        yes = await db.fetchval("SELECT presence_given_yes FROM question WHERE id = 1")
        assert vec is not None and vec["presence_score"] == yes
        vec = await db.fetchrow("SELECT (answer_score_vectors(1, NULL)).*")
        assert vec is not None and vec["presence_score"] is None
