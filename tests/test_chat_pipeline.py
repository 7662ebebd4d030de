"""The message-acceptance pipeline (chat-protocol §7, §8.4–§8.8, §9.1) on real PostgreSQL.

The clock is injected (tests.plugins.chat): it ticks 1 ms per reading and tests move it to
cross the 1-day and 7-day windows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import trio

from duo.chat import stanzas as st
from duo.chat.archive import decode_archived, decode_inbox_content, micros
from duo.chat.pipeline import (
    Accepted,
    AudioFailed,
    ChatDeps,
    Ignored,
    Outcome,
    Submission,
    VoiceMessage,
    accept,
    intro_hash,
    prepare_audio,
)
from duo.chat.push import PushMessage
from duo.media.audio import audio_key
from duo.services import Services
from duo.sql.database import Database
from tests.factories import User, onboarded_user
from tests.plugins.chat import Clock, text
from tests.test_media_audio import b64, sine


def typing(sender: User, recipient: User, clock: Clock) -> Submission:
    return Submission(str(sender.uuid), st.Typing(str(recipient.uuid), "t-1"), clock())


async def one(deps: ChatDeps, submission: Submission) -> Outcome:
    [outcome] = await accept(deps, [submission])
    return outcome


async def rows(db: Database, query: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in await db.fetch(query, *args)]


async def people(svc: Services, n: int) -> list[int]:
    """``n`` bare people (no session, no preferences) to start conversations with."""
    found = await svc.db.fetch(
        """INSERT INTO person (email, normalized_email, name, date_of_birth, latitude, longitude,
                               gender_id, about, unit_id)
           SELECT 'p' || i || '-' || $2 || '@example.com', 'p' || i || '-' || $2 || '@example.com',
                  'P' || i, '1990-01-01', 0, 0, 1, '', 1
           FROM generate_series(1, $1) i RETURNING id""",
        n,
        uuid.uuid4().hex,
    )
    return [r["id"] for r in found]


async def started_conversations(svc: Services, sender: User, n: int, at: dt.datetime) -> None:
    """``sender`` messaged ``n`` new people at ``at`` (none of them answered)."""
    for other in await people(svc, n):
        await svc.db.execute(
            "INSERT INTO messaged (subject_person_id, object_person_id, created_at) VALUES ($1, $2, $3)",
            sender.person_id, other, at,
        )


async def test_first_message_is_stored_as_an_intro(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        submission = text(alice, bob, "Hi! Loved your answer about cats.", "m-17", clock)
        outcome = await one(deps, submission)

        a, b = str(alice.uuid), str(bob.uuid)
        assert isinstance(outcome, Accepted)
        assert outcome.intro is True
        assert outcome.push is None  # Bob's intros preference defaults to daily
        assert outcome.archive_id == micros(submission.received_at) << 8
        assert outcome.sent_at == submission.received_at
        assert outcome.delivered == st.MessageDelivered("m-17")
        assert outcome.incoming == st.IncomingMessage(a, b, "m-17", "Hi! Loved your answer about cats.")

        archive = await rows(svc.db, "SELECT * FROM mam_message ORDER BY id")
        assert [(r["id"], r["person_id"], r["remote_bare_jid"], r["direction"], r["from_jid"]) for r in archive] == [
            (outcome.archive_id, alice.person_id, b, "O", ""),
            (outcome.archive_id + 1, bob.person_id, a, "I", ""),
        ]
        assert all(r["search_body"] == "hi loved your answer about cats" and r["audio_uuid"] is None for r in archive)
        assert decode_archived(archive[0]["message"], None) == st.ArchivedMessage(a, b, "m-17", "Hi! Loved your answer about cats.")

        inbox = await rows(svc.db, "SELECT * FROM inbox ORDER BY luser = $1 DESC", a)
        assert [(r["luser"], r["remote_bare_jid"], r["msg_id"], r["box"], r["unread_count"]) for r in inbox] == [
            (a, f"{b}@duolicious.app", "m-17", "chats", 0),
            (b, f"{a}@duolicious.app", "m-17", "inbox", 1),
        ]
        assert inbox[0]["content"] == inbox[1]["content"]
        assert decode_inbox_content(inbox[0]["content"]) == st.ArchivedMessage(a, b, "m-17", "Hi! Loved your answer about cats.")
        assert inbox[0]["timestamp"] == inbox[1]["timestamp"]

        assert await rows(svc.db, "SELECT subject_person_id, object_person_id FROM messaged") == [
            {"subject_person_id": alice.person_id, "object_person_id": bob.person_id}
        ]
        assert await svc.db.fetchval("SELECT hash FROM intro_hash") == intro_hash("Hi! Loved your answer about cats.")


async def test_intro_until_the_other_side_replies(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        first = await one(deps, text(alice, bob, "hello bob", "m-1", clock))
        second = await one(deps, text(alice, bob, "are you there", "m-2", clock))
        reply = await one(deps, text(bob, alice, "yes hi", "m-3", clock))
        after = await one(deps, text(alice, bob, "great", "m-4", clock))
        assert [o.intro for o in (first, second, reply, after) if isinstance(o, Accepted)] == [True, True, False, False]
        # Bob answering first made Alice's next message no intro; so does a reply in the same batch
        carol = await onboarded_user(svc, "Carol")
        outcomes = await accept(deps, [
            text(carol, alice, "hey alice", "c-1", clock),
            text(alice, carol, "hey carol", "c-2", clock),
            text(carol, alice, "how are you", "c-3", clock),
        ])
        assert [o.intro for o in outcomes if isinstance(o, Accepted)] == [True, False, False]


async def test_box_flips_to_chats_on_the_second_message(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        a, b = str(alice.uuid), str(bob.uuid)

        async def bobs_row() -> tuple[str, int, str]:
            row = await svc.db.fetchrow("SELECT box, unread_count, msg_id FROM inbox WHERE luser = $1", b)
            assert row is not None
            return row["box"], row["unread_count"], row["msg_id"]

        await one(deps, text(alice, bob, "first intro", "m-1", clock))
        assert await bobs_row() == ("inbox", 1, "m-1")
        await one(deps, text(alice, bob, "second unanswered intro", "m-2", clock))
        assert await bobs_row() == ("chats", 2, "m-2")  # kept: the digest depends on it
        await one(deps, text(bob, alice, "a reply", "m-3", clock))
        assert await bobs_row() == ("chats", 0, "m-3")  # the sender's own row: 0 unread
        alice_row = await svc.db.fetchrow("SELECT box, unread_count FROM inbox WHERE luser = $1", a)
        assert alice_row is not None and (alice_row["box"], alice_row["unread_count"]) == ("chats", 1)


async def test_unknown_people_are_ignored_and_self_messages_rejected(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc, "Alice")
        nobody = str(uuid.uuid4())
        ghost = Submission(nobody, st.ChatMessage(str(alice.uuid), "g-1", "boo"), clock())
        outcomes = await accept(deps, [
            text(alice, nobody, "anyone?", "m-1", clock),
            ghost,
            text(alice, alice, "note to self", "m-2", clock),
        ])
        assert outcomes == [Ignored(), Ignored(), st.MessageBlocked("m-2")]
        assert await svc.db.fetchval("SELECT count(*) FROM mam_message") == 0


async def test_verification_required_blocks_chat_and_typing(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc, "Alice", verification_required=True)
        verified = await onboarded_user(svc, "Vera", verification_required=True, verification_level_id=2)
        bob = await onboarded_user(svc, "Bob")
        outcomes = await accept(deps, [
            text(alice, bob, "hello", "m-1", clock),
            typing(alice, bob, clock),
            text(verified, bob, "hello from vera", "m-2", clock),
        ])
        assert outcomes[:2] == [st.MessageBlocked("m-1", "age-verification"), st.MessageBlocked("t-1", "age-verification")]
        assert isinstance(outcomes[2], Accepted)


async def test_blocks_in_either_direction(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob, carol = [await onboarded_user(svc, n) for n in ("Alice", "Bob", "Carol")]
        await svc.db.execute(
            "INSERT INTO skipped (subject_person_id, object_person_id, reported) VALUES ($1, $2, TRUE)",
            bob.person_id, alice.person_id,
        )
        outcomes = await accept(deps, [
            text(alice, bob, "x" * 6000, "m-1", clock),  # the block decides before the length
            text(bob, alice, "sorry", "m-2", clock),
            typing(alice, bob, clock),
            typing(alice, carol, clock),
        ])
        assert outcomes == [
            st.MessageBlocked("m-1"),
            st.MessageBlocked("m-2"),
            st.MessageBlocked("t-1"),
            st.IncomingTyping(str(alice.uuid), str(carol.uuid), "t-1"),
        ]
        assert await svc.db.fetchval("SELECT count(*) FROM mam_message") == 0  # typing is never stored
        assert await svc.db.fetchval("SELECT count(*) FROM inbox") == 0


async def test_length_limit_is_5000_code_points(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        outcomes = await accept(deps, [
            text(alice, bob, "é" * 5001, "m-1", clock),
            text(alice, bob, "🙂" * 4999 + "a", "m-2", clock),
        ])
        assert outcomes[0] == st.MessageTooLong("m-1")
        assert isinstance(outcomes[1], Accepted)


async def test_offensive_intro_is_blocked_and_recorded(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        assert await one(deps, text(alice, bob, "hey you b1tch", "m-1", clock)) == st.MessageBlocked("m-1", "offensive")
        assert await rows(svc.db, "SELECT person_id, message FROM rude_message") == [
            {"person_id": alice.person_id, "message": "hey you b1tch"}
        ]
        assert await svc.db.fetchval("SELECT count(*) FROM intro_hash") == 0  # not checked that far
        # once Bob has answered, the same words are no intro and pass
        await one(deps, text(bob, alice, "hello", "m-2", clock))
        assert isinstance(await one(deps, text(alice, bob, "hey you b1tch", "m-3", clock)), Accepted)


async def test_spam_intro_depends_on_trust(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        now = clock.at
        spam = "You should join discord.gg/spaghetti"
        new = await onboarded_user(svc, "New", sign_up_time=now - dt.timedelta(hours=23))
        old = await onboarded_user(svc, "Old", sign_up_time=now - dt.timedelta(hours=25))
        basics = await onboarded_user(svc, "Basics", verification_level_id=2, sign_up_time=now - dt.timedelta(hours=7))
        photos_new = await onboarded_user(svc, "PhotosNew", verification_level_id=3, sign_up_time=now - dt.timedelta(hours=2))
        photos = await onboarded_user(svc, "Photos", verification_level_id=3, sign_up_time=now - dt.timedelta(hours=3))
        bob = await onboarded_user(svc, "Bob")
        outcomes = await accept(deps, [
            text(sender, bob, f"{spam} ({n})", f"m-{n}", clock)
            for n, sender in enumerate((new, old, basics, photos_new, photos))
        ])
        assert outcomes[0] == st.MessageBlocked("m-0", "spam")
        assert outcomes[3] == st.MessageBlocked("m-3", "spam")
        assert all(isinstance(outcomes[i], Accepted) for i in (1, 2, 4))
        # a reply may carry the link
        assert isinstance(await one(deps, text(bob, new, "hello new", "r-1", clock)), Accepted)
        assert isinstance(await one(deps, text(new, bob, spam, "r-2", clock)), Accepted)
        # exactly one very safe URL is no spam
        carol = await onboarded_user(svc, "Carol")
        assert isinstance(await one(deps, text(new, carol, "tenor.com", "m-9", clock)), Accepted)


@pytest.mark.parametrize(
    ("level", "limit", "subreason"),
    [(1, 10, "unverified-basics"), (2, 20, "unverified-photos"), (3, 30, None)],
)
async def test_intro_rate_limit_by_level(
    svc: Services, deps: ChatDeps, clock: Clock, level: int, limit: int, subreason: str | None
) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc, "Alice", verification_level_id=level)
        bob, carol = await onboarded_user(svc, "Bob"), await onboarded_user(svc, "Carol")
        await started_conversations(svc, alice, limit - 1, clock.at - dt.timedelta(hours=23))
        outcomes = await accept(deps, [
            text(alice, bob, "one more is fine", "m-1", clock),
            text(alice, carol, "but not two", "m-2", clock),
            text(alice, bob, "nor a follow-up", "m-3", clock),
        ])
        assert isinstance(outcomes[0], Accepted)
        assert outcomes[1:] == [
            st.MessageBlocked("m-2", "rate-limited-1day", subreason),  # type: ignore[arg-type]
            st.MessageBlocked("m-3", "rate-limited-1day", subreason),  # type: ignore[arg-type]
        ]
        # a reply is no intro and is never limited
        await one(deps, text(carol, alice, "hi alice", "c-1", clock))
        assert isinstance(await one(deps, text(alice, carol, "hi carol", "m-4", clock)), Accepted)


async def test_rate_limit_window_and_what_counts(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc, "Alice")
        bob = await onboarded_user(svc, "Bob")
        await started_conversations(svc, alice, 30, clock.at - dt.timedelta(hours=25))  # yesterday: not counted
        await started_conversations(svc, alice, 9, clock.at - dt.timedelta(hours=1))
        # a conversation the other person started does not count for Alice
        dave = await onboarded_user(svc, "Dave")
        await svc.db.execute(
            """INSERT INTO messaged (subject_person_id, object_person_id, created_at)
               VALUES ($1, $2, $3), ($2, $1, $4)""",
            dave.person_id, alice.person_id, clock.at - dt.timedelta(hours=3), clock.at - dt.timedelta(hours=2),
        )
        assert isinstance(await one(deps, text(alice, bob, "tenth", "m-1", clock)), Accepted)
        carol = await onboarded_user(svc, "Carol")
        assert await one(deps, text(alice, carol, "eleventh", "m-2", clock)) == st.MessageBlocked(
            "m-2", "rate-limited-1day", "unverified-basics"
        )
        clock.advance(hours=23)  # the nine fall out of the window; bob's is 23 h old
        assert isinstance(await one(deps, text(alice, carol, "eleventh, later", "m-3", clock)), Accepted)


async def test_intros_accepted_earlier_in_a_batch_count(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc, "Alice")
        others = [await onboarded_user(svc, f"P{i}") for i in range(11)]
        outcomes = await accept(deps, [text(alice, p, f"hello number {i}", f"m-{i}", clock) for i, p in enumerate(others)])
        assert all(isinstance(o, Accepted) for o in outcomes[:10])
        assert outcomes[10] == st.MessageBlocked("m-10", "rate-limited-1day", "unverified-basics")


async def test_reports_and_rude_messages_lower_the_limit(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc, "Alice")  # level 1: 10 a day
        bob = await onboarded_user(svc, "Bob")
        reporter, bot = await onboarded_user(svc, "Rita"), await onboarded_user(svc, "Bot", roles=["bot"])
        old_reporter = await onboarded_user(svc, "Olga")
        for who, days in ((reporter, 1), (bot, 1), (old_reporter, 8)):
            await svc.db.execute(
                """INSERT INTO skipped (subject_person_id, object_person_id, reported, created_at)
                   VALUES ($1, $2, TRUE, $3)""",
                who.person_id, alice.person_id, clock.at - dt.timedelta(days=days),
            )
        # one counted report: E = 10 / 2 = 5
        await started_conversations(svc, alice, 4, clock.at - dt.timedelta(hours=1))
        assert isinstance(await one(deps, text(alice, bob, "fifth", "m-1", clock)), Accepted)
        carol = await onboarded_user(svc, "Carol")
        assert await one(deps, text(alice, carol, "sixth", "m-2", clock)) == st.MessageBlocked(
            "m-2", "rate-limited-1day", "unverified-basics"
        )
        # two rude messages in the last day halve it again (E = 2); three more reports make it 0
        for hours in (2, 3):
            await svc.db.execute(
                "INSERT INTO rude_message (person_id, message, created_at) VALUES ($1, 'x', $2)",
                alice.person_id, clock.at - dt.timedelta(hours=hours),
            )
        for i in range(3):
            extra = await onboarded_user(svc, f"R{i}")
            await svc.db.execute(
                "INSERT INTO skipped (subject_person_id, object_person_id, reported, created_at) VALUES ($1, $2, TRUE, $3)",
                extra.person_id, alice.person_id, clock.at - dt.timedelta(hours=1),
            )
        assert await one(deps, text(alice, carol, "seventh", "m-3", clock)) == st.MessageBlocked("m-3", "rate-limited-1day")


async def test_duplicate_intros_robot9000(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob, carol, dave = [await onboarded_user(svc, n) for n in ("Alice", "Bob", "Carol", "Dave")]
        assert intro_hash("Hello there, FRIEND!!") == intro_hash("hellllo  there friend")
        outcomes = await accept(deps, [
            text(alice, bob, "Hello there, FRIEND!!", "m-1", clock),
            text(carol, dave, "hellllo  there friend", "m-2", clock),  # same text in the same batch
        ])
        assert isinstance(outcomes[0], Accepted)
        assert outcomes[1] == st.MessageNotUnique("m-2")
        clock.advance(days=6)
        assert await one(deps, text(carol, bob, "hello there friend", "m-3", clock)) == st.MessageNotUnique("m-3")
        clock.advance(days=6)  # the failed attempt six days ago refreshed the hash
        assert await one(deps, text(dave, bob, "hello there friend", "m-4", clock)) == st.MessageNotUnique("m-4")
        clock.advance(days=8)
        assert isinstance(await one(deps, text(dave, alice, "hello there friend", "m-5", clock)), Accepted)
        # a reply is never checked and does not touch the table
        await one(deps, text(bob, alice, "hi", "r-1", clock))
        assert isinstance(await one(deps, text(alice, bob, "hello there friend", "r-2", clock)), Accepted)
        assert isinstance(await one(deps, text(bob, alice, "x", "r-3", clock)), Accepted)
        assert await svc.db.fetchval("SELECT count(*) FROM intro_hash WHERE hash = $1", intro_hash("x")) == 0
        # emoji-only intros all share the empty hash
        first = await one(deps, text(alice, carol, "🙂", "e-1", clock))
        assert isinstance(first, Accepted)
        assert await one(deps, text(bob, carol, "🎉🎉", "e-2", clock)) == st.MessageNotUnique("e-2")


async def test_one_failing_message_does_not_lose_the_others(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        first, second, third = (text(alice, bob, body, f"m-{n}", clock) for n, body in enumerate(("one", "two", "three")))
        # an archive row already holds the second message's id (same microsecond, §Open questions 8)
        await svc.db.execute(
            """INSERT INTO mam_message (id, person_id, remote_bare_jid, direction, from_jid, message)
               VALUES ($1, $2, 'someone', 'O', '', '\\x00'::bytea)""",
            micros(second.received_at) << 8, alice.person_id,
        )
        outcomes = await accept(deps, [first, second, third])
        assert isinstance(outcomes[0], Accepted) and isinstance(outcomes[2], Accepted)
        assert outcomes[1] == st.ServerError("m-1")
        stored = await rows(svc.db, "SELECT DISTINCT search_body FROM mam_message WHERE search_body IS NOT NULL ORDER BY 1")
        assert [r["search_body"] for r in stored] == ["one", "three"]
        inbox = await svc.db.fetchrow("SELECT msg_id, unread_count FROM inbox WHERE luser = $1", str(bob.uuid))
        assert inbox is not None and (inbox["msg_id"], inbox["unread_count"]) == ("m-2", 2)


async def test_an_empty_batch_touches_nothing(db: Database, clock: Clock) -> None:
    with trio.fail_after(30):
        assert await accept(ChatDeps(Database(db.settings), clock), []) == []  # not even the pool


async def test_a_batch_that_cannot_reach_the_database(db: Database, clock: Clock) -> None:
    with trio.fail_after(30):
        offline = Database(db.settings)  # never connected
        a, b = str(uuid.uuid4()), str(uuid.uuid4())
        outcomes = await accept(ChatDeps(offline, clock), [
            Submission(a, st.ChatMessage(b, "m-1", "hi"), clock()),
            Submission(a, st.Typing(b, "t-1"), clock()),
        ])
        assert outcomes == [st.ServerError("m-1"), Ignored()]


async def test_equal_receive_times_get_distinct_archive_ids(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        at = clock()
        outcomes = await accept(deps, [
            Submission(str(alice.uuid), st.ChatMessage(str(bob.uuid), f"m-{i}", f"message {i}"), at) for i in range(3)
        ])
        ids = [o.archive_id for o in outcomes if isinstance(o, Accepted)]
        assert ids == [micros(at) << 8, (micros(at) + 1) << 8, (micros(at) + 2) << 8]


async def test_push_when_the_recipient_wants_it_now(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc, "Alice")
        bob = await onboarded_user(svc, "Bob", intros_notification=1)
        carol = await onboarded_user(svc, "Carol", intros_notification=1)  # no token
        dave = await onboarded_user(svc, "Dave")  # intros daily, chats immediately (defaults)
        await svc.db.execute(
            """INSERT INTO photo (person_id, position, uuid, blurhash, hash)
               VALUES ($1, 2, 'second', 'b2', 'h'), ($1, 1, 'first', 'b1', 'h')""",
            alice.person_id,
        )
        await svc.db.execute(
            "INSERT INTO duo_push_token (username, token) VALUES ($1, 'ExponentPushToken[bob]'), ($2, 'ExponentPushToken[dave]')",
            str(bob.uuid), str(dave.uuid),
        )
        long_body = "line\n" * 30
        outcomes = await accept(deps, [
            text(alice, bob, long_body, "m-1", clock),
            text(alice, carol, "hi carol", "m-2", clock),
            text(alice, dave, "hi dave", "m-3", clock),
        ])
        now = clock.at
        bob_push, carol_push, dave_push = (o.push for o in outcomes if isinstance(o, Accepted))
        assert carol_push is None and dave_push is None
        assert bob_push == PushMessage(
            username=str(bob.uuid),
            token="ExponentPushToken[bob]",
            title="Alice sent you a message",
            body=("line\n" * 20).strip() + "...",
            data={"screen": "Conversation Screen", "params": {
                "personId": alice.person_id, "personUuid": str(alice.uuid), "name": "Alice",
                "photoUuid": "first", "photoBlurhash": "b1", "imageUuid": "first", "imageBlurhash": "b1",
            }},
        )
        notified = await svc.db.fetchrow("SELECT * FROM duo_last_notification WHERE username = $1", str(bob.uuid))
        assert notified is not None and notified["chat_seconds"] == 0
        assert abs(notified["intro_seconds"] - (int(now.timestamp()) + 5)) <= 1
        # Dave answers: now a chat for Alice, whose chats preference is "Immediately"
        await svc.db.execute("INSERT INTO duo_push_token (username, token) VALUES ($1, 'ExponentPushToken[alice]')", str(alice.uuid))
        reply = await one(deps, text(dave, alice, "hi alice", "m-4", clock))
        assert isinstance(reply, Accepted) and reply.push is not None
        assert reply.push.body == "hi alice" and reply.push.data["params"]["photoUuid"] is None
        chat_notified = await svc.db.fetchrow("SELECT * FROM duo_last_notification WHERE username = $1", str(alice.uuid))
        assert chat_notified is not None and chat_notified["intro_seconds"] == 0 and chat_notified["chat_seconds"] > 0


async def test_voice_message_is_uploaded_then_stored(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(60):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        upload = st.AudioMessage(str(bob.uuid), "v-1", "data:audio/wav;base64," + b64(sine("wav", "pcm_s16le", 1.0)))
        voice = await prepare_audio(svc.media, svc.storage, upload)
        assert voice.to == str(bob.uuid) and voice.id == "v-1" and len(voice.audio_uuid) == 64
        assert await svc.storage.get("audio", audio_key(voice.audio_uuid))

        outcome = await one(deps, Submission(str(alice.uuid), voice, clock()))
        assert isinstance(outcome, Accepted)
        assert outcome.delivered == st.MessageDelivered("v-1", voice.audio_uuid)
        assert outcome.incoming.body == st.AUDIO_PLACEHOLDER_BODY and outcome.incoming.audio_uuid == voice.audio_uuid
        assert await svc.db.fetchval("SELECT count(*) FROM mam_message WHERE audio_uuid = $1", voice.audio_uuid) == 2
        assert await svc.db.fetchval("SELECT count(*) FROM intro_hash") == 0  # voice intros are always unique

        with pytest.raises(AudioFailed):
            await prepare_audio(svc.media, svc.storage, st.AudioMessage(str(bob.uuid), "v-2", "not base64!"))


async def test_refused_voice_messages_queue_their_object(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        await svc.db.execute(
            "INSERT INTO skipped (subject_person_id, object_person_id) VALUES ($1, $2)", bob.person_id, alice.person_id
        )
        voice = VoiceMessage(str(bob.uuid), "v-1", "a" * 64)
        assert await one(deps, Submission(str(alice.uuid), voice, clock())) == st.MessageBlocked("v-1")
        assert await svc.db.fetchval("SELECT uuid FROM undeleted_audio") == "a" * 64


async def test_voice_intros_are_rate_limited_too(svc: Services, deps: ChatDeps, clock: Clock) -> None:
    with trio.fail_after(30):
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        await started_conversations(svc, alice, 10, clock.at - dt.timedelta(hours=2))
        voice = VoiceMessage(str(bob.uuid), "v-1", "b" * 64)
        assert await one(deps, Submission(str(alice.uuid), voice, clock())) == st.MessageBlocked(
            "v-1", "rate-limited-1day", "unverified-basics"
        )
        assert await svc.db.fetchval("SELECT uuid FROM undeleted_audio") == "b" * 64
