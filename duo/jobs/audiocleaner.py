"""``audiocleaner`` (scheduler.md §5.5): delete the audio queued in ``undeleted_audio``."""

from __future__ import annotations

import datetime as dt

from duo.jobs.bucket import delete_audio
from duo.jobs.job import Counts
from duo.services import Services


async def iteration(svc: Services, now: dt.datetime) -> Counts:
    uuids = [r["uuid"] for r in await svc.db.fetch("SELECT uuid FROM undeleted_audio")]
    dry_run = svc.config.cron.audio_cleaner_dry_run
    deleted = await delete_audio(svc.db, svc.storage, uuids, dry_run=dry_run, label="audiocleaner")
    return {"queued": len(uuids), "deleted": deleted}
