"""Queries of other people (http-api-social §7.1, §8–§10): profiles, skips, inbox info and
visitors. Who may see whom comes from :mod:`duo.visibility`."""

from __future__ import annotations

import datetime as dt
import uuid

from asyncpg import Record

from duo import person_view as pv
from duo import visibility
from duo.sql.database import Connection, Database, Queryable, QueryTimeout
from duo.sql.lookups import ATTRIBUTES, PERSON_LOOKUPS

# -- §7.1 prospect profile -----------------------------------------------------------------

# The lookup attributes by name; 'Unanswered' is shown as null.
_LOOKUP_COLUMNS = ",\n".join(
    f"NULLIF((SELECT name FROM {table} WHERE id = p.{column}), 'Unanswered') AS {key}"
    for key, (table, column) in ((key, PERSON_LOOKUPS[key]) for key in ATTRIBUTES)
)

PROFILE_SQL = f"""
SELECT p.id AS person_id, p.name, p.about, p.count_answers, p.occupation, p.education,
       p.height_cm, p.verified_age, p.verified_gender, p.verified_ethnicity, p.sign_up_time,
       {pv.shown_age("p", "$3")} AS age,
       {pv.shown_location("p")} AS location,
       match_percentage(me.personality, p.personality) AS match_percentage,
       {visibility.skipped("$1", "p.id")} AS is_skipped,
       {pv.whole_seconds_since("p.last_online_time", "$3")} AS seconds_since_last_online,
       {pv.whole_seconds_since("p.sign_up_time", "$3")} AS seconds_since_sign_up,
       {pv.flair("p", "$3")} AS flair,
       ph.photo_uuids, ph.photo_extra_exts, ph.photo_blurhashes, ph.photo_verifications,
       {pv.voice_bio("p")} AS audio_bio_uuid,
       (SELECT name FROM gender WHERE id = p.gender_id) AS gender,
       {_LOOKUP_COLUMNS},
       ARRAY(SELECT club_name FROM person_club pc WHERE pc.person_id = p.id
               AND EXISTS (SELECT 1 FROM person_club mine
                           WHERE mine.person_id = $1 AND mine.club_name = pc.club_name)
             ORDER BY club_name) AS mutual_clubs,
       ARRAY(SELECT club_name FROM person_club pc WHERE pc.person_id = p.id
               AND NOT EXISTS (SELECT 1 FROM person_club mine
                               WHERE mine.person_id = $1 AND mine.club_name = pc.club_name)
             ORDER BY club_name) AS other_clubs,
       json_build_object('title_color', p.title_color, 'body_color', p.body_color,
                         'background_color', p.background_color) AS theme
FROM person p
JOIN person me ON me.id = $1
CROSS JOIN LATERAL (  -- all photo columns in one read of the person's photos
    SELECT COALESCE(array_agg(uuid ORDER BY position), '{{}}') AS photo_uuids,
           COALESCE(json_agg(extra_exts ORDER BY position), '[]'::json) AS photo_extra_exts,
           COALESCE(array_agg(blurhash ORDER BY position), '{{}}') AS photo_blurhashes,
           COALESCE(array_agg(verified ORDER BY position), '{{}}') AS photo_verifications
    FROM photo WHERE person_id = p.id
) ph
WHERE p.uuid = $2 AND {visibility.visible_to("$1", "p")}
"""

# The profile and, in the same round trip, the visit (README: self-visits are not recorded).
PROFILE_AND_VISIT_SQL = f"""
WITH shown AS MATERIALIZED ({PROFILE_SQL}),
visit AS (
    INSERT INTO visited (subject_person_id, object_person_id, updated_at)
    SELECT $1, person_id, $3 FROM shown WHERE person_id <> $1
    ON CONFLICT (subject_person_id, object_person_id) DO UPDATE SET updated_at = EXCLUDED.updated_at
)
SELECT * FROM shown
"""

# Each pair (P, X): when P first messaged X (t_sent) and X first messaged P (t_recv); $1 is P's uuid.
REPLY_STATS_SQL = """
WITH pairs AS (
    SELECT sent.created_at AS t_sent, recv.created_at AS t_recv
    FROM (SELECT object_person_id AS x, created_at FROM messaged
          WHERE subject_person_id = (SELECT id FROM person WHERE uuid = $1)) sent
    FULL JOIN (SELECT subject_person_id AS x, created_at FROM messaged
               WHERE object_person_id = (SELECT id FROM person WHERE uuid = $1)) recv
    USING (x)
)
SELECT count(*) FILTER (WHERE t_recv IS NULL OR t_sent <= t_recv) AS sent,
       count(*) FILTER (WHERE t_sent <= t_recv) AS sent_replied,
       count(*) FILTER (WHERE t_sent IS NULL OR t_recv <= t_sent) AS received,
       count(*) FILTER (WHERE t_recv <= t_sent) AS received_replied
FROM pairs
"""




async def profile_and_visit(db: Queryable, viewer_id: int, prospect: uuid.UUID, now: dt.datetime) -> Record | None:
    """The prospect's profile if the viewer may see it, recording the visit; else None."""
    return await db.fetchrow(PROFILE_AND_VISIT_SQL, viewer_id, prospect, now)


async def reply_counts(db: Database, person: uuid.UUID, timeout: float) -> Record | None:
    """Intros sent and received and how many got a reply; None if over ``timeout`` seconds
    (one statement with asyncpg's timeout: no transaction round trips for a SET LOCAL)."""
    try:
        row = await db.fetchrow(REPLY_STATS_SQL, person, timeout=timeout)
    except QueryTimeout:
        return None
    assert row is not None
    return row


# -- §8 skip, report, unskip ---------------------------------------------------------------


async def person_id_of(conn: Connection, person: uuid.UUID) -> int | None:
    person_id: int | None = await conn.fetchval("SELECT id FROM person WHERE uuid = $1", person)
    return person_id


async def unskip(db: Queryable, subject_id: int, object_: int | uuid.UUID) -> None:
    """Undo a skip of a person named by id or by uuid (an unknown one changes nothing)."""
    object_sql = "(SELECT id FROM person WHERE uuid = $2)" if isinstance(object_, uuid.UUID) else "$2"
    await db.execute(
        f"DELETE FROM skipped WHERE subject_person_id = $1 AND object_person_id = {object_sql}", subject_id, object_
    )


# -- §9 inbox info -------------------------------------------------------------------------

INBOX_INFO_SQL = f"""
SELECT p.id AS person_id, p.uuid AS person_uuid,
       CASE WHEN h.hidden THEN NULL ELSE p.name END AS name,
       NOT h.hidden AND p.verification_level_id > 1 AS verified,
       CASE WHEN h.hidden THEN NULL ELSE match_percentage(me.personality, p.personality) END
           AS match_percentage,
       CASE WHEN h.hidden THEN NULL ELSE {pv.first_photo("p", "uuid")} END AS image_uuid,
       CASE WHEN h.hidden THEN NULL ELSE {pv.first_photo("p", "blurhash")} END AS image_blurhash,
       CASE WHEN NOT {visibility.messaged("p.id", "$1")} THEN 'nowhere'
            WHEN p.activated AND NOT h.hidden AND NOT {visibility.skipped("$1", "p.id")}
                 AND {visibility.messaged("$1", "p.id")} THEN 'chats'
            WHEN p.activated AND NOT h.hidden AND NOT {visibility.skipped("$1", "p.id")} THEN 'intros'
            ELSE 'archive' END AS conversation_location
FROM person me
JOIN person p ON p.uuid = ANY($2::uuid[])
CROSS JOIN LATERAL (SELECT NOT p.activated OR {visibility.skipped("p.id", "$1")} AS hidden) h
WHERE me.id = $1
  AND ({visibility.messaged("p.id", "$1")} OR {visibility.messaged("$1", "p.id")})
ORDER BY p.id
"""



async def inbox_info(db: Queryable, person_id: int, others: list[uuid.UUID]) -> list[Record]:
    """Of the people asked, those in a conversation with the person, by id."""
    return await db.fetch(INBOX_INFO_SQL, person_id, others)


# -- §10 visitors --------------------------------------------------------------------------


def _visitors_sql(direction: str) -> str:
    """Visits of the last week; ``direction`` is who the other person is in ``visited``."""
    other, me = ("subject_person_id", "object_person_id") if direction == "visited_you" else (
        "object_person_id", "subject_person_id")
    is_new = "v.updated_at > me.last_visitor_check_time" if direction == "visited_you" else "FALSE"
    return f"""
SELECT p.uuid AS person_uuid, p.name, {pv.shown_age("p", "$2")} AS age,
       (SELECT name FROM gender WHERE id = p.gender_id) AS gender,
       {pv.shown_location("p")} AS location,
       p.verification_level_id > 1 AS is_verified,
       match_percentage(me.personality, p.personality) AS match_percentage,
       CASE WHEN {visibility.level_reaches("me.verification_level_id", "p")}
            THEN {pv.first_photo("p", "uuid")} END AS photo_uuid,
       {pv.first_photo("p", "blurhash")} AS photo_blurhash,
       iso8601_utc(v.updated_at) AS time,
       {is_new} AS is_new,
       {pv.required_to_view("p", "me.verification_level_id")} AS verification_required_to_view
FROM visited v
JOIN person me ON me.id = v.{me}
JOIN person p ON p.id = v.{other}
WHERE v.{me} = $1 AND v.updated_at > $2 - $3::interval
  AND {visibility.listed_for("$1", "p")}
  AND {pv.skipped_shown("$1", "p")}
ORDER BY v.updated_at DESC, p.id
"""


VISITED_YOU_SQL = _visitors_sql("visited_you")
YOU_VISITED_SQL = _visitors_sql("you_visited")



async def visitors(db: Database, person_id: int, now: dt.datetime, shown: dt.timedelta) -> tuple[list[Record], list[Record]]:
    """Visits within ``shown`` before ``now``: (who visited the person, whom the person visited)."""
    async with db.connection() as conn:
        visited_you = await conn.fetch(VISITED_YOU_SQL, person_id, now, shown)
        you_visited = await conn.fetch(YOU_VISITED_SQL, person_id, now, shown)
    return visited_you, you_visited


async def mark_visitors_checked(db: Queryable, person_id: int, now: dt.datetime) -> None:
    await db.execute("UPDATE person SET last_visitor_check_time = $2 WHERE id = $1", person_id, now)
