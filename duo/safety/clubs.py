"""The banned-club-name rule (safety.md §3.4), also the verdict for names and job titles (§3.3).

The reference asks PostgreSQL (pg_trgm) for the 10 banned names nearest to the input and
tests only those; duo tests every banned name whose trigrams all occur in the input, which
bans slightly more (allowed by matching.md §13) and needs no ranking.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache

from duo.safety.datafiles import read_lines
from duo.safety.trigram import occurs_as_words, trigram_sequence, trigrams

BANNED_CLUBS_FILE = "banned-clubs.txt"

# A banned name found inside a longer input only counts when it cannot be an accident.
_DISTINCTIVE = re.compile(r"[A-Za-z]{3}|\S \S")


@dataclass(frozen=True)
class _BannedName:
    trigrams: frozenset[str]
    distinctive: bool


@dataclass(frozen=True)
class _BannedIndex:
    exact: frozenset[str]
    names: tuple[_BannedName, ...]
    by_trigram: dict[str, tuple[int, ...]]


def banned_club_names() -> tuple[str, ...]:
    """The seed of table ``banned_club`` (lower case), for the database loader."""
    return read_lines(BANNED_CLUBS_FILE)


@cache
def _index() -> _BannedIndex:
    names = tuple(
        _BannedName(trigrams(name), bool(_DISTINCTIVE.search(name))) for name in banned_club_names()
    )
    by_trigram: defaultdict[str, list[int]] = defaultdict(list)
    for i, banned in enumerate(names):
        for trigram in banned.trigrams:
            by_trigram[trigram].append(i)
    return _BannedIndex(
        frozenset(banned_club_names()),
        names,
        {t: tuple(ids) for t, ids in by_trigram.items()},
    )


def is_allowed_club_name(name: str) -> bool:
    """False if ``name`` is a banned club name or contains a distinctive one as whole words."""
    index = _index()
    if name.lower() in index.exact:
        return False
    sequence = trigram_sequence(name)
    shared = Counter(i for t in set(sequence) for i in index.by_trigram.get(t, ()))
    return not any(
        index.names[i].distinctive and occurs_as_words(index.names[i].trigrams, sequence)
        for i, count in shared.items()
        if count == len(index.names[i].trigrams)
    )
