"""A real SMTP server for tests: aiosmtpd's Controller (own thread) on 127.0.0.1.

The ``smtp_server`` fixture yields an :class:`SmtpServer` with the received ``messages``
and the ``port``. Tests can make it answer ``451`` (temporary failure) to the next N
messages, or ``550`` to given recipients, and ``await server.wait_for(n)`` until n
messages have arrived - woken from the SMTP thread through the trio token, no polling.
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
import trio
import trustme
from aiosmtpd.controller import Controller

from duo.actors.mailer import Mail, MailerSettings, start_mailer
from duo.actors.runtime import open_supervisor
from duo.services import Services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SmtpServer:
    """The collecting handler (aiosmtpd calls ``handle_*``) plus test-side controls."""

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        self.port = 0
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (mail from, rcpt tos) accepted
        self.encrypted: list[bool] = []  # per accepted message: did it arrive over TLS
        self.attempts = 0  # DATA commands seen, accepted or not
        self.defer_next = 0  # answer 451 to this many DATA commands
        self.reject: set[str] = set()  # recipients answered with 550
        self._token = token
        self._changed = trio.Event()

    # -- aiosmtpd handler hooks (run in the server thread) --------------------------------
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.reject:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.defer_next > 0:
            self.defer_next -= 1
            self._token.run_sync_soon(self._notify)
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.messages.append(message)
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self._token.run_sync_soon(self._notify)
        return "250 Message accepted for delivery"

    # -- test side (trio thread) ---------------------------------------------------------
    def _notify(self) -> None:
        event, self._changed = self._changed, trio.Event()
        event.set()

    async def wait_for(self, count: int) -> None:
        """Wait until ``count`` messages were accepted (bound it with ``trio.fail_after``)."""
        while len(self.messages) < count:
            await self._changed.wait()

    async def wait_for_attempts(self, count: int) -> None:
        """Wait until the server saw ``count`` DATA commands (accepted or deferred)."""
        while self.attempts < count:
            await self._changed.wait()


TlsOffer = Literal["none", "starttls", "ssl"]


@asynccontextmanager
async def serve_smtp(tls: TlsOffer = "none", context: ssl.SSLContext | None = None) -> AsyncIterator[SmtpServer]:
    """aiosmtpd on a free port: plain, offering STARTTLS, or TLS from the first byte."""
    server = SmtpServer(trio.lowlevel.current_trio_token())
    server.port = free_port()
    # An explicit plain asyncio loop: trio-asyncio (imported by other plugins) replaces the
    # default loop policy, and its loops cannot run in aiosmtpd's server thread.
    loop = asyncio.SelectorEventLoop()
    options: dict[str, Any] = {}
    if tls == "starttls":
        options["tls_context"] = context
    elif tls == "ssl":
        options["ssl_context"] = context
    controller = Controller(server, hostname="127.0.0.1", port=server.port, loop=loop, **options)
    await trio.to_thread.run_sync(controller.start)
    try:
        yield server
    finally:
        await trio.to_thread.run_sync(controller.stop)
        loop.close()


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    """A plain relay (no STARTTLS offered)."""
    async with serve_smtp() as server:
        yield server


@pytest.fixture
def smtp_ca(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A throw-away CA (its PEM file, for the client) and a server context it signed for 127.0.0.1."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    pem = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return pem, context


@asynccontextmanager
async def smtp_mail(svc: Services, smtp_server: SmtpServer, tmp_path: Path) -> AsyncIterator[Services]:
    """``svc`` whose mail goes through a real mailer actor to the test SMTP server."""
    settings = MailerSettings(
        smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_user=None, smtp_pass=None, smtp_tls="none",
        sender="Duolicious <no-reply@duolicious.app>", mail_log=tmp_path / "mail.log", retry_initial=0.01,
        smtp_timeout=5.0,
    )
    async with open_supervisor() as supervisor:
        mailer = await start_mailer(supervisor, settings)

        async def send_mail(mail: Mail) -> None:
            mailer.cast(mail)

        yield attrs.evolve(svc, send_mail=send_mail)
