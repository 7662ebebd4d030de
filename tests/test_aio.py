"""The trio ↔ asyncio bridge: values, errors and cancellation cross it intact."""

from __future__ import annotations

import asyncio

import pytest
import trio

from duo.aio import aio, open_loop


async def test_value_and_error_cross() -> None:
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    async def fail() -> None:
        raise KeyError("nope")

    with trio.fail_after(10):
        async with open_loop():
            assert await aio(double)(21) == 42
            with pytest.raises(KeyError, match="nope"):
                await aio(fail)()


async def test_runs_on_a_loop_of_its_own() -> None:
    async def where() -> tuple[asyncio.AbstractEventLoop, bool]:
        return asyncio.get_running_loop(), asyncio.get_running_loop().is_running()

    with trio.fail_after(10):
        async with open_loop():
            first, running = await aio(where)()
            async with open_loop():  # nested: the same loop, so objects made on it stay usable
                second, _ = await aio(where)()
    assert running and first is second
    assert first.is_closed()


async def test_cancel_cancels_the_asyncio_task_and_waits_for_it() -> None:
    entered = trio.Event()
    steps: list[str] = []
    token = trio.lowlevel.current_trio_token()

    async def slow() -> None:
        gate = asyncio.Event()
        token.run_sync_soon(entered.set)
        try:
            await gate.wait()  # never set: only cancellation ends this
        except asyncio.CancelledError:
            steps.append("asyncio side cancelled")
            await asyncio.sleep(0)  # clean-up that needs the loop
            steps.append("asyncio side cleaned up")
            raise

    with trio.fail_after(10):
        async with open_loop():
            with trio.CancelScope() as scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(aio(slow))
                    await entered.wait()
                    scope.cancel()
            assert scope.cancelled_caught
            assert steps == ["asyncio side cancelled", "asyncio side cleaned up"]


async def test_without_a_loop_is_a_clear_error() -> None:
    async def nothing() -> None:
        return None

    with trio.fail_after(10), pytest.raises(RuntimeError, match="open_loop"):
        await aio(nothing)()
