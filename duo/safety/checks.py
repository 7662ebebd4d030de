"""Content checks per field, as the endpoints and the chat service apply them.

Each returns the exact error text (http-api-accounts.md §12, safety.md §1) or None when the
value passes. Validation errors reach the client as ``Value error, <text>``.
"""

from __future__ import annotations

from enum import StrEnum

from duo.safety.childsafety import is_potential_minor
from duo.safety.rude import is_rude_chat, is_rude_name, is_rude_profile
from duo.safety.spam import is_spam_about, is_spam_chat

TOO_RUDE = "Too rude"
SPAM = "Spam"


class BlockReason(StrEnum):
    """Reasons of the chat "message blocked" stanza that content checks produce."""

    OFFENSIVE = "offensive"
    SPAM = "spam"


def check_name(value: str) -> str | None:
    """Display name, occupation or education (trimmed): ``Too rude`` or None."""
    return TOO_RUDE if is_rude_name(value) else None


def check_about(value: str) -> str | None:
    """Profile ``about`` (trimmed): rudeness first, then spam."""
    if is_rude_profile(value):
        return TOO_RUDE
    if is_spam_about(value):
        return SPAM
    return None


def check_intro(text: str, sender_trusted: bool) -> BlockReason | None:
    """A chat intro: offensive for anyone, spam only from untrusted senders (§3.1, §4.4)."""
    if is_rude_chat(text):
        return BlockReason.OFFENSIVE
    if not sender_trusted and is_spam_chat(text):
        return BlockReason.SPAM
    return None


def warm_up() -> None:
    """Load the lists and compile the patterns (about a second) before the first request."""
    check_about("warm up")
    check_name("warm up")
    check_intro("warm up", sender_trusted=False)
    is_potential_minor("warm up 15 warm up")  # an age: its context patterns compile too
