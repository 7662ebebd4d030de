"""Chat reliability (issue 6 §8): a `duo serve` process killed with SIGKILL mid-stream loses
no acknowledged message and its clients carry on at the other process; a fault in one
conversation or one session leaves every other conversation delivering."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed

from duo.actors.runtime import open_supervisor
from duo.chat import pipeline, store
from duo.chat.archive import decode_archived
from duo.chat.room import Pending, Rooms, committer
from duo.chat.stanzas import ChatMessage, MamQuery, ServerError
from duo.services import Services
from duo.sql.database import Database, DbSettings
from tests.chat_client import ChatClient, free_port, signed_in
from tests.chat_processes import alice_and_bob, two_processes
from tests.chat_processes import state_dirs as state_dirs  # noqa: F401 (a fixture)
from tests.factories import User, onboarded_user
from tests.test_chat_e2e import Chat, jid, mam_query
from tests.test_chat_e2e import chat as chat  # noqa: F401 (a fixture)
from tests.test_chat_e2e import config as config  # noqa: F401 (a fixture)
from tests.test_e2e_process import running_duo, started_duo

IN_FLIGHT = 8  # messages sent and not yet acknowledged, at most
KILL_AFTER = 40  # acknowledgements before process A is killed


async def stream_until_closed(client: ChatClient, to: User, acked: list[str], halfway: trio.Event) -> None:
    """Send numbered messages, keeping at most ``IN_FLIGHT`` unacknowledged, until the
    connection drops; every ``duo_message_delivered`` received is appended to ``acked``."""
    window = trio.Semaphore(IN_FLIGHT)

    async def send(cancel: trio.CancelScope) -> None:
        n = 0
        try:
            while True:
                await window.acquire()
                n += 1
                await client.message(to, f"k-{n}", f"steady message number {n}")
        except ConnectionClosed:
            cancel.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(send, nursery.cancel_scope)
        try:
            while True:
                frame = await client.receive()
                assert list(frame) == ["duo_message_delivered"], frame
                acked.append(frame["duo_message_delivered"]["@id"])
                window.release()
                if len(acked) == KILL_AFTER:
                    halfway.set()
        except ConnectionClosed:
            nursery.cancel_scope.cancel()


async def archived_ids(db: Database, sender: User) -> list[str]:
    """The ids of what ``sender`` has sent, as their archive holds it, oldest first."""
    rows = await db.fetch(
        """SELECT m.message, m.audio_uuid FROM mam_message m JOIN person p ON p.id = m.person_id
           WHERE p.uuid = $1 AND m.direction = 'O' ORDER BY m.id""",
        sender.uuid,
    )
    decoded = [decode_archived(row["message"], row["audio_uuid"]) for row in rows]
    return [m.id for m in decoded if m is not None]


async def history_ids(client: ChatClient, other: User) -> list[str]:
    """Every message id of the conversation with ``other``, paged from the newest back."""
    ids: list[str] = []
    before = ""
    while True:
        await client.send(mam_query("h", other, max="50", before=before))
        *page, _ = await client.receive_until("iq")
        if not page:
            return ids
        ids = [m["message"]["result"]["forwarded"]["message"]["@id"] for m in page] + ids
        before = page[0]["message"]["result"]["@id"]


async def next_message(client: ChatClient, id: str) -> dict[str, Any]:
    """The live copy of message ``id``, skipping the copies that arrived before it."""
    while True:
        frame = await client.receive()
        if frame.get("message", {}).get("@id") == id:
            return dict(frame["message"])


async def test_sigkill_mid_stream_loses_no_acknowledged_message(
    pg_server: DbSettings, redis_url: str, aio_loop: None, state_dirs: tuple[Path, Path]
) -> None:
    p = two_processes(pg_server, redis_url, "duo_chat_kill")
    with trio.fail_after(240):
        async with started_duo(state_dirs[0], free_port(), p.env_a) as (proc_a, _, _):
            async with running_duo(state_dirs[1], free_port(), p.env_b):
                alice, bob = await alice_and_bob(p.settings)
                async with signed_in(p.url_b, bob) as b:
                    # Bob speaks first, so Alice's stream is a chat rather than a run of intros
                    await b.message(alice, "hello", "hi Alice")
                    assert await b.receive() == {"duo_message_delivered": {"@id": "hello"}}

                    acked: list[str] = []
                    halfway = trio.Event()
                    async with signed_in(p.url_a, alice) as a, trio.open_nursery() as nursery:
                        nursery.start_soon(stream_until_closed, a, bob, acked, halfway)
                        await halfway.wait()
                        proc_a.kill()
                    assert await proc_a.wait() == -signal.SIGKILL
                    assert len(acked) >= KILL_AFTER
                    assert acked == [f"k-{n}" for n in range(1, len(acked) + 1)]  # in order, none skipped

                    async with Database.open(p.settings, min_size=1, max_size=1) as db:
                        archived = await archived_ids(db, alice)
                    assert set(acked) <= set(archived), sorted(set(acked) - set(archived))

                    # Alice carries on at process B: the history has it all, new messages flow
                    async with signed_in(p.url_b, alice) as a:
                        history = await history_ids(a, bob)
                        assert history[0] == "hello" and set(acked) <= set(history)
                        await a.message(bob, "after", "still here")
                        assert await a.receive() == {"duo_message_delivered": {"@id": "after"}}
                        assert (await next_message(b, "after"))["body"] == "still here"
                        await b.message(alice, "reply", "so I see")
                        assert await b.receive() == {"duo_message_delivered": {"@id": "reply"}}
                        assert (await next_message(a, "reply"))["body"] == "so I see"


@pytest.fixture
async def trio_of_people(svc: Services) -> tuple[User, User, User]:
    return (
        await onboarded_user(svc, "Alice"),
        await onboarded_user(svc, "Bob", gender="Man"),
        await onboarded_user(svc, "Carol"),
    )


async def test_a_conversation_that_keeps_failing_leaves_the_others_delivering(
    chat: Chat, trio_of_people: tuple[User, User, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Storing Alice's messages to Bob raises (a bug, not a database failure): each gets
    ``duo_server_error``, her conversation with Carol keeps delivering, and chat outlives
    more crashes than any actor's restart budget allows."""
    alice, bob, carol = trio_of_people
    faulty = {str(alice.uuid), str(bob.uuid)}
    store_one = pipeline._one

    async def broken_for_one_pair(conn: Any, known: Any, submission: pipeline.Submission, now: Any) -> Any:
        if {submission.sender, submission.message.to} == faulty:
            raise RuntimeError("injected fault")
        return await store_one(conn, known, submission, now)

    monkeypatch.setattr(pipeline, "_one", broken_for_one_pair)
    with trio.fail_after(60):
        async with signed_in(chat.url, alice) as a, signed_in(chat.url, carol) as c:
            for n in range(8):
                await a.message(bob, f"bad-{n}", f"to bob {n}")
                assert await a.receive() == {"duo_server_error": {"@id": f"bad-{n}"}}
                await a.message(carol, f"good-{n}", f"hello Carol, take {n}")
                assert await a.receive() == {"duo_message_delivered": {"@id": f"good-{n}"}}
                assert (await c.receive())["message"]["@id"] == f"good-{n}"
            async with signed_in(chat.url, bob) as b:  # still serving new connections
                await b.next_is_pong()


async def test_a_room_that_fails_after_storing_answers_server_error_and_goes_on(
    chat: Chat, trio_of_people: tuple[User, User, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settling Alice's stored messages to Bob raises before the ack: she gets
    ``duo_server_error`` (stored, but not acknowledged), later messages of that room are
    still answered, and Alice's conversation with Carol is untouched."""
    alice, bob, carol = trio_of_people
    settle = Rooms._settle

    async def broken_for_bob(self: Rooms, pending: Pending, outcome: pipeline.Outcome) -> None:
        if pending.submission.message.to == str(bob.uuid):
            raise RuntimeError("injected fault")
        await settle(self, pending, outcome)

    monkeypatch.setattr(Rooms, "_settle", broken_for_bob)
    with trio.fail_after(60):
        async with signed_in(chat.url, alice) as a, signed_in(chat.url, carol) as c:
            for n in range(3):
                await a.message(bob, f"bad-{n}", f"to bob {n}")
                await a.message(bob, f"worse-{n}", f"again to bob {n}")
                assert await a.receive() == {"duo_server_error": {"@id": f"bad-{n}"}}
                assert await a.receive() == {"duo_server_error": {"@id": f"worse-{n}"}}
                await a.message(carol, f"good-{n}", f"hello Carol, take {n}")
                assert await a.receive() == {"duo_message_delivered": {"@id": f"good-{n}"}}
                assert (await c.receive())["message"]["@id"] == f"good-{n}"
            await a.send(mam_query("q", bob, max="10", before=""))
            *page, _ = await a.receive_until("iq")
            assert len(page) == 6  # stored before the fault


async def test_a_failing_session_ends_alone(
    chat: Chat, trio_of_people: tuple[User, User, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice's history query raises: her session ends with 1011 (internal error, see the
    decisions), Bob and Carol go on talking, and Alice can connect again."""
    alice, bob, carol = trio_of_people
    history = store.history

    async def broken_for_alice(db: Database, person_id: int, person: str, query: MamQuery) -> Any:
        if person == str(alice.uuid):
            raise RuntimeError("injected fault")
        return await history(db, person_id, person, query)

    monkeypatch.setattr(store, "history", broken_for_alice)
    with trio.fail_after(60):
        async with signed_in(chat.url, bob) as b, signed_in(chat.url, carol) as c:
            async with signed_in(chat.url, alice) as a:
                await a.send(mam_query("q", bob, max="10", before=""))
                assert await a.closed_with() == 1011
            await b.message(carol, "m-1", "hi Carol")
            assert await b.receive() == {"duo_message_delivered": {"@id": "m-1"}}
            assert (await c.receive())["message"]["@from"] == jid(bob)
            await c.send(mam_query("q", bob, max="10", before=""))
            *page, _ = await c.receive_until("iq")
            assert [m["message"]["result"]["forwarded"]["message"]["@id"] for m in page] == ["m-1"]
            async with signed_in(chat.url, alice) as a:
                await a.next_is_pong()


async def test_a_faulty_batch_fails_none_of_the_batches_stored_with_it(
    svc: Services, trio_of_people: tuple[User, User, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rooms' batches queued behind a busy storage lane go into one ``accept``; the
    fault in Alice–Bob's batch fails only that one, Bob–Carol's is stored."""
    alice, bob, carol = trio_of_people
    busy, release = trio.Event(), trio.Event()
    accept, store_one = pipeline.accept, pipeline._one

    async def hold_first(deps: pipeline.ChatDeps, batch: list[pipeline.Submission]) -> list[pipeline.Outcome]:
        if batch[0].message.id == "first":
            busy.set()
            await release.wait()
        return await accept(deps, batch)

    async def break_one_pair(conn: Any, known: Any, submission: pipeline.Submission, now: Any) -> Any:
        if submission.message.id == "bad":  # on the database's side of the bridge: no trio here
            raise RuntimeError("injected fault")
        return await store_one(conn, known, submission, now)

    monkeypatch.setattr(pipeline, "accept", hold_first)
    monkeypatch.setattr(pipeline, "_one", break_one_pair)

    def batch(sender: User, to: User, id: str) -> list[pipeline.Submission]:
        return [pipeline.Submission(str(sender.uuid), ChatMessage(str(to.uuid), id, f"message {id}"), svc.now())]

    outcomes: dict[str, list[pipeline.Outcome]] = {}
    with trio.fail_after(30):
        async with open_supervisor() as supervisor:
            lane = await supervisor.start("lane", committer(pipeline.ChatDeps(db=svc.db, now=svc.now)))

            async def store_batch(b: list[pipeline.Submission]) -> None:
                outcomes[b[0].message.id] = await lane.call(b)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(store_batch, batch(alice, carol, "first"))
                await busy.wait()
                nursery.start_soon(store_batch, batch(alice, bob, "bad"))
                nursery.start_soon(store_batch, batch(bob, carol, "good"))
                await trio.testing.wait_all_tasks_blocked()
                assert lane.queued() == 2  # both wait for the lane: its next accept takes both
                release.set()

    assert outcomes["bad"] == [ServerError("bad")]
    for id in ("first", "good"):
        (outcome,) = outcomes[id]
        assert isinstance(outcome, pipeline.Accepted) and outcome.message.id == id
    assert await archived_ids(svc.db, bob) == ["good"]
