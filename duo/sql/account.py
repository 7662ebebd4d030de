"""Queries of the account lifecycle (http-api-accounts §7): deactivation, export tokens and
the rows of the data export (deletion: :mod:`duo.sql.account_deletion`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from duo.sql.database import Connection, Queryable


async def deactivate(conn: Connection, person_id: int) -> bool:
    """Deactivate the account; False if it already was."""
    return bool(
        await conn.fetchval("UPDATE person SET activated = FALSE WHERE id = $1 AND activated RETURNING id", person_id)
    )


async def new_export_token(db: Queryable, person_id: int, now: dt.datetime, expires_at: dt.datetime) -> uuid.UUID:
    token: uuid.UUID = await db.fetchval(
        """INSERT INTO export_data_token (person_id, generated_at, expires_at)
           VALUES ($1, $2, $3) RETURNING token""",
        person_id,
        now,
        expires_at,
    )
    return token


async def redeem_export_token(conn: Connection, token: uuid.UUID, now: dt.datetime) -> int | None:
    """Use a token up: its person's id if it had not expired, else None."""
    person_id: int | None = await conn.fetchval(
        "DELETE FROM export_data_token WHERE token = $1 RETURNING CASE WHEN expires_at > $2 THEN person_id END",
        token,
        now,
    )
    return person_id


# (name column, lookup table, person column): every lookup id of a person, resolved
# against the table its column references (README: "data export names resolve correctly").
PERSON_NAMES = (
    ("gender_name", "gender", "gender_id"),
    ("has_profile_picture_name", "yes_no", "has_profile_picture_id"),
    ("verification_level_name", "verification_level", "verification_level_id"),
    ("orientation_name", "orientation", "orientation_id"),
    ("ethnicity_name", "ethnicity", "ethnicity_id"),
    ("looking_for_name", "looking_for", "looking_for_id"),
    ("smoking_name", "yes_no_optional", "smoking_id"),
    ("drinking_name", "frequency", "drinking_id"),
    ("drugs_name", "yes_no_optional", "drugs_id"),
    ("long_distance_name", "yes_no_optional", "long_distance_id"),
    ("relationship_status_name", "relationship_status", "relationship_status_id"),
    ("has_kids_name", "yes_no_optional", "has_kids_id"),
    ("wants_kids_name", "yes_no_maybe", "wants_kids_id"),
    ("exercise_name", "frequency", "exercise_id"),
    ("religion_name", "religion", "religion_id"),
    ("star_sign_name", "star_sign", "star_sign_id"),
    ("unit_name", "unit", "unit_id"),
    ("chats_notification_name", "immediacy", "chats_notification"),
    ("intros_notification_name", "immediacy", "intros_notification"),
    ("privacy_verification_level_name", "verification_level", "privacy_verification_level_id"),
)

_PERSON_SQL = "SELECT p.*, p.personality::text AS personality_text, {} FROM person p WHERE p.id = $1".format(
    ", ".join(f"(SELECT name FROM {table} WHERE id = p.{column}) AS {key}" for key, table, column in PERSON_NAMES)
)

# Table of the export → the query of the person's rows in it, in the order §7.4 lists them.
_OWN_ROWS = {
    "person": _PERSON_SQL,
    "photo": "SELECT * FROM photo WHERE person_id = $1 ORDER BY position",
    "answer": """SELECT q.id, q.question, a.answer, a.public_
                 FROM answer a JOIN question q ON q.id = a.question_id
                 WHERE a.person_id = $1 ORDER BY q.id""",
    "verification_job": "SELECT * FROM verification_job WHERE person_id = $1 ORDER BY id",
    "person_club": "SELECT * FROM person_club WHERE person_id = $1 ORDER BY club_name",
    "skipped": "SELECT * FROM skipped WHERE subject_person_id = $1 ORDER BY created_at, object_person_id",
    "messaged": "SELECT * FROM messaged WHERE subject_person_id = $1 ORDER BY created_at, object_person_id",
    "mam_message": "SELECT * FROM mam_message WHERE person_id = $1 ORDER BY id",
}


async def own_rows(conn: Connection, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """The person's own rows, one list per table; the person row's lookup ids come with
    their names (``*_name``) and its personality vector as text (``personality_text``)."""
    return {table: [dict(row) for row in await conn.fetch(query, person_id)] for table, query in _OWN_ROWS.items()}
