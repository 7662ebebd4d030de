"""Chat reads and the small batched writes (chat-protocol §5.2, §5.4–§5.6, §8.3).

* :func:`history` — one MAM page (§5.4): newest ``limit`` entries before ``before``,
  returned oldest first; format each with ``result_id``/``stamp``.
* :func:`inbox` — every conversation of a person (§5.5), oldest activity first, with its
  unread count and ``box``; the same ``inbox`` rows the digest job reads.
* :func:`mark_displayed`, :func:`save_push_tokens`, :func:`touch_last_online` — writes
  that the connection/presence code batches (about once a second) and flushes in one call.

The ``messaged`` rows the pipeline writes are what ``POST /inbox-info`` reads to place a
conversation (``intros``/``chats``), so an accepted message moves the conversation there
and in the ``box`` of :func:`inbox` at the same time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import attrs

from duo.chat.archive import (
    StoredStanza,
    archive_id_text,
    archive_stamp,
    decode_archived,
    decode_inbox_content,
    jid,
    stamp,
)
from duo.sql import chat as sql
from duo.sql.database import Database

MAM_PAGE_MAX = 50


@attrs.frozen
class HistoryEntry:
    """One archive entry of the requester's own archive, either direction."""

    archive_id: int
    stanza: StoredStanza
    audio_uuid: str | None  # emitted last on the inner message when set

    @property
    def result_id(self) -> str:
        """``result id``: what the client sends back as ``before``."""
        return archive_id_text(self.archive_id)

    @property
    def stamp(self) -> str:
        return archive_stamp(self.archive_id)


@attrs.frozen
class InboxEntry:
    """One conversation: its last message (either direction) and the reader's counters."""

    remote_jid: str
    stanza: StoredStanza
    unread: int
    box: str  # "inbox" (an intro the reader has only received once) or "chats"
    timestamp: int  # microseconds, the row's last write

    @property
    def stamp(self) -> str:
        return stamp(self.timestamp)


async def history(
    db: Database, person_id: int, other: uuid.UUID, before: int | None, limit: int = MAM_PAGE_MAX
) -> list[HistoryEntry]:
    """A MAM page: ``limit`` (capped at 50; 0 → empty) newest entries with ``other`` whose
    archive id is below ``before`` (None = newest), oldest first; undecodable rows skipped."""
    limit = min(limit, MAM_PAGE_MAX)
    if limit <= 0:
        return []
    rows = await sql.archive_page(db, person_id, str(other), before, limit)
    entries = []
    for row in reversed(rows):
        stanza = decode_archived(row.message)
        if stanza is not None:
            entries.append(HistoryEntry(row.id, stanza, row.audio_uuid))
    return entries


async def inbox(db: Database, person_uuid: uuid.UUID) -> list[InboxEntry]:
    """Every inbox row of the person (no paging, no filtering), oldest activity first."""
    entries = []
    for row in await sql.inbox_rows(db, str(person_uuid)):
        stanza = decode_inbox_content(row.content)
        if stanza is not None:
            entries.append(InboxEntry(row.remote_bare_jid, stanza, row.unread_count, row.box, row.timestamp))
    return entries


async def mark_displayed(db: Database, marks: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """(reader, other party) pairs: the reader's conversation with that party is all read."""
    if marks:
        await sql.clear_unread(db, [(str(reader), jid(other)) for reader, other in marks])


async def save_push_tokens(db: Database, registrations: Sequence[tuple[uuid.UUID, str | None]]) -> None:
    """(person, token) in arrival order; None or "" de-registers. The last one per person wins."""
    last: dict[str, str | None] = {}
    for person, token in registrations:
        last[str(person)] = token or None
    upserts = [(person, token) for person, token in last.items() if token is not None]
    deletes = [person for person, token in last.items() if token is None]
    await sql.write_push_tokens(db, upserts, deletes)


async def touch_last_online(db: Database, person_uuids: Sequence[uuid.UUID], now: dt.datetime) -> None:
    """``person.last_online_time := now`` for everyone seen (auth, heartbeat, disconnect)."""
    if person_uuids:
        await sql.set_last_online(db, sorted(set(person_uuids)), now)
