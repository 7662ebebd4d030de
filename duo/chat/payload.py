"""What the writer of a session is handed, and how it crosses processes on the bus.

A session's mailbox takes server stanzas (its own replies, rendered in its mode when
written), :class:`Rendered` frames (traffic from the bus: rendered once per publish, in
both encodings, since subscribers may be in either mode) and :class:`Close`.  On the bus
a payload is ``S`` + the XML frame + NUL + the JSON frame; the kick topic needs no payload.
"""

from __future__ import annotations

import attrs

from duo.chat import stanzas
from duo.chat.bus import Bus, kick_topic
from duo.chat.protocol import Mode, render

# close codes (README): shutdown, policy (failed auth, a kick, too slow), internal error;
# a binary frame is data of a type the server does not take (§1.2)
SHUTDOWN_CODE = 1001
UNSUPPORTED_CODE = 1003
POLICY_CODE = 1008
INTERNAL_CODE = 1011
_STANZA = b"S"


@attrs.frozen
class Rendered:
    """A stanza already rendered in both encodings."""

    xml: str
    json: str

    def text(self, mode: Mode) -> str:
        return self.xml if mode == "xml" else self.json


@attrs.frozen
class Close:
    """End the connection with ``code`` (1001 shutdown, 1008 policy, 1011 internal)."""

    code: int
    reason: str = ""


Delivery = stanzas.Outbound | Rendered | Close


def encode(stanza: stanzas.Outbound) -> bytes:
    """The bus payload of a stanza for any subscriber."""
    return b"".join((_STANZA, render(stanza, "xml").encode(), b"\0", render(stanza, "json").encode()))


def decode(payload: bytes) -> Rendered | None:
    """A payload from the bus as a frame to write; None for anything we did not publish."""
    if not payload.startswith(_STANZA) or b"\0" not in payload:
        return None
    xml, _, json = payload[1:].partition(b"\0")
    return Rendered(xml.decode(), json.decode())


async def kick(bus: Bus, person: str) -> None:
    """End every connection of ``person`` on every process (their account ended)."""
    await bus.publish(kick_topic(person), b"")
