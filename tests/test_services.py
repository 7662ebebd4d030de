"""The one assembly of the process's services (duo.services.open_services)."""

from __future__ import annotations

from pathlib import Path

import trio

from duo.actors.mailer import otp_mail
from duo.chat.push import PushMessage
from duo.locations import LocationIndex
from duo.minute_cache import MinuteCache
from duo.ratelimit import MemoryCounter, RedisCounter
from duo.services import open_services
from duo.sql.database import DbSettings
from tests.plugins.app import test_config as make_config
from tests.plugins.expo import FakeExpo


async def test_opens_every_service_from_the_config_and_closes_them(
    db_settings: DbSettings, tmp_path: Path, redis_url: str
) -> None:
    with trio.fail_after(60):
        config = make_config(tmp_path, DUO_REDIS_URL=redis_url)
        async with open_services(config, db_settings, media_workers=1) as svc:
            assert await svc.db.fetchval("SELECT count(*) FROM duo_schema_migration") >= 1
            assert isinstance(svc.counter, RedisCounter)
            assert isinstance(svc.minute_cache, MinuteCache) and isinstance(svc.locations, LocationIndex)
            assert await svc.locations.search("Sydn")
            await svc.storage.put("photos", "probe.jpg", b"x")
            assert await svc.storage.get("photos", "probe.jpg") == b"x"
            await svc.send_mail(otp_mail("a@example.com", "123456"))
            assert not svc.ip_blocked("203.0.113.9")  # no list loaded: fail open
        # leaving the block drained the mailer into the mail log and closed the pool
        assert "a@example.com" in (tmp_path / "mail.log").read_text()


async def test_without_redis_the_counter_is_in_process(db_settings: DbSettings, tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with open_services(make_config(tmp_path), db_settings, schema_ready=True, media_workers=1) as svc:
            assert isinstance(svc.counter, MemoryCounter)


async def test_the_process_pusher_runs_without_chat(db_settings: DbSettings, tmp_path: Path, expo: FakeExpo) -> None:
    """Jobs push through the same pusher chat uses; it is there even with no chat listener."""
    with trio.fail_after(60):
        config = make_config(tmp_path, DUO_NOTIFICATION_API_URL=expo.url, DUO_CHAT_PORTS="")
        async with open_services(config, db_settings, schema_ready=True, media_workers=1) as svc:
            svc.send_push(PushMessage("u", "ExponentPushToken[u]", "title", "body", {"screen": "Inbox"}))
            (item,) = (await expo.next_request()).items
            assert item["to"] == "ExponentPushToken[u]" and item["data"] == {"screen": "Inbox"}
