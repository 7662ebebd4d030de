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
import pathlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
import trio
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


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    server = SmtpServer(trio.lowlevel.current_trio_token())
    server.port = free_port()
    # An explicit plain asyncio loop: trio-asyncio (imported by other plugins) replaces the
    # default loop policy, and its loops cannot run in aiosmtpd's server thread.
    loop = asyncio.SelectorEventLoop()
    controller = Controller(server, hostname="127.0.0.1", port=server.port, loop=loop)
    await trio.to_thread.run_sync(controller.start)
    try:
        yield server
    finally:
        await trio.to_thread.run_sync(controller.stop)
        loop.close()


@asynccontextmanager
async def smtp_mail(svc: Services, smtp_server: SmtpServer, tmp_path: pathlib.Path) -> AsyncIterator[Services]:
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
