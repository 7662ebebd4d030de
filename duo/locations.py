"""Place names (table ``location``): exact look-up and the autocomplete of /search-locations.

The reference ranks ``long_friendly`` by pg_trgm distance; duo has no pg_trgm (README), so
candidates come from the prefix index on ``lower(long_friendly)`` and are ranked here with
the same trigram similarity.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import attrs
import trio

from duo.safety.trigram import similarity, trigrams
from duo.sql.database import Connection, Database

RESULTS = 10
CACHE_SIZE = 17_576  # the reference's bound: every three-letter query


@attrs.frozen
class Place:
    """What the API needs of a location row."""

    long_friendly: str
    latitude: float
    longitude: float
    country: str
    verification_required: bool


_PLACE_COLUMNS = "long_friendly, latitude, longitude, country, verification_required"


def _place(row: Any) -> Place:
    return Place(
        row["long_friendly"], row["latitude"], row["longitude"], row["country"], row["verification_required"]
    )


async def by_name(db: Database | Connection, long_friendly: str) -> Place | None:
    """The location whose ``long_friendly`` is exactly ``long_friendly``."""
    row = await db.fetchrow(f"SELECT {_PLACE_COLUMNS} FROM location WHERE long_friendly = $1", long_friendly)
    return _place(row) if row else None


async def nearest(db: Database | Connection, latitude: float, longitude: float) -> Place | None:
    """The location nearest to a point (people store the point of the place they chose)."""
    row = await db.fetchrow(
        f"SELECT {_PLACE_COLUMNS} FROM location WHERE id = nearest_location_id($1, $2)", latitude, longitude
    )
    return _place(row) if row else None


def normalise_query(q: str) -> str:
    """Runs of whitespace become one space; ends trimmed."""
    return " ".join(q.split())


def _like_prefix(char: str) -> str:
    return char.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class LocationIndex:
    """Caches of one database: names (with trigrams) by first character, answers by raw
    query. One per process, held by the services."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._by_initial: dict[str, list[tuple[str, frozenset[str]]]] = {}
        self._answers: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = trio.Lock()

    async def search(self, raw_q: str) -> list[str]:
        """Up to ten names starting with the query's first character, nearest first."""
        cached = self._answers.get(raw_q)
        if cached is not None:
            return cached
        q = normalise_query(raw_q)
        answer = self._rank(q, await self._candidates(q[0].lower())) if q else []
        self._answers[raw_q] = answer
        if len(self._answers) > CACHE_SIZE:
            self._answers.popitem(last=False)
        return answer

    async def _candidates(self, initial: str) -> list[tuple[str, frozenset[str]]]:
        async with self._lock:
            if initial not in self._by_initial:
                rows = await self._db.fetch(
                    "SELECT long_friendly FROM location WHERE lower(long_friendly) LIKE $1",
                    _like_prefix(initial),
                )
                self._by_initial[initial] = [(r["long_friendly"], trigrams(r["long_friendly"])) for r in rows]
            return self._by_initial[initial]

    @staticmethod
    def _rank(q: str, candidates: list[tuple[str, frozenset[str]]]) -> list[str]:
        wanted = trigrams(q)
        scored = sorted((-similarity(wanted, grams), name) for name, grams in candidates)
        return [name for _, name in scored[:RESULTS]]
