"""The mailer actor: sends e-mail over SMTP, or appends it to a local mail log.

Other code casts :class:`Mail` to the mailer's :class:`~duo.actors.runtime.ActorRef` and
never waits for SMTP. The mailer runs with ``manual_ack=True``: a mail stays pending in
the supervisor-owned mailbox until the server accepted it (or rejected it for good), so
neither a crash nor a flaky server loses queued mail. Mail to addresses ending in
``@example.com`` is never sent over SMTP (http-api-accounts.md §2.10); without SMTP it
goes to the mail log like any other mail, which is what you want in development.
"""

from __future__ import annotations

import datetime
import html
import json
import logging
import pathlib
import smtplib
import ssl
from collections.abc import Awaitable, Callable, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal

import attrs
import trio

from duo.actors.runtime import (
    ActorFn,
    ActorRef,
    ActorStopped,
    Envelope,
    Inbox,
    MailboxFull,
    RestartPolicy,
    Supervisor,
)

log = logging.getLogger("duo.actors.mailer")

SmtpTls = Literal["auto", "starttls", "ssl", "none"]
"""``auto`` upgrades when the server offers STARTTLS (plain relays still get mail);
``starttls`` requires the upgrade; ``ssl`` is TLS from the first byte; ``none`` never upgrades."""


@attrs.frozen
class MailerSettings:
    """Where mail goes. ``smtp_host=None`` selects the local mail log (JSON lines)."""

    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_pass: str | None
    smtp_tls: SmtpTls
    sender: str  # From header, e.g. "Duolicious <noreply-otp@duolicious.app>"
    mail_log: pathlib.Path
    retry_initial: float = 1.0  # first wait after a failed attempt, doubled each time
    retry_max: float = 60.0
    max_attempts: int = 10  # per batch; then the mail is dropped (an OTP is long expired)
    smtp_timeout: float = 30.0
    batch_max: int = 50  # mails sent over one SMTP connection
    smtp_ca_file: pathlib.Path | None = None  # trust this CA (PEM) instead of the system's


@attrs.frozen
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    sender: str | None = None  # From header; the configured sender when None


def is_never_sent(address: str) -> bool:
    """Test addresses (``…@example.com``) must never reach an SMTP server."""
    return address.strip().lower().endswith("@example.com")


LOGO_URL = "https://email-assets.duolicious.app/header-logo.png"


def otp_mail(to: str, otp: str) -> Mail:
    """The sign-in code e-mail (http-api-accounts.md §3.7), in our own words."""
    code = html.escape(otp)
    text = (
        f"Your Duolicious sign-in code is {otp}\n\n"
        "Enter it in the app to continue. It is valid for 10 minutes.\n\n"
        "Didn't ask for a code? Then someone may have typed your address by mistake; "
        "you can safely ignore this message.\n"
    )
    body = f"""<!DOCTYPE html>
<html>
  <body style="margin:0;padding:24px;background:#f5f5f5;font-family:Helvetica,Arial,sans-serif;color:#222">
    <div style="max-width:480px;margin:0 auto;background:#fff;border-radius:12px;padding:32px;text-align:center">
      <img src="{LOGO_URL}" alt="Duolicious" width="200" style="display:block;margin:0 auto 24px">
      <p style="font-size:16px;margin:0 0 16px">Here is your code to sign in to Duolicious:</p>
      <p style="font-size:40px;font-weight:bold;letter-spacing:8px;margin:0 0 16px">{code}</p>
      <p style="font-size:14px;margin:0 0 24px">Enter it in the app within 10 minutes.</p>
      <p style="font-size:12px;color:#777;margin:0">Didn't ask for a code? Then you can safely ignore this e-mail.</p>
    </div>
  </body>
</html>
"""
    return Mail(to=to, subject="Sign in to Duolicious", text=text, html=body)


# -- the actor -----------------------------------------------------------------------------

MailerRef = ActorRef[Mail, None]


async def start_mailer(
    supervisor: Supervisor,
    settings: MailerSettings,
    *,
    policy: RestartPolicy = RestartPolicy(),
    capacity: int = 10_000,
) -> MailerRef:
    """Start the mailer under ``supervisor``; cast :class:`Mail` to the returned ref."""
    return await supervisor.start(
        "mailer", mailer_actor(settings), policy=policy, capacity=capacity, manual_ack=True
    )


def mail_sender(mailer: MailerRef) -> Callable[[Mail], Awaitable[None]]:
    """What handlers call to send mail: queue it without waiting; a full or stopping
    mailer drops it with an error in the log (the request never fails over mail)."""

    async def send(mail: Mail) -> None:
        try:
            mailer.cast(mail)
        except (MailboxFull, ActorStopped):
            log.error("mail to %s dropped: the mailer is full or stopping", mail.to)

    return send


def mailer_actor(settings: MailerSettings) -> ActorFn[Mail, None]:
    """The actor function (needs ``manual_ack=True``; see :func:`start_mailer`)."""

    async def mailer(
        inbox: Inbox[Mail, None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        if settings.smtp_host is None:
            log.info("no SMTP host configured: mail goes to %s", settings.mail_log)
        task_status.started()
        async for first in inbox:
            batch = [first, *inbox.receive_ready(settings.batch_max - 1)]
            if settings.smtp_host is None:
                await _write_log(settings.mail_log, batch)
            else:
                await _deliver(settings, batch)

    return mailer


async def _write_log(path: pathlib.Path, batch: Sequence[Envelope[Mail, None]]) -> None:
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
    lines = [
        json.dumps(
            {
                "ts": now,
                "to": e.msg.to,
                "subject": e.msg.subject,
                "text": e.msg.text,
                "html": e.msg.html,
            },
            ensure_ascii=False,
        )
        for e in batch
    ]
    await trio.to_thread.run_sync(_append_lines, path, lines)
    for envelope in batch:
        envelope.ack()


def _append_lines(path: pathlib.Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)


async def _deliver(settings: MailerSettings, batch: list[Envelope[Mail, None]]) -> None:
    """Send ``batch``, retrying temporary failures with backoff; ack what is settled.

    Each mail that is not sent is logged once with the reason when it first fails, and
    once more if it is given up; the retries in between stay out of the log.
    """
    pending: list[Envelope[Mail, None]] = []
    for envelope in batch:
        if is_never_sent(envelope.msg.to):
            log.info("not sending mail to test address %s", envelope.msg.to)
            envelope.ack()
        else:
            pending.append(envelope)
    delay = settings.retry_initial
    attempt = 0
    while pending:
        attempt += 1
        attempts = await trio.to_thread.run_sync(
            send_batch, settings, [e.msg for e in pending], abandon_on_cancel=True
        )
        retry: list[tuple[Envelope[Mail, None], str]] = []
        for envelope, outcome in zip(pending, attempts, strict=True):
            if outcome.result == "sent":
                envelope.ack()
            elif outcome.result == "rejected":
                log.error("SMTP server rejected mail to %s for good: %s", envelope.msg.to, outcome.reason)
                envelope.ack()  # a 5xx will not get better
            else:
                retry.append((envelope, outcome.reason))
        if not retry:
            return
        if attempt >= settings.max_attempts:
            for envelope, reason in retry:
                log.error("giving up on mail to %s after %d attempts: %s", envelope.msg.to, attempt, reason)
                envelope.ack()
            return
        if attempt == 1:
            for envelope, reason in retry:
                log.warning("mail to %s not sent yet, retrying with backoff: %s", envelope.msg.to, reason)
        pending = [envelope for envelope, _ in retry]
        await trio.sleep(delay)
        delay = min(delay * 2, settings.retry_max)


# -- SMTP (runs in a worker thread) ----------------------------------------------------------

SendResult = Literal["sent", "rejected", "retry"]


@attrs.frozen
class Attempt:
    """What became of one mail on one connection, and why when it was not sent."""

    result: SendResult
    reason: str = ""


def build_message(settings: MailerSettings, mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail.sender or settings.sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=parseaddr(msg["From"])[1].rpartition("@")[2] or None)
    msg.set_content(mail.text)
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html")
    return msg


def _tls_context(settings: MailerSettings) -> ssl.SSLContext:
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    return ssl.create_default_context(cafile=cafile)


def _connect(settings: MailerSettings) -> smtplib.SMTP:
    assert settings.smtp_host is not None
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout
    smtp: smtplib.SMTP
    if settings.smtp_tls == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context(settings))
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        smtp.ehlo()
        offered = smtp.has_extn("starttls")
        if settings.smtp_tls == "starttls" or (settings.smtp_tls == "auto" and offered):
            smtp.starttls(context=_tls_context(settings))  # raises if not offered
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_pass or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _classify(error: smtplib.SMTPException) -> Attempt:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
    elif isinstance(error, smtplib.SMTPResponseException):
        codes = [error.smtp_code]
    else:
        return Attempt("retry", str(error))
    if codes and all(500 <= code < 600 for code in codes):
        return Attempt("rejected", str(error))
    return Attempt("retry", f"deferred: {error}")


def send_batch(settings: MailerSettings, mails: Sequence[Mail]) -> list[Attempt]:
    """Send ``mails`` over one connection; one attempt per mail. Never raises for I/O errors."""
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as e:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        return [Attempt("retry", f"cannot connect to SMTP server {where}: {e}")] * len(mails)
    envelope_from = parseaddr(settings.sender)[1]
    attempts: list[Attempt] = []
    try:
        for mail in mails:
            try:
                smtp.send_message(build_message(settings, mail), envelope_from, [mail.to])
                attempts.append(Attempt("sent"))
            except smtplib.SMTPServerDisconnected as e:
                attempts.append(Attempt("retry", f"SMTP connection lost: {e}"))
                break
            except smtplib.SMTPException as e:  # (a subclass of OSError, so first)
                attempts.append(_classify(e))
            except OSError as e:
                attempts.append(Attempt("retry", f"SMTP connection failed: {e}"))
                break
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    reason = attempts[-1].reason if attempts else ""
    return attempts + [Attempt("retry", reason)] * (len(mails) - len(attempts))
