import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import trio

from duo.actors.blocklist import BlockListHolder, refresh_once, start_blocklist
from duo.actors.runtime import open_supervisor
from duo.services import Services
from tests.plugins.app import serve

NETSET = "# FireHOL-style list\n203.0.113.0/24\n2001:db8::/32\n"


@pytest.fixture
def netset_server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving one netset file."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "firehol_anonymous.netset").write_text(NETSET)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/firehol_anonymous.netset"
    finally:
        server.shutdown()


async def test_download_caches_and_cache_serves_offline(tmp_path: Path, netset_server: str) -> None:
    with trio.fail_after(20):
        holder = BlockListHolder()
        assert not holder.blocked("203.0.113.9")  # fail open before the first load
        await refresh_once(holder, [netset_server], tmp_path / "cache", download=True)
        assert holder.blocked("203.0.113.9") and holder.blocked("2001:db8::1")
        assert not holder.blocked("198.51.100.1")
        assert (tmp_path / "cache" / "firehol_anonymous.netset").read_text() == NETSET

        offline = BlockListHolder()
        await refresh_once(offline, ["http://127.0.0.1:9/firehol_anonymous.netset"], tmp_path / "cache", download=True)
        assert offline.blocked("203.0.113.9")


async def test_the_supervised_refresher_loads_the_lists_and_stops_with_its_supervisor(
    tmp_path: Path, netset_server: str
) -> None:
    with trio.fail_after(20):
        holder = BlockListHolder()
        async with open_supervisor(grace=5) as supervisor:
            ref = await start_blocklist(supervisor, holder, [netset_server], tmp_path / "cache", 3600, download=True)
            await holder.loaded.wait()
            assert holder.blocked("203.0.113.9") and not holder.blocked("198.51.100.1")
        # the block was left: the supervisor stopped the refresher (it would sleep an hour)
        assert ref.queued() == 0 and (tmp_path / "cache" / "firehol_anonymous.netset").exists()


async def test_sign_in_from_a_listed_address_is_460(svc: Services, tmp_path: Path) -> None:
    with trio.fail_after(20):
        holder = BlockListHolder()
        (tmp_path / "cache").mkdir()
        (tmp_path / "cache" / "list.netset").write_text(NETSET)
        await refresh_once(holder, ["http://unused.invalid/list.netset"], tmp_path / "cache", download=False)
        proxied = attrs.evolve(svc.config.http, trusted_proxies=["127.0.0.1/32"])
        blocking = attrs.evolve(svc, config=attrs.evolve(svc.config, http=proxied), ip_blocked=holder.blocked)
        async with serve(blocking) as client:
            headers = {"X-Forwarded-For": "203.0.113.7"}
            r = await client.post("/request-otp", json={"email": "x@example.com"}, headers=headers)
            assert (r.status_code, r.text) == (460, "IP address blocked")
            r = await client.post("/request-otp", json={"email": "x@example.com"}, headers={"X-Forwarded-For": "198.51.100.7"})
            assert r.status_code == 200
        assert await svc.db.fetchval("SELECT count(*) FROM duo_session") == 1
