"""How a stored chat message is written down (chat-protocol §9.1, §9.2, §5.4, §5.5).

Archive ids carry the queueing time (``T << 8``, +1 for the recipient's copy);
``mam_message.message`` holds the stanza as an Erlang term (the MongooseIM "exml" shape,
which legacy rows also use); ``inbox.content`` holds the same stanza as UTF-8 XML. Writers
and readers of both live here so the two directions cannot drift apart. Both read back as
``duo.chat.stanzas.ArchivedMessage`` (people as canonical UUIDs); how results are shown to
clients (base-32 ids, stamps) is the renderer's.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

from duo.chat import namespaces as ns
from duo.chat.jid import jid, person_of
from duo.chat.stanzas import ArchivedMessage
from duo.erlang_term import UNDECODABLE, Atom, decode_term, encode_term

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def micros(at: dt.datetime) -> int:
    """Microseconds since the Unix epoch (exact, no float rounding)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(t_micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=t_micros)


def archive_ids(t_micros: int) -> tuple[int, int]:
    """The sender's and the recipient's archive id of a message queued at ``t_micros``."""
    return t_micros << 8, (t_micros << 8) + 1


_PUNCTUATION_RUNS = re.compile(r"[,.:;\-?!]+")
_NOT_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def search_body(body: str) -> str:
    """``mam_message.search_body``: what the reporting component searches (§9.1)."""
    text = _PUNCTUATION_RUNS.sub(" ", body.lower())
    text = _NOT_WORD.sub("", text)
    return _SPACES.sub(" ", text).strip()


def encode_archived(message: ArchivedMessage) -> bytes:
    """``mam_message.message``: the exml term, attributes sorted by key (never ``audio_uuid``)."""
    attributes = sorted(
        [("from", jid(message.sender)), ("id", message.id), ("to", jid(message.recipient)),
         ("type", "chat"), ("xmlns", ns.CLIENT)]
    )
    body: tuple[Any, ...] = (Atom("xmlel"), "body", [], [(Atom("xmlcdata"), message.body)])
    request: tuple[Any, ...] = (Atom("xmlel"), "request", [("xmlns", ns.RECEIPTS)], [])
    return encode_term((Atom("xmlel"), "message", attributes, [body, request]))


def decode_archived(blob: bytes, audio_uuid: str | None) -> ArchivedMessage | None:
    """The message of an archive row, or None when the blob is not a message term."""
    try:
        term = decode_term(blob)
    except UNDECODABLE:
        return None
    element = _xmlel(term)
    if element is None or element[0] != "message":
        return None
    _, attributes, children = element
    body = ""
    for child in children:
        sub = _xmlel(child)
        if sub is not None and sub[0] == "body":
            body = "".join(c[1] for c in sub[2] if _is_cdata(c))
            break
    return _message(attributes.get("from", ""), attributes.get("to", ""), attributes.get("id", ""), body, audio_uuid)


def _message(from_jid: str, to_jid: str, stanza_id: str, body: str, audio_uuid: str | None) -> ArchivedMessage | None:
    sender, recipient = person_of(from_jid), person_of(to_jid)
    if sender is None or recipient is None:
        return None
    return ArchivedMessage(sender, recipient, stanza_id, body, audio_uuid)


def _xmlel(term: Any) -> tuple[str, dict[str, str], list[Any]] | None:
    """``[xmlel, Name, Attrs, Children]`` as (name, attributes, children), else None."""
    if not (isinstance(term, list) and len(term) == 4 and term[0] == "xmlel"):
        return None
    _, name, attributes, children = term
    if not (isinstance(name, str) and isinstance(attributes, list) and isinstance(children, list)):
        return None
    pairs = {}
    for pair in attributes:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            return None
        pairs[pair[0]] = pair[1]
    return name, pairs, children


def _is_cdata(term: Any) -> bool:
    return isinstance(term, list) and len(term) == 2 and term[0] == "xmlcdata" and isinstance(term[1], str)


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def encode_inbox_content(message: ArchivedMessage) -> bytes:
    """``inbox.content``: the stanza as UTF-8 XML, attributes ``xmlns, from, to, id, type``."""
    return (
        f'<message xmlns="{ns.CLIENT}" from="{jid(message.sender)}" to="{jid(message.recipient)}"'
        f' id="{_attr(message.id)}" type="chat"><body>{escape(message.body)}</body>'
        f'<request xmlns="{ns.RECEIPTS}"/></message>'
    ).encode()


def decode_inbox_content(content: bytes) -> ArchivedMessage | None:
    """The message of an inbox row (no ``audio_uuid``), or None when it does not parse."""
    try:
        root = ET.fromstring(content.decode())
    except (ET.ParseError, UnicodeDecodeError):
        return None
    if root.tag.rpartition("}")[2] != "message":
        return None
    body = next((child for child in root if child.tag.rpartition("}")[2] == "body"), None)
    text = (body.text or "") if body is not None else ""
    return _message(root.get("from", ""), root.get("to", ""), root.get("id", ""), text, None)
