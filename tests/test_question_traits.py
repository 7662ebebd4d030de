"""The committed per-question trait scores (duo/data/question-trait-scores.json).

Generated offline by tools/question_traits (see docs/question-traits.md); no torch needed here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "duo" / "data"
ARRAYS = ("presence_given_yes", "presence_given_no", "absence_given_yes", "absence_given_no")


@cache
def scores() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / "question-trait-scores.json").read_text("utf-8"))
    return doc


@cache
def trait_names() -> list[str]:
    traits = json.loads((DATA / "traits.json").read_text(encoding="utf-8"))
    return [t["name"] for t in sorted(traits, key=lambda t: t["id"])]


def test_one_entry_per_question_in_file_order() -> None:
    questions = (DATA / "questions.txt").read_text(encoding="utf-8").splitlines()
    entries = scores()["questions"]
    assert list(entries) == [str(i) for i in range(1, len(questions) + 1)]
    assert [e["question"] for e in entries.values()] == questions


def test_trait_order_matches_traits_json() -> None:
    assert scores()["traits"] == trait_names()
    assert len(trait_names()) == 46


def test_arrays_have_one_value_per_trait_in_range() -> None:
    n = len(trait_names())
    for qid, entry in scores()["questions"].items():
        for name in ARRAYS:
            values = entry[name]
            assert len(values) == n, (qid, name)
            assert all(isinstance(v, int) and 0 <= v <= 1000 for v in values), (qid, name)
        for t in range(n):
            assert 999 <= entry["presence_given_yes"][t] + entry["absence_given_yes"][t] <= 1001
            assert 999 <= entry["presence_given_no"][t] + entry["absence_given_no"][t] <= 1001


def test_loadings_are_sparse_and_cover_every_trait() -> None:
    entries = list(scores()["questions"].values())
    n = len(trait_names())
    loaded = [[e["presence_given_yes"][t] != 500 for t in range(n)] for e in entries]
    total = sum(map(sum, loaded))
    assert total / (len(entries) * n) < 0.10  # most (question, trait) pairs carry no information
    assert max(map(sum, loaded)) <= 4  # a question loads on a few traits at most
    assert sum(1 for row in loaded if any(row)) / len(entries) > 0.75
    for t in range(n):
        assert sum(row[t] for row in loaded) >= 20, trait_names()[t]
    # an uninformative pair is exactly 500/500 on both answers
    for e in entries:
        for t in range(n):
            if e["presence_given_yes"][t] == 500:
                assert e["absence_given_yes"][t] == e["presence_given_no"][t] == 500


# (question id, trait, +1 if "yes" points to the presence pole / max_label, -1 if away from it)
OBVIOUS = [
    (1915, "Introversion/Extraversion", +1),  # Do you enjoy going to parties?
    (117, "Introversion/Extraversion", -1),  # ... need lots of alone time to recuperate?
    (36, "Religiosity", +1),  # Do you pray?
    (213, "Religiosity", +1),  # ... religious or spiritual beliefs ... influence daily life?
    (1613, "Neuroticism", +1),  # Do you often worry about things out of your control?
    (1613, "Equanimity", -1),
    (840, "Anxious Attachment", +1),  # Do you often need reassurance that your partner is into you?
    (559, "Anxious Attachment", +1),  # In a relationship, do you constantly worry ...?
    (1163, "Avoidant Attachment", +1),  # ... pull back when a partner gets too close?
    (551, "Avoidant Attachment", +1),  # ... feel smothered when a partner shows too much affection?
    (1381, "Stability of Self-image", +1),  # Are you content with who you are? (high = stable)
    (1099, "Stability of Self-image", -1),  # ... regularly questioning who you really are?
    (741, "Stability of Self-image", -1),  # ... radically changed your style or look ...?
    (1263, "Thrill-seeking", +1),  # Would you ever skydive?
    (1731, "Environmentalism/Anthropocentrism", -1),  # Is recycling important to you?
    (187, "Equity/Meritocracy", -1),  # Should rich people pay more taxes than they do?
]


@pytest.mark.parametrize(("qid", "trait", "sign"), OBVIOUS)
def test_obvious_cases(qid: int, trait: str, sign: int) -> None:
    entry = scores()["questions"][str(qid)]
    t = trait_names().index(trait)
    yes = entry["presence_given_yes"][t] - entry["absence_given_yes"][t]
    no = entry["presence_given_no"][t] - entry["absence_given_no"][t]
    assert yes * sign > 200, (entry["question"], trait, yes)
    assert no * sign < -200, (entry["question"], trait, no)
