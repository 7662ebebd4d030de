"""GET /search-filters and POST /search-filter (http-api-social §5.1–§5.2)."""

from typing import Any

import httpx
import pytest
import trio

from duo.services import Services
from tests.factories import onboarded_user
from tests.test_http_search import unlimited

ALL_KEYS = {
    "answer",
    "gender",
    "orientation",
    "ethnicity",
    "age",
    "furthest_distance",
    "height",
    "has_a_profile_picture",
    "looking_for",
    "smoking",
    "drinking",
    "drugs",
    "long_distance",
    "relationship_status",
    "has_kids",
    "wants_kids",
    "exercise",
    "religion",
    "star_sign",
    "people_you_messaged",
    "people_you_skipped",
}


async def test_defaults_then_each_filter_replaced(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, gender_preferences=["Woman", "Man"])
        r = await client.get("/search-filters", headers=me.headers)
        assert r.status_code == 200, r.text
        got = r.json()
        assert set(got) == ALL_KEYS
        assert got["gender"] == ["Man", "Woman"]
        assert got["drinking"] == ["Never", "Often", "Sometimes", "Unanswered"]
        assert got["has_a_profile_picture"] == ["No", "Yes"]
        assert got["age"] == {"min_age": None, "max_age": None}
        assert got["height"] == {"min_height_cm": None, "max_height_cm": None}
        assert (
            got["furthest_distance"],
            got["people_you_messaged"],
            got["people_you_skipped"],
        ) == (None, "Yes", "No")
        assert got["answer"] == []

        changes: list[tuple[dict[str, Any], str, Any]] = [
            (
                {"gender": ["Woman", "Trans man", "Transgender", "Nonsense"]},
                "gender",
                ["Trans man", "Transgender", "Woman"],
            ),
            ({"orientation": ["Gay", "Unanswered"]}, "orientation", ["Gay", "Unanswered"]),
            ({"star_sign": ["Virgo"]}, "star_sign", ["Virgo"]),
            ({"wants_kids": ["Maybe", "maybe"]}, "wants_kids", ["Maybe"]),
            ({"religion": ["nothing known"]}, "religion", []),
            ({"age": {"min_age": 25, "max_age": None}}, "age", {"min_age": 25, "max_age": None}),
            (
                {"height": {"min_height_cm": -5, "max_height_cm": 190}},
                "height",
                {"min_height_cm": -5, "max_height_cm": 190},
            ),
            ({"furthest_distance": 50}, "furthest_distance", 50),
            ({"furthest_distance": None}, "furthest_distance", None),
            ({"people_you_messaged": "No"}, "people_you_messaged", "No"),
            ({"people_you_skipped": "Yes"}, "people_you_skipped", "Yes"),
            ({"people_you_skipped": "Sometimes"}, "people_you_skipped", None),
            (
                {"has_a_profile_picture": ["Yes"], "unknown_key": 1},
                "has_a_profile_picture",
                ["Yes"],
            ),
        ]
        for body, key, expected in changes:
            r = await client.post("/search-filter", json=body, headers=me.headers)
            assert (r.status_code, r.text) == (200, ""), body
            got = (await client.get("/search-filters", headers=me.headers)).json()
            assert got[key] == expected, body
        assert got["orientation"] == ["Gay", "Unanswered"] and got["age"]["min_age"] == 25


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Exactly one value must be set"),
        ({"unknown": 1}, "Exactly one value must be set"),
        ({"gender": ["Man"], "smoking": ["Yes"]}, "Exactly one value must be set"),
        ({"gender": None}, "Field gender must not be None"),
        ({"people_you_skipped": None}, "Field people_you_skipped must not be None"),
        ({"age": None}, "Field age must not be None"),
        ({"gender": []}, None),
        ({"gender": "Man"}, None),
        ({"gender": [1]}, None),
        ({"age": {"min_age": 20}}, None),
        ({"age": {"min_age": 20, "max_age": 40000}}, None),
        ({"furthest_distance": 70000}, None),
        ({"furthest_distance": "far"}, None),
        ({"height": [1, 2]}, None),
        ({"people_you_messaged": ["Yes"]}, None),
    ],
)
async def test_bad_filter_is_400_and_changes_nothing(
    client: httpx.AsyncClient, svc: Services, body: dict[str, Any], message: str | None
) -> None:
    with trio.fail_after(20):
        me = await onboarded_user(svc)
        before = (await client.get("/search-filters", headers=me.headers)).json()
        r = await client.post("/search-filter", json=body, headers=me.headers)
        assert r.status_code == 400, r.text
        if message is not None:
            assert r.json() == [
                {"type": "value_error", "loc": [], "msg": f"Value error, {message}"}
            ]
        else:
            assert all({"type", "loc", "msg"} <= set(e) for e in r.json())
        assert (await client.get("/search-filters", headers=me.headers)).json() == before


async def test_filters_need_an_onboarded_session(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        half = await onboarded_user(svc, signed_in=False)
        assert (await client.get("/search-filters", headers=half.headers)).status_code == 401
        assert (
            await client.post("/search-filter", json={"gender": ["Man"]}, headers=half.headers)
        ).status_code == 401
        r = await client.get("/search-filters")
        assert (r.status_code, r.text) == (400, "Missing or malformed authorization header")
