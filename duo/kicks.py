"""Where the HTTP API tells chat that a person must be disconnected.

A ban deletes the account (and with it every ``duo_session`` row), so the person cannot log
in to chat again; connections that are already open are not closed by that.  This hook is
the one place the API asks chat to close them: ``Services.end_chat_sessions``, which chat
fills in with a kick on the person's topic (through the bus when there are several
processes; nothing happens where chat does not run).
"""

from __future__ import annotations

from duo.services import Services


async def end_chat_sessions(services: Services, person_uuid: str) -> None:
    """Close every open chat connection of ``person_uuid``, in any process (called after commit)."""
    await services.end_chat_sessions(person_uuid)
