"""Two `duo serve` processes on different chat ports, one PostgreSQL and one real Redis:
messages, typing, presence and kicks cross from one process to the other (§10)."""

from __future__ import annotations

import os
import shutil
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from duo.services import utcnow
from duo.sql.database import Database, DbSettings
from tests.chat_client import free_port, signed_in
from tests.factories import onboarded_user
from tests.test_e2e_process import running_duo


@pytest.fixture
def state_dirs() -> Iterator[tuple[Path, Path]]:
    dirs = (Path(tempfile.mkdtemp(prefix="duo-chat-a-")), Path(tempfile.mkdtemp(prefix="duo-chat-b-")))
    try:
        yield dirs
    finally:
        for path in dirs:
            shutil.rmtree(path, ignore_errors=True)


def jid(person: object) -> str:
    return f"{person}@duolicious.app"


async def test_chat_across_two_processes(
    pg_server: DbSettings, redis_url: str, aio_loop: None, state_dirs: tuple[Path, Path]
) -> None:
    database = f"duo_chat_mp_{os.getpid()}"
    shared = {
        "DUO_DB_HOST": pg_server.host,
        "DUO_DB_PORT": str(pg_server.port),
        "DUO_DB_USER": pg_server.user,
        "DUO_DB_PASS": "",
        "DUO_DB_API_NAME": database,
        "DUO_REDIS_URL": redis_url,
        "DUO_CHAT_HOST": "127.0.0.1",
    }
    chat_a, chat_b = free_port(), free_port()
    url_a, url_b = f"ws://127.0.0.1:{chat_a}/", f"ws://127.0.0.1:{chat_b}/"
    with trio.fail_after(240):
        async with running_duo(state_dirs[0], free_port(), shared | {"DUO_CHAT_PORTS": str(chat_a)}):
            async with running_duo(state_dirs[1], free_port(), shared | {"DUO_CHAT_PORTS": str(chat_b)}) as http_b:
                settings = DbSettings(host=pg_server.host, port=pg_server.port, user=pg_server.user, database=database)
                async with Database.open(settings, min_size=1, max_size=2) as db:
                    svc = types.SimpleNamespace(db=db, now=utcnow)  # what the factories use
                    alice = await onboarded_user(svc, "Alice")  # type: ignore[arg-type]
                    bob = await onboarded_user(svc, "Bob", gender="Man")  # type: ignore[arg-type]

                async with signed_in(url_a, alice) as a:
                    async with signed_in(url_b, bob) as b:
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
