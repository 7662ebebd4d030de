"""Club membership rules shared by /join-club and the pending club of sign-in."""

from __future__ import annotations

import re
from typing import Any

import attrs

from duo.safety.clubs import is_allowed_club_name
from duo.safety.trigram import similarity, trigrams
from duo.sql.database import Connection, Database

QUOTA = 50
GOLD_QUOTA = 100
NAME_SHAPE = re.compile(r"^[a-zA-Z0-9/#'\"_-]+( [a-zA-Z0-9/#'\"_-]+)*$")


def club_name(value: str, *, normalise_spaces: bool = True) -> str:
    """Lower-case and trim (and collapse spaces) a club name, then check its shape."""
    if normalise_spaces:
        value = " ".join(value.split())
    value = value.lower().strip()
    if not (1 <= len(value) <= 42) or not NAME_SHAPE.match(value):
        raise ValueError("Invalid club name")
    return value


async def join(conn: Connection, person_id: int, name: str) -> bool:
    """Join (creating the club if new) unless the name is banned or the quota is reached."""
    if not is_allowed_club_name(name):
        return False
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM person_club WHERE person_id = $1) AS joined,
                  p.has_gold
           FROM person p WHERE p.id = $1""",
        person_id,
    )
    if row is None or row["joined"] >= (GOLD_QUOTA if row["has_gold"] else QUOTA):
        return False
    await conn.execute("INSERT INTO club (name, count_members) VALUES ($1, 0) ON CONFLICT DO NOTHING", name)
    added = await conn.fetchval(
        """INSERT INTO person_club (person_id, club_name, activated, latitude, longitude, gender_id)
           SELECT id, $2, activated, latitude, longitude, gender_id FROM person WHERE id = $1
           ON CONFLICT DO NOTHING RETURNING 1""",
        person_id,
        name,
    )
    if added:
        await conn.execute("UPDATE club SET count_members = count_members + 1 WHERE name = $1", name)
    return True


async def prefer(conn: Connection, person_id: int, name: str) -> None:
    """Make an existing club the person's club search preference."""
    await conn.execute(
        """INSERT INTO search_preference_club (person_id, club_name) VALUES ($1, $2)
           ON CONFLICT (person_id) DO UPDATE SET club_name = EXCLUDED.club_name""",
        person_id,
        name,
    )


async def join_and_prefer(conn: Connection, person_id: int, name: str) -> None:
    """Join the pending club and make it the club search preference, when it exists."""
    await join(conn, person_id, name)
    if await conn.fetchval("SELECT 1 FROM club WHERE name = $1", name):
        await prefer(conn, person_id, name)


async def leave(conn: Connection, person_id: int, name: str) -> None:
    """Drop the membership; the member count falls with it (never below 0)."""
    removed = await conn.fetchval(
        "DELETE FROM person_club WHERE person_id = $1 AND club_name = $2 RETURNING 1", person_id, name
    )
    if removed:
        await conn.execute(
            "UPDATE club SET count_members = GREATEST(count_members - 1, 0) WHERE name = $1", name
        )


async def uncount_member(conn: Connection, person_id: int) -> None:
    """An activated member stops counting in each of their clubs (never below zero)."""
    await conn.execute(
        """UPDATE club SET count_members = GREATEST(count_members - 1, 0)
           WHERE name IN (SELECT club_name FROM person_club WHERE person_id = $1)""",
        person_id,
    )


async def trim_to_quota(conn: Connection, person_ids: list[int]) -> None:
    """Drop the memberships beyond each person's quota (100 with gold, else 50).

    Clubs are kept in order of (member count, name), so the smallest clubs stay; a dropped
    membership of an activated member lowers that club's count once.
    """
    await conn.execute(
        """WITH ranked AS (
               SELECT pc.person_id, pc.club_name,
                      row_number() OVER (PARTITION BY pc.person_id ORDER BY c.count_members, c.name) AS rank,
                      CASE WHEN p.has_gold THEN $2::int ELSE $3::int END AS quota
               FROM person_club pc
               JOIN club c ON c.name = pc.club_name
               JOIN person p ON p.id = pc.person_id
               WHERE pc.person_id = ANY($1::int[])
           ), dropped AS (
               DELETE FROM person_club pc USING ranked r
               WHERE r.rank > r.quota AND pc.person_id = r.person_id AND pc.club_name = r.club_name
               RETURNING pc.club_name, pc.activated
           ), lost AS (
               SELECT club_name, count(*) AS members FROM dropped WHERE activated GROUP BY club_name
           )
           UPDATE club SET count_members = GREATEST(club.count_members - lost.members, 0)
           FROM lost WHERE club.name = lost.club_name""",
        person_ids,
        GOLD_QUOTA,
        QUOTA,
    )


# -- club search (http-api-social §12.1-12.2, matching.md §13) ---------------------------

SUGGESTIONS = 20


@attrs.frozen
class ClubCount:
    name: str
    count_members: int

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "count_members": self.count_members}


def _sharing_trigram_pattern(q: str) -> str:
    """A PostgreSQL regex matched by exactly the names that share a pg_trgm trigram with ``q``.

    A word ``w`` padded as ``"  w "`` has trigrams ``"  w0"``, ``" w0w1"``, the inner
    three-letter runs and ``"w-2w-1 "``; the first two need a word starting with ``w0``.
    """
    parts: set[str] = set()
    for word in re.findall(r"[a-z0-9]+", q):
        parts.add(f"(^|[^a-z0-9]){word[0]}")
        parts.update(word[i : i + 3] for i in range(len(word) - 2))
        if len(word) >= 2:
            parts.add(f"{word[-2:]}([^a-z0-9]|$)")
    return "|".join(sorted(parts))


async def search(db: Database | Connection, q: str, person_id: int | None) -> list[ClubCount]:
    """The typed club (unless banned or already joined) plus the nearest clubs by trigrams.

    ``q`` is a valid club name. pg_trgm is not available (README), so PostgreSQL returns
    the clubs sharing a trigram with ``q`` and they are ranked here; when they are too few,
    clubs sharing none (distance 1) fill the list, biggest first.
    """
    typed = await db.fetchrow(
        """SELECT COALESCE((SELECT count_members FROM club WHERE name = $1), 0) AS count_members,
                  EXISTS (SELECT 1 FROM person_club WHERE person_id = $2 AND club_name = $1) AS joined""",
        q,
        person_id,
    )
    assert typed is not None
    results = [] if typed["joined"] or not is_allowed_club_name(q) else [ClubCount(q, typed["count_members"])]
    wanted = trigrams(q)

    def rank(club: ClubCount) -> tuple[bool, float, int, str]:
        distance = 1 - similarity(trigrams(club.name), wanted)
        return club.count_members == 0, distance, -club.count_members, club.name

    pattern = _sharing_trigram_pattern(q)
    others = """FROM club c
                WHERE c.count_members > 0 AND c.name <> $1
                  AND NOT EXISTS (SELECT 1 FROM person_club pc
                                  WHERE pc.person_id = $2 AND pc.club_name = c.name)"""
    near = await db.fetch(f"SELECT c.name, c.count_members {others} AND $3 <> '' AND c.name ~ $3", q, person_id, pattern)
    slots = SUGGESTIONS - len(results)
    results += sorted((ClubCount(r["name"], r["count_members"]) for r in near), key=rank)[:slots]
    if len(results) < SUGGESTIONS:
        far = await db.fetch(
            f"""SELECT c.name, c.count_members {others} AND ($3 = '' OR c.name !~ $3)
                ORDER BY c.count_members DESC, c.name LIMIT $4""",
            q,
            person_id,
            pattern,
            SUGGESTIONS - len(results),
        )
        results += [ClubCount(r["name"], r["count_members"]) for r in far]
    return sorted(results, key=rank)


async def most_popular(db: Database | Connection) -> list[ClubCount]:
    """The clubs with most members (zero-member clubs included), for an empty public search."""
    rows = await db.fetch(
        "SELECT name, count_members FROM club ORDER BY count_members DESC, name LIMIT $1", SUGGESTIONS
    )
    return [ClubCount(row["name"], row["count_members"]) for row in rows]
