"""Which stanza a received element is (chat-protocol.md §4 dispatch order, §3 and §5 rules).

``recognise`` offers the element to the handlers' match rules in the order of the §4 table
and builds the first stanza that claims it; the authentication gate (row 3) is the session's. Where the reference server would end the
connection on bad input (a non-UUID ``to``, a bad MAM ``before``/``max``), the frame is
ignored instead, as decided.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

from duo.chat import namespaces as ns
from duo.chat.jid import canonical_uuid, person_of
from duo.chat.nodes import Node
from duo.chat.stanzas import (
    MAM_PAGE_SIZE,
    MAX_ID_LENGTH,
    AudioMessage,
    Auth,
    Bind,
    ChatMessage,
    Displayed,
    Ignorable,
    Inbound,
    InboxQuery,
    MamQuery,
    Ping,
    RegisterPushToken,
    SessionStart,
    StreamOpen,
    SubscribeOnline,
    Typing,
    UnsubscribeOnline,
)

_BASE32 = re.compile("[0-9A-Va-v]+")


def recognise(root: Node) -> Inbound | Ignorable:
    """The stanza of the first §4 handler that claims the element, else Ignorable."""
    for rule in _RULES:
        stanza = rule(root)
        if stanza is not None:
            return stanza
    return Ignorable(f"no handler for <{root.name}>")


def _stream_open(root: Node) -> Inbound | None:
    """§3.2: ``open`` in the framing namespace with both ``version`` and ``to``."""
    if root.ns != ns.FRAMING or root.name != "open":
        return None
    to, version = root.attrs.get("to"), root.attrs.get("version")
    if to is None or version is None:
        return None
    return StreamOpen(to=to, version=version)


def _auth(root: Node) -> Inbound | None:
    """§3.3: SASL PLAIN; the text is base64 (non-alphabet characters skipped) of
    authzid NUL username NUL password."""
    if root.ns != ns.SASL or root.name != "auth":
        return None
    try:
        parts = base64.b64decode(root.text).decode("utf-8").split("\0")
    except ValueError:  # bad padding, non-ASCII text or bad UTF-8
        return Auth(username=None, password="")
    if len(parts) != 3:
        return Auth(username=None, password="")
    username = canonical_uuid(parts[1])
    return Auth(username=username, password=parts[2] if username else "")


def _bind_or_session(root: Node) -> Inbound | None:
    """§3.4: a ``jabber:client`` iq with a bind (wins) or session child."""
    if root.ns != ns.CLIENT or root.name != "iq":
        return None
    id = root.attrs.get("id", "default")
    if root.child("bind", ns.BIND) is not None:
        return Bind(id=id)
    if root.child("session", ns.SESSION) is not None:
        return SessionStart(id=id)
    return None


def _ping(root: Node) -> Inbound | None:
    """§5.1: ``duo_ping`` in no namespace."""
    return Ping() if root.ns == "" and root.name == "duo_ping" else None


def _register_push_token(root: Node) -> Inbound | None:
    """§5.2: an absent or empty ``token`` de-registers."""
    if root.ns != "" or root.name != "duo_register_push_token":
        return None
    return RegisterPushToken(token=root.attrs.get("token") or None)


def _mam_query(root: Node) -> Inbound | Ignorable | None:
    """§5.4: all by local name below the root: the first ``query`` with a ``queryid``, the
    first ``field var="with"``'s first ``value``, the first ``before`` and ``max``."""
    below = root.descendants()
    query_id = next((node.attrs["queryid"] for node in below
                     if node.name == "query" and "queryid" in node.attrs), "")
    if not query_id:
        return None
    field = next((node for node in below
                  if node.name == "field" and node.attrs.get("var") == "with"), None)
    value = field.child("value") if field is not None else None
    with_part = value.text.partition("@")[0] if value is not None else ""
    if not with_part:
        return None
    before_text = next((node.text for node in below if node.name == "before"), "").strip()
    if before_text and not _BASE32.fullmatch(before_text):
        return Ignorable("MAM before is not a base-32 archive id")
    max_text = next((node.text for node in below if node.name == "max"), "")
    try:
        max = int(max_text) if max_text else MAM_PAGE_SIZE
    except ValueError:
        return Ignorable("MAM max is not an integer")
    if max < 0:
        return Ignorable("MAM max is negative")
    return MamQuery(
        query_id=query_id,
        with_person=canonical_uuid(with_part),
        before=int(before_text, 32) if before_text else None,
        max=min(max, MAM_PAGE_SIZE),
    )


def _inbox_query(root: Node) -> Inbound | None:
    """§5.5: ``inbox``, bare or inside an ``iq``, with a non-empty ``queryid``."""
    inbox = root if root.name == "inbox" else root.child("inbox") if root.name == "iq" else None
    query_id = inbox.attrs.get("queryid") if inbox is not None else None
    return InboxQuery(query_id=query_id) if query_id else None


def _displayed(root: Node) -> Inbound | Ignorable | None:
    """§5.6: a ``message`` with a ``displayed`` child and a ``to`` naming someone."""
    if root.name != "message" or root.child("displayed") is None:
        return None
    to = root.attrs.get("to", "").partition("@")[0]
    if not to:
        return None
    person = canonical_uuid(to)
    return Displayed(to=person) if person else Ignorable("displayed: to is not a UUID")


def _subscribe_online(root: Node) -> Inbound | None:
    """§5.7: ``duo_subscribe_online`` in no namespace with a non-empty ``uuid``."""
    if root.ns != "" or root.name != "duo_subscribe_online" or not root.attrs.get("uuid"):
        return None
    uuid = root.attrs["uuid"]
    return SubscribeOnline(uuid=uuid, person=canonical_uuid(uuid))


def _unsubscribe_online(root: Node) -> Inbound | None:
    """§5.7: ``duo_unsubscribe_online`` in no namespace with a non-empty ``uuid``."""
    if root.ns != "" or root.name != "duo_unsubscribe_online" or not root.attrs.get("uuid"):
        return None
    uuid = root.attrs["uuid"]
    return UnsubscribeOnline(uuid=uuid, person=canonical_uuid(uuid))


def _message(root: Node) -> Inbound | Ignorable | None:
    """§5.3: a ``jabber:client`` message: text, audio or typing."""
    if root.ns != ns.CLIENT or root.name != "message":
        return None
    to = person_of(root.attrs.get("to", ""))
    if to is None:
        return Ignorable("message: to is not a UUID")
    id = root.attrs.get("id", "")
    if not 1 <= len(id) <= MAX_ID_LENGTH:
        return Ignorable("message: id missing or longer than 250")
    kind = root.attrs.get("type")
    if kind == "typing":
        return Typing(to=to, id=id)
    if kind != "chat":
        return Ignorable("message: type is neither chat nor typing")
    audio = root.attrs.get("audio_base64")
    if audio:
        return AudioMessage(to=to, id=id, audio_base64=audio)
    body = root.child("body", ns.CLIENT)
    text = body.text.strip() if body is not None else ""
    if not text:
        return Ignorable("message: no body")
    return ChatMessage(to=to, id=id, body=text)


# §4, top to bottom; row 3 (unauthenticated: ignore) is the session's.
_RULES: tuple[Callable[[Node], Inbound | Ignorable | None], ...] = (
    _stream_open,
    _auth,
    _bind_or_session,
    _ping,
    _register_push_token,
    _mam_query,
    _inbox_query,
    _displayed,
    _subscribe_online,
    _unsubscribe_online,
    _message,
)
