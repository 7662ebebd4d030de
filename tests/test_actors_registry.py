"""Registries: atomic get-or-start by key, several actors per key, entries gone at the end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import trio
import trio.testing

from duo.actors.runtime import (
    ActorRef,
    Inbox,
    MultiRegistry,
    Registry,
    Restart,
    Supervisor,
    open_supervisor,
)


async def echo(
    inbox: Inbox[str, str], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    await trio.sleep(1)  # slow to get ready: concurrent get_or_start calls overlap
    task_status.started()
    async for envelope in inbox:
        if envelope.msg == "quit":
            return
        if envelope.is_call:
            envelope.reply(envelope.msg)


def room_factory(
    sup: Supervisor, key: str, started: list[str]
) -> Callable[[], Awaitable[ActorRef[str, str]]]:
    async def start() -> ActorRef[str, str]:
        started.append(key)
        return await sup.start(f"room {key}", echo, restart=Restart.TEMPORARY)

    return start


async def test_get_or_start_never_starts_two(autojump_clock: trio.testing.MockClock) -> None:
    registry: Registry[str, str, str] = Registry()
    started: list[str] = []
    got: list[ActorRef[str, str]] = []
    async with open_supervisor() as root:
        rooms = await root.start_supervisor("rooms")

        async def get(key: str) -> None:
            got.append(await registry.get_or_start(key, room_factory(rooms, key, started)))

        async with trio.open_nursery() as nursery:
            for key in ["a", "a", "b", "a", "b"]:
                nursery.start_soon(get, key)
        assert sorted(started) == ["a", "b"]
        assert len({id(ref) for ref in got}) == 2
        assert len(registry) == 2 and len(rooms) == 2
        a = registry.get("a")
        assert a is not None and await a.call("hi", timeout=1) == "hi"


async def test_an_ended_actor_leaves_the_registry_and_is_started_anew(
    autojump_clock: trio.testing.MockClock,
) -> None:
    registry: Registry[str, str, str] = Registry()
    started: list[str] = []
    async with open_supervisor() as root:
        rooms = await root.start_supervisor("rooms")
        first = await registry.get_or_start("a", room_factory(rooms, "a", started))
        first.cast("quit")
        await first.wait_stopped()
        assert registry.get("a") is None and len(registry) == 0
        second = await registry.get_or_start("a", room_factory(rooms, "a", started))
        assert second is not first and started == ["a", "a"]


async def test_a_stopping_actor_is_waited_out_and_replaced(
    autojump_clock: trio.testing.MockClock,
) -> None:
    registry: Registry[str, str, str] = Registry()
    started: list[str] = []

    async def lingering(
        inbox: Inbox[str, str], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        async for _ in inbox:
            pass
        await trio.sleep(3)  # e.g. flushing state after its mailbox closed

    async with open_supervisor(grace=10) as sup:

        async def start_lingering() -> ActorRef[str, str]:
            started.append("a")
            return await sup.start("room a", lingering, restart=Restart.TEMPORARY)

        first = await registry.get_or_start("a", start_lingering)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(first.stop, 10)
            await trio.testing.wait_all_tasks_blocked()
            assert first.stopping and registry.get("a") is None
            second = await registry.get_or_start("a", start_lingering)
        assert second is not first and trio.current_time() == pytest.approx(3)
        assert started == ["a", "a"]


async def test_a_failing_factory_lets_the_next_caller_try(
    autojump_clock: trio.testing.MockClock,
) -> None:
    registry: Registry[str, str, str] = Registry()
    started: list[str] = []
    async with open_supervisor() as sup:

        async def broken() -> ActorRef[str, str]:
            await trio.sleep(1)
            raise OSError("no room today")

        with pytest.raises(OSError):
            await registry.get_or_start("a", broken)
        ref = await registry.get_or_start("a", room_factory(sup, "a", started))
        assert await ref.call("ok", timeout=5) == "ok"


async def test_multi_registry_keeps_several_per_key_until_they_end(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sessions: MultiRegistry[str, str, str] = MultiRegistry()
    async with open_supervisor() as root:
        sup = await root.start_supervisor("sessions")
        phone = await sup.start("alice phone", echo, restart=Restart.TEMPORARY)
        laptop = await sup.start("alice laptop", echo, restart=Restart.TEMPORARY)
        bob = await sup.start("bob", echo, restart=Restart.TEMPORARY)
        sessions.add("alice", phone)
        sessions.add("alice", laptop)
        sessions.add("bob", bob)
        assert sessions.lookup("alice") == [phone, laptop]
        assert sessions.lookup("carol") == []
        phone.cast("quit")
        await phone.wait_stopped()
        assert sessions.lookup("alice") == [laptop]
        bob.kill()
        await bob.wait_stopped()
        assert sessions.lookup("bob") == [] and len(sessions) == 1
        sessions.add("bob", bob)  # an ended actor is never registered
        assert len(sessions) == 1
