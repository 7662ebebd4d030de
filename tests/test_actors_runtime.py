"""The actor runtime, on trio's MockClock (autojump): no test waits on real time."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from duo.actors.runtime import (
    ActorCrashed,
    ActorEscalation,
    ActorRef,
    ActorStopped,
    ActorTimeout,
    Inbox,
    MailboxFull,
    RestartPolicy,
    open_supervisor,
)

FAST = RestartPolicy(max_restarts=5, window_seconds=60, backoff_initial=1, backoff_max=4)


class Boom(Exception):
    pass


class Recorder:
    """An actor that records what it handled; ``"boom"`` crashes it, ``"get"`` replies."""

    def __init__(self, work_seconds: float = 0.0, ready_after: float = 0.0) -> None:
        self.handled: list[object] = []
        self.starts: list[float] = []
        self.work_seconds = work_seconds
        self.ready_after = ready_after

    async def __call__(
        self,
        inbox: Inbox[object, object],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        self.starts.append(trio.current_time())
        await trio.sleep(self.ready_after)
        task_status.started()
        async for envelope in inbox:
            if envelope.msg == "boom":
                raise Boom("as requested")
            if envelope.msg == "hang":
                await trio.sleep_forever()
            await trio.sleep(self.work_seconds)
            self.handled.append(envelope.msg)
            if envelope.is_call:
                envelope.reply(("ok", len(self.starts), envelope.msg))


async def test_start_waits_for_readiness(autojump_clock: trio.testing.MockClock) -> None:
    actor = Recorder(ready_after=5)
    async with open_supervisor() as sup:
        await sup.start("slow", actor)
        assert trio.current_time() == pytest.approx(5)
        assert await (await sup.start("fast", Recorder())).call("x", timeout=1) == ("ok", 1, "x")


async def test_crash_is_logged_and_actor_restarted(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    actor = Recorder()
    async with open_supervisor() as sup:
        ref = await sup.start("rec", actor, policy=FAST)
        ref.cast("boom")
        assert await ref.call("after", timeout=10) == ("ok", 2, "after")
    assert len(actor.starts) == 2
    crash = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert crash and crash[0].exc_info is not None  # logged with its traceback


async def test_restart_backoff_doubles_up_to_max(autojump_clock: trio.testing.MockClock) -> None:
    actor = Recorder()
    async with open_supervisor() as sup:
        ref = await sup.start("rec", actor, policy=FAST)
        for _ in range(5):
            ref.cast("boom")
        assert await ref.call("done", timeout=100) == ("ok", 6, "done")
    gaps = [b - a for a, b in zip(actor.starts, actor.starts[1:], strict=False)]
    assert gaps == pytest.approx([1, 2, 4, 4, 4])


async def test_backoff_resets_when_crashes_leave_the_window(
    autojump_clock: trio.testing.MockClock,
) -> None:
    policy = RestartPolicy(max_restarts=2, window_seconds=10, backoff_initial=1, backoff_max=8)
    actor = Recorder()
    async with open_supervisor() as sup:
        ref = await sup.start("rec", actor, policy=policy)
        for _ in range(6):  # three times the limit, but spaced out: never escalates
            ref.cast("boom")
            await ref.call("ping", timeout=100)
            await trio.sleep(11)
    gaps = [b - a for a, b in zip(actor.starts, actor.starts[1:], strict=False)]
    assert gaps == pytest.approx([1, 12, 12, 12, 12, 12])  # 1 backoff + 11 idle each time


async def test_escalation_after_max_restarts_in_window(
    autojump_clock: trio.testing.MockClock,
) -> None:
    policy = RestartPolicy(max_restarts=2, window_seconds=60, backoff_initial=1, backoff_max=1)
    actor = Recorder()
    with pytest.RaisesGroup(ActorEscalation, flatten_subgroups=True):
        async with open_supervisor() as sup:
            ref = await sup.start("rec", actor, policy=policy)
            for _ in range(3):
                ref.cast("boom")
            await trio.sleep_forever()  # cancelled by the escalation
    assert len(actor.starts) == 3  # the first run and two restarts


async def test_escalation_before_ready_raises_from_start(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def broken(
        inbox: Inbox[object, object],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        raise Boom("cannot start")

    with pytest.RaisesGroup(ActorEscalation, flatten_subgroups=True):
        async with open_supervisor() as sup:
            await sup.start("broken", broken, policy=RestartPolicy(max_restarts=1))
            pytest.fail("start() returned")


async def test_actor_returning_while_open_is_restarted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    runs = 0

    async def quitter(
        inbox: Inbox[str, int],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        nonlocal runs
        runs += 1
        task_status.started()
        envelope = await inbox.receive()
        envelope.reply(runs)  # and returns: a permanent actor must not do that

    async with open_supervisor() as sup:
        ref = await sup.start("quitter", quitter, policy=FAST)
        assert await ref.call("a", timeout=10) == 1
        assert await ref.call("b", timeout=10) == 2


async def test_call_timeout(autojump_clock: trio.testing.MockClock) -> None:
    async with open_supervisor(grace=1) as sup:
        ref = await sup.start("rec", Recorder())
        ref.cast("hang")
        start = trio.current_time()
        with pytest.raises(ActorTimeout, match="'rec' did not reply within 2.5s"):
            await ref.call("never answered", timeout=2.5)
        assert trio.current_time() - start == pytest.approx(2.5)


async def test_call_during_crash_fails_with_actor_crashed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def crasher(
        inbox: Inbox[str, str],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        async for envelope in inbox:
            if envelope.msg == "crash":
                raise Boom
            envelope.reply(envelope.msg.upper())

    async with open_supervisor() as sup:
        ref = await sup.start("crasher", crasher, policy=FAST)
        with pytest.raises(ActorCrashed):
            await ref.call("crash", timeout=10)
        assert await ref.call("fine", timeout=10) == "FINE"


async def test_call_propagates_the_actors_error(autojump_clock: trio.testing.MockClock) -> None:
    async def picky(
        inbox: Inbox[int, int],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        async for envelope in inbox:
            if envelope.msg < 0:
                envelope.fail(ValueError("negative"))
            else:
                envelope.reply(envelope.msg * 2)

    async with open_supervisor() as sup:
        ref = await sup.start("picky", picky)
        with pytest.raises(ValueError, match="negative"):
            await ref.call(-1, timeout=1)
        assert await ref.call(21, timeout=1) == 42


async def test_cast_is_fire_and_forget_and_full_mailbox_raises(
    autojump_clock: trio.testing.MockClock,
) -> None:
    actor = Recorder(work_seconds=1)
    async with open_supervisor() as sup:
        ref: ActorRef[object, object] = await sup.start("rec", actor, capacity=2)
        ref.cast("hang")
        await trio.testing.wait_all_tasks_blocked()  # the actor took "hang" and is stuck
        ref.cast(1)
        ref.cast(2)
        assert trio.current_time() == 0  # cast never waits
        with pytest.raises(MailboxFull):
            ref.cast(3)
        assert ref.queued() == 2
        assert await ref.stop(grace=1) is False  # stuck on "hang": cancelled
        with pytest.raises(ActorStopped):
            ref.cast(4)
        with pytest.raises(ActorStopped):
            await ref.call(5, timeout=1)


async def test_queued_messages_survive_a_crash(autojump_clock: trio.testing.MockClock) -> None:
    actor = Recorder(work_seconds=1)
    async with open_supervisor() as sup:
        ref = await sup.start("rec", actor, policy=FAST)
        ref.cast("a")
        ref.cast("boom")
        for item in ("b", "c", "d"):
            ref.cast(item)
        assert await ref.call("e", timeout=100) == ("ok", 2, "e")
    assert actor.handled == ["a", "b", "c", "d", "e"]


async def test_unacked_messages_are_redelivered_in_order_after_a_crash(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[tuple[int, str]] = []
    done: list[str] = []
    crashed = False

    async def batcher(
        inbox: Inbox[str, None],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        nonlocal crashed
        task_status.started()
        async for first in inbox:
            batch = [first, *inbox.receive_ready(10)]
            seen.extend((e.deliveries, e.msg) for e in batch)
            if not crashed:
                crashed = True
                batch[0].ack()  # the first one was handled before the crash
                done.append(batch[0].msg)
                raise Boom
            for envelope in batch:
                done.append(envelope.msg)
                envelope.ack()

    async with open_supervisor() as sup:
        ref = await sup.start("batcher", batcher, policy=FAST, manual_ack=True)
        for item in "abc":
            ref.cast(item)
        await trio.sleep(10)
        ref.cast("d")
        await trio.sleep(10)
    assert seen == [(1, "a"), (1, "b"), (1, "c"), (2, "b"), (2, "c"), (1, "d")]
    assert done == ["a", "b", "c", "d"]


async def test_poison_message_is_dropped_after_max_deliveries(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    handled: list[str] = []

    async def fragile(
        inbox: Inbox[str, None],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        async for envelope in inbox:
            if envelope.msg == "poison":
                raise Boom
            handled.append(envelope.msg)
            envelope.ack()

    policy = RestartPolicy(max_restarts=5, backoff_initial=1, max_deliveries=3)
    async with open_supervisor() as sup:
        ref = await sup.start("fragile", fragile, policy=policy, manual_ack=True)
        ref.cast("poison")
        ref.cast("next")
        await trio.sleep(30)
    assert handled == ["next"]
    assert any("after 3 deliveries" in r.getMessage() for r in caplog.records)


async def test_stop_drains_the_queue_within_grace(autojump_clock: trio.testing.MockClock) -> None:
    actor = Recorder(work_seconds=1)
    async with open_supervisor() as sup:
        ref = await sup.start("rec", actor)
        for i in range(5):
            ref.cast(i)
        assert await ref.stop(grace=10) is True
        assert trio.current_time() == pytest.approx(5)
        assert actor.handled == [0, 1, 2, 3, 4]


async def test_stop_cancels_the_actor_after_grace(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    actor = Recorder(work_seconds=1)
    async with open_supervisor() as sup:
        ref = await sup.start("rec", actor)
        for i in range(5):
            ref.cast(i)
        assert await ref.stop(grace=2.5) is False
        assert trio.current_time() == pytest.approx(2.5)
    assert actor.handled == [0, 1]
    assert any("2 messages lost" in r.getMessage() for r in caplog.records)


async def test_cancelling_the_root_scope_drains_actors(
    autojump_clock: trio.testing.MockClock,
) -> None:
    first = Recorder(work_seconds=1)
    second = Recorder(work_seconds=1)
    with trio.CancelScope() as root:
        async with open_supervisor(grace=30) as sup:
            a = await sup.start("first", first)
            b = await sup.start("second", second)
            for i in range(3):
                a.cast(i)
                b.cast(i)
            root.cancel()
            await trio.sleep_forever()
    assert first.handled == [0, 1, 2] and second.handled == [0, 1, 2]
    # stopped one after the other, newest first; "second" drained while "first" kept working
    assert trio.current_time() == pytest.approx(3)


async def test_supervisor_grace_is_a_total_budget(autojump_clock: trio.testing.MockClock) -> None:
    first = Recorder()
    second = Recorder()
    async with open_supervisor(grace=5) as sup:
        a = await sup.start("first", first)
        b = await sup.start("second", second)
        a.cast("hang")
        b.cast("hang")
    assert trio.current_time() == pytest.approx(5)
