"""Trio-facing access to PostgreSQL: a thin typed wrapper over an asyncpg pool."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import attrs
import trio
from asyncpg import Record
from pgvector.asyncpg import register_vector

from duo.aio import aio

T = TypeVar("T")


@attrs.frozen
class DbSettings:
    """Where PostgreSQL is; ``host`` may be a name, an address or a socket directory."""

    host: str
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = "duo_api"

    def connect_kwargs(self, database: str | None = None) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password or None,
            "database": database or self.database,
        }


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's per-release ``RESET ALL`` round trip (it halves single-query cost).

    Safe because nothing here sets session state: settings are ``SET LOCAL`` inside
    transactions, advisory locks are transaction-scoped or on dedicated connections, and
    asyncpg still rolls back any transaction left open.
    """


async def _init_connection(conn: asyncpg.Connection) -> None:
    await register_vector(conn)
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class Connection:
    """One checked-out connection, usually inside a transaction; each statement is one
    bridge crossing."""

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw

    async def _call(self, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        return await aio(method)(*args, **kwargs)

    async def fetch(self, query: str, *args: Any) -> list[Record]:
        return await self._call(self.raw.fetch, query, *args)

    async def fetchrow(self, query: str, *args: Any) -> Record | None:
        return await self._call(self.raw.fetchrow, query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._call(self.raw.fetchval, query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self._call(self.raw.execute, query, *args)

    async def executemany(self, query: str, args: list[tuple[Any, ...]]) -> None:
        await self._call(self.raw.executemany, query, args)

    async def copy_records(self, table: str, records: list[tuple[Any, ...]], columns: list[str]) -> None:
        await self._call(self.raw.copy_records_to_table, table, records=records, columns=columns)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: released when the block ends normally, else rolled back."""
        savepoint = self.raw.transaction()
        await aio(savepoint.start)()
        try:
            yield
        except BaseException:
            with trio.CancelScope(shield=True):
                await aio(savepoint.rollback)()
            raise
        await aio(savepoint.commit)()


class _AsyncioSideConnection(Connection):
    """The connection of :meth:`Database.run_transaction`, used on the asyncio side: its
    statements go straight to asyncpg, with no crossing of their own."""

    async def _call(self, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        return await method(*args, **kwargs)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self.raw.transaction():
            yield


class DatabaseUnavailable(Exception):
    """The pool is closed (the persistence actor is reconnecting) or the server is gone."""


class QueryTimeout(Exception):
    """A statement ran past its ``statement_timeout`` (its transaction was rolled back) or
    past the ``timeout`` of a single call (it was cancelled on the server)."""


def _unavailable(e: BaseException) -> DatabaseUnavailable:
    """A driver's lost-server error as duo's (503 at the API, not a bug)."""
    return DatabaseUnavailable(f"{type(e).__name__}: {e}")


# What a pool call raises when the server is down, restarting or unreachable.
LOST_SERVER = (OSError, asyncpg.CannotConnectNowError, asyncpg.ConnectionDoesNotExistError)
# What a statement or a transaction can fail with at run time (not a bug in the caller).
DB_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError, DatabaseUnavailable, *LOST_SERVER)


class Database:
    """The pool, reachable from trio. Single statements take one bridge crossing.

    The object outlives its pool: the persistence actor connects it, and reconnects it
    after a failure, while handlers keep the same reference.
    """

    def __init__(self, settings: DbSettings, *, min_size: int = 2, max_size: int = 10) -> None:
        self.settings = settings
        self._sizes = (min_size, max_size)
        self._current: asyncpg.Pool | None = None

    @property
    def _pool(self) -> asyncpg.Pool:
        if self._current is None:
            raise DatabaseUnavailable("the database is not connected")
        return self._current

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[None]:
        """Hold an open pool for the duration of the block."""
        min_size, max_size = self._sizes
        pool = await aio(asyncpg.create_pool)(
            **self.settings.connect_kwargs(),
            min_size=min_size,
            max_size=max_size,
            init=_init_connection,
            reset=_keep_session,
            command_timeout=30,
            server_settings={"timezone": "UTC", "statement_timeout": "15000"},
        )
        self._current = pool
        try:
            yield
        finally:
            self._current = None
            with trio.CancelScope(shield=True):
                await aio(pool.close)()

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: DbSettings, *, min_size: int = 2, max_size: int = 10) -> AsyncIterator[Database]:
        database = cls(settings, min_size=min_size, max_size=max_size)
        async with database.connected():
            yield database

    async def _pooled(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run one pool method; a lost server is :class:`DatabaseUnavailable` (503), not a bug."""
        try:
            return await aio(getattr(self._pool, method))(*args, **kwargs)
        except TimeoutError as e:  # an OSError, but when the caller set a timeout it is theirs
            if kwargs.get("timeout") is not None:
                raise QueryTimeout(str(e)) from e
            raise _unavailable(e) from e
        except LOST_SERVER as e:
            raise _unavailable(e) from e

    async def fetch(self, query: str, *args: Any) -> list[Record]:
        return await self._pooled("fetch", query, *args)

    async def fetchrow(self, query: str, *args: Any, timeout: float | None = None) -> Record | None:
        """``timeout`` (seconds) cancels the statement on the server and raises
        :class:`QueryTimeout`: a per-statement limit without the round trips of a transaction
        and ``SET LOCAL``."""
        return await self._pooled("fetchrow", query, *args, timeout=timeout)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._pooled("fetchval", query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self._pooled("execute", query, *args)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        raw = await self._pooled("acquire")
        try:
            yield Connection(raw)
        finally:
            with trio.CancelScope(shield=True):
                await aio(self._pool.release)(raw)

    @asynccontextmanager
    async def transaction(self, isolation: str = "read_committed") -> AsyncIterator[Connection]:
        """Commit when the block ends normally, roll back when it raises or is cancelled."""
        async with self.connection() as conn:
            tx = conn.raw.transaction(isolation=isolation)
            await aio(tx.start)()
            try:
                yield conn
            except BaseException as e:
                with trio.CancelScope(shield=True):
                    await aio(tx.rollback)()
                if isinstance(e, asyncpg.QueryCanceledError):
                    raise QueryTimeout(str(e)) from e
                raise
            with trio.CancelScope(shield=True):
                await aio(tx.commit)()

    async def run_transaction(self, body: Callable[[Connection], Awaitable[T]], isolation: str = "read_committed") -> T:
        """``body`` in one transaction, run on the asyncio side of the bridge: one crossing
        for the whole transaction instead of one per statement (acquire, BEGIN, each
        statement, COMMIT, release), which is what a busy transaction costs most of.

        ``body`` must not use trio (it runs on the asyncio loop's thread); a trio
        cancellation cancels it there and the transaction is rolled back.
        """
        pool = self._pool

        async def run() -> T:
            async with pool.acquire() as raw, raw.transaction(isolation=isolation):
                return await body(_AsyncioSideConnection(raw))

        try:
            return await aio(run)()
        except asyncpg.QueryCanceledError as e:
            raise QueryTimeout(str(e)) from e
        except LOST_SERVER as e:
            raise _unavailable(e) from e


# What a query helper takes: the pool for one statement, or a connection in a transaction.
Queryable = Database | Connection


async def limit_statement_time(conn: Connection, timeout: str) -> None:
    """Cap each statement of the transaction (``'10s'``, ``'1000ms'``); over it, the block
    raises :class:`QueryTimeout` and everything is rolled back."""
    await conn.execute(f"SET LOCAL statement_timeout = '{timeout}'")
