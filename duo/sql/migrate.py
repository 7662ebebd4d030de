"""Versioned schema migrations, applied once under an advisory lock.

Several ``duo`` processes may start at the same moment; the advisory lock makes
one of them apply what is missing while the others wait and then find nothing to do.
"""

from __future__ import annotations

import logging
import re
from importlib import resources

import asyncpg

from duo.aio import aio
from duo.sql.database import DbSettings

log = logging.getLogger(__name__)

MIGRATION_LOCK_ID = 0x64756F  # "duo"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every packaged migration, in order."""
    found = []
    for entry in resources.files("duo.sql.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
    return sorted(found)


async def ensure_database(settings: DbSettings) -> None:
    """Create the ``duo_api`` database when the server does not have it yet."""
    conn = await aio(asyncpg.connect)(**settings.connect_kwargs("postgres"))
    try:
        exists = await aio(conn.fetchval)(
            "SELECT 1 FROM pg_database WHERE datname = $1", settings.database
        )
        if not exists:
            try:
                await aio(conn.execute)(f'CREATE DATABASE "{settings.database}"')
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                pass  # another process won the race
    finally:
        await aio(conn.close)()


async def migrate(settings: DbSettings) -> list[str]:
    """Apply pending migrations; return the names applied by this call."""
    await ensure_database(settings)
    conn = await aio(asyncpg.connect)(**settings.connect_kwargs())
    applied: list[str] = []
    try:
        await aio(conn.execute)("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
        await aio(conn.execute)(
            """CREATE TABLE IF NOT EXISTS duo_schema_migration (
                   version INT PRIMARY KEY,
                   name TEXT NOT NULL,
                   applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
        )
        done = {r["version"] for r in await aio(conn.fetch)("SELECT version FROM duo_schema_migration")}
        for version, name, sql in migration_files():
            if version in done:
                continue
            log.info("applying migration %s", name)
            tx = conn.transaction()
            await aio(tx.start)()
            try:
                await aio(conn.execute)(sql)
                await aio(conn.execute)(
                    "INSERT INTO duo_schema_migration (version, name) VALUES ($1, $2)", version, name
                )
            except BaseException:
                await aio(tx.rollback)()
                raise
            await aio(tx.commit)()
            applied.append(name)
    finally:
        await aio(conn.execute)("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
        await aio(conn.close)()
    return applied
