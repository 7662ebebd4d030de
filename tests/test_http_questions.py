"""Questions, answers, Q&A filters, /me and the comparisons over real HTTP."""

import hashlib
from typing import Any

import attrs
import httpx
import numpy as np
import pytest
import trio

from duo.matching.personality import TRAITS
from duo.services import Services
from tests.factories import User, onboarded_user

E20 = 19  # index of trait 20, Introversion/Extraversion


async def score_question(svc: Services, question_id: int, trait_id: int = 20,
                         yes: tuple[int, int] = (838, 162), no: tuple[int, int] = (144, 856)) -> None:
    """Give a question the §16 scores on one trait, 500/500 on every other."""
    def array(value: int) -> list[int]:
        return [value if i == trait_id - 1 else 500 for i in range(TRAITS)]
    await svc.db.execute(
        """UPDATE question SET presence_given_yes = $2, absence_given_yes = $3,
                               presence_given_no = $4, absence_given_no = $5 WHERE id = $1""",
        question_id, array(yes[0]), array(yes[1]), array(no[0]), array(no[1]),
    )


def without_account_limit(svc: Services) -> None:
    """These tests make more than 12 calls per second as one account."""
    svc.config = attrs.evolve(svc.config, safety=attrs.evolve(svc.config.safety, disable_account_rate_limit=True))


async def answer(client: httpx.AsyncClient, user: User, question_id: Any, value: Any, public: Any = True) -> httpx.Response:
    return await client.post("/answer", json={"question_id": question_id, "answer": value, "public": public},
                             headers=user.headers)


async def person(svc: Services, user: User) -> Any:
    return await svc.db.fetchrow(
        "SELECT presence_score, absence_score, count_answers, personality::REAL[] AS personality FROM person WHERE id = $1",
        user.person_id,
    )


def expected_order(person_id: int, ids: list[int]) -> list[int]:
    def key(qid: int) -> str:
        return f"{qid:05d}" if qid <= 10 else hashlib.md5(f"{qid} {person_id}".encode()).hexdigest()
    return sorted(ids, key=key)


async def test_next_questions_order_and_paging(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        without_account_limit(svc)
        alice = await onboarded_user(svc, "Alice")
        r = await client.get("/next-questions", headers=alice.headers)
        assert r.status_code == 200, r.text
        first = r.json()
        assert [q["id"] for q in first] == list(range(1, 11))
        assert first[0] == {"id": 1, "question": "Would you date a robot if they had a great personality?",
                            "topic": "Interpersonal", "count_yes": 0, "count_no": 0}

        r = await client.get("/next-questions", params={"n": 25, "o": 5}, headers=alice.headers)
        everything = expected_order(alice.person_id, list(range(1, 2006)))
        assert [q["id"] for q in r.json()] == everything[5:30]

        # answered (also skipped, answer null) questions are not offered again
        assert (await answer(client, alice, 1, None)).status_code == 200
        assert (await answer(client, alice, 2, True, False)).status_code == 200
        r = await client.get("/next-questions", params={"n": 3}, headers=alice.headers)
        assert [q["id"] for q in r.json()] == [3, 4, 5]
        r = await client.get("/next-questions", params={"o": 2003}, headers=alice.headers)
        assert r.json() == []

        # another person gets another shuffle after the first ten
        bob = await onboarded_user(svc, "Bob")
        r = await client.get("/next-questions", params={"n": 10, "o": 10}, headers=bob.headers)
        assert [q["id"] for q in r.json()] == expected_order(bob.person_id, list(range(1, 2006)))[10:20]
        assert [q["id"] for q in r.json()] != everything[10:20]


@pytest.mark.parametrize("path", ["/next-questions", "/search-filter-questions"])
async def test_bad_paging_is_400(client: httpx.AsyncClient, svc: Services, path: str) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc)
        for params in ({"n": "x"}, {"o": "1.5"}, {"n": "-1"}, {"o": "-3"}, {"n": "99999999999999999999"}):
            r = await client.get(path, params=params, headers=alice.headers)
            assert r.status_code == 400, (params, r.text)
            assert r.json()[0]["loc"] == [next(iter(params))]
        assert (await client.get(path)).status_code == 400  # no Authorization header


async def test_answers_update_counts_and_personality(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        without_account_limit(svc)
        await score_question(svc, 11)
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")

        assert (await answer(client, alice, 11, True)).status_code == 200
        a = await person(svc, alice)
        assert a["presence_score"][E20] == 676 and sum(a["absence_score"]) == 0 and a["count_answers"] == 1
        assert a["personality"][E20] == pytest.approx(0.2807, abs=1e-4)
        assert await svc.db.fetchrow("SELECT answer, public_ FROM answer WHERE person_id = $1", alice.person_id) == (True, True)

        # §16: same answer → 54, opposite → 46 (the SQL match function)
        assert (await answer(client, bob, 11, True)).status_code == 200
        match = "SELECT match_percentage(a.personality, b.personality) FROM person a, person b WHERE a.id = $1 AND b.id = $2"
        assert await svc.db.fetchval(match, alice.person_id, bob.person_id) == 54
        assert (await answer(client, bob, 11, False, False)).status_code == 200
        b = await person(svc, bob)
        assert (b["presence_score"][E20], b["absence_score"][E20], b["count_answers"]) == (0, 712, 1)
        assert await svc.db.fetchval(match, alice.person_id, bob.person_id) == 46
        assert await svc.db.fetchrow("SELECT count_yes, count_no FROM question WHERE id = 11") == (2, 1)

        # skipping withdraws the evidence and the count; counters never go down
        assert (await answer(client, bob, 11, None)).status_code == 200
        b = await person(svc, bob)
        assert b["count_answers"] == 0 and sum(b["absence_score"]) == 0 and not np.any(b["personality"])
        assert await svc.db.fetchrow("SELECT count_yes, count_no FROM question WHERE id = 11") == (2, 1)

        # deleting: evidence withdrawn, row gone, idempotent
        for _ in range(2):
            r = await client.request("DELETE", "/answer", json={"question_id": 11}, headers=alice.headers)
            assert (r.status_code, r.text) == (200, "")
        a = await person(svc, alice)
        assert a["count_answers"] == 0 and sum(a["presence_score"]) == 0 and not np.any(a["personality"])
        assert await svc.db.fetchval("SELECT count(*) FROM answer WHERE person_id = $1", alice.person_id) == 0

        # an unscored question is stored and tallied but is no evidence
        await svc.db.execute(
            """UPDATE question SET presence_given_yes = '{}', absence_given_yes = '{}',
                                   presence_given_no = '{}', absence_given_no = '{}' WHERE id = 12"""
        )
        assert (await answer(client, alice, 12, True)).status_code == 200
        a = await person(svc, alice)
        assert a["count_answers"] == 0
        assert await svc.db.fetchval("SELECT count_yes FROM question WHERE id = 12") == 1


async def test_bad_answers_are_400_and_change_nothing(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        without_account_limit(svc)
        alice = await onboarded_user(svc)
        bodies: list[dict[str, Any]] = [
            {"question_id": 0, "answer": True, "public": True},
            {"question_id": 2006, "answer": True, "public": True},
            {"question_id": 99999999999, "answer": True, "public": True},
            {"question_id": "abc", "answer": True, "public": True},
            {"question_id": 3, "public": True},  # answer key is required
            {"question_id": 3, "answer": "maybe", "public": True},
            {"question_id": 3, "answer": True},
            {},
        ]
        for body in bodies:
            r = await client.post("/answer", json=body, headers=alice.headers)
            assert r.status_code == 400, (body, r.text)
        r = await answer(client, alice, 2006, True)
        assert r.json() == [{"type": "value_error", "loc": ["question_id"], "msg": "Value error, Unknown question"}]
        for body in ({"question_id": 2006}, {"question_id": "x"}, {}):
            r = await client.request("DELETE", "/answer", json=body, headers=alice.headers)
            assert r.status_code == 400, (body, r.text)
        assert await svc.db.fetchval("SELECT count(*) FROM answer") == 0
        assert await svc.db.fetchval("SELECT sum(count_yes + count_no) FROM question") == 0


async def test_search_filter_questions(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        without_account_limit(svc)
        alice = await onboarded_user(svc)
        r = await client.get("/search-filter-questions", params={"q": "Do you enjoy small talk?"}, headers=alice.headers)
        assert r.status_code == 200, r.text
        rows = r.json()
        assert len(rows) == 10
        assert rows[0] == {"question_id": 13, "question": "Do you enjoy small talk?", "topic": "Interpersonal",
                           "answer": None, "accept_unanswered": True}

        # nearest first by pg_trgm similarity; paging slices the same order
        r = await client.get("/search-filter-questions", params={"q": "pray", "n": 3}, headers=alice.headers)
        top = r.json()
        assert any(q["question"] == "Do you pray?" for q in top[:2])
        r = await client.get("/search-filter-questions", params={"q": "pray", "n": 2, "o": 1}, headers=alice.headers)
        assert r.json() == top[1:3]

        r = await client.post("/search-filter-answer", json={"question_id": 13, "answer": False, "accept_unanswered": False},
                              headers=alice.headers)
        assert r.status_code == 200, r.text
        r = await client.get("/search-filter-questions", params={"q": "small talk", "n": 1}, headers=alice.headers)
        assert r.json()[0] == {"question_id": 13, "question": "Do you enjoy small talk?", "topic": "Interpersonal",
                               "answer": False, "accept_unanswered": False}

        r = await client.get("/search-filter-questions", params={"n": 0}, headers=alice.headers)
        assert r.json() == []
        r = await client.get("/search-filter-questions", headers=alice.headers)  # empty q: any 10
        assert len(r.json()) == 10


async def test_search_filter_answer(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(60):
        without_account_limit(svc)
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")

        async def set_filter(user: User, qid: Any, value: Any, accept: Any = True) -> httpx.Response:
            return await client.post("/search-filter-answer", headers=user.headers,
                                     json={"question_id": qid, "answer": value, "accept_unanswered": accept})

        r = await set_filter(alice, 7, True)
        assert r.status_code == 200, r.text
        assert r.json() == {"answer": [{"question_id": 7, "question": "Would you ever kiss someone on the first date?",
                                        "topic": "Values", "answer": True, "accept_unanswered": True}]}
        r = await set_filter(alice, 3, False, False)
        assert [(f["question_id"], f["answer"], f["accept_unanswered"]) for f in r.json()["answer"]] == [
            (3, False, False), (7, True, True)]
        r = await set_filter(alice, 7, False, False)  # update in place
        assert [(f["question_id"], f["answer"]) for f in r.json()["answer"]] == [(3, False), (7, False)]

        # deleting a filter that does not exist still answers the true list (README decision)
        r = await set_filter(alice, 100, None)
        assert [f["question_id"] for f in r.json()["answer"]] == [3, 7]
        r = await set_filter(alice, 3, None)
        assert [f["question_id"] for f in r.json()["answer"]] == [7]
        assert await svc.db.fetchval("SELECT count(*) FROM search_preference_answer WHERE person_id = $1", bob.person_id) == 0

        # at most 20: the 21st is refused and nothing changes; updating at 20 is fine
        for qid in range(20, 39):
            assert (await set_filter(alice, qid, True)).status_code == 200
        r = await set_filter(alice, 50, True)
        assert r.status_code == 400
        assert r.headers["content-type"] == "application/json"
        assert r.json() == {"error": "You can\u2019t set more than 20 Q&A filters"}
        assert "\\u2019" in r.text
        assert await svc.db.fetchval("SELECT count(*) FROM search_preference_answer WHERE person_id = $1", alice.person_id) == 20
        r = await set_filter(alice, 20, False)
        assert r.status_code == 200 and len(r.json()["answer"]) == 20

        for body in ({"question_id": 9999, "answer": True, "accept_unanswered": True},
                     {"question_id": 5, "answer": True}, {"question_id": 5, "accept_unanswered": True},
                     {"question_id": None, "answer": None, "accept_unanswered": True}):
            r = await client.post("/search-filter-answer", json=body, headers=bob.headers)
            assert r.status_code == 400, (body, r.text)
        assert (await set_filter(bob, 9999, None)).status_code == 400


async def set_evidence(svc: Services, user: User, traits: dict[int, tuple[int, int]]) -> None:
    presence, absence = [0] * TRAITS, [0] * TRAITS
    for trait_id, (p, a) in traits.items():
        presence[trait_id - 1], absence[trait_id - 1] = p, a
    await svc.db.execute("UPDATE person SET presence_score = $2, absence_score = $3 WHERE id = $1",
                         user.person_id, presence, absence)


async def test_me_and_share_link(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        alice = await onboarded_user(svc, "Alice")
        # Extraversion 81 %, Religiosity 30 %, Empathy below the evidence threshold
        await set_evidence(svc, alice, {20: (4050, 950), 34: (3000, 7000), 9: (4000, 500)})
        r = await client.get("/me", headers=alice.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        tiny_id = await svc.db.fetchval("SELECT tiny_id FROM person WHERE id = $1", alice.person_id)
        assert (body["name"], body["person_id"]) == ("Alice", tiny_id)
        traits = body["personality"]
        assert len(traits) == 46
        assert traits[0] == {"trait_name": "Introversion/Extraversion", "trait_min_label": "Introversion",
                             "trait_max_label": "Extraversion", "person_percentage": 81.0,
                             "trait_description": traits[0]["trait_description"]}
        assert traits[0]["trait_description"].startswith("Measures a person's preference for engaging")
        assert traits[1]["trait_name"] == "Religiosity" and traits[1]["person_percentage"] == 30.0
        rest = traits[2:]
        assert all(t["person_percentage"] is None for t in rest)
        assert [t["trait_name"] for t in rest] == sorted(t["trait_name"] for t in rest)
        assert set(traits[0]) == {"trait_name", "trait_min_label", "trait_max_label", "trait_description", "person_percentage"}

        # the share link needs no session and shows the same
        r = await client.get(f"/me/{tiny_id}")
        assert r.status_code == 200 and r.json() == body
        assert (await client.get("/me/", headers=alice.headers)).json() == body
        assert (await client.get(f"/me/{tiny_id}/")).json() == body
        assert (await client.get("/me/nobody")).status_code == 404

        for change in ("activated = FALSE", "hide_me_from_strangers = TRUE", "privacy_verification_level_id = 2"):
            await svc.db.execute(f"UPDATE person SET {change} WHERE id = $1", alice.person_id)
            r = await client.get(f"/me/{tiny_id}")
            assert (r.status_code, r.text) == (404, ""), change
            await svc.db.execute(
                """UPDATE person SET activated = TRUE, hide_me_from_strangers = FALSE,
                                     privacy_verification_level_id = 1 WHERE id = $1""", alice.person_id)
        assert (await client.get(f"/me/{tiny_id}")).status_code == 200


async def test_compare_personalities(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        without_account_limit(svc)
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        await set_evidence(svc, alice, {20: (1000, 9000), 28: (6000, 0)})
        await set_evidence(svc, bob, {20: (8000, 2000), 1: (2500, 2500), 4: (100, 200)})
        r = await client.get(f"/compare-personalities/{bob.person_id}/big5", headers=alice.headers)
        assert r.status_code == 200, r.text
        rows = r.json()
        alice_tiny = await svc.db.fetchval("SELECT tiny_id FROM person WHERE id = $1", alice.person_id)
        assert rows[0] == {
            "trait_name": "Extraversion", "trait_min_label": None, "trait_max_label": None,
            "trait_description": rows[0]["trait_description"], "person_name": "Alice", "person_id": alice_tiny,
            "person_percentage": 10.0, "prospect_name": "Bob", "prospect_percentage": 80.0, "position": 0.8,
        }
        assert [(t["trait_name"], t["position"], t["person_percentage"], t["prospect_percentage"]) for t in rows[1:]] == [
            ("Agreeableness", 0.5, None, 50.0),
            ("Conscientiousness", 0.0, None, None),
            ("Neuroticism", 0.0, None, None),
            ("Openness to Experience", 0.0, 100.0, None),
        ]

        r = await client.get(f"/compare-personalities/{bob.person_id}/mbti", headers=alice.headers)
        assert [t["trait_name"] for t in r.json()] == [
            "Introversion/Extraversion", "Judging/Perceiving", "Sensing/Intuition", "Thinking/Feeling"]
        assert r.json()[0]["trait_max_label"] == "Extraversion"
        sizes = {"attachment": 2, "politics": 7, "other": 29}
        for topic, size in sizes.items():
            r = await client.get(f"/compare-personalities/{bob.person_id}/{topic}", headers=alice.headers)
            assert r.status_code == 200 and len(r.json()) == size, topic
        r = await client.get(f"/compare-personalities/{alice.person_id}/mbti", headers=alice.headers)
        assert r.status_code == 200  # oneself
        assert (await client.get(f"/compare-personalities/{bob.person_id}/astrology", headers=alice.headers)).status_code == 404
        assert (await client.get(f"/compare-personalities/{bob.person_id}/mbti")).status_code == 400
        assert (await client.get("/compare-personalities/999999/mbti", headers=alice.headers)).status_code == 404
        assert (await client.get("/compare-personalities/99999999999/mbti", headers=alice.headers)).status_code == 404


async def hidden_cases(svc: Services, viewer: User, prospect: User) -> list[tuple[str, str, str]]:
    """(description, hide SQL, undo SQL) for each way the prospect becomes invisible to the viewer."""
    v, p = viewer.person_id, prospect.person_id
    return [
        ("deactivated", f"UPDATE person SET activated = FALSE WHERE id = {p}",
         f"UPDATE person SET activated = TRUE WHERE id = {p}"),
        ("prospect skipped viewer", f"INSERT INTO skipped (subject_person_id, object_person_id) VALUES ({p}, {v})",
         "DELETE FROM skipped"),
        ("hides from strangers", f"UPDATE person SET hide_me_from_strangers = TRUE WHERE id = {p}",
         f"UPDATE person SET hide_me_from_strangers = FALSE WHERE id = {p}"),
        ("privacy level above viewer's", f"UPDATE person SET privacy_verification_level_id = 3 WHERE id = {p}",
         f"UPDATE person SET privacy_verification_level_id = 1 WHERE id = {p}"),
    ]


@pytest.mark.parametrize("path", ["/compare-personalities/{id}/big5", "/compare-answers/{id}?agreement=all&topic=all"])
async def test_comparisons_hide_people_the_viewer_may_not_see(client: httpx.AsyncClient, svc: Services, path: str) -> None:
    with trio.fail_after(30):
        without_account_limit(svc)
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        url = path.format(id=bob.person_id)
        for name, hide, undo in await hidden_cases(svc, alice, bob):
            await svc.db.execute(hide)
            r = await client.get(url, headers=alice.headers)
            assert (r.status_code, r.text) == (404, ""), name
            await svc.db.execute(undo)
            assert (await client.get(url, headers=alice.headers)).status_code == 200, name

        # having messaged the viewer lifts the stranger and privacy-level rules
        await svc.db.execute("UPDATE person SET hide_me_from_strangers = TRUE, privacy_verification_level_id = 3 WHERE id = $1",
                             bob.person_id)
        assert (await client.get(url, headers=alice.headers)).status_code == 404
        await svc.db.execute("INSERT INTO messaged (subject_person_id, object_person_id) VALUES ($1, $2)",
                             alice.person_id, bob.person_id)
        assert (await client.get(url, headers=alice.headers)).status_code == 404  # the viewer's message does not
        await svc.db.execute("INSERT INTO messaged (subject_person_id, object_person_id) VALUES ($1, $2)",
                             bob.person_id, alice.person_id)
        assert (await client.get(url, headers=alice.headers)).status_code == 200

        # the other direction: Bob's view of Alice, and a viewer who skipped the prospect still sees them
        await svc.db.execute("INSERT INTO skipped (subject_person_id, object_person_id) VALUES ($1, $2)",
                             alice.person_id, bob.person_id)
        assert (await client.get(url, headers=alice.headers)).status_code == 200
        r = await client.get(path.format(id=alice.person_id), headers=bob.headers)
        assert (r.status_code, r.text) == (404, "")


async def test_compare_answers(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(60):
        without_account_limit(svc)
        alice, bob = await onboarded_user(svc, "Alice"), await onboarded_user(svc, "Bob")
        # question topics: 1 Interpersonal, 2 Values, 3 Other, 4 Interpersonal, 7 Values
        for qid, value, public in [(1, True, True), (2, False, True), (3, True, True), (4, True, False),
                                   (5, None, True), (7, True, True)]:
            assert (await answer(client, bob, qid, value, public)).status_code == 200
        for qid, value, public in [(1, True, False), (2, True, True), (5, True, True), (7, None, True)]:
            assert (await answer(client, alice, qid, value, public)).status_code == 200

        async def compare(**params: Any) -> httpx.Response:
            return await client.get(f"/compare-answers/{bob.person_id}", params=params, headers=alice.headers)

        r = await compare(agreement="all", topic="all")
        assert r.status_code == 200, r.text
        rows = r.json()
        assert [row["question_id"] for row in rows] == [1, 2, 3, 7]  # Bob's public non-null answers
        assert rows[0] == {"question_id": 1, "question": "Would you date a robot if they had a great personality?",
                           "topic": "Interpersonal", "prospect_answer": True, "prospect_name": "Bob",
                           "prospect_person_id": bob.person_id, "person_answer": True, "person_id": alice.person_id,
                           "person_name": "Alice", "person_public_": False}
        assert rows[2]["person_id"] is None and rows[2]["person_answer"] is None and rows[2]["person_public_"] is None
        assert rows[2]["person_name"] == "Alice"

        async def ids(**params: Any) -> list[int]:
            r = await compare(**params)
            assert r.status_code == 200, r.text
            return [row["question_id"] for row in r.json()]

        assert await ids(agreement="agree", topic="all") == [1]
        assert await ids(agreement="disagree", topic="all") == [2]
        assert await ids(agreement="unanswered", topic="all") == [3, 7]
        assert await ids(agreement="all", topic="values") == [2, 7]
        assert await ids(agreement="all", topic="other") == [3]
        assert await ids(agreement="all", topic="sex") == []
        assert await ids(agreement="all", topic="all", n=2, o=1) == [2, 3]
        assert await ids(agreement="all", topic="all", n="0") == []

        for params, message in [
            ({"topic": "all"}, "Invalid agreement"),
            ({"agreement": "Agree", "topic": "all"}, "Invalid agreement"),
            ({"agreement": "all"}, "Invalid topic"),
            ({"agreement": "all", "topic": "Values"}, "Invalid topic"),
            ({"agreement": "all", "topic": "all", "n": "ten"}, "Invalid n"),
            ({"agreement": "all", "topic": "all", "n": "-1"}, "Invalid n"),
            ({"agreement": "all", "topic": "all", "o": "1.5"}, "Invalid o"),
            ({"agreement": "all", "topic": "all", "o": "-2"}, "Invalid o"),
        ]:
            r = await compare(**params)
            assert (r.status_code, r.text) == (400, message), params
        r = await client.get("/compare-answers/999999", params={"agreement": "all", "topic": "all"}, headers=alice.headers)
        assert r.status_code == 404
