"""Latency (p50/p95/p99) and requests/s of search, prospect profiles and the feed, against a
running duo holding a population (``duo populate``).

    DUO_STATE_DIR=/tmp/duo-bench-100k .venv/bin/duo populate --users 100000
    DUO_STATE_DIR=/tmp/duo-bench-100k DUO_DISABLE_ACCOUNT_RATE_LIMIT=1 DUO_DISABLE_IP_RATE_LIMIT=1 \\
        .venv/bin/duo serve &
    .venv/bin/python bench/search.py --url http://127.0.0.1:5000 [--seconds 10] [--clients 1,10] \\
        [--pgdata /tmp/duo-bench-100k/postgres]

The server MUST run with both rate-limit switches (``DUO_DISABLE_ACCOUNT_RATE_LIMIT=1``,
``DUO_DISABLE_IP_RATE_LIMIT=1``) and in dev mode: the uncached search allows 15 requests per
2 minutes per account and per IP, and the searchers sign up with dev mode's OTP.

Searchers are made through the API, by the same sign-up code as ``duo user create``
(duo.seeding.users.sign_up, here over HTTP): so their search preferences are exactly the
defaults /finish-onboarding picks against the population being measured (30 answers each,
men seeking women and women seeking men, in big cities).  The adversarial searchers then
set every filter through POST /search-filter: each lookup filter allows all but one to
three of its values, ages 18–99, 9000 km.

Cases, each for a fixed duration with 1 and with 10 clients (client i searches as the
searchers i, i + clients, … in turn, one keep-alive connection each; bench/client.py):
``/search?n=10&o=0`` (uncached: rebuilds the cache), ``/search?n=10&o=10`` (cached page),
``/search`` (quiz), ``/prospect-profile/<uuid>`` (uuids from the searchers' results),
``/feed?before=<now>``.  Besides latency it prints the server's CPU per request (utime +
stime of every process listening on the port) and, with ``--pgdata``, PostgreSQL's: on a
shared machine they move far less with the neighbours' load than latency does.
"""

from __future__ import annotations

import os
import sys

# bench/http.py would shadow the stdlib package that urllib imports.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from typing import Any  # noqa: E402

import trio  # noqa: E402

from duo.search.filters import SET_FILTERS  # noqa: E402
from duo.seeding.users import Profile, SeedingError, sign_up  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_client", os.path.join(os.path.dirname(__file__), "client.py"))
assert _spec and _spec.loader
client = sys.modules["bench_client"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(client)

CITIES = (
    "New York, New York, United States",
    "London, England, United Kingdom",
    "Los Angeles, California, United States",
    "Sydney, New South Wales, Australia",
    "Toronto, Ontario, Canada",
    "Chicago, Illinois, United States",
    "Berlin, Berlin, Germany",
    "Paris, Ile-de-France, France",
    "Melbourne, Victoria, Australia",
    "Houston, Texas, United States",
)
SEARCHER_ANSWERS = 30


class HttpApi:
    """duo.seeding.users.Api over real HTTP (urllib in a worker thread: setup only)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""

    async def call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        return await trio.to_thread.run_sync(self._call, method, path, body, query)

    def _call(self, method: str, path: str, body: Any, query: dict[str, Any] | None) -> Any:
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req) as resp:
                raw = resp.read()
                return json.loads(raw) if resp.headers.get_content_type() == "application/json" else raw.decode()
        except urllib.error.HTTPError as e:
            raise SeedingError(f"{method} {path}: {e.code} {e.read()[:300]!r}") from None


async def make_searchers(base: str, count: int, tag: str, adversarial: bool) -> list[HttpApi]:
    rng = random.Random(tag)
    searchers = []
    for i in range(count):
        api = HttpApi(base)
        man = i % 2 == 0
        profile = Profile(
            gender="Man" if man else "Woman",
            wanted_genders=("Woman",) if man else ("Man",),
            location=CITIES[i % len(CITIES)],
            age=24 + (i * 3) % 13,
            answers=SEARCHER_ANSWERS,
        )
        await sign_up(api, f"Bench{tag}{i}", profile, dt.date.today())
        if adversarial:
            await make_adversarial(api, rng)
        searchers.append(api)
    return searchers


async def make_adversarial(api: HttpApi, rng: random.Random) -> None:
    """Every lookup filter allows all but one to three values; ages 18–99; 9000 km."""
    stored = await api.call("GET", "/search-filters")
    for key in SET_FILTERS:
        names: list[str] = stored[key]
        drop = set(rng.sample(names, min(rng.randint(1, 3), len(names) - 1)))
        await api.call("POST", "/search-filter", {key: [n for n in names if n not in drop]})
    await api.call("POST", "/search-filter", {"age": {"min_age": 18, "max_age": 99}})
    await api.call("POST", "/search-filter", {"furthest_distance": 9000})


async def prospects(searchers: list[HttpApi]) -> dict[str, list[str]]:
    """Each searcher's first three pages of results (an uncached search, then cached pages):
    the prospects it may open (masked entries have no uuid)."""
    found: dict[str, list[str]] = {}
    for api in searchers:
        found[api.token] = []
        for offset in (0, 10, 20):
            page = await api.call("GET", "/search", query={"n": 10, "o": offset})
            found[api.token] += [item["prospect_uuid"] for item in page if item["prospect_uuid"]]
    return found


def cases(url: str, searchers: list[HttpApi], visits: dict[str, list[str]]) -> list[tuple[str, dict[str, list[bytes]]]]:
    """(case name, token → requests that searcher sends)."""
    before = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def each(path: str) -> dict[str, list[bytes]]:
        return {a.token: [client.build_request(url, "GET", path, a.token)] for a in searchers}

    return [
        ("search uncached o=0", each("/search?n=10&o=0")),
        ("search cached o=10", each("/search?n=10&o=10")),
        ("search quiz", each("/search")),
        (
            "prospect-profile",
            {
                a.token: [client.build_request(url, "GET", f"/prospect-profile/{u}", a.token) for u in visits[a.token]]
                for a in searchers
                if visits[a.token]
            },
        ),
        ("feed", each(f"/feed?before={before}")),
    ]


def per_client(requests: dict[str, list[bytes]], clients: int) -> list[list[bytes]]:
    """Client i takes the searchers i, i + clients, …, each of their requests in turn."""
    lists = list(requests.values())
    return [[r for own in lists[i::clients] for r in own] for i in range(min(clients, len(lists)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each case")
    parser.add_argument("--clients", default="1,10", help="concurrencies, comma-separated")
    parser.add_argument("--searchers", type=int, default=10, help="searchers per preference set")
    parser.add_argument("--label", default="", help="shown in the first column (e.g. the population size)")
    parser.add_argument("--only", default="", help="run only the cases whose name contains this")
    parser.add_argument("--cases", default="", help="run only these cases (exact names, comma-separated)")
    parser.add_argument("--pgdata", default="", help="PostgreSQL's data directory: also show its CPU per request")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    tag = format(int(time.time()) % 36**5, "x")
    concurrencies = [int(c) for c in args.clients.split(",")]
    wanted = {c.strip() for c in args.cases.split(",") if c.strip()}
    print(f"{'users':<8}{'preferences':<13}{'case':<22}{'clients':>8}{'requests':>10}{'req/s':>9}"
          f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'srv ms/req':>11}{'pg ms/req':>10}", flush=True)
    servers = client.listening_pids(client.host_port(url)[1])
    for kind in ("default", "adversarial"):
        searchers = await make_searchers(url, args.searchers, f"{tag}{kind[0]}", kind == "adversarial")
        visits = await prospects(searchers)
        for name, requests in cases(url, searchers, visits):
            for clients in concurrencies:
                if not requests or args.only not in name or (wanted and name not in wanted):
                    continue
                postgres = client.postgres_pids(args.pgdata)  # backends come and go: look each time
                before = client.cpu_seconds(servers), client.cpu_seconds(postgres)
                r = await client.measure(url, per_client(requests, clients), args.seconds)
                served = max(r.requests, 1)
                srv_ms = 1000 * (client.cpu_seconds(servers) - before[0]) / served
                pg_ms = 1000 * (client.cpu_seconds(postgres) - before[1]) / served
                print(f"{args.label:<8}{kind:<13}{name:<22}{clients:>8}{r.requests:>10}{r.rps:>9.1f}"
                      f"{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}{r.p99_ms:>9.1f}{srv_ms:>11.2f}{pg_ms:>10.2f}", flush=True)


if __name__ == "__main__":
    trio.run(main)
