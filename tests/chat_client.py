"""A chat client for tests: a real WebSocket over loopback speaking JSON or XML frames."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from tests.factories import User


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain(username: str, password: str) -> str:
    """The SASL PLAIN payload: empty authorisation id, username, password."""
    return base64.b64encode(f"\0{username}\0{password}".encode()).decode()


PONG = {"duo_pong": {"@preferred_interval": "10000", "@preferred_timeout": "5000"}}


class ChatClient:
    """One connection; JSON mode sends and receives dicts, XML mode strings."""

    def __init__(self, ws: WebSocketConnection, mode: str) -> None:
        self.ws = ws
        self.mode = mode

    async def send(self, stanza: Any) -> None:
        await self.ws.send_message(json.dumps(stanza) if self.mode == "json" else stanza)

    async def receive(self) -> Any:
        frame = await self.ws.get_message()
        return json.loads(frame) if self.mode == "json" else frame

    async def receive_until(self, key: str) -> list[Any]:
        """Frames up to and including the first whose top-level key is ``key`` (JSON)."""
        frames = [await self.receive()]
        while key not in frames[-1]:
            frames.append(await self.receive())
        return frames

    async def closed_with(self) -> int:
        """Read until the server closes; the close code."""
        try:
            while True:
                await self.ws.get_message()
        except ConnectionClosed as e:
            assert e.reason is not None
            return e.reason.code

    async def next_is_pong(self) -> None:
        """Ping and expect the pong next: frames are handled in order, so whatever was sent
        before the ping and answered nothing has left nothing queued."""
        await self.send({"duo_ping": None})
        assert await self.receive() == PONG

    async def login(self, user: User) -> None:
        await self.send(
            {"auth": {"@xmlns": "urn:ietf:params:xml:ns:xmpp-sasl", "@mechanism": "PLAIN", "#text": plain(str(user.uuid), user.token)}}
        )
        assert await self.receive() == {"success": {"@xmlns": "urn:ietf:params:xml:ns:xmpp-sasl"}}

    async def message(self, to: User, id: str, body: str) -> None:
        await self.send(
            {"message": {"@xmlns": "jabber:client", "@type": "chat", "@to": f"{to.uuid}@duolicious.app", "@id": id, "body": body}}
        )


@asynccontextmanager
async def connect(url: str, mode: str = "json", protocols: list[str] | None = None) -> AsyncIterator[ChatClient]:
    offered = protocols if protocols is not None else [mode if mode == "json" else "xmpp"]
    async with open_websocket_url(url, subprotocols=offered) as ws:
        yield ChatClient(ws, mode)


@asynccontextmanager
async def signed_in(url: str, user: User) -> AsyncIterator[ChatClient]:
    async with connect(url) as client:
        await client.login(user)
        yield client
