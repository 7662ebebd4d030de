"""The message-acceptance pipeline (chat-protocol §7, §8.4–§8.8, §9.1): decide, then store.

A room hands :func:`accept` a batch of :class:`Submission` (messages of any conversations,
in the order they were received) and gets one :data:`Outcome` per submission, in order:

* :class:`Accepted` — stored (committed) before :func:`accept` returns. After it the
  caller, per message in order: queues :attr:`Accepted.push` if set, publishes
  :attr:`Accepted.incoming` to the recipient, sends :attr:`Accepted.delivered` to the sender.
* ``IncomingTyping`` — a typing indicator that passed checks 1–4: publish it to the recipient.
* a :data:`Rejection` stanza (``MessageBlocked``, ``MessageTooLong``, ``MessageNotUnique``,
  ``ServerError``) — send it to the sending connection.
* :class:`Ignored` — no reply (unknown sender or recipient, §7 step 2).

The gates run per message, in §7's order, against what the database held when the batch
started plus what earlier messages of the same batch changed (a reply earlier in the batch
makes a later message no intro; intros accepted earlier count towards the rate limit; an
intro text earlier in the batch makes a later copy not unique). All writes of a batch
happen in one transaction: the accepted messages are written together in one statement,
and if that fails the transaction is rolled back and the batch runs again with each
message written in its own savepoint, so one failing message gets ``ServerError`` and
never loses another.

Voice messages are transcoded and uploaded *before* :func:`accept` (README decision:
"audio is transcoded before anything is stored"): the caller runs :func:`prepare_audio` on
the ``AudioMessage`` and submits the returned :class:`VoiceMessage`; if that fails the sender
gets ``ServerError``. A voice object whose message is then refused or not stored is queued
for the audio cleaner.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import logging
import unicodedata
from collections.abc import Callable, Sequence

import attrs
import trio

from duo.actors.media import Media
from duo.actors.runtime import ActorError
from duo.chat.archive import (
    archive_ids,
    encode_archived,
    encode_inbox_content,
    from_micros,
    micros,
    search_body,
)
from duo.chat.push import TITLE_SUFFIX, PushMessage, push_body
from duo.chat.stanzas import (
    AUDIO_PLACEHOLDER_BODY,
    MAX_BODY_LENGTH,
    ArchivedMessage,
    AudioMessage,
    ChatMessage,
    IncomingMessage,
    IncomingTyping,
    MessageBlocked,
    MessageDelivered,
    MessageNotUnique,
    MessageTooLong,
    ServerError,
    Typing,
)
from duo.media import MediaError, new_media_id
from duo.media.audio import audio_key
from duo.media.storage import Storage, StorageError
from duo.safety.checks import BlockReason, check_intro
from duo.safety.spam import is_trusted_sender
from duo.sql import chat as sql
from duo.sql.database import DB_FAILURES, Connection, Database

log = logging.getLogger("duo.chat.pipeline")

INTRO_LIMITS = {1: 10, 2: 20, 3: 30}  # intros a day by verification level (§8.4)
IMMEDIATELY = 1  # immediacy id of a notification preference
NOTIFICATION_GRACE_SECONDS = 5  # duo_last_notification := now + 5 s (§8.1)


@attrs.frozen
class VoiceMessage:
    """An ``AudioMessage`` whose AAC is already in the audio bucket as ``<audio_uuid>.aac``."""

    to: str
    id: str
    audio_uuid: str


@attrs.frozen
class Submission:
    """One inbound message of the authenticated ``sender`` (canonical UUID), in arrival
    order; ``received_at`` is the time its archive id carries."""

    sender: str
    message: ChatMessage | VoiceMessage | Typing
    received_at: dt.datetime


@attrs.frozen
class Ignored:
    """No reply at all (§7 step 2: the sender or the recipient does not exist)."""


@attrs.frozen
class Accepted:
    """A stored message: what the recipient receives, the sender's ack and the push."""

    message: ArchivedMessage  # sender, recipient, id, body (placeholder for voice), audio_uuid
    archive_id: int  # the sender's copy; the recipient's is archive_id + 1
    intro: bool
    push: PushMessage | None  # set when the recipient wants it now and has a token

    @property
    def sent_at(self) -> dt.datetime:
        """The time the archive id carries."""
        return from_micros(self.archive_id >> 8)

    @property
    def incoming(self) -> IncomingMessage:
        m = self.message
        return IncomingMessage(m.sender, m.recipient, m.id, m.body, m.audio_uuid)

    @property
    def delivered(self) -> MessageDelivered:
        return MessageDelivered(self.message.id, self.message.audio_uuid)


Rejection = MessageBlocked | MessageTooLong | MessageNotUnique | ServerError
Outcome = Accepted | IncomingTyping | Rejection | Ignored


@attrs.frozen
class ChatDeps:
    """What the pipeline needs: the database and the clock (injected so tests move time)."""

    db: Database
    now: Callable[[], dt.datetime]


class AudioFailed(Exception):
    """A voice message could not be transcoded or uploaded: reply ``ServerError``."""


async def prepare_audio(media: Media, storage: Storage, audio: AudioMessage) -> VoiceMessage:
    """Transcode (media actor) and upload ``<audio_uuid>.aac`` under a new ``audio_uuid``.

    Raises :class:`AudioFailed` for bad base64, too large input, undecodable audio or a
    storage error; nothing is stored then.
    """
    try:
        aac = await media.audio(audio.audio_base64)
    except (MediaError, ActorError) as e:
        raise AudioFailed(str(e)) from e
    audio_uuid = new_media_id()
    try:
        await storage.put("audio", audio_key(audio_uuid), aac)
    except StorageError as e:
        raise AudioFailed(str(e)) from e
    return VoiceMessage(audio.to, audio.id, audio_uuid)


async def accept(deps: ChatDeps, batch: Sequence[Submission]) -> list[Outcome]:
    """Run §7's gates over ``batch`` and store what passes; one outcome per submission.

    If the batch's transaction itself fails, every message gets ``ServerError`` (typing
    indicators get no reply).
    """
    if not batch:
        return []
    now = deps.now()
    try:
        try:
            outcomes = await _attempt(deps, batch, now, isolate=False)
        except sql.BatchWriteFailed as e:
            log.info("a batch of %d chat messages failed (%s); storing them one by one", len(batch), e)
            outcomes = await _attempt(deps, batch, now, isolate=True)
    except DB_FAILURES:
        log.exception("a batch of %d chat messages could not be stored", len(batch))
        return await refuse(deps, batch)
    return outcomes


async def refuse(deps: ChatDeps, batch: Sequence[Submission]) -> list[Outcome]:
    """The outcomes of a batch that could not be stored: ``ServerError`` for each chat
    message (typing gets no reply); its voice objects are queued for deletion."""
    failed: list[Outcome] = [Ignored() if isinstance(s.message, Typing) else ServerError(s.message.id) for s in batch]
    with trio.CancelScope(shield=True):
        await _queue_deletion_best_effort(deps.db, _unstored_audio(batch, failed))
    return failed


async def _attempt(deps: ChatDeps, batch: Sequence[Submission], now: dt.datetime, *, isolate: bool) -> list[Outcome]:
    """One transaction for the batch: read, run the gates, write (see ``store_messages``).

    The gates are plain Python between the statements, so the whole transaction runs on
    the database's side of the bridge: one crossing per batch rather than about seven
    (bench/chat.py at 1,000 msg/s: ~180 batches/s).
    """

    async def transaction(conn: Connection) -> list[Outcome]:
        known = await _load(conn, batch, now)
        decided = [await _one(conn, known, submission, now) for submission in batch]
        outcomes = await _store(conn, decided, isolate=isolate)
        await sql.touch_intro_hashes(conn, known.checked_hashes, now)
        await sql.queue_audio_deletion(conn, _unstored_audio(batch, outcomes))
        return outcomes

    return await deps.db.run_transaction(transaction)


def intro_hash(body: str) -> str:
    """The robot9000 hash (§8.7): letters and numbers only, lower-case, runs collapsed, MD5."""
    kept = [c for c in body.lower() if unicodedata.category(c)[0] in "LN"]
    collapsed = [c for i, c in enumerate(kept) if i == 0 or kept[i - 1] != c]
    return hashlib.md5("".join(collapsed).encode()).hexdigest()


def _unstored_audio(batch: Sequence[Submission], outcomes: Sequence[Outcome]) -> list[str]:
    return [
        s.message.audio_uuid
        for s, outcome in zip(batch, outcomes, strict=True)
        if isinstance(s.message, VoiceMessage) and not isinstance(outcome, Accepted)
    ]


async def _queue_deletion_best_effort(db: Database, audio_uuids: list[str]) -> None:
    try:
        await sql.queue_audio_deletion(db, audio_uuids)
    except DB_FAILURES:
        log.error("voice objects %s are orphaned: their deletion could not be queued", audio_uuids)


@attrs.define
class _Known:
    """What the gates know: the database at the start of the batch, plus the batch so far."""

    people: dict[str, sql.ChatPerson]
    pairs: sql.Pairs
    counts: dict[int, sql.IntroCounts]
    used_hashes: set[str]
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
    """Read every gate's input for the whole batch in two set-based queries (round trips)."""
    people = await sql.people(conn, sorted({p for s in batch for p in (s.sender, s.message.to)}))
    pairs = [
        (people[s.sender].id, people[s.message.to].id)
        for s in batch
        if s.sender in people and s.message.to in people
    ]
    senders = sorted({a for a, _ in pairs})
    texts = [s.message.body for s in batch if isinstance(s.message, ChatMessage)]
    read = await sql.gate_inputs(conn, pairs + [(b, a) for a, b in pairs], senders, [intro_hash(t) for t in texts], now)
    return _Known(people=people, pairs=read.pairs, counts=read.counts, used_hashes=read.used_hashes)


@attrs.frozen
class _Planned:
    """A message that passed the gates: what to write, and the outcome once it is written."""

    write: sql.MessageWrite
    accepted: Accepted


async def _store(conn: Connection, decided: list[Outcome | _Planned], *, isolate: bool) -> list[Outcome]:
    """Write the planned messages together; a message whose write failed is a ServerError."""
    planned = [d for d in decided if isinstance(d, _Planned)]
    stored = iter(await sql.store_messages(conn, [p.write for p in planned], isolate=isolate))
    outcomes: list[Outcome] = []
    for d in decided:
        if not isinstance(d, _Planned):
            outcomes.append(d)
        elif next(stored):
            outcomes.append(d.accepted)
        else:
            outcomes.append(ServerError(d.accepted.message.id))
    return outcomes


async def _one(conn: Connection, known: _Known, submission: Submission, now: dt.datetime) -> Outcome | _Planned:
    """§7 steps 2–11 for one message, then its §9.1 writes are planned (step 12)."""
    message = submission.message
    sender = known.people.get(submission.sender)
    recipient = known.people.get(message.to)
    if sender is None or recipient is None:
        return Ignored()
    if sender.id == recipient.id:  # README: a message to oneself is rejected
        return MessageBlocked(message.id)
    if sender.verification_required and sender.verification_level_id <= 1:
        return MessageBlocked(message.id, "age-verification")
    if (sender.id, recipient.id) in known.pairs.skipped or (recipient.id, sender.id) in known.pairs.skipped:
        return MessageBlocked(message.id)
    if isinstance(message, Typing):
        return IncomingTyping(sender.uuid, recipient.uuid, message.id)
    if isinstance(message, ChatMessage) and len(message.body) > MAX_BODY_LENGTH:
        return MessageTooLong(message.id)
    intro = (recipient.id, sender.id) not in known.pairs.messaged
    if intro:
        refused = await _intro_gates(conn, known, sender, message, now)
        if refused is not None:
            return refused
    return _plan(known, sender, recipient, submission, intro, now)


async def _intro_gates(
    conn: Connection, known: _Known, sender: sql.ChatPerson, message: ChatMessage | VoiceMessage, now: dt.datetime
) -> Rejection | None:
    """§7 steps 8–11: offensive, spam (untrusted senders), rate limit, uniqueness."""
    if isinstance(message, ChatMessage):
        trusted = is_trusted_sender(now - sender.sign_up_time, sender.verification_level_id)
        verdict = check_intro(message.body, trusted)
        if verdict is BlockReason.OFFENSIVE:
            await sql.record_rude(conn, sender.id, message.body, now)
            return MessageBlocked(message.id, "offensive")
        if verdict is BlockReason.SPAM:
            return MessageBlocked(message.id, "spam")
    limited = _rate_limited(known, sender, message.id)
    if limited is not None:
        return limited
    if isinstance(message, ChatMessage):
        digest = intro_hash(message.body)
        known.checked_hashes.append(digest)
        if digest in known.used_hashes:
            return MessageNotUnique(message.id)
        known.used_hashes.add(digest)
    return None


def _rate_limited(known: _Known, sender: sql.ChatPerson, stanza_id: str) -> MessageBlocked | None:
    """§8.4: E = floor(L / 2^(R + floor(Q/2))) against the conversations started today."""
    level = sender.verification_level_id
    counts = known.counts[sender.id]
    effective = INTRO_LIMITS[level] >> (counts.reports + counts.rude // 2)
    if effective == 0:
        return MessageBlocked(stanza_id, "rate-limited-1day")
    if counts.started + known.started[sender.id] < effective:
        return None
    if level == 1:
        return MessageBlocked(stanza_id, "rate-limited-1day", "unverified-basics")
    if level == 2:
        return MessageBlocked(stanza_id, "rate-limited-1day", "unverified-photos")
    return MessageBlocked(stanza_id, "rate-limited-1day")


def _plan(
    known: _Known,
    sender: sql.ChatPerson,
    recipient: sql.ChatPerson,
    submission: Submission,
    intro: bool,
    now: dt.datetime,
) -> _Planned:
    """§9.1 writes of one message; the batch counts it as stored from here on (a write that
    then fails is rare: the later messages' gates are not re-run)."""
    message = submission.message
    if isinstance(message, ChatMessage):
        stored = ArchivedMessage(sender.uuid, recipient.uuid, message.id, message.body)
    else:
        assert isinstance(message, VoiceMessage)
        stored = ArchivedMessage(sender.uuid, recipient.uuid, message.id, AUDIO_PLACEHOLDER_BODY, message.audio_uuid)
    archive_id, _ = archive_ids(known.unique_micros(submission.received_at))
    push = _push(sender, recipient, stored.body, intro)
    write = sql.MessageWrite(
        sender_id=sender.id,
        sender_uuid=sender.uuid,
        recipient_id=recipient.id,
        recipient_uuid=recipient.uuid,
        stanza_id=message.id,
        archive_id=archive_id,
        archived=encode_archived(stored),
        inbox_content=encode_inbox_content(stored),
        audio_uuid=stored.audio_uuid,
        search_body=search_body(stored.body),
        inbox_timestamp=micros(now),
        now=now,
        notified_intro=None if push is None else intro,
        notify_at=int(now.timestamp()) + NOTIFICATION_GRACE_SECONDS,
    )
    if (sender.id, recipient.id) not in known.pairs.messaged:
        known.pairs.messaged.add((sender.id, recipient.id))
        if intro:
            known.started[sender.id] += 1
    return _Planned(write, Accepted(stored, archive_id, intro, push))


def _push(sender: sql.ChatPerson, recipient: sql.ChatPerson, body: str, intro: bool) -> PushMessage | None:
    """§8.1: only for a recipient whose preference is "Immediately" and who has a token."""
    preference = recipient.intros_notification if intro else recipient.chats_notification
    if preference != IMMEDIATELY or recipient.push_token is None:
        return None
    params = {
        "personId": sender.id,
        "personUuid": sender.uuid,
        "name": sender.name,
        "photoUuid": sender.photo_uuid,
        "photoBlurhash": sender.photo_blurhash,
        "imageUuid": sender.photo_uuid,
        "imageBlurhash": sender.photo_blurhash,
    }
    return PushMessage(
        username=recipient.uuid,
        token=recipient.push_token,
        title=sender.name + TITLE_SUFFIX,
        body=push_body(body),
        data={"screen": "Conversation Screen", "params": params},
    )
