"""Selfie verification's shared vocabulary (http-api-social §13, safety.md §12).

The HTTP endpoints create and queue ``verification_job`` rows; the scheduler's job runner
checks them with the vision model.  They meet only through that table, so the statuses and
the texts clients show live here, read from the packaged ``verification-messages.json``.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from duo.safety.datafiles import read_json

_MESSAGES = read_json("verification-messages.json")

MESSAGES: Final[dict[str, str]] = dict(_MESSAGES["constants"])
"""The ``V_*`` constants, e.g. ``MESSAGES["V_AGE"]``."""

UPLOADING_PHOTO = "uploading-photo"
QUEUED = "queued"
FAILURE = "failure"

UPLOADING_MESSAGE: Final[str] = _MESSAGES["other_job_messages"]["verification_job_message_column_default"]
QUEUED_MESSAGE: Final[str] = MESSAGES["V_QUEUED"]
REUSED_SELFIE_MESSAGE: Final[str] = MESSAGES["V_REUSED_SELFIE"]

JOB_LIFETIME = dt.timedelta(days=3)
