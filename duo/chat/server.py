"""The chat listeners: one WebSocket listener per port of ``chat.ports``, all in this process.

Path ``/`` only; the subprotocol header decides the encoding (chat-protocol §1.2): exactly
``json`` → JSON mode (accepted as ``json``), anything else → XML mode (accepted as
``xmpp``).  Frames over 10 MiB close the connection (1009); per-message deflate only when
``chat.compression`` is on and the client offers it; an Origin outside
``chat.allowed_origins`` (when set) is refused with 403 before the upgrade.  Shutdown stops
accepting, then closes every session with 1001 and gives them the grace period to go.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Any

import trio
from trio_websocket import WebSocketConnection, WebSocketRequest, serve_websocket
from wsproto.events import AcceptConnection
from wsproto.extensions import PerMessageDeflate

from duo.actors.runtime import ActorError, Shutdown, open_supervisor
from duo.chat.bus import open_bus
from duo.chat.node import ChatNode
from duo.chat.payload import SHUTDOWN_CODE, Close, kick
from duo.chat.presence import start_presence
from duo.chat.protocol import MAX_FRAME_BYTES, Mode
from duo.chat.room import Rooms
from duo.chat.session import run_session
from duo.services import Services

log = logging.getLogger("duo.chat")

SHUTDOWN_GRACE = 10.0


def _header(request: WebSocketRequest, name: bytes) -> str | None:
    values = [v for k, v in request.headers if k.lower() == name]
    return b", ".join(values).decode("latin-1") if values else None


def mode_of(request: WebSocketRequest) -> Mode:
    """§1.2: a ``Sec-WebSocket-Protocol`` of exactly ``json`` means JSON mode, all else XML."""
    return "json" if request.proposed_subprotocols == ("json",) else "xml"


def subprotocol_of(request: WebSocketRequest, mode: Mode) -> str | None:
    """The subprotocol named in the reply: ``json``, else ``xmpp`` when the client offered it.

    The reference names ``xmpp`` even when it was not offered; a handshake may only name
    an offered subprotocol (RFC 6455, and wsproto enforces it), so then none is named.
    """
    if mode == "json":
        return "json"
    return "xmpp" if "xmpp" in request.proposed_subprotocols else None


async def _accept_compressed(request: WebSocketRequest, subprotocol: str | None) -> WebSocketConnection:
    """``request.accept`` with per-message deflate offered back to the client.

    trio-websocket's ``accept`` cannot pass wsproto extensions, so this does the same three
    steps with the extension added (wsproto negotiates it only if the client offered it).
    """
    conn: Any = request._connection
    conn._subprotocol = subprotocol
    conn._path = request.path
    await conn._send(AcceptConnection(subprotocol=subprotocol, extensions=[PerMessageDeflate()]))
    conn._open_handshake.set()
    return conn


async def handle_request(node: ChatNode, request: WebSocketRequest) -> None:
    """Check path and Origin, pick the mode, accept, and serve the session."""
    chat = node.svc.config.chat
    if request.path.partition("?")[0] != "/":
        await request.reject(404)
        return
    if chat.allowed_origins and _header(request, b"origin") not in chat.allowed_origins:
        await request.reject(403)
        return
    mode = mode_of(request)
    subprotocol = subprotocol_of(request, mode)
    if chat.compression:
        ws = await _accept_compressed(request, subprotocol)
    else:
        ws = await request.accept(subprotocol=subprotocol)
    await run_session(ws, mode, node)


async def serve_chat(
    node: ChatNode,
    shutdown: trio.Event,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on every chat port until ``shutdown``; then close the sessions with 1001."""
    config = node.svc.config
    handler = functools.partial(handle_request, node)
    async with trio.open_nursery() as handlers:
        async with trio.open_nursery() as listeners:
            binds: list[str] = []
            for port in config.chat_ports:
                server = await listeners.start(
                    functools.partial(
                        serve_websocket,
                        handler,
                        config.chat.host,
                        port,
                        None,
                        handler_nursery=handlers,
                        max_message_size=MAX_FRAME_BYTES,
                    )
                )
                binds.append(f"ws://{config.chat.host}:{server.port}/")
            task_status.started(binds)
            await shutdown.wait()
            listeners.cancel_scope.cancel()
        log.info("chat: closing %d sessions", len(node.sessions))
        for ref in node.sessions.children():
            with contextlib.suppress(ActorError):
                ref.cast(Close(SHUTDOWN_CODE, "server shutting down"))
        handlers.cancel_scope.deadline = trio.current_time() + SHUTDOWN_GRACE


async def run_chat(
    svc: Services,
    shutdown: trio.Event,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Chat for this process until ``shutdown``: bus and presence actors, rooms, sessions
    and listeners (pushes go through the process's pusher, ``svc.send_push``).

    Chat has its own supervisor inside the bus's lifetime: after the listeners have closed
    the sessions, rooms drain what they hold (so what was acknowledged is stored and nothing
    half-stored is acknowledged) and presence writes the last-online times, all while the
    bus still carries their deliveries.  The API's kicks reach chat from then on.
    """
    async with open_bus(svc.config.redis.url) as bus, open_supervisor(SHUTDOWN_GRACE, name="chat") as supervisor:
        svc.end_chat_sessions = functools.partial(kick, bus)
        presence = await start_presence(supervisor, bus, svc.db, svc.now)
        rooms = await Rooms.start(supervisor, svc, bus)
        sessions = await supervisor.start_supervisor("chat.sessions", shutdown=Shutdown.CANCEL)
        node = ChatNode(svc=svc, bus=bus, rooms=rooms, presence=presence, sessions=sessions)
        await serve_chat(node, shutdown, task_status=task_status)
