"""Questions, answers, Q&A search filters and personality pages.

http-api-accounts §5 and §6.1–§6.2, http-api-social §5.3–§5.4, §6 and §7.2–§7.4; the maths
is in ``duo.matching``. By README decision unknown question ids and bad paging are 400,
and ``/compare-*`` and ``/me/<tiny_id>`` answer 404 for people the viewer may not see
(``duo.visibility``).
"""

from __future__ import annotations

import functools
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
from duo.sql import questions as questions_sql
from duo.sql.database import Connection

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

QUESTION_TOPICS = {"values": "Values", "sex": "Sex", "interpersonal": "Interpersonal", "other": "Other"}


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
    row = await questions_sql.scores(conn, question_id) if 0 < question_id <= SMALLINT_MAX else None
    if row is None:
        raise value_error("Unknown question", ["question_id"])
    return row


async def replace_answer(conn: Connection, person_id: int, question: Any,
                         old: bool | None, new: bool | None) -> None:
    """Swap one answer's evidence for another's and store the recomputed personality (§5–§6).

    Call with the person row locked (``lock_person``) so concurrent answers do not interleave.
    """
    person = await questions_sql.evidence(conn, person_id)
    evidence = Evidence.of(person).replace(AnswerScores.of(question, old), AnswerScores.of(question, new))
    await questions_sql.store_evidence(
        conn, person_id, list(evidence.presence), list(evidence.absence), evidence.count_answers, evidence.personality()
    )


# ---------------------------------------------------------------------------
# answering
# ---------------------------------------------------------------------------


@bp.get("/next-questions")
@endpoint(auth=ONBOARDED, query=Page)
async def next_questions(ctx: Ctx, page: Page) -> list[dict[str, Any]]:
    """Unanswered questions: 1–10 first, then a fixed per-person shuffle (matching §14)."""
    return await questions_sql.unanswered(ctx.svc.db, ctx.person_id, page.o, page.n)


@bp.post("/answer")
@endpoint(auth=ONBOARDED, body=AnswerBody)
async def post_answer(ctx: Ctx, body: AnswerBody) -> None:
    """Store an answer (null = skipped), count it and update the personality."""
    async with ctx.svc.db.transaction() as conn:
        question = await question_scores(conn, body.question_id)
        await questions_sql.count_answer(conn, question["id"], body.answer)
    async with ctx.svc.db.transaction() as conn:
        await questions_sql.lock_person(conn, ctx.person_id)
        old = await questions_sql.answer_of(conn, ctx.person_id, question["id"])
        await questions_sql.put_answer(conn, ctx.person_id, question["id"], body.answer, body.public)
        await replace_answer(conn, ctx.person_id, question, None if old is None else old["answer"], body.answer)


@bp.delete("/answer")
@endpoint(auth=ONBOARDED, body=QuestionBody)
async def delete_answer(ctx: Ctx, body: QuestionBody) -> None:
    """Withdraw an answer and its evidence; idempotent."""
    async with ctx.svc.db.transaction() as conn:
        question = await question_scores(conn, body.question_id)
        await questions_sql.lock_person(conn, ctx.person_id)
        old = await questions_sql.delete_answer(conn, ctx.person_id, question["id"])
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
    questions = await questions_sql.all_questions(ctx.svc.db)
    wanted = trigrams(query.q)
    ranked = sorted(questions, key=lambda q: (-similarity(_question_trigrams(q["question"]), wanted), q["id"]))
    page = ranked[query.o : query.o + query.n]
    filters = await questions_sql.filters_on(ctx.svc.db, ctx.person_id, [q["id"] for q in page])
    by_question = {f["question_id"]: f for f in filters}
    return [filter_item(q, by_question.get(q["id"])) for q in page]


async def qa_filters(conn: Connection, person_id: int) -> list[dict[str, Any]]:
    rows = await questions_sql.filters_of(conn, person_id)
    return [filter_item(row, row) for row in rows]


@bp.post("/search-filter-answer")
@endpoint(auth=ONBOARDED, body=FilterAnswerBody)
async def search_filter_answer(ctx: Ctx, body: FilterAnswerBody) -> Any:
    """Set (at most 20) or clear one Q&A filter; answer with the resulting list."""
    async with ctx.svc.db.transaction() as conn:
        question = await question_scores(conn, body.question_id)
        await questions_sql.lock_person(conn, ctx.person_id)
        if body.answer is None:
            await questions_sql.delete_filter(conn, ctx.person_id, question["id"])
            return {"answer": await qa_filters(conn, ctx.person_id)}
        others = await questions_sql.count_other_filters(conn, ctx.person_id, question["id"])
        if others + 1 > MAX_QA_FILTERS:
            return Response(dumps({"error": TOO_MANY_FILTERS}), 400, content_type="application/json")
        await questions_sql.put_filter(conn, ctx.person_id, question["id"], body.answer, body.accept_unanswered)
        return {"answer": await qa_filters(conn, ctx.person_id)}


# ---------------------------------------------------------------------------
# personality pages and comparisons
# ---------------------------------------------------------------------------

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


async def personality_page(conn: Connection, person: Any) -> dict[str, Any]:
    """The /me body: name, tiny id and the percentage of all 46 traits."""
    shown = ratios(person)
    entries = [
        (trait_position(shown[t["id"] - 1]),
         trait_entry(t, False) | {"person_percentage": trait_percentage(shown[t["id"] - 1])})
        for t in await questions_sql.traits(conn)
    ]
    return {"name": person["name"], "person_id": person["tiny_id"], "personality": by_position(entries)}


def not_found() -> HttpError:
    return HttpError(404, "")


@bp.get("/me")
@endpoint(auth=ONBOARDED)
async def me(ctx: Ctx) -> dict[str, Any]:
    """The caller's own trait percentages."""
    async with ctx.svc.db.connection() as conn:
        person = await questions_sql.person(conn, ctx.person_id)
        return await personality_page(conn, person)


@bp.get("/me/<tiny_id>")
@endpoint(auth=None)
async def me_by_tiny_id(ctx: Ctx, tiny_id: str) -> dict[str, Any]:
    """Anyone's trait percentages by share link, unless hidden from an anonymous viewer."""
    async with ctx.svc.db.connection() as conn:
        person = await questions_sql.visible_person_by_tiny_id(conn, tiny_id)
        if person is None:
            raise not_found()
        return await personality_page(conn, person)


async def viewer_and_prospect(conn: Connection, viewer_id: int, prospect_id: int) -> tuple[Any, Any]:
    """Both person rows; 404 when the prospect is unknown or hidden from the viewer."""
    prospect = await questions_sql.visible_person(conn, viewer_id, prospect_id) if prospect_id <= INT_MAX else None
    if prospect is None:
        raise not_found()
    viewer = await questions_sql.person(conn, viewer_id)
    return viewer, prospect


@bp.get("/compare-personalities/<int:prospect_person_id>/<any(mbti, big5, attachment, politics, other):topic>")
@endpoint(auth=ONBOARDED)
async def compare_personalities(ctx: Ctx, prospect_person_id: int, topic: str) -> list[dict[str, Any]]:
    """The caller's and the prospect's percentages for one topic's traits."""
    async with ctx.svc.db.connection() as conn:
        viewer, prospect = await viewer_and_prospect(conn, ctx.person_id, prospect_person_id)
        mine, theirs = ratios(viewer), ratios(prospect)
        entries = []
        for t in await questions_sql.traits(conn, TRAIT_TOPICS[topic]):
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
    if query.agreement not in questions_sql.AGREEMENT:
        raise HttpError(400, "Invalid agreement")
    if query.topic is None or (query.topic != "all" and query.topic not in QUESTION_TOPICS):
        raise HttpError(400, "Invalid topic")
    n = _paging_value(query.n, 10, "n")
    o = _paging_value(query.o, 0, "o")
    async with ctx.svc.db.connection() as conn:
        viewer, prospect = await viewer_and_prospect(conn, ctx.person_id, prospect_person_id)
        rows = await questions_sql.compared_answers(
            conn, viewer["id"], prospect["id"], QUESTION_TOPICS.get(query.topic), query.agreement, o, n
        )
    return [dict(row) | {"person_name": viewer["name"], "prospect_name": prospect["name"]} for row in rows]
