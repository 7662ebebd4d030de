"""The feed query (http-api-social §11, matching.md §11): recent events of people around,
with the rules of who is shown from :mod:`duo.visibility`."""

from __future__ import annotations

import datetime as dt

from asyncpg import Record

from duo import person_view as pv
from duo import visibility
from duo.sql.database import Queryable

CANDIDATES_PER_SOURCE = 5000
SHORTLIST = 100
ONLINE_RECENTLY = dt.timedelta(hours=12)
MAX_NSFW_SCORE = 0.2
MAX_RECENT_REPORTS = 2
POPULARITY_EXPONENT = 1.5

# The feed_candidate columns the feed's first steps read (a narrow row per
# person, read index-only by time); the event data comes from person, for survivors only.
_READ = """person_id AS id, last_online_time, last_event_time, last_event_name, activated,
    verification_level_id, privacy_verification_level_id, verification_required, hide_me_from_strangers,
    date_of_birth, sign_up_time, styled, maybe_human"""

_OWN_EVENTS = "('added-photo', 'added-voice-bio', 'updated-bio')"


def _candidates(column: str) -> str:
    """One source of candidates (§11 step 1) with their mapped type and time (step 2), less
    those the deterministic rules of step 3 drop: a narrow row each, so that sorting the
    union stays cheap. ``$1`` caller, ``$2`` before, ``$3`` now."""
    recently_online = f"p.last_online_time > $3::timestamptz - interval '{int(ONLINE_RECENTLY.total_seconds())} seconds'"
    return f"""
    SELECT t.id, t.type, t.time, t.date_of_birth, t.online_with_photo, t.plainly_human, t.maybe_human
    FROM (
        SELECT m.*, CASE WHEN m.recently_online AND m.type <> 'joined'
                         THEN m.last_online_time ELSE m.last_event_time END AS time
        FROM (
            SELECT o.*,
                   CASE WHEN o.recently_online AND o.last_event_name = 'added-photo'
                            THEN 'recently-online-with-photo'
                        WHEN o.recently_online AND o.last_event_name = 'added-voice-bio'
                            THEN 'recently-online-with-voice-bio'
                        WHEN o.recently_online AND o.last_event_name = 'updated-bio'
                            THEN 'recently-online-with-bio'
                        WHEN o.online_with_photo THEN 'recently-online-with-photo'
                        WHEN o.last_event_name = 'recently-online-with-photo' THEN 'added-photo'
                        WHEN o.last_event_name = 'recently-online-with-voice-bio' THEN 'added-voice-bio'
                        WHEN o.last_event_name = 'recently-online-with-bio' THEN 'updated-bio'
                        ELSE o.last_event_name::text END AS type
            FROM (  -- online_with_photo: shows an online photo (no own event to show, has a photo)
                SELECT p.*, {recently_online} AS recently_online,
                       CASE WHEN {recently_online} AND p.last_event_name NOT IN {_OWN_EVENTS}
                            THEN EXISTS (SELECT 1 FROM photo WHERE photo.person_id = p.id)
                            ELSE FALSE END AS online_with_photo,
                       -- "seems human" without its voice-bio and club probes
                       (p.verification_level_id > 1
                        OR p.sign_up_time < $3::timestamptz - interval '1 month'
                        OR p.styled) AS plainly_human
                FROM (SELECT {_READ} FROM feed_candidate WHERE {column} < $2::timestamptz
                      ORDER BY {column} DESC LIMIT {CANDIDATES_PER_SOURCE}) p
                WHERE p.last_event_time > $3::timestamptz - interval '1 month'
                  AND p.id <> $1
                  AND {visibility.listed_for("$1", "p")}
                  AND {visibility.level_reaches("(SELECT verification_level_id FROM me)", "p")}
                  AND {visibility.verification_ok("p")}
                  AND {pv.skipped_shown("$1", "p")}
                  AND {pv.messaged_shown("$1", "p")}
            ) o
        ) m
    ) t
    WHERE t.time < $2::timestamptz"""


# $1 caller id, $2 before, $3 now (typed where used: PostgreSQL infers a parameter's type once).
# Speed: each source yields the candidates the deterministic rules keep, sorted together by
# mapped time (people in both sources are the same row twice: DISTINCT ON drops one); the
# random draws and per-person probes then run on them in that order, in subqueries that
# keep the order (each declares it, so the planner adds no sort), until 100 survive (LIMIT
# stops the scan). Draws are independent per candidate, so drawing only for those reached
# chooses the same way as drawing for all.
FEED_SQL = f"""
WITH me AS MATERIALIZED (
    SELECT id, verification_level_id, gender_id, personality, {pv.age("person", "$3::timestamptz")} AS age
    FROM person WHERE id = $1
),
survivor AS (
    SELECT d.id, d.type, d.data, d.time FROM (
        SELECT r.*,
               CASE WHEN r.online_with_photo THEN
                   (SELECT jsonb_build_object('added_photo_uuid', ph.uuid,
                                              'added_photo_blurhash', ph.blurhash,
                                              'added_photo_extra_exts', to_jsonb(ph.extra_exts))
                    FROM photo ph WHERE ph.person_id = r.id
                    ORDER BY cardinality(ph.extra_exts) > 0 DESC,
                             ph.position > (SELECT min(position) FROM photo WHERE person_id = r.id) DESC,
                             random()
                    LIMIT 1)
               ELSE (SELECT last_event_data FROM person WHERE person.id = r.id) END AS data
        FROM (
            SELECT DISTINCT ON (c.time, c.id) c.* FROM (
                {_candidates("last_online_time")}
                UNION ALL
                {_candidates("last_event_time")}
            ) c
            ORDER BY c.time DESC, c.id
            OFFSET 0
        ) r
        WHERE random() < age_gap_acceptability_odds((SELECT age FROM me), {pv.age("r", "$3::timestamptz")})
          AND random() < 1.0 / power(1 + (SELECT count(*) FROM messaged
                                          WHERE object_person_id = r.id
                                            AND created_at > $3::timestamptz - interval '1 day'),
                                     {POPULARITY_EXPONENT})
        ORDER BY r.time DESC, r.id
        OFFSET 0
    ) d
    WHERE (SELECT gender_id FROM me) = ANY (ARRAY(SELECT gender_id FROM search_preference_gender
                                                   WHERE person_id = d.id))
      AND (SELECT count(*) FROM skipped WHERE object_person_id = d.id AND reported
             AND created_at > $3::timestamptz - interval '2 days') < {MAX_RECENT_REPORTS}
      AND COALESCE((SELECT max(photo.nsfw_score) FROM photo WHERE photo.person_id = d.id
                      AND photo.uuid = d.data->>'added_photo_uuid'), 0) <= {MAX_NSFW_SCORE}
      AND (d.plainly_human
           OR {pv.voice_bio("d")} IS NOT NULL
           OR (d.maybe_human AND EXISTS (SELECT 1 FROM person_club WHERE person_id = d.id)))
    ORDER BY d.time DESC, d.id
    LIMIT {SHORTLIST}
),
scored AS MATERIALIZED (
    SELECT s.*,
           p.gender_id IN (SELECT gender_id FROM search_preference_gender WHERE person_id = $1)
               AS preferred_gender,
           match_percentage(me.personality, p.personality) AS match_percentage
    FROM survivor s JOIN person p USING (id) CROSS JOIN me
),
chosen AS (
    SELECT * FROM scored
    ORDER BY preferred_gender DESC, match_percentage DESC, time DESC
    LIMIT (SELECT round(count(*)::double precision / 2) FROM scored)::int
)
SELECT p.uuid AS person_uuid, p.name,
       {pv.first_photo("p", "uuid")} AS photo_uuid,
       {pv.first_photo("p", "blurhash")} AS photo_blurhash,
       p.verification_level_id > 1 AS is_verified,
       c.match_percentage,
       {pv.flair("p", "$3::timestamptz")} AS flair,
       c.type, iso8601_utc(c.time) AS time, c.data
FROM chosen c JOIN person p USING (id)
ORDER BY c.time DESC, p.id
"""



async def feed(db: Queryable, person_id: int, before: dt.datetime, now: dt.datetime) -> list[Record]:
    """Up to 50 events before ``before``, newest first; ``data`` holds the event's keys."""
    return await db.fetch(FEED_SQL, person_id, before, now)
