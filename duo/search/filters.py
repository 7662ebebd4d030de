"""The searcher's stored filters (http-api-social §5.1–§5.2): one ``search_preference_*``
table per filter, read all at once and replaced one at a time.
"""

from __future__ import annotations

from typing import Any

import attrs

from duo.sql.database import Connection


@attrs.frozen
class SetFilter:
    """A filter that is a set of allowed values of one lookup list.

    ``column`` names the id column both in ``search_preference_<table>`` and in ``person``
    (the prospect's own value), so the same record drives storage and the search filter.
    """

    key: str
    table: str
    column: str
    lookup: str


def _set(key: str, lookup: str, table: str | None = None) -> SetFilter:
    table = table or key
    return SetFilter(key, f"search_preference_{table}", f"{table}_id", lookup)


GENDER = _set("gender", "gender")
ONE_WAY: tuple[SetFilter, ...] = (
    _set("orientation", "orientation"),
    _set("ethnicity", "ethnicity"),
    _set("has_a_profile_picture", "yes_no", "has_profile_picture"),
    _set("looking_for", "looking_for"),
    _set("smoking", "yes_no_optional"),
    _set("drinking", "frequency"),
    _set("drugs", "yes_no_optional"),
    _set("long_distance", "yes_no_optional"),
    _set("relationship_status", "relationship_status"),
    _set("has_kids", "yes_no_optional"),
    _set("wants_kids", "yes_no_maybe"),
    _set("exercise", "frequency"),
    _set("religion", "religion"),
    _set("star_sign", "star_sign"),
)
"""The attribute filters of matching.md §9.4 (f): only the searcher's preference applies."""
SET_FILTERS: dict[str, SetFilter] = {f.key: f for f in (GENDER, *ONE_WAY)}

YES, NO = 1, 2  # yes_no ids (§16)

# Names sort in code-point order: for these lists it is also the order of the reference's
# en_US collation, and it does not depend on how the database was initialised.
_NAMES = 'ARRAY(SELECT l.name FROM {table} s JOIN {lookup} l ON l.id = s.{column} WHERE s.person_id = $1 ORDER BY l.name COLLATE "C")'

_READ_ALL = f"""
SELECT
    (SELECT COALESCE(json_agg(json_build_object(
                'question_id', f.question_id, 'question', q.question, 'topic', q.topic,
                'answer', f.answer, 'accept_unanswered', f.accept_unanswered)
            ORDER BY f.question_id), '[]'::json)
     FROM search_preference_answer f JOIN question q ON q.id = f.question_id
     WHERE f.person_id = $1) AS answer,
    (SELECT json_build_object('min_age', min_age, 'max_age', max_age)
     FROM search_preference_age WHERE person_id = $1) AS age,
    (SELECT distance FROM search_preference_distance WHERE person_id = $1) AS furthest_distance,
    (SELECT json_build_object('min_height_cm', min_height_cm, 'max_height_cm', max_height_cm)
     FROM search_preference_height_cm WHERE person_id = $1) AS height,
    (SELECT l.name FROM search_preference_messaged s JOIN yes_no l ON l.id = s.messaged_id
     WHERE s.person_id = $1) AS people_you_messaged,
    (SELECT l.name FROM search_preference_skipped s JOIN yes_no l ON l.id = s.skipped_id
     WHERE s.person_id = $1) AS people_you_skipped,
    {", ".join(_NAMES.format(table=f.table, lookup=f.lookup, column=f.column) + f" AS {f.key}" for f in SET_FILTERS.values())}
"""


async def read_filters(conn: Connection, person_id: int) -> dict[str, Any]:
    """The ``GET /search-filters`` object: every key present, ``[]``/null when unset."""
    row = await conn.fetchrow(_READ_ALL, person_id)
    assert row is not None
    return dict(row)


async def replace_set(conn: Connection, person_id: int, spec: SetFilter, names: list[str]) -> None:
    """Replace the allowed values; names that match no value are dropped (§5.2)."""
    await conn.execute(f"DELETE FROM {spec.table} WHERE person_id = $1", person_id)
    await conn.execute(
        f"""INSERT INTO {spec.table} (person_id, {spec.column})
            SELECT $1, id FROM {spec.lookup} WHERE name = ANY($2::text[])""",
        person_id,
        names,
    )


async def replace_range(
    conn: Connection, person_id: int, key: str, low: int | None, high: int | None
) -> None:
    """``age`` or ``height``: one row holding both bounds."""
    table, columns = {
        "age": ("search_preference_age", "min_age, max_age"),
        "height": ("search_preference_height_cm", "min_height_cm, max_height_cm"),
    }[key]
    await conn.execute(f"DELETE FROM {table} WHERE person_id = $1", person_id)
    await conn.execute(
        f"INSERT INTO {table} (person_id, {columns}) VALUES ($1, $2, $3)", person_id, low, high
    )


async def replace_distance(conn: Connection, person_id: int, km: int | None) -> None:
    await conn.execute("DELETE FROM search_preference_distance WHERE person_id = $1", person_id)
    await conn.execute(
        "INSERT INTO search_preference_distance (person_id, distance) VALUES ($1, $2)",
        person_id,
        km,
    )


async def replace_yes_no(conn: Connection, person_id: int, key: str, name: str) -> None:
    """``people_you_messaged`` / ``people_you_skipped``; an unknown name leaves no row (= No)."""
    table, column = {
        "people_you_messaged": ("search_preference_messaged", "messaged_id"),
        "people_you_skipped": ("search_preference_skipped", "skipped_id"),
    }[key]
    await conn.execute(f"DELETE FROM {table} WHERE person_id = $1", person_id)
    await conn.execute(
        f"INSERT INTO {table} (person_id, {column}) SELECT $1, id FROM yes_no WHERE name = $2",
        person_id,
        name,
    )
