"""GET /feed. Everyone here is the same age and nobody got intros, so both random draws of
matching.md §11 always pass; the halving (§11 step 5) is part of every expectation."""

import datetime as dt
from typing import Any

import httpx
import trio

from duo.services import Services
from tests.factories import User, onboarded_user
from tests.test_http_prospects import add_photo, message, skip


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


async def candidate(svc: Services, name: str, **overrides: Any) -> User:
    """Someone the feed shows: seems human (signed up 40 days ago), last event an hour ago, offline."""
    now = svc.now()
    columns: dict[str, Any] = {
        "gender": "Man",
        "sign_up_time": now - dt.timedelta(days=40),
        "last_event_time": now - dt.timedelta(hours=1),
        "last_online_time": now - dt.timedelta(days=1),
    } | overrides
    return await onboarded_user(svc, name, **columns)


async def feed(client: httpx.AsyncClient, svc: Services, user: User) -> list[dict[str, Any]]:
    r = await client.get("/feed", params={"before": iso(svc.now() + dt.timedelta(minutes=1))}, headers=user.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()
    return items


async def test_feed_items_types_and_halving(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        now = svc.now()
        me = await onboarded_user(svc, "Me", gender="Woman", gender_preferences=["Man"])
        photo_man = await candidate(
            svc, "PhotoMan", last_event_name="added-photo", last_event_time=now - dt.timedelta(hours=2),
            last_event_data={"added_photo_uuid": "p1", "added_photo_blurhash": "b1", "added_photo_extra_exts": []},
        )
        first = await add_photo(svc, photo_man, 1)
        online_man = await candidate(svc, "OnlineMan", last_online_time=now - dt.timedelta(minutes=30))
        await add_photo(svc, online_man, 1)
        gif = await add_photo(svc, online_man, 2, ["gif"])
        await candidate(svc, "Woman1", gender="Woman")
        await candidate(svc, "Woman2", gender="Woman")

        items = await feed(client, svc, me)
        # four survivors, half kept: the caller's preferred gender first
        assert [i["name"] for i in items] == ["OnlineMan", "PhotoMan"]
        online, photo = items
        assert online == {
            "person_uuid": str(online_man.uuid), "name": "OnlineMan", "photo_uuid": online["photo_uuid"],
            "photo_blurhash": "blur1", "is_verified": False, "match_percentage": 50, "flair": ["gif", "one-month"],
            "type": "recently-online-with-photo", "time": online["time"],
            "added_photo_uuid": gif, "added_photo_blurhash": "blur2", "added_photo_extra_exts": ["gif"],
        }
        assert photo["type"] == "added-photo" and photo["photo_uuid"] == first
        assert photo["added_photo_uuid"] == "p1" and photo["time"] == iso(now - dt.timedelta(hours=2))

        # paging: only events before the given time
        r = await client.get("/feed", params={"before": photo["time"]}, headers=me.headers)
        assert "PhotoMan" not in [i["name"] for i in r.json()]
        r = await client.get("/feed", params={"before": "2000-01-01T00:00:00"}, headers=me.headers)
        assert r.json() == []


async def test_bad_before_is_400(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        me = await onboarded_user(svc, "Me")
        for params in ({}, {"before": ""}, {"before": "yesterday"}, {"before": "2024-13-01T00:00:00Z"}):
            r = await client.get("/feed", params=params, headers=me.headers)
            assert r.status_code == 400, params
            assert all(set(e) == {"type", "loc", "msg"} for e in r.json())
        for before in ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00", "2030-01-01T00:00:00.123+02:00"):
            r = await client.get("/feed", params={"before": before}, headers=me.headers)
            assert r.status_code == 200, before


async def test_feed_privacy_matrix(client: httpx.AsyncClient, svc: Services) -> None:
    """Each rule hides the target; one filler of a gender the viewer does not prefer is
    always there, so a visible target makes two survivors and is the one kept."""
    with trio.fail_after(120):
        now = svc.now()

        target_names: dict[int, str] = {}

        async def shown(viewer: User, target: User) -> bool:
            names = [i["name"] for i in await feed(client, svc, viewer)]
            assert set(names) <= {target_names[target.person_id]}, names
            return bool(names)

        async def pair(label: str, **target_overrides: Any) -> tuple[User, User]:
            """A fresh viewer and target; earlier targets leave the feed."""
            await svc.db.execute("UPDATE person SET activated = FALSE WHERE id = ANY($1::int[])", list(target_names))
            viewer = await onboarded_user(svc, f"V{label}", gender="Woman", gender_preferences=["Man"],
                                          last_online_time=now - dt.timedelta(days=3),
                                          last_event_time=now - dt.timedelta(days=40))
            target = await candidate(svc, f"T{label}", **target_overrides)
            target_names[target.person_id] = f"T{label}"
            return viewer, target

        await candidate(svc, "Filler", gender="Non-binary")

        # people deactivated, skipping, hiding, private, unverified-required, bots... one rule each
        viewer, target = await pair("visible")
        assert await shown(viewer, target)

        viewer, target = await pair("off", activated=False)
        assert not await shown(viewer, target)

        viewer, target = await pair("skipper")
        await skip(svc, target, viewer)
        assert not await shown(viewer, target)

        viewer, target = await pair("skipped")
        await skip(svc, viewer, target)
        assert not await shown(viewer, target)
        await svc.db.execute("UPDATE search_preference_skipped SET skipped_id = 1 WHERE person_id = $1", viewer.person_id)
        assert await shown(viewer, target)

        viewer, target = await pair("messaged")
        await message(svc, viewer, target, now - dt.timedelta(days=2))  # not a fresh intro (popularity)
        assert await shown(viewer, target)  # people_you_messaged defaults to Yes
        await svc.db.execute("UPDATE search_preference_messaged SET messaged_id = 2 WHERE person_id = $1", viewer.person_id)
        assert not await shown(viewer, target)

        viewer, target = await pair("shy", hide_me_from_strangers=True)
        assert not await shown(viewer, target)
        await message(svc, target, viewer)
        assert await shown(viewer, target)

        viewer, target = await pair("private", privacy_verification_level_id=2)
        await message(svc, target, viewer)
        assert not await shown(viewer, target)  # no exception for people who messaged
        await svc.db.execute("UPDATE person SET verification_level_id = 2 WHERE id = $1", viewer.person_id)
        assert await shown(viewer, target)

        viewer, target = await pair("required", verification_required=True)
        assert not await shown(viewer, target)

        viewer, target = await pair("picky", gender_preferences=["Man"])
        assert not await shown(viewer, target)  # the viewer is not among the target's genders

        viewer, target = await pair("stale", last_event_time=now - dt.timedelta(days=40))
        assert not await shown(viewer, target)

        viewer, target = await pair("new", sign_up_time=now - dt.timedelta(days=2))
        assert not await shown(viewer, target)  # does not seem human yet
        await svc.db.execute("UPDATE person SET title_color = '#FF0000' WHERE id = $1", target.person_id)
        assert await shown(viewer, target)

        viewer, target = await pair("reported")
        for i in range(2):
            reporter = await onboarded_user(svc, f"R{i}", activated=False)
            await svc.db.execute(
                "INSERT INTO skipped (subject_person_id, object_person_id, reported) VALUES ($1, $2, TRUE)",
                reporter.person_id, target.person_id)
        assert not await shown(viewer, target)

        viewer, target = await pair(
            "nsfw", last_event_name="added-photo",
            last_event_data={"added_photo_uuid": "n" * 64, "added_photo_blurhash": "b", "added_photo_extra_exts": []})
        await svc.db.execute(
            "INSERT INTO photo (person_id, position, uuid, blurhash, hash, nsfw_score) VALUES ($1, 1, $2, 'b', 'h', 0.9)",
            target.person_id, "n" * 64)
        assert not await shown(viewer, target)

        # the viewer never sees themself
        me = await candidate(svc, "Self", gender="Man", gender_preferences=["Man"])
        items = await feed(client, svc, me)
        assert "Self" not in [i["name"] for i in items]


async def test_seems_human_by_voice_bio_or_answers_bio_and_club(client: httpx.AsyncClient, svc: Services) -> None:
    """The "seems human" rule's probes (voice bio; 25 answers, a bio and a club) each admit a
    new unverified person; answers and bio without a club do not."""
    with trio.fail_after(60):
        now = svc.now()
        me = await onboarded_user(svc, "Me", gender="Woman", gender_preferences=["Man"],
                                  last_online_time=now - dt.timedelta(days=3))
        await candidate(svc, "Filler", gender="Non-binary")
        new = {"sign_up_time": now - dt.timedelta(days=2), "count_answers": 25, "about": "Hello there"}
        voice = await candidate(svc, "Voice", last_event_time=now - dt.timedelta(hours=3), **new)
        await svc.db.execute("INSERT INTO audio (person_id, position, uuid) VALUES ($1, -1, 'v')", voice.person_id)
        await candidate(svc, "Clubbed", last_event_time=now - dt.timedelta(hours=2), clubs=["chess"], **new)
        await candidate(svc, "Clubless", last_event_time=now - dt.timedelta(hours=1), **new)

        # three survivors (Voice, Clubbed, Filler): two kept, the caller's preferred gender first
        assert sorted(i["name"] for i in await feed(client, svc, me)) == ["Clubbed", "Voice"]


async def test_shortlist_is_the_hundred_newest(client: httpx.AsyncClient, svc: Services) -> None:
    """With more than 100 survivors only the 100 newest are shortlisted; all alike, half of
    them (the newest 50) are kept, newest first."""
    with trio.fail_after(300):
        now = svc.now()
        me = await onboarded_user(svc, "Me", gender="Woman", gender_preferences=["Man"],
                                  last_online_time=now - dt.timedelta(days=3))
        for i in range(110):
            await candidate(svc, f"M{i:03d}", last_event_time=now - dt.timedelta(minutes=10 + i))
        items = await feed(client, svc, me)
        assert [i["name"] for i in items] == [f"M{i:03d}" for i in range(50)]
