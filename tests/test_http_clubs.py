import httpx
import trio

from duo import clubs
from duo.services import Services
from tests.factories import onboarded_user


async def club_counts(svc: Services) -> dict[str, int]:
    return {r["name"]: r["count_members"] for r in await svc.db.fetch("SELECT name, count_members FROM club")}


async def test_join_and_leave_keep_counts(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        ana = await onboarded_user(svc, "Ana")
        bo = await onboarded_user(svc, "Bo", clubs=["anime"])

        r = await client.post("/join-club", json={"name": "  Anime  "}, headers=ana.headers)
        assert (r.status_code, r.text) == (200, "Joined anime")
        assert r.headers["content-type"].startswith("text/html")
        r = await client.post("/join-club", json={"name": "Board   GAMES"}, headers=ana.headers)
        assert (r.status_code, r.text) == (200, "Joined board games")
        # joining again changes nothing
        r = await client.post("/join-club", json={"name": "anime"}, headers=ana.headers)
        assert (r.status_code, r.text) == (200, "Joined anime")
        assert await club_counts(svc) == {"anime": 2, "board games": 1}
        rows = await svc.db.fetch(
            "SELECT club_name, activated, gender_id FROM person_club WHERE person_id = $1 ORDER BY 1", ana.person_id
        )
        assert [(r["club_name"], r["activated"], r["gender_id"]) for r in rows] == [
            ("anime", True, 2), ("board games", True, 2)
        ]

        # leave-club lower-cases and collapses spaces like join-club (README decision)
        r = await client.post("/leave-club", json={"name": "ANIME"}, headers=ana.headers)
        assert (r.status_code, r.text) == (200, "")
        r = await client.post("/leave-club", json={"name": "board  games"}, headers=ana.headers)
        assert r.status_code == 200
        # leaving a club one is not in (or that does not exist) is a no-op
        r = await client.post("/leave-club", json={"name": "anime"}, headers=ana.headers)
        assert r.status_code == 200
        r = await client.post("/leave-club", json={"name": "no such club"}, headers=ana.headers)
        assert r.status_code == 200
        assert await club_counts(svc) == {"anime": 1, "board games": 0}
        assert await svc.db.fetchval("SELECT count(*) FROM person_club WHERE person_id = $1", ana.person_id) == 0
        assert await svc.db.fetchval("SELECT count(*) FROM person_club WHERE person_id = $1", bo.person_id) == 1


async def test_join_refuses_banned_names_and_full_quota(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        banned = await svc.db.fetchval("SELECT name FROM banned_club WHERE name ~ '^[a-z]{5,}$' ORDER BY name LIMIT 1")
        ana = await onboarded_user(svc, "Ana", clubs=[f"club {i}" for i in range(clubs.QUOTA)])
        r = await client.post("/join-club", json={"name": "one more"}, headers=ana.headers)
        assert (r.status_code, r.text) == (400, "Couldn't join one more")
        # already a member but at quota: also refused
        r = await client.post("/join-club", json={"name": "club 0"}, headers=ana.headers)
        assert (r.status_code, r.text) == (400, "Couldn't join club 0")

        gold = await onboarded_user(svc, "Gold", has_gold=True, clubs=[f"club {i}" for i in range(clubs.QUOTA)])
        r = await client.post("/join-club", json={"name": "one more"}, headers=gold.headers)
        assert (r.status_code, r.text) == (200, "Joined one more")

        r = await client.post("/join-club", json={"name": banned.upper()}, headers=gold.headers)
        assert (r.status_code, r.text) == (400, f"Couldn't join {banned}")
        r = await client.post("/join-club", json={"name": f"i love {banned}"}, headers=gold.headers)
        assert r.status_code == 400
        assert await svc.db.fetchval("SELECT count(*) FROM club WHERE name LIKE '%' || $1 || '%'", banned) == 0


async def test_bad_club_names_are_400(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        ana = await onboarded_user(svc, "Ana")
        for body in ({}, {"name": None}, {"name": 3}, {"name": ""}, {"name": "   "}, {"name": "x" * 43},
                     {"name": "émoji"}, {"name": "a.b"}):
            for path in ("/join-club", "/leave-club"):
                r = await client.post(path, json=body, headers=ana.headers)
                assert r.status_code == 400, (path, body, r.text)
                assert all(set(e) == {"type", "loc", "msg"} for e in r.json())
        assert await svc.db.fetchval("SELECT count(*) FROM club") == 0
        r = await client.post("/join-club", json={"name": "anime"})
        assert r.status_code == 400  # no authorization header


async def test_search_clubs_ranks_like_pg_trgm(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        ana = await onboarded_user(svc, "Ana", clubs=["my-club-2"])
        await onboarded_user(svc, "Bo", clubs=["my-club-1", "my-club-3", "cooking"])
        await onboarded_user(svc, "Cy", clubs=["my-club-1", "my-club-3", "my-club-2"])
        await onboarded_user(svc, "Di", clubs=["my-club-1"])
        async with svc.db.transaction() as conn:  # an empty club is only offered when typed
            await clubs.join(conn, ana.person_id, "my-club-9")
            await clubs.leave(conn, ana.person_id, "my-club-9")

        r = await client.get("/search-clubs", params={"q": " MY-CLUB "}, headers=ana.headers)
        assert r.status_code == 200
        assert r.json() == [
            {"count_members": 3, "name": "my-club-1"},
            {"count_members": 2, "name": "my-club-3"},
            {"count_members": 1, "name": "cooking"},  # shares only "  c"; still fills the list
            {"count_members": 0, "name": "my-club"},
        ]
        # the typed club exists: offered with its count unless already joined
        r = await client.get("/search-clubs", params={"q": "my-club-3"}, headers=ana.headers)
        assert r.json()[0] == {"count_members": 2, "name": "my-club-3"}
        r = await client.get("/search-clubs", params={"q": "my-club-2"}, headers=ana.headers)
        assert {"count_members": 2, "name": "my-club-2"} not in r.json()
        r = await client.get("/search-clubs", params={"q": "my-club-9"}, headers=ana.headers)
        assert r.json()[-1] == {"count_members": 0, "name": "my-club-9"}
        assert len(r.json()) == 4  # my-club-1, my-club-3, cooking, my-club-9; never empty clubs

        for q in ("", "   ", "two  spaces", "x" * 43, "a.b"):
            r = await client.get("/search-clubs", params={"q": q}, headers=ana.headers)
            assert (r.status_code, r.json()) == (200, []), q
        r = await client.get("/search-clubs", headers=ana.headers)
        assert r.json() == []

        banned = await svc.db.fetchval("SELECT name FROM banned_club WHERE name ~ '^[a-z]{5,}$' ORDER BY name LIMIT 1")
        r = await client.get("/search-clubs", params={"q": banned}, headers=ana.headers)
        assert banned not in [c["name"] for c in r.json()]


async def test_search_public_clubs(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        await onboarded_user(svc, "Bo", clubs=["hiking", "jazz", "anime"])
        await onboarded_user(svc, "Cy", clubs=["hiking", "jazz"])
        await onboarded_user(svc, "Di", clubs=["hiking"])
        r = await client.get("/search-public-clubs")
        assert r.json() == [
            {"count_members": 3, "name": "hiking"},
            {"count_members": 2, "name": "jazz"},
            {"count_members": 1, "name": "anime"},
        ]
        r = await client.get("/search-public-clubs", params={"q": "Hiking"})
        assert r.json()[0] == {"count_members": 3, "name": "hiking"}
        r = await client.get("/search-public-clubs", params={"q": "hike"})
        # unrelated clubs (distance 1) fill up the list after nearer ones, biggest first
        assert r.json() == [
            {"count_members": 3, "name": "hiking"},
            {"count_members": 2, "name": "jazz"},
            {"count_members": 1, "name": "anime"},
            {"count_members": 0, "name": "hike"},
        ]
        r = await client.get("/search-public-clubs", params={"q": "a.b"})
        assert r.json() == []
