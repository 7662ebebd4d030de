"""The mailer actor against a real SMTP server (aiosmtpd on 127.0.0.1) and the mail log.

Real sockets are awaited here, so no MockClock: backoff delays come tiny from the
settings and every wait is bounded by ``trio.fail_after``.
"""

from __future__ import annotations

import json
import logging
import pathlib
import ssl
from collections.abc import Sequence

import pytest
import trio

from duo.actors import mailer as mailer_module
from duo.actors.mailer import (
    LOGO_URL,
    Attempt,
    Mail,
    MailerSettings,
    otp_mail,
    start_mailer,
)
from duo.actors.runtime import RestartPolicy, open_supervisor
from tests.plugins.smtp import SmtpServer, TlsOffer, serve_smtp

SENDER = "Duolicious <noreply-otp@duolicious.app>"
QUICK = RestartPolicy(max_restarts=3, window_seconds=60, backoff_initial=0.01, backoff_max=0.01)


def smtp_settings(
    server: SmtpServer, tmp_path: pathlib.Path, **overrides: object
) -> MailerSettings:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_user": None,
        "smtp_pass": None,
        "smtp_tls": "none",
        "sender": SENDER,
        "mail_log": tmp_path / "mail.log",
        "retry_initial": 0.01,
        "retry_max": 0.05,
        "smtp_timeout": 5.0,
    }
    values.update(overrides)
    return MailerSettings(**values)  # type: ignore[arg-type]


def mail(to: str, n: int = 0) -> Mail:
    return Mail(to=to, subject=f"subject {n}", text=f"text {n}", html=f"<p>html {n}</p>")


def recipients(server: SmtpServer) -> list[str]:
    return [str(m["To"]) for m in server.messages]


def test_otp_mail_wording() -> None:
    m = otp_mail("alice@duo.test", "042917")
    assert m.to == "alice@duo.test"
    assert "Sign in" in m.subject and "Duolicious" in m.subject
    assert "042917" in m.text and "ignore" in m.text
    assert m.html is not None
    assert "042917" in m.html and LOGO_URL in m.html and "ignore" in m.html


async def test_delivers_over_smtp(smtp_server: SmtpServer, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(10):
        async with open_supervisor() as sup:
            ref = await start_mailer(sup, smtp_settings(smtp_server, tmp_path))
            ref.cast(otp_mail("alice@duo.test", "123456"))
            ref.cast(mail("bob@duo.test", 1))
            await smtp_server.wait_for(2)
    otp, plain = smtp_server.messages
    assert otp["From"] == SENDER and otp["To"] == "alice@duo.test"
    assert otp["Subject"] == "Sign in to Duolicious"
    assert otp["Message-ID"] and otp["Date"]
    text_part = otp.get_body(preferencelist=("plain",))
    html_part = otp.get_body(preferencelist=("html",))
    assert text_part is not None and "123456" in text_part.get_content()
    assert html_part is not None and "123456" in html_part.get_content()
    assert plain["Subject"] == "subject 1"
    assert smtp_server.envelopes == [
        ("noreply-otp@duolicious.app", ["alice@duo.test"]),
        ("noreply-otp@duolicious.app", ["bob@duo.test"]),
    ]
    assert not (tmp_path / "mail.log").exists()


async def test_retries_after_a_temporary_failure(
    smtp_server: SmtpServer, tmp_path: pathlib.Path
) -> None:
    smtp_server.defer_next = 2  # 451 twice, then accept
    with trio.fail_after(10):
        async with open_supervisor() as sup:
            ref = await start_mailer(sup, smtp_settings(smtp_server, tmp_path))
            ref.cast(mail("carol@duo.test"))
            await smtp_server.wait_for(1)
    assert smtp_server.attempts == 3
    assert recipients(smtp_server) == ["carol@duo.test"]


async def test_retries_while_the_server_is_unreachable(
    smtp_server: SmtpServer, tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    real_send = mailer_module.send_batch
    refused = trio.Event()
    calls = 0

    def first_to_a_dead_port(settings: MailerSettings, mails: Sequence[Mail]) -> list[Attempt]:
        nonlocal calls
        calls += 1
        if calls == 1:  # nobody listens on port 1: connection refused
            result = real_send(smtp_settings(smtp_server, tmp_path, smtp_port=1), mails)
            refused.set()
            return result
        return real_send(settings, mails)

    with trio.fail_after(10):
        async with open_supervisor() as sup:
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(mailer_module, "send_batch", first_to_a_dead_port)
                ref = await start_mailer(sup, smtp_settings(smtp_server, tmp_path))
                ref.cast(mail("dave@duo.test"))
                await smtp_server.wait_for(1)
    assert calls == 2
    assert any("cannot connect" in r.getMessage() for r in caplog.records)


async def test_permanent_rejection_is_logged_and_dropped(
    smtp_server: SmtpServer, tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.reject = {"nobody@duo.test"}
    with trio.fail_after(10):
        async with open_supervisor() as sup:
            ref = await start_mailer(sup, smtp_settings(smtp_server, tmp_path))
            ref.cast(mail("nobody@duo.test"))
            ref.cast(mail("erin@duo.test"))
            await smtp_server.wait_for(1)
            assert await ref.stop(grace=5) is True
    assert recipients(smtp_server) == ["erin@duo.test"]
    assert any("rejected" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


async def test_gives_up_after_max_attempts(
    smtp_server: SmtpServer, tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.defer_next = 1000
    with trio.fail_after(10):
        async with open_supervisor() as sup:
            ref = await start_mailer(sup, smtp_settings(smtp_server, tmp_path, max_attempts=3))
            ref.cast(mail("frank@duo.test"))
            assert await ref.stop(grace=5) is True  # drained: the mail was given up
    assert smtp_server.attempts == 3 and smtp_server.messages == []
    failures = [r.getMessage() for r in caplog.records if "frank@duo.test" in r.getMessage()]
    # once when it first failed, once when given up - not once per retry
    assert len(failures) == 2, failures
    assert "not sent yet" in failures[0] and "451" in failures[0]
    assert "giving up" in failures[1] and "451" in failures[1]


@pytest.mark.parametrize(
    ("offer", "mode", "encrypted"),
    [
        ("none", "auto", False),  # a plain relay still gets the mail
        ("starttls", "auto", True),  # upgraded because it was offered
        ("starttls", "starttls", True),
        ("starttls", "none", False),  # never upgrades
        ("ssl", "ssl", True),
    ],
)
async def test_tls_modes(
    offer: TlsOffer,
    mode: str,
    encrypted: bool,
    smtp_ca: tuple[pathlib.Path, ssl.SSLContext],
    tmp_path: pathlib.Path,
) -> None:
    ca_file, server_context = smtp_ca
    with trio.fail_after(10):
        async with serve_smtp(offer, server_context) as server, open_supervisor() as sup:
            settings = smtp_settings(server, tmp_path, smtp_tls=mode, smtp_ca_file=ca_file)
            ref = await start_mailer(sup, settings)
            ref.cast(otp_mail("grace@duo.test", "314159"))
            await server.wait_for(1)
    assert recipients(server) == ["grace@duo.test"]
    assert server.encrypted == [encrypted]


async def test_untrusted_certificate_is_not_sent_to(
    smtp_ca: tuple[pathlib.Path, ssl.SSLContext], tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, server_context = smtp_ca
    with trio.fail_after(10):
        async with serve_smtp("starttls", server_context) as server, open_supervisor() as sup:
            settings = smtp_settings(server, tmp_path, smtp_tls="auto", max_attempts=2)  # system CAs
            ref = await start_mailer(sup, settings)
            ref.cast(mail("heidi@duo.test"))
            assert await ref.stop(grace=5) is True
    assert server.messages == []
    assert any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records)


async def test_required_starttls_not_offered_is_not_sent_in_clear(
    smtp_server: SmtpServer, tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = smtp_settings(smtp_server, tmp_path, smtp_tls="starttls", max_attempts=2)
    with trio.fail_after(10):
        async with open_supervisor() as sup:
            ref = await start_mailer(sup, settings)
            ref.cast(mail("ivan@duo.test"))
            assert await ref.stop(grace=5) is True
    assert smtp_server.attempts == 0 and smtp_server.messages == []
    assert any("STARTTLS" in r.getMessage() for r in caplog.records)


async def test_example_com_is_never_sent(smtp_server: SmtpServer, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(10):
        async with open_supervisor() as sup:
            ref = await start_mailer(sup, smtp_settings(smtp_server, tmp_path))
            ref.cast(otp_mail("reviewer@example.com", "000000"))
            ref.cast(mail("Someone@EXAMPLE.COM"))
            ref.cast(mail("grace@duo.test"))  # queued after: its arrival proves the others passed
            await smtp_server.wait_for(1)
            assert await ref.stop(grace=5) is True
    assert recipients(smtp_server) == ["grace@duo.test"]
    assert smtp_server.attempts == 1


async def test_mail_log_without_smtp(tmp_path: pathlib.Path) -> None:
    log_file = tmp_path / "logs" / "mail.log"
    settings = MailerSettings(
        smtp_host=None,
        smtp_port=587,
        smtp_user=None,
        smtp_pass=None,
        smtp_tls="starttls",
        sender=SENDER,
        mail_log=log_file,
    )
    with trio.fail_after(10):
        async with open_supervisor() as sup:
            ref = await start_mailer(sup, settings)
            ref.cast(otp_mail("dev@example.com", "000000"))  # logged: nothing is *sent*
            ref.cast(Mail(to="heidi@duo.test", subject="hi", text="plain only"))
            assert await ref.stop(grace=5) is True
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [(e["to"], e["subject"]) for e in lines] == [
        ("dev@example.com", "Sign in to Duolicious"),
        ("heidi@duo.test", "hi"),
    ]
    assert set(lines[0]) == {"ts", "to", "subject", "text", "html"}
    assert "000000" in lines[0]["text"] and "000000" in lines[0]["html"]
    assert lines[1]["html"] is None
    assert lines[0]["ts"].endswith("+00:00")


async def test_a_crash_loses_no_queued_mail(
    smtp_server: SmtpServer, tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    real_send = mailer_module.send_batch
    batches: list[list[str]] = []

    crashing = trio.Event()

    def crash_once(settings: MailerSettings, mails: Sequence[Mail]) -> list[Attempt]:
        batches.append([m.to for m in mails])
        if len(batches) == 1:
            trio.from_thread.run_sync(crashing.set)
            raise RuntimeError("mailer bug")
        return real_send(settings, mails)

    addresses = [f"user{i}@duo.test" for i in range(4)]
    with trio.fail_after(10):
        async with open_supervisor() as sup:
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(mailer_module, "send_batch", crash_once)
                ref = await start_mailer(sup, smtp_settings(smtp_server, tmp_path), policy=QUICK)
                for address in addresses[:3]:
                    ref.cast(mail(address))
                await crashing.wait()  # the mailer took the first batch and is crashing
                ref.cast(mail(addresses[3]))  # queued behind the crash
                await smtp_server.wait_for(4)
                assert await ref.stop(grace=5) is True
    assert batches[0] == addresses[:3]
    assert sorted(recipients(smtp_server)) == addresses  # each exactly once
    assert any("crashed" in r.getMessage() for r in caplog.records)


async def test_stop_flushes_the_queue(smtp_server: SmtpServer, tmp_path: pathlib.Path) -> None:
    addresses = [f"queued{i}@duo.test" for i in range(20)]
    with trio.fail_after(10):
        async with open_supervisor() as sup:
            ref = await start_mailer(sup, smtp_settings(smtp_server, tmp_path, batch_max=5))
            for address in addresses:
                ref.cast(mail(address))
            assert await ref.stop(grace=8) is True
    assert recipients(smtp_server) == addresses
