"""Every SQL statement of the chat service (chat-protocol §9), with typed results.

The pipeline reads what its gates need for a whole batch in two set-based queries
(people with their push token and first photo; then ``skipped`` and ``messaged`` pairs,
intro-limit counters and recent intro hashes together) and writes the accepted messages
together in one statement (:func:`store_messages`); if that fails the batch is stored
again with each message in its own savepoint, so one failing message never aborts the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import asyncpg
import attrs

from duo.sql.database import Connection, Database

log = logging.getLogger("duo.sql.chat")

Pair = tuple[int, int]  # (subject person id, object person id)


# -- reads for the gates ---------------------------------------------------------------------


@attrs.frozen
class ChatPerson:
    """What the gates and the push need of a sender or recipient."""

    id: int
    uuid: str  # canonical
    name: str
    verification_required: bool
    verification_level_id: int
    sign_up_time: dt.datetime
    intros_notification: int
    chats_notification: int
    push_token: str | None
    photo_uuid: str | None  # the photo with the lowest position
    photo_blurhash: str | None


async def people(conn: Connection, uuids: Sequence[str]) -> dict[str, ChatPerson]:
    """The people named by canonical UUIDs (unknown ones are absent)."""
    rows = await conn.fetch(
        """SELECT p.id, p.uuid::text AS uuid, p.name, p.verification_required, p.verification_level_id,
                  p.sign_up_time, p.intros_notification, p.chats_notification,
                  t.token AS push_token, ph.uuid AS photo_uuid, ph.blurhash AS photo_blurhash
           FROM person p
           LEFT JOIN duo_push_token t ON t.username = p.uuid::text
           LEFT JOIN LATERAL (SELECT uuid, blurhash FROM photo WHERE person_id = p.id
                              ORDER BY position LIMIT 1) ph ON TRUE
           WHERE p.uuid = ANY($1::uuid[])""",
        list(uuids),
    )
    found = [ChatPerson(**dict(row)) for row in rows]
    return {person.uuid: person for person in found}


@attrs.frozen
class Pairs:
    """Which of the asked (subject, object) pairs have a ``skipped`` / ``messaged`` row."""

    skipped: set[Pair]
    messaged: set[Pair]


_PAIR_ROWS = """
    SELECT 'skipped' AS kind, t.subject_person_id, t.object_person_id
    FROM unnest($1::int[], $2::int[]) AS p(subject_id, object_id)
    JOIN skipped t ON t.subject_person_id = p.subject_id AND t.object_person_id = p.object_id
    UNION ALL
    SELECT 'messaged', t.subject_person_id, t.object_person_id
    FROM unnest($1::int[], $2::int[]) AS p(subject_id, object_id)
    JOIN messaged t ON t.subject_person_id = p.subject_id AND t.object_person_id = p.object_id"""


def _pairs_of(rows: Sequence[asyncpg.Record]) -> Pairs:
    found = Pairs(skipped=set(), messaged=set())
    for row in rows:
        if row["kind"] in ("skipped", "messaged"):
            (found.skipped if row["kind"] == "skipped" else found.messaged).add((row[1], row[2]))
    return found


async def existing_pairs(conn: Connection, pairs: Sequence[Pair]) -> Pairs:
    if not pairs:
        return Pairs(skipped=set(), messaged=set())
    return _pairs_of(await conn.fetch(_PAIR_ROWS, *_columns(pairs, 2)))


@attrs.frozen
class IntroCounts:
    """§8.4 inputs: conversations started in the last day (at most 30), reports in the
    last 7 days (not by bots), rude messages in the last day."""

    started: int
    reports: int
    rude: int


@attrs.frozen
class GateInputs:
    """The rows the gates read for a batch, besides the people."""

    pairs: Pairs
    counts: dict[int, IntroCounts]  # by sender id
    used_hashes: set[str]  # of the asked hashes, those used within the last 7 days (§8.7)


async def gate_inputs(
    conn: Connection, pairs: Sequence[Pair], sender_ids: Sequence[int], hashes: Sequence[str], now: dt.datetime
) -> GateInputs:
    """Pairs, §8.4 counts and recent intro hashes in one round trip (one row kind each)."""
    rows = await conn.fetch(
        f"""SELECT kind, subject_person_id AS a, object_person_id AS b,
                   NULL::bigint AS started, NULL::bigint AS reports, NULL::bigint AS rude, NULL::text AS hash
            FROM ({_PAIR_ROWS}) pair_rows
            UNION ALL
            SELECT 'counts', s.id, NULL,
                   (SELECT count(*) FROM (
                        SELECT 1 FROM messaged m
                        WHERE m.subject_person_id = s.id AND m.created_at > $4::timestamptz - interval '1 day'
                          AND NOT EXISTS (
                              SELECT 1 FROM messaged r
                              WHERE r.subject_person_id = m.object_person_id
                                AND r.object_person_id = s.id AND r.created_at < m.created_at)
                        LIMIT 30) started),
                   (SELECT count(*) FROM skipped k JOIN person p ON p.id = k.subject_person_id
                    WHERE k.object_person_id = s.id AND k.reported
                      AND k.created_at > $4::timestamptz - interval '7 days' AND NOT 'bot' = ANY(p.roles)),
                   (SELECT count(*) FROM rude_message r
                    WHERE r.person_id = s.id AND r.created_at > $4::timestamptz - interval '1 day'),
                   NULL
            FROM unnest($3::int[]) AS s(id)
            UNION ALL
            SELECT 'hash', NULL, NULL, NULL, NULL, NULL, hash FROM intro_hash
            WHERE hash = ANY($5::text[]) AND last_used_at > $4::timestamptz - interval '7 days'""",
        *_columns(pairs, 2),
        list(sender_ids),
        now,
        list(hashes),
    )
    return GateInputs(
        pairs=_pairs_of(rows),
        counts={r["a"]: IntroCounts(r["started"], r["reports"], r["rude"]) for r in rows if r["kind"] == "counts"},
        used_hashes={r["hash"] for r in rows if r["kind"] == "hash"},
    )


# -- writes of the pipeline ------------------------------------------------------------------


async def record_rude(conn: Connection, person_id: int, body: str, now: dt.datetime) -> None:
    await conn.execute(
        "INSERT INTO rude_message (person_id, message, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        person_id,
        body,
        now,
    )


async def touch_intro_hashes(conn: Connection, hashes: Sequence[str], now: dt.datetime) -> None:
    if hashes:
        await conn.execute(
            """INSERT INTO intro_hash (hash, last_used_at) SELECT DISTINCT unnest($1::text[]), $2::timestamptz
               ON CONFLICT (hash) DO UPDATE SET last_used_at = EXCLUDED.last_used_at""",
            list(hashes),
            now,
        )


@attrs.frozen
class MessageWrite:
    """Everything §9.1 writes for one message (plus the last-notification upsert)."""

    sender_id: int
    sender_uuid: str
    recipient_id: int
    recipient_uuid: str
    stanza_id: str
    archive_id: int  # the sender's copy; the recipient's is + 1
    archived: bytes  # mam_message.message
    inbox_content: bytes
    audio_uuid: str | None
    search_body: str
    inbox_timestamp: int
    now: dt.datetime
    notified_intro: bool | None  # None: no push queued; else which column to set
    notify_at: int  # Unix seconds for duo_last_notification


class BatchWriteFailed(Exception):
    """The batch's one write statement failed: its transaction is aborted (roll it back and
    store the batch again with ``isolate=True``)."""


async def store_messages(conn: Connection, writes: Sequence[MessageWrite], *, isolate: bool) -> list[bool]:
    """Write a batch's messages; which of them were stored.

    Happy path (``isolate=False``): the whole batch in one statement and no savepoint, the
    fewest round trips; a failure raises :class:`BatchWriteFailed`. With ``isolate`` each
    message is written alone in its own savepoint, so only the bad ones fail.
    """
    if not writes:
        return []
    if not isolate:
        try:
            await _write_messages(conn, writes)
        except asyncpg.PostgresError as e:
            raise BatchWriteFailed(f"{type(e).__name__}: {e}") from e
        return [True] * len(writes)
    return [await _in_savepoint(conn, m) for m in writes]


async def _in_savepoint(conn: Connection, write: MessageWrite) -> bool:
    try:
        async with conn.savepoint():
            await _write_messages(conn, [write])
    except asyncpg.PostgresError:
        log.exception("chat message %r from %s could not be stored", write.stanza_id, write.sender_uuid)
        return False
    return True


async def _write_messages(conn: Connection, writes: Sequence[MessageWrite]) -> None:
    """§9.1 for several messages, in order, as if written one after another.

    One statement (data-modifying CTEs) for the archive, inbox, ``messaged`` and
    last-notification rows: each round trip costs the batch's latency more than the rows do.
    """
    archive = [
        row
        for m in writes
        for row in (
            (m.archive_id, m.sender_id, m.recipient_uuid, "O", m.archived, m.audio_uuid, m.search_body),
            (m.archive_id + 1, m.recipient_id, m.sender_uuid, "I", m.archived, m.audio_uuid, m.search_body),
        )
    ]
    await conn.execute(
        """WITH archived AS (
               INSERT INTO mam_message
                   (id, person_id, remote_bare_jid, direction, from_jid, message, audio_uuid, search_body)
               SELECT id, person_id, remote, direction, '', message, audio_uuid, search_body
               FROM unnest($1::bigint[], $2::int[], $3::text[], $4::mam_direction[], $5::bytea[], $6::text[],
                           $7::text[]) AS a(id, person_id, remote, direction, message, audio_uuid, search_body)),
           t AS (
               SELECT luser, remote || '@duolicious.app' AS remote_jid, msg_id, box, content, ts, unread, reset
               FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::bytea[], $13::bigint[],
                           $14::int[], $15::bool[]) AS u(luser, remote, msg_id, box, content, ts, unread, reset)),
           inboxed AS (
               INSERT INTO inbox (luser, remote_bare_jid, msg_id, box, content, timestamp, unread_count)
               SELECT luser, remote_jid, msg_id, box, content, ts, unread FROM t
               ON CONFLICT (luser, remote_bare_jid) DO UPDATE SET
                   msg_id = EXCLUDED.msg_id, box = 'chats', content = EXCLUDED.content,
                   timestamp = EXCLUDED.timestamp,
                   unread_count = EXCLUDED.unread_count + CASE
                       WHEN (SELECT reset FROM t WHERE t.luser = EXCLUDED.luser AND t.remote_jid = EXCLUDED.remote_bare_jid)
                       THEN 0 ELSE inbox.unread_count END),
           pairs AS (
               INSERT INTO messaged (subject_person_id, object_person_id, created_at)
               SELECT subject_id, object_id, $18::timestamptz
               FROM unnest($16::int[], $17::int[]) AS m(subject_id, object_id)
               ON CONFLICT DO NOTHING),
           n AS (SELECT * FROM unnest($19::text[], $20::int[], $21::int[]) AS n(username, intro_s, chat_s)),
           notified AS (
               INSERT INTO duo_last_notification (username, intro_seconds, chat_seconds)
               SELECT username, coalesce(intro_s, 0), coalesce(chat_s, 0) FROM n
               ON CONFLICT (username) DO UPDATE SET
                   intro_seconds = coalesce((SELECT intro_s FROM n WHERE n.username = EXCLUDED.username),
                                            duo_last_notification.intro_seconds),
                   chat_seconds = coalesce((SELECT chat_s FROM n WHERE n.username = EXCLUDED.username),
                                           duo_last_notification.chat_seconds))
           SELECT 1""",
        *_columns(archive, 7),
        *_columns(_inbox_changes(writes), 8),
        [m.sender_id for m in writes],
        [m.recipient_id for m in writes],
        writes[0].now,
        *_columns(_notifications(writes), 3),
    )


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    """Rows to per-column lists, for ``unnest`` parameters."""
    return [[row[i] for row in rows] for i in range(width)]


def _inbox_changes(writes: Sequence[MessageWrite]) -> list[tuple[object, ...]]:
    """One inbox upsert per conversation side, as the messages' upserts in order would leave it.

    (luser, remote, msg_id, box on insert, content, timestamp, unread, reset): the last
    message wins; ``box`` is ``inbox`` only for a row created by one received message;
    ``unread`` counts the messages received since the side last sent one, and ``reset`` says
    it sent one (so the stored count restarts instead of growing).
    """
    sides: dict[tuple[str, str], tuple[int, int, bool, MessageWrite]] = {}
    for m in writes:
        for luser, remote, sent in ((m.sender_uuid, m.recipient_uuid, True), (m.recipient_uuid, m.sender_uuid, False)):
            count, unread, reset, _ = sides.get((luser, remote), (0, 0, False, m))
            sides[(luser, remote)] = (count + 1, 0 if sent else unread + 1, reset or sent, m)
    return [
        (luser, remote, m.stanza_id, "inbox" if count == 1 and unread == 1 else "chats",
         m.inbox_content, m.inbox_timestamp, unread, reset)
        for (luser, remote), (count, unread, reset, m) in sides.items()
    ]


def _notifications(writes: Sequence[MessageWrite]) -> list[tuple[object, ...]]:
    """(username, intro seconds, chat seconds) per recipient with a push queued; the last
    message of each kind wins and ``None`` leaves that column as it is."""
    times: dict[str, dict[bool, int]] = {}
    for m in writes:
        if m.notified_intro is not None:
            times.setdefault(m.recipient_uuid, {})[m.notified_intro] = m.notify_at
    return [(username, kinds.get(True), kinds.get(False)) for username, kinds in times.items()]


async def queue_audio_deletion(db: Database | Connection, audio_uuids: Sequence[str]) -> None:
    """Voice objects whose message was not stored go to the audio cleaner's queue."""
    if audio_uuids:
        await db.execute(
            "INSERT INTO undeleted_audio (uuid) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
            list(audio_uuids),
        )


# -- store.py: history, inbox, displayed, tokens, last online ----------------------------


@attrs.frozen
class ArchiveRow:
    id: int
    message: bytes
    audio_uuid: str | None


async def archive_page(
    db: Database, person_id: int, remote: str, before: int | None, limit: int
) -> list[ArchiveRow]:
    """Newest first: the ``limit`` newest rows below ``before`` with ``remote``."""
    rows = await db.fetch(
        """SELECT id, message, audio_uuid FROM mam_message
           WHERE person_id = $1 AND remote_bare_jid = $2 AND ($3::bigint IS NULL OR id < $3)
           ORDER BY id DESC LIMIT $4""",
        person_id,
        remote,
        before,
        limit,
    )
    return [ArchiveRow(row["id"], row["message"], row["audio_uuid"]) for row in rows]


@attrs.frozen
class InboxRow:
    remote_bare_jid: str
    content: bytes
    unread_count: int
    box: str
    timestamp: int


async def inbox_rows(db: Database, luser: str) -> list[InboxRow]:
    rows = await db.fetch(
        """SELECT remote_bare_jid, content, unread_count, box, timestamp FROM inbox
           WHERE luser = $1 ORDER BY timestamp, remote_bare_jid""",
        luser,
    )
    return [InboxRow(**dict(row)) for row in rows]


async def clear_unread(db: Database, marks: Sequence[tuple[str, str]]) -> None:
    """(luser, remote_bare_jid) pairs to mark read."""
    await db.execute(
        """UPDATE inbox SET unread_count = 0
           FROM unnest($1::text[], $2::text[]) AS m(luser, remote)
           WHERE inbox.luser = m.luser AND inbox.remote_bare_jid = m.remote AND inbox.unread_count <> 0""",
        *_columns(marks, 2),
    )


async def write_push_tokens(db: Database, upserts: Sequence[tuple[str, str]], deletes: Sequence[str]) -> None:
    async with db.transaction() as conn:
        if upserts:
            await conn.execute(
                """INSERT INTO duo_push_token (username, token) SELECT * FROM unnest($1::text[], $2::text[])
                   ON CONFLICT (username) DO UPDATE SET token = EXCLUDED.token""",
                *_columns(upserts, 2),
            )
        if deletes:
            await conn.execute("DELETE FROM duo_push_token WHERE username = ANY($1::text[])", list(deletes))


async def forget_push_token(db: Database, username: str, token: str) -> None:
    """Remove a token Expo no longer knows, unless the person registered another since."""
    await db.execute("DELETE FROM duo_push_token WHERE username = $1 AND token = $2", username, token)


async def set_last_online(db: Database, person_uuids: Sequence[str], now: dt.datetime) -> None:
    await db.execute(
        "UPDATE person SET last_online_time = $2 WHERE uuid = ANY($1::uuid[])", list(person_uuids), now
    )
