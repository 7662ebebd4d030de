"""`duo serve` as a real subprocess on its embedded defaults, driven over real sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import trio


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_duo(state: Path, port: int) -> tuple[trio.Process, trio.abc.ReceiveStream]:
    env = dict(
        os.environ,
        DUO_ENV="dev",
        DUO_STATE_DIR=str(state),
        DUO_HTTP_PORT=str(port),
        DUO_HTTP_HOST="127.0.0.1",
        DUO_CHAT_PORTS=str(free_port()),
    )
    env.pop("DUO_DB_HOST", None)
    proc = await trio.lowlevel.open_process([sys.executable, "-m", "duo", "serve"], env=env, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    return proc, proc.stderr


async def wait_for_line(stream: trio.abc.ReceiveStream, needle: bytes, seen: bytearray) -> None:
    while needle not in seen:
        chunk = await stream.receive_some(65536)
        assert chunk, f"duo exited before printing {needle!r}:\n{seen.decode(errors='replace')}"
        seen += chunk


async def test_serve_sign_in_restart_and_sigterm(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with trio.fail_after(240):
        proc, stderr = await start_duo(tmp_path, port)
        log = bytearray()
        try:
            await wait_for_line(stderr, b"duo is serving HTTP", log)
            async with httpx.AsyncClient(base_url=base) as http:
                assert (await http.get("/health")).text == "status: ok"
                r = await http.post("/request-otp", json={"email": "first@example.com"})
                token = r.json()["session_token"]
                r = await http.post("/check-otp", json={"otp": "000000"}, headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, r.text
            proc.send_signal(signal.SIGTERM)
            await wait_for_line(stderr, b"duo stopped", log)
            assert await proc.wait() == 0
        finally:
            if proc.returncode is None:
                proc.kill()
        assert b"first@example.com" in (tmp_path / "mail.log").read_bytes()

        # data survive a restart: the same session is still signed in
        proc, stderr = await start_duo(tmp_path, port)
        log = bytearray()
        try:
            await wait_for_line(stderr, b"duo is serving HTTP", log)
            async with httpx.AsyncClient(base_url=base) as http:
                r = await http.post("/check-session-token", headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200 and r.json()["onboarded"] is False
            proc.send_signal(signal.SIGINT)
            await wait_for_line(stderr, b"duo stopped", log)
            assert await proc.wait() == 0
        finally:
            if proc.returncode is None:
                proc.kill()


async def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with trio.fail_after(60):
        env = dict(os.environ, DUO_CHAT_PORTS="5447-5443", DUO_STATE_DIR=str(tmp_path))
        result = await trio.run_process([sys.executable, "-m", "duo", "serve"], env=env, capture_stderr=True, check=False)
        assert result.returncode == 2
        lines = result.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and "chat.ports" in lines[0], lines
