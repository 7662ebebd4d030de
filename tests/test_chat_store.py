"""Chat reads and batched writes (chat-protocol §5.2, §5.4–§5.6, §8.3) on real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import struct
import uuid
import zlib

import httpx
import trio

from duo.chat import store
from duo.chat.archive import decode_inbox_content, encode_archived, encode_inbox_content
from duo.chat.pipeline import Accepted, ChatDeps, Submission, VoiceMessage, accept
from duo.chat.stanzas import AUDIO_PLACEHOLDER_BODY, ArchivedMessage, ChatMessage, MamQuery
from duo.reports import archived_body
from duo.services import Services
from tests.factories import User, onboarded_user
from tests.plugins.app import bearer
from tests.plugins.chat import Clock, text
from tests.test_reports import archived


async def converse(deps: ChatDeps, clock: Clock, *turns: tuple[User, User, str]) -> list[Accepted]:
    """Each turn in its own batch; returns what was stored."""
    stored = []
    for n, (sender, recipient, body) in enumerate(turns):
        [outcome] = await accept(deps, [text(sender, recipient, body, f"m-{n}", clock)])
        assert isinstance(outcome, Accepted)
        stored.append(outcome)
    return stored


def page(other: User | None, before: int | None = None, max_: int = 50) -> MamQuery:
    return MamQuery("q42", None if other is None else str(other.uuid), before, max_)


async def test_history_pages_newest_first_sent_oldest_first(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob, carol = [await onboarded_user(svc, n) for n in ("Alice", "Bob", "Carol")]
        sent = await converse(
            deps, clock, (alice, bob, "one"), (bob, alice, "two"), (alice, carol, "elsewhere"),
            (alice, bob, "three"), (bob, alice, "four"), (alice, bob, "five"),
        )
        a = str(alice.uuid)
        newest = await store.history(svc.db, alice.person_id, a, page(bob, max_=2))
        assert [r.message.body for r in newest] == ["four", "five"]
        assert [r.archive_id for r in newest] == [sent[4].archive_id + 1, sent[5].archive_id]  # own copies
        assert {(r.person, r.query_id) for r in newest} == {(a, "q42")}
        assert len({r.frame_id for r in newest}) == 2 and all(uuid.UUID(r.frame_id).version == 4 for r in newest)
        assert newest[0].message == ArchivedMessage(str(bob.uuid), a, "m-4", "four")

        older = await store.history(svc.db, alice.person_id, a, page(bob, before=newest[0].archive_id, max_=2))
        assert [r.message.body for r in older] == ["two", "three"]
        oldest = await store.history(svc.db, alice.person_id, a, page(bob, before=older[0].archive_id))
        assert [r.message.body for r in oldest] == ["one"]
        assert await store.history(svc.db, alice.person_id, a, page(bob, before=oldest[0].archive_id)) == []
        assert await store.history(svc.db, alice.person_id, a, page(bob, max_=0)) == []
        assert await store.history(svc.db, alice.person_id, a, page(None)) == []  # "with" was not a UUID
        # Bob's archive has his own copies of the same conversation
        bobs = await store.history(svc.db, bob.person_id, str(bob.uuid), page(alice))
        assert [r.message.body for r in bobs] == ["one", "two", "three", "four", "five"]


async def test_history_voice_entries_and_legacy_or_broken_blobs(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        a, b = str(alice.uuid), str(bob.uuid)
        voice = VoiceMessage(b, "v-1", "f" * 64)
        [outcome] = await accept(deps, [Submission(a, voice, clock())])
        assert isinstance(outcome, Accepted)
        # a compressed term (as MongooseIM may have written) and a blob that is no term at all
        term = encode_archived(ArchivedMessage(b, a, "legacy", "old times"))
        compressed = b"\x83P" + struct.pack(">I", len(term) - 1) + zlib.compress(term[1:])
        await svc.db.execute(
            """INSERT INTO mam_message (id, person_id, remote_bare_jid, direction, from_jid, message)
               VALUES (1 << 8, $1, $2, 'I', '', $3), (2 << 8, $1, $2, 'I', '', '\\x00ff'::bytea)""",
            alice.person_id, b, compressed,
        )
        entries = await store.history(svc.db, alice.person_id, a, page(bob))
        assert [e.message for e in entries] == [
            ArchivedMessage(b, a, "legacy", "old times"),
            ArchivedMessage(a, b, "v-1", AUDIO_PLACEHOLDER_BODY, "f" * 64),
        ]


async def test_inbox_unread_counts_box_and_displayed(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob, carol = [await onboarded_user(svc, n) for n in ("Alice", "Bob", "Carol")]
        a, b, c = str(alice.uuid), str(bob.uuid), str(carol.uuid)
        await converse(
            deps, clock, (bob, alice, "hi alice"), (carol, alice, "hello from carol"), (bob, alice, "still there?"),
        )
        entries = await store.inbox(svc.db, a, "k9")
        assert [(e.message.sender, e.message.id, e.unread, e.box) for e in entries] == [
            (c, "m-1", 1, "inbox"),  # oldest activity first
            (b, "m-2", 2, "chats"),
        ]
        assert entries[0].timestamp_us < entries[1].timestamp_us
        assert entries[1].message == ArchivedMessage(b, a, "m-2", "still there?")
        assert {(e.person, e.query_id) for e in entries} == {(a, "k9")}

        await store.mark_displayed(svc.db, [(a, b)])
        after = {e.message.sender: e.unread for e in await store.inbox(svc.db, a, "k9")}
        assert after == {c: 1, b: 0}
        # the sender's own row: always chats, nothing unread; the last message in either direction
        [bobs] = await store.inbox(svc.db, b, "k1")
        assert (bobs.box, bobs.unread, bobs.message.id) == ("chats", 0, "m-2")

        await svc.db.execute(
            """INSERT INTO inbox (luser, remote_bare_jid, msg_id, box, content, timestamp, unread_count)
               VALUES ($1, 'x@duolicious.app', 'bad', 'inbox', '<message', 1, 1)""",
            a,
        )
        assert len(await store.inbox(svc.db, a, "k9")) == 2  # the unparsable row is skipped


async def test_inbox_content_round_trips_escaped_text() -> None:
    message = ArchivedMessage(str(uuid.uuid4()), str(uuid.uuid4()), 'id"<&>', "a < b & c > d \"quoted\"")
    content = encode_inbox_content(message)
    assert content.startswith(b'<message xmlns="jabber:client" from="')
    assert decode_inbox_content(content) == message


async def test_inbox_info_agrees_with_the_inbox(
    svc: Services, deps: ChatDeps, clock: Clock, client: httpx.AsyncClient
) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")

        async def where(viewer: User, other: User) -> tuple[str, str]:
            r = await client.post("/inbox-info", json={"person_uuids": [str(other.uuid)]}, headers=bearer(viewer.token))
            assert r.status_code == 200
            [box] = [e.box for e in await store.inbox(svc.db, str(viewer.uuid), "q")]
            return r.json()[0]["conversation_location"], box

        await converse(deps, clock, (alice, bob, "hi bob"))
        assert await where(bob, alice) == ("intros", "inbox")
        await converse(deps, clock, (bob, alice, "hi alice"))
        assert await where(bob, alice) == ("chats", "chats")
        assert await where(alice, bob) == ("chats", "chats")


async def test_push_tokens_last_registration_wins(svc: Services) -> None:
    with trio.fail_after(30):
        a, b, c = (str(uuid.uuid4()) for _ in range(3))
        await store.save_push_tokens(svc.db, [(a, "ExponentPushToken[a1]"), (b, "ExponentPushToken[b1]"), (c, "t")])
        await store.save_push_tokens(svc.db, [
            (a, "ExponentPushToken[a2]"),
            (b, None),  # de-registered, then registered again in the same flush
            (b, "ExponentPushToken[b2]"),
            (c, ""),
        ])
        tokens = {r["username"]: r["token"] for r in await svc.db.fetch("SELECT * FROM duo_push_token")}
        assert tokens == {a: "ExponentPushToken[a2]", b: "ExponentPushToken[b2]"}
        await store.save_push_tokens(svc.db, [(a, "ExponentPushToken[a3]"), (a, None)])
        assert await svc.db.fetchval("SELECT count(*) FROM duo_push_token WHERE username = $1", a) == 0
        await store.save_push_tokens(svc.db, [])


async def test_last_online_batch_update(svc: Services) -> None:
    with trio.fail_after(30):
        alice, bob, carol = [await onboarded_user(svc, n) for n in ("Alice", "Bob", "Carol")]
        at = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        await store.touch_last_online(svc.db, [str(alice.uuid), str(bob.uuid), str(alice.uuid)], at)
        seen = {r["id"]: r["last_online_time"] for r in await svc.db.fetch("SELECT id, last_online_time FROM person")}
        assert seen[alice.person_id] == at and seen[bob.person_id] == at and seen[carol.person_id] != at


async def test_chat_message_ids_up_to_250_are_stored(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        long_id = "x" * 250
        [outcome] = await accept(deps, [Submission(str(alice.uuid), ChatMessage(str(bob.uuid), long_id, "hi"), clock())])
        assert isinstance(outcome, Accepted)
        [entry] = await store.history(svc.db, bob.person_id, str(bob.uuid), page(alice))
        assert entry.message.id == long_id


def test_archive_blob_is_the_exml_term_of_section_9_1() -> None:
    sender = User(token="", person_id=1, uuid=uuid.uuid4(), email="")
    recipient = User(token="", person_id=2, uuid=uuid.uuid4(), email="")
    blob = encode_archived(ArchivedMessage(str(sender.uuid), str(recipient.uuid), "m1", "héllo"))
    assert blob == archived(sender, recipient, "héllo")  # the report tests' hand-built bytes
    assert archived_body(blob) == "héllo"  # what the report e-mail reads


async def test_a_batch_leaves_the_inbox_as_messages_one_by_one(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(60):
        turns = ["ab", "ab", "ba", "ab", "ab", "ba", "ba"]

        async def play(batched: bool, *prefix: str) -> list[tuple[str, str, str, int]]:
            a, b = await onboarded_user(svc, "A"), await onboarded_user(svc, "B")
            pair = {"ab": (a, b), "ba": (b, a)}
            for n, turn in enumerate(prefix):  # earlier rows the batch updates
                await accept(deps, [text(*pair[turn], f"before {n} {a.uuid}", f"p-{n}", clock)])
            subs = [text(*pair[t], f"turn {n} {a.uuid}", f"m-{n}", clock) for n, t in enumerate(turns)]
            outcomes = await accept(deps, subs) if batched else [o for s in subs for o in await accept(deps, [s])]
            assert all(isinstance(o, Accepted) for o in outcomes)
            found = await svc.db.fetch(
                "SELECT luser = $1 AS is_a, msg_id, box, unread_count FROM inbox WHERE luser = ANY($2::text[]) ORDER BY 1",
                str(a.uuid), [str(a.uuid), str(b.uuid)],
            )
            return [(r["is_a"], r["msg_id"], r["box"], r["unread_count"]) for r in found]

        for prefix in ((), ("ab",), ("ba", "ab")):
            assert await play(True, *prefix) == await play(False, *prefix)
        # a single received message creates an "inbox" row; two make it "chats"
        a, b, c = [await onboarded_user(svc, n) for n in ("A", "B", "C")]
        await accept(deps, [text(a, b, "one", "x-1", clock), text(c, b, "two", "y-1", clock), text(c, b, "three", "y-2", clock)])
        boxes = {r["remote_bare_jid"]: (r["box"], r["unread_count"])
                 for r in await svc.db.fetch("SELECT * FROM inbox WHERE luser = $1", str(b.uuid))}
        assert boxes == {f"{a.uuid}@duolicious.app": ("inbox", 1), f"{c.uuid}@duolicious.app": ("chats", 2)}
