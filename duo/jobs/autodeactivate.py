"""``autodeactivate2`` (scheduler.md §5.2): hide profiles inactive for a month, and say so.

The deactivation commits before any e-mail is queued, so a crash can lose a notice but
never repeat one: the deactivated person no longer matches. In a dry run nothing changes
and nothing is sent (contract decision; the reference mailed every poll).
"""

from __future__ import annotations

import datetime as dt
import logging

from duo.actors.mailer import LOGO_URL, Mail, is_never_sent
from duo.jobs.job import APP_URL, NO_REPLY_SENDER, Counts
from duo.services import Services

log = logging.getLogger("duo.jobs.autodeactivate2")

SUBJECT = "Your profile is invisible 👻"

# Club counts go down once per deactivated member (the reference lowered them once per
# statement, however many members of a club were deactivated).
DEACTIVATE_SQL = """
WITH selected AS (
    SELECT id, email FROM person
    WHERE last_online_time > $1::timestamptz - interval '50 days'
      AND last_online_time < $1::timestamptz - interval '30 days'
      AND activated
      AND sign_in_time < $1::timestamptz - interval '10 minutes'
),
deactivated AS (
    UPDATE person SET activated = FALSE
    WHERE id IN (SELECT id FROM selected) AND NOT $2::boolean AND activated
    RETURNING id
),
members AS (
    SELECT club_name, count(*)::int AS n FROM person_club
    WHERE person_id IN (SELECT id FROM deactivated) GROUP BY club_name
),
clubs AS (
    UPDATE club c SET count_members = GREATEST(c.count_members - m.n, 0)
    FROM members m WHERE c.name = m.club_name
    RETURNING 1
),
sessions AS (
    DELETE FROM duo_session WHERE person_id IN (SELECT id FROM deactivated) RETURNING 1
)
SELECT s.id, s.email, (SELECT count(*) FROM clubs) AS clubs, (SELECT count(*) FROM sessions) AS sessions
FROM selected s
"""


def deactivation_mail(to: str) -> Mail:
    """The notice, in our own words; no per-recipient content."""
    text = (
        "Come back to Duolicious!\n\n"
        "Only people who have been active recently are shown to others, so your profile is "
        "hidden for now. You won't get new intros or chats until you return; open the app "
        f"to make your profile visible again: {APP_URL}\n"
    )
    body = f"""<!DOCTYPE html>
<html>
  <body style="margin:0;padding:24px;background:#f5f5f5;font-family:Helvetica,Arial,sans-serif;color:#222">
    <div style="max-width:480px;margin:0 auto;background:#fff;border-radius:12px;padding:32px;text-align:center">
      <img src="{LOGO_URL}" alt="Duolicious" width="200" style="display:block;margin:0 auto 24px">
      <h1 style="font-size:22px;margin:0 0 16px">We miss you! Come back to Duolicious</h1>
      <p style="font-size:16px;margin:0 0 24px">Only people who have been active recently are shown to
        others, so your profile is hidden for now. You won't get new intros or chats until you return.</p>
      <a href="{APP_URL}" style="display:inline-block;background:#70f;color:#fff;padding:12px 24px;
        border-radius:24px;text-decoration:none;font-weight:bold">Open Duolicious</a>
    </div>
  </body>
</html>
"""
    return Mail(to=to, subject=SUBJECT, text=text, html=body, sender=NO_REPLY_SENDER)


async def iteration(svc: Services, now: dt.datetime) -> Counts:
    dry_run = svc.config.cron.autodeactivate2_dry_run
    rows = await svc.db.fetch(DEACTIVATE_SQL, now, dry_run)
    mailed = 0
    for row in rows:
        if dry_run:
            log.info("dry run: would deactivate person %s and e-mail %s", row["id"], row["email"])
            continue
        log.info("deactivated person %s", row["id"])
        if is_never_sent(row["email"]):
            log.info("not e-mailing test address %s", row["email"])
            continue
        await svc.send_mail(deactivation_mail(row["email"]))
        mailed += 1
    return {"selected": len(rows), "deactivated": 0 if dry_run else len(rows), "mailed": mailed}
