"""``checkphotos`` (scheduler.md §5.9): reconcile the photo bucket with the database.

Not scheduled, as in the reference: an operator enables it (by adding it to the registry)
only when the bucket is believed to hold photos the database does not track. One iteration
walks every ``450-`` key, 300 per page: photos with an empty blurhash get one computed from
their 450 variant (16×16 nearest neighbour, RGB, 4×4 components), and orphans — in none of
``photo``, ``onboardee_photo`` or ``verification_job`` — are deleted with the four variants.

Decision (open question 7): ``DUO_CRON_CHECK_PHOTOS_DRY_RUN`` governs both parts, so a dry
run changes nothing and a live run does delete orphans; verification selfies are not
orphans (the reference would have classed them so).
"""

from __future__ import annotations

import datetime as dt
import io

import blurhash
import trio
from PIL import Image

from duo.jobs.bucket import delete_photos, download_450
from duo.jobs.job import Counts
from duo.services import Services

PAGE = 300
PREFIX = "450-"
THUMB = 16
COMPONENTS = 4

CLASSIFY_SQL = """
SELECT u.uuid,
       EXISTS (SELECT 1 FROM photo p WHERE p.uuid = u.uuid AND p.blurhash = '') AS needs_blurhash,
       NOT EXISTS (SELECT 1 FROM photo p WHERE p.uuid = u.uuid)
       AND NOT EXISTS (SELECT 1 FROM onboardee_photo o WHERE o.uuid = u.uuid)
       AND NOT EXISTS (SELECT 1 FROM verification_job j WHERE j.photo_uuid = u.uuid) AS orphan
FROM unnest($1::text[]) AS u(uuid)
"""


def photo_blurhash(data: bytes) -> str:
    image = Image.open(io.BytesIO(data)).resize((THUMB, THUMB), Image.Resampling.NEAREST).convert("RGB")
    code: str = blurhash.encode(image, COMPONENTS, COMPONENTS)
    return code


async def iteration(svc: Services, now: dt.datetime) -> Counts:
    dry_run = svc.config.cron.check_photos_dry_run
    counts = {"checked": 0, "blurhashed": 0, "orphans": 0, "deleted": 0}
    async for keys in svc.storage.pages("photos", PREFIX, PAGE):
        uuids = [key[len(PREFIX):-len(".jpg")] for key in keys if key.endswith(".jpg")]
        rows = await svc.db.fetch(CLASSIFY_SQL, uuids)
        counts["checked"] += len(rows)
        missing_hash = [r["uuid"] for r in rows if r["needs_blurhash"]]
        for uuid, data in zip(missing_hash, await download_450(svc.storage, missing_hash), strict=True):
            if data is None:
                continue
            code = await trio.to_thread.run_sync(photo_blurhash, data)
            counts["blurhashed"] += 1
            if not dry_run:
                await svc.db.execute("UPDATE photo SET blurhash = $2 WHERE uuid = $1 AND blurhash = ''", uuid, code)
        orphans = [r["uuid"] for r in rows if r["orphan"]]
        counts["orphans"] += len(orphans)
        counts["deleted"] += await delete_photos(svc.db, svc.storage, orphans, dry_run=dry_run, label="checkphotos")
    return counts
