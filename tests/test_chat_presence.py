"""The presence actor on trio's MockClock (jumped by hand: the database is a real socket):
status events, the 4-minute heartbeat, batched last-online writes, the 12-hour expiry."""

from __future__ import annotations

import datetime as dt

import trio
import trio.testing

from duo.actors.runtime import open_supervisor
from duo.chat import stanzas as st
from duo.chat.hub import Delivery, Hub, online_topic
from duo.chat.presence import HEARTBEAT_SECONDS, STATUS_TTL_SECONDS, MemoryStatus, start_presence
from duo.services import Services
from tests.factories import onboarded_user

OLD = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


class Watcher:
    """A listener on the hub that keeps what it is sent."""

    def __init__(self) -> None:
        self.got: list[Delivery] = []

    def deliver(self, item: Delivery) -> None:
        self.got.append(item)


class Gone:
    """What presence needs of a closing session: its status subscriptions."""

    online: set[str] = set()


async def test_status_heartbeat_and_last_online(svc: Services, mock_clock: trio.testing.MockClock) -> None:
    alice = await onboarded_user(svc, "Alice")
    person = str(alice.uuid)
    await svc.db.execute("UPDATE person SET last_online_time = $1 WHERE id = $2", OLD, alice.person_id)
    clock = [dt.datetime(2025, 9, 27, 10, 0, tzinfo=dt.UTC)]
    hub, watcher, statuses = Hub(), Watcher(), MemoryStatus()
    hub.join(online_topic(person), watcher)

    async def last_online() -> dt.datetime:
        return await svc.db.fetchval("SELECT last_online_time FROM person WHERE id = $1", alice.person_id)

    # the clock is mocked: this bounds virtual time (the jumps below add up to about 12 h)
    with trio.fail_after(2 * STATUS_TTL_SECONDS):
        async with open_supervisor(grace=5) as supervisor:
            presence = await start_presence(supervisor, hub, svc.db, statuses, lambda: clock[0])
            presence.connected(person)
            await presence.flush()
            assert watcher.got == [st.OnlineEvent(uuid=person, status="online")]
            assert await last_online() == clock[0]
            assert await statuses.get(person) == "online"

            # four minutes later the heartbeat says online again and writes the time
            clock[0] += dt.timedelta(minutes=4)
            mock_clock.jump(HEARTBEAT_SECONDS)
            await trio.testing.wait_all_tasks_blocked()
            await presence.flush()
            assert watcher.got[-1] == st.OnlineEvent(uuid=person, status="online")
            assert len(watcher.got) == 2
            assert await last_online() == clock[0]

            clock[0] += dt.timedelta(minutes=1)
            presence.disconnected(person, Gone())  # type: ignore[arg-type]
            await presence.flush()
            assert watcher.got[-1] == st.OnlineEvent(uuid=person, status="online-recently")
            assert await last_online() == clock[0]

            # no connection left: no heartbeat; the stored status expires after 12 hours
            mock_clock.jump(HEARTBEAT_SECONDS)
            await trio.testing.wait_all_tasks_blocked()
            await presence.flush()
            assert len(watcher.got) == 3
            assert await statuses.get(person) == "online-recently"
            mock_clock.jump(STATUS_TTL_SECONDS)
            assert await statuses.get(person) == "offline"
