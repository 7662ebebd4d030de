"""``verificationjobrunner`` (scheduler.md §5.7): check queued selfies with an OpenAI model.

The API (``/verify``) queues jobs; this runner takes them one at a time: ``running``
(committed, with ``started_at``), the model's answer, the verdict (safety.md §12.3), and
the outcome in one transaction. A job left ``running`` longer than
``DUO_CRON_VERIFICATION_REQUEUE_SECONDS`` (its runner died) is queued again; no answer
stores ``raw_json`` NULL (contract decisions).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any, cast

import attrs
import httpx
import openai
import trio

from duo.config import OpenAiConfig
from duo.jobs.job import Counts
from duo.person_view import age
from duo.safety.verification import MAX_CLAIMED_PHOTOS, Verdict, job_message, judge, message
from duo.services import Services

log = logging.getLogger("duo.jobs.verification")

GENDERS = ("Man", "Woman", "Agender", "Femboy", "Intersex", "Non-binary", "Transgender", "Trans woman",
           "Trans man", "Other")
ETHNICITIES = ("Black/African Descent", "East Asian", "Hispanic/Latino", "Middle Eastern", "Native American",
               "Pacific Islander", "South Asian", "Southeast Asian", "White/Caucasian", "Other")
MAX_TOKENS = 500

REQUEUE_SQL = """
UPDATE verification_job SET status = 'queued', message = $2, started_at = NULL
WHERE status = 'running' AND started_at < $1
RETURNING id
"""

QUEUED_SQL = f"""
SELECT j.id, j.person_id, j.photo_uuid,
       ARRAY(SELECT uuid FROM photo WHERE person_id = p.id ORDER BY position LIMIT {MAX_CLAIMED_PHOTOS}) AS claimed_uuids,
       {age("p", "$1")} AS claimed_age,
       (SELECT name FROM gender WHERE id = p.gender_id) AS claimed_gender,
       NULLIF((SELECT name FROM ethnicity WHERE id = p.ethnicity_id), 'Unanswered') AS claimed_ethnicity
FROM verification_job j JOIN person p ON p.id = j.person_id
WHERE j.status = 'queued'
ORDER BY j.id
"""

TAKE_SQL = """
UPDATE verification_job SET status = 'running', message = $2, started_at = $3
WHERE id = $1 AND status = 'queued'
RETURNING id
"""

RESULT_SQL = "UPDATE verification_job SET status = $2, message = $3, raw_json = $4 WHERE id = $1 AND status = 'running'"

VERIFIED_SQL = """
UPDATE person SET verification_level_id = CASE WHEN cardinality($2::text[]) > 0 THEN 3 ELSE 2 END,
                  verified_age = TRUE, verified_gender = TRUE, verified_ethnicity = $3
WHERE id = $1
"""

PHOTOS_SQL = "UPDATE photo SET verified = (uuid = ANY($2::text[])) WHERE person_id = $1"


@attrs.frozen
class Claims:
    proof_uuid: str
    photo_uuids: tuple[str, ...]
    age: int
    gender: str
    ethnicity: str | None


def claim_keys(claims: Claims) -> list[tuple[str, str]]:
    """(key, what it asks) for every claim, in the order requested (§5.7)."""
    keys = [
        ("image_1_was_not_edited", "Image #1 was not edited"),
        ("image_1_is_photograph", "Image #1 is a photograph"),
        ("image_1_is_not_screenshot", "Image #1 shows no sign of being a screenshot or a photo of a screen"),
        ("image_1_has_at_least_one_person", "Image #1 contains at least one person"),
        ("image_1_has_exactly_one_person", "Image #1 contains exactly one person"),
        ("image_1_has_claimed_gender",
         f"The person in Image #1 is a {claims.gender} (chosen from: {', '.join(GENDERS)}; "
         "lean towards 1.0 when unclear)"),
        ("image_1_has_claimed_age", f"The person in Image #1 is {claims.age} years old"),
        ("image_1_has_claimed_minimum_age", "The person in Image #1 is 18 or older"),
    ]
    if claims.ethnicity is not None:
        keys.append(("image_1_has_claimed_ethnicity",
                     f"The person in Image #1 is {claims.ethnicity} (chosen from: {', '.join(ETHNICITIES)}; "
                     "lean towards 1.0 when unclear)"))
    keys += [
        ("image_1_has_smiling_person", "The person in Image #1 is smiling"),
        ("image_1_has_eyebrow_touch",
         "The person in Image #1 touches an eyebrow or the face next to it (e.g. the forehead) with a hand"),
        ("image_1_has_thumb", "A thumb is visible in Image #1"),
        ("image_1_has_downward_thumb", "A thumb in Image #1 points down"),
    ]
    keys += [
        (f"image_1_has_person_from_image_{k}", f"The person in Image #1 also appears in Image #{k}")
        for k in range(2, len(claims.photo_uuids) + 2)
    ]
    return keys


def system_prompt(claims: Claims) -> str:
    schema = "\n".join(f"  {key}: number;  // {what}" for key, what in claim_keys(claims))
    return (
        "You check images that a user of a social website uploaded to verify their identity. "
        "Image #1 is the proof: a selfie taken for this check. Any further images are the photos on "
        "the user's profile.\n"
        "For each claim below, give the probability (0.0 to 1.0) that it is true. Answer with one "
        "JSON object of this type and nothing else:\n"
        f"{{\n{schema}\n}}"
    )


async def _image_url(http: httpx.AsyncClient, base: str, media_url: str, uuid: str) -> str:
    """The public URL, or in development the image itself fetched from ``base``."""
    if not base:
        return f"{media_url}/450-{uuid}.jpg"
    reply = await http.get(f"{base.rstrip('/')}/450-{uuid}.jpg")
    reply.raise_for_status()
    return "data:image/jpeg;base64," + base64.b64encode(reply.content).decode()


async def user_content(svc: Services, claims: Claims) -> list[dict[str, Any]]:
    """``Image #i:`` then the image, the selfie first (high detail), then the profile photos."""
    content: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=30) as http:
        for i, uuid in enumerate((claims.proof_uuid, *claims.photo_uuids), start=1):
            url = await _image_url(http, svc.config.cron.verification_image_base_url, svc.config.media_url, uuid)
            content.append({"type": "text", "text": f"Image #{i}:"})
            content.append({"type": "image_url", "image_url": {"url": url, "detail": "high" if i == 1 else "low"}})
    return content


def _complete(config: OpenAiConfig, messages: list[dict[str, Any]]) -> str | None:
    """One chat completion (blocking; runs in a worker thread)."""
    client = openai.OpenAI(
        api_key=config.api_key or None,
        base_url=config.base_url or None,
        timeout=float(config.timeout_seconds),
        max_retries=0,
    )
    try:
        reply = client.chat.completions.create(
            model=config.model,
            messages=cast(Any, messages),
            response_format={"type": "json_object"},
            temperature=0.0,
            frequency_penalty=0.0,
            presence_penalty=0.0,
            max_tokens=MAX_TOKENS,
        )
    finally:
        client.close()
    content: str | None = reply.choices[0].message.content
    return content


async def model_answer(svc: Services, claims: Claims) -> str | None:
    """The mock file's content, or the model's; None when there is no answer at all."""
    mock = svc.config.cron.verification_mock_response_file
    if mock and Path(mock).is_file():
        return await trio.to_thread.run_sync(Path(mock).read_text, "utf-8")
    try:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system_prompt(claims)},
            {"role": "user", "content": await user_content(svc, claims)},
        ]
        with trio.fail_after(svc.config.openai.timeout_seconds + 5):
            return await trio.to_thread.run_sync(_complete, svc.config.openai, messages, abandon_on_cancel=True)
    except (openai.OpenAIError, httpx.HTTPError, trio.TooSlowError, OSError) as e:
        log.warning("no answer from the verification model: %s", e)
        return None


async def _record(svc: Services, job_id: int, person_id: int, answer: str | None, verdict: Verdict) -> None:
    async with svc.db.transaction() as conn:
        status = "success" if verdict.success else "failure"
        await conn.execute(RESULT_SQL, job_id, status, verdict.message, answer)
        if verdict.success:
            photos = list(verdict.verified_photos)
            await conn.execute(VERIFIED_SQL, person_id, photos, verdict.verified_ethnicity)
            await conn.execute(PHOTOS_SQL, person_id, photos)


async def iteration(svc: Services, now: dt.datetime) -> Counts:
    stuck_before = now - dt.timedelta(seconds=svc.config.cron.verification_requeue_seconds)
    requeued = await svc.db.fetch(REQUEUE_SQL, stuck_before, message("V_QUEUED"))
    for row in requeued:
        log.warning("verification job %s was stuck in running: queued again", row["id"])
    counts = {"requeued": len(requeued), "success": 0, "failure": 0}
    for job in await svc.db.fetch(QUEUED_SQL, now):
        if await svc.db.fetchval(TAKE_SQL, job["id"], job_message("running"), now) is None:
            continue  # taken or withdrawn meanwhile
        claims = Claims(job["photo_uuid"], tuple(job["claimed_uuids"]), job["claimed_age"],
                        job["claimed_gender"], job["claimed_ethnicity"])
        answer = await model_answer(svc, claims)
        verdict = judge(answer, claims.photo_uuids, claims.ethnicity is not None)
        await _record(svc, job["id"], job["person_id"], answer, verdict)
        counts["success" if verdict.success else "failure"] += 1
        log.info("verification job %s: %s %s", job["id"], "success" if verdict.success else "failure",
                 json.dumps(verdict.message))
    return counts
