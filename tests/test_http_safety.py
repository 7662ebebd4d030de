"""Safety gates on every sign-in endpoint safety.md §1 names: IP block lists (460), bans (461)."""

from __future__ import annotations

from pathlib import Path

import attrs
import httpx
import trio

from duo.actors.blocklist import BlockListHolder, refresh_once
from duo.services import Services
from tests.plugins.app import bearer, serve

LISTED = "203.0.113.7"
CLEAN = "198.51.100.7"


async def behind_proxy(svc: Services, tmp_path: Path) -> Services:
    """``svc`` trusting loopback's X-Forwarded-For, with 203.0.113.0/24 on a block list."""
    holder = BlockListHolder()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "list.netset").write_text("203.0.113.0/24\n")
    await refresh_once(holder, ["http://unused.invalid/list.netset"], tmp_path / "cache", download=False)
    http = attrs.evolve(svc.config.http, trusted_proxies=["127.0.0.1/32"])
    return attrs.evolve(svc, config=attrs.evolve(svc.config, http=http), ip_blocked=holder.blocked)


async def request_otp(client: httpx.AsyncClient, email: str) -> str:
    r = await client.post("/request-otp", json={"email": email}, headers={"X-Forwarded-For": CLEAN})
    assert r.status_code == 200, r.text
    return str(r.json()["session_token"])


async def test_every_otp_step_refuses_a_listed_address(svc: Services, tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with serve(await behind_proxy(svc, tmp_path)) as client:
            token = await request_otp(client, "ip@example.com")
            before = await svc.db.fetchrow("SELECT otp_expiry, signed_in, host(ip_address) AS ip FROM duo_session")

            for path, body in (("/resend-otp", None), ("/check-otp", {"otp": "000000"})):
                r = await client.post(path, json=body, headers={**bearer(token), "X-Forwarded-For": LISTED})
                assert (r.status_code, r.text) == (460, "IP address blocked"), path
            after = await svc.db.fetchrow("SELECT otp_expiry, signed_in, host(ip_address) AS ip FROM duo_session")
            assert dict(after) == dict(before) and before["signed_in"] is False and before["ip"] == CLEAN

            r = await client.post("/check-otp", json={"otp": "000000"}, headers={**bearer(token), "X-Forwarded-For": CLEAN})
            assert r.status_code == 200


async def test_resend_otp_refuses_a_ban_that_came_after_the_request(svc: Services, tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with serve(await behind_proxy(svc, tmp_path)) as client:
            token = await request_otp(client, "later@example.com")
            otp = await svc.db.fetchval("SELECT otp_expiry FROM duo_session")
            await svc.db.execute(
                "INSERT INTO banned_person (normalized_email, ip_address) VALUES ('someone-else@example.com', $1)", CLEAN
            )
            r = await client.post("/resend-otp", headers={**bearer(token), "X-Forwarded-For": CLEAN})
            assert (r.status_code, r.text) == (461, "Banned")
            await svc.db.execute("UPDATE banned_person SET expires_at = now() - interval '1 second'")
            assert await svc.db.fetchval("SELECT otp_expiry FROM duo_session") == otp
            r = await client.post("/resend-otp", headers={**bearer(token), "X-Forwarded-For": CLEAN})
            assert r.status_code == 200
