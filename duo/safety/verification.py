"""Judging the model's answer about a verification selfie (safety.md §12.3).

Pure functions: the answer text in, the outcome out. The messages are the app's exact
strings, shipped as ``duo/data/verification-messages.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import attrs

from duo.safety.datafiles import read_json

REQUIRED = (
    "image_1_was_not_edited",
    "image_1_is_photograph",
    "image_1_is_not_screenshot",
    "image_1_has_at_least_one_person",
    "image_1_has_exactly_one_person",
    "image_1_has_claimed_gender",
    "image_1_has_claimed_age",
    "image_1_has_claimed_minimum_age",
    "image_1_has_smiling_person",
    "image_1_has_eyebrow_touch",
    "image_1_has_downward_thumb",
)
ETHNICITY = "image_1_has_claimed_ethnicity"
MAX_CLAIMED_PHOTOS = 7
PHOTO_MATCH = 0.9
OPTIONAL = (ETHNICITY, *(f"image_1_has_person_from_image_{k}" for k in range(2, MAX_CLAIMED_PHOTOS + 2)))

# (key, fails below, message constant), in the order the first failure is reported
CHECKS = (
    ("image_1_is_photograph", 0.7, "V_NOT_REAL"),
    ("image_1_is_not_screenshot", 0.7, "V_SCREENSHOT"),
    ("image_1_was_not_edited", 0.8, "V_EDITED"),
    ("image_1_has_at_least_one_person", 0.7, "V_NO_PEOPLE"),
    ("image_1_has_exactly_one_person", 0.7, "V_MANY_PEOPLE"),
    ("image_1_has_claimed_gender", 0.5, "V_GENDER"),
    (ETHNICITY, 0.4, "V_ETHNCITY"),
    ("image_1_has_claimed_age", 0.5, "V_AGE"),
    ("image_1_has_claimed_minimum_age", 0.8, "V_AGE"),
    ("image_1_has_smiling_person", 0.7, "V_SMILING"),
    ("image_1_has_eyebrow_touch", 0.7, "V_EYEBROW"),
    ("image_1_has_downward_thumb", 0.7, "V_THUMBS_DOWN"),
)


def message(constant: str) -> str:
    """A verification message constant (e.g. ``V_QUEUED``) as the app shows it."""
    text: str = read_json("verification-messages.json")["constants"][constant]
    return text


def job_message(status: str) -> str:
    """The message of a ``running`` or ``success`` job."""
    text: str = read_json("verification-messages.json")["other_job_messages"][status]
    return text


@attrs.frozen
class Verdict:
    success: bool
    message: str
    verified_photos: tuple[str, ...] = ()
    verified_ethnicity: bool = False


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if math.isnan(number) else number


def judge(answer: str | None, claimed_photos: Sequence[str], ethnicity_claimed: bool) -> Verdict:
    """The outcome of one job; any malformed answer is "something went wrong".

    Decision (open question 5): ethnicity counts as verified only when one was claimed.
    """
    wrong = Verdict(False, message("V_SOMETHING_WENT_WRONG"))
    if answer is None:
        return wrong
    try:
        parsed = json.loads(answer)
    except ValueError:
        return wrong
    if not isinstance(parsed, dict):
        return wrong
    scores: dict[str, float] = {}
    for key in (*REQUIRED, *OPTIONAL):
        if key not in parsed:
            if key in REQUIRED:
                return wrong
            continue
        number = _number(parsed[key])
        if number is None:
            return wrong
        scores[key] = number
    for key, threshold, constant in CHECKS:
        if key in scores and scores[key] < threshold:
            return Verdict(False, message(constant))
    verified = tuple(
        uuid
        for k, uuid in enumerate(claimed_photos[:MAX_CLAIMED_PHOTOS], start=2)
        if scores.get(f"image_1_has_person_from_image_{k}", 0.0) >= PHOTO_MATCH
    )
    return Verdict(True, job_message("success"), verified, ethnicity_claimed and ETHNICITY in scores)
