"""Rude and offensive content: chat intros, profile text, names and job titles (safety.md §3)."""

from __future__ import annotations

import re
from functools import cache

from duo.safety.clubs import is_allowed_club_name
from duo.safety.datafiles import read_lines
from duo.safety.normalize import (
    BOUNDARY_AFTER,
    BOUNDARY_BEFORE,
    literal_phrases_pattern,
    normalize_string,
)

CHAT_PHRASES_FILE = "rude-phrases-chat.txt"
PROFILE_PHRASES_FILE = "rude-phrases-profile.txt"

# Upstream lost a comma between two literals; the README decides they are two entries.
_MERGED_ENTRIES = {"rapebaitrapist": ("rapebait", "rapist")}


@cache
def phrase_list(name: str) -> tuple[str, ...]:
    """A phrase list file, de-duplicated in order, with merged upstream entries split."""
    phrases: list[str] = []
    for entry in read_lines(name):
        phrases.extend(_MERGED_ENTRIES.get(entry, (entry,)))
    return tuple(dict.fromkeys(phrases))


@cache
def _chat_search() -> re.Pattern[str]:
    return literal_phrases_pattern(phrase_list(CHAT_PHRASES_FILE), BOUNDARY_BEFORE, BOUNDARY_AFTER)


@cache
def _profile_search() -> re.Pattern[str]:
    return literal_phrases_pattern(phrase_list(PROFILE_PHRASES_FILE), r"\b", r"\b")


def is_rude_chat(text: str) -> bool:
    """Whether a chat message contains an offensive phrase, however it is spelt (§3.1)."""
    normalized = normalize_string(text, phrase_list(CHAT_PHRASES_FILE))
    return _chat_search().search(normalized) is not None


def is_rude_profile(text: str) -> bool:
    """Whether an ``about`` text contains a rude phrase, however it is spelt (§3.2)."""
    normalized = normalize_string(text, phrase_list(PROFILE_PHRASES_FILE))
    return _profile_search().search(normalized) is not None


def is_rude_name(text: str) -> bool:
    """Whether a display name, occupation or education is rude (§3.3).

    The profile list only normalises; the verdict is the banned-club-name rule.
    """
    return not is_allowed_club_name(normalize_string(text, phrase_list(PROFILE_PHRASES_FILE)))
