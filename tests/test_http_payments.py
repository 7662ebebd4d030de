"""The RevenueCat webhook (http-api-accounts §9) against real PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import trio

from duo.http.payments import IGNORED
from duo.services import Services
from duo.sessions import token_hash
from tests.factories import onboarded_user

SECRET = "Webhook-Secret-123"
AUTH = {"Authorization": f"Bearer {SECRET}"}
COLOURS = "SELECT has_gold, title_color, body_color, background_color, name FROM person WHERE id = $1"


async def configure(svc: Services) -> None:
    await svc.db.execute("UPDATE funding SET token_hash_revenuecat = $1", token_hash(SECRET))


def event(kind: str, **keys: Any) -> dict[str, Any]:
    return {"api_version": "1.0", "event": {"type": kind, "id": "evt", **keys}}


async def test_nothing_is_accepted_until_a_token_is_configured(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        alice = await onboarded_user(svc)
        r = await client.post("/revenuecat", json=event("INITIAL_PURCHASE", app_user_id=str(alice.uuid)), headers=AUTH)
        assert (r.status_code, r.text) == (401, "Unauthorized")
        assert await svc.db.fetchval("SELECT has_gold FROM person") is False


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ({}, 400, "Missing or malformed authorization header"),
        ({"Authorization": SECRET}, 400, "Missing or malformed authorization header"),
        ({"Authorization": f"Token {SECRET}"}, 400, "Missing or malformed authorization header"),
        ({"Authorization": f"Bearer {SECRET} extra"}, 400, "Missing or malformed authorization header"),
        ({"Authorization": f"Bearer {SECRET.lower()}"}, 401, "Unauthorized"),
        ({"Authorization": f"Bearer {SECRET}x"}, 401, "Unauthorized"),
    ],
)
async def test_bad_credentials_change_nothing(
    client: httpx.AsyncClient, svc: Services, headers: dict[str, str], status: int, body: str
) -> None:
    with trio.fail_after(20):
        await configure(svc)
        alice = await onboarded_user(svc)
        r = await client.post("/revenuecat", json=event("INITIAL_PURCHASE", app_user_id=str(alice.uuid)), headers=headers)
        assert (r.status_code, r.text) == (status, body)
        assert await svc.db.fetchval("SELECT has_gold FROM person") is False


async def test_bad_bodies_are_400_before_the_token_is_checked(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        for body in ({"event": "INITIAL_PURCHASE"}, {"event": [1]}, {"api_version": 2, "event": {}}):
            r = await client.post("/revenuecat", json=body)
            assert r.status_code == 400, body
            assert {e["loc"][0] for e in r.json()} <= {"event", "api_version"}


async def test_purchase_renewal_and_expiration(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        await configure(svc)
        # over the free quota thanks to gold: c05…c54 are the smallest clubs, c00…c04 have a second member
        names = [f"c{i:02}" for i in range(55)]
        alice = await onboarded_user(svc, "Alice", has_gold=True, clubs=names,
                                     title_color="#123456", body_color="#abcdef", background_color="#00ff00")
        await onboarded_user(svc, "Bob", clubs=names[:5])

        r = await client.post("/revenuecat", json=event("RENEWAL", app_user_id=str(alice.uuid).upper()),
                              headers={"Authorization": f"bEaReR {SECRET}"})
        assert r.status_code == 200
        assert r.json() == {"all_uuids": [str(alice.uuid)], "ignored_uuids": [], "updated_uuids": [str(alice.uuid)]}
        assert await svc.db.fetchval("SELECT count(*) FROM person_club WHERE person_id = $1", alice.person_id) == 55

        r = await client.post("/revenuecat", json=event("EXPIRATION", app_user_id=str(alice.uuid)), headers=AUTH)
        assert r.status_code == 200 and r.json()["updated_uuids"] == [str(alice.uuid)]
        row = await svc.db.fetchrow(COLOURS, alice.person_id)
        assert tuple(row.values()) == (False, "#000000", "#000000", "#ffffff", "Alice")
        kept = [r["club_name"] for r in await svc.db.fetch(
            "SELECT club_name FROM person_club WHERE person_id = $1 ORDER BY club_name", alice.person_id
        )]
        assert kept == names[5:]
        counts = {r["name"]: r["count_members"] for r in await svc.db.fetch("SELECT name, count_members FROM club")}
        assert all(counts[name] == 1 for name in names)

        r = await client.post("/revenuecat", json=event("INITIAL_PURCHASE", app_user_id=str(alice.uuid)), headers=AUTH)
        assert r.status_code == 200
        row = await svc.db.fetchrow(COLOURS, alice.person_id)
        assert row["has_gold"] is True and row["title_color"] == "#000000"


async def test_transfer(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        await configure(svc)
        old = await onboarded_user(svc, "Old", has_gold=True)
        new = await onboarded_user(svc, "New")
        nobody = str(uuid.uuid4())
        body = event("TRANSFER", transferred_from=[str(old.uuid), "$RCAnonymousID:abc", nobody],
                     transferred_to=[str(new.uuid), str(new.uuid)])
        r = await client.post("/revenuecat", json=body, headers=AUTH)
        assert r.status_code == 200
        assert r.json() == {
            "all_uuids": sorted([str(old.uuid), str(new.uuid), nobody, "$RCAnonymousID:abc"]),
            "ignored_uuids": sorted([nobody, "$RCAnonymousID:abc"]),
            "updated_uuids": sorted([str(old.uuid), str(new.uuid)]),
        }
        gold = {r["id"]: r["has_gold"] for r in await svc.db.fetch("SELECT id, has_gold FROM person")}
        assert gold == {old.person_id: False, new.person_id: True}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"api_version": "1.0"},
        event("CANCELLATION", app_user_id="x"),
        event("INITIAL_PURCHASE"),
        event("RENEWAL", app_user_id=5),
        event("TRANSFER", transferred_from=[], transferred_to=[]),
        event("TRANSFER", transferred_to=["a"]),
        event("TRANSFER", transferred_from="a", transferred_to=["b"]),
    ],
)
async def test_events_without_work_are_ignored(client: httpx.AsyncClient, svc: Services, body: dict[str, Any]) -> None:
    with trio.fail_after(20):
        await configure(svc)
        await onboarded_user(svc, has_gold=True)
        r = await client.post("/revenuecat", json=body, headers=AUTH)
        assert (r.status_code, r.text) == (200, IGNORED)
        assert await svc.db.fetchval("SELECT has_gold FROM person") is True
