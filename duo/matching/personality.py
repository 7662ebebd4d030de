"""Answer evidence and the personality vector (matching.md §5–§6).

The arithmetic mirrors the SQL function ``compute_personality_vectors`` (migration 0001)
step by step, so a vector computed here equals the one the database would store (tests
check that they agree).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

TRAITS = 46
DIMENSIONS = TRAITS + 1
EXTRA_COMPONENT = 1e-5
"""The constant 47th component: it keeps the vector non-zero."""
FULL_CONFIDENCE_ANSWERS = 250


@attrs.frozen
class AnswerScores:
    """What one yes/no answer says about each trait (the question's arrays for that answer)."""

    presence: tuple[int, ...]
    absence: tuple[int, ...]

    @classmethod
    def of(cls, question: Any, answer: bool | None) -> AnswerScores | None:
        """The scores of ``answer`` to ``question`` (a row with the four arrays).

        None for a skipped answer and for an unscored question (empty arrays): both
        contribute nothing and are not counted (§5).
        """
        if answer is None:
            return None
        side = "yes" if answer else "no"
        presence, absence = question[f"presence_given_{side}"], question[f"absence_given_{side}"]
        if not presence or not absence:
            return None
        return cls(tuple(presence), tuple(absence))

    def contribution(self) -> tuple[list[int], list[int]]:
        """Per trait, only the larger side grows, by |P − A| (§5)."""
        excess = [min(p, a) for p, a in zip(self.presence, self.absence, strict=True)]
        return (
            [p - e for p, e in zip(self.presence, excess, strict=True)],
            [a - e for a, e in zip(self.absence, excess, strict=True)],
        )


@attrs.frozen
class Evidence:
    """A person's accumulated evidence: ``person.presence_score``, ``absence_score``, ``count_answers``."""

    presence: tuple[int, ...] = (0,) * TRAITS
    absence: tuple[int, ...] = (0,) * TRAITS
    count_answers: int = 0

    @classmethod
    def of(cls, person: Any) -> Evidence:
        """From a row with the three person columns."""
        return cls(tuple(person["presence_score"]), tuple(person["absence_score"]), person["count_answers"])

    def replace(self, old: AnswerScores | None, new: AnswerScores | None) -> Evidence:
        """Withdraw the old answer's contribution and add the new one's (§5 operations)."""
        presence, absence, count = list(self.presence), list(self.absence), self.count_answers
        for scores, sign in ((new, 1), (old, -1)):
            if scores is None:
                continue
            dp, da = scores.contribution()
            presence = [v + sign * d for v, d in zip(presence, dp, strict=True)]
            absence = [v + sign * d for v, d in zip(absence, da, strict=True)]
            count += sign
        return Evidence(tuple(presence), tuple(absence), count)

    def personality(self) -> NDArray[np.float32]:
        """The 47-dimensional personality vector (§6), as stored (single precision)."""
        x = [
            2.0 * (p / (p + a) if p + a else 0.5) - 1.0
            for p, a in zip(self.presence, self.absence, strict=True)
        ]
        x.append(EXTRA_COMPONENT)
        norm = math.sqrt(sum(v * v for v in x))
        weight = confidence_weight(self.count_answers)
        return np.array([weight * v / norm for v in x], dtype=np.float32)


def confidence_weight(count_answers: int) -> float:
    """w(n) = clip(L(n) / L(250), 0, 1) with L(z) = ln(ln(z + 1) + 1) (§6 step 4)."""

    def loglog(z: float) -> float:
        return math.log(math.log(z + 1.0) + 1.0)

    return min(1.0, max(0.0, loglog(max(count_answers, 0)) / loglog(FULL_CONFIDENCE_ANSWERS)))

