"""Potential-minor detector (safety.md §6)."""

import pytest

from duo.safety.childsafety import is_potential_minor


@pytest.mark.parametrize(
    "text",
    [
        "I am 16",
        "im 16yo",
        "15 y/o girl",
        "just turned seventeen",
        "Sixteen and bored",
        "I'm underage",
        "technically a minor",
        "not 18 yet",
        "turning eighteen soon",
        "under 25 please",
        "71 backwards",
        "61🔄",
        "41 ↩️↩️",
        "he is a groomer",
        "I want to be a victim",
        "line one\n14\nline three",
    ],
)
def test_positives(text: str) -> None:
    assert is_potential_minor(text)


@pytest.mark.parametrize(
    "text",
    [
        "I am 25",
        "I have been coding for 16 years",
        "moved here 15 years ago",
        "lost 15 pounds",
        "I can run 12 km",
        "born in 2016",
        "16:30 works",
        "since 14 I have loved music",
        "16% of people",
        "about 13 hours",
        "12 million views",
        "I am twenty",
        "majority opinion",
        "",
    ],
)
def test_negatives(text: str) -> None:
    assert not is_potential_minor(text)


def test_any_surviving_match_counts() -> None:
    assert is_potential_minor("ran 12 km. I am 15")
