"""The embedded PostgreSQL 16 + pgvector (PyPI ``pgserver``) used when no database is configured."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import trio

from duo.sql.database import DbSettings

log = logging.getLogger(__name__)


def _start_blocking(pgdata: Path) -> str:
    # imported here: it is heavy and only the embedded mode needs it
    from pgserver.postgres_server import get_server

    server = get_server(pgdata, cleanup_mode=None)
    return server.get_uri()


def _stop_blocking(pgdata: Path) -> None:
    import pgserver

    pg_ctl = pgserver.pg_ctl  # type: ignore[attr-defined]  # generated at import time
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user="pgserver" if _is_root() else None)


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


class StateDirInUse(Exception):
    """Another duo process runs the embedded PostgreSQL of this state directory."""


@contextmanager
def exclusive(pgdata: Path) -> Iterator[None]:
    """One duo process per embedded database: the one that started it also stops it.

    Several processes sharing a database is what ``DUO_DB_HOST`` is for.
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with open(pgdata.parent / "duo.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateDirInUse(
                f"state directory {pgdata.parent} is used by another duo process; "
                "point several processes at one PostgreSQL with DUO_DB_HOST instead"
            ) from None
        yield


async def start(pgdata: Path) -> DbSettings:
    """Start (or reuse) the server whose data live in ``pgdata``; return how to reach it."""
    pgdata.mkdir(parents=True, exist_ok=True)
    uri = await trio.to_thread.run_sync(_start_blocking, pgdata)
    parsed = urlparse(uri)
    socket_dir = parse_qs(parsed.query)["host"][0]
    log.info("embedded PostgreSQL running with data in %s", pgdata)
    return DbSettings(host=socket_dir, port=parsed.port or 5432, user=parsed.username or "postgres")


async def stop(pgdata: Path) -> None:
    """Stop the embedded server cleanly (fast shutdown: sessions end, data are flushed)."""
    await trio.to_thread.run_sync(_stop_blocking, pgdata)
    log.info("embedded PostgreSQL stopped")
