"""URLs, phone numbers and solicitation (safety.md §4)."""

from datetime import timedelta

import pytest

from duo.safety.spam import (
    UrlMatch,
    UrlType,
    find_phone_numbers,
    find_urls,
    has_solicitation,
    has_url,
    is_spam_about,
    is_spam_chat,
    is_trusted_sender,
)


@pytest.mark.parametrize(
    "text",
    [
        "find me at example.com",
        "name.xyz",
        "discord.com/invite/abc",
        "instagram . com",
        "www.example.xyz/watch",
        "https://foo.xyz",
        "foo dot com",
        "foo d0t net",
        "foo [dot] com",
        "foo (.) io",
        "foo{,}org",
        "paypal.me/x",
        "foo.xyz:8080/path",
        "ｅｘａｍｐｌｅ．ｃｏｍ",
    ],
)
def test_unsafe_urls(text: str) -> None:
    assert has_url(text)


@pytest.mark.parametrize(
    "text",
    [
        "I moved. it was fun",
        "name . xyz",
        "just words here",
        "youtube.com",
        "my letterboxd.com profile",
        "tenor.com/view/cat",
        "3.14 is pi",
    ],
)
def test_ignored_urls(text: str) -> None:
    assert not has_url(text)


def test_safe_urls_are_typed_when_asked() -> None:
    assert find_urls("tenor.com and reddit.com", include_safe=True) == [
        UrlMatch(UrlType.VERY_SAFE, "tenor.com"),
        UrlMatch(UrlType.SOMEWHAT_SAFE, "reddit.com"),
    ]


def test_unsafe_url_match_text() -> None:
    assert find_urls("see http://a.b.example.com:80/x?y now") == [
        UrlMatch(UrlType.UNSAFE, "http://a.b.example.com:80/x?y")
    ]


def test_allow_list_ignores_subdomains() -> None:
    assert not has_url("www.youtube.com/watch")


def test_tld_must_end_the_token() -> None:
    assert not has_url("foo.comx")


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("call 555-123-4567", ["555-123-4567"]),
        ("+44 20 7946 0958", ["+44 20 7946 0958"]),
        ("(020) 7946 0958", ["(020) 7946 0958"]),
        ("1234567", ["1234567"]),
        ("123456", []),
        ("+1 234 5678", []),
        ("born 2001-05-12", []),
        ("I am 25 and 180cm", []),
    ],
)
def test_phone_numbers(text: str, numbers: list[str]) -> None:
    assert find_phone_numbers(text) == numbers


@pytest.mark.parametrize("text", ["cashapp me", "my TELEGRAM", "venm0", "p4ypal", "z4ngi"])
def test_solicitation(text: str) -> None:
    assert has_solicitation(text)


def test_no_solicitation_inside_words() -> None:
    assert not has_solicitation("telegrammatic paypalish")


def test_about_spam() -> None:
    assert is_spam_about("add me on telegram")
    assert is_spam_about("call 555-123-4567")
    assert is_spam_about("onlyfans.com/me")
    assert not is_spam_about("I like reddit.com and hiking")


def test_chat_spam() -> None:
    assert not is_spam_chat("tenor.com/view/funny-cat-123")
    assert is_spam_chat("look tenor.com/view/x and foo.xyz")
    assert is_spam_chat("join discord.gg/abc")
    assert not is_spam_chat("I watch youtube.com a lot")
    assert not is_spam_chat("hello!")


@pytest.mark.parametrize(
    ("age", "level", "trusted"),
    [
        (timedelta(hours=23), 1, False),
        (timedelta(hours=25), 1, True),
        (timedelta(hours=5), 2, False),
        (timedelta(hours=7), 2, True),
        (timedelta(hours=2, minutes=41), 3, True),
        (timedelta(hours=2, minutes=39), 3, False),
    ],
)
def test_trusted_sender(age: timedelta, level: int, trusted: bool) -> None:
    assert is_trusted_sender(age, level) is trusted
