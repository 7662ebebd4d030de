"""Sign-up e-mail syntax, normalisation and domain policy (safety.md §5, accounts §3.1)."""

import pytest

from duo.safety.emails import (
    DomainPolicy,
    DomainStatus,
    InvalidEmail,
    bad_email_domains,
    domain_status,
    email_domain,
    good_email_domains,
    may_sign_up,
    normalize_email,
    validate_email,
)


def test_validate_lowercases_trims_and_strips_display_name() -> None:
    assert validate_email("  Bob@Example.COM ") == "bob@example.com"
    assert validate_email("Bob <Bob@Example.com>") == "bob@example.com"


def test_validate_allows_international_addresses() -> None:
    assert validate_email("ü@bücher.de") == "ü@bücher.de"


@pytest.mark.parametrize(
    "typed", ["", "no-at-sign", "a@b", "a@localhost", "a@x.test", "a@x.onion", "a@@b.com"]
)
def test_validate_rejects(typed: str) -> None:
    with pytest.raises(InvalidEmail):
        validate_email(typed)


def test_validate_rejects_overlong_address() -> None:
    with pytest.raises(InvalidEmail):
        validate_email("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com")


@pytest.mark.parametrize(
    ("email", "normalized"),
    [
        ("First.Last+dating@GoogleMail.com", "firstlast@gmail.com"),
        ("first.last+dating@googlemail.com", "firstlast@gmail.com"),
        ("f.i.r.s.t@gmail.com", "first@gmail.com"),
        ("first.last+x@hotmail.com", "first.last@hotmail.com"),
        ("me+a+b@proton.me", "me@proton.me"),
        ("first.last+x@example.com", "first.last+x@example.com"),
        ("Mixed.Case+x@Example.com", "Mixed.Case+x@Example.com"),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_normalize_email(email: str, normalized: str) -> None:
    assert normalize_email(email) == normalized


def test_email_domain() -> None:
    assert email_domain("a@b.example.com") == "b.example.com"


def test_domain_lists() -> None:
    assert len(good_email_domains()) == 10527
    assert len(bad_email_domains()) == 352
    assert {"gmail.com", "example.com"} <= good_email_domains()
    assert {"mailinator.com", "yopmail.com", "duck.com"} <= bad_email_domains()


def test_domain_status() -> None:
    assert domain_status("gmail.com") is DomainStatus.GOOD
    assert domain_status("mailinator.com") is DomainStatus.BAD
    assert domain_status("never-heard-of-it.example") is DomainStatus.UNKNOWN


@pytest.mark.parametrize(
    ("status", "policy", "allowed"),
    [
        (DomainStatus.GOOD, DomainPolicy.ALLOW_LIST, True),
        (DomainStatus.BAD, DomainPolicy.ALLOW_LIST, False),
        (DomainStatus.UNKNOWN, DomainPolicy.ALLOW_LIST, False),
        (DomainStatus.GOOD, DomainPolicy.BLOCK_LIST, True),
        (DomainStatus.BAD, DomainPolicy.BLOCK_LIST, False),
        (DomainStatus.UNKNOWN, DomainPolicy.BLOCK_LIST, True),
    ],
)
def test_may_sign_up(status: DomainStatus, policy: DomainPolicy, allowed: bool) -> None:
    assert may_sign_up(status, policy) is allowed


def test_allow_list_is_the_default_policy() -> None:
    assert not may_sign_up(DomainStatus.UNKNOWN)
    assert DomainPolicy("block_list") is DomainPolicy.BLOCK_LIST
