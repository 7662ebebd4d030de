"""The presence actor on trio's MockClock (jumped by hand: the database is a real socket):
status events, the 4-minute heartbeat, batched last-online writes, the 12-hour expiry."""

from __future__ import annotations

import datetime as dt

import trio
import trio.testing

from duo.actors.runtime import open_supervisor
from duo.chat import stanzas as st
from duo.chat.bus import ONLINE_STATUS_SECONDS, MemoryBus, online_topic
from duo.chat.payload import Rendered, decode, encode
from duo.chat.presence import HEARTBEAT_SECONDS, start_presence
from duo.services import Services
from tests.factories import onboarded_user

OLD = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def event(person: str, status: str) -> Rendered | None:
    return decode(encode(st.OnlineEvent(uuid=person, status=status)))  # type: ignore[arg-type]


async def test_status_heartbeat_and_last_online(svc: Services, mock_clock: trio.testing.MockClock) -> None:
    alice = await onboarded_user(svc, "Alice")
    person = str(alice.uuid)
    await svc.db.execute("UPDATE person SET last_online_time = $1 WHERE id = $2", OLD, alice.person_id)
    clock = [dt.datetime(2025, 9, 27, 10, 0, tzinfo=dt.UTC)]
    bus, got = MemoryBus(), []

    async def last_online() -> dt.datetime:
        return await svc.db.fetchval("SELECT last_online_time FROM person WHERE id = $1", alice.person_id)

    # the clock is mocked: this bounds virtual time (the jumps below add up to about 12 h)
    with trio.fail_after(2 * ONLINE_STATUS_SECONDS):
        async with bus.listen(online_topic(person), lambda p: got.append(decode(p))), open_supervisor(grace=5) as supervisor:
            presence = await start_presence(supervisor, bus, svc.db, lambda: clock[0])
            presence.connected(person)
            await presence.flush()
            assert got == [event(person, "online")]
            assert await last_online() == clock[0]
            assert await bus.last(online_topic(person)) == encode(st.OnlineEvent(uuid=person, status="online"))

            # four minutes later the heartbeat says online again and writes the time
            clock[0] += dt.timedelta(minutes=4)
            mock_clock.jump(HEARTBEAT_SECONDS)
            await trio.testing.wait_all_tasks_blocked()
            await presence.flush()
            assert got == [event(person, "online")] * 2
            assert await last_online() == clock[0]

            clock[0] += dt.timedelta(minutes=1)
            presence.disconnected(person)
            await presence.flush()
            assert got[-1] == event(person, "online-recently")
            assert await last_online() == clock[0]

            # no connection left: no heartbeat; the stored status expires after 12 hours
            mock_clock.jump(HEARTBEAT_SECONDS)
            await trio.testing.wait_all_tasks_blocked()
            await presence.flush()
            assert len(got) == 3
            assert decode(await bus.last(online_topic(person)) or b"") == event(person, "online-recently")
            mock_clock.jump(ONLINE_STATUS_SECONDS)
            assert await bus.last(online_topic(person)) is None  # expired: offline
