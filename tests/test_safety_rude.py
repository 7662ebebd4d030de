"""Rude content and the banned-club-name rule (safety.md §3, matching.md §13)."""

import pytest

from duo.safety.clubs import banned_club_names, is_allowed_club_name
from duo.safety.rude import (
    CHAT_PHRASES_FILE,
    PROFILE_PHRASES_FILE,
    is_rude_chat,
    is_rude_name,
    is_rude_profile,
    phrase_list,
)
from duo.safety.trigram import occurs_as_words, trigram_sequence, trigrams


def test_merged_upstream_entry_is_two_entries() -> None:
    profile = phrase_list(PROFILE_PHRASES_FILE)
    assert "rapebaitrapist" not in profile
    assert {"rapebait", "rapist"} <= set(profile)
    assert len(profile) == 155


def test_chat_list_is_deduplicated() -> None:
    assert len(phrase_list(CHAT_PHRASES_FILE)) == 920


@pytest.mark.parametrize(
    "text", ["kill yourself", "k1ll urself", "go KYS", "bust a nut?", "n1gg3r", "rapist"]
)
def test_rude_chat(text: str) -> None:
    assert is_rude_chat(text)


@pytest.mark.parametrize(
    "text", ["hello there", "I love puzzles", "I live in Essex", "skillful", "lol", ""]
)
def test_polite_chat(text: str) -> None:
    assert not is_rude_chat(text)


def test_chat_only_phrases_pass_in_profiles() -> None:
    assert is_rude_chat("bust a nut")
    assert not is_rude_profile("bust a nut")


@pytest.mark.parametrize("text", ["kys", "I'm a proud tr00n", "heil   hitler", "rapebait"])
def test_rude_profile(text: str) -> None:
    assert is_rude_profile(text)


@pytest.mark.parametrize("text", ["I like hiking and cooking.", "Cockatoo owner", "Kyoto fan"])
def test_polite_profile(text: str) -> None:
    assert not is_rude_profile(text)


@pytest.mark.parametrize("text", ["Hitler", "k1ll y0urself", "12", "adolf hitler fan"])
def test_rude_names(text: str) -> None:
    assert is_rude_name(text)


@pytest.mark.parametrize("text", ["Alice", "Software engineer", "University of Sussex", "Bob 12"])
def test_ordinary_names(text: str) -> None:
    assert not is_rude_name(text)


def test_banned_club_list() -> None:
    names = banned_club_names()
    assert len(names) == 3337
    assert all(name == name.lower() for name in names)


def test_exact_banned_name_is_refused_case_insensitively() -> None:
    assert not is_allowed_club_name("HITLER")
    assert not is_allowed_club_name("12")


def test_distinctive_banned_name_inside_input_is_refused() -> None:
    assert not is_allowed_club_name("we love hitler")


def test_short_banned_name_inside_input_is_allowed() -> None:
    # "12" has no three ASCII letters and is one word: only an exact match bans it.
    assert is_allowed_club_name("top 12 albums")


def test_banned_name_as_part_of_a_word_is_allowed() -> None:
    assert is_allowed_club_name("chess")
    assert is_allowed_club_name("hitlers")


def test_trigrams_follow_pg_trgm() -> None:
    assert trigrams("Cat!") == {"  c", " ca", "cat", "at "}
    assert trigram_sequence("a b") == ["  a", " a ", "  b", " b "]


def test_occurs_as_words() -> None:
    needle = trigrams("foo bar")
    assert occurs_as_words(needle, trigram_sequence("x foo bar y"))
    assert not occurs_as_words(needle, trigram_sequence("foo x bar"))
    assert not occurs_as_words(needle, trigram_sequence("foobar"))
