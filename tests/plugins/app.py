"""duo's HTTP API served by hypercorn on a loopback port, driven by a real HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from duo.actors.mailer import Mail
from duo.actors.media import Media, start_media
from duo.actors.runtime import open_supervisor
from duo.config import Config, load_config
from duo.services import Services, open_services
from duo.sql.database import DbSettings
from duo.supervisor import serve_http


def test_config(tmp_path: Path, **env: str) -> Config:
    base = {"DUO_ENV": "dev", "DUO_STATE_DIR": str(tmp_path), "DUO_HTTP_PORT": "0", "DUO_HTTP_HOST": "127.0.0.1"}
    return load_config(env=base | env)


@attrs.define
class MailSink:
    """Mail the API queued, in order (the mailer actor itself is tested against real SMTP)."""

    sent: list[Mail] = attrs.field(factory=list)

    async def __call__(self, mail: Mail) -> None:
        self.sent.append(mail)

    def otp_for(self, address: str) -> str:
        import re

        mail = [m for m in self.sent if m.to == address][-1]
        found = re.search(r"\b(\d{6})\b", mail.text)
        assert found
        return found.group(1)


@pytest.fixture
def mail() -> MailSink:
    return MailSink()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return test_config(tmp_path)


@pytest.fixture
async def media() -> AsyncIterator[Media]:
    """The real media actor, under a supervisor of its own."""
    async with open_supervisor(grace=5) as supervisor:
        yield await start_media(supervisor, workers=2)


@pytest.fixture
async def svc(db_settings: DbSettings, config: Config, mail: MailSink) -> AsyncIterator[Services]:
    """The services as ``duo serve`` opens them, on this test's database (already current);
    mail goes to the sink so tests can read it."""
    async with open_services(
        config, db_settings, schema_ready=True, send_mail=mail, media_workers=2, pool_size=(1, 4)
    ) as services:
        yield services


@asynccontextmanager
async def serve(svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    """Serve ``svc`` on a free loopback port; yield a client of it."""
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(serve_http, svc, shutdown)
        try:
            async with httpx.AsyncClient(base_url=binds[0], timeout=30) as http:
                yield http
        finally:
            shutdown.set()


@pytest.fixture
async def client(svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API served for this test."""
    async with serve(svc) as http:
        yield http


def bearer(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"}
