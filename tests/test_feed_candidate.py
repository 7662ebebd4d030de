"""The tables the schema keeps by trigger: ``feed_candidate`` (the feed's narrow copy of
person) and ``search_cache`` without its foreign key (a delete trigger forgets the searcher)."""

import datetime as dt
from typing import Any

import httpx
import trio

from duo.services import Services
from tests.factories import onboarded_user
from tests.test_http_feed import candidate, feed


async def _feed_rows(svc: Services) -> list[Any]:
    rows: list[Any] = await svc.db.fetchval(
        "SELECT jsonb_agg(to_jsonb(f) ORDER BY person_id) FROM feed_candidate f"
    )
    return rows


async def test_triggers_keep_the_feed_candidate_rows(svc: Services) -> None:
    with trio.fail_after(30):
        now = svc.now()
        plain = await onboarded_user(svc, "Plain")
        styled = await onboarded_user(svc, "Styled", title_color="#123456")
        talker = await onboarded_user(svc, "Talker", about="hi", count_answers=30)
        gone = await onboarded_user(svc, "Gone")
        await svc.db.execute(
            """UPDATE person SET last_online_time = $2, last_event_time = $2, last_event_name = 'added-photo',
                      hide_me_from_strangers = TRUE, privacy_verification_level_id = 2 WHERE id = $1""",
            plain.person_id,
            now - dt.timedelta(hours=3),
        )
        await svc.db.execute("UPDATE person SET activated = FALSE, has_gold = TRUE WHERE id = $1", talker.person_id)
        await svc.db.execute("UPDATE person SET count_answers = 10 WHERE id = $1", talker.person_id)
        await svc.db.execute("DELETE FROM person WHERE id = $1", gone.person_id)

        kept = await _feed_rows(svc)
        by_id = {row["person_id"]: row for row in kept}
        assert set(by_id) == {plain.person_id, styled.person_id, talker.person_id}
        assert (by_id[plain.person_id]["last_event_name"], by_id[plain.person_id]["hide_me_from_strangers"]) == (
            "added-photo",
            True,
        )
        assert [by_id[u.person_id]["styled"] for u in (plain, styled, talker)] == [False, True, True]
        assert by_id[talker.person_id]["maybe_human"] is False and by_id[talker.person_id]["activated"] is False
        await svc.db.execute("SELECT feed_candidates_rebuild()")
        assert await _feed_rows(svc) == kept


async def test_feed_follows_a_change_of_event_time(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        me = await onboarded_user(svc, "Me")
        older = await candidate(svc, "Older", last_event_time=svc.now() - dt.timedelta(hours=2))
        await candidate(svc, "Newer")
        assert [item["name"] for item in await feed(client, svc, me)] == ["Newer"]  # halved: 2 → 1
        await svc.db.execute(
            "UPDATE person SET last_event_time = $2 WHERE id = $1", older.person_id, svc.now() - dt.timedelta(minutes=5)
        )
        assert [item["name"] for item in await feed(client, svc, me)] == ["Older"]


async def test_deleting_the_searcher_forgets_their_cache(svc: Services) -> None:
    with trio.fail_after(30):
        searcher = await onboarded_user(svc, "Searcher")
        other = await onboarded_user(svc, "Other")
        prospect = await onboarded_user(svc, "Prospect")
        for owner in (searcher, other):
            await svc.db.execute(
                """INSERT INTO search_cache (searcher_person_id, position, prospect_person_id, prospect_uuid,
                                             name, match_percentage, personality)
                   SELECT $1, 1, id, uuid, name, 50, personality FROM person WHERE id = $2""",
                owner.person_id,
                prospect.person_id,
            )
        await svc.db.execute("DELETE FROM person WHERE id = $1", searcher.person_id)
        owners = await svc.db.fetch("SELECT searcher_person_id FROM search_cache")
        assert [r["searcher_person_id"] for r in owners] == [other.person_id]
