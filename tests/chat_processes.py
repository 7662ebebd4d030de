"""What the chat tests with several `duo serve` processes share: state directories, the
environment that points them at one PostgreSQL and one Redis, and two people to chat."""

from __future__ import annotations

import os
import shutil
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from duo.services import utcnow
from duo.sql.database import Database, DbSettings
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


def shared_env(pg_server: DbSettings, redis_url: str, name: str) -> tuple[DbSettings, dict[str, str]]:
    """The database ``name`` (per test process) and the environment every `duo serve` gets."""
    database = f"{name}_{os.getpid()}"
    env = {
        "DUO_DB_HOST": pg_server.host,
        "DUO_DB_PORT": str(pg_server.port),
        "DUO_DB_USER": pg_server.user,
        "DUO_DB_PASS": "",
        "DUO_DB_API_NAME": database,
        "DUO_REDIS_URL": redis_url,
        "DUO_CHAT_HOST": "127.0.0.1",
    }
    settings = DbSettings(host=pg_server.host, port=pg_server.port, user=pg_server.user, database=database)
    return settings, env


async def alice_and_bob(settings: DbSettings) -> tuple[User, User]:
    """Two onboarded people, created in the database the processes serve (once it exists)."""
    async with Database.open(settings, min_size=1, max_size=2) as db:
        svc = types.SimpleNamespace(db=db, now=utcnow)  # what the factories use
        alice = await onboarded_user(svc, "Alice")  # type: ignore[arg-type]
        bob = await onboarded_user(svc, "Bob", gender="Man")  # type: ignore[arg-type]
    return alice, bob
