"""Trait ratios and the percentages shown to users (matching.md §7, §12.1).

Computed with exact fractions so that a percentage ending in .5 rounds to even, as the
reference's float-to-integer conversion does, whatever binary floats would make of it.
"""

from __future__ import annotations

from fractions import Fraction

SHOWN_EVIDENCE = 5000
"""Below this much presence + absence evidence a trait is not shown (null)."""


def trait_ratio(presence: int, absence: int) -> Fraction | None:
    """How far the person leans to the presence pole (0…1), or None with too little evidence."""
    total = presence + absence
    if total < SHOWN_EVIDENCE:
        return None
    return Fraction(presence, total)


def trait_percentage(ratio: Fraction | None) -> float | None:
    """round(100 × ratio), ties to even, as a float (clients get e.g. ``54.0``)."""
    return None if ratio is None else float(round(100 * ratio))


def trait_position(ratio: Fraction | None) -> float:
    """The sort key of trait lists: the ratio, 0 when unknown (§12.1)."""
    return 0.0 if ratio is None else float(ratio)
