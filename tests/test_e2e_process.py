"""`duo serve` as a real subprocess on its embedded defaults, driven over real sockets."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import boto3
import httpx
import pytest
import trio

from duo.aio import aio
from duo.sql.database import DbSettings
from tests.plugins.s3 import S3Endpoint
from tests.plugins.smtp import SmtpServer
from tests.test_http_onboarding import photo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(state: Path, port: int, chat_ports: str) -> dict[str, str]:
    """The environment of a `duo serve` subprocess on embedded defaults, in dev mode."""
    env = dict(
        os.environ,
        DUO_ENV="dev",
        DUO_STATE_DIR=str(state),
        DUO_HTTP_PORT=str(port),
        DUO_HTTP_HOST="127.0.0.1",
        DUO_CHAT_PORTS=chat_ports,
        DUO_IP_BLOCKLIST_URLS="",
    )
    env.pop("DUO_DB_HOST", None)
    return env


@asynccontextmanager
async def started_duo(
    state: Path, port: int, extra: dict[str, str] | None = None
) -> AsyncIterator[tuple[trio.Process, httpx.AsyncClient, bytearray]]:
    """`duo serve` in a subprocess, once it serves HTTP: the process, a client of its API and
    its stderr so far; killed if still running when the block ends."""
    env = serve_env(state, port, str(free_port()))
    env.update(extra or {})
    proc = await trio.lowlevel.open_process([sys.executable, "-m", "duo", "serve"], env=env, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    log = bytearray()
    try:
        await wait_for_line(proc.stderr, b"duo is serving HTTP", log)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield proc, http, log
    finally:
        if proc.returncode is None:
            proc.kill()


@asynccontextmanager
async def running_duo(
    state: Path, port: int, extra: dict[str, str] | None = None, stop: signal.Signals = signal.SIGTERM
) -> AsyncIterator[httpx.AsyncClient]:
    """`duo serve` in a subprocess until the block ends; then ``stop`` must end it cleanly (exit 0)."""
    async with started_duo(state, port, extra) as (proc, http, log):
        yield http
        assert proc.stderr is not None
        proc.send_signal(stop)
        await wait_for_line(proc.stderr, b"duo stopped", log)
        while chunk := await proc.stderr.receive_some(65536):
            log += chunk
        assert await proc.wait() == 0, log.decode(errors="replace")[-6000:]


async def wait_for_line(stream: trio.abc.ReceiveStream, needle: bytes, seen: bytearray) -> None:
    while needle not in seen:
        chunk = await stream.receive_some(65536)
        assert chunk, f"duo exited before printing {needle!r}:\n{seen.decode(errors='replace')}"
        seen += chunk


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A state directory outside pytest's rotating tmp tree (concurrent sessions prune it)."""
    path = Path(tempfile.mkdtemp(prefix="duo-e2e-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def bucket_keys(endpoint: S3Endpoint) -> set[str]:
    client = boto3.client(
        "s3", endpoint_url=endpoint.url, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    listing = client.list_objects_v2(Bucket=endpoint.photos_bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_serve_sign_in_restart_and_sigterm(state_dir: Path) -> None:
    port = free_port()
    with trio.fail_after(240):
        async with running_duo(state_dir, port) as http:
            assert (await http.get("/health")).text == "status: ok"
            r = await http.post("/request-otp", json={"email": "first@example.com"})
            token = r.json()["session_token"]
            r = await http.post("/check-otp", json={"otp": "000000"}, headers=bearer(token))
            assert r.status_code == 200, r.text
        assert b"first@example.com" in (state_dir / "mail.log").read_bytes()

        # data survive a restart: the same session is still signed in
        async with running_duo(state_dir, port, stop=signal.SIGINT) as http:
            r = await http.post("/check-session-token", headers=bearer(token))
            assert r.status_code == 200 and r.json()["onboarded"] is False


async def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with trio.fail_after(60):
        env = dict(os.environ, DUO_CHAT_PORTS="5447-5443", DUO_STATE_DIR=str(tmp_path))
        result = await trio.run_process([sys.executable, "-m", "duo", "serve"], env=env, capture_stderr=True, check=False)
        assert result.returncode == 2
        lines = result.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and "chat.ports" in lines[0], lines


async def test_serve_against_configured_postgres_smtp_and_s3(
    state_dir: Path, pg_server: DbSettings, smtp_server: SmtpServer, s3_endpoint: S3Endpoint, aio_loop: None
) -> None:
    """The same process pointed at real services by the old system's environment variables."""
    port = free_port()
    database = f"duo_e2e_{os.getpid()}"
    extra = {
        "DUO_ENV": "prod",
        "DUO_REPORT_EMAIL": "moderators@example.com",
        "DUO_DB_HOST": pg_server.host,
        "DUO_DB_PORT": str(pg_server.port),
        "DUO_DB_USER": pg_server.user,
        "DUO_DB_PASS": "",
        "DUO_DB_API_NAME": database,
        "DUO_SMTP_HOST": "127.0.0.1",
        "DUO_SMTP_PORT": str(smtp_server.port),
        "DUO_SMTP_TLS": "none",
        "DUO_R2_BUCKET_NAME": s3_endpoint.photos_bucket,
        "DUO_R2_AUDIO_BUCKET_NAME": s3_endpoint.audio_bucket,
        "DUO_R2_ACCESS_KEY_ID": "testing",
        "DUO_R2_ACCESS_KEY_SECRET": "testing",
        "DUO_BOTO_ENDPOINT_URL": s3_endpoint.url,
    }
    with trio.fail_after(240):
        async with running_duo(state_dir, port, extra) as http:
            assert not (state_dir / "postgres").exists()
            r = await http.post("/request-otp", json={"email": "real.person@gmail.com"})
            token = r.json()["session_token"]
            await smtp_server.wait_for(1)
            message = smtp_server.messages[0]
            assert message["To"] == "real.person@gmail.com"
            body = message.get_body(("plain", "html"))
            assert body is not None
            code = re.search(r"\b(\d{6})\b", body.get_content())
            assert code
            r = await http.post("/check-otp", json={"otp": code.group(1)}, headers=bearer(token))
            assert r.status_code == 200, r.text
            # onboarding with a JPEG and a HEIC: the renditions land in the S3 bucket
            for body in (
                {"name": "Real"},
                {"date_of_birth": "1995-05-05"},
                {"location": "Sydney, New South Wales, Australia"},
                {"gender": "Woman"},
                {"other_peoples_genders": ["Man"]},
                photo(1, "JPEG"),
                photo(2, "HEIF"),
            ):
                r = await http.patch("/onboardee-info", json=body, headers=bearer(token), timeout=60)
                assert (r.status_code, r.text) == (200, "")
            r = await http.post("/finish-onboarding", headers=bearer(token))
            assert r.status_code == 200, r.text
            profile = (await http.get("/profile-info", headers=bearer(token))).json()
            assert len(profile["photo"]) == 2
        keys = await trio.to_thread.run_sync(bucket_keys, s3_endpoint)
        uuids = [u for u in profile["photo"].values()]
        for media_id in uuids:
            assert {f"original-{media_id}.jpg", f"900-{media_id}.jpg", f"450-{media_id}.jpg"} <= keys
        conn = await aio(asyncpg.connect)(host=pg_server.host, port=pg_server.port, user=pg_server.user, database=database)
        try:
            assert await aio(conn.fetchval)("SELECT signed_in FROM duo_session WHERE email = 'real.person@gmail.com'")
        finally:
            await aio(conn.close)()


async def test_a_second_process_on_the_same_embedded_state_is_refused(state_dir: Path) -> None:
    with trio.fail_after(240):
        async with running_duo(state_dir, free_port()):
            env = dict(os.environ, DUO_STATE_DIR=str(state_dir), DUO_HTTP_PORT=str(free_port()), DUO_CHAT_PORTS=str(free_port()))
            env.pop("DUO_DB_HOST", None)
            second = await trio.run_process([sys.executable, "-m", "duo", "serve"], env=env, capture_stderr=True, check=False)
            assert second.returncode == 2
            assert "used by another duo process" in second.stderr.decode().strip().splitlines()[-1]
