"""The element each server stanza is sent as (chat-protocol.md §3, §5, §6).

One shaping function per stanza, written in the reference's attribute order; both encodings
write the result mechanically (``duo.chat.xmlcodec``, ``duo.chat.jsoncodec``), so XML and JSON
can never disagree. ``StreamClose`` has no element (its XML is a bare closing tag) and is
written by ``duo.chat.protocol.render`` itself.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from duo.chat import namespaces as ns
from duo.chat.jid import jid
from duo.chat.nodes import Attrs, Element
from duo.chat.stanzas import (
    ArchivedMessage,
    AuthFailure,
    AuthSuccess,
    BindResult,
    InboxFin,
    InboxResult,
    IncomingMessage,
    IncomingTyping,
    MamFin,
    MamResult,
    MessageBlocked,
    MessageDelivered,
    MessageNotUnique,
    MessageTooLong,
    OnlineEvent,
    Outbound,
    Pong,
    RegistrationSuccessful,
    ServerError,
    SessionResult,
    StreamFeatures,
    StreamOpened,
    SubscribeSuccessful,
    SubscribeUnsuccessful,
    UnsubscribeSuccessful,
    UnsubscribeUnsuccessful,
)

_EPOCH = datetime.datetime(1970, 1, 1)
_BASE32_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
_RECEIPT_REQUEST = Element("request", (("xmlns", ns.RECEIPTS),))


def archive_id_text(archive_id: int) -> str:
    """An archive id in upper-case base 32: the MAM result id a client sends back as
    ``before`` (§5.4)."""
    digits = []
    while True:
        archive_id, digit = divmod(archive_id, 32)
        digits.append(_BASE32_DIGITS[digit])
        if not archive_id:
            return "".join(reversed(digits))


def delay_stamp(microseconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, always six fractional digits), §5.4."""
    moment = _EPOCH + datetime.timedelta(microseconds=microseconds)
    return f"{moment:%Y-%m-%dT%H:%M:%S.%f}Z"


def shape(stanza: Outbound) -> Element:
    """The element for a server stanza (not ``StreamClose``)."""
    return _SHAPES[type(stanza)](stanza)


def _stream_opened(stanza: StreamOpened) -> Element:
    return Element("open", (("xmlns", ns.FRAMING), ("version", stanza.version),
                            ("id", stanza.id), ("from", stanza.from_)))


_FEATURES_BEFORE_AUTH = Element("features", (("xmlns", ns.STREAMS),), (
    Element("starttls", (("xmlns", ns.TLS),)),
    Element("mechanisms", (("xmlns", ns.SASL),), (Element("mechanism", text="PLAIN"),)),
))
_FEATURES_AFTER_AUTH = Element("features", (("xmlns", ns.STREAMS),), (
    Element("session", (("xmlns", ns.SESSION),)),
    Element("bind", (("xmlns", ns.BIND),)),
))


def _stream_features(stanza: StreamFeatures) -> Element:
    return _FEATURES_AFTER_AUTH if stanza.authenticated else _FEATURES_BEFORE_AUTH


def _auth_success(_: AuthSuccess) -> Element:
    return Element("success", (("xmlns", ns.SASL),))


def _auth_failure(_: AuthFailure) -> Element:
    return Element("failure", (("xmlns", ns.SASL),), (Element("not-authorized"),))


def _bind_result(stanza: BindResult) -> Element:
    return Element("iq", (("type", "result"), ("id", stanza.id)), (
        Element("bind", (("xmlns", ns.BIND),), (Element("jid", text=jid(stanza.person)),)),
    ))


def _session_result(stanza: SessionResult) -> Element:
    return Element("iq", (("type", "result"), ("id", stanza.id)))


def _pong(_: Pong) -> Element:
    return Element("duo_pong", (("preferred_interval", "10000"), ("preferred_timeout", "5000")),
                   spaced=True)


def _registration_successful(_: RegistrationSuccessful) -> Element:
    return Element("duo_registration_successful", spaced=True)


def _message_delivered(stanza: MessageDelivered) -> Element:
    attrs: Attrs = (("id", stanza.id),)
    if stanza.audio_uuid is not None:
        attrs += (("audio_uuid", stanza.audio_uuid),)
    return Element("duo_message_delivered", attrs)


def _uuid_reply(name: str) -> Callable[[Any], Element]:
    """The four (un)subscribe replies differ only in their name (§5.7)."""
    def shape_reply(stanza: Any) -> Element:
        return Element(name, (("uuid", stanza.uuid),), spaced=True)
    return shape_reply


def _online_event(stanza: OnlineEvent) -> Element:
    return Element("duo_online_event", (("uuid", stanza.uuid), ("status", stanza.status)),
                   spaced=True)


def _incoming_message(stanza: IncomingMessage) -> Element:
    attrs: Attrs = (("xmlns", ns.CLIENT), ("from", jid(stanza.sender)), ("to", jid(stanza.recipient)),
             ("id", stanza.id), ("type", "chat"))
    if stanza.audio_uuid is not None:
        attrs += (("audio_uuid", stanza.audio_uuid),)
    return Element("message", attrs, (Element("body", text=stanza.body), _RECEIPT_REQUEST))


def _incoming_typing(stanza: IncomingTyping) -> Element:
    return Element("message", (("xmlns", ns.CLIENT), ("from", jid(stanza.sender)),
                               ("to", jid(stanza.recipient)), ("id", stanza.id),
                               ("type", "typing")))


def _forwarded(message: ArchivedMessage, attrs: Attrs,
               microseconds: int) -> Element:
    """The forwarded copy inside MAM and inbox results: a delay stamp and the message."""
    return Element("forwarded", (("xmlns", ns.FORWARD),), (
        Element("delay", (("xmlns", ns.DELAY), ("stamp", delay_stamp(microseconds)))),
        Element("message", attrs, (Element("body", text=message.body), _RECEIPT_REQUEST)),
    ))


def _to_self(person: str, id: str) -> Attrs:
    """The outer ``message`` of MAM and inbox results: from and to the requester."""
    return ("xmlns", ns.CLIENT), ("from", jid(person)), ("to", jid(person)), ("id", id)


def _mam_result(stanza: MamResult) -> Element:
    message = stanza.message
    # §5.4: archived attributes come back sorted after xmlns, audio_uuid last
    attrs: Attrs = (("xmlns", ns.CLIENT), ("from", jid(message.sender)), ("id", message.id),
             ("to", jid(message.recipient)), ("type", "chat"))
    if message.audio_uuid is not None:
        attrs += (("audio_uuid", message.audio_uuid),)
    result = Element(
        "result",
        (("xmlns", ns.MAM), ("queryid", stanza.query_id),
         ("id", archive_id_text(stanza.archive_id))),
        (_forwarded(message, attrs, stanza.archive_id >> 8),),
    )
    return Element("message", _to_self(stanza.person, stanza.frame_id), (result,))


def _mam_fin(stanza: MamFin) -> Element:
    person = jid(stanza.person)
    return Element("iq", (("xmlns", ns.CLIENT), ("from", person), ("to", person),
                          ("id", stanza.query_id), ("type", "result")),
                   (Element("fin", (("xmlns", ns.MAM),)),))


def _inbox_result(stanza: InboxResult) -> Element:
    message = stanza.message
    # §5.5: stored order, and never an audio_uuid
    attrs: Attrs = (("xmlns", ns.CLIENT), ("from", jid(message.sender)), ("to", jid(message.recipient)),
             ("id", message.id), ("type", "chat"))
    result = Element(
        "result",
        (("xmlns", ns.INBOX), ("unread", str(stanza.unread)), ("queryid", stanza.query_id)),
        (
            _forwarded(message, attrs, stanza.timestamp_us),
            Element("read", text="true" if stanza.unread == 0 else "false"),
            Element("box", text=stanza.box),
            Element("archive", text="false"),
            Element("mute", text="0"),
        ),
    )
    return Element("message", _to_self(stanza.person, message.id), (result,))


def _inbox_fin(stanza: InboxFin) -> Element:
    return Element("iq", (("id", stanza.query_id), ("type", "result")), (Element("fin"),))


def _message_blocked(stanza: MessageBlocked) -> Element:
    attrs: Attrs = (("id", stanza.id),)
    if stanza.reason is not None:
        attrs += (("reason", stanza.reason),)
    if stanza.subreason is not None:
        attrs += (("subreason", stanza.subreason),)
    return Element("duo_message_blocked", attrs)


def _id_reply(name: str) -> Callable[[Any], Element]:
    """The rejections that carry only the message id (§6.3)."""
    def shape_reply(stanza: Any) -> Element:
        return Element(name, (("id", stanza.id),))
    return shape_reply


_SHAPES: dict[type, Callable[[Any], Element]] = {
    StreamOpened: _stream_opened,
    StreamFeatures: _stream_features,
    AuthSuccess: _auth_success,
    AuthFailure: _auth_failure,
    BindResult: _bind_result,
    SessionResult: _session_result,
    Pong: _pong,
    RegistrationSuccessful: _registration_successful,
    MessageDelivered: _message_delivered,
    SubscribeSuccessful: _uuid_reply("duo_subscribe_successful"),
    SubscribeUnsuccessful: _uuid_reply("duo_subscribe_unsuccessful"),
    UnsubscribeSuccessful: _uuid_reply("duo_unsubscribe_successful"),
    UnsubscribeUnsuccessful: _uuid_reply("duo_unsubscribe_unsuccessful"),
    OnlineEvent: _online_event,
    IncomingMessage: _incoming_message,
    IncomingTyping: _incoming_typing,
    MamResult: _mam_result,
    MamFin: _mam_fin,
    InboxResult: _inbox_result,
    InboxFin: _inbox_fin,
    MessageBlocked: _message_blocked,
    MessageTooLong: _id_reply("duo_message_too_long"),
    MessageNotUnique: _id_reply("duo_message_not_unique"),
    ServerError: _id_reply("duo_server_error"),
}
