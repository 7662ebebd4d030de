"""A lean keep-alive HTTP/1.1 client on raw trio sockets, shared by the benchmarks.

It costs little of the two cores it shares with the server.  Each client owns one
connection and sends its next request when the previous answer is complete; a client
given several requests sends them in turn.

bench/http.py is named like the stdlib package, so the benchmarks drop the bench directory
from ``sys.path`` and load this file by its path with importlib.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import attrs
import trio


@attrs.frozen
class Result:
    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def host_port(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80


def build_request(url: str, method: str, path: str, token: str | None = None) -> bytes:
    """The bytes of one body-less request."""
    host, port = host_port(url)
    headers = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Length: 0"]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode()


async def read_response(stream: trio.SocketStream, buf: bytearray) -> tuple[bytes, bytearray]:
    """(body of a 200 answer, bytes already read past it); other statuses raise."""
    while b"\r\n\r\n" not in buf:
        chunk = await stream.receive_some(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = bytearray(rest)
    while len(body) < length:
        chunk = await stream.receive_some(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        body += chunk
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        raise RuntimeError(f"status {status}: {bytes(body[:200])!r}")
    return bytes(body[:length]), body[length:]


async def _client(
    url: str, requests: Sequence[bytes], until: float, limit: int | None, latencies: list[float]
) -> None:
    sent = 0
    while time.perf_counter() < until and (limit is None or sent < limit):
        # hypercorn closes a keep-alive connection after 1000 requests: reconnect (not timed)
        stream = await trio.open_tcp_stream(*host_port(url))
        buf = bytearray()
        async with stream:
            while time.perf_counter() < until and (limit is None or sent < limit):
                start = time.perf_counter()
                try:
                    await stream.send_all(requests[sent % len(requests)])
                    _, buf = await read_response(stream, buf)
                except (ConnectionError, trio.BrokenResourceError):
                    break
                latencies.append(time.perf_counter() - start)
                sent += 1


async def measure(
    url: str, per_client: Sequence[Sequence[bytes]], seconds: float, limit: int | None = None
) -> Result:
    """Run one client per request list until ``seconds`` pass (or each sent ``limit``)."""
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for requests in per_client:
            nursery.start_soon(_client, url, requests, until, limit, latencies)
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return 1000 * ordered[int(q * (len(ordered) - 1))]

    return Result(len(ordered), len(ordered) / elapsed, 1000 * statistics.median(ordered), pct(0.95), pct(0.99))


def listening_pids(port: int) -> list[int]:
    """The processes holding a listening TCP socket on ``port`` (every worker of a server)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                pids.append(int(proc.name))
        except OSError:
            continue
    return sorted(pids)


def postgres_pids(pgdata: str) -> list[int]:
    """The postmaster of ``pgdata`` (its postmaster.pid) and its backends, for their CPU."""
    if not pgdata:
        return []
    postmaster = int(Path(pgdata, "postmaster.pid").read_text().split()[0])
    children = []
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text() if proc.name.isdigit() else ""
        except OSError:
            continue
        if stat and int(stat[stat.rindex(")") + 2 :].split()[1]) == postmaster:
            children.append(int(proc.name))
    return [postmaster, *children]


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids`` (fields 14 and 15 of /proc/PID/stat)."""
    ticks = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:  # a backend that ended during the run
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
