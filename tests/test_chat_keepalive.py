"""The shared ping scheduler: each watched connection is pinged every interval, one that
does not answer in time is told, and a connection that is no longer watched is left alone."""

from __future__ import annotations

import trio
import trio.testing

from duo.chat.keepalive import Pinger


class Connection:
    """An in-memory connection whose pong comes only when the test lets it."""

    def __init__(self, answers: bool) -> None:
        self.answers = answers
        self.pinged_at: list[float] = []
        self.missed = 0

    async def ping(self) -> None:
        self.pinged_at.append(trio.current_time())
        if not self.answers:
            await trio.sleep_forever()

    def no_pong(self) -> None:
        self.missed += 1


async def test_pings_every_interval_and_reports_a_missing_pong(autojump_clock: trio.testing.MockClock) -> None:
    pinger = Pinger(interval=20.0, timeout=5.0)
    good, silent, gone = Connection(True), Connection(False), Connection(True)
    with trio.fail_after(200):
        async with trio.open_nursery() as nursery:
            await nursery.start(pinger.run)
            start = trio.current_time()
            with pinger.watching(good), pinger.watching(silent):
                with pinger.watching(gone):
                    await trio.sleep(25)
                assert len(pinger) == 2
                await trio.sleep(39)  # stop at 64 s: the third ping (60 s) is still within its 5 s
            nursery.cancel_scope.cancel()
    assert [t - start for t in good.pinged_at] == [20.0, 40.0, 60.0]
    assert good.missed == 0
    assert [t - start for t in silent.pinged_at] == [20.0, 40.0, 60.0]
    assert silent.missed == 2  # the third ping was still waiting when it stopped being watched
    assert [t - start for t in gone.pinged_at] == [20.0]
