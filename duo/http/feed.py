"""The activity feed (http-api-social §11, matching.md §11): recent events of people around."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import field_validator
from quart import Blueprint

from duo import person_view as pv
from duo.http.endpoint import ONBOARDED, Body, Ctx, endpoint
from duo.visibility import shown_to_strangers, skipped, verification_ok

bp = Blueprint("feed", __name__)

CANDIDATES_PER_SOURCE = 5000
SHORTLIST = 100
ONLINE_RECENTLY = dt.timedelta(hours=12)
MAX_NSFW_SCORE = 0.2
MAX_RECENT_REPORTS = 2
POPULARITY_EXPONENT = 1.5

# $1 caller id, $2 before, $3 now (typed where used: PostgreSQL infers a parameter's type once)
FEED_SQL = f"""
WITH candidate AS (
    (SELECT id FROM person WHERE last_online_time < $2::timestamptz
     ORDER BY last_online_time DESC LIMIT {CANDIDATES_PER_SOURCE})
    UNION
    (SELECT id FROM person WHERE last_event_time < $2::timestamptz
     ORDER BY last_event_time DESC LIMIT {CANDIDATES_PER_SOURCE})
),
derived AS (
    SELECT p.id, p.last_online_time > $3::timestamptz - interval '{int(ONLINE_RECENTLY.total_seconds())} seconds'
               AS recently_online,
           EXISTS (SELECT 1 FROM photo WHERE photo.person_id = p.id) AS has_photo,
           (SELECT jsonb_build_object('added_photo_uuid', ph.uuid,
                                      'added_photo_blurhash', ph.blurhash,
                                      'added_photo_extra_exts', to_jsonb(ph.extra_exts))
            FROM photo ph WHERE ph.person_id = p.id
            ORDER BY cardinality(ph.extra_exts) > 0 DESC,
                     ph.position > (SELECT min(position) FROM photo WHERE person_id = p.id) DESC,
                     random()
            LIMIT 1) AS online_photo
    FROM candidate JOIN person p USING (id)
),
mapped AS (
    SELECT d.id,
           CASE WHEN d.recently_online AND p.last_event_name = 'added-photo'
                    THEN 'recently-online-with-photo'
                WHEN d.recently_online AND p.last_event_name = 'added-voice-bio'
                    THEN 'recently-online-with-voice-bio'
                WHEN d.recently_online AND p.last_event_name = 'updated-bio'
                    THEN 'recently-online-with-bio'
                WHEN d.recently_online AND d.has_photo THEN 'recently-online-with-photo'
                WHEN p.last_event_name = 'recently-online-with-photo' THEN 'added-photo'
                WHEN p.last_event_name = 'recently-online-with-voice-bio' THEN 'added-voice-bio'
                WHEN p.last_event_name = 'recently-online-with-bio' THEN 'updated-bio'
                ELSE p.last_event_name::text END AS type,
           CASE WHEN d.recently_online AND d.has_photo
                     AND p.last_event_name NOT IN ('added-photo', 'added-voice-bio', 'updated-bio')
                THEN d.online_photo ELSE p.last_event_data END AS data
    FROM derived d JOIN person p USING (id)
),
timed AS (
    SELECT m.*, CASE WHEN d.recently_online AND m.type <> 'joined'
                     THEN p.last_online_time ELSE p.last_event_time END AS time
    FROM mapped m JOIN derived d USING (id) JOIN person p USING (id)
),
survivor AS (
    SELECT t.id, t.type, t.data, t.time,
           p.gender_id IN (SELECT gender_id FROM search_preference_gender WHERE person_id = $1)
               AS preferred_gender,
           match_percentage(me.personality, p.personality) AS match_percentage
    FROM timed t JOIN person p USING (id) CROSS JOIN person me
    WHERE me.id = $1
      AND p.id <> me.id
      AND t.time < $2::timestamptz
      AND p.last_event_time > $3::timestamptz - interval '1 month'
      AND p.activated
      AND me.verification_level_id >= p.privacy_verification_level_id
      AND {shown_to_strangers("p", "$1")}
      AND NOT {skipped("p.id", "$1")}
      AND {pv.skipped_shown("$1", "p")}
      AND {pv.messaged_shown("$1", "p")}
      AND random() < 1.0 / power(1 + (SELECT count(*) FROM messaged
                                      WHERE object_person_id = p.id
                                        AND created_at > $3::timestamptz - interval '1 day'),
                                 {POPULARITY_EXPONENT})
      AND random() < age_gap_acceptability_odds({pv.age("me", "$3::timestamptz")}, {pv.age("p", "$3::timestamptz")})
      AND me.gender_id IN (SELECT gender_id FROM search_preference_gender WHERE person_id = p.id)
      AND NOT EXISTS (SELECT 1 FROM photo WHERE photo.person_id = p.id
                        AND photo.uuid = t.data->>'added_photo_uuid'
                        AND photo.nsfw_score > {MAX_NSFW_SCORE})
      AND (SELECT count(*) FROM skipped WHERE object_person_id = p.id AND reported
             AND created_at > $3::timestamptz - interval '2 days') < {MAX_RECENT_REPORTS}
      AND {verification_ok("p")}
      AND (p.verification_level_id > 1
           OR p.sign_up_time < $3::timestamptz - interval '1 month'
           OR lower(p.title_color) <> '#000000'
           OR lower(p.body_color) <> '#000000'
           OR lower(p.background_color) <> '#ffffff'
           OR {pv.voice_bio("p")} IS NOT NULL
           OR (p.count_answers >= 25 AND p.about <> ''
               AND EXISTS (SELECT 1 FROM person_club WHERE person_id = p.id))
           OR p.has_gold)
    ORDER BY t.time DESC
    LIMIT {SHORTLIST}
),
chosen AS (
    SELECT * FROM survivor
    ORDER BY preferred_gender DESC, match_percentage DESC, time DESC
    LIMIT (SELECT round(count(*)::double precision / 2) FROM survivor)::int
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


class FeedQuery(Body):
    before: dt.datetime

    @field_validator("before", mode="before")
    @classmethod
    def _before(cls, value: Any) -> dt.datetime:
        """ISO 8601 with an optional trailing ``Z``; naive values are UTC."""
        if not isinstance(value, str):
            raise ValueError("Invalid datetime")
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@bp.get("/feed")
@endpoint(auth=ONBOARDED, query=FeedQuery)
async def get_feed(ctx: Ctx, query: FeedQuery) -> list[dict[str, Any]]:
    """Up to 50 recent events of people the caller may see, newest first."""
    rows = await ctx.svc.db.fetch(FEED_SQL, ctx.person_id, query.before, ctx.svc.now())
    items = []
    for row in rows:
        item = dict(row)
        item.update(item.pop("data") or {})
        items.append(item)
    return items
