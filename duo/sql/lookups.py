"""Lookup attributes: the small name tables (``gender``, ``frequency``, …) and which
``person`` column holds an id of which table."""

from __future__ import annotations

from duo.sql.database import Queryable

# Profile field → (lookup table, person column). has_kids uses yes_no_optional (README:
# one vocabulary; the column and the search filter both use it).
PERSON_LOOKUPS = {
    "gender": ("gender", "gender_id"),
    "orientation": ("orientation", "orientation_id"),
    "ethnicity": ("ethnicity", "ethnicity_id"),
    "looking_for": ("looking_for", "looking_for_id"),
    "smoking": ("yes_no_optional", "smoking_id"),
    "drinking": ("frequency", "drinking_id"),
    "drugs": ("yes_no_optional", "drugs_id"),
    "long_distance": ("yes_no_optional", "long_distance_id"),
    "relationship_status": ("relationship_status", "relationship_status_id"),
    "has_kids": ("yes_no_optional", "has_kids_id"),
    "wants_kids": ("yes_no_maybe", "wants_kids_id"),
    "exercise": ("frequency", "exercise_id"),
    "religion": ("religion", "religion_id"),
    "star_sign": ("star_sign", "star_sign_id"),
    "units": ("unit", "unit_id"),
    "chats": ("immediacy", "chats_notification"),
    "intros": ("immediacy", "intros_notification"),
    "verification_level": ("verification_level", "privacy_verification_level_id"),
}


# The lookup attributes a profile shows and a search filters by, each with a
# ``search_preference_<name>`` table of the accepted ids.
ATTRIBUTES = (
    "orientation", "ethnicity", "looking_for", "smoking", "drinking", "drugs", "long_distance",
    "relationship_status", "has_kids", "wants_kids", "exercise", "religion", "star_sign",
)


async def id_of(db: Queryable, table: str, name: str) -> int | None:
    """The id of a name in a lookup table (a name from :data:`PERSON_LOOKUPS`), or None."""
    value_id: int | None = await db.fetchval(f"SELECT id FROM {table} WHERE name = $1", name)
    return value_id


async def gender_ids(db: Queryable, names: list[str]) -> list[int]:
    """Ids of the known names among ``names`` (unknown names are left out)."""
    rows = await db.fetch("SELECT id FROM gender WHERE name = ANY($1::text[])", names)
    return [r["id"] for r in rows]
