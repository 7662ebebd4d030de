"""Personality maths of matching.md §5–§8, in Python.

* ``duo.matching.personality``: a person's answer evidence (``Evidence``: presence/absence
  totals and ``count_answers``), what one answer adds (``AnswerScores``), and the 47-float
  personality vector derived from it (§5–§6).
* ``duo.matching.traits``: trait ratios and the percentages shown to users (§7).
* ``duo.matching.match``: the match percentage of two personalities (§8), and the names of
  the SQL functions (migration 0001) that compute the same number inside queries.
"""
