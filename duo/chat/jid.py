"""Addresses on the chat (chat-protocol.md §2.3): people are canonical UUIDs, JIDs add the domain.

One home for canonicalisation, because the spec decision is "UUIDs are canonicalised
everywhere": channel names, inbox keys and replies all depend on the same spelling.
"""

from __future__ import annotations

import uuid

DOMAIN = "duolicious.app"


def canonical_uuid(text: str) -> str | None:
    """The lower-case hyphenated form of any spelling the standard parser accepts, else None."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def person_of(jid: str) -> str | None:
    """The canonical person UUID of a JID: only the part before the first ``@`` counts."""
    return canonical_uuid(jid.partition("@")[0])


def jid(person: str) -> str:
    """The bare JID the server emits for a person (never a resource)."""
    return f"{person}@{DOMAIN}"
