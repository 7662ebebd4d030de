"""The stage-1 pool of the uncached search (matching.md §9.2, README "the pre-filter cap keeps
the nearest candidates, ties break by person id") and the trigger-kept tables it reads
(``search_candidate``, ``search_place``, migration 0001)."""

from typing import Any

import httpx
import pytest
import trio

from duo.search import ranking
from duo.services import Services
from tests.factories import onboarded_user
from tests.test_http_search import MELBOURNE, names, search, unlimited, vec

BRISBANE = {"latitude": -27.4698, "longitude": 153.0251}  # ~730 km from Sydney, beyond Melbourne
PERTH = {"latitude": -31.9523, "longitude": 115.8613}


async def test_cap_takes_whole_nearer_places_then_the_edge_place_by_id(
    client: httpx.AsyncClient, svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        monkeypatch.setattr(ranking, "POOL_CAP", 4)  # the searcher (distance 0) + 3
        me = await onboarded_user(svc, "Me", personality=vec(0.9))
        await onboarded_user(svc, "Near1", personality=vec(0.1))
        await onboarded_user(svc, "Near2", personality=vec(0.2), **MELBOURNE)
        # at the edge place the lowest id wins the last slot, not the best match
        await onboarded_user(svc, "Edge1", personality=vec(0.3), **BRISBANE)
        await onboarded_user(svc, "Edge2", personality=vec(0.8), **BRISBANE)
        await onboarded_user(svc, "Far", personality=vec(0.9), **PERTH)
        assert names(await search(client, me, n=10, o=0)) == ["Edge1", "Near2", "Near1"]

        monkeypatch.setattr(ranking, "POOL_CAP", 3)  # the edge is now Melbourne
        assert names(await search(client, me, n=10, o=0)) == ["Near2", "Near1"]

        monkeypatch.setattr(ranking, "POOL_CAP", 30_000)  # nobody is cut
        assert names(await search(client, me, n=10, o=0)) == ["Far", "Edge2", "Edge1", "Near2", "Near1"]


async def test_cap_counts_only_the_wanted_genders_within_the_distance(
    client: httpx.AsyncClient, svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        monkeypatch.setattr(ranking, "POOL_CAP", 2)
        me = await onboarded_user(svc, "Me", gender="Man", gender_preferences=["Woman"])
        await onboarded_user(svc, "NearMan", gender="Man", **MELBOURNE)  # not counted
        await onboarded_user(svc, "Woman1", **BRISBANE)
        await onboarded_user(svc, "Woman2", **BRISBANE)
        await onboarded_user(svc, "WomanFar", **PERTH)
        assert sorted(names(await search(client, me, n=10, o=0))) == ["Woman1", "Woman2"]
        await svc.db.execute(
            "UPDATE search_preference_distance SET distance = 500 WHERE person_id = $1", me.person_id
        )
        assert names(await search(client, me, n=10, o=0)) == []


async def _snapshot(svc: Services) -> tuple[list[Any], list[Any]]:
    """Every candidate row and every non-empty place count, as JSON objects."""
    return (
        await svc.db.fetchval("SELECT jsonb_agg(to_jsonb(c) ORDER BY person_id) FROM search_candidate c"),
        await svc.db.fetchval(
            """SELECT jsonb_agg(to_jsonb(s) ORDER BY latitude, longitude, gender_id)
               FROM search_place s WHERE candidates <> 0"""
        ),
    )


async def test_triggers_keep_the_candidate_rows_and_place_counts(
    client: httpx.AsyncClient, svc: Services
) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me")
        moving = await onboarded_user(svc, "Moving", gender="Man")
        leaving = await onboarded_user(svc, "Leaving", **MELBOURNE)
        await onboarded_user(svc, "Bot", roles=["bot"], **MELBOURNE)
        await svc.db.execute(
            """UPDATE person SET latitude = $2, longitude = $3, religion_id = 2, height_cm = 180,
                      hide_me_from_strangers = TRUE WHERE id = $1""",
            moving.person_id,
            BRISBANE["latitude"],
            BRISBANE["longitude"],
        )
        await svc.db.execute("UPDATE person SET activated = FALSE WHERE id = $1", leaving.person_id)
        for body in ({"gender": ["Man"]}, {"age": {"min_age": 25, "max_age": None}}, {"furthest_distance": 800}):
            r = await client.post("/search-filter", json=body, headers=me.headers)
            assert r.status_code == 200, r.text

        kept = await _snapshot(svc)
        row = next(c for c in kept[0] if c["person_id"] == me.person_id)
        assert (row["pref_gender_ids"], row["pref_min_age"], row["pref_max_age"], row["pref_distance_km"]) == (
            [await svc.db.fetchval("SELECT id FROM gender WHERE name = 'Man'")],
            25,
            999,
            800,
        )
        assert leaving.person_id not in {c["person_id"] for c in kept[0]}
        assert sum(p["candidates"] for p in kept[1]) == len(kept[0]) == 3
        await svc.db.execute("SELECT search_candidates_rebuild()")
        assert await _snapshot(svc) == kept
