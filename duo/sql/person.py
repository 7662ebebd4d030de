"""Queries of ``person`` columns: the own profile as the editor reads it, the columns the
editor writes, and the row onboarding creates."""

from __future__ import annotations

import datetime as dt

from asyncpg import Record

from duo.sql.database import Connection, Queryable


async def profile(conn: Connection, person_id: int) -> Record:
    """The person's columns with every lookup id resolved to its name, the audio bio's
    media id and the name of the nearest location."""
    row = await conn.fetchrow(
        """SELECT p.name, p.about, p.occupation, p.education, p.height_cm, p.latitude, p.longitude,
                  p.show_my_location, p.show_my_age, p.hide_me_from_strangers,
                  p.verified_gender, p.verified_age, p.verified_ethnicity,
                  p.title_color, p.body_color, p.background_color,
                  g.name AS gender, o.name AS orientation, e.name AS ethnicity,
                  lf.name AS looking_for, sm.name AS smoking, dr.name AS drinking, du.name AS drugs,
                  ld.name AS long_distance, rs.name AS relationship_status, hk.name AS has_kids,
                  wk.name AS wants_kids, ex.name AS exercise, re.name AS religion,
                  ss.name AS star_sign, u.name AS units, ch.name AS chats, it.name AS intros,
                  vl.name AS verification_level,
                  (SELECT uuid FROM audio WHERE person_id = p.id AND position = -1) AS audio_bio,
                  (SELECT long_friendly FROM location
                   WHERE id = nearest_location_id(p.latitude, p.longitude)) AS location
           FROM person p
           JOIN gender g ON g.id = p.gender_id
           JOIN orientation o ON o.id = p.orientation_id
           JOIN ethnicity e ON e.id = p.ethnicity_id
           JOIN looking_for lf ON lf.id = p.looking_for_id
           JOIN yes_no_optional sm ON sm.id = p.smoking_id
           JOIN frequency dr ON dr.id = p.drinking_id
           JOIN yes_no_optional du ON du.id = p.drugs_id
           JOIN yes_no_optional ld ON ld.id = p.long_distance_id
           JOIN relationship_status rs ON rs.id = p.relationship_status_id
           JOIN yes_no_optional hk ON hk.id = p.has_kids_id
           JOIN yes_no_maybe wk ON wk.id = p.wants_kids_id
           JOIN frequency ex ON ex.id = p.exercise_id
           JOIN religion re ON re.id = p.religion_id
           JOIN star_sign ss ON ss.id = p.star_sign_id
           JOIN unit u ON u.id = p.unit_id
           JOIN immediacy ch ON ch.id = p.chats_notification
           JOIN immediacy it ON it.id = p.intros_notification
           JOIN verification_level vl ON vl.id = p.privacy_verification_level_id
           WHERE p.id = $1""",
        person_id,
    )
    assert row is not None
    return row


async def clubs_of(conn: Connection, person_id: int) -> list[Record]:
    """Name and member count of each club the person joined, by name."""
    return await conn.fetch(
        """SELECT c.name, c.count_members FROM person_club pc JOIN club c ON c.name = pc.club_name
           WHERE pc.person_id = $1 ORDER BY c.name""",
        person_id,
    )


async def has_gold(db: Queryable, person_id: int) -> bool:
    return bool(await db.fetchval("SELECT has_gold FROM person WHERE id = $1", person_id))


async def set_column(db: Queryable, person_id: int, column: str, value: object) -> None:
    """Set one column (a name from the caller's table of columns, never from a request)."""
    await db.execute(f"UPDATE person SET {column} = $2 WHERE id = $1", person_id, value)


async def set_unverified(db: Queryable, person_id: int, column: str, flag: str, value_id: int) -> None:
    """Set a verified attribute; a change clears its ``verified_*`` flag."""
    await db.execute(
        f"UPDATE person SET {column} = $2, {flag} = FALSE WHERE id = $1 AND {column} <> $2", person_id, value_id
    )


async def set_theme(db: Queryable, person_id: int, title_color: str, body_color: str, background_color: str) -> None:
    await db.execute(
        "UPDATE person SET title_color = $2, body_color = $3, background_color = $4 WHERE id = $1",
        person_id,
        title_color,
        body_color,
        background_color,
    )


async def set_place(db: Queryable, person_id: int, latitude: float, longitude: float, verification_required: bool) -> None:
    """Move the person; a place that requires verification keeps requiring it."""
    await db.execute(
        """UPDATE person SET latitude = $2, longitude = $3,
                  verification_required = verification_required OR $4
           WHERE id = $1""",
        person_id,
        latitude,
        longitude,
        verification_required,
    )


async def about(db: Queryable, person_id: int) -> str:
    text: str = await db.fetchval("SELECT about FROM person WHERE id = $1", person_id)
    return text


async def set_about(conn: Connection, person_id: int, text: str) -> Record:
    """Store the text and queue it for moderation; answers the body and background colours."""
    colours = await conn.fetchrow(
        "UPDATE person SET about = $2 WHERE id = $1 RETURNING body_color, background_color", person_id, text
    )
    assert colours is not None
    await conn.execute(
        "INSERT INTO unmoderated_person (person_id, trait) VALUES ($1, 'about') ON CONFLICT DO NOTHING",
        person_id,
    )
    return colours


async def create(
    conn: Connection,
    email: str,
    normalized_email: str,
    name: str,
    date_of_birth: dt.date,
    latitude: float,
    longitude: float,
    gender_id: int,
    has_profile_picture: str,
    units: str,
    privacy_verification_level_id: int,
    verification_required: bool,
    now: dt.datetime,
) -> int:
    """Insert the new account's row with the onboarding defaults; answers its id."""
    person_id: int = await conn.fetchval(
        """INSERT INTO person
             (email, normalized_email, name, date_of_birth, latitude, longitude, gender_id, about,
              has_profile_picture_id, unit_id, intros_notification, chats_notification,
              privacy_verification_level_id, verification_required,
              sign_up_time, sign_in_time, last_online_time, last_event_time, last_visitor_check_time)
           VALUES ($1, $2, $3, $4, $5, $6, $7, '',
                   (SELECT id FROM yes_no WHERE name = $8),
                   (SELECT id FROM unit WHERE name = $9),
                   (SELECT id FROM immediacy WHERE name = 'Daily'),
                   (SELECT id FROM immediacy WHERE name = 'Immediately'),
                   $10, $11, $12, $12, $12, $12, $12)
           RETURNING id""",
        email,
        normalized_email,
        name,
        date_of_birth,
        latitude,
        longitude,
        gender_id,
        has_profile_picture,
        units,
        privacy_verification_level_id,
        verification_required,
        now,
    )
    return person_id


SUMMARY = """
SELECT f.estimated_end_date,
       (SELECT count_members FROM club WHERE name = $2) AS pending_count,
       p.id, p.uuid, p.name, u.name AS units, p.has_gold, p.last_nag_time, p.sign_up_time,
       p.count_answers,
       (SELECT COALESCE(json_agg(json_build_object(
                   'name', pc.club_name, 'count_members', -1,
                   'search_preference', pc.club_name IS NOT DISTINCT FROM sp.club_name)
                 ORDER BY pc.club_name), '[]'::json)
        FROM person_club pc
        LEFT JOIN search_preference_club sp ON sp.person_id = pc.person_id
        WHERE pc.person_id = p.id) AS clubs
FROM funding f
LEFT JOIN person p ON p.id = $1
LEFT JOIN unit u ON u.id = p.unit_id
WHERE f.id = 1
"""


async def summary(db: Queryable, person_id: int | None, pending_club_name: str | None) -> Record:
    """What the account summary shows: the funding end date, the pending club's member
    count, and (null for a new user) the account's name, units, gold, nag times and clubs."""
    row = await db.fetchrow(SUMMARY, person_id, pending_club_name)
    assert row is not None
    return row
