import datetime as dt

import attrs
import httpx
import trio

from duo.ratelimit import MemoryCounter
from duo.services import Services
from tests.factories import onboarded_user
from tests.plugins.app import serve


def freeze(svc: Services, at: dt.datetime) -> None:
    svc.now = lambda: at


async def test_stats_counts_active_users_and_club_members(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        t0 = dt.datetime(2025, 6, 1, 12, 0, 5, tzinfo=dt.UTC)
        freeze(svc, t0)
        await onboarded_user(svc, clubs=["anime"])
        await onboarded_user(svc, "Bob", clubs=["anime", "chess"])
        await onboarded_user(svc, "Cy", activated=False)

        r = await client.get("/stats")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.json() == {"num_active_users": 2}
        assert (await client.get("/stats", params={"club-name": "anime"})).json() == {"num_active_users": 2}
        assert (await client.get("/stats", params={"club-name": "chess"})).json() == {"num_active_users": 1}
        assert (await client.get("/stats", params={"club-name": "Anime"})).json() == {"num_active_users": 0}
        assert (await client.get("/stats", params={"club-name": "x" * 500})).json() == {"num_active_users": 0}

        # cached for the rest of the minute, per endpoint and arguments
        await onboarded_user(svc, "Dee", clubs=["anime"])
        freeze(svc, t0 + dt.timedelta(seconds=50))
        assert (await client.get("/stats")).json() == {"num_active_users": 2}
        assert (await client.get("/stats", params={"club-name": "anime"})).json() == {"num_active_users": 2}
        freeze(svc, t0 + dt.timedelta(seconds=60))
        assert (await client.get("/stats")).json() == {"num_active_users": 3}
        assert (await client.get("/stats", params={"club-name": "anime"})).json() == {"num_active_users": 3}


async def test_gender_stats(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        t0 = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
        freeze(svc, t0)
        # nobody yet: no division by zero
        assert (await client.get("/gender-stats")).json() == {"gender_ratio": 0.0, "non_binary_percentage": 0.0}

        freeze(svc, t0 + dt.timedelta(minutes=1))
        await onboarded_user(svc, "Al", gender="Man")
        await onboarded_user(svc, "Ben", gender="Man")
        # no women: the ratio is the number of men
        assert (await client.get("/gender-stats")).json() == {"gender_ratio": 2.0, "non_binary_percentage": 0.0}

        freeze(svc, t0 + dt.timedelta(minutes=2))
        await onboarded_user(svc, "Cat", gender="Woman")
        await onboarded_user(svc, "Dee", gender="Non-binary")
        await onboarded_user(svc, "Eve", gender="Woman", activated=False)
        r = await client.get("/gender-stats")
        assert r.status_code == 200
        assert r.json() == {"gender_ratio": 2.0, "non_binary_percentage": 25.0}


async def test_update_notifications(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        alice = await onboarded_user(svc, email="alice+<i>x</i>@example.com")

        async def frequencies() -> tuple[int, int]:
            row = await svc.db.fetchrow(
                "SELECT intros_notification, chats_notification FROM person WHERE id = $1", alice.person_id
            )
            return row["intros_notification"], row["chats_notification"]

        assert await frequencies() == (2, 1)
        r = await client.get("/update-notifications", params={"email": alice.email, "type": "Intros", "frequency": "Weekly"})
        assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.text == (
            "✅ <b>Intros</b> notification frequency set to <b>Weekly</b> for "
            "<b>alice+&lt;i&gt;x&lt;/i&gt;@example.com</b>"
        )
        assert await frequencies() == (4, 1)
        r = await client.get("/update-notifications", params={"email": alice.email, "type": "Chats", "frequency": "Never"})
        assert r.status_code == 200
        assert await frequencies() == (4, 5)
        r = await client.get("/update-notifications", params={"email": alice.email, "type": "Every", "frequency": "Every 3 days"})
        assert r.status_code == 200 and "<b>Every 3 days</b>" in r.text
        assert await frequencies() == (3, 3)

        bad = [
            ({"email": alice.email, "type": "<script>", "frequency": "Daily"}, "Invalid type"),
            ({"email": alice.email, "type": "intros", "frequency": "Daily"}, "Invalid type"),
            ({"email": alice.email, "type": "Intros", "frequency": "Hourly"}, "Invalid email address or notification frequency"),
            ({"email": "nobody@example.com", "type": "Intros", "frequency": "Daily"}, "Invalid email address or notification frequency"),
            ({"email": alice.email.upper(), "type": "Intros", "frequency": "Daily"}, "Invalid email address or notification frequency"),
        ]
        for params, message in bad:
            r = await client.get("/update-notifications", params=params)
            assert (r.status_code, r.text) == (400, message), params
        for missing in ("email", "type", "frequency"):
            params = {"email": alice.email, "type": "Intros", "frequency": "Daily"}
            del params[missing]
            r = await client.get("/update-notifications", params=params)
            assert r.status_code == 400 and r.json()[0]["loc"] == [missing]
        assert await frequencies() == (3, 3)


async def test_public_endpoints_have_the_per_ip_limit(svc: Services) -> None:
    http_config = attrs.evolve(svc.config.http, trusted_proxies=["127.0.0.0/8"])
    behind_proxy = attrs.evolve(
        svc, config=attrs.evolve(svc.config, http=http_config), counter=MemoryCounter(clock=lambda: 0.0)
    )
    with trio.fail_after(30):
        async with serve(behind_proxy) as client:
            for _ in range(12):
                r = await client.get("/stats", headers={"X-Forwarded-For": "8.8.8.8"})
                assert r.status_code == 200
            r = await client.get("/stats", headers={"X-Forwarded-For": "8.8.8.8"})
            assert r.status_code == 429 and "12 per 1 second" in r.text
