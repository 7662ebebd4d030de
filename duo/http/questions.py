"""Questions, answers, Q&A search filters and personality pages.

http-api-accounts §5 and §6.1–§6.2, http-api-social §5.3–§5.4, §6 and §7.2–§7.4; the maths
is in ``duo.matching``. By README decision unknown question ids and bad paging are 400,
and ``/compare-*`` and ``/me/<tiny_id>`` answer 404 for people the viewer may not see
(``duo.visibility``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from pydantic import Field
from quart import Blueprint, Response

from duo.http.endpoint import Body, Ctx, dumps, endpoint
from duo.http.errors import HttpError, value_error
from duo.matching.personality import AnswerScores, Evidence
from duo.matching.traits import trait_percentage, trait_position, trait_ratio
from duo.safety.trigram import similarity, trigrams
from duo.sessions import ONBOARDED
from duo.sql.database import Connection
from duo.visibility import visible_to

bp = Blueprint("questions", __name__)

PAGE_MAX = 2**31 - 1
SMALLINT_MAX = 2**15 - 1
INT_MAX = 2**31 - 1
MAX_QA_FILTERS = 20
TOO_MANY_FILTERS = "You can\u2019t set more than 20 Q&A filters"

# URL topic of /compare-personalities → trait_topic.name (matching.md §3)
TRAIT_TOPICS = {
    "mbti": "MBTI",
    "big5": "Big 5",
    "attachment": "Attachment Style",
    "politics": "Politics",
    "other": "Other",
}
EXTRAVERSION_ID = 20  # shown as plain "Extraversion" in the Big 5 comparison (§12.1)

# /compare-answers filters → SQL over the prospect's (pa) and the caller's (ma) answers
QUESTION_TOPICS = {"values": "Values", "sex": "Sex", "interpersonal": "Interpersonal", "other": "Other"}
AGREEMENT = {
    "all": "TRUE",
    "agree": "ma.answer = pa.answer",
    "disagree": "ma.answer = NOT pa.answer",
    "unanswered": "ma.answer IS NULL",
}

SCORE_COLUMNS = "presence_given_yes, presence_given_no, absence_given_yes, absence_given_no"


class Page(Body):
    """``n`` rows after skipping ``o``; non-integers and negatives are 400 (README)."""

    n: int = Field(10, ge=0, le=PAGE_MAX)
    o: int = Field(0, ge=0, le=PAGE_MAX)


class QuestionSearch(Page):
    q: str = ""


class AnswerBody(Body):
    question_id: int
    answer: bool | None
    public: bool


class QuestionBody(Body):
    question_id: int


class FilterAnswerBody(Body):
    question_id: int
    answer: bool | None
    accept_unanswered: bool


class CompareAnswersQuery(Body):
    """Checked by hand: the spec's errors are plain text (``Invalid n`` …)."""

    agreement: str | None = None
    topic: str | None = None
    n: str | None = None
    o: str | None = None


async def question_scores(conn: Connection, question_id: int) -> Any:
    """The question's four score arrays; 400 for an unknown id (README decision)."""
    row = None
    if 0 < question_id <= SMALLINT_MAX:
        row = await conn.fetchrow(f"SELECT id, {SCORE_COLUMNS} FROM question WHERE id = $1", question_id)
    if row is None:
        raise value_error("Unknown question", ["question_id"])
    return row


async def replace_answer(conn: Connection, person_id: int, question: Any,
                         old: bool | None, new: bool | None) -> None:
    """Swap one answer's evidence for another's and store the recomputed personality (§5–§6).

    Call with the person row locked (``lock_person``) so concurrent answers do not interleave.
    """
    person = await conn.fetchrow(
        "SELECT presence_score, absence_score, count_answers FROM person WHERE id = $1", person_id
    )
    evidence = Evidence.of(person).replace(AnswerScores.of(question, old), AnswerScores.of(question, new))
    await conn.execute(
        """UPDATE person SET presence_score = $2, absence_score = $3, count_answers = $4,
                             personality = $5
           WHERE id = $1""",
        person_id,
        list(evidence.presence),
        list(evidence.absence),
        evidence.count_answers,
        evidence.personality(),
    )


async def lock_person(conn: Connection, person_id: int) -> None:
    await conn.execute("SELECT 1 FROM person WHERE id = $1 FOR UPDATE", person_id)


# ---------------------------------------------------------------------------
# answering
# ---------------------------------------------------------------------------


@bp.get("/next-questions")
@endpoint(auth=ONBOARDED, query=Page)
async def next_questions(ctx: Ctx, page: Page) -> list[dict[str, Any]]:
    """Unanswered questions: 1–10 first, then a fixed per-person shuffle (matching §14)."""
    rows = await ctx.svc.db.fetch(
        """SELECT q.id, q.question, q.topic, q.count_yes, q.count_no
           FROM question q
           WHERE NOT EXISTS (SELECT 1 FROM answer a WHERE a.person_id = $1 AND a.question_id = q.id)
           ORDER BY CASE WHEN q.id <= 10 THEN lpad(q.id::TEXT, 5, '0')
                         ELSE md5(q.id::TEXT || ' ' || $1::TEXT) END COLLATE "C",
                    q.id
           OFFSET $2 LIMIT $3""",
        ctx.person_id,
        page.o,
        page.n,
    )
    return [dict(row) for row in rows]


@bp.post("/answer")
@endpoint(auth=ONBOARDED, body=AnswerBody)
async def post_answer(ctx: Ctx, body: AnswerBody) -> None:
    """Store an answer (null = skipped), count it and update the personality."""
    async with ctx.svc.db.transaction() as conn:
        question = await question_scores(conn, body.question_id)
        await conn.execute(
            """UPDATE question SET count_yes = count_yes + ($2 IS TRUE)::INT,
                                   count_no = count_no + ($2 IS FALSE)::INT
               WHERE id = $1""",
            question["id"],
            body.answer,
        )
    async with ctx.svc.db.transaction() as conn:
        await lock_person(conn, ctx.person_id)
        old = await conn.fetchrow(
            "SELECT answer FROM answer WHERE person_id = $1 AND question_id = $2",
            ctx.person_id,
            question["id"],
        )
        await conn.execute(
            """INSERT INTO answer (person_id, question_id, answer, public_) VALUES ($1, $2, $3, $4)
               ON CONFLICT (person_id, question_id)
               DO UPDATE SET answer = EXCLUDED.answer, public_ = EXCLUDED.public_""",
            ctx.person_id,
            question["id"],
            body.answer,
            body.public,
        )
        await replace_answer(conn, ctx.person_id, question, None if old is None else old["answer"], body.answer)


@bp.delete("/answer")
@endpoint(auth=ONBOARDED, body=QuestionBody)
async def delete_answer(ctx: Ctx, body: QuestionBody) -> None:
    """Withdraw an answer and its evidence; idempotent."""
    async with ctx.svc.db.transaction() as conn:
        question = await question_scores(conn, body.question_id)
        await lock_person(conn, ctx.person_id)
        old = await conn.fetchrow(
            "DELETE FROM answer WHERE person_id = $1 AND question_id = $2 RETURNING answer",
            ctx.person_id,
            question["id"],
        )
        if old is not None:
            await replace_answer(conn, ctx.person_id, question, old["answer"], None)


# ---------------------------------------------------------------------------
# Q&A search filters
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _question_trigrams(text: str) -> frozenset[str]:
    return trigrams(text)


def filter_item(question: Any, wanted: Any) -> dict[str, Any]:
    """A question with the caller's Q&A filter on it (none: answer null, accepting unanswered)."""
    return {
        "question_id": question["id"],
        "question": question["question"],
        "topic": question["topic"],
        "answer": None if wanted is None else wanted["answer"],
        "accept_unanswered": True if wanted is None else wanted["accept_unanswered"],
    }


@bp.get("/search-filter-questions")
@endpoint(auth=ONBOARDED, query=QuestionSearch)
async def search_filter_questions(ctx: Ctx, query: QuestionSearch) -> list[dict[str, Any]]:
    """Questions nearest to ``q`` by pg_trgm similarity (ties by id), with the caller's filters."""
    questions = await ctx.svc.db.fetch("SELECT id, question, topic FROM question")
    wanted = trigrams(query.q)
    ranked = sorted(questions, key=lambda q: (-similarity(_question_trigrams(q["question"]), wanted), q["id"]))
    page = ranked[query.o : query.o + query.n]
    filters = await ctx.svc.db.fetch(
        """SELECT question_id, answer, accept_unanswered FROM search_preference_answer
           WHERE person_id = $1 AND question_id = ANY($2::SMALLINT[])""",
        ctx.person_id,
        [q["id"] for q in page],
    )
    by_question = {f["question_id"]: f for f in filters}
    return [filter_item(q, by_question.get(q["id"])) for q in page]


async def qa_filters(conn: Connection, person_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT q.id, q.question, q.topic, f.answer, f.accept_unanswered
           FROM search_preference_answer f JOIN question q ON q.id = f.question_id
           WHERE f.person_id = $1 ORDER BY q.id""",
        person_id,
    )
    return [filter_item(row, row) for row in rows]


@bp.post("/search-filter-answer")
@endpoint(auth=ONBOARDED, body=FilterAnswerBody)
async def search_filter_answer(ctx: Ctx, body: FilterAnswerBody) -> Any:
    """Set (at most 20) or clear one Q&A filter; answer with the resulting list."""
    async with ctx.svc.db.transaction() as conn:
        question = await question_scores(conn, body.question_id)
        await lock_person(conn, ctx.person_id)
        if body.answer is None:
            await conn.execute(
                "DELETE FROM search_preference_answer WHERE person_id = $1 AND question_id = $2",
                ctx.person_id,
                question["id"],
            )
            return {"answer": await qa_filters(conn, ctx.person_id)}
        others = await conn.fetchval(
            "SELECT count(*) FROM search_preference_answer WHERE person_id = $1 AND question_id <> $2",
            ctx.person_id,
            question["id"],
        )
        if others + 1 > MAX_QA_FILTERS:
            return Response(dumps({"error": TOO_MANY_FILTERS}), 400, content_type="application/json")
        await conn.execute(
            """INSERT INTO search_preference_answer (person_id, question_id, answer, accept_unanswered)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (person_id, question_id)
               DO UPDATE SET answer = EXCLUDED.answer, accept_unanswered = EXCLUDED.accept_unanswered""",
            ctx.person_id,
            question["id"],
            body.answer,
            body.accept_unanswered,
        )
        return {"answer": await qa_filters(conn, ctx.person_id)}


# ---------------------------------------------------------------------------
# personality pages and comparisons
# ---------------------------------------------------------------------------

PERSON_COLUMNS = "p.id, p.name, p.tiny_id, p.presence_score, p.absence_score"


def ratios(person: Any) -> list[Fraction | None]:
    """Per trait (index = trait id − 1) the shown ratio, None below the evidence threshold."""
    return [trait_ratio(p, a) for p, a in zip(person["presence_score"], person["absence_score"], strict=True)]


def trait_entry(trait: Any, renamed: bool) -> dict[str, Any]:
    if renamed:
        return {"trait_name": "Extraversion", "trait_min_label": None, "trait_max_label": None,
                "trait_description": trait["description"]}
    return {"trait_name": trait["name"], "trait_min_label": trait["min_label"],
            "trait_max_label": trait["max_label"], "trait_description": trait["description"]}


def by_position(entries: list[tuple[float, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Highest ratio first (unknown counts as 0), then trait name (§12.1)."""
    return [entry for _, entry in sorted(entries, key=lambda e: (-e[0], e[1]["trait_name"]))]


async def traits(conn: Connection, topic: str | None = None) -> Sequence[Any]:
    """Every trait, or those of one ``trait_topic`` name."""
    return await conn.fetch(
        """SELECT t.id, t.name, t.min_label, t.max_label, t.description FROM trait t
           WHERE $1::TEXT IS NULL
              OR EXISTS (SELECT 1 FROM trait_topic tt WHERE tt.trait_id = t.id AND tt.name = $1)
           ORDER BY t.id""",
        topic,
    )


async def personality_page(conn: Connection, person: Any) -> dict[str, Any]:
    """The /me body: name, tiny id and the percentage of all 46 traits."""
    shown = ratios(person)
    entries = [
        (trait_position(shown[t["id"] - 1]),
         trait_entry(t, False) | {"person_percentage": trait_percentage(shown[t["id"] - 1])})
        for t in await traits(conn)
    ]
    return {"name": person["name"], "person_id": person["tiny_id"], "personality": by_position(entries)}


def not_found() -> HttpError:
    return HttpError(404, "")


@bp.get("/me")
@endpoint(auth=ONBOARDED)
async def me(ctx: Ctx) -> dict[str, Any]:
    """The caller's own trait percentages."""
    async with ctx.svc.db.connection() as conn:
        person = await conn.fetchrow(f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.id = $1", ctx.person_id)
        return await personality_page(conn, person)


@bp.get("/me/<tiny_id>")
@endpoint(auth=None)
async def me_by_tiny_id(ctx: Ctx, tiny_id: str) -> dict[str, Any]:
    """Anyone's trait percentages by share link, unless hidden from an anonymous viewer."""
    async with ctx.svc.db.connection() as conn:
        person = await conn.fetchrow(
            f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.tiny_id = $1 AND {visible_to(None, 'p')}",
            tiny_id,
        )
        if person is None:
            raise not_found()
        return await personality_page(conn, person)


async def viewer_and_prospect(conn: Connection, viewer_id: int, prospect_id: int) -> tuple[Any, Any]:
    """Both person rows; 404 when the prospect is unknown or hidden from the viewer."""
    prospect = None
    if prospect_id <= INT_MAX:
        prospect = await conn.fetchrow(
            f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.id = $2 AND {visible_to('$1', 'p')}",
            viewer_id,
            prospect_id,
        )
    if prospect is None:
        raise not_found()
    viewer = await conn.fetchrow(f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.id = $1", viewer_id)
    return viewer, prospect


@bp.get("/compare-personalities/<int:prospect_person_id>/<any(mbti, big5, attachment, politics, other):topic>")
@endpoint(auth=ONBOARDED)
async def compare_personalities(ctx: Ctx, prospect_person_id: int, topic: str) -> list[dict[str, Any]]:
    """The caller's and the prospect's percentages for one topic's traits."""
    async with ctx.svc.db.connection() as conn:
        viewer, prospect = await viewer_and_prospect(conn, ctx.person_id, prospect_person_id)
        mine, theirs = ratios(viewer), ratios(prospect)
        entries = []
        for t in await traits(conn, TRAIT_TOPICS[topic]):
            i = t["id"] - 1
            entry = trait_entry(t, renamed=topic == "big5" and t["id"] == EXTRAVERSION_ID) | {
                "person_name": viewer["name"],
                "person_id": viewer["tiny_id"],
                "person_percentage": trait_percentage(mine[i]),
                "prospect_name": prospect["name"],
                "prospect_percentage": trait_percentage(theirs[i]),
                "position": trait_position(theirs[i]),
            }
            entries.append((entry["position"], entry))
        return by_position(entries)


def _paging_value(raw: str | None, default: int, name: str) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, f"Invalid {name}") from None
    if not 0 <= value <= PAGE_MAX:
        raise HttpError(400, f"Invalid {name}")
    return value


@bp.get("/compare-answers/<int:prospect_person_id>")
@endpoint(auth=ONBOARDED, query=CompareAnswersQuery)
async def compare_answers(ctx: Ctx, query: CompareAnswersQuery, prospect_person_id: int) -> list[dict[str, Any]]:
    """The prospect's public answers beside the caller's, filtered by topic and agreement."""
    if query.agreement not in AGREEMENT:
        raise HttpError(400, "Invalid agreement")
    if query.topic is None or (query.topic != "all" and query.topic not in QUESTION_TOPICS):
        raise HttpError(400, "Invalid topic")
    n = _paging_value(query.n, 10, "n")
    o = _paging_value(query.o, 0, "o")
    async with ctx.svc.db.connection() as conn:
        viewer, prospect = await viewer_and_prospect(conn, ctx.person_id, prospect_person_id)
        rows = await conn.fetch(
            f"""SELECT q.id AS question_id, q.question, q.topic,
                       pa.answer AS prospect_answer, pa.person_id AS prospect_person_id,
                       ma.person_id, ma.answer AS person_answer, ma.public_ AS person_public_
                FROM answer pa
                JOIN question q ON q.id = pa.question_id
                LEFT JOIN answer ma ON ma.person_id = $1 AND ma.question_id = pa.question_id
                WHERE pa.person_id = $2 AND pa.public_ AND pa.answer IS NOT NULL
                  AND ($3::TEXT IS NULL OR q.topic = $3)
                  AND {AGREEMENT[query.agreement]}
                ORDER BY q.id
                OFFSET $4 LIMIT $5""",
            viewer["id"],
            prospect["id"],
            QUESTION_TOPICS.get(query.topic),
            o,
            n,
        )
    return [dict(row) | {"person_name": viewer["name"], "prospect_name": prospect["name"]} for row in rows]
