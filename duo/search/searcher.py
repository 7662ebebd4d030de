"""Everything the uncached search needs to know about the searcher (matching.md §9.1),
read in one round trip so that the ranking statement can be built for exactly the filters
that are set.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from duo.search.filters import ONE_WAY, SET_FILTERS, YES
from duo.sql.database import Connection


@attrs.frozen
class QaFilter:
    question_id: int
    answer: bool
    accept_unanswered: bool


@attrs.frozen
class Searcher:
    person_id: int
    personality: NDArray[np.float32]
    gender_id: int
    date_of_birth: dt.date
    count_answers: int
    latitude: float
    longitude: float
    distance_km: int | None  # None: unlimited
    club: str | None
    genders: list[int]
    age: tuple[int | None, int | None] | None  # None: no age-preference row
    height: tuple[int | None, int | None]
    allowed: dict[str, list[int]]  # one-way filter key → allowed ids
    messaged_ok: bool
    skipped_ok: bool
    qa: list[QaFilter]

    def age_on(self, today: dt.date) -> int:
        return years_between(self.date_of_birth, today)


def years_between(born: dt.date, today: dt.date) -> int:
    """Whole years, the usual "birthday passed" rule (matching.md §9.7)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _ids(table: str, column: str) -> str:
    return f"ARRAY(SELECT {column} FROM {table} WHERE person_id = $1)"


_LOAD = f"""
SELECT p.personality, p.gender_id, p.date_of_birth, p.count_answers, p.latitude, p.longitude,
       (SELECT distance FROM search_preference_distance WHERE person_id = $1) AS distance_km,
       (SELECT club_name FROM search_preference_club WHERE person_id = $1) AS club,
       (SELECT ARRAY[min_age, max_age] FROM search_preference_age WHERE person_id = $1) AS age,
       (SELECT ARRAY[min_height_cm, max_height_cm] FROM search_preference_height_cm WHERE person_id = $1) AS height,
       COALESCE((SELECT messaged_id = {YES} FROM search_preference_messaged WHERE person_id = $1), FALSE) AS messaged_ok,
       COALESCE((SELECT skipped_id = {YES} FROM search_preference_skipped WHERE person_id = $1), FALSE) AS skipped_ok,
       ARRAY(SELECT ARRAY[question_id::INT, answer::INT, accept_unanswered::INT]
             FROM search_preference_answer WHERE person_id = $1 ORDER BY question_id) AS qa,
       {", ".join(_ids(f.table, f.column) + f" AS {f.key}" for f in SET_FILTERS.values())}
FROM person p
WHERE p.id = $1
"""


async def load_searcher(conn: Connection, person_id: int) -> Searcher:
    row = await conn.fetchrow(_LOAD, person_id)
    assert row is not None
    age: Any = row["age"]
    height: Any = row["height"] or [None, None]
    return Searcher(
        person_id=person_id,
        personality=row["personality"],
        gender_id=row["gender_id"],
        date_of_birth=row["date_of_birth"],
        count_answers=row["count_answers"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        distance_km=row["distance_km"],
        club=row["club"],
        genders=list(row["gender"]),
        age=None if age is None else (age[0], age[1]),
        height=(height[0], height[1]),
        allowed={f.key: list(row[f.key]) for f in ONE_WAY},
        messaged_ok=row["messaged_ok"],
        skipped_ok=row["skipped_ok"],
        qa=[QaFilter(q, bool(a), bool(u)) for q, a, u in row["qa"]],
    )
