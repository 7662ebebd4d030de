"""Shared by the job tests: services with real SMTP (through the mailer actor) or S3 (moto)."""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs

from duo.actors.mailer import Mail, MailerSettings, start_mailer
from duo.actors.runtime import open_supervisor
from duo.media.storage import S3Settings, S3Storage
from duo.services import Services
from tests.plugins import app as app_plugin
from tests.plugins.s3 import ACCESS_KEY_ID, ACCESS_KEY_SECRET, S3Endpoint
from tests.plugins.smtp import SmtpServer

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def with_env(svc: Services, tmp_path: pathlib.Path, **env: str) -> Services:
    """``svc`` with configuration built from these environment variables."""
    return attrs.evolve(svc, config=app_plugin.test_config(tmp_path, **env))


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


def s3_storage(endpoint: S3Endpoint) -> S3Storage:
    return S3Storage(S3Settings(
        photos_bucket=endpoint.photos_bucket, audio_bucket=endpoint.audio_bucket, access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET, endpoint_url=endpoint.url, region="us-east-1",
    ))
