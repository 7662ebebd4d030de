"""Sign-up e-mail rules: syntax, normalisation and domain policy (safety.md §5,
http-api-accounts.md §3.1).
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

import email_validator

from duo.safety.datafiles import read_json, read_lines

NORMALIZATION_FILE = "email-normalization.json"
GOOD_DOMAINS_FILE = "email-domains-good.txt"
BAD_DOMAINS_FILE = "email-domains-bad.txt"

DISPOSABLE_EMAIL = "Disposable email"


class InvalidEmail(ValueError):
    """The typed address is not a usable e-mail address (the message says why)."""


class DomainStatus(StrEnum):
    GOOD = "good"
    BAD = "bad"
    UNKNOWN = "unknown"


class DomainPolicy(StrEnum):
    """Which new sign-ups are allowed: only listed-good domains, or all but listed-bad ones."""

    ALLOW_LIST = "allow_list"
    BLOCK_LIST = "block_list"


def validate_email(typed: str) -> str:
    """The session e-mail for a typed address: lower-cased, trimmed, syntax-checked.

    Accepts ``Name <addr>``; rejects dot-less and special-use domains; no DNS look-up.
    """
    try:
        validated = email_validator.validate_email(
            typed.lower().strip(), check_deliverability=False, allow_display_name=True
        )
    except email_validator.EmailNotValidError as e:
        raise InvalidEmail(str(e)) from e
    return validated.normalized


def _rules() -> Any:
    return read_json(NORMALIZATION_FILE)


def normalize_email(email: str) -> str:
    """The address that identifies an account: provider dots, ``+tags`` and aliases removed.

    So ``First.Last+dating@GoogleMail.com`` becomes ``firstlast@gmail.com``; an address at
    any other domain is returned unchanged.
    """
    local, at, domain = email.rpartition("@")
    lowered = domain.lower()
    rules = _rules()
    dots, plus, aliases = (
        rules["dot_insignificant_domains"],
        rules["plus_address_domains"],
        rules["domain_aliases"],
    )
    if not at or not (lowered in dots or lowered in plus or lowered in aliases):
        return email
    if lowered in dots:
        local = local.lower().replace(".", "")
    if lowered in plus:
        local = local.split("+", 1)[0]
    return f"{local}@{aliases.get(lowered, lowered)}"


def email_domain(email: str) -> str:
    """The text after the last ``@``."""
    return email.rpartition("@")[2]


@cache
def good_email_domains() -> frozenset[str]:
    """Seed of table ``good_email_domain``."""
    return frozenset(read_lines(GOOD_DOMAINS_FILE))


@cache
def bad_email_domains() -> frozenset[str]:
    """Seed of table ``bad_email_domain``."""
    return frozenset(read_lines(BAD_DOMAINS_FILE))


def domain_status(domain: str) -> DomainStatus:
    """Whether the shipped lists call ``domain`` good, bad or neither (good wins)."""
    if domain in good_email_domains():
        return DomainStatus.GOOD
    if domain in bad_email_domains():
        return DomainStatus.BAD
    return DomainStatus.UNKNOWN


def may_sign_up(status: DomainStatus, policy: DomainPolicy = DomainPolicy.ALLOW_LIST) -> bool:
    """Whether a new account may be created with a domain of this status.

    An address that already has an account is always allowed; the caller checks that first.
    """
    if policy is DomainPolicy.ALLOW_LIST:
        return status is DomainStatus.GOOD
    return status is not DomainStatus.BAD
