"""Queries of questions, answers, Q&A search filters and the trait evidence on ``person``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asyncpg import Record

from duo.sql.database import Connection, Queryable
from duo.visibility import visible_to

SCORE_COLUMNS = "presence_given_yes, presence_given_no, absence_given_yes, absence_given_no"
# What a personality page or comparison reads of a person.
PERSON_COLUMNS = "p.id, p.name, p.tiny_id, p.presence_score, p.absence_score"

# /compare-answers agreement → condition over the prospect's (pa) and the caller's (ma) answers
AGREEMENT = {
    "all": "TRUE",
    "agree": "ma.answer = pa.answer",
    "disagree": "ma.answer = NOT pa.answer",
    "unanswered": "ma.answer IS NULL",
}


async def scores(conn: Connection, question_id: int) -> Record | None:
    """The question's id and four score arrays, or None for an unknown id."""
    return await conn.fetchrow(f"SELECT id, {SCORE_COLUMNS} FROM question WHERE id = $1", question_id)


async def count_answer(conn: Connection, question_id: int, answer: bool | None) -> None:
    await conn.execute(
        """UPDATE question SET count_yes = count_yes + ($2 IS TRUE)::INT,
                               count_no = count_no + ($2 IS FALSE)::INT
           WHERE id = $1""",
        question_id,
        answer,
    )


async def lock_person(conn: Connection, person_id: int) -> None:
    await conn.execute("SELECT 1 FROM person WHERE id = $1 FOR UPDATE", person_id)


async def evidence(conn: Connection, person_id: int) -> Record | None:
    """The person's trait evidence (presence and absence scores, answer count)."""
    return await conn.fetchrow(
        "SELECT presence_score, absence_score, count_answers FROM person WHERE id = $1", person_id
    )


async def store_evidence(
    conn: Connection, person_id: int, presence: list[int], absence: list[int], count_answers: int, personality: Any
) -> None:
    await conn.execute(
        """UPDATE person SET presence_score = $2, absence_score = $3, count_answers = $4,
                             personality = $5
           WHERE id = $1""",
        person_id,
        presence,
        absence,
        count_answers,
        personality,
    )


async def unanswered(db: Queryable, person_id: int, offset: int, limit: int) -> list[dict[str, Any]]:
    """Unanswered questions: 1–10 first, then a fixed per-person shuffle (matching §14)."""
    rows = await db.fetch(
        """SELECT q.id, q.question, q.topic, q.count_yes, q.count_no
           FROM question q
           WHERE NOT EXISTS (SELECT 1 FROM answer a WHERE a.person_id = $1 AND a.question_id = q.id)
           ORDER BY CASE WHEN q.id <= 10 THEN lpad(q.id::TEXT, 5, '0')
                         ELSE md5(q.id::TEXT || ' ' || $1::TEXT) END COLLATE "C",
                    q.id
           OFFSET $2 LIMIT $3""",
        person_id,
        offset,
        limit,
    )
    return [dict(row) for row in rows]


async def answer_of(conn: Connection, person_id: int, question_id: int) -> Record | None:
    return await conn.fetchrow(
        "SELECT answer FROM answer WHERE person_id = $1 AND question_id = $2", person_id, question_id
    )


async def put_answer(conn: Connection, person_id: int, question_id: int, answer: bool | None, public: bool) -> None:
    await conn.execute(
        """INSERT INTO answer (person_id, question_id, answer, public_) VALUES ($1, $2, $3, $4)
           ON CONFLICT (person_id, question_id)
           DO UPDATE SET answer = EXCLUDED.answer, public_ = EXCLUDED.public_""",
        person_id,
        question_id,
        answer,
        public,
    )


async def delete_answer(conn: Connection, person_id: int, question_id: int) -> Record | None:
    """Remove an answer; answers the removed row (its ``answer``), or None."""
    return await conn.fetchrow(
        "DELETE FROM answer WHERE person_id = $1 AND question_id = $2 RETURNING answer", person_id, question_id
    )


async def all_questions(db: Queryable) -> list[Record]:
    return await db.fetch("SELECT id, question, topic FROM question")


async def filters_on(db: Queryable, person_id: int, question_ids: list[int]) -> list[Record]:
    """The person's Q&A filters on some questions."""
    return await db.fetch(
        """SELECT question_id, answer, accept_unanswered FROM search_preference_answer
           WHERE person_id = $1 AND question_id = ANY($2::SMALLINT[])""",
        person_id,
        question_ids,
    )


async def filters_of(conn: Connection, person_id: int) -> list[Record]:
    """Every Q&A filter of the person with its question, by question id."""
    return await conn.fetch(
        """SELECT q.id, q.question, q.topic, f.answer, f.accept_unanswered
           FROM search_preference_answer f JOIN question q ON q.id = f.question_id
           WHERE f.person_id = $1 ORDER BY q.id""",
        person_id,
    )


async def delete_filter(conn: Connection, person_id: int, question_id: int) -> None:
    await conn.execute(
        "DELETE FROM search_preference_answer WHERE person_id = $1 AND question_id = $2", person_id, question_id
    )


async def count_other_filters(conn: Connection, person_id: int, question_id: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM search_preference_answer WHERE person_id = $1 AND question_id <> $2",
        person_id,
        question_id,
    )
    return count


async def put_filter(
    conn: Connection, person_id: int, question_id: int, answer: bool, accept_unanswered: bool
) -> None:
    await conn.execute(
        """INSERT INTO search_preference_answer (person_id, question_id, answer, accept_unanswered)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (person_id, question_id)
           DO UPDATE SET answer = EXCLUDED.answer, accept_unanswered = EXCLUDED.accept_unanswered""",
        person_id,
        question_id,
        answer,
        accept_unanswered,
    )


async def traits(conn: Connection, topic: str | None = None) -> Sequence[Record]:
    """Every trait, or those of one ``trait_topic`` name."""
    return await conn.fetch(
        """SELECT t.id, t.name, t.min_label, t.max_label, t.description FROM trait t
           WHERE $1::TEXT IS NULL
              OR EXISTS (SELECT 1 FROM trait_topic tt WHERE tt.trait_id = t.id AND tt.name = $1)
           ORDER BY t.id""",
        topic,
    )


async def person(db: Queryable, person_id: int) -> Record | None:
    """:data:`PERSON_COLUMNS` of a person."""
    return await db.fetchrow(f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.id = $1", person_id)


async def visible_person_by_tiny_id(conn: Connection, tiny_id: str) -> Record | None:
    """:data:`PERSON_COLUMNS` of the person a share link names, unless hidden from strangers."""
    return await conn.fetchrow(
        f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.tiny_id = $1 AND {visible_to(None, 'p')}",
        tiny_id,
    )


async def visible_person(conn: Connection, viewer_id: int, person_id: int) -> Record | None:
    """:data:`PERSON_COLUMNS` of a person, unless hidden from the viewer."""
    return await conn.fetchrow(
        f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.id = $2 AND {visible_to('$1', 'p')}",
        viewer_id,
        person_id,
    )


async def compared_answers(
    conn: Connection, viewer_id: int, prospect_id: int, topic: str | None, agreement: str, offset: int, limit: int
) -> list[Record]:
    """The prospect's public answers beside the viewer's, by question id; ``agreement`` is a
    key of :data:`AGREEMENT`."""
    return await conn.fetch(
        f"""SELECT q.id AS question_id, q.question, q.topic,
                   pa.answer AS prospect_answer, pa.person_id AS prospect_person_id,
                   ma.person_id, ma.answer AS person_answer, ma.public_ AS person_public_
            FROM answer pa
            JOIN question q ON q.id = pa.question_id
            LEFT JOIN answer ma ON ma.person_id = $1 AND ma.question_id = pa.question_id
            WHERE pa.person_id = $2 AND pa.public_ AND pa.answer IS NOT NULL
              AND ($3::TEXT IS NULL OR q.topic = $3)
              AND {AGREEMENT[agreement]}
            ORDER BY q.id
            OFFSET $4 LIMIT $5""",
        viewer_id,
        prospect_id,
        topic,
        offset,
        limit,
    )
