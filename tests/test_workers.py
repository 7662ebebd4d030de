"""`duo serve --workers 2`: two processes share the HTTP port; SIGTERM drains both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import trio

from duo.cli import main
from duo.config import load_config
from duo.workers import chat_shares, port_text, worker_count
from tests.test_e2e_process import free_port, serve_env, state_dir  # noqa: F401  (fixture)


async def wait_for_count(stream: trio.abc.ReceiveStream, needle: bytes, count: int, seen: bytearray) -> None:
    while seen.count(needle) < count:
        chunk = await stream.receive_some(65536)
        assert chunk, f"duo exited before printing {needle!r} {count} times:\n{seen.decode(errors='replace')}"
        seen += chunk


def test_chat_ports_split_into_contiguous_shares() -> None:
    assert chat_shares([5443, 5444, 5445, 5446, 5447], 2) == [[5443, 5444, 5445], [5446, 5447]]
    assert chat_shares([5443], 2) == [[5443], []]
    assert [port_text(s) for s in chat_shares([5443, 5444, 5445], 3)] == ["5443", "5444", "5445"]
    assert port_text([5446, 5447]) == "5446-5447" and port_text([]) == ""


def test_worker_count_defaults_to_one_in_dev_and_a_core_each_in_prod() -> None:
    dev = load_config(env={})
    prod = load_config(env={"DUO_ENV": "prod", "DUO_REPORT_EMAIL": "mods@example.com"})
    assert worker_count(dev, None) == 1
    assert worker_count(prod, None) == len(os.sched_getaffinity(0))
    assert worker_count(dev, 3) == 3
    assert worker_count(load_config(env={"DUO_HTTP_WORKERS": "2"}), None) == 2


def test_a_worker_count_below_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--workers", "0"])
    assert exit_.value.code == 2 and "--workers" in capsys.readouterr().err


@asynccontextmanager
async def serving_workers(env: dict[str, str]) -> AsyncIterator[tuple[trio.Process, bytearray]]:
    """`duo serve --workers 2` with its stderr so far; killed if still running at the end."""
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "duo", "serve", "--workers", "2"], env=env, stderr=subprocess.PIPE
    )
    try:
        yield proc, bytearray()
    finally:
        if proc.returncode is None:
            proc.kill()


async def test_two_workers_share_the_port_and_drain_on_sigterm(state_dir: Path) -> None:  # noqa: F811
    port = free_port()
    chat = free_port()
    env = serve_env(state_dir, port, f"{chat}-{chat + 1}")
    with trio.fail_after(120):
        async with serving_workers(env) as (proc, log):
            assert proc.stderr is not None
            await wait_for_count(proc.stderr, b"duo is serving HTTP", 2, log)
            pids = set()
            for _ in range(200):  # a new connection each time: the kernel picks a worker per connection
                async with httpx.AsyncClient() as http:
                    response = await http.get(f"http://127.0.0.1:{port}/health")
                assert response.status_code == 200 and response.text == "status: ok"
                pids.add(int(response.headers["X-Duo-Pid"]))
                if len(pids) == 2:
                    break
            assert len(pids) == 2 and proc.pid not in pids
            proc.send_signal(signal.SIGTERM)
            await wait_for_count(proc.stderr, b"duo stopped", 3, log)  # each worker, then the parent
            assert await proc.wait() == 0


async def test_sigterm_while_the_workers_start_is_a_clean_stop(state_dir: Path) -> None:  # noqa: F811
    env = serve_env(state_dir, free_port(), str(free_port()))
    with trio.fail_after(120):
        async with serving_workers(env) as (proc, log):
            assert proc.stderr is not None
            await wait_for_count(proc.stderr, b"started 2 workers", 1, log)
            proc.send_signal(signal.SIGTERM)  # the workers are still importing and warming up
            while chunk := await proc.stderr.receive_some(65536):
                log += chunk
            assert await proc.wait() == 0, log.decode(errors="replace")[-4000:]
