"""The uncached search (matching.md §9): rank prospects and write the searcher's cache.

One ``INSERT … SELECT`` does all four stages:

1. pool — activated people of an allowed gender within the searcher's distance (or the
   members of the searcher's club), the NEAREST 30 000 kept, ties by person id (README
   decision). People stand at city points: ``search_place`` (migration 0001) counts them
   per point and gender, so summing the counts nearest first gives the ring holding the
   nearest 30 000 — every place inside it whole, the people at its edge by id — and only
   those candidates are read, from a covering index (index-only). Chord distance of unit
   vectors orders, the exact geodesic test runs only near a distance limit
   (``geo_within``). The filters that read only the prospect's ``search_candidate`` row
   (§9.4 a–d, f, g, l) are evaluated here into the row's ``ok`` flag;
2. shortlist — the 10 000 with the largest personality inner product (pgvector ``<#>``);
3. survivors — the shortlist's ``ok`` rows sorted by (verified, match, id) and checked for
   the rest (stranger, skipped/messaged, Q&A: other tables) in that order, so that
   PostgreSQL stops as soon as 502 have passed;
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


def _row_filters(s: Searcher, today: dt.date, p: Params) -> list[str]:
    """The hard filters of §9.4 that read only the prospect's candidate row ``c`` (and its
    ``chord``): evaluated while the pool is read, as the pool row's ``ok`` flag."""
    where: list[str] = []
    if s.club is None:
        where += [
            f"{p(s.gender_id)}::SMALLINT = ANY(c.pref_gender_ids)",  # (a)
            f"""(c.pref_distance_km IS NULL
                 OR geo_within(chord, c.latitude, c.longitude, {_lat(p, s)}, {_lon(p, s)},
                               c.pref_distance_km * 1000.0::FLOAT8))""",  # (b)
            f"{p(s.age_on(today))}::INT BETWEEN c.pref_min_age AND c.pref_max_age",  # (d)
        ]
    if s.age is not None:  # (c); no age-preference row: no age filter (README decision)
        latest, earliest = _age_bounds(s.age, today)
        where.append(f"c.date_of_birth <= {p(latest)} AND c.date_of_birth > {p(earliest)}")
    for f in ONE_WAY:  # (f)
        where.append(f"c.{f.column} = ANY({p(s.allowed[f.key], '::SMALLINT[]')})")
    low, high = s.height
    if (low is not None and low > 0) or (high is not None and high < AGE_UNBOUNDED):  # (g)
        where.append(
            f"COALESCE(c.height_cm, 0) >= {p(low or 0)} AND COALESCE(c.height_cm, 999) <= {p(999 if high is None else high)}"
        )
    where.append(visibility.verification_ok("c"))  # (l)
    return where


def _lookup_filters(s: Searcher, p: Params, me: str) -> list[str]:
    """The rest of §9.4, on shortlist row ``p`` (``id``, ``hide_me_from_strangers``): what
    needs other tables, checked in survivor order only until enough survivors are found."""
    where = [
        visibility.shown_to_strangers("p", me),  # (h)
        f"NOT {visibility.skipped('p.id', me)}",  # (i)
    ]
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
    return where


def _lat(p: Params, s: Searcher) -> str:
    return p.once("lat", s.latitude, "::FLOAT8")


def _lon(p: Params, s: Searcher) -> str:
    return p.once("lon", s.longitude, "::FLOAT8")


def _pool(s: Searcher, p: Params, sphere: str, personality: str, ok: str) -> str:
    """Stage 1 as SQL: the nearest POOL_CAP candidates, ties by person id (README decision),
    with their inner product and what stage 3 needs of them."""
    genders = p(s.genders, "::SMALLINT[]")
    within = "TRUE"
    if s.distance_km is not None:
        radius = p(s.distance_km * 1000.0, "::FLOAT8")
        within = f"geo_within(chord, latitude, longitude, {_lat(p, s)}, {_lon(p, s)}, {radius})"
    columns = f"""c.person_id, c.verified, chord, c.personality <#> {personality} AS ip, {ok} AS ok,
           c.hide_me_from_strangers, c.has_profile_picture_id = {YES} AS has_photo,
           {visibility.is_bot("c")} AS bot"""
    if s.club is not None:  # the club's members, mirrored on person_club (§9.2)
        bbox = "TRUE"
        if s.distance_km is not None:
            bbox = f"pc.coordinates <@ geo_bbox({_lat(p, s)}, {_lon(p, s)}, {radius})"
        return f"""pool AS MATERIALIZED (
    SELECT {columns}
    FROM (SELECT c.*, c.sphere_point <-> {sphere} AS chord
          FROM person_club pc JOIN search_candidate c ON c.person_id = pc.person_id
          WHERE pc.club_name = {p(s.club)} AND pc.activated AND pc.gender_id = ANY({genders})
            AND {bbox}) c
    WHERE {within}
    ORDER BY chord, person_id
    LIMIT {POOL_CAP}
)"""
    # Whole places nearest first until the cap: every place before the ring's edge entirely,
    # the people at the edge by id. Candidates beyond the edge are never read.
    # (One place row per gender: rows at the same point are window peers sharing ``upto``.)
    member = """FROM place pl JOIN search_candidate c
        ON c.latitude = pl.latitude AND c.longitude = pl.longitude AND c.gender_id = pl.gender_id"""
    return f"""place AS MATERIALIZED (
    SELECT latitude, longitude, gender_id, chord, sum(candidates) OVER (ORDER BY chord) AS upto
    FROM (SELECT latitude, longitude, gender_id, sphere_point <-> {sphere} AS chord, candidates
          FROM search_place
          WHERE gender_id = ANY({genders}) AND candidates > 0) pl
    WHERE {within}
), ring AS MATERIALIZED (
    SELECT COALESCE(min(chord) FILTER (WHERE upto >= {POOL_CAP}), 'Infinity') AS edge,
           {POOL_CAP} - COALESCE(max(upto) FILTER (WHERE upto < {POOL_CAP}), 0) AS room
    FROM place
), pool AS MATERIALIZED (
    SELECT {columns} {member}
    WHERE pl.chord < (SELECT edge FROM ring)
    UNION ALL
    (SELECT {columns} {member}
     WHERE pl.chord = (SELECT edge FROM ring)
     ORDER BY c.person_id
     LIMIT (SELECT room FROM ring))
)"""


def ranking_statement(s: Searcher, today: dt.date) -> tuple[str, list[Any]]:
    """The statement that fills ``search_cache`` for ``s`` (its rows must be deleted first)."""
    p = Params()
    me = p(s.person_id)
    personality = p(s.personality, "::VECTOR(47)")
    sphere = p(unit_sphere(s.latitude, s.longitude), "::VECTOR(3)")
    pool = _pool(s, p, sphere, personality, " AND ".join(_row_filters(s, today, p)))
    cheap = ["ok"] if s.club is not None else ["ok", "ip < 1e-5"]  # (e) P·S > -1e-5, not for clubs
    stage3 = _lookup_filters(s, p, me)
    count_answers = p(s.count_answers, "::INT")
    today_param = p(today, "::DATE")

    sql = f"""
WITH {pool}, shortlist AS MATERIALIZED (
    SELECT * FROM pool ORDER BY ip, person_id LIMIT {SHORTLIST}
), survivors AS MATERIALIZED (
    SELECT p.id AS person_id, p.verified, p.ip, p.has_photo, p.bot
    FROM (SELECT person_id AS id, * FROM shortlist WHERE {" AND ".join(cheap)}
          ORDER BY verified DESC, ip, person_id OFFSET 0) p
    WHERE {" AND ".join(stage3)}
    ORDER BY p.verified DESC, p.ip, p.id
    LIMIT {SURVIVORS}
), promote AS MATERIALIZED (
    SELECT count(*) FILTER (WHERE has_photo AND verified) >= {PROMOTE_VERIFIED_AT}
           AND {count_answers} > 0 AS yes
    FROM survivors
), ranked AS (
    SELECT sv.*,
           row_number() OVER (
               ORDER BY (CASE WHEN promote THEN sv.has_photo AND sv.verified ELSE sv.has_photo END) DESC,
                        sv.ip, sv.person_id
           ) AS position
    FROM survivors sv, (SELECT yes AS promote FROM promote) pr
    WHERE sv.person_id <> {me} AND NOT sv.bot
)
INSERT INTO search_cache (searcher_person_id, position, prospect_person_id, prospect_uuid,
                          profile_photo_uuid, profile_photo_blurhash, verified, name, age,
                          match_percentage, personality)
SELECT {me}, r.position, p.id, p.uuid, ph.uuid, ph.blurhash, r.verified, p.name,
       CASE WHEN p.show_my_age THEN date_part('year', age({today_param}, p.date_of_birth)) END,
       match_percentage(p.personality, {personality}), p.personality
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
