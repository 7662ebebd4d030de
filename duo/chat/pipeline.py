"""The message-acceptance pipeline (chat-protocol §7, §8.4–§8.8, §9.1): decide, then store.

A room hands :func:`accept` a batch of :class:`Submission` (messages of any conversations,
in the order they were received) and gets one :class:`Outcome` per submission, in the same
order:

* :class:`Accepted` — stored (committed) before :func:`accept` returns. It carries what
  the recipient receives (:attr:`Accepted.recipient_stanza`), what the sender's ack says
  (``stanza_id``, ``audio_uuid``) and the push to queue (:attr:`Accepted.push`, or None).
  After it the caller, per message in order: queues the push, publishes the recipient's
  copy, sends ``duo_message_delivered``.
* :class:`TypingAllowed` — a typing indicator that passed checks 1–4: publish it.
* :class:`Rejected` — reply with the §6.3 stanza for :attr:`Rejected.reason` (and
  :attr:`Rejected.subreason`); ``SERVER_ERROR`` is ``duo_server_error``.
* :class:`Ignored` — no reply (unknown sender or recipient).

The gates run per message, in §7's order, against what the database held when the batch
started plus what earlier messages of the same batch changed (a reply earlier in the batch
makes a later message no intro; intros accepted earlier count towards the rate limit;
an intro text earlier in the batch makes a later copy not unique). All writes of a batch
happen in one transaction, each message in its own savepoint, so one failing message gets
``SERVER_ERROR`` and never loses another.

Voice messages are transcoded and uploaded *before* :func:`accept` (README decision:
"audio is transcoded before anything is stored"): the caller runs :func:`prepare_audio`
and submits the returned ``audio_uuid``; if that fails the sender gets ``duo_server_error``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from enum import StrEnum

import attrs

from duo.actors.media import Media
from duo.chat.archive import StoredStanza, jid
from duo.chat.push import PushMessage
from duo.media.storage import Storage
from duo.sql.database import Database

log = logging.getLogger("duo.chat.pipeline")

MAX_BODY_CHARS = 5000


@attrs.frozen
class Text:
    """A text message; ``body`` is already stripped and non-empty (§5.3.1)."""

    body: str


@attrs.frozen
class Audio:
    """A voice message whose AAC is already in the audio bucket as ``<audio_uuid>.aac``."""

    audio_uuid: str


@attrs.frozen
class Typing:
    """A typing indicator (§5.3.3): checked, never stored."""


Content = Text | Audio | Typing


@attrs.frozen
class Submission:
    """One inbound ``{jabber:client}message`` after parsing.

    ``sender_uuid`` is the authenticated user; ``recipient_uuid`` is canonical;
    ``stanza_id`` is the client's id (1–250 characters); ``received_at`` orders the
    archive (its ids carry this time).
    """

    sender_uuid: uuid.UUID
    recipient_uuid: uuid.UUID
    stanza_id: str
    content: Content
    received_at: dt.datetime


class Reason(StrEnum):
    """Why a message was refused; each maps to one §6.3 stanza."""

    AGE_VERIFICATION = "age-verification"  # duo_message_blocked reason="age-verification"
    BLOCKED = "blocked"  # duo_message_blocked without reason
    TOO_LONG = "too-long"  # duo_message_too_long
    OFFENSIVE = "offensive"  # duo_message_blocked reason="offensive"
    SPAM = "spam"  # duo_message_blocked reason="spam"
    RATE_LIMITED = "rate-limited-1day"  # duo_message_blocked reason="rate-limited-1day" [subreason]
    NOT_UNIQUE = "not-unique"  # duo_message_not_unique
    SERVER_ERROR = "server-error"  # duo_server_error


@attrs.frozen
class Rejected:
    reason: Reason
    subreason: str | None = None  # "unverified-basics" | "unverified-photos" for RATE_LIMITED


@attrs.frozen
class Ignored:
    """No reply at all (§7 step 2: the sender or the recipient does not exist)."""


@attrs.frozen
class TypingAllowed:
    """Publish ``<message type="typing">`` from the sender to the recipient."""

    sender_uuid: uuid.UUID
    recipient_uuid: uuid.UUID
    stanza_id: str


@attrs.frozen
class Accepted:
    """A stored message: archive ids, time, the recipient's copy, the ack and the push."""

    sender_uuid: uuid.UUID
    recipient_uuid: uuid.UUID
    stanza_id: str
    body: str  # the text, or the voice placeholder
    audio_uuid: str | None  # also in the ack (``duo_message_delivered audio_uuid``)
    archive_id: int  # the sender's copy; the recipient's is archive_id + 1
    sent_at: dt.datetime  # the time the archive id carries
    intro: bool
    push: PushMessage | None  # queue it if set (preference "Immediately" and a token)

    @property
    def recipient_stanza(self) -> StoredStanza:
        """What the recipient's connections receive (§5.3.4; add ``audio_uuid`` last)."""
        return StoredStanza(jid(self.sender_uuid), jid(self.recipient_uuid), self.stanza_id, self.body)


Outcome = Accepted | TypingAllowed | Rejected | Ignored


@attrs.frozen
class ChatDeps:
    """What the pipeline needs: the database and the clock (injected so tests move time)."""

    db: Database
    now: Callable[[], dt.datetime]


class AudioFailed(Exception):
    """A voice message could not be transcoded or uploaded: reply ``duo_server_error``."""


async def prepare_audio(media: Media, storage: Storage, audio_base64: str) -> str:
    """Transcode (media actor) and upload ``<audio_uuid>.aac``; returns the new ``audio_uuid``.

    Raises :class:`AudioFailed` for bad base64, too large input, undecodable audio or a
    storage error; nothing is stored then.
    """
    raise NotImplementedError


async def accept(deps: ChatDeps, batch: Sequence[Submission]) -> list[Outcome]:
    """Run §7's gates over ``batch`` and store what passes; one outcome per submission."""
    raise NotImplementedError


def intro_hash(body: str) -> str:
    """The robot9000 hash (§8.7): letters and numbers only, lower-case, runs collapsed, MD5."""
    kept = [c for c in body.lower() if unicodedata.category(c)[0] in "LN"]
    collapsed = [c for i, c in enumerate(kept) if i == 0 or kept[i - 1] != c]
    return hashlib.md5("".join(collapsed).encode()).hexdigest()

