"""Where the HTTP API tells chat that a person must be disconnected.

A ban deletes the account (and with it every ``duo_session`` row), so the person cannot log
in to chat again; connections that are already open are not closed by that.  This hook is
the one place the API asks chat to close them.  It does nothing until the chat service
fills it in (a kick sent through the local registry or the cross-process bus).
"""

from __future__ import annotations

from duo.services import Services


async def end_chat_sessions(services: Services, person_id: int) -> None:
    """Close every open chat connection of ``person_id``, in any process (called after commit)."""
