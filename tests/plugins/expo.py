"""A local HTTP server speaking Expo's push API, and the process's pusher pointed at it.

The server (hypercorn on 127.0.0.1) reads the JSON array Expo takes and answers with the
tickets Expo answers with (``{"data": [{"status": "ok", "id": …} | {"status": "error",
"message": …, "details": {"error": "DeviceNotRegistered"}}]}``), or with scripted failures.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve

from duo.actors.runtime import open_supervisor
from duo.chat.push import PushSettings, push_sender, start_pusher
from duo.services import Services


@attrs.frozen
class Request:
    headers: dict[str, str]
    body: bytes

    @property
    def items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = json.loads(self.body)
        return items


@attrs.define
class FakeExpo:
    """Answers every POST: the next scripted (status, body), else an ``ok`` ticket per message."""

    url: str = ""
    script: list[tuple[int, Any]] = attrs.field(factory=list)
    requests: list[Request] = attrs.field(factory=list)
    _send: trio.MemorySendChannel[Request] = attrs.field(init=False)
    _receive: trio.MemoryReceiveChannel[Request] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._send, self._receive = trio.open_memory_channel[Request](math.inf)

    async def next_request(self) -> Request:
        return await self._receive.receive()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = Request({k.decode().lower(): v.decode() for k, v in scope["headers"]}, body)
        self.requests.append(request)
        if self.script:
            status, payload = self.script.pop(0)
        else:
            status, payload = 200, {"data": [{"status": "ok", "id": f"ticket-{i}"} for i, _ in enumerate(request.items)]}
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(payload).encode()})
        self._send.send_nowait(request)


@pytest.fixture
async def expo() -> AsyncIterator[FakeExpo]:
    fake = FakeExpo()
    config = HypercornConfig()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(functools.partial(serve, fake, config, shutdown_trigger=shutdown.wait))
        fake.url = f"{binds[0]}/--/api/v2/push/send"
        try:
            yield fake
        finally:
            shutdown.set()


@asynccontextmanager
async def pushing_to(svc: Services, expo: FakeExpo) -> AsyncIterator[None]:
    """``svc.send_push`` goes to a real pusher posting to ``expo`` while this lasts (the
    process's own pusher was started with the configured URL)."""
    settings = PushSettings(url=expo.url, attempts=1, timeout=5)
    async with open_supervisor(grace=5) as supervisor:
        original = svc.send_push
        svc.send_push = push_sender(await start_pusher(supervisor, settings, svc.db))
        try:
            yield
        finally:
            svc.send_push = original
