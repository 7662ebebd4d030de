"""How a stored chat message is written down (chat-protocol §9.1, §9.2, §5.4, §5.5).

Archive ids carry the queueing time (``T << 8``, +1 for the recipient's copy) and are
shown to clients in upper-case base 32; ``mam_message.message`` holds the stanza as an
Erlang term (the MongooseIM "exml" shape, which legacy rows also use); ``inbox.content``
holds the same stanza as UTF-8 XML. Writers and readers of both live here so the two
directions cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

import attrs

from duo.erlang_term import UNDECODABLE, Atom, decode_term, encode_term

DOMAIN = "duolicious.app"
RECEIPTS_NS = "urn:xmpp:receipts"
CLIENT_NS = "jabber:client"

# What old clients show instead of a voice message (§5.3.2): 207 characters.
VOICE_PLACEHOLDER = (
    "Voice message\n" + "\u00a0" * 128 + "\nUpgrade to the latest version of Duolicious to hear this message"
)

_BASE32 = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def jid(person_uuid: uuid.UUID | str) -> str:
    """The bare address of a person: ``<uuid>@duolicious.app``."""
    return f"{person_uuid}@{DOMAIN}"


def micros(at: dt.datetime) -> int:
    """Microseconds since the Unix epoch (exact, no float rounding)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(t_micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=t_micros)


def archive_ids(t_micros: int) -> tuple[int, int]:
    """The sender's and the recipient's archive id of a message queued at ``t_micros``."""
    return t_micros << 8, (t_micros << 8) + 1


def archive_id_text(archive_id: int) -> str:
    """An archive id as clients see it (``result id``, the ``before`` they send back)."""
    digits = ""
    while True:
        archive_id, digit = divmod(archive_id, 32)
        digits = _BASE32[digit] + digits
        if archive_id == 0:
            return digits


def parse_archive_id(text: str) -> int | None:
    """A client's ``before`` (base 32, any case); None when it is not one."""
    try:
        value = int(text, 32)
    except ValueError:
        return None
    return value if value >= 0 and value < 2**63 else None


def stamp(t_micros: int) -> str:
    """The ``delay stamp`` format: UTC, always six fractional digits."""
    return from_micros(t_micros).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def archive_stamp(archive_id: int) -> str:
    """The ``delay stamp`` of an archive entry: the time its id carries."""
    return stamp(archive_id >> 8)


_PUNCTUATION_RUNS = re.compile(r"[,.:;\-?!]+")
_NOT_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def search_body(body: str) -> str:
    """``mam_message.search_body``: what the reporting component searches (§9.1)."""
    text = _PUNCTUATION_RUNS.sub(" ", body.lower())
    text = _NOT_WORD.sub("", text)
    return _SPACES.sub(" ", text).strip()


@attrs.frozen
class StoredStanza:
    """A chat message as the archive and the inbox keep it (no ``audio_uuid``)."""

    from_jid: str
    to_jid: str
    stanza_id: str
    body: str
    type: str = "chat"


def encode_archived(stanza: StoredStanza) -> bytes:
    """``mam_message.message``: the exml term, attributes sorted by key."""
    attrs_ = sorted(
        [("from", stanza.from_jid), ("id", stanza.stanza_id), ("to", stanza.to_jid),
         ("type", stanza.type), ("xmlns", CLIENT_NS)]
    )
    body: tuple[Any, ...] = (Atom("xmlel"), "body", [], [(Atom("xmlcdata"), stanza.body)])
    request: tuple[Any, ...] = (Atom("xmlel"), "request", [("xmlns", RECEIPTS_NS)], [])
    return encode_term((Atom("xmlel"), "message", attrs_, [body, request]))


def decode_archived(blob: bytes) -> StoredStanza | None:
    """The stanza of an archive row, or None when the blob is not a message term."""
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
    return StoredStanza(
        from_jid=attributes.get("from", ""),
        to_jid=attributes.get("to", ""),
        stanza_id=attributes.get("id", ""),
        body=body,
        type=attributes.get("type", "chat"),
    )


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


def encode_inbox_content(stanza: StoredStanza) -> bytes:
    """``inbox.content``: the stanza as UTF-8 XML, attributes ``xmlns, from, to, id, type``."""
    return (
        f'<message xmlns="{CLIENT_NS}" from="{_attr(stanza.from_jid)}" to="{_attr(stanza.to_jid)}"'
        f' id="{_attr(stanza.stanza_id)}" type="{_attr(stanza.type)}"><body>{escape(stanza.body)}</body>'
        f'<request xmlns="{RECEIPTS_NS}"/></message>'
    ).encode()


def decode_inbox_content(content: bytes) -> StoredStanza | None:
    """The stanza of an inbox row, or None when the content does not parse."""
    try:
        root = ET.fromstring(content.decode())
    except (ET.ParseError, UnicodeDecodeError):
        return None
    if root.tag.rpartition("}")[2] != "message":
        return None
    body = next((child for child in root if child.tag.rpartition("}")[2] == "body"), None)
    return StoredStanza(
        from_jid=root.get("from", ""),
        to_jid=root.get("to", ""),
        stanza_id=root.get("id", ""),
        body=(body.text or "") if body is not None else "",
        type=root.get("type", "chat"),
    )
