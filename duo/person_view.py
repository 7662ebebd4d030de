"""SQL expressions for showing one person to another (profiles, visitors, feed, reports).

Each function takes SQL expressions — ``p`` the alias of the shown ``person`` row, ``now``
the current time (usually a query parameter, so tests can move time) — and returns an
expression to paste into a ``SELECT`` list.
"""

from __future__ import annotations

import datetime as dt

from duo.visibility import level_reaches, messaged, skipped

EARLY_ADOPTER_END = dt.datetime(2024, 8, 26, 1, 5, 49, tzinfo=dt.UTC)
VOICE_BIO_POSITION = -1


def age(p: str, now: str) -> str:
    """Whole years since birth."""
    return f"date_part('year', age((({now})::timestamptz AT TIME ZONE 'UTC')::date, {p}.date_of_birth))::int"


def shown_age(p: str, now: str) -> str:
    """The age, or null when the person hides it."""
    return f"CASE WHEN {p}.show_my_age THEN {age(p, now)} END"


def location(p: str) -> str:
    """Name of the known place nearest to the person."""
    return (
        "(SELECT short_friendly FROM location "
        f"WHERE id = nearest_location_id({p}.latitude, {p}.longitude))"
    )


def shown_location(p: str) -> str:
    """The location, or null when the person hides it."""
    return f"CASE WHEN {p}.show_my_location THEN {location(p)} END"


def first_photo(p: str, column: str) -> str:
    """``column`` (``uuid``, ``blurhash``, …) of the person's first photo, or null."""
    return f"(SELECT {column} FROM photo WHERE photo.person_id = {p}.id ORDER BY position LIMIT 1)"


def voice_bio(p: str) -> str:
    return f"(SELECT uuid FROM audio WHERE audio.person_id = {p}.id AND position = {VOICE_BIO_POSITION})"


def required_to_view(p: str, viewer_level: str) -> str:
    """``basics``/``photos`` when the viewer's level is below the person's privacy level."""
    return (
        f"CASE WHEN {level_reaches(viewer_level, p)} THEN NULL "
        f"WHEN {p}.privacy_verification_level_id = 2 THEN 'basics' ELSE 'photos' END"
    )


def whole_seconds_since(column: str, now: str) -> str:
    return f"floor(extract(epoch FROM ({now}) - {column}))::bigint"


def flair(p: str, now: str) -> str:
    """The computed flair (http-api-social §7.1.1): sorted, without duplicates."""
    early = EARLY_ADOPTER_END.isoformat()
    return f"""ARRAY(SELECT DISTINCT f COLLATE "C" FROM unnest({p}.flair || ARRAY[
        CASE WHEN {p}.has_gold THEN 'gold' END,
        CASE WHEN {p}.count_answers >= 1000 THEN 'q-and-a-1000'
             WHEN {p}.count_answers >= 500 THEN 'q-and-a-500'
             WHEN {p}.count_answers >= 200 THEN 'q-and-a-200' END,
        CASE WHEN {p}.sign_up_time <= ({now}) - interval '1 year' THEN 'one-year'
             WHEN {p}.sign_up_time <= ({now}) - interval '1 month' THEN 'one-month'
             WHEN {p}.sign_up_time <= ({now}) - interval '1 week' THEN 'one-week' END,
        CASE WHEN length({p}.about) >= 500 THEN 'long-bio' END,
        CASE WHEN {p}.sign_up_time <= '{early}'::timestamptz THEN 'early-adopter' END,
        CASE WHEN EXISTS (SELECT 1 FROM photo WHERE photo.person_id = {p}.id
                          AND 'gif' = ANY(photo.extra_exts)) THEN 'gif' END,
        CASE WHEN {voice_bio(p)} IS NOT NULL THEN 'voice-bio' END
    ]) AS f WHERE f IS NOT NULL ORDER BY 1)"""


def _preference_yes(table: str, column: str, viewer: str) -> str:
    return f"EXISTS (SELECT 1 FROM search_preference_{table} WHERE person_id = {viewer} AND {column} = 1)"


def skipped_shown(viewer: str, p: str) -> str:
    """The viewer has not skipped the person, or wants skipped people shown (people_you_skipped)."""
    return f"(NOT {skipped(viewer, f'{p}.id')} OR {_preference_yes('skipped', 'skipped_id', viewer)})"


def messaged_shown(viewer: str, p: str) -> str:
    """The viewer has not messaged the person, or wants them shown (people_you_messaged)."""
    return f"(NOT {messaged(viewer, f'{p}.id')} OR {_preference_yes('messaged', 'messaged_id', viewer)})"
