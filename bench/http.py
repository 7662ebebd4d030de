"""Requests/s, latency and server CPU per request of the HTTP API, against a running duo.

    DUO_DISABLE_ACCOUNT_RATE_LIMIT=1 scripts/serve --workers 2 &   # the per-account limit is 12/s
    .venv/bin/python bench/http.py [--url http://127.0.0.1:5000] [--seconds 10] [--floor] [--pgdata DIR]

The load comes from wrk (``wrk -t2 -c50``, a Lua script adds the Bearer header) when it
is installed, so the client costs little of the two cores it shares with the server;
otherwise from the raw-socket client of bench/client.py.  Server CPU is the utime+stime
that the processes listening on the port spent during the run (read from /proc), over
the requests served (``--pgdata``: PostgreSQL's too).  ``--floor`` also measures a hello-world Quart-Trio app
(bench/floor.py) in one and in two processes, the framework's floor.
"""

from __future__ import annotations

import os
import sys

# This file is named http.py (as the issue asks); keep it from shadowing the stdlib package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import attrs  # noqa: E402
import trio  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_client", os.path.join(os.path.dirname(__file__), "client.py"))
assert _spec and _spec.loader
client = sys.modules["bench_client"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(client)

HERE = Path(__file__).resolve().parent

ONBOARDING = (
    {"name": "Bench"},
    {"date_of_birth": "1995-05-05"},
    {"location": "Sydney, New South Wales, Australia"},
    {"gender": "Woman"},
    {"other_peoples_genders": ["Man"]},
)

# wrk prints its own report first; done() adds one JSON line that main() reads.
WRK_SCRIPT = """
wrk.method = %(method)s
%(auth)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nRESULT {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,'
    .. '"bad":%%d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))
end
"""


@attrs.frozen
class Figure:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int
    cpu_ms: float  # server CPU per request
    pg_ms: float  # PostgreSQL CPU per request (with --pgdata)


def _session_token(base: str, email: str) -> str:
    """Sign up as ``email`` and finish onboarding (dev mode gives 000000 for @example.com)."""
    def send(method: str, path: str, body: object, token: str | None = None) -> bytes:
        req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req) as resp:
            return bytes(resp.read())

    token = str(json.loads(send("POST", "/request-otp", {"email": email}))["session_token"])
    send("POST", "/check-otp", {"otp": "000000"}, token)
    for field in ONBOARDING:
        send("PATCH", "/onboardee-info", field, token)
    send("POST", "/finish-onboarding", {}, token)
    return token


def _wrk(url: str, method: str, token: str | None, seconds: float, connections: int, threads: int) -> dict[str, int]:
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % {"method": json.dumps(method), "auth": auth})
        script.flush()
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "-s", script.name, url],
            capture_output=True, text=True, check=True,
        ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result: dict[str, int] = json.loads(line.removeprefix("RESULT "))
    return result


def _raw(url: str, path: str, method: str, token: str | None, seconds: float, connections: int) -> dict[str, int]:
    request = client.build_request(url, method, path, token)
    r = trio.run(client.measure, url, [[request]] * connections, seconds)
    return {"requests": r.requests, "duration_us": int(seconds * 1e6), "p50_us": int(r.p50_ms * 1000),
            "p99_us": int(r.p99_ms * 1000), "bad": 0}


def measure(url: str, method: str, path: str, token: str | None, args: argparse.Namespace) -> Figure:
    pids = client.listening_pids(client.host_port(url)[1])
    if not pids:
        raise SystemExit(f"bench: nothing listens at {url}")
    pg = client.postgres_pids(args.pgdata)
    before, pg_before = client.cpu_seconds(pids), client.cpu_seconds(pg)
    if shutil.which("wrk"):
        r = _wrk(url.rstrip("/") + path, method, token, args.seconds, args.connections, args.threads)
    else:
        r = _raw(url, path, method, token, args.seconds, args.connections)
    cpu, pg_cpu = client.cpu_seconds(pids) - before, client.cpu_seconds(pg) - pg_before
    n = max(r["requests"], 1)
    return Figure(r["requests"], n / (r["duration_us"] / 1e6), r["p50_us"] / 1000, r["p99_us"] / 1000,
                  r["bad"], 1000 * cpu / n, 1000 * pg_cpu / n)


@contextmanager
def floor_servers(port: int, processes: int) -> Iterator[str]:
    """``processes`` copies of bench/floor.py sharing ``port``; stopped on the way out."""
    # -P: bench/ must not be on sys.path (http.py would shadow the stdlib package)
    cmd = [sys.executable, "-P", str(HERE / "floor.py"), "--port", str(port)] + (["--reuse-port"] if processes > 1 else [])
    procs = [subprocess.Popen(cmd) for _ in range(processes)]
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while len(client.listening_pids(port)) < processes:
            if time.monotonic() > deadline:
                raise SystemExit("bench: the floor app did not start")
            time.sleep(0.1)
        yield url
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=50, help="concurrent clients")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--only", default="", help="comma-separated paths to measure (default: all)")
    parser.add_argument("--floor", action="store_true", help="also measure bench/floor.py in 1 and 2 processes")
    parser.add_argument("--floor-port", type=int, default=5099)
    parser.add_argument("--pgdata", default="", help="embedded PostgreSQL data dir: also report its CPU per request")
    args = parser.parse_args()
    print(f"load: {'wrk' if shutil.which('wrk') else 'bench/client.py'}, {args.connections} clients, "
          f"{args.seconds:g} s; loadavg {os.getloadavg()[0]:.2f}")
    print(f"{'endpoint':<32}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}{'PG ms/req':>11}{'bad':>6}")

    def show(label: str, f: Figure) -> None:
        print(f"{label:<32}{f.rps:>9.0f}{f.p50_ms:>9.1f}{f.p99_ms:>9.1f}{f.cpu_ms:>12.2f}{f.pg_ms:>11.2f}{f.bad:>6}",
              flush=True)

    only = {p for p in args.only.split(",") if p}
    token = None
    for method, path, auth in (("POST", "/check-session-token", True), ("GET", "/health", False)):
        if only and path not in only:
            continue
        if auth and token is None:
            token = _session_token(args.url, f"bench-{time.time_ns()}@example.com")
        show(f"{method} {path}", measure(args.url, method, path, token if auth else None, args))
    if args.floor:
        for processes in (1, 2):
            with floor_servers(args.floor_port, processes) as url:
                show(f"floor GET / ({processes} proc)", measure(url, "GET", "/", None, args))


if __name__ == "__main__":
    main()
