"""The jobs this deployment runs, in the reference's start order (scheduler.md §1).

Jobs that need an outside part that is not configured are left out and say so once, at
start-up: NSFW scoring without an ONNX model file, verification without an OpenAI key,
base URL or mock answer file. ``checkphotos`` is never scheduled (§5.9: not started).
The reference's keep-alive loop and health port are not jobs here: the pool checks its
connections and ``/health`` is served by the HTTP API.
"""

from __future__ import annotations

import logging

from duo.config import Config
from duo.jobs import (
    audiocleaner,
    autodeactivate,
    garbagerecords,
    notifications,
    nsfwphotorunner,
    photocleaner,
    profilereporter,
    verification,
)
from duo.jobs.job import Job

log = logging.getLogger("duo.jobs")


def scheduled_jobs(config: Config) -> list[Job]:
    cron = config.cron
    jobs = [
        Job("autodeactivate2", cron.autodeactivate2_poll_seconds, autodeactivate.iteration,
            cron.autodeactivate2_dry_run),
        Job("garbagerecords", cron.garbage_records_poll_seconds, garbagerecords.iteration),
        Job("photocleaner", cron.photo_cleaner_poll_seconds, photocleaner.iteration, cron.photo_cleaner_dry_run),
        Job("audiocleaner", cron.audio_cleaner_poll_seconds, audiocleaner.iteration, cron.audio_cleaner_dry_run),
    ]
    if config.openai.nsfw_model:
        jobs.append(Job("nsfwphotorunner", cron.nsfw_photo_runner_poll_seconds, nsfwphotorunner.iteration))
    else:
        log.info("nsfwphotorunner is off: no NSFW model file configured (DUO_NSFW_MODEL)")
    jobs.append(Job("notifications", cron.email_poll_seconds, notifications.iteration))
    if config.openai.api_key or config.openai.base_url or cron.verification_mock_response_file:
        jobs.append(Job("verificationjobrunner", cron.verification_poll_seconds, verification.iteration))
    else:
        log.info("verificationjobrunner is off: no OPENAI_API_KEY, OPENAI_BASE_URL or mock answer file")
    jobs.append(Job("profilereporter", cron.profile_reporter_poll_seconds, profilereporter.iteration))
    return jobs
