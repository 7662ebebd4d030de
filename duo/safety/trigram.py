"""Trigram similarity as PostgreSQL's pg_trgm computes it, done in process.

duo's database has no pg_trgm (README decision), but the banned-club rule (safety.md §3.4,
matching.md §13) is defined with its trigrams and ``word_similarity``.
"""

from __future__ import annotations

from collections.abc import Iterator


def _words(text: str) -> Iterator[str]:
    """Lower-cased runs of letters and digits; everything else separates words."""
    word: list[str] = []
    for char in text.lower():
        if char.isalnum():
            word.append(char)
        elif word:
            yield "".join(word)
            word = []
    if word:
        yield "".join(word)


def trigram_sequence(text: str) -> list[str]:
    """Trigrams of each word padded with two spaces before and one after, in text order."""
    sequence: list[str] = []
    for word in _words(text):
        padded = f"  {word} "
        sequence.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return sequence


def trigrams(text: str) -> frozenset[str]:
    """The set of trigrams of ``text``."""
    return frozenset(trigram_sequence(text))


def occurs_as_words(needle: frozenset[str], haystack: list[str]) -> bool:
    """Whether pg_trgm ``word_similarity(needle, haystack)`` is 1.

    That holds when a contiguous stretch of the haystack's trigram sequence consists only of
    the needle's trigrams and contains all of them, i.e. the needle occurs as whole words.
    """
    if not needle:
        return False
    run: set[str] = set()
    for trigram in haystack:
        if trigram in needle:
            run.add(trigram)
            if len(run) == len(needle):
                return True
        else:
            run = set()
    return False


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """pg_trgm ``similarity`` of two trigram sets (shared / all); 0 when either is empty.
    pg_trgm's distance ``<->`` is ``1 - similarity``."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)
