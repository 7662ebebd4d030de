"""Requests/s and latency of the HTTP API at several concurrencies, against a running duo.

    DUO_DISABLE_ACCOUNT_RATE_LIMIT=1 scripts/serve &        # the per-account limit is 12/s
    .venv/bin/python bench/http.py [--url http://127.0.0.1:5000] [--seconds 10]

A lean keep-alive HTTP/1.1 client on raw trio sockets, so the client costs little of the
two cores it shares with the server.  Each client owns one connection and sends its next
request when the previous answer is complete.
"""

from __future__ import annotations

import os
import sys

# This file is named http.py (as the issue asks); keep it from shadowing the stdlib package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

import trio  # noqa: E402


def _session_token(base: str, email: str) -> str:
    """Sign in as ``email`` (dev mode gives 000000 for @example.com)."""
    def post(path: str, body: dict[str, str] | None, token: str | None = None) -> bytes:
        req = urllib.request.Request(base + path, method="POST", data=json.dumps(body or {}).encode())
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req) as resp:
            return bytes(resp.read())

    token = json.loads(post("/request-otp", {"email": email}))["session_token"]
    post("/check-otp", {"otp": "000000"}, token)
    return str(token)


async def _read_response(stream: trio.SocketStream, buf: bytearray) -> bytearray:
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
        body += await stream.receive_some(65536)
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        raise RuntimeError(f"status {status}: {bytes(body[:200])!r}")
    return body[length:]


async def _client(host: str, port: int, request: bytes, until: float, latencies: list[float]) -> None:
    stream = await trio.open_tcp_stream(host, port)
    buf = bytearray()
    async with stream:
        while time.perf_counter() < until:
            start = time.perf_counter()
            await stream.send_all(request)
            buf = await _read_response(stream, buf)
            latencies.append(time.perf_counter() - start)


async def measure(url: str, method: str, path: str, token: str | None, clients: int, seconds: float) -> dict[str, float]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    headers = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Length: 0"]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    request = ("\r\n".join(headers) + "\r\n\r\n").encode()
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(clients):
            nursery.start_soon(_client, host, port, request, until, latencies)
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", default="1,10,50")
    args = parser.parse_args()
    token = _session_token(args.url, f"bench-{int(time.time())}@example.com")
    print(f"{'endpoint':<28}{'clients':>8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for method, path, auth in (("POST", "/check-session-token", token), ("GET", "/health", None)):
        for clients in (int(c) for c in args.clients.split(",")):
            r = trio.run(measure, args.url, method, path, auth, clients, args.seconds)
            print(f"{method + ' ' + path:<28}{clients:>8}{r['rps']:>10.0f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}")


if __name__ == "__main__":
    main()
