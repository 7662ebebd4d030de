"""Requests/s and latency of the HTTP API at several concurrencies, against a running duo.

    DUO_DISABLE_ACCOUNT_RATE_LIMIT=1 scripts/serve &        # the per-account limit is 12/s
    .venv/bin/python bench/http.py [--url http://127.0.0.1:5000] [--seconds 10]

The client is the lean raw-socket one of bench/client.py (one keep-alive connection per
client), so it costs little of the two cores it shares with the server.
"""

from __future__ import annotations

import os
import sys

# This file is named http.py (as the issue asks); keep it from shadowing the stdlib package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

import trio  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_client", os.path.join(os.path.dirname(__file__), "client.py"))
assert _spec and _spec.loader
client = sys.modules["bench_client"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(client)


ONBOARDING = (
    {"name": "Bench"},
    {"date_of_birth": "1995-05-05"},
    {"location": "Sydney, New South Wales, Australia"},
    {"gender": "Woman"},
    {"other_peoples_genders": ["Man"]},
)


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
            request = client.build_request(args.url, method, path, auth)
            r = trio.run(client.measure, args.url, [[request]] * clients, args.seconds)
            print(f"{method + ' ' + path:<28}{clients:>8}{r.rps:>10.0f}{r.p50_ms:>10.1f}{r.p99_ms:>10.1f}")


if __name__ == "__main__":
    main()
