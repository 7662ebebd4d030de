"""Each search filter of matching.md §9.4, alone and combined: one prospect passes, one fails."""

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx
import pytest
import trio

from duo.services import Services
from tests.factories import User, onboarded_user
from tests.test_http_search import MELBOURNE, add_photo, names, search, unlimited, vec

Hook = Callable[[Services, User, User, User], Awaitable[None]]


@attrs.frozen
class Case:
    """The searcher sets ``filter``; ``passes``/``fails`` are prospect overrides; ``setup`` runs last."""

    filter: dict[str, Any] | None = None
    passes: dict[str, Any] = attrs.field(factory=dict)
    fails: dict[str, Any] = attrs.field(factory=dict)
    setup: Hook | None = None


def _years_ago(years: int) -> dt.date:
    today = dt.datetime.now(dt.UTC).date()
    return today.replace(year=today.year - years) - dt.timedelta(days=10)


async def _sql(svc: Services, sql: str, *args: Any) -> None:
    await svc.db.execute(sql, *args)


def sql_hook(sql: str, *who: str) -> Hook:
    """Run ``sql`` with the person ids of ``who`` (``me``, ``passer``, ``failer``) as $1, $2…"""

    async def hook(svc: Services, me: User, passer: User, failer: User) -> None:
        ids = {"me": me.person_id, "passer": passer.person_id, "failer": failer.person_id}
        await _sql(svc, sql, *(ids[w] for w in who))

    return hook


async def _photo_for_passer(svc: Services, me: User, passer: User, failer: User) -> None:
    await add_photo(svc, passer)


async def _qa_filter(svc: Services, me: User, passer: User, failer: User) -> None:
    await _sql(
        svc,
        "INSERT INTO search_preference_answer VALUES ($1, 1, TRUE, FALSE), ($1, 2, FALSE, TRUE)",
        me.person_id,
    )
    await _sql(
        svc,
        """INSERT INTO answer (person_id, question_id, answer, public_) VALUES
           ($1, 1, TRUE, TRUE), ($2, 1, TRUE, TRUE), ($2, 2, TRUE, TRUE)""",
        passer.person_id,
        failer.person_id,
    )


CASES: dict[str, Case] = {
    "gender": Case({"gender": ["Man"]}, {"gender": "Man"}, {"gender": "Woman"}),
    "gender of the prospect's preference": Case(None, {}, {"gender_preferences": ["Man"]}),
    "age": Case(
        {"age": {"min_age": 25, "max_age": 35}},
        {"date_of_birth": _years_ago(35)},
        {"date_of_birth": _years_ago(36)},
    ),
    "min age only": Case(
        {"age": {"min_age": 31, "max_age": None}}, {"date_of_birth": _years_ago(31)}, {}
    ),
    "age of the prospect's preference": Case(
        setup=sql_hook(
            "UPDATE search_preference_age SET min_age = 31 WHERE person_id = $1", "failer"
        )
    ),
    "no age row: no age filter": Case(
        passes={"date_of_birth": _years_ago(80)},
        fails={"activated": False},
        setup=sql_hook(
            "DELETE FROM search_preference_age WHERE person_id IN ($1, $2)", "me", "passer"
        ),
    ),
    "distance": Case(
        {"furthest_distance": 800}, {**MELBOURNE}, {"latitude": -31.9523, "longitude": 115.8613}
    ),
    "distance of the prospect's preference": Case(
        None,
        {**MELBOURNE},
        {"latitude": -27.4698, "longitude": 153.0251},  # Brisbane, ~730 km
        sql_hook(
            "UPDATE search_preference_distance SET distance = 700 WHERE person_id = $1", "failer"
        ),
    ),
    "height": Case(
        {"height": {"min_height_cm": 170, "max_height_cm": None}}, {"height_cm": 171}, {}
    ),
    "max height": Case(
        {"height": {"min_height_cm": None, "max_height_cm": 170}},
        {"height_cm": 170},
        {"height_cm": 171},
    ),
    "orientation": Case({"orientation": ["Gay"]}, {"orientation_id": 3}, {}),
    "ethnicity": Case({"ethnicity": ["East Asian"]}, {"ethnicity_id": 3}, {"ethnicity_id": 4}),
    "looking_for": Case({"looking_for": ["Friends", "Marriage"]}, {"looking_for_id": 5}, {}),
    "smoking": Case({"smoking": ["No"]}, {"smoking_id": 3}, {"smoking_id": 2}),
    "drinking": Case({"drinking": ["Often"]}, {"drinking_id": 2}, {}),
    "drugs": Case({"drugs": ["Yes"]}, {"drugs_id": 2}, {}),
    "long_distance": Case({"long_distance": ["Yes"]}, {"long_distance_id": 2}, {}),
    "relationship_status": Case(
        {"relationship_status": ["Single"]}, {"relationship_status_id": 2}, {}
    ),
    "has_kids": Case({"has_kids": ["No"]}, {"has_kids_id": 3}, {}),
    "wants_kids": Case({"wants_kids": ["Maybe"]}, {"wants_kids_id": 4}, {}),
    "exercise": Case({"exercise": ["Never"]}, {"exercise_id": 4}, {}),
    "religion": Case({"religion": ["Atheist"]}, {"religion_id": 3}, {}),
    "star_sign": Case({"star_sign": ["Virgo"]}, {"star_sign_id": 13}, {}),
    "unknown names only: nobody": Case({"star_sign": ["Ophiuchus"]}, None, {}),  # type: ignore[arg-type]
    "has_a_profile_picture": Case({"has_a_profile_picture": ["Yes"]}, setup=_photo_for_passer),
    "people_you_messaged": Case(
        {"people_you_messaged": "No"},
        setup=sql_hook("INSERT INTO messaged VALUES ($1, $2), ($3, $1)", "me", "failer", "passer"),
    ),
    "people_you_skipped": Case(
        setup=sql_hook(
            "INSERT INTO skipped (subject_person_id, object_person_id) VALUES ($1, $2)",
            "me",
            "failer",
        )
    ),
    "Q&A answers": Case(setup=_qa_filter),
    "50 % floor": Case(None, {"personality": vec(0.0)}, {"personality": vec(-0.1)}),
    "verification required": Case(
        None,
        {"verification_required": True, "verification_level_id": 3},
        {"verification_required": True},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_filter_alone(client: httpx.AsyncClient, svc: Services, name: str) -> None:
    case = CASES[name]
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me", personality=vec(0.5))
        passer = await onboarded_user(
            svc, "Passer", **({"personality": vec(0.5)} | (case.passes or {}))
        )
        failer = await onboarded_user(svc, "Failer", **({"personality": vec(0.5)} | case.fails))
        if case.filter is not None:
            r = await client.post("/search-filter", json=case.filter, headers=me.headers)
            assert r.status_code == 200, r.text
        if case.setup is not None:
            await case.setup(svc, me, passer, failer)
        expected = [] if case.passes is None else ["Passer"]
        assert names(await search(client, me, n=10, o=0)) == expected


async def test_filters_combined(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        unlimited(svc)
        me = await onboarded_user(svc, "Me", personality=vec(0.5))
        good = {
            "gender": "Man",
            "height_cm": 180,
            "religion_id": 3,
            "smoking_id": 3,
            "date_of_birth": _years_ago(28),
        }
        await onboarded_user(svc, "All", personality=vec(0.5), **good, **MELBOURNE)
        await onboarded_user(svc, "Closer", personality=vec(0.9), **good)
        await onboarded_user(svc, "WrongReligion", **(good | {"religion_id": 4}))
        await onboarded_user(svc, "Smokes", **(good | {"smoking_id": 2}))
        await onboarded_user(svc, "Short", **(good | {"height_cm": 160}))
        await onboarded_user(svc, "Old", **(good | {"date_of_birth": _years_ago(50)}))
        await onboarded_user(svc, "Woman", **(good | {"gender": "Woman"}))
        await onboarded_user(svc, "Far", **(good | {"latitude": -31.9523, "longitude": 115.8613}))
        for body in (
            {"gender": ["Man"]},
            {"height": {"min_height_cm": 175, "max_height_cm": 200}},
            {"religion": ["Atheist", "Agnostic"]},
            {"smoking": ["No", "Unanswered"]},
            {"age": {"min_age": 20, "max_age": 40}},
            {"furthest_distance": 1000},
        ):
            assert (
                await client.post("/search-filter", json=body, headers=me.headers)
            ).status_code == 200
        assert names(await search(client, me, n=10, o=0)) == ["Closer", "All"]
