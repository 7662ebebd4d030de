"""Per-field content checks and their error texts (accounts §12, safety.md §1)."""

from typing import Any

import pytest

from duo.safety import childsafety, normalize, rude, spam
from duo.safety.checks import BlockReason, check_about, check_intro, check_name, warm_up

# What the checks compile from the word and pattern lists on first use.
COMPILED: tuple[Any, ...] = (
    rude._chat_search,
    rude._profile_search,
    spam._url_pattern,
    spam._solicitation_search,
    childsafety._indicator,
    childsafety._quantity_before,
    childsafety._quantity_after,
    normalize._canonicaliser,
)


def test_warm_up_compiles_every_pattern_so_the_first_check_compiles_nothing() -> None:
    for build in COMPILED:
        build.cache_clear()
    warm_up()
    built = {build.__qualname__: build.cache_info().currsize for build in COMPILED}
    assert all(built.values()), built
    misses = [build.cache_info().misses for build in COMPILED]
    assert check_about("kys, follow me on foo.xyz") == "Too rude"
    assert check_name("hitler") == "Too rude"
    assert check_intro("see foo.xyz", sender_trusted=False) is BlockReason.SPAM
    assert [build.cache_info().misses for build in COMPILED] == misses


@pytest.mark.parametrize(
    ("value", "error"),
    [("Alice", None), ("Nurse", None), ("k1ll y0urself", "Too rude"), ("hitler", "Too rude")],
)
def test_check_name(value: str, error: str | None) -> None:
    assert check_name(value) == error


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", None),
        ("I like hiking and reddit.com", None),
        ("kys", "Too rude"),
        ("kys, follow me on foo.xyz", "Too rude"),
        ("follow me on foo.xyz", "Spam"),
        ("text me 555-123-4567", "Spam"),
        ("venmo me", "Spam"),
    ],
)
def test_check_about(value: str, error: str | None) -> None:
    assert check_about(value) == error


def test_check_intro() -> None:
    assert check_intro("hi, how are you?", sender_trusted=False) is None
    assert check_intro("kill yourself", sender_trusted=True) is BlockReason.OFFENSIVE
    assert check_intro("see foo.xyz", sender_trusted=False) is BlockReason.SPAM
    assert check_intro("see foo.xyz", sender_trusted=True) is None
    assert check_intro("tenor.com/view/x", sender_trusted=False) is None
    assert (BlockReason.OFFENSIVE.value, BlockReason.SPAM.value) == ("offensive", "spam")
