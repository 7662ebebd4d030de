"""The chat protocol core, sans-IO (chat-protocol.md §2–§6): text frame in, stanza out.

The whole public surface: ``parse`` a received text frame into an inbound stanza (or why it
is ignored, or that it ends the connection) and ``render`` a server stanza as a text frame.
``Mode`` is the connection's encoding, fixed by the WebSocket subprotocol (§1.2). The §4
authentication gate (row 3) is the session's: it knows whether ``auth`` has succeeded.
No I/O, no clock, no randomness: ids such as a stream id or a MAM frame id are chosen by
the caller and carried in the stanza.
"""

from __future__ import annotations

from typing import Literal

from duo.chat.inbound import recognise
from duo.chat.jsoncodec import read_json, write_json
from duo.chat.outbound import shape
from duo.chat.stanzas import Fatal, Ignorable, Inbound, Outbound, StreamClose
from duo.chat.xmlcodec import read_xml, write_xml

Mode = Literal["xml", "json"]

MAX_FRAME_BYTES = 10_485_760  # §1.1: the WebSocket maximum incoming message size


def parse(frame: str, mode: Mode) -> Inbound | Ignorable | Fatal:
    """The stanza a text frame carries, recognised in the §4 dispatch order."""
    if len(frame) > MAX_FRAME_BYTES // 4 and _utf8_length(frame) > MAX_FRAME_BYTES:
        return Fatal("frame larger than 10 MiB")
    root = read_xml(frame) if mode == "xml" else read_json(frame)
    if isinstance(root, Ignorable):
        return root
    return recognise(root)


def render(stanza: Outbound, mode: Mode) -> str:
    """The text frame that sends a server stanza in the connection's encoding."""
    if isinstance(stanza, StreamClose):
        return "</stream:stream>" if mode == "xml" else '{"stream": null}'
    element = shape(stanza)
    return write_xml(element) if mode == "xml" else write_json(element)


def _utf8_length(frame: str) -> int:
    return len(frame.encode("utf-8", "surrogatepass"))
