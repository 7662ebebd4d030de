"""Default search preferences of a new account (http-api-accounts §4.4, matching.md §15)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import attrs

from duo.sql.database import Connection
from duo.sql.lookups import ATTRIBUTES, PERSON_LOOKUPS

TARGET = 2000
COUNT_CAP = 4000
MIN_USEFUL = 500
MAX_KM = 10_000
FAR_KM = 9000
SENTINEL_COUNT = 10**9
PROBES = 5

# Preference tables that start with every value of their lookup table (nothing filtered).
ALL_VALUES = {
    **{f"search_preference_{name}": (PERSON_LOOKUPS[name][1], PERSON_LOOKUPS[name][0]) for name in ATTRIBUTES},
    "search_preference_has_profile_picture": ("has_profile_picture_id", "yes_no"),
}


def age_on(date_of_birth: dt.date, today: dt.date) -> int:
    """Whole years (the usual "birthday passed" rule)."""
    return today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def _round_half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), halves away from zero, for positive values."""
    return (2 * numerator + denominator) // (2 * denominator)


def default_age_range(age: int) -> tuple[int | None, int | None]:
    """``round(a − 2 − (a − 18)/5)`` … ``round(a + 2 + (a − 18)/5)``, open-ended at 18 / 99."""
    low = _round_half_up(4 * age + 8, 5)
    high = _round_half_up(6 * age - 8, 5)
    return (None if low <= 18 else low, None if high >= 99 else high)


@attrs.frozen
class Newcomer:
    """What the compatibility count needs of the person being created."""

    latitude: float
    longitude: float
    gender_id: int
    age: int
    wanted_gender_ids: list[int]
    min_age: int | None
    max_age: int | None


async def count_compatible(conn: Connection, who: Newcomer, radius_km: float, today: dt.date) -> int:
    """Activated people within ``radius_km`` whose and whom preferences (gender, distance,
    age) match both ways, capped at 4000."""
    return int(
        await conn.fetchval(
            """SELECT count(*) FROM (
                 SELECT 1 FROM person p
                 WHERE p.activated
                   AND p.gender_id = ANY($3::smallint[])
                   AND p.coordinates <@ geo_bbox($1, $2, $4)
                   AND geo_distance_m(p.latitude, p.longitude, $1, $2) <= $4
                   AND p.date_of_birth <= $8::date - make_interval(years => COALESCE($6, 0))
                   AND p.date_of_birth > $8::date - make_interval(years => COALESCE($7, 998) + 1)
                   AND EXISTS (SELECT 1 FROM search_preference_gender g
                               WHERE g.person_id = p.id AND g.gender_id = $5)
                   AND geo_distance_m(p.latitude, p.longitude, $1, $2) <= 1000.0 * COALESCE(
                         (SELECT d.distance FROM search_preference_distance d WHERE d.person_id = p.id),
                         1000000)
                   AND EXISTS (SELECT 1 FROM search_preference_age a
                               WHERE a.person_id = p.id
                                 AND $9 BETWEEN COALESCE(a.min_age, 0) AND COALESCE(a.max_age, 999))
                 LIMIT $10
               ) compatible""",
            who.latitude,
            who.longitude,
            who.wanted_gender_ids,
            radius_km * 1000.0,
            who.gender_id,
            who.min_age,
            who.max_age,
            today,
            who.age,
            COUNT_CAP,
        )
    )


Point = tuple[float, int]  # (distance in km, compatible people within it)


async def bisect_distance(count_at: Callable[[float], Awaitable[int]]) -> Point:
    """Five probes towards the radius holding about 2000 people (§4.4).

    Each step probes the midpoint of the two known points whose counts are nearest the
    target; a probe that finds nobody is dropped. The answer is the middle point of the
    last set. When that is the 10000 km sentinel, whose count is made up, it is counted
    for real, so an almost empty population gets "unlimited", not 9000 km (§15 item 17).
    """
    points: list[Point] = [(0.0, 0), (float(MAX_KM), SENTINEL_COUNT)]
    for _ in range(PROBES):
        chosen = sorted(points, key=lambda p: (abs(p[1] - TARGET), p[0]))[:2]
        probe = (chosen[0][0] + chosen[1][0]) / 2
        found = await count_at(probe)
        points = chosen + ([(probe, found)] if found else [])
    distance, found = sorted(points)[1]
    if found == SENTINEL_COUNT:
        found = await count_at(distance)
    return min(distance, float(MAX_KM)), found


def furthest_distance(point: Point, *, has_pending_club: bool) -> int | None:
    """The stored preference in whole km: unlimited with too few people or for club sign-ups."""
    distance, found = point
    if found < MIN_USEFUL:
        return None
    if distance > FAR_KM:
        return FAR_KM
    if has_pending_club:
        return None
    return int(distance + 0.5)


async def create_search_preferences(
    conn: Connection,
    person_id: int,
    *,
    gender_ids: list[int],
    age_range: tuple[int | None, int | None],
    distance_km: int | None,
) -> None:
    """Every default preference row of §4.4 step 5."""
    await conn.execute(
        "INSERT INTO search_preference_gender (person_id, gender_id) SELECT $1, unnest($2::smallint[])",
        person_id,
        gender_ids,
    )
    for table, (column, lookup) in ALL_VALUES.items():
        await conn.execute(f"INSERT INTO {table} (person_id, {column}) SELECT $1, id FROM {lookup}", person_id)
    await conn.execute(
        "INSERT INTO search_preference_height_cm (person_id, min_height_cm, max_height_cm) VALUES ($1, NULL, NULL)",
        person_id,
    )
    await conn.execute(
        "INSERT INTO search_preference_messaged (person_id, messaged_id) SELECT $1, id FROM yes_no WHERE name = 'Yes'",
        person_id,
    )
    await conn.execute(
        "INSERT INTO search_preference_skipped (person_id, skipped_id) SELECT $1, id FROM yes_no WHERE name = 'No'",
        person_id,
    )
    await conn.execute(
        "INSERT INTO search_preference_age (person_id, min_age, max_age) VALUES ($1, $2, $3)",
        person_id,
        *age_range,
    )
    await conn.execute(
        "INSERT INTO search_preference_distance (person_id, distance) VALUES ($1, $2)", person_id, distance_km
    )
