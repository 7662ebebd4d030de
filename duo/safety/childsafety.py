"""Potential-minor detector for profile texts (safety.md §6).

Deliberately high-recall: its hits only go to human moderators as reports.
"""

from __future__ import annotations

import re
from functools import cache

from duo.safety.datafiles import read_json

PATTERNS_FILE = "childsafety-patterns.json"

_FLAGS = re.IGNORECASE | re.MULTILINE
_REPEATED = " (one or more)"


def _reversal_marker(assertions: list[str]) -> str:
    """``backwards`` or a run of reversal emoji (their variation selector optional)."""
    words = [a for a in assertions if not a.endswith(_REPEATED)]
    emoji = [
        a.removesuffix(_REPEATED).replace("\ufe0f", "") for a in assertions if a.endswith(_REPEATED)
    ]
    return (
        "(?:"
        + "|".join(re.escape(w) for w in words)
        + "|(?:"
        + "|".join(re.escape(e) + "\ufe0f?" for e in emoji)
        + ")+)"
    )


@cache
def _indicator() -> re.Pattern[str]:
    """Any minor indicator, starting at a word boundary."""
    data = read_json(PATTERNS_FILE)
    fragments = data["regex_fragments"]
    reversal = _reversal_marker(data["palindrome_assertions"])
    indicators = [
        fragments["minor_ages_as_numbers"],
        fragments["minor_ages_as_words"],
        "underage",
        "minor",
        rf"(?:under|not|turn|turning)\s+(?:{fragments['adult_ages_as_numbers']}"
        rf"|{fragments['adult_ages_as_words']})",
        rf"[1-7]1\s*{reversal}",
        fragments["grooming"],
        fragments["victim"],
    ]
    return re.compile(r"\b(?:" + "|".join(indicators) + r")(?=\b|\s|$)", _FLAGS)


@cache
def _quantity_before() -> re.Pattern[str]:
    patterns = read_json(PATTERNS_FILE)["negative_previous_context_patterns"]
    return re.compile(r"\b(?:" + "|".join(patterns) + r")$", _FLAGS & ~re.MULTILINE)


@cache
def _quantity_after() -> re.Pattern[str]:
    patterns = read_json(PATTERNS_FILE)["negative_next_context_patterns"]
    return re.compile(r"(?:" + "|".join(patterns) + r")\b", _FLAGS)


def is_potential_minor(text: str) -> bool:
    """Whether ``text`` mentions an age under 18 or grooming, outside a quantity context."""
    for match in _indicator().finditer(text):
        before = text[: match.start()].strip()
        after = text[match.end() :].strip()
        if _quantity_before().search(before) or _quantity_after().match(after):
            continue
        return True
    return False
