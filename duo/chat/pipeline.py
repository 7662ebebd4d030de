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

import collections
import datetime as dt
import hashlib
import logging
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from enum import StrEnum

import attrs
import trio

from duo.actors.media import Media
from duo.actors.runtime import ActorError
from duo.chat.archive import (
    VOICE_PLACEHOLDER,
    StoredStanza,
    archive_ids,
    encode_archived,
    encode_inbox_content,
    from_micros,
    jid,
    micros,
    search_body,
)
from duo.chat.push import TITLE_SUFFIX, PushMessage, push_body
from duo.media import MediaError, new_media_id
from duo.media.audio import audio_key
from duo.media.storage import Storage, StorageError
from duo.safety.checks import BlockReason, check_intro
from duo.safety.spam import is_trusted_sender
from duo.sql import chat as sql
from duo.sql.database import DB_FAILURES, Connection, Database

log = logging.getLogger("duo.chat.pipeline")

MAX_BODY_CHARS = 5000
INTRO_LIMITS = {1: 10, 2: 20, 3: 30}  # intros a day by verification level (§8.4)
RATE_LIMIT_SUBREASONS = {1: "unverified-basics", 2: "unverified-photos"}
IMMEDIATELY = 1  # immediacy id of the notification preference
NOTIFICATION_GRACE_SECONDS = 5  # duo_last_notification := now + 5 s (§8.1)


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
    try:
        aac = await media.audio(audio_base64)
    except (MediaError, ActorError) as e:
        raise AudioFailed(str(e)) from e
    audio_uuid = new_media_id()
    try:
        await storage.put("audio", audio_key(audio_uuid), aac)
    except StorageError as e:
        raise AudioFailed(str(e)) from e
    return audio_uuid


async def accept(deps: ChatDeps, batch: Sequence[Submission]) -> list[Outcome]:
    """Run §7's gates over ``batch`` and store what passes; one outcome per submission.

    Voice objects of messages that end up not stored are queued for the audio cleaner.
    If the batch's transaction itself fails, every message gets ``SERVER_ERROR`` (typing
    indicators get no reply).
    """
    now = deps.now()
    try:
        async with deps.db.transaction() as conn:
            known = await _load(conn, batch, now)
            outcomes = [await _one(conn, known, submission, now) for submission in batch]
            await sql.touch_intro_hashes(conn, known.checked_hashes, now)
            await sql.queue_audio_deletion(conn, _unstored_audio(batch, outcomes))
    except DB_FAILURES:
        log.exception("a batch of %d chat messages could not be stored", len(batch))
        failed: list[Outcome] = [
            Ignored() if isinstance(s.content, Typing) else Rejected(Reason.SERVER_ERROR) for s in batch
        ]
        with trio.CancelScope(shield=True):
            await _queue_deletion_best_effort(deps.db, _unstored_audio(batch, failed))
        return failed
    return outcomes


def _unstored_audio(batch: Sequence[Submission], outcomes: Sequence[Outcome]) -> list[str]:
    return [
        s.content.audio_uuid
        for s, outcome in zip(batch, outcomes, strict=True)
        if isinstance(s.content, Audio) and not isinstance(outcome, Accepted)
    ]


async def _queue_deletion_best_effort(db: Database, audio_uuids: list[str]) -> None:
    try:
        await sql.queue_audio_deletion(db, audio_uuids)
    except DB_FAILURES:
        log.error("voice objects %s are orphaned: their deletion could not be queued", audio_uuids)


@attrs.define
class _Known:
    """What the gates know: the database at the start of the batch, plus the batch so far."""

    people: dict[uuid.UUID, sql.ChatPerson]
    skipped: set[sql.Pair]
    messaged: set[sql.Pair]
    counts: dict[int, sql.IntroCounts]
    used_hashes: set[str]
    tokens: dict[str, str]
    photos: dict[int, tuple[str, str]]
    started: collections.Counter[int] = attrs.field(factory=collections.Counter)
    checked_hashes: list[str] = attrs.field(factory=list)
    used_micros: set[int] = attrs.field(factory=set)

    def unique_micros(self, at: dt.datetime) -> int:
        """The message's archive time, moved on by 1 µs if the batch already used it."""
        t = micros(at)
        while t in self.used_micros:
            t += 1
        self.used_micros.add(t)
        return t


async def _load(conn: Connection, batch: Sequence[Submission], now: dt.datetime) -> _Known:
    """Read every gate's input for the whole batch in a few set-based queries."""
    people = await sql.people(conn, sorted({u for s in batch for u in (s.sender_uuid, s.recipient_uuid)}))
    pairs = [
        (people[s.sender_uuid].id, people[s.recipient_uuid].id)
        for s in batch
        if s.sender_uuid in people and s.recipient_uuid in people
    ]
    both_ways = pairs + [(b, a) for a, b in pairs]
    senders = sorted({a for a, _ in pairs})
    texts = [s.content.body for s in batch if isinstance(s.content, Text)]
    return _Known(
        people=people,
        skipped=await sql.existing_pairs(conn, "skipped", both_ways),
        messaged=await sql.existing_pairs(conn, "messaged", both_ways),
        counts=await sql.intro_counts(conn, senders, now),
        used_hashes=await sql.recent_intro_hashes(conn, [intro_hash(t) for t in texts], now),
        tokens=await sql.push_tokens(conn, sorted({str(s.recipient_uuid) for s in batch})),
        photos=await sql.first_photos(conn, senders),
    )


async def _one(conn: Connection, known: _Known, submission: Submission, now: dt.datetime) -> Outcome:
    """§7 steps 2–12 for one message."""
    sender = known.people.get(submission.sender_uuid)
    recipient = known.people.get(submission.recipient_uuid)
    if sender is None or recipient is None:
        return Ignored()
    if sender.id == recipient.id:  # README: a message to oneself is rejected
        return Rejected(Reason.BLOCKED)
    if sender.verification_required and sender.verification_level_id <= 1:
        return Rejected(Reason.AGE_VERIFICATION)
    if (sender.id, recipient.id) in known.skipped or (recipient.id, sender.id) in known.skipped:
        return Rejected(Reason.BLOCKED)
    content = submission.content
    if isinstance(content, Typing):
        return TypingAllowed(sender.uuid, recipient.uuid, submission.stanza_id)
    if isinstance(content, Text) and len(content.body) > MAX_BODY_CHARS:
        return Rejected(Reason.TOO_LONG)
    intro = (recipient.id, sender.id) not in known.messaged
    if intro:
        refused = await _intro_gates(conn, known, sender, content, now)
        if refused is not None:
            return refused
    return await _store(conn, known, sender, recipient, submission, intro, now)


async def _intro_gates(
    conn: Connection, known: _Known, sender: sql.ChatPerson, content: Text | Audio, now: dt.datetime
) -> Rejected | None:
    """§7 steps 8–11: offensive, spam (untrusted senders), rate limit, uniqueness."""
    if isinstance(content, Text):
        trusted = is_trusted_sender(now - sender.sign_up_time, sender.verification_level_id)
        verdict = check_intro(content.body, trusted)
        if verdict is BlockReason.OFFENSIVE:
            await sql.record_rude(conn, sender.id, content.body, now)
            return Rejected(Reason.OFFENSIVE)
        if verdict is BlockReason.SPAM:
            return Rejected(Reason.SPAM)
    limited = _rate_limited(known, sender)
    if limited is not None:
        return limited
    if isinstance(content, Text):
        digest = intro_hash(content.body)
        known.checked_hashes.append(digest)
        if digest in known.used_hashes:
            return Rejected(Reason.NOT_UNIQUE)
        known.used_hashes.add(digest)
    return None


def _rate_limited(known: _Known, sender: sql.ChatPerson) -> Rejected | None:
    """§8.4: E = floor(L / 2^(R + floor(Q/2))) against the conversations started today."""
    level = sender.verification_level_id
    counts = known.counts[sender.id]
    effective = INTRO_LIMITS[level] >> (counts.reports + counts.rude // 2)
    if effective == 0:
        return Rejected(Reason.RATE_LIMITED)
    if counts.started + known.started[sender.id] >= effective:
        return Rejected(Reason.RATE_LIMITED, RATE_LIMIT_SUBREASONS.get(level))
    return None


async def _store(
    conn: Connection,
    known: _Known,
    sender: sql.ChatPerson,
    recipient: sql.ChatPerson,
    submission: Submission,
    intro: bool,
    now: dt.datetime,
) -> Outcome:
    """§9.1 writes in a savepoint; the batch remembers the new conversation."""
    content = submission.content
    assert not isinstance(content, Typing)
    body, audio_uuid = (content.body, None) if isinstance(content, Text) else (VOICE_PLACEHOLDER, content.audio_uuid)
    t = known.unique_micros(submission.received_at)
    archive_id, _ = archive_ids(t)
    stanza = StoredStanza(jid(sender.uuid), jid(recipient.uuid), submission.stanza_id, body)
    push = _push(known, sender, recipient, body, intro)
    stored = await sql.store_message(
        conn,
        sql.MessageWrite(
            sender_id=sender.id,
            sender_uuid=sender.uuid,
            recipient_id=recipient.id,
            recipient_uuid=recipient.uuid,
            stanza_id=submission.stanza_id,
            archive_id=archive_id,
            archived=encode_archived(stanza),
            inbox_content=encode_inbox_content(stanza),
            audio_uuid=audio_uuid,
            search_body=search_body(body),
            inbox_timestamp=micros(now),
            now=now,
            notified_intro=None if push is None else intro,
            notify_at=int(now.timestamp()) + NOTIFICATION_GRACE_SECONDS,
        ),
    )
    if not stored:
        return Rejected(Reason.SERVER_ERROR)
    if (sender.id, recipient.id) not in known.messaged:
        known.messaged.add((sender.id, recipient.id))
        if intro:
            known.started[sender.id] += 1
    return Accepted(
        sender_uuid=sender.uuid,
        recipient_uuid=recipient.uuid,
        stanza_id=submission.stanza_id,
        body=body,
        audio_uuid=audio_uuid,
        archive_id=archive_id,
        sent_at=from_micros(t),
        intro=intro,
        push=push,
    )


def _push(
    known: _Known, sender: sql.ChatPerson, recipient: sql.ChatPerson, body: str, intro: bool
) -> PushMessage | None:
    """§8.1: only for a recipient whose preference is "Immediately" and who has a token."""
    preference = recipient.intros_notification if intro else recipient.chats_notification
    token = known.tokens.get(str(recipient.uuid))
    if preference != IMMEDIATELY or token is None:
        return None
    photo_uuid, photo_blurhash = known.photos.get(sender.id, (None, None))
    params = {
        "personId": sender.id,
        "personUuid": str(sender.uuid),
        "name": sender.name,
        "photoUuid": photo_uuid,
        "photoBlurhash": photo_blurhash,
        "imageUuid": photo_uuid,
        "imageBlurhash": photo_blurhash,
    }
    return PushMessage(
        username=str(recipient.uuid),
        token=token,
        title=sender.name + TITLE_SUFFIX,
        body=push_body(body),
        data={"screen": "Conversation Screen", "params": params},
    )


def intro_hash(body: str) -> str:
    """The robot9000 hash (§8.7): letters and numbers only, lower-case, runs collapsed, MD5."""
    kept = [c for c in body.lower() if unicodedata.category(c)[0] in "LN"]
    collapsed = [c for i, c in enumerate(kept) if i == 0 or kept[i - 1] != c]
    return hashlib.md5("".join(collapsed).encode()).hexdigest()

