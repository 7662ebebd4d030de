"""Other people (http-api-social §7.1, §8–§10): profiles, skips and reports, inbox info, visitors."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import trio
from pydantic import field_validator
from quart import Blueprint

from duo import person_view as pv
from duo import reports
from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError
from duo.ratelimit import Limit, enforce
from duo.sessions import ONBOARDED
from duo.sql.database import Database
from duo.visibility import messaged, shown_to_strangers, skipped, visible_to

bp = Blueprint("prospects", __name__)

REPORT_LIMITS = (Limit(1, 5, "1 per 5 second"), Limit(20, 86400, "20 per 1 day"))
REPLY_STATS_TIMEOUT = 1.0  # seconds
REPLY_STATS_MIN_INTROS = 5
VISITS_SHOWN = dt.timedelta(days=7)
INT4_MAX = 2**31 - 1

LOOKUPS = {
    # response key: (person column, lookup table)
    "orientation": ("orientation_id", "orientation"),
    "ethnicity": ("ethnicity_id", "ethnicity"),
    "looking_for": ("looking_for_id", "looking_for"),
    "smoking": ("smoking_id", "yes_no_optional"),
    "drinking": ("drinking_id", "frequency"),
    "drugs": ("drugs_id", "yes_no_optional"),
    "long_distance": ("long_distance_id", "yes_no_optional"),
    "relationship_status": ("relationship_status_id", "relationship_status"),
    "has_kids": ("has_kids_id", "yes_no_optional"),
    "wants_kids": ("wants_kids_id", "yes_no_maybe"),
    "exercise": ("exercise_id", "frequency"),
    "religion": ("religion_id", "religion"),
    "star_sign": ("star_sign_id", "star_sign"),
}


def parse_uuid(value: str) -> uuid.UUID:
    """A person uuid from a path; anything else is an unknown person (README: 404)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise HttpError(404) from None


# -- §7.1 prospect profile -----------------------------------------------------------------

_LOOKUP_COLUMNS = ",\n".join(
    f"NULLIF((SELECT name FROM {table} WHERE id = p.{column}), 'Unanswered') AS {key}"
    for key, (column, table) in LOOKUPS.items()
)

PROFILE_SQL = f"""
SELECT p.id AS person_id, p.name, p.about, p.count_answers, p.occupation, p.education,
       p.height_cm, p.verified_age, p.verified_gender, p.verified_ethnicity, p.sign_up_time,
       {pv.shown_age("p", "$3")} AS age,
       {pv.shown_location("p")} AS location,
       match_percentage(me.personality, p.personality) AS match_percentage,
       {skipped("$1", "p.id")} AS is_skipped,
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
WHERE p.uuid = $2 AND {visible_to("$1", "p")}
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


def _reply_percentage(replied: int, intros: int) -> float | None:
    return float(round(100 * replied / intros)) if intros >= REPLY_STATS_MIN_INTROS else None


async def reply_stats(db: Database, person_uuid: uuid.UUID) -> tuple[float | None, float | None]:
    """(gets, gives) reply percentages (§7.1.2); unknown on timeout."""
    try:
        row = await db.fetchrow(REPLY_STATS_SQL, person_uuid, timeout=REPLY_STATS_TIMEOUT)
    except TimeoutError:
        return None, None
    assert row is not None
    return (
        _reply_percentage(row["sent_replied"], row["sent"]),
        _reply_percentage(row["received_replied"], row["received"]),
    )


@bp.get("/prospect-profile/<prospect_uuid>")
@endpoint(auth=ONBOARDED)
async def get_prospect_profile(ctx: Ctx, prospect_uuid: str) -> dict[str, Any]:
    """Another person's profile, if the caller may see it; records the visit."""
    wanted = parse_uuid(prospect_uuid)
    now = ctx.svc.now()
    stats: list[tuple[float | None, float | None]] = []

    async def fetch_stats() -> None:
        stats.append(await reply_stats(ctx.svc.db, wanted))

    # The statistics have a timeout of their own: they run beside the profile, on a second
    # connection, rather than after it.
    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetch_stats)
        row = await ctx.svc.db.fetchrow(PROFILE_AND_VISIT_SQL, ctx.person_id, wanted, now)
    if row is None:
        raise HttpError(404)
    profile = dict(row)
    new = profile.pop("sign_up_time") > now - dt.timedelta(days=1)  # §7.1.2: unknown for new people
    gets, gives = (None, None) if new else stats[0]
    profile["gets_reply_percentage"] = gets
    profile["gives_reply_percentage"] = gives
    return profile


# -- §8 skip, report, unskip ---------------------------------------------------------------


class SkipBody(Body):
    report_reason: str | None = None

    @field_validator("report_reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not 1 <= len(value) <= reports.REASON_MAX:
            raise ValueError(f"String should have at least 1 and at most {reports.REASON_MAX} characters")
        return value


async def _enforce_report_limits(ctx: Ctx) -> None:
    """1 per 5 seconds and 20 per day, per IP and per account, private IPs included."""
    switches = ctx.svc.config.safety
    if not switches.disable_ip_rate_limit:
        await enforce(ctx.svc.counter, f"report:ip:{ctx.ip}", REPORT_LIMITS)
    if not switches.disable_account_rate_limit:
        await enforce(ctx.svc.counter, f"report:acct:{ctx.me.normalized_email}", REPORT_LIMITS)


@bp.post("/skip/by-uuid/<prospect_uuid>")
@endpoint(auth=ONBOARDED, body=SkipBody)
async def post_skip(ctx: Ctx, body: SkipBody, prospect_uuid: str) -> None:
    """Skip (block) someone; with a reason, also report them to the moderators."""
    wanted = parse_uuid(prospect_uuid)
    reason = body.report_reason
    if reason is not None:
        await _enforce_report_limits(ctx)
    async with ctx.svc.db.transaction() as conn:
        prospect_id = await conn.fetchval("SELECT id FROM person WHERE uuid = $1", wanted)
        if prospect_id is None:
            raise HttpError(404)
        await reports.skip(conn, ctx.person_id, prospect_id, reason, ctx.svc.now())
        mail = None if reason is None else await reports.lodge(conn, ctx.svc, ctx.person_id, prospect_id, reason)
    if mail is not None:
        await ctx.svc.send_mail(mail)


async def _unskip(ctx: Ctx, prospect_id_sql: str, value: Any) -> None:
    await ctx.svc.db.execute(
        f"DELETE FROM skipped WHERE subject_person_id = $1 AND object_person_id = {prospect_id_sql}",
        ctx.person_id,
        value,
    )


@bp.post("/unskip/<int:prospect_person_id>")
@endpoint(auth=ONBOARDED)
async def post_unskip(ctx: Ctx, prospect_person_id: int) -> None:
    """Undo a skip by person id (legacy clients); an unknown id changes nothing."""
    if prospect_person_id <= INT4_MAX:
        await _unskip(ctx, "$2", prospect_person_id)


@bp.post("/unskip/by-uuid/<prospect_uuid>")
@endpoint(auth=ONBOARDED)
async def post_unskip_by_uuid(ctx: Ctx, prospect_uuid: str) -> None:
    """Undo a skip; a malformed or unknown uuid changes nothing (§8.2)."""
    try:
        wanted = uuid.UUID(prospect_uuid)
    except ValueError:
        return
    await _unskip(ctx, "(SELECT id FROM person WHERE uuid = $2)", wanted)


# -- §9 inbox info -------------------------------------------------------------------------


class InboxInfoBody(Body):
    person_uuids: list[uuid.UUID]


INBOX_INFO_SQL = f"""
SELECT p.id AS person_id, p.uuid AS person_uuid,
       CASE WHEN h.hidden THEN NULL ELSE p.name END AS name,
       NOT h.hidden AND p.verification_level_id > 1 AS verified,
       CASE WHEN h.hidden THEN NULL ELSE match_percentage(me.personality, p.personality) END
           AS match_percentage,
       CASE WHEN h.hidden THEN NULL ELSE {pv.first_photo("p", "uuid")} END AS image_uuid,
       CASE WHEN h.hidden THEN NULL ELSE {pv.first_photo("p", "blurhash")} END AS image_blurhash,
       CASE WHEN NOT {messaged("p.id", "$1")} THEN 'nowhere'
            WHEN p.activated AND NOT h.hidden AND NOT {skipped("$1", "p.id")}
                 AND {messaged("$1", "p.id")} THEN 'chats'
            WHEN p.activated AND NOT h.hidden AND NOT {skipped("$1", "p.id")} THEN 'intros'
            ELSE 'archive' END AS conversation_location
FROM person me
JOIN person p ON p.uuid = ANY($2::uuid[])
CROSS JOIN LATERAL (SELECT NOT p.activated OR {skipped("p.id", "$1")} AS hidden) h
WHERE me.id = $1
  AND ({messaged("p.id", "$1")} OR {messaged("$1", "p.id")})
ORDER BY p.id
"""


@bp.post("/inbox-info")
@endpoint(auth=ONBOARDED, body=InboxInfoBody)
async def post_inbox_info(ctx: Ctx, body: InboxInfoBody) -> list[dict[str, Any]]:
    """Names, photos and folder of the asked chat counterparts (README: only those asked)."""
    rows = await ctx.svc.db.fetch(INBOX_INFO_SQL, ctx.person_id, body.person_uuids)
    return [dict(row) for row in rows]


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
       CASE WHEN me.verification_level_id >= p.privacy_verification_level_id
            THEN {pv.first_photo("p", "uuid")} END AS photo_uuid,
       {pv.first_photo("p", "blurhash")} AS photo_blurhash,
       iso8601_utc(v.updated_at) AS time,
       {is_new} AS is_new,
       {pv.required_to_view("p", "me.verification_level_id")} AS verification_required_to_view
FROM visited v
JOIN person me ON me.id = v.{me}
JOIN person p ON p.id = v.{other}
WHERE v.{me} = $1 AND v.updated_at > $2 - $3::interval
  AND p.activated
  AND NOT {skipped("p.id", "$1")}
  AND {pv.skipped_shown("$1", "p")}
  AND {shown_to_strangers("p", "$1")}
ORDER BY v.updated_at DESC, p.id
"""


VISITED_YOU_SQL = _visitors_sql("visited_you")
YOU_VISITED_SQL = _visitors_sql("you_visited")


@bp.get("/visitors")
@endpoint(auth=ONBOARDED)
async def get_visitors(ctx: Ctx) -> dict[str, Any]:
    """Who viewed the caller's profile in the last week, and whom the caller viewed."""
    args = (ctx.person_id, ctx.svc.now(), VISITS_SHOWN)
    async with ctx.svc.db.connection() as conn:
        visited_you = await conn.fetch(VISITED_YOU_SQL, *args)
        you_visited = await conn.fetch(YOU_VISITED_SQL, *args)
    return {"visited_you": [dict(r) for r in visited_you], "you_visited": [dict(r) for r in you_visited]}


@bp.post("/mark-visitors-checked")
@endpoint(auth=ONBOARDED)
async def post_mark_visitors_checked(ctx: Ctx) -> None:
    """Visits until now are no longer new."""
    await ctx.svc.db.execute(
        "UPDATE person SET last_visitor_check_time = $2 WHERE id = $1", ctx.person_id, ctx.svc.now()
    )
