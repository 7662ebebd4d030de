import datetime as dt
import secrets

import attrs
import httpx
import pytest
import trio

from duo.media.audio import audio_key
from duo.seeding.population import populate
from duo.seeding.users import Profile, SeedingError, create_user
from duo.services import Services
from duo.sessions import token_hash
from tests.plugins.app import bearer


async def test_user_create_makes_an_onboarded_account_with_media(svc: Services) -> None:
    with trio.fail_after(60):
        user = await create_user(svc, "Seedy", Profile(answers=12, photos=2, audio=True, verified=True))
        assert user.email == "seedy@example.com"
        person = await svc.db.fetchrow(
            """SELECT name, count_answers, verification_level_id, verified_age, verified_gender,
                      has_profile_picture_id, last_event_name, uuid::text
               FROM person WHERE id = $1""",
            user.person_id,
        )
        assert person is not None
        assert (person["name"], person["count_answers"], person["uuid"]) == ("Seedy", 12, user.person_uuid)
        assert (person["verification_level_id"], person["verified_age"], person["verified_gender"]) == (3, True, True)
        assert person["last_event_name"] == "added-voice-bio"
        assert await svc.db.fetchval("SELECT count(*) FROM answer WHERE person_id = $1", user.person_id) == 12
        # onboarding's defaults were stored (here: an empty world gives no distance limit)
        assert await svc.db.fetchval("SELECT distance FROM search_preference_distance WHERE person_id = $1", user.person_id) is None
        assert await svc.db.fetchval("SELECT count(*) FROM search_preference_religion WHERE person_id = $1", user.person_id) == 10

        photos = await svc.db.fetch("SELECT uuid, verified FROM photo WHERE person_id = $1 ORDER BY position", user.person_id)
        assert [p["verified"] for p in photos] == [True, True]
        for photo in photos:
            assert await svc.storage.get("photos", f"original-{photo['uuid']}.jpg")
        audio = await svc.db.fetchval("SELECT uuid FROM audio WHERE person_id = $1", user.person_id)
        assert await svc.storage.get("audio", audio_key(audio))
        assert await svc.db.fetchval(
            "SELECT signed_in FROM duo_session WHERE session_token_hash = $1 AND person_id = $2",
            token_hash(user.token),
            user.person_id,
        )


async def test_user_create_refuses_outside_dev(svc: Services) -> None:
    with trio.fail_after(10):
        svc.config = attrs.evolve(svc.config, env="prod")
        with pytest.raises(SeedingError, match="DUO_ENV=dev"):
            await create_user(svc, "Prod")
        assert await svc.db.fetchval("SELECT count(*) FROM duo_session") == 0


async def test_populate_makes_a_consistent_searchable_population(svc: Services, client: httpx.AsyncClient) -> None:
    with trio.fail_after(120):
        made = await populate(svc.db, 300, now=svc.now(), seed=0.25)
        assert (made.users, made.last_id - made.first_id + 1) == (300, 300)

        by_gender = dict(await svc.db.fetch("SELECT gender_id, count(*) FROM person GROUP BY 1"))
        assert 90 <= by_gender.get(1, 0) <= 180 and 90 <= by_gender.get(2, 0) <= 180
        assert 5 <= 300 - by_gender.get(1, 0) - by_gender.get(2, 0) <= 60
        ages = await svc.db.fetchrow(
            """SELECT min(a) AS low, max(a) AS high, percentile_cont(0.5) WITHIN GROUP (ORDER BY a) AS median
               FROM (SELECT date_part('year', age($1::date, date_of_birth)) AS a FROM person) x""",
            svc.now().date(),
        )
        assert ages is not None and ages["low"] >= 18 and ages["high"] <= 70 and 22 <= ages["median"] <= 40

        # the search's and the feed's derived tables are what their triggers / bulk rebuilds make of the rows
        snapshot = "SELECT array_agg(t::TEXT ORDER BY t::TEXT) FROM {} t"
        derived = ("search_candidate", "search_place", "feed_candidate")
        before = [await svc.db.fetchval(snapshot.format(t)) for t in derived]
        assert len(before[0]) == await svc.db.fetchval("SELECT count(*) FROM person WHERE activated")
        assert len(before[2]) == await svc.db.fetchval("SELECT count(*) FROM person")
        await svc.db.execute("SELECT search_candidates_rebuild()")
        await svc.db.execute("SELECT feed_candidates_rebuild()")
        assert [await svc.db.fetchval(snapshot.format(t)) for t in derived] == before
        assert 0 < await svc.db.fetchval("SELECT count(*) FROM person WHERE NOT activated") < 30
        # derived columns agree with the rows they summarise
        assert await svc.db.fetchval(
            """SELECT count(*) FROM person p
               WHERE p.count_answers <> (SELECT count(*) FROM answer a WHERE a.person_id = p.id AND a.answer IS NOT NULL)
                  OR (p.has_profile_picture_id = 1) <> EXISTS (SELECT 1 FROM photo WHERE person_id = p.id)
                  OR (p.verification_level_id = 3) <> EXISTS (SELECT 1 FROM photo WHERE person_id = p.id AND verified)
                  OR abs(p.personality <#> p.personality) > 1.0001"""
        ) == 0
        assert await svc.db.fetchval("SELECT max(count_answers) FROM person") > 50
        assert await svc.db.fetchval(
            "SELECT count(*) FROM club WHERE count_members <> (SELECT count(*) FROM person_club WHERE club_name = club.name)"
        ) == 0
        for table in ("gender", "age", "distance", "height_cm", "messaged", "skipped", "religion", "star_sign"):
            assert await svc.db.fetchval(
                f"SELECT count(DISTINCT person_id) FROM search_preference_{table}"
            ) == 300, table

        # populated men seeking women find people over real HTTP (not every one of them:
        # both sides' age ranges and half the people hiding from unverified searchers)
        searchers = await svc.db.fetch(
            """SELECT p.id FROM person p JOIN search_preference_gender g ON g.person_id = p.id
               WHERE p.activated AND p.gender_id = 1 AND g.gender_id = 2 ORDER BY p.id LIMIT 10"""
        )
        results = [await _search_as(svc, client, r["id"]) for r in searchers]
        assert any(results)
        assert all(item["prospect_person_id"] != r["id"] for r, found in zip(searchers, results, strict=True) for item in found)


async def _search_as(svc: Services, client: httpx.AsyncClient, person_id: int) -> list[dict[str, object]]:
    """An uncached search by a populated person, through a session inserted for them."""
    token = secrets.token_hex(64)
    await svc.db.execute(
        """INSERT INTO duo_session (session_token_hash, person_id, email, otp, signed_in, session_expiry)
           SELECT $1, id, email, '000000', TRUE, $3 FROM person WHERE id = $2""",
        token_hash(token),
        person_id,
        svc.now() + dt.timedelta(days=1),
    )
    r = await client.get("/search", params={"n": 10, "o": 0}, headers=bearer(token))
    assert r.status_code == 200, r.text
    found: list[dict[str, object]] = r.json()
    return found
