"""Match percentage of two personality vectors (matching.md §8).

Inside SQL use the functions of migration 0001, which compute the same numbers from
pgvector's negative inner product ``a <#> b`` (= −a·b):

* ``match_score(a VECTOR, b VECTOR) → DOUBLE PRECISION``: clamp(0, 99, 50 + 50·a·b),
  unrounded — what search orders by;
* ``match_percentage(a VECTOR, b VECTOR) → SMALLINT``: the same rounded (ties to even) —
  what clients are shown.

pgvector sums the products in single precision, so the unrounded score may differ from
``match_score`` here in the 6th significant digit; the rounded percentages agree except
within that distance of a .5 boundary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MIN_MATCH = 0.0
MAX_MATCH = 99.0


def match_score(a: Sequence[float], b: Sequence[float]) -> float:
    """clamp(0, 99, 50 + 50·(a·b)), unrounded; 50 when either person has no answers."""
    dot = float(np.dot(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)))
    return min(MAX_MATCH, max(MIN_MATCH, 50.0 + 50.0 * dot))


def match_percentage(a: Sequence[float], b: Sequence[float]) -> int:
    """The match percentage clients see: the score rounded to nearest, ties to even."""
    return round(match_score(a, b))
