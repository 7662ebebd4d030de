"""Moderation reports (safety.md §10): admin tokens, the two report objects, the e-mail.

A report is lodged inside the skip's transaction (tokens and the snapshot commit with the
skip); the e-mail is queued afterwards and never holds up the answer.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import random
from typing import Any

import yaml

from duo import person_view as pv
from duo.actors.mailer import Mail
from duo.erlang_term import UNDECODABLE, decode_term
from duo.services import Services
from duo.sql.database import Connection

log = logging.getLogger("duo.reports")

LAST_MESSAGES = 25
REASON_MAX = 10_000
PHOTOS_PER_ROW = 3

PERSON_SQL = f"""
SELECT p.id, p.uuid::text AS uuid,
       (SELECT long_friendly FROM location
        WHERE id = nearest_location_id(p.latitude, p.longitude)) AS location,
       split_part(p.email, '@', 2) AS email_domain,
       ARRAY(SELECT DISTINCT host(ip_address) || '/' || masklen(ip_address) FROM duo_session
             WHERE person_id = p.id AND ip_address IS NOT NULL ORDER BY 1) AS ip_addresses,
       p.count_answers,
       ARRAY(SELECT uuid FROM photo WHERE person_id = p.id ORDER BY position) AS photo_uuids,
       {pv.age("p", "$2")} AS age,
       p.name,
       (SELECT name FROM gender WHERE id = p.gender_id) AS gender,
       p.occupation, p.education, p.about,
       ARRAY(SELECT club_name FROM person_club WHERE person_id = p.id ORDER BY club_name) AS clubs,
       floor(extract(epoch FROM $2::timestamptz - p.sign_up_time) / 86400)::int AS account_age_in_days,
       (SELECT count(*) FROM skipped WHERE object_person_id = p.id AND reported) AS times_reported,
       (SELECT count(*) FROM skipped WHERE object_person_id = p.id AND reported
          AND created_at > $2 - interval '24 hours') AS times_reported_in_the_past_24_hours,
       ARRAY(SELECT report_reason FROM skipped WHERE object_person_id = p.id AND report_reason <> ''
             ORDER BY created_at, subject_person_id) AS all_report_reasons,
       (SELECT name FROM verification_level WHERE id = p.verification_level_id) AS verification_level
FROM person p WHERE p.id = $1
"""


async def _report_object(conn: Connection, svc: Services, role: str, person_id: int,
                         now: dt.datetime) -> dict[str, Any]:
    """One person's part of the report, with a fresh ban token and photo-deletion tokens."""
    row = await conn.fetchrow(PERSON_SQL, person_id, now)
    assert row is not None
    person = dict(row)
    photos: list[str] = person.pop("photo_uuids")
    ban_token = await conn.fetchval(
        """INSERT INTO banned_person_admin_token (person_id, generated_at, expires_at)
           VALUES ($1, $2::timestamptz, $2::timestamptz + interval '1 month') RETURNING token""",
        person_id,
        now,
    )
    photo_tokens = [
        await conn.fetchval(
            """INSERT INTO deleted_photo_admin_token (photo_uuid, generated_at, expires_at)
               VALUES ($1, $2::timestamptz, $2::timestamptz + interval '1 month') RETURNING token""",
            photo,
            now,
        )
        for photo in photos
    ]
    admin = f"{svc.config.public_url}/admin"
    person.update(
        role=role,
        token=str(ban_token),
        photo_links=[f"{svc.config.media_url}/original-{photo}.jpg" for photo in photos],
        photo_deletion_links=[
            f"{photo}: {admin}/delete-photo-link/{token}" for photo, token in zip(photos, photo_tokens, strict=True)
        ],
    )
    return person


async def _last_messages(conn: Connection, reporter_id: int, accused_uuid: str,
                         reporter_uuid: str) -> list[dict[str, str]]:
    """The last messages between the two in the reporter's archive, oldest first."""
    rows = await conn.fetch(
        """SELECT direction, message, search_body FROM mam_message
           WHERE person_id = $1 AND remote_bare_jid = ANY($2::text[])
           ORDER BY id DESC LIMIT $3""",
        reporter_id,
        [accused_uuid, reporter_uuid],
        LAST_MESSAGES,
    )
    messages = []
    for row in reversed(rows):
        who = "reporter" if row["direction"] == "O" else "accused"
        text = archived_body(bytes(row["message"]))
        if text is None:
            messages.append({"error": "could not decode the archived message", "search_body": row["search_body"] or ""})
        else:
            messages.append({who: text})
    return messages


async def skip(conn: Connection, subject_id: int, object_id: int, reason: str | None,
               now: dt.datetime) -> None:
    """Skip (block) ``object_id`` for ``subject_id``, as a report when there is a reason.

    README: reporting someone already skipped still marks the skip as a report. Cached
    search results of each for the other go, so neither shows up in the other's pages.
    """
    await conn.execute(
        """INSERT INTO skipped (subject_person_id, object_person_id, reported, report_reason, created_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (subject_person_id, object_person_id) DO UPDATE
           SET reported = TRUE, report_reason = EXCLUDED.report_reason,
               created_at = CASE WHEN skipped.reported THEN skipped.created_at
                                 ELSE EXCLUDED.created_at END
           WHERE EXCLUDED.reported""",
        subject_id,
        object_id,
        reason is not None,
        reason or "",
        now,
    )
    await conn.execute(
        """DELETE FROM search_cache
           WHERE (searcher_person_id = $1 AND prospect_person_id = $2)
              OR (searcher_person_id = $2 AND prospect_person_id = $1)""",
        subject_id,
        object_id,
    )


async def lodge(conn: Connection, svc: Services, reporter_id: int, accused_id: int,
                reason: str) -> Mail | None:
    """Create the admin tokens and compose the report e-mail (None: no moderator address)."""
    now = svc.now()
    reporter = await _report_object(conn, svc, "Reporter", reporter_id, now)
    accused = await _report_object(conn, svc, "Accused", accused_id, now)
    messages = await _last_messages(conn, reporter_id, accused["uuid"], reporter["uuid"])
    recipients = svc.config.report_recipients
    if not recipients:
        log.error("report %s - %s not e-mailed: DUO_REPORT_EMAIL is empty", reporter_id, accused_id)
        return None
    addresses = [address for address, _ in recipients]
    return Mail(
        to=random.choices(addresses, weights=[weight for _, weight in recipients])[0],
        sender=f"Duolicious <{addresses[0]}>",
        subject=f"Report: {reporter_id} - {accused_id}",
        text=_text(svc, reporter, accused, messages, reason),
        html=_html(svc, reporter, accused, messages, reason),
    )


# -- the e-mail ---------------------------------------------------------------------------


class _IndentedDumper(yaml.SafeDumper):  # type: ignore[misc]
    """Block YAML with list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def to_yaml(value: Any) -> str:
    return yaml.dump(value, Dumper=_IndentedDumper, sort_keys=True, indent=2, allow_unicode=True,
                     default_flow_style=False)


def _ban_link(svc: Services, person: dict[str, Any]) -> str:
    return f"{svc.config.public_url}/admin/ban-link/{person['token']}"


def _html(svc: Services, reporter: dict[str, Any], accused: dict[str, Any],
          messages: list[dict[str, str]], reason: str) -> str:
    photos = "".join(
        f'<img src="{html.escape(link)}" style="max-width:200px;max-height:200px;border:1px solid black">'
        + ("<br>" if i % PHOTOS_PER_ROW == PHOTOS_PER_ROW - 1 else "")
        for i, link in enumerate(accused["photo_links"])
    )
    links = "".join(
        f'<p>Ban {role}: <a href="{html.escape(url)}">{html.escape(url)}</a></p>'
        for role, url in (("reporter", _ban_link(svc, reporter)), ("accused", _ban_link(svc, accused)))
    )
    return (
        "<!DOCTYPE html><html><body>"
        f"<pre>{html.escape(to_yaml([reporter, accused]))}</pre>"
        f"<div>{photos}</div>"
        f"<h3>Last messages</h3><pre>{html.escape(to_yaml(messages))}</pre>"
        f"<h3>Reason</h3><pre>{html.escape(reason)}</pre>"
        f"{links}</body></html>"
    )


def _text(svc: Services, reporter: dict[str, Any], accused: dict[str, Any],
          messages: list[dict[str, str]], reason: str) -> str:
    return (
        f"{to_yaml([reporter, accused])}\nLast messages:\n{to_yaml(messages)}\nReason:\n{reason}\n\n"
        f"Ban reporter: {_ban_link(svc, reporter)}\nBan accused: {_ban_link(svc, accused)}\n"
    )


# -- archived messages (chat-protocol.md §9.1: Erlang external term format) ---------------


def archived_body(data: bytes) -> str | None:
    """The text of an archived message: first child (body) → its first child (text)."""
    try:
        _, _, _, children = decode_term(data)
        _, _, _, body_children = children[0]
        kind, text = body_children[0]
    except (*UNDECODABLE, TypeError):
        return None
    return text if kind == "xmlcdata" and isinstance(text, str) else None
