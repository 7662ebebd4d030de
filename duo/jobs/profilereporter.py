"""``profilereporter`` (scheduler.md §5.8): screen edited "about" texts for potential minors.

Each queued person is handled in its own transaction: the text is read, a hit is skipped
and reported from the bot account (safety.md §10), and the queue row is deleted — all
committed before the report e-mail is queued. So a crash never reports a person twice,
and an edit made while the job runs is screened on the next pass, not dequeued unseen.
"""

from __future__ import annotations

import datetime as dt
import logging

from duo import reports
from duo.jobs.job import Counts
from duo.safety.childsafety import is_potential_minor
from duo.services import Services

log = logging.getLogger("duo.jobs.profilereporter")

REASON = "Automatically lodged report: Child safety"

BOT_SQL = "SELECT id FROM person WHERE 'bot' = ANY(roles) ORDER BY roles, id LIMIT 1"
QUEUE_SQL = "SELECT person_id FROM unmoderated_person WHERE trait = 'about'"
TAKE_SQL = """
DELETE FROM unmoderated_person u USING person p
WHERE u.person_id = $1 AND u.trait = 'about' AND p.id = u.person_id
RETURNING p.about
"""


async def iteration(svc: Services, now: dt.datetime) -> Counts:
    bot_id = await svc.db.fetchval(BOT_SQL)
    if bot_id is None:
        return {"screened": 0, "reported": 0}
    queued = [r["person_id"] for r in await svc.db.fetch(QUEUE_SQL)]
    reported = 0
    for person_id in queued:
        mail = None
        async with svc.db.transaction() as conn:
            about = await conn.fetchval(TAKE_SQL, person_id)
            if about is not None and is_potential_minor(about):
                await reports.skip(conn, bot_id, person_id, REASON, now)
                mail = await reports.lodge(conn, svc, bot_id, person_id, REASON)
                reported += 1
                log.info("person %s reported: potential minor", person_id)
        if mail is not None:
            await svc.send_mail(mail)
    return {"screened": len(queued), "reported": reported}
