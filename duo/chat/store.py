"""Chat reads and the small batched writes (chat-protocol §5.2, §5.4–§5.6, §8.3).

* :func:`history` — the ``MamResult`` frames of one history page (§5.4): the newest
  ``max`` entries before ``before``, oldest first; send ``MamFin`` after them.
* :func:`inbox` — the ``InboxResult`` frames of every conversation (§5.5), oldest activity
  first, with unread counts and ``box``; send ``InboxFin`` after them.
* :func:`mark_displayed`, :func:`save_push_tokens`, :func:`touch_last_online` — list-taking
  writes: a session calls the first two for each stanza (so a later inbox query sees the
  marker), presence flushes the last-online times it collects in one call.

People are canonical UUID strings, as in ``duo.chat.stanzas``. The ``messaged`` rows the
pipeline writes are what ``POST /inbox-info`` reads to place a conversation (``intros``
until the other person answers, then ``chats``), and the ``inbox`` rows read here carry
the ``box`` of the same rule for older clients and the digest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from duo.chat.archive import decode_archived, decode_inbox_content
from duo.chat.jid import jid
from duo.chat.stanzas import InboxBox, InboxResult, MamQuery, MamResult
from duo.sql import chat as sql
from duo.sql.database import Database


async def history(db: Database, person_id: int, person: str, query: MamQuery) -> list[MamResult]:
    """One MAM page of ``person`` (whose id is ``person_id``) with ``query.with_person``;
    rows whose blob does not decode are skipped. Not a UUID or ``max`` 0: no entries."""
    if query.with_person is None or query.max <= 0:
        return []
    rows = await sql.archive_page(db, person_id, query.with_person, query.before, query.max)
    results = []
    for row in reversed(rows):
        message = decode_archived(row.message, row.audio_uuid)
        if message is not None:
            results.append(MamResult(person, str(uuid.uuid4()), query.query_id, row.id, message))
    return results


async def inbox(db: Database, person: str, query_id: str) -> list[InboxResult]:
    """Every inbox row of ``person`` (no paging, no filtering), oldest activity first;
    rows whose content does not parse are skipped; a box other than ``inbox`` reads ``chats``."""
    results = []
    for row in await sql.inbox_rows(db, person):
        message = decode_inbox_content(row.content)
        if message is not None:
            box: InboxBox = "inbox" if row.box == "inbox" else "chats"
            results.append(InboxResult(person, query_id, row.unread_count, row.timestamp, box, message))
    return results


async def mark_displayed(db: Database, marks: Sequence[tuple[str, str]]) -> None:
    """(reader, other party) pairs: the reader's whole conversation with that party is read."""
    if marks:
        await sql.clear_unread(db, [(reader, jid(other)) for reader, other in marks])


async def save_push_tokens(db: Database, registrations: Sequence[tuple[str, str | None]]) -> None:
    """(person, token) in arrival order; None or "" de-registers. The last one per person wins."""
    last: dict[str, str | None] = {}
    for person, token in registrations:
        last[person] = token or None
    upserts = [(person, token) for person, token in last.items() if token is not None]
    deletes = [person for person, token in last.items() if token is None]
    if upserts or deletes:
        await sql.write_push_tokens(db, upserts, deletes)


async def touch_last_online(db: Database, people: Sequence[str], now: dt.datetime) -> None:
    """``person.last_online_time := now`` for everyone seen (auth, heartbeat, disconnect)."""
    if people:
        await sql.set_last_online(db, sorted(set(people)), now)
