"""Every chat stanza as a value (chat-protocol.md §3, §5, §6), independent of its encoding.

The protocol core (``duo.chat.protocol``) turns a text frame into one of the inbound
classes, ``Ignorable`` or ``Fatal``, and renders any outbound class in either encoding; the
session and the message pipeline work only with these values, so no handler ever looks at
XML or JSON. People are canonical lower-case UUID strings without the domain (§2.3); the
renderer adds ``@duolicious.app`` where the wire carries a JID. Ids chosen by clients are
kept verbatim here and escaped on the way out (decision "ids echoed in replies are escaped").
"""

from __future__ import annotations

from typing import Literal

import attrs

# §5.3.2: what old clients see instead of a voice message (207 characters).
AUDIO_PLACEHOLDER_BODY = (
    "Voice message\n"
    + "\u00a0" * 128
    + "\nUpgrade to the latest version of Duolicious to hear this message"
)
MAX_ID_LENGTH = 250  # §5.3: a message id is 1-250 characters
MAX_BODY_LENGTH = 5000  # §5.3.1: longer bodies are answered with MessageTooLong (§7 step 6)
MAM_PAGE_SIZE = 50  # §5.4: default and cap of a history page

OnlineStatus = Literal["online", "online-recently", "offline"]
InboxBox = Literal["inbox", "chats"]
BlockReason = Literal["age-verification", "offensive", "spam", "rate-limited-1day", "voice-intro"]
BlockSubreason = Literal["unverified-basics", "unverified-photos"]


# --- classification of frames that are not (useful) stanzas -----------------------------


@attrs.frozen
class Ignorable:
    """A frame that gets no reply and has no effect: malformed or unknown input (§1.4 as
    decided: bad input never kills the connection). ``reason`` is for logs only."""

    reason: str


@attrs.frozen
class Fatal:
    """A frame that ends the connection: only an over-size frame (§1.2, 10 MiB) reaches this
    through ``parse``; binary frames and failed auth are the session's to decide."""

    reason: str


# --- inbound: client to server ------------------------------------------------------------


@attrs.frozen
class StreamOpen:
    """§3.2: optional stream open; ``to`` and ``version`` are echoed in the reply."""

    to: str
    version: str


@attrs.frozen
class Auth:
    """§3.3: SASL PLAIN. ``username`` is the canonical UUID, or None when the payload does
    not decode to three NUL-separated parts with a UUID username (answered with failure)."""

    username: str | None
    password: str


@attrs.frozen
class Bind:
    """§3.4: resource binding (the resource is ignored); ``id`` is the iq id or "default"."""

    id: str


@attrs.frozen
class SessionStart:
    """§3.4: XMPP session request; ``id`` is the iq id or "default"."""

    id: str


@attrs.frozen
class Ping:
    """§5.1: ``duo_ping``, answered with ``Pong`` with or without authentication."""


@attrs.frozen
class RegisterPushToken:
    """§5.2: push-token registration; ``token`` None (absent or empty) de-registers."""

    token: str | None


@attrs.frozen
class ChatMessage:
    """§5.3.1: a text message to person ``to``; ``body`` is stripped and non-empty (its
    length is checked by the pipeline, §7 step 6, after the block checks)."""

    to: str
    id: str
    body: str


@attrs.frozen
class AudioMessage:
    """§5.3.2: a voice message; ``audio_base64`` is the attribute as sent (maybe a data URL)."""

    to: str
    id: str
    audio_base64: str


@attrs.frozen
class Typing:
    """§5.3.3: a typing indicator for person ``to``."""

    to: str
    id: str


@attrs.frozen
class MamQuery:
    """§5.4: a history page with person ``with_person`` (None if the ``with`` value is not a
    UUID: the page is empty). ``before`` is a decoded archive id (None = newest page);
    ``max`` is already defaulted and capped to 0..50."""

    query_id: str
    with_person: str | None
    before: int | None
    max: int


@attrs.frozen
class InboxQuery:
    """§5.5: the whole inbox, answered with ``InboxResult`` frames and an ``InboxFin``."""

    query_id: str


@attrs.frozen
class Displayed:
    """§5.6: mark the conversation with person ``to`` read (no reply)."""

    to: str


@attrs.frozen
class SubscribeOnline:
    """§5.7: ``uuid`` as sent (echoed in the reply); ``person`` its canonical form, or None
    when it is not a UUID (answered with ``SubscribeUnsuccessful``)."""

    uuid: str
    person: str | None


@attrs.frozen
class UnsubscribeOnline:
    """§5.7: ``uuid`` as sent (echoed in the reply); ``person`` its canonical form or None."""

    uuid: str
    person: str | None


Inbound = (
    StreamOpen | Auth | Bind | SessionStart | Ping | RegisterPushToken | ChatMessage
    | AudioMessage | Typing | MamQuery | InboxQuery | Displayed | SubscribeOnline
    | UnsubscribeOnline
)


# --- outbound: session replies (§6.1) ----------------------------------------------------


@attrs.frozen
class StreamOpened:
    """§3.2: the open reply; ``id`` a fresh UUIDv4, ``version`` and ``from_`` echo the open."""

    id: str
    version: str
    from_: str


@attrs.frozen
class StreamFeatures:
    """§3.2: features before (SASL PLAIN, STARTTLS) or after authentication (session, bind)."""

    authenticated: bool


@attrs.frozen
class AuthSuccess:
    """§3.3: ``success``."""


@attrs.frozen
class AuthFailure:
    """§3.3: ``failure``/``not-authorized``; the session follows it with ``StreamClose``."""


@attrs.frozen
class StreamClose:
    """§3.3: the literal ``</stream:stream>`` frame (JSON ``{"stream": null}``)."""


@attrs.frozen
class BindResult:
    """§3.4: the bound bare JID of ``person``."""

    id: str
    person: str


@attrs.frozen
class SessionResult:
    """§3.4: the empty session result."""

    id: str


# --- outbound: application replies (§6.2) ------------------------------------------------


@attrs.frozen
class Pong:
    """§5.1: ``duo_pong`` with the constant preferred interval and timeout."""


@attrs.frozen
class RegistrationSuccessful:
    """§5.2: sent before the push token is written."""


@attrs.frozen
class MessageDelivered:
    """§5.3.5: the sender's ack, only after the message is stored; ``audio_uuid`` for voice."""

    id: str
    audio_uuid: str | None = None


@attrs.frozen
class SubscribeSuccessful:
    """§5.7: ``uuid`` echoed as the client sent it."""

    uuid: str


@attrs.frozen
class SubscribeUnsuccessful:
    """§5.7: requester or target unknown, or not a UUID."""

    uuid: str


@attrs.frozen
class UnsubscribeSuccessful:
    """§5.7: always, even if not subscribed."""

    uuid: str


@attrs.frozen
class UnsubscribeUnsuccessful:
    """§5.7: Redis failed while unsubscribing."""

    uuid: str


@attrs.frozen
class OnlineEvent:
    """§8.2: a person's status; also what is stored under ``online-<uuid>``."""

    uuid: str
    status: OnlineStatus


@attrs.frozen
class _ChatCopy:
    """What a copy of a stored chat message carries, live or from the archive; for voice
    ``audio_uuid`` is set and ``body`` is ``AUDIO_PLACEHOLDER_BODY``."""

    sender: str
    recipient: str
    id: str
    body: str
    audio_uuid: str | None = None


@attrs.frozen
class IncomingMessage(_ChatCopy):
    """§5.3.4: what the recipient's connections receive."""


@attrs.frozen
class IncomingTyping:
    """§5.3.3: the typing indicator as the recipient receives it."""

    sender: str
    recipient: str
    id: str


@attrs.frozen
class ArchivedMessage(_ChatCopy):
    """The chat message forwarded inside MAM and inbox results (§5.4, §5.5); always type
    ``chat`` with a receipts request. Inbox results never carry ``audio_uuid``."""


@attrs.frozen
class MamResult:
    """§5.4: one history entry for ``person`` (the requester). ``frame_id`` is a fresh UUIDv4;
    the result id (base 32) and the delay stamp are both derived from ``archive_id``."""

    person: str
    frame_id: str
    query_id: str
    archive_id: int
    message: ArchivedMessage


@attrs.frozen
class MamFin:
    """§5.4: the end of a history page, always sent (its iq id is the query id)."""

    person: str
    query_id: str


@attrs.frozen
class InboxResult:
    """§5.5: one conversation of ``person``; the outer id is ``message.id``, the stamp comes
    from ``timestamp_us`` (``inbox.timestamp``, microseconds since the epoch)."""

    person: str
    query_id: str
    unread: int
    timestamp_us: int
    box: InboxBox
    message: ArchivedMessage


@attrs.frozen
class InboxFin:
    """§5.5: the end of the inbox (no namespaces, unlike ``MamFin``)."""

    query_id: str


# --- outbound: rejections of a chat/audio/typing message (§6.3) ---------------------------


@attrs.frozen
class MessageBlocked:
    """§6.3: ``reason`` None = a block/skip between the two; ``subreason`` only with
    ``rate-limited-1day``."""

    id: str
    reason: BlockReason | None = None
    subreason: BlockSubreason | None = None


@attrs.frozen
class MessageTooLong:
    """§6.3: body over 5000 characters."""

    id: str


@attrs.frozen
class MessageNotUnique:
    """§6.3: intro text used in the last 7 days."""

    id: str


@attrs.frozen
class ServerError:
    """§6.3: the message could not be transcoded or stored (nothing was acknowledged)."""

    id: str


Outbound = (
    StreamOpened | StreamFeatures | AuthSuccess | AuthFailure | StreamClose | BindResult
    | SessionResult | Pong | RegistrationSuccessful | MessageDelivered | SubscribeSuccessful
    | SubscribeUnsuccessful | UnsubscribeSuccessful | UnsubscribeUnsuccessful | OnlineEvent
    | IncomingMessage | IncomingTyping | MamResult | MamFin | InboxResult | InboxFin
    | MessageBlocked | MessageTooLong | MessageNotUnique | ServerError
)
