"""What the chat tests with several `duo serve` processes share: state directories, the
environment that points them at one PostgreSQL and one Redis, and two people to chat."""

from __future__ import annotations

import os
import shutil
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from duo.services import utcnow
from duo.sql.database import Database, DbSettings
from tests.chat_client import free_port
from tests.factories import User, onboarded_user


@pytest.fixture
def state_dirs() -> Iterator[tuple[Path, Path]]:
    """One state directory per process, outside pytest's rotating tmp tree."""
    dirs = (Path(tempfile.mkdtemp(prefix="duo-chat-a-")), Path(tempfile.mkdtemp(prefix="duo-chat-b-")))
    try:
        yield dirs
    finally:
        for path in dirs:
            shutil.rmtree(path, ignore_errors=True)


def jid(person: object) -> str:
    return f"{person}@duolicious.app"


@attrs.frozen
class TwoProcesses:
    """Where two `duo serve` processes meet: one database, one Redis, a chat port each."""

    settings: DbSettings  # the database both serve
    env_a: dict[str, str]
    env_b: dict[str, str]
    url_a: str  # the chat URL of each process
    url_b: str


def two_processes(pg_server: DbSettings, redis_url: str, name: str) -> TwoProcesses:
    """The environments of processes A and B on the database ``name`` (per test process)."""
    database = f"{name}_{os.getpid()}"
    shared = {
        "DUO_DB_HOST": pg_server.host,
        "DUO_DB_PORT": str(pg_server.port),
        "DUO_DB_USER": pg_server.user,
        "DUO_DB_PASS": "",
        "DUO_DB_API_NAME": database,
        "DUO_REDIS_URL": redis_url,
        "DUO_CHAT_HOST": "127.0.0.1",
    }
    port_a, port_b = free_port(), free_port()
    return TwoProcesses(
        settings=DbSettings(host=pg_server.host, port=pg_server.port, user=pg_server.user, database=database),
        env_a=shared | {"DUO_CHAT_PORTS": str(port_a)},
        env_b=shared | {"DUO_CHAT_PORTS": str(port_b)},
        url_a=f"ws://127.0.0.1:{port_a}/",
        url_b=f"ws://127.0.0.1:{port_b}/",
    )


async def alice_and_bob(settings: DbSettings) -> tuple[User, User]:
    """Two onboarded people, created in the database the processes serve (once it exists)."""
    async with Database.open(settings, min_size=1, max_size=2) as db:
        svc = types.SimpleNamespace(db=db, now=utcnow)  # what the factories use
        alice = await onboarded_user(svc, "Alice")  # type: ignore[arg-type]
        bob = await onboarded_user(svc, "Bob", gender="Man")  # type: ignore[arg-type]
    return alice, bob
