"""The uncached search (matching.md §9): rank prospects and write the searcher's cache.

One ``INSERT … SELECT`` does all four stages:

1. pool — activated people of an allowed gender within the searcher's distance (or the
   members of the searcher's club), the NEAREST 30 000 kept, ties by person id (README
   decision). Read from the narrow ``search_candidate`` table (migration 0003): bounding
   box through its GiST index, chord distance of unit vectors for the order, exact
   geodesic test only near the boundary (``geo_within``);
2. shortlist — the 10 000 with the largest personality inner product (pgvector ``<#>``);
3. survivors — the shortlist sorted by (verified, match, id) and filtered row by row in
   that order, so that PostgreSQL stops as soon as 502 have passed (a nested loop into
   ``person`` under a LIMIT): the usual search evaluates the filters on a few hundred
   rows, an adversarial one on at most 10 000;
4. final order — photo (and verified, when promoted) first, then match, then id; the
   first 500 are written to ``search_cache`` with their snapshot columns.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from duo import visibility
from duo.search.filters import ONE_WAY, YES
from duo.search.searcher import Searcher
from duo.sql.database import Connection

POOL_CAP = 30_000
SHORTLIST = 10_000
SURVIVORS = 502
CACHE_SIZE = 500
PROMOTE_VERIFIED_AT = 250
AGE_UNBOUNDED = 999
WORK_MEM = "32MB"


class Params:
    """Positional query arguments: calling it with a value returns its ``$n`` placeholder."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._named: dict[str, str] = {}

    def __call__(self, value: Any, cast: str = "") -> str:
        self.values.append(value)
        return f"${len(self.values)}{cast}"

    def once(self, name: str, value: Any, cast: str = "") -> str:
        """The same placeholder for every use of ``name``, allocated on first use only."""
        if name not in self._named:
            self._named[name] = self(value, cast)
        return self._named[name]


def unit_sphere(latitude: float, longitude: float) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The searcher's point as the SQL function ``unit_sphere`` computes it."""
    lat, lon = math.radians(latitude), math.radians(longitude)
    return np.array(
        [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)],
        dtype=np.float32,
    )


def years_before(today: dt.date, years: int) -> dt.date:
    """``today - interval 'N years'`` as PostgreSQL computes it (29 February → 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def _age_bounds(age: tuple[int | None, int | None], today: dt.date) -> tuple[dt.date, dt.date]:
    """(latest, earliest-exclusive) birth dates of people aged min…max (§9.4 c)."""
    low = min(max(age[0] if age[0] is not None else 0, 0), 1000)
    high = min(max((age[1] if age[1] is not None else AGE_UNBOUNDED) + 1, 0), 1000)
    return years_before(today, low), years_before(today, high)


def _stage3_filters(s: Searcher, today: dt.date, p: Params, me: str) -> list[str]:
    """The hard filters of §9.4 on prospect ``p`` (person row) and shortlist row ``s``."""
    club_mode = s.club is not None
    where: list[str] = []
    if not club_mode:
        where += [
            "s.ip < 1e-5",  # (e) P·S > -1e-5
            f"""EXISTS (SELECT 1 FROM search_preference_gender g
                        WHERE g.person_id = p.id AND g.gender_id = {p(s.gender_id)})""",  # (a)
            f"""NOT EXISTS (SELECT 1 FROM search_preference_distance d
                            WHERE d.person_id = p.id AND d.distance IS NOT NULL
                              AND NOT geo_within(s.chord, p.latitude, p.longitude, {_lat(p, s)}, {_lon(p, s)},
                                                 d.distance * 1000.0))""",  # (b)
            f"""NOT EXISTS (SELECT 1 FROM search_preference_age a
                            WHERE a.person_id = p.id
                              AND NOT {p(s.age_on(today))}::INT BETWEEN COALESCE(a.min_age, 0)
                                                               AND COALESCE(a.max_age, {AGE_UNBOUNDED}))""",  # (d)
        ]
    if s.age is not None:  # (c); no age-preference row: no age filter (README decision)
        latest, earliest = _age_bounds(s.age, today)
        where.append(f"p.date_of_birth <= {p(latest)} AND p.date_of_birth > {p(earliest)}")
    for f in ONE_WAY:  # (f)
        where.append(f"p.{f.column} = ANY({p(s.allowed[f.key], '::SMALLINT[]')})")
    low, high = s.height
    if (low is not None and low > 0) or (high is not None and high < AGE_UNBOUNDED):  # (g)
        where.append(
            f"COALESCE(p.height_cm, 0) >= {p(low or 0)} AND COALESCE(p.height_cm, 999) <= {p(999 if high is None else high)}"
        )
    where.append(visibility.shown_to_strangers("p", me))  # (h)
    where.append(f"NOT {visibility.skipped('p.id', me)}")  # (i)
    if not s.skipped_ok:  # (j)
        where.append(f"NOT {visibility.skipped(me, 'p.id')}")
    if not s.messaged_ok:
        where.append(f"NOT {visibility.messaged(me, 'p.id')}")
    if s.qa:  # (k)
        qids = p([q.question_id for q in s.qa], "::SMALLINT[]")
        wants = p([q.answer for q in s.qa], "::BOOLEAN[]")
        accepts = p([q.accept_unanswered for q in s.qa], "::BOOLEAN[]")
        where.append(
            f"""NOT EXISTS (SELECT 1 FROM unnest({qids}, {wants}, {accepts}) AS f(question_id, want, accept)
                            LEFT JOIN answer a ON a.person_id = p.id AND a.question_id = f.question_id
                            WHERE a.answer = NOT f.want OR (a.answer IS NULL AND NOT f.accept))"""
        )
    where.append(visibility.verification_ok("p"))  # (l)
    return where


def _lat(p: Params, s: Searcher) -> str:
    return p.once("lat", s.latitude, "::FLOAT8")


def _lon(p: Params, s: Searcher) -> str:
    return p.once("lon", s.longitude, "::FLOAT8")


def ranking_statement(s: Searcher, today: dt.date) -> tuple[str, list[Any]]:
    """The statement that fills ``search_cache`` for ``s`` (its rows must be deleted first)."""
    p = Params()
    me = p(s.person_id)
    personality = p(s.personality, "::VECTOR(47)")
    sphere = p(unit_sphere(s.latitude, s.longitude), "::VECTOR(3)")

    pool_where = [f"{'pc' if s.club else 'c'}.gender_id = ANY({p(s.genders, '::SMALLINT[]')})"]
    if s.distance_km is not None:
        lat, lon = _lat(p, s), _lon(p, s)
        radius = p(s.distance_km * 1000.0, "::FLOAT8")
        pool_where += [
            f"{'pc' if s.club else 'c'}.coordinates <@ geo_bbox({lat}, {lon}, {radius})",
            f"geo_within(c.sphere_point <-> {sphere}, c.latitude, c.longitude, {lat}, {lon}, {radius})",
        ]
    if s.club is not None:
        source = "person_club pc JOIN search_candidate c ON c.person_id = pc.person_id"
        pool_where += [f"pc.club_name = {p(s.club)}", "pc.activated"]
    else:
        source = "search_candidate c"
    stage3 = _stage3_filters(s, today, p, me)
    count_answers = p(s.count_answers, "::INT")
    today_param = p(today, "::DATE")

    sql = f"""
WITH pool AS MATERIALIZED (
    SELECT c.person_id, c.verified, c.personality, c.sphere_point <-> {sphere} AS chord
    FROM {source}
    WHERE {" AND ".join(pool_where)}
    ORDER BY chord, c.person_id
    LIMIT {POOL_CAP}
), shortlist AS MATERIALIZED (
    SELECT person_id, verified, chord, personality <#> {personality} AS ip
    FROM pool ORDER BY ip, person_id LIMIT {SHORTLIST}
), survivors AS MATERIALIZED (
    SELECT s.person_id, s.verified, s.ip, p.personality,
           p.has_profile_picture_id = {YES} AS has_photo, {visibility.is_bot("p")} AS bot
    FROM (SELECT * FROM shortlist ORDER BY verified DESC, ip, person_id OFFSET 0) s
    JOIN person p ON p.id = s.person_id
    WHERE {" AND ".join(stage3)}
    ORDER BY s.verified DESC, s.ip, s.person_id
    LIMIT {SURVIVORS}
), ranked AS (
    SELECT sv.*,
           row_number() OVER (
               ORDER BY (CASE WHEN promote THEN sv.has_photo AND sv.verified ELSE sv.has_photo END) DESC,
                        sv.ip, sv.person_id
           ) AS position
    FROM survivors sv,
         LATERAL (SELECT count(*) FILTER (WHERE has_photo AND verified) >= {PROMOTE_VERIFIED_AT}
                         AND {count_answers} > 0 AS promote
                  FROM survivors) pr
    WHERE sv.person_id <> {me} AND NOT sv.bot
)
INSERT INTO search_cache (searcher_person_id, position, prospect_person_id, prospect_uuid,
                          profile_photo_uuid, profile_photo_blurhash, verified, name, age,
                          match_percentage, personality)
SELECT {me}, r.position, p.id, p.uuid, ph.uuid, ph.blurhash, r.verified, p.name,
       CASE WHEN p.show_my_age THEN date_part('year', age({today_param}, p.date_of_birth)) END,
       match_percentage(r.personality, {personality}), r.personality
FROM ranked r
JOIN person p ON p.id = r.person_id
LEFT JOIN LATERAL (SELECT uuid, blurhash FROM photo WHERE photo.person_id = p.id
                   ORDER BY position LIMIT 1) ph ON TRUE
WHERE r.position <= {CACHE_SIZE}
"""
    return sql, p.values


async def rebuild_cache(conn: Connection, s: Searcher, today: dt.date) -> None:
    """Replace the searcher's cache with a fresh ranking (§4.3 steps 1–2)."""
    await conn.execute("DELETE FROM search_cache WHERE searcher_person_id = $1", s.person_id)
    await conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")  # the pool sorts in memory
    sql, args = ranking_statement(s, today)
    await conn.execute(sql, *args)
