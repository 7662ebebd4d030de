"""GET /search: uncached, cached and quiz searches (http-api-social §4, matching.md §9–§10)."""

from typing import Any

import attrs
import httpx
import trio

from duo.ratelimit import MemoryCounter
from duo.services import Services
from tests.factories import User, onboarded_user

ROW_KEYS = {
    "prospect_person_id",
    "prospect_uuid",
    "profile_photo_uuid",
    "profile_photo_blurhash",
    "name",
    "age",
    "match_percentage",
    "verified",
    "person_messaged_prospect",
    "prospect_messaged_person",
    "verification_required_to_view",
}
QUIZ_KEYS = {
    "prospect_person_id",
    "prospect_uuid",
    "profile_photo_uuid",
    "profile_photo_blurhash",
    "name",
    "age",
    "match_percentage",
    "verification_required_to_view",
}
MELBOURNE = {"latitude": -37.8136, "longitude": 144.9631}  # ~713 km from Sydney


def unlimited(svc: Services) -> None:
    """Switch the rate limits off: these tests make many calls per second."""
    safety = attrs.evolve(
        svc.config.safety, disable_account_rate_limit=True, disable_ip_rate_limit=True
    )
    svc.config = attrs.evolve(svc.config, safety=safety)


def vec(first: float) -> list[float]:
    """A personality pointing along trait 1 (the dot product of two is the product of firsts)."""
    return [first] + [0.0] * 46


async def search(client: httpx.AsyncClient, user: User, **params: Any) -> list[dict[str, Any]]:
    r = await client.get("/search", params=params, headers=user.headers)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in rows]


async def add_photo(
    svc: Services, user: User, uuid: str = "a" * 64, blurhash: str = "LEHV6nWB2yk8"
) -> None:
    await svc.db.execute(
        "INSERT INTO photo (person_id, position, uuid, blurhash, hash) VALUES ($1, 1, $2, $3, 'h')",
        user.person_id,
        uuid,
        blurhash,
    )


async def test_uncached_search_ranks_snapshots_and_pages(
    client: httpx.AsyncClient, svc: Services
) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me", personality=vec(0.9))
        best = await onboarded_user(svc, "Best", personality=vec(0.8), show_my_age=False)
        good = await onboarded_user(svc, "Good", personality=vec(0.4))
        await onboarded_user(svc, "Neutral")  # no answers: match 50
        await onboarded_user(svc, "Opposite", personality=vec(-0.5))  # below the 50 % floor
        await onboarded_user(svc, "Robot", personality=vec(0.9), roles=["bot"])

        rows = await search(client, me, n=2, o=0)
        assert names(rows) == ["Best", "Good"]
        assert set(rows[0]) == ROW_KEYS
        assert rows[0] | {"profile_photo_blurhash": None} == {
            "prospect_person_id": best.person_id,
            "prospect_uuid": str(best.uuid),
            "profile_photo_uuid": None,
            "profile_photo_blurhash": None,
            "name": "Best",
            "age": None,
            "match_percentage": 86,
            "verified": False,
            "person_messaged_prospect": False,
            "prospect_messaged_person": False,
            "verification_required_to_view": None,
        }
        assert rows[1]["age"] == 30 and rows[1]["match_percentage"] == 68
        assert rows[1]["prospect_uuid"] == str(good.uuid)

        cached = await svc.db.fetch(
            "SELECT position, name, match_percentage FROM search_cache WHERE searcher_person_id = $1 ORDER BY position",
            me.person_id,
        )
        assert [tuple(r) for r in cached] == [(1, "Best", 86), (2, "Good", 68), (3, "Neutral", 50)]

        # cached pages are snapshots: a name change does not show until the next o=0
        await svc.db.execute("UPDATE person SET name = 'Renamed' WHERE id = $1", good.person_id)
        assert names(await search(client, me, n=2, o=1)) == ["Good", "Neutral"]
        assert await search(client, me, n=5, o=3) == []
        assert await search(client, me, n=0, o=1) == []
        assert names(await search(client, me, n=10, o=0)) == ["Best", "Renamed", "Neutral"]

        # n=0 rebuilds the cache and answers []
        await onboarded_user(svc, "Late", personality=vec(0.3))
        assert await search(client, me, n=0, o=0) == []
        assert names(await search(client, me, n=10, o=2)) == ["Late", "Neutral"]


async def test_photo_first_then_match_then_id(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me", personality=vec(0.9))
        await onboarded_user(svc, "NoPhotoHigh", personality=vec(0.9))
        pictured = await onboarded_user(svc, "PhotoLow", personality=vec(0.2))
        await add_photo(svc, pictured, blurhash="LKO2?U%2Tw=w")
        twin_a = await onboarded_user(svc, "TwinA", personality=vec(0.5))
        twin_b = await onboarded_user(svc, "TwinB", personality=vec(0.5), verification_level_id=2)
        assert twin_a.person_id < twin_b.person_id
        rows = await search(client, me, n=10, o=0)
        assert names(rows) == ["PhotoLow", "NoPhotoHigh", "TwinA", "TwinB"]
        assert (
            rows[0]["profile_photo_uuid"] == "a" * 64
            and rows[0]["profile_photo_blurhash"] == "LKO2?U%2Tw=w"
        )
        assert rows[3]["verified"] is True and rows[2]["verified"] is False

        # the blurhash is live (gone with the photo) while the uuid is a snapshot
        await svc.db.execute("DELETE FROM photo WHERE person_id = $1", pictured.person_id)
        [card] = await search(client, me)
        assert (card["name"], card["profile_photo_uuid"], card["profile_photo_blurhash"]) == (
            "PhotoLow",
            "a" * 64,
            None,
        )
        assert names(await search(client, me, n=10, o=0)) == [
            "NoPhotoHigh",
            "TwinA",
            "TwinB",
            "PhotoLow",
        ]


async def test_privacy_both_directions(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me")
        await onboarded_user(svc, "Plain")
        blocker = await onboarded_user(svc, "BlockedMe")
        blocked = await onboarded_user(svc, "IBlocked")
        await onboarded_user(svc, "Away", activated=False)
        await onboarded_user(svc, "Hidden", hide_me_from_strangers=True)
        friend = await onboarded_user(svc, "HiddenFriend", hide_me_from_strangers=True)
        await onboarded_user(svc, "MustVerify", verification_required=True)
        await onboarded_user(svc, "Verified", verification_required=True, verification_level_id=2)
        await onboarded_user(svc, "NoAge", show_my_age=False, show_my_location=False)
        await svc.db.execute(
            "INSERT INTO skipped (subject_person_id, object_person_id) VALUES ($1, $2), ($3, $1)",
            me.person_id,
            blocked.person_id,
            blocker.person_id,
        )
        await svc.db.execute(
            "INSERT INTO messaged (subject_person_id, object_person_id) VALUES ($1, $2)",
            friend.person_id,
            me.person_id,
        )
        rows = await search(client, me, n=10, o=0)
        assert sorted(names(rows)) == ["HiddenFriend", "NoAge", "Plain", "Verified"]
        by_name = {r["name"]: r for r in rows}
        assert by_name["HiddenFriend"]["prospect_messaged_person"] is True
        assert by_name["HiddenFriend"]["person_messaged_prospect"] is False
        assert by_name["NoAge"]["age"] is None and by_name["Plain"]["age"] == 30

        # the blocker does not find me either, and people I skipped come back on "Yes"
        assert "Me" not in names(await search(client, blocker, n=10, o=0))
        r = await client.post(
            "/search-filter", json={"people_you_skipped": "Yes"}, headers=me.headers
        )
        assert r.status_code == 200
        assert "IBlocked" in names(await search(client, me, n=10, o=0))


async def test_cached_pages_mask_and_drop_people_who_became_hidden(
    client: httpx.AsyncClient, svc: Services
) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me", personality=vec(0.9))
        leaving = await onboarded_user(svc, "Leaving", personality=vec(0.8))
        private = await onboarded_user(svc, "Private", personality=vec(0.7))
        shy = await onboarded_user(svc, "Shy", personality=vec(0.6))
        await onboarded_user(svc, "Stays", personality=vec(0.5))
        await add_photo(svc, private, uuid="b" * 64)
        assert names(await search(client, me, n=10, o=0)) == ["Private", "Leaving", "Shy", "Stays"]

        await svc.db.execute("UPDATE person SET activated = FALSE WHERE id = $1", leaving.person_id)
        await svc.db.execute(
            "UPDATE person SET hide_me_from_strangers = TRUE WHERE id = $1", shy.person_id
        )
        await svc.db.execute(
            "UPDATE person SET privacy_verification_level_id = 3 WHERE id = $1", private.person_id
        )
        rows = await search(client, me, n=10, o=1)
        assert names(rows) == ["Stays"]  # positions are kept: page o=1 starts after "Private"
        masked = (await search(client, me, n=1, o=0))[0]
        assert masked["name"] == "Private"  # o=0 rebuilt; the privacy level only masks
        assert masked["verification_required_to_view"] == "photos"
        assert masked["prospect_person_id"] is None and masked["prospect_uuid"] is None
        assert (
            masked["profile_photo_uuid"] is None
            and masked["profile_photo_blurhash"] == "LEHV6nWB2yk8"
        )

        await svc.db.execute(
            "UPDATE person SET verification_level_id = 3 WHERE id = $1", me.person_id
        )
        # Leaving and Shy are not in the rebuilt cache
        assert names(await search(client, me, n=5, o=1)) == ["Stays"]
        page = await search(client, me, n=2, o=0)
        assert page[0]["verification_required_to_view"] is None and page[0]["prospect_uuid"] == str(
            private.uuid
        )
        await svc.db.execute(
            "UPDATE person SET privacy_verification_level_id = 2 WHERE id = $1", private.person_id
        )
        await svc.db.execute(
            "UPDATE person SET verification_level_id = 1 WHERE id = $1", me.person_id
        )
        assert (await search(client, me, n=1, o=0))[0]["verification_required_to_view"] == "basics"


async def test_quiz_uses_the_cache_and_the_current_personality(
    client: httpx.AsyncClient, svc: Services
) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me", personality=vec(0.9))
        assert await search(client, me) == []  # no cache yet
        await onboarded_user(svc, "Up", personality=vec(0.6))
        await onboarded_user(svc, "Flat", personality=[0.0, 0.6] + [0.0] * 45)
        assert names(await search(client, me, n=10, o=0)) == ["Up", "Flat"]

        quiz = await search(client, me, n=10)
        assert (
            set(quiz[0]) == QUIZ_KEYS
            and quiz[0]["name"] == "Up"
            and quiz[0]["match_percentage"] == 77
        )
        # the searcher's personality changes: the quiz re-ranks the cached personalities
        await svc.db.execute(
            "UPDATE person SET personality = $2 WHERE id = $1",
            me.person_id,
            [0.0, 0.9] + [0.0] * 45,
        )
        quiz = await search(client, me, o=0)
        assert [(q["name"], q["match_percentage"]) for q in quiz] == [("Flat", 77)]
        assert (
            await svc.db.fetchval(
                "SELECT count(*) FROM search_cache WHERE searcher_person_id = $1", me.person_id
            )
            == 2
        )


async def test_club_parameter_and_side_effects(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me", clubs=["anime"])
        await onboarded_user(
            svc, "Member", clubs=["anime"], gender_preferences=["Man"], **MELBOURNE
        )
        await onboarded_user(svc, "Outsider")
        await svc.db.execute(
            "UPDATE duo_session SET pending_club_name = 'anime' WHERE person_id = $1", me.person_id
        )
        await client.post("/search-filter", json={"furthest_distance": 1000}, headers=me.headers)

        # club mode: members only; the member's own gender/distance preferences are waived
        assert names(await search(client, me, n=10, o=0, club="  ANIME ")) == ["Member"]
        assert (
            await svc.db.fetchval(
                "SELECT club_name FROM search_preference_club WHERE person_id = $1", me.person_id
            )
            == "anime"
        )
        assert (
            await svc.db.fetchval(
                "SELECT pending_club_name FROM duo_session WHERE person_id = $1", me.person_id
            )
            is None
        )
        assert names(await search(client, me, n=10, o=0)) == [
            "Member"
        ]  # the preference stays in force

        # the searcher's own distance still applies in club mode
        await client.post("/search-filter", json={"furthest_distance": 10}, headers=me.headers)
        assert await search(client, me, n=10, o=0) == []
        r = await client.get(
            "/search", params={"n": 10, "o": 0, "club": "nonexistent"}, headers=me.headers
        )
        assert r.status_code == 400
        assert (
            await svc.db.fetchval(
                "SELECT club_name FROM search_preference_club WHERE person_id = $1", me.person_id
            )
            == "anime"
        )
        assert (
            await client.get("/search", params={"n": 10, "o": 0, "club": ""}, headers=me.headers)
        ).status_code == 400

        assert names(await search(client, me, n=10, o=0, club="\x00")) == ["Outsider"]
        assert (
            await svc.db.fetchval(
                "SELECT count(*) FROM search_preference_club WHERE person_id = $1", me.person_id
            )
            == 0
        )


async def test_bad_paging_is_400(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me")
        await onboarded_user(svc, "Other")
        assert names(await search(client, me, n=10, o=0)) == ["Other"]
        for params in (
            {"n": "x", "o": 0},
            {"n": 1, "o": "1.5"},
            {"n": -1, "o": 0},
            {"n": 1, "o": -3},
            {"n": "", "o": 0},
        ):
            r = await client.get("/search", params=params, headers=me.headers)
            assert r.status_code == 400, params
            assert r.json()[0]["type"] == "value_error"
        r = await client.get("/search", params={"n": 11, "o": 0}, headers=me.headers)
        assert (r.status_code, r.text) == (400, "n must be less than or equal to 10")
        r = await client.get("/search", params={"n": 11, "o": 5}, headers=me.headers)
        assert (r.status_code, r.text) == (400, "n must be less than or equal to 10")
        assert len(await search(client, me, n=" 1 ", o="+0")) == 1  # Python int rules
        assert await search(client, me, n=10, o=10**30) == []
        assert await svc.db.fetchval("SELECT count(*) FROM search_cache") == 1


async def test_uncached_search_rate_limit_per_club_value(
    client: httpx.AsyncClient, svc: Services
) -> None:
    with trio.fail_after(30):
        clock = [0.0]
        svc.counter = MemoryCounter(clock=lambda: clock[0])
        me = await onboarded_user(svc, "Me", clubs=["chess"])
        for _ in range(15):
            clock[0] += 1.0  # clear of the 12-per-second baseline, well inside 2 minutes
            await search(client, me, n=1, o=0)
        r = await client.get("/search", params={"n": 1, "o": 0}, headers=me.headers)
        assert r.status_code == 429 and "15 per 2 minutes" in r.text
        assert (
            await client.get("/search", params={"n": 1, "o": 1}, headers=me.headers)
        ).status_code == 200
        assert (
            await client.get(
                "/search", params={"n": 1, "o": 0, "club": "chess"}, headers=me.headers
            )
        ).status_code == 200


async def test_needs_an_onboarded_session(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        half = await onboarded_user(svc, signed_in=False)
        r = await client.get("/search", params={"n": 1, "o": 0}, headers=half.headers)
        assert (r.status_code, r.text) == (401, "Unauthorized")
        assert await svc.db.fetchval("SELECT count(*) FROM search_cache") == 0


async def test_cached_reads_also_forget_the_pending_club(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        me = await onboarded_user(svc, "Me")
        for params in ({"n": 10, "o": 10}, {}):
            await svc.db.execute("UPDATE duo_session SET pending_club_name = 'anime' WHERE person_id = $1", me.person_id)
            r = await client.get("/search", params=params, headers=me.headers)
            assert r.status_code == 200, r.text
            pending = await svc.db.fetchval("SELECT pending_club_name FROM duo_session WHERE person_id = $1", me.person_id)
            assert pending is None, params
