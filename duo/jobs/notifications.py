"""``notifications`` (scheduler.md §5.1): digests of unread intros and chats for people away.

One row per person with unread conversations newer than 10 days; the person's chosen
frequency (``immediacy``) spaces the digests. The digest is recorded in
``duo_last_notification`` *before* the e-mail is queued, so a crash after recording loses
at most one digest and never sends one twice.

A person with a push token from the last 8 days gets the digest as a push (title = the
e-mail's subject, body = its headline) through the process's one pusher (``svc.send_push``),
everybody else an e-mail. ``cron.disable_mobile_notifications`` (the reference's
``test/input/disable-mobile-notifications`` flag file) records and logs push digests instead.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import urllib.parse

from duo.actors.mailer import LOGO_URL, Mail, is_never_sent
from duo.chat.push import PushMessage
from duo.jobs.job import APP_URL, NO_REPLY_SENDER, Counts
from duo.services import Services

log = logging.getLogger("duo.jobs.notifications")

SUBJECT = "You have a new message 😍"
UNREAD_WINDOW = dt.timedelta(days=10)
RECORD_AHEAD_SECONDS = 5
DRIFT_SECONDS = {"Immediately": 0, "Daily": 86_400, "Every 3 days": 259_200, "Weekly": 604_800, "Never": -1}
IMMEDIACIES = tuple(DRIFT_SECONDS)

SELECT_SQL = r"""
WITH unread AS (
    SELECT luser,
           COALESCE(max(timestamp) FILTER (WHERE box = 'inbox'), 0) / 1000000 AS intro_time,
           bool_or(box = 'inbox') AS any_intro,
           COALESCE(max(timestamp) FILTER (WHERE box = 'chats'), 0) / 1000000 AS chat_time,
           bool_or(box = 'chats') AS any_chat
    FROM inbox
    WHERE unread_count > 0 AND timestamp > $2::bigint
    GROUP BY luser
),
candidate AS (
    SELECT u.*, p.id AS person_id, p.email, p.activated,
           extract(epoch FROM p.last_online_time)::bigint AS last_online,
           COALESCE(n.intro_seconds, 0) AS last_intro,
           COALESCE(n.chat_seconds, 0) AS last_chat,
           ci.name AS chats_immediacy, ii.name AS intros_immediacy,
           CASE WHEN p.last_online_time > to_timestamp($1::bigint) - interval '8 days' THEN t.token END AS token
    FROM unread u
    JOIN person p
      ON p.uuid = CASE WHEN u.luser ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                       THEN u.luser::uuid END
    JOIN immediacy ci ON ci.id = p.chats_notification
    JOIN immediacy ii ON ii.id = p.intros_notification
    LEFT JOIN duo_last_notification n ON n.username = u.luser
    LEFT JOIN duo_push_token t ON t.username = u.luser
),
flagged AS (
    SELECT *,
           any_intro AND intro_time > last_intro AND intro_time < $1::bigint - 600
             AND last_online < intro_time AND last_online < $1::bigint - 600 AS has_intro,
           any_chat AND chat_time > last_chat AND chat_time < $1::bigint - 600
             AND last_online < chat_time AND last_online < $1::bigint - 600 AS has_chat
    FROM candidate
)
SELECT * FROM flagged WHERE (has_intro OR has_chat) AND activated
"""

RECORD_SQL = """
INSERT INTO duo_last_notification AS n (username, intro_seconds, chat_seconds)
VALUES ($1, CASE WHEN $2 THEN $4 ELSE 0 END, CASE WHEN $3 THEN $4 ELSE 0 END)
ON CONFLICT (username) DO UPDATE SET
    intro_seconds = CASE WHEN $2 THEN $4 ELSE n.intro_seconds END,
    chat_seconds = CASE WHEN $3 THEN $4 ELSE n.chat_seconds END
"""


def _sendable(has: bool, immediacy: str, last: int, newest: int) -> bool:
    drift = DRIFT_SECONDS.get(immediacy, 0)
    return has and drift >= 0 and last + drift < newest


def frequency_link(public_url: str, email: str, kind: str, frequency: str) -> str:
    query = urllib.parse.urlencode({"email": email, "type": kind, "frequency": frequency})
    return f"{public_url}/update-notifications?{query}"


def digest_headline(*, has_intro: bool, has_chat: bool) -> str:
    """What is unread, in our own words: the e-mail's headline and the push's body."""
    if has_intro and has_chat:
        return "You have new messages in your chats and intros"
    if has_intro:
        return "You have a new message in your intros"
    if has_chat:
        return "You have a new message in your chats"
    return "We meant to tell you about a message. If you see this, please report it to support@duolicious.app"


def digest_mail(public_url: str, to: str, *, has_intro: bool, has_chat: bool) -> Mail:
    """The digest e-mail: headline by what is unread, frequency links below."""
    headline = digest_headline(has_intro=has_intro, has_chat=has_chat)
    subline = "Open Duolicious to read them" if has_intro and has_chat else "Open Duolicious to read it"
    links = [
        (f"{kind}: {frequency}", frequency_link(public_url, to, kind, frequency))
        for kind in ("Chats", "Intros")
        for frequency in IMMEDIACIES
    ] + [("Unsubscribe from all", frequency_link(public_url, to, "Every", "Never"))]
    footer = " · ".join(f'<a href="{html.escape(url)}">{html.escape(label)}</a>' for label, url in links)
    body = f"""<!DOCTYPE html>
<html>
  <body style="margin:0;padding:24px;background:#f5f5f5;font-family:Helvetica,Arial,sans-serif;color:#222">
    <div style="max-width:480px;margin:0 auto;background:#fff;border-radius:12px;padding:32px;text-align:center">
      <img src="{LOGO_URL}" alt="Duolicious" width="200" style="display:block;margin:0 auto 24px">
      <h1 style="font-size:22px;margin:0 0 12px">{html.escape(headline)}</h1>
      <p style="font-size:16px;margin:0 0 24px">{subline}</p>
      <a href="{APP_URL}" style="display:inline-block;background:#70f;color:#fff;padding:12px 24px;
        border-radius:24px;text-decoration:none;font-weight:bold">Open Duolicious</a>
      <p style="font-size:12px;color:#777;margin:32px 0 0">How often should we tell you? {footer}</p>
    </div>
  </body>
</html>
"""
    text = f"{headline}\n\n{subline}: {APP_URL}\n\n" + "\n".join(f"{label}: {url}" for label, url in links) + "\n"
    return Mail(to=to, subject=SUBJECT, text=text, html=body, sender=NO_REPLY_SENDER)


async def iteration(svc: Services, now: dt.datetime) -> Counts:
    now_s = int(now.timestamp())
    oldest_us = int((now - UNREAD_WINDOW).timestamp() * 1_000_000)
    rows = await svc.db.fetch(SELECT_SQL, now_s, oldest_us)
    counts = {"selected": len(rows), "mailed": 0, "pushed": 0, "push_suppressed": 0, "test_address": 0}
    for row in rows:
        intro = _sendable(row["has_intro"], row["intros_immediacy"], row["last_intro"], row["intro_time"])
        chat = _sendable(row["has_chat"], row["chats_immediacy"], row["last_chat"], row["chat_time"])
        if not (intro or chat):
            continue
        # recorded first: the flags (not "sendable") decide what moves forward (§5.1 notes)
        await svc.db.execute(RECORD_SQL, row["luser"], row["has_intro"], row["has_chat"], now_s + RECORD_AHEAD_SECONDS)
        if row["token"] and svc.config.cron.disable_mobile_notifications:
            log.info("push digest for %s suppressed: mobile notifications are disabled", row["luser"])
            counts["push_suppressed"] += 1
        elif row["token"]:
            body = digest_headline(has_intro=row["has_intro"], has_chat=row["has_chat"])
            svc.send_push(PushMessage(row["luser"], row["token"], SUBJECT, body, {"screen": "Inbox"}))
            counts["pushed"] += 1
        elif is_never_sent(row["email"]):
            log.info("not e-mailing a digest to test address %s", row["email"])
            counts["test_address"] += 1
        else:
            mail = digest_mail(svc.config.public_url, row["email"], has_intro=row["has_intro"], has_chat=row["has_chat"])
            await svc.send_mail(mail)
            counts["mailed"] += 1
    return counts
