"""Mailbox overflow policies, calls under the caller's cancel scope, and monitors (MockClock)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from duo.actors.runtime import (
    KILLED,
    NORMAL,
    OVERFLOW,
    STOPPED,
    ActorRef,
    ActorStopped,
    Down,
    Inbox,
    MailboxFull,
    Overflow,
    Restart,
    Shutdown,
    open_supervisor,
)


class Gate:
    """An actor that handles nothing until ``open`` is set; records what it handled."""

    def __init__(self) -> None:
        self.open = trio.Event()
        self.handled: list[object] = []

    async def __call__(
        self, inbox: Inbox[object, object], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        await self.open.wait()
        async for envelope in inbox:
            if envelope.msg == "quit":
                return
            self.handled.append(envelope.msg)
            if envelope.is_call:
                envelope.reply(envelope.msg)


async def test_drop_oldest_keeps_the_newest(autojump_clock: trio.testing.MockClock) -> None:
    gate = Gate()
    async with open_supervisor() as sup:
        ref = await sup.start("typing", gate, capacity=3, overflow=Overflow.DROP_OLDEST)
        for i in range(5):
            ref.cast(i)
        assert ref.queued() == 3
        gate.open.set()
        assert await ref.call("last", timeout=1) == "last"
    assert gate.handled == [2, 3, 4, "last"]


async def test_a_dropped_call_fails_its_caller(autojump_clock: trio.testing.MockClock) -> None:
    gate = Gate()
    async with open_supervisor() as sup:
        ref = await sup.start("typing", gate, capacity=1, overflow=Overflow.DROP_OLDEST)
        async with trio.open_nursery() as nursery:

            async def caller() -> None:
                with pytest.raises(MailboxFull):
                    await ref.call("dropped", timeout=10)

            nursery.start_soon(caller)
            await trio.testing.wait_all_tasks_blocked()
            ref.cast("newer")
        gate.open.set()
        assert await ref.call("x", timeout=1) == "x"
    assert gate.handled == ["newer", "x"]


async def test_disconnect_stops_a_slow_consumer(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_supervisor() as sup:
        async with sup.spawn(
            Gate(), name="slow session", capacity=2, overflow=Overflow.DISCONNECT,
            restart=Restart.TEMPORARY, shutdown=Shutdown.CANCEL,
        ) as ref:
            ref.cast(1)
            ref.cast(2)
            with pytest.raises(ActorStopped, match="overflow"):
                ref.cast(3)
            await trio.sleep_forever()  # the owner is told: its block is cancelled
        assert ref.reason == OVERFLOW
        assert len(sup) == 0
    assert any("does not keep up" in r.getMessage() for r in caplog.records)


async def test_call_without_timeout_and_the_callers_cancel_scope(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gate = Gate()
    async with open_supervisor() as sup:
        ref = await sup.start("gate", gate)
        with trio.move_on_after(3) as scope:
            await ref.call("abandoned")  # no timeout of its own: the caller's scope rules
        assert scope.cancelled_caught and trio.current_time() == pytest.approx(3)
        gate.open.set()
        assert await ref.call("answered") == "answered"
    assert gate.handled == ["answered"]  # the abandoned call was skipped, not answered


async def test_a_call_abandoned_while_handled_is_visible_to_the_actor(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[bool] = []

    async def slow(
        inbox: Inbox[str, str], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        async for envelope in inbox:
            await trio.sleep(5)
            seen.append(envelope.abandoned)
            envelope.reply("late")  # harmless: nobody waits

    async with open_supervisor() as sup:
        ref = await sup.start("slow", slow)
        with trio.move_on_after(1):
            await ref.call("x")
        await trio.sleep(10)
    assert seen == [True]


async def test_waiting_calls_fail_when_the_actor_stops(autojump_clock: trio.testing.MockClock) -> None:
    gate = Gate()  # never opened: stuck before reading its inbox
    failures: list[BaseException] = []
    async with open_supervisor() as sup:
        ref = await sup.start("stuck", gate)

        async def caller(msg: str) -> None:
            try:
                await ref.call(msg)
            except ActorStopped as e:
                failures.append(e)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(caller, "a")
            nursery.start_soon(caller, "b")
            await trio.testing.wait_all_tasks_blocked()
            assert await ref.stop(grace=2) is False  # the grace period ends
    assert len(failures) == 2 and ref.reason == KILLED
    assert trio.current_time() == pytest.approx(2)


async def test_a_call_waiting_for_room_fails_when_the_actor_stops(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_supervisor() as sup:
        ref = await sup.start("full", Gate(), capacity=1, shutdown=Shutdown.CANCEL)
        ref.cast("fills it")
        async with trio.open_nursery() as nursery:

            async def caller() -> None:
                with pytest.raises(ActorStopped):
                    await ref.call("no room")

            nursery.start_soon(caller)
            await trio.testing.wait_all_tasks_blocked()
            await ref.stop(grace=1)


async def test_wait_stopped_and_monitors(autojump_clock: trio.testing.MockClock) -> None:
    downs: list[Down] = []

    async def watcher(
        inbox: Inbox[Down, None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        async for envelope in inbox:
            downs.append(envelope.msg)

    send, receive = trio.open_memory_channel[Down](10)
    gate = Gate()
    gate.open.set()
    async with open_supervisor() as sup:
        watching: ActorRef[Down, None] = await sup.start("watcher", watcher)
        ref = await sup.start("watched", gate, restart=Restart.TRANSIENT)
        ref.monitor(watching)
        ref.monitor(send)
        unwatched = trio.open_memory_channel[Down](1)[0]
        ref.monitor(unwatched)
        ref.demonitor(unwatched)
        ref.cast("quit")
        assert await ref.wait_stopped() == NORMAL
        assert receive.receive_nowait() == Down(ref, NORMAL)
        ref.monitor(send)  # already ended: told at once
        assert receive.receive_nowait() == Down(ref, NORMAL)
        await watching.stop(grace=1)
        assert watching.reason == STOPPED
    assert downs == [Down(ref, NORMAL)]
    assert unwatched.statistics().current_buffer_used == 0


async def test_a_full_monitor_channel_never_blocks_the_end(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    send, _receive = trio.open_memory_channel[Down](0)
    async with open_supervisor() as sup:
        ref = await sup.start("watched", Gate(), restart=Restart.TEMPORARY)
        ref.monitor(send)
        ref.kill()
        assert await ref.wait_stopped() == KILLED
    assert any("missed its Down" in r.getMessage() for r in caplog.records)


async def test_a_failing_watcher_does_not_silence_the_others(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    told: list[object] = []

    def broken(ref: ActorRef[object, object], reason: object) -> None:
        raise RuntimeError("watcher bug")

    async with open_supervisor() as sup:
        ref = await sup.start("watched", Gate(), restart=Restart.TEMPORARY)
        ref.watch("broken", broken)
        ref.watch("fine", lambda _ref, reason: told.append(reason))
        ref.unwatch("nobody")  # unknown keys are fine
        ref.kill()
        assert await ref.wait_stopped() == KILLED
    assert told == [KILLED]
    assert any("watcher of actor 'watched' failed" in r.getMessage() for r in caplog.records)
