"""Restart types, nested supervisors, stop order and owned (spawned) actors, on MockClock."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from duo.actors.runtime import (
    KILLED,
    NORMAL,
    STOPPED,
    ActorCrashed,
    ActorEscalation,
    ActorRef,
    ActorStopped,
    Inbox,
    Restart,
    RestartPolicy,
    Shutdown,
    open_supervisor,
)

FAST = RestartPolicy(max_restarts=2, window_seconds=60, backoff_initial=1, backoff_max=1)


class Boom(Exception):
    pass


class Worker:
    """``"boom"`` crashes, ``"quit"`` returns, anything else takes ``work`` seconds."""

    def __init__(self, work: float = 0.0) -> None:
        self.starts = 0
        self.handled: list[object] = []
        self.finished_at: list[float] = []
        self.work = work

    async def __call__(
        self, inbox: Inbox[object, object], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        self.starts += 1
        task_status.started()
        async for envelope in inbox:
            if envelope.msg == "boom":
                raise Boom("as requested")
            if envelope.msg == "quit":
                return
            await trio.sleep(self.work)
            self.handled.append(envelope.msg)
            if envelope.is_call:
                envelope.reply(envelope.msg)
        self.finished_at.append(trio.current_time())


async def test_transient_restarts_after_a_crash_and_ends_when_it_returns(
    autojump_clock: trio.testing.MockClock,
) -> None:
    worker = Worker()
    async with open_supervisor() as sup:
        ref = await sup.start("t", worker, restart=Restart.TRANSIENT, policy=FAST)
        ref.cast("boom")
        assert await ref.call("after", timeout=10) == "after"
        assert worker.starts == 2
        ref.cast("quit")
        assert await ref.wait_stopped() == NORMAL  # returning is not a crash
        assert len(sup) == 0
    assert worker.starts == 2


async def test_temporary_is_never_restarted(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    worker = Worker()
    async with open_supervisor() as sup:
        ref = await sup.start("session", worker, restart=Restart.TEMPORARY)
        ref.cast("boom")
        reason = await ref.wait_stopped()
        assert isinstance(reason, Boom)
        with pytest.raises(ActorStopped):
            ref.cast("late")
        returning = await sup.start("other", Worker(), restart=Restart.TEMPORARY)
        returning.cast("quit")
        assert await returning.wait_stopped() == NORMAL
        assert sup.children() == []
    assert worker.starts == 1
    assert any("'session' crashed" in r.getMessage() for r in caplog.records)


async def test_temporary_crash_before_ready_raises_from_start(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def broken(
        inbox: Inbox[object, object], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        raise Boom("cannot start")

    async with open_supervisor() as sup:
        with pytest.raises(ActorCrashed) as caught:
            await sup.start("broken", broken, restart=Restart.TEMPORARY)
        assert isinstance(caught.value.__cause__, Boom)
        assert len(sup) == 0


async def test_crash_loop_in_a_child_supervisor_ends_only_that_child(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_supervisor() as root:
        sessions = await root.start_supervisor("sessions")
        looping = await sessions.start("looping", Worker(), policy=FAST)
        steady_worker = Worker()
        steady = await sessions.start("steady", steady_worker)
        for _ in range(3):  # one more crash than the budget allows
            looping.cast("boom")
            await trio.sleep(5)
        reason = await looping.wait_stopped()
        assert isinstance(reason, ActorEscalation)
        assert await steady.call("still here", timeout=1) == "still here"
        assert sessions.children() == [steady]
        assert sessions.ref is not None and sessions.ref.reason is None  # the supervisor lives
    assert any("giving up" in r.getMessage() and "carries on" in r.getMessage() for r in caplog.records)


async def test_escalating_child_supervisor_is_restarted_empty_by_its_parent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_supervisor() as root:
        rooms = await root.start_supervisor("rooms", escalate=True, policy=FAST)
        first_ref = rooms.ref
        room = await rooms.start("room", Worker(), policy=FAST)
        bystander = await rooms.start("bystander", Worker())
        for _ in range(3):
            room.cast("boom")
            await trio.sleep(5)
        assert isinstance(await room.wait_stopped(), ActorEscalation)
        assert await bystander.wait_stopped() == KILLED  # its supervisor crashed
        assert rooms.ref is first_ref and first_ref is not None
        assert first_ref.reason is None  # the parent restarted the same supervisor
        assert rooms.children() == []
        again = await rooms.start("room", Worker())
        assert await again.call("x", timeout=1) == "x"


async def test_temporary_child_supervisor_that_escalates_just_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_supervisor() as root:
        rooms = await root.start_supervisor("rooms", escalate=True, restart=Restart.TEMPORARY)
        room = await rooms.start("room", Worker(), policy=FAST)
        for _ in range(3):
            room.cast("boom")
            await trio.sleep(5)
        assert rooms.ref is not None
        assert isinstance(await rooms.ref.wait_stopped(), BaseExceptionGroup)
        assert root.children() == []
        with pytest.raises(ActorStopped):
            await rooms.start("late", Worker())


async def test_many_short_lived_children_are_forgotten(autojump_clock: trio.testing.MockClock) -> None:
    async with open_supervisor() as root:
        sessions = await root.start_supervisor("sessions")
        refs = [await sessions.start(f"s{i}", Worker(), restart=Restart.TEMPORARY) for i in range(200)]
        assert len(sessions) == 200
        for ref in refs:
            ref.cast("quit")
        for ref in refs:
            await ref.wait_stopped()
        assert len(sessions) == 0
        assert len({ref.id for ref in refs}) == 200  # ids are never reused


async def test_peers_stop_concurrently_and_tiers_in_reverse_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    rooms_worker = [Worker(work=1) for _ in range(3)]
    session_worker = [Worker(work=1) for _ in range(3)]
    async with open_supervisor(grace=30) as root:
        rooms = await root.start_supervisor("rooms")
        sessions = await root.start_supervisor("sessions")
        for i, worker in enumerate(rooms_worker):
            (await rooms.start(f"room{i}", worker)).cast("work")
        for i, worker in enumerate(session_worker):
            ref = await sessions.start(f"session{i}", worker)
            ref.cast("a")
            ref.cast("b")
    # sessions (the later tier) drain together in 2s; rooms had finished their work by then
    assert [w.finished_at for w in session_worker] == [[2], [2], [2]]
    assert [w.finished_at for w in rooms_worker] == [[2], [2], [2]]
    assert [w.handled for w in session_worker] == [["a", "b"]] * 3


async def test_cancel_shutdown_does_not_wait_for_the_queue(
    autojump_clock: trio.testing.MockClock,
) -> None:
    draining = Worker(work=1)
    cancelled = Worker(work=1)
    async with open_supervisor(grace=30) as sup:
        slow = await sup.start("mailer-like", draining)
        fast = await sup.start("session-like", cancelled, shutdown=Shutdown.CANCEL)
        for i in range(3):
            slow.cast(i)
            fast.cast(i)
        assert await fast.stop(grace=30) is True
        assert trio.current_time() == 0
        assert fast.reason == STOPPED
        assert await slow.stop(grace=30) is True
        assert trio.current_time() == pytest.approx(3)
    assert draining.handled == [0, 1, 2] and cancelled.handled == []


async def test_leaving_a_spawn_block_stops_the_actor(autojump_clock: trio.testing.MockClock) -> None:
    worker = Worker()
    async with open_supervisor() as root:
        sessions = await root.start_supervisor("sessions")
        async with sessions.spawn(
            worker, name="session", restart=Restart.TEMPORARY, shutdown=Shutdown.CANCEL
        ) as ref:
            assert await ref.call("hi") == "hi"
            assert len(sessions) == 1
        assert ref.reason == STOPPED
        assert len(sessions) == 0


async def test_owner_cancelled_stops_its_actor(autojump_clock: trio.testing.MockClock) -> None:
    async with open_supervisor() as root:
        sessions = await root.start_supervisor("sessions")
        with trio.move_on_after(5):
            async with sessions.spawn(Worker(), name="session", restart=Restart.TEMPORARY) as ref:
                await trio.sleep_forever()
        assert ref.reason == STOPPED
        assert trio.current_time() == pytest.approx(5)


async def test_actor_ending_cancels_its_owner(autojump_clock: trio.testing.MockClock) -> None:
    async with open_supervisor() as sup:
        async with sup.spawn(Worker(), name="session", restart=Restart.TEMPORARY) as ref:
            ref.cast("quit")
            await trio.sleep_forever()  # the owner's wait, e.g. for the next frame
        assert ref.reason == NORMAL


async def test_actor_crash_is_raised_from_its_owners_block(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_supervisor() as sup:
        with pytest.raises(ActorCrashed) as caught:
            async with sup.spawn(Worker(), name="session", restart=Restart.TEMPORARY) as ref:
                ref.cast("boom")
                await trio.sleep_forever()
        assert isinstance(caught.value.__cause__, Boom)
        assert isinstance(ref.reason, Boom)


async def test_supervisor_shutdown_ends_owned_actors(autojump_clock: trio.testing.MockClock) -> None:
    owner_done = trio.Event()
    refs: list[ActorRef[object, object]] = []

    async def owner(sessions_ready: trio.Event) -> None:
        async with sup.spawn(Worker(), name="session", restart=Restart.TEMPORARY) as ref:
            refs.append(ref)
            sessions_ready.set()
            await trio.sleep_forever()
        owner_done.set()

    async with trio.open_nursery() as nursery:
        async with open_supervisor() as sup:
            ready = trio.Event()
            nursery.start_soon(owner, ready)
            await ready.wait()
        await owner_done.wait()
    assert refs[0].reason == STOPPED


async def test_an_explicit_tier_stops_before_the_peers_below_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    flusher = Worker(work=1)
    peers = [Worker(work=1) for _ in range(2)]
    async with open_supervisor(grace=30) as root:
        sup = await root.start_supervisor("dynamic")
        for i, worker in enumerate(peers):
            (await sup.start(f"peer{i}", worker)).cast("x")
        ref = await sup.start("flusher", flusher, tier=1)
        for item in "abc":
            ref.cast(item)
    # the tier-1 child drains its three items first (3s); the peers then finish at once
    assert flusher.finished_at == [3]
    assert [w.finished_at for w in peers] == [[3], [3]]
    assert [w.handled for w in peers] == [["x"], ["x"]]
