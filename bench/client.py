"""A lean keep-alive HTTP/1.1 client on raw trio sockets, shared by the benchmarks.

It costs little of the two cores it shares with the server.  Each client owns one
connection and sends its next request when the previous answer is complete; a client
given several requests sends them in turn.

bench/http.py is named like the stdlib package, so the benchmarks drop the bench directory
from ``sys.path`` and load this file by its path with importlib.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
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
