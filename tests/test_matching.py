"""Personality maths (matching.md §5–§8, §16) by hand, and Python against the SQL functions."""

import random
from fractions import Fraction

import numpy as np
import pytest
import trio

from duo.matching.match import match_percentage, match_score
from duo.matching.personality import TRAITS, AnswerScores, Evidence, confidence_weight
from duo.matching.traits import trait_percentage, trait_position, trait_ratio
from duo.sql.database import Database

E20 = 19  # index of trait 20, Introversion/Extraversion


def worked_example_question() -> dict[str, list[int]]:
    """§16: trait 20 scored 838/162 (yes) and 144/856 (no), every other trait 500/500."""
    def array(value: int) -> list[int]:
        return [value if i == E20 else 500 for i in range(TRAITS)]
    return {
        "presence_given_yes": array(838), "absence_given_yes": array(162),
        "presence_given_no": array(144), "absence_given_no": array(856),
    }


def test_weight_table() -> None:
    table = {0: 0, 1: 0.2807, 2: 0.3952, 5: 0.5474, 10: 0.6521, 25: 0.7724, 50: 0.8507,
             100: 0.9199, 150: 0.9568, 200: 0.9815, 250: 1, 251: 1, 2000: 1}
    for n, w in table.items():
        assert confidence_weight(n) == pytest.approx(w, abs=5e-5), n


def test_worked_example() -> None:
    q = worked_example_question()
    yes, no = AnswerScores.of(q, True), AnswerScores.of(q, False)
    a = Evidence().replace(None, yes)
    assert a.presence[E20] == 676 and a.absence[E20] == 0 and a.count_answers == 1
    assert sum(a.presence) + sum(a.absence) == 676  # 500/500 adds nothing
    va = a.personality()
    assert va.dtype == np.float32 and va.shape == (47,)
    assert va[E20] == pytest.approx(0.2807, abs=1e-4)
    assert np.count_nonzero(np.abs(np.delete(va, E20)) > 1e-5) == 0

    assert float(np.dot(va, va)) == pytest.approx(0.0788, abs=1e-4)
    assert match_score(va, va) == pytest.approx(53.94, abs=0.01)
    assert match_percentage(va, va) == 54

    b = Evidence().replace(None, no)
    assert b.absence[E20] == 712 and b.presence[E20] == 0
    vb = b.personality()
    assert vb[E20] == pytest.approx(-0.2807, abs=1e-4)
    assert match_score(va, vb) == pytest.approx(46.06, abs=0.01)
    assert match_percentage(va, vb) == 46
    assert float(np.dot(va, vb)) < -1e-5  # B fails A's 50 % floor (§9.4 e)

    assert trait_ratio(a.presence[E20], a.absence[E20]) is None  # 676 < 5000
    assert trait_percentage(None) is None


def test_changing_skipping_and_deleting_answers() -> None:
    q = worked_example_question()
    yes, no = AnswerScores.of(q, True), AnswerScores.of(q, False)
    answered = Evidence().replace(None, yes)
    changed = answered.replace(yes, no)
    assert (changed.presence[E20], changed.absence[E20], changed.count_answers) == (0, 712, 1)
    skipped = changed.replace(no, AnswerScores.of(q, None))
    assert skipped == Evidence()  # back to nothing, count 0
    assert not skipped.personality().any()  # zero vector: weight 0
    assert AnswerScores.of(q, None) is None
    unscored = {k: [] for k in q}
    assert AnswerScores.of(unscored, True) is None  # unscored questions count for nothing
    assert Evidence().replace(None, AnswerScores.of(unscored, True)).count_answers == 0


def test_no_answers_match_fifty() -> None:
    zero = Evidence().personality()
    full = Evidence((900,) * TRAITS, (100,) * TRAITS, 300).personality()
    assert float(np.linalg.norm(full)) == pytest.approx(1.0, abs=1e-6)  # weight 1 at ≥ 250
    assert match_score(zero, full) == 50 and match_percentage(zero, zero) == 50
    assert match_score(full, full) == 99  # clamped
    opposite = Evidence((100,) * TRAITS, (900,) * TRAITS, 300).personality()
    assert match_score(full, opposite) == pytest.approx(0, abs=1e-4)
    assert match_percentage(full, opposite) == 0


def test_trait_percentages() -> None:
    assert trait_ratio(4000, 999) is None
    assert trait_ratio(4000, 1000) == Fraction(4, 5)
    assert trait_percentage(trait_ratio(4000, 1000)) == 80.0
    # exact halves round to even
    assert trait_percentage(Fraction(125, 1000)) == 12.0
    assert trait_percentage(Fraction(135, 1000)) == 14.0
    assert trait_percentage(trait_ratio(0, 6000)) == 0.0
    assert trait_position(None) == 0.0 and trait_position(Fraction(1, 4)) == 0.25


def random_scores(rng: random.Random) -> AnswerScores:
    presence = [rng.choice([500, rng.randint(0, 1000)]) for _ in range(TRAITS)]
    return AnswerScores(tuple(presence), tuple(1000 - p + rng.randint(-1, 1) for p in presence))


async def test_sql_personality_agrees_with_python(db: Database) -> None:
    """compute_personality_vectors (migration 0001) stores bit-for-bit what Python computes."""
    with trio.fail_after(30):
        rng = random.Random(7)
        evidence = Evidence()
        answers: list[AnswerScores] = []
        for step in range(300):
            old = answers.pop(rng.randrange(len(answers))) if answers and rng.random() < 0.3 else None
            new = random_scores(rng) if rng.random() < 0.9 else None
            row = await db.fetchrow(
                """SELECT (v).personality, (v).presence_score, (v).absence_score, (v).count_answers
                   FROM (SELECT compute_personality_vectors($1, $2, $3, $4, $5, $6, $7) AS v) x""",
                None if new is None else list(new.presence), None if new is None else list(new.absence),
                None if old is None else list(old.presence), None if old is None else list(old.absence),
                list(evidence.presence), list(evidence.absence), evidence.count_answers,
            )
            evidence = evidence.replace(old, new)
            if new is not None:
                answers.append(new)
            assert row is not None
            assert (tuple(row["presence_score"]), tuple(row["absence_score"]), row["count_answers"]) == (
                evidence.presence, evidence.absence, evidence.count_answers), step
            assert np.array_equal(np.array(row["personality"], dtype=np.float32), evidence.personality()), step


async def test_sql_match_agrees_with_python(db: Database) -> None:
    with trio.fail_after(30):
        rng = random.Random(11)
        vectors = []
        for _ in range(40):
            presence = tuple(rng.randint(0, 20000) for _ in range(TRAITS))
            absence = tuple(rng.randint(0, 20000) for _ in range(TRAITS))
            vectors.append(Evidence(presence, absence, rng.randint(0, 400)).personality())
        vectors.append(Evidence().personality())
        pairs = [(a, b) for a in vectors[:12] for b in vectors]
        def text(v: np.ndarray) -> str:
            return "[" + ",".join(repr(float(x)) for x in v) + "]"
        rows = await db.fetch(
            """SELECT match_score(a::vector, b::vector) AS score,
                      match_percentage(a::vector, b::vector) AS percentage
               FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(a, b, i) ORDER BY i""",
            [text(a) for a, _ in pairs], [text(b) for _, b in pairs],
        )
        spread = {r["percentage"] for r in rows}
        assert len(spread) > 10  # the sample covers a range of matches
        for (a, b), row in zip(pairs, rows, strict=True):
            score = match_score(a, b)
            assert row["score"] == pytest.approx(score, abs=1e-4)
            if abs(abs(score - round(score)) - 0.5) > 1e-3:  # not at a rounding tie
                assert row["percentage"] == match_percentage(a, b)
