"""Two `duo serve` processes on different chat ports, one PostgreSQL and one real Redis:
messages, typing, presence and kicks cross from one process to the other (§10)."""

from __future__ import annotations

from pathlib import Path

import trio

from duo.sql.database import DbSettings
from tests.chat_client import free_port, signed_in
from tests.chat_processes import alice_and_bob, jid, two_processes
from tests.chat_processes import state_dirs as state_dirs  # noqa: F401 (a fixture)
from tests.test_e2e_process import running_duo


async def test_chat_across_two_processes(
    pg_server: DbSettings, redis_url: str, aio_loop: None, state_dirs: tuple[Path, Path]
) -> None:
    p = two_processes(pg_server, redis_url, "duo_chat_mp")
    with trio.fail_after(240):
        async with running_duo(state_dirs[0], free_port(), p.env_a):
            async with running_duo(state_dirs[1], free_port(), p.env_b) as http_b:
                alice, bob = await alice_and_bob(p.settings)

                async with signed_in(p.url_a, alice) as a:
                    async with signed_in(p.url_b, bob) as b:
                        # presence: Bob (process B) watches Alice (process A)
                        await b.send({"duo_subscribe_online": {"@uuid": str(alice.uuid)}})
                        assert await b.receive() == {"duo_subscribe_successful": {"@uuid": str(alice.uuid)}}
                        assert await b.receive() == {"duo_online_event": {"@uuid": str(alice.uuid), "@status": "online"}}

                        await a.send({"message": {"@xmlns": "jabber:client", "@type": "typing", "@to": jid(bob.uuid), "@id": "t-1"}})
                        assert (await b.receive())["message"]["@type"] == "typing"

                        await a.message(bob, "m-1", "hello from process A")
                        assert await a.receive() == {"duo_message_delivered": {"@id": "m-1"}}
                        copy = (await b.receive())["message"]
                        assert (copy["@from"], copy["@id"], copy["body"]) == (jid(alice.uuid), "m-1", "hello from process A")

                        await b.message(alice, "m-2", "and back from B")
                        assert await b.receive() == {"duo_message_delivered": {"@id": "m-2"}}
                        assert (await a.receive())["message"]["body"] == "and back from B"

                        # Alice deletes her account through process B's API: her session on A ends
                        r = await http_b.delete("/account", headers=alice.headers)
                        assert r.status_code == 200, r.text
                        assert await a.closed_with() == 1008
                        assert await b.receive() == {
                            "duo_online_event": {"@uuid": str(alice.uuid), "@status": "online-recently"}
                        }
