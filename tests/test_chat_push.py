"""Push delivery (chat-protocol §8.1) against the local Expo-format server (tests/plugins/expo.py).

Real sockets are awaited, so no MockClock: retry delays come tiny from the settings.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import trio

from duo.actors.runtime import open_supervisor
from duo.chat.push import (
    PushMessage,
    PushSettings,
    push_body,
    push_sender,
    send_batch,
    start_pusher,
)
from duo.sql.database import Database
from tests.plugins.expo import FakeExpo

STALE = {"status": "error", "message": "not a registered push token", "details": {"error": "DeviceNotRegistered"}}


def push(n: int, username: str = "u", **overrides: Any) -> PushMessage:
    values: dict[str, Any] = {
        "username": username,
        "token": f"ExponentPushToken[{n}]",
        "title": "Alice sent you a message",
        "body": f"message {n}",
        "data": {"screen": "Conversation Screen", "params": {"personId": 1, "name": "Alice"}},
    }
    return PushMessage(**(values | overrides))


def quick(url: str, attempts: int = 3) -> PushSettings:
    return PushSettings(url=url, attempts=attempts, retry_initial=0.001, retry_max=0.002, timeout=5)


def test_push_body_is_cut_to_20_lines_then_125_characters() -> None:
    assert push_body("hello") == "hello"
    assert push_body("  hello  ") == "hello..."
    assert push_body("x" * 125) == "x" * 125
    assert push_body("x" * 126) == "x" * 125 + "..."
    assert push_body("a\n" * 25) == ("a\n" * 20).strip() + "..."
    assert push_body("Voice message\n" + "\u00a0" * 128 + "\nUpgrade") == "Voice message..."


def test_wire_item_keys_in_order_and_data_only_when_set() -> None:
    assert list(push(1).wire()) == ["to", "title", "body", "data", "sound", "priority"]
    bare = push(1, data={}).wire()
    assert bare == {"to": "ExponentPushToken[1]", "title": "Alice sent you a message", "body": "message 1",
                    "sound": "default", "priority": "high"}


async def test_one_post_per_batch_in_expo_format(expo: FakeExpo, db: Database) -> None:
    with trio.fail_after(30):
        async with httpx.AsyncClient() as client:
            await send_batch(client, quick(expo.url), db, [push(1), push(2)])
        [request] = expo.requests
        assert request.headers["accept"] == "application/json"
        assert request.headers["accept-encoding"] == "gzip, deflate"
        assert request.headers["content-type"] == "application/json"
        assert request.items == [push(1).wire(), push(2).wire()]
        assert request.body.startswith(b'[{"to": "ExponentPushToken[1]", "title": ')


async def test_device_not_registered_removes_that_token(expo: FakeExpo, db: Database) -> None:
    with trio.fail_after(30):
        await db.execute(
            "INSERT INTO duo_push_token (username, token) VALUES ('stale', 'ExponentPushToken[1]'), "
            "('renewed', 'ExponentPushToken[new]'), ('fine', 'ExponentPushToken[3]'), ('other', 'ExponentPushToken[4]')"
        )
        expo.script.append((200, {"data": [
            STALE,
            STALE,  # registered a new token since: kept
            {"status": "ok", "id": "t"},
            {"status": "error", "message": "too big", "details": {"error": "MessageTooBig"}},
        ]}))
        batch = [push(1, "stale"), push(2, "renewed"), push(3, "fine"), push(4, "other")]
        async with httpx.AsyncClient() as client:
            await send_batch(client, quick(expo.url), db, batch)
        tokens = {r["username"]: r["token"] for r in await db.fetch("SELECT * FROM duo_push_token")}
        assert tokens == {"renewed": "ExponentPushToken[new]", "fine": "ExponentPushToken[3]", "other": "ExponentPushToken[4]"}


async def test_server_errors_and_429_are_retried(expo: FakeExpo, db: Database) -> None:
    with trio.fail_after(30):
        expo.script += [(503, {"errors": []}), (429, {"errors": []})]
        async with httpx.AsyncClient() as client:
            await send_batch(client, quick(expo.url), db, [push(1)])
        assert len(expo.requests) == 3
        assert expo.requests[0].body == expo.requests[2].body


async def test_undeliverable_batch_is_logged_once_and_dropped(
    expo: FakeExpo, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with trio.fail_after(30):
        expo.script += [(500, {}), (500, {}), (500, {}), (400, {"errors": [{"code": "VALIDATION_ERROR"}]})]
        caplog.set_level(logging.WARNING, logger="duo.chat.push")
        async with httpx.AsyncClient() as client:
            await send_batch(client, quick(expo.url), db, [push(1)])  # three 500s: gives up
            assert len(expo.requests) == 3
            await send_batch(client, quick(expo.url), db, [push(2)])  # a 400 is not retried
            assert len(expo.requests) == 4
        dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
        assert len(dropped) == 2
        assert "after 3 attempts: HTTP 500" in dropped[0] and "HTTP 400" in dropped[1]


async def test_unreachable_endpoint_never_raises(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    with trio.fail_after(30):
        listener = trio.socket.socket()
        await listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        listener.close()  # nothing listens there now
        caplog.set_level(logging.ERROR, logger="duo.chat.push")
        async with httpx.AsyncClient() as client:
            await send_batch(client, quick(f"http://127.0.0.1:{port}/push", attempts=2), db, [push(1)])
        assert any("dropped after 2 attempts: ConnectError" in r.getMessage() for r in caplog.records)


async def test_the_pusher_actor_batches_up_to_100(expo: FakeExpo, db: Database) -> None:
    with trio.fail_after(30):
        async with open_supervisor(grace=5) as supervisor:
            pusher = await start_pusher(supervisor, quick(expo.url), db)
            queue_push = push_sender(pusher)
            for n in range(150):
                queue_push(push(n))
            first, second = await expo.next_request(), await expo.next_request()
        assert [len(first.items), len(second.items)] == [100, 50]
        assert [i["to"] for i in first.items + second.items] == [f"ExponentPushToken[{n}]" for n in range(150)]
