"""``photocleaner`` (scheduler.md §5.4): delete the photos queued in ``undeleted_photo``."""

from __future__ import annotations

import datetime as dt

from duo.jobs.bucket import delete_photos
from duo.jobs.job import Counts
from duo.services import Services


async def iteration(svc: Services, now: dt.datetime) -> Counts:
    uuids = [r["uuid"] for r in await svc.db.fetch("SELECT uuid FROM undeleted_photo")]
    dry_run = svc.config.cron.photo_cleaner_dry_run
    deleted = await delete_photos(svc.db, svc.storage, uuids, dry_run=dry_run, label="photocleaner")
    return {"queued": len(uuids), "deleted": deleted}
