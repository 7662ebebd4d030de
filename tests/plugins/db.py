"""Real PostgreSQL for tests: one embedded server per test run, one fresh database per test.

The schema and reference data are built once into a template database; each test
gets ``CREATE DATABASE … TEMPLATE`` of it, which takes a few tens of milliseconds.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import trio

from duo.aio import aio, open_loop
from duo.sql import embedded
from duo.sql.database import Database, DbSettings
from duo.sql.migrate import migrate
from duo.sql.seed import seed_reference_data

TEMPLATE = "duo_template"
_counter = itertools.count()


async def _build_template(server: DbSettings) -> None:
    async with open_loop():
        settings = DbSettings(host=server.host, port=server.port, user=server.user, database=TEMPLATE)
        await migrate(settings)
        async with Database.open(settings, min_size=1, max_size=2) as db:
            await seed_reference_data(db)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[DbSettings]:
    """The embedded server; reused across runs through a fixed directory keyed by the checkout."""
    root = Path(os.environ.get("DUO_TEST_PGDATA") or Path(tempfile.gettempdir()) / f"duo-test-pg-{os.getpid()}")
    settings = trio.run(embedded.start, root)
    try:
        trio.run(_build_template, settings)
        yield settings
    finally:
        trio.run(embedded.stop, root)


@pytest.fixture
async def aio_loop() -> AsyncIterator[None]:
    async with open_loop():
        yield


@pytest.fixture
async def db_settings(pg_server: DbSettings, aio_loop: None) -> AsyncIterator[DbSettings]:
    """A fresh database cloned from the template, dropped after the test."""
    name = f"duo_test_{os.getpid()}_{next(_counter)}"
    admin = await aio(asyncpg.connect)(host=pg_server.host, port=pg_server.port, user=pg_server.user, database="postgres")
    try:
        await aio(admin.execute)(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        yield DbSettings(host=pg_server.host, port=pg_server.port, user=pg_server.user, database=name)
        await aio(admin.execute)(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await aio(admin.close)()


@pytest.fixture
async def db(db_settings: DbSettings) -> AsyncIterator[Database]:
    async with Database.open(db_settings, min_size=1, max_size=4) as database:
        yield database
