"""What one process's chat consists of, built once by ``duo.chat.server`` and shared by its
sessions: the services (database, clock, media, storage), the bus that routes traffic by
topic across processes, the rooms that accept messages, and the presence actor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from duo.actors.runtime import Supervisor
from duo.chat.bus import Bus
from duo.services import Services

if TYPE_CHECKING:
    from duo.chat.presence import Presence
    from duo.chat.room import Rooms


@attrs.define(eq=False)
class ChatNode:
    svc: Services
    bus: Bus
    rooms: Rooms
    presence: Presence
    sessions: Supervisor  # the session writers, one per open connection
