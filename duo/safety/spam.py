"""Spam signals: URLs, phone numbers and payment/messaging solicitation (safety.md §4)."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple

from duo.safety.datafiles import read_json, read_lines
from duo.safety.normalize import literal_phrases_pattern, normalize_string

TLDS_FILE = "url-tlds.txt"
DOMAIN_CLASSES_FILE = "url-domain-classes.json"
SOLICITATION_FILE = "solicitation-words.txt"


class UrlType(StrEnum):
    VERY_SAFE = "VERY_SAFE"
    SOMEWHAT_SAFE = "SOMEWHAT_SAFE"
    UNSAFE = "UNSAFE"


class UrlMatch(NamedTuple):
    type: UrlType
    text: str


def _classes() -> Any:
    return read_json(DOMAIN_CLASSES_FILE)


@cache
def _url_pattern() -> re.Pattern[str]:
    classes = _classes()
    tokens = "|".join(re.escape(t) for t in classes["dot_tokens"])
    wrapped = "|".join(
        re.escape(pair[0]) + f"(?:{tokens})" + re.escape(pair[1])
        for pair in classes["dot_token_brackets"]
    )
    tlds = "|".join(re.escape(t) for t in sorted(read_lines(TLDS_FILE), key=len, reverse=True))
    return re.compile(
        r"(?P<scheme>https?://)?"
        r"(?P<subdomains>(?:[a-z0-9]+\.)*)"
        r"(?P<domain>[a-z0-9-]+)"
        rf"(?P<separator>\s*(?:{tokens}|{wrapped})\s*)"
        rf"(?P<tld>{tlds})(?=$|[\s/:])"
        r"(?::\d+)?"
        r"(?:/\S*)?",
        re.IGNORECASE,
    )


def _classify(match: re.Match[str], include_safe: bool) -> UrlType | None:
    """Type of one URL match, or None when it is ignored (§4.1, first rule that applies)."""
    classes = _classes()
    tld = match["tld"].lower()
    site = f"{match['domain'].lower()}.{tld}"
    if site in classes["very_safe_domains"]:
        return UrlType.VERY_SAFE if include_safe else None
    if site in classes["somewhat_safe_domains"]:
        return UrlType.SOMEWHAT_SAFE if include_safe else None
    if (
        site in classes["unsafe_domains"]
        or tld in classes["common_tlds"]
        or match["scheme"]
        or match["subdomains"]
        or not any(c.isspace() for c in match["separator"])
    ):
        return UrlType.UNSAFE
    # e.g. "I moved. it was fun": a sentence break before a word that is also a TLD.
    return None


def find_urls(text: str, include_safe: bool = False, normalize: bool = True) -> list[UrlMatch]:
    """URL-like tokens in ``text``; safe sites are listed only with ``include_safe``."""
    if normalize:
        text = normalize_string(text)
    found = []
    for match in _url_pattern().finditer(text):
        url_type = _classify(match, include_safe)
        if url_type is not None:
            found.append(UrlMatch(url_type, match[0]))
    return found


def has_url(text: str) -> bool:
    """Whether ``text`` has a URL that is not allow-listed (§4.1 defaults)."""
    return bool(find_urls(text))


_PHONE_CANDIDATE = re.compile(
    r"(?:\+?\d{1,3}[ -]?)?"
    r"(?:\(\d{1,4}\)|\d{1,4})?"
    r"[ -]?\d{3,4}"
    r"[ -]?\d{2,4}"
    r"(?:[ -]?\d{2,4})?"
    r"\b"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def find_phone_numbers(text: str) -> list[str]:
    """Phone-number-like digit runs in ``text``, ignoring ``YYYY-MM-DD`` dates (§4.2)."""
    numbers = []
    for match in _PHONE_CANDIDATE.finditer(text):
        candidate = match[0].strip()
        if _ISO_DATE.fullmatch(candidate):
            continue
        digits = sum(c.isdigit() for c in candidate)
        low = 9 if candidate.startswith("+") else 7
        if low <= digits <= 14:
            numbers.append(candidate)
    return numbers


@cache
def _solicitation_words() -> tuple[str, ...]:
    return read_lines(SOLICITATION_FILE)


@cache
def _solicitation_search() -> re.Pattern[str]:
    return literal_phrases_pattern(_solicitation_words(), r"\b", r"\b")


def has_solicitation(text: str) -> bool:
    """Whether ``text`` names a payment or messaging service, however spelt (§4.3)."""
    normalized = normalize_string(text, _solicitation_words())
    return _solicitation_search().search(normalized) is not None


def is_spam_about(text: str) -> bool:
    """Profile ``about`` spam: a URL, a phone number or solicitation (§4.4)."""
    return has_url(text) or bool(find_phone_numbers(text)) or has_solicitation(text)


def is_spam_chat(text: str) -> bool:
    """Chat-intro spam: any URL unless the message is exactly one very-safe URL (§4.4)."""
    if find_urls(text, include_safe=True, normalize=False) == [UrlMatch(UrlType.VERY_SAFE, text)]:
        return False
    return has_url(text)


def is_trusted_sender(account_age: timedelta, verification_level_id: int) -> bool:
    """Whether intros skip the spam check: the account is older than 1 day / level² (§4.4)."""
    return account_age > timedelta(days=1) / verification_level_id**2
