"""Other people (http-api-social §7.1, §8–§10): profiles, skips and reports, inbox info, visitors."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import trio
from pydantic import field_validator
from quart import Blueprint

from duo import reports
from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError
from duo.ratelimit import Limit, enforce
from duo.sessions import ONBOARDED
from duo.sql import prospects as prospects_sql
from duo.sql.database import Database

bp = Blueprint("prospects", __name__)

REPORT_LIMITS = (Limit(1, 5, "1 per 5 second"), Limit(20, 86400, "20 per 1 day"))
REPLY_STATS_TIMEOUT = 1.0  # seconds
REPLY_STATS_MIN_INTROS = 5
VISITS_SHOWN = dt.timedelta(days=7)
INT4_MAX = 2**31 - 1

def parse_uuid(value: str) -> uuid.UUID:
    """A person uuid from a path; anything else is an unknown person (README: 404)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise HttpError(404) from None


# -- §7.1 prospect profile -----------------------------------------------------------------


def _reply_percentage(replied: int, intros: int) -> float | None:
    return float(round(100 * replied / intros)) if intros >= REPLY_STATS_MIN_INTROS else None


async def reply_stats(db: Database, person_uuid: uuid.UUID) -> tuple[float | None, float | None]:
    """(gets, gives) reply percentages (§7.1.2); unknown on timeout."""
    row = await prospects_sql.reply_counts(db, person_uuid, REPLY_STATS_TIMEOUT)
    if row is None:
        return None, None
    return (
        _reply_percentage(row["sent_replied"], row["sent"]),
        _reply_percentage(row["received_replied"], row["received"]),
    )


@bp.get("/prospect-profile/<prospect_uuid>")
@endpoint(auth=ONBOARDED)
async def get_prospect_profile(ctx: Ctx, prospect_uuid: str) -> dict[str, Any]:
    """Another person's profile, if the caller may see it; records the visit."""
    wanted = parse_uuid(prospect_uuid)
    now = ctx.svc.now()
    stats: list[tuple[float | None, float | None]] = []

    async def fetch_stats() -> None:
        stats.append(await reply_stats(ctx.svc.db, wanted))

    # The statistics have a timeout of their own: they run beside the profile, on a second
    # connection, rather than after it.
    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetch_stats)
        row = await prospects_sql.profile_and_visit(ctx.svc.db, ctx.person_id, wanted, now)
    if row is None:
        raise HttpError(404)
    profile = dict(row)
    new = profile.pop("sign_up_time") > now - dt.timedelta(days=1)  # §7.1.2: unknown for new people
    gets, gives = (None, None) if new else stats[0]
    profile["gets_reply_percentage"] = gets
    profile["gives_reply_percentage"] = gives
    return profile


# -- §8 skip, report, unskip ---------------------------------------------------------------


class SkipBody(Body):
    report_reason: str | None = None

    @field_validator("report_reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not 1 <= len(value) <= reports.REASON_MAX:
            raise ValueError(f"String should have at least 1 and at most {reports.REASON_MAX} characters")
        return value


async def _enforce_report_limits(ctx: Ctx) -> None:
    """1 per 5 seconds and 20 per day, per IP and per account, private IPs included."""
    switches = ctx.svc.config.safety
    if not switches.disable_ip_rate_limit:
        await enforce(ctx.svc.counter, f"report:ip:{ctx.ip}", REPORT_LIMITS)
    if not switches.disable_account_rate_limit:
        await enforce(ctx.svc.counter, f"report:acct:{ctx.me.normalized_email}", REPORT_LIMITS)


@bp.post("/skip/by-uuid/<prospect_uuid>")
@endpoint(auth=ONBOARDED, body=SkipBody)
async def post_skip(ctx: Ctx, body: SkipBody, prospect_uuid: str) -> None:
    """Skip (block) someone; with a reason, also report them to the moderators."""
    wanted = parse_uuid(prospect_uuid)
    reason = body.report_reason
    if reason is not None:
        await _enforce_report_limits(ctx)
    async with ctx.svc.db.transaction() as conn:
        prospect_id = await prospects_sql.person_id_of(conn, wanted)
        if prospect_id is None:
            raise HttpError(404)
        await reports.skip(conn, ctx.person_id, prospect_id, reason, ctx.svc.now())
        mail = None if reason is None else await reports.lodge(conn, ctx.svc, ctx.person_id, prospect_id, reason)
    if mail is not None:
        await ctx.svc.send_mail(mail)


@bp.post("/unskip/<int:prospect_person_id>")
@endpoint(auth=ONBOARDED)
async def post_unskip(ctx: Ctx, prospect_person_id: int) -> None:
    """Undo a skip by person id (legacy clients); an unknown id changes nothing."""
    if prospect_person_id <= INT4_MAX:
        await prospects_sql.unskip(ctx.svc.db, ctx.person_id, prospect_person_id)


@bp.post("/unskip/by-uuid/<prospect_uuid>")
@endpoint(auth=ONBOARDED)
async def post_unskip_by_uuid(ctx: Ctx, prospect_uuid: str) -> None:
    """Undo a skip; a malformed or unknown uuid changes nothing (§8.2)."""
    try:
        wanted = uuid.UUID(prospect_uuid)
    except ValueError:
        return
    await prospects_sql.unskip(ctx.svc.db, ctx.person_id, wanted)


# -- §9 inbox info -------------------------------------------------------------------------


class InboxInfoBody(Body):
    person_uuids: list[uuid.UUID]


@bp.post("/inbox-info")
@endpoint(auth=ONBOARDED, body=InboxInfoBody)
async def post_inbox_info(ctx: Ctx, body: InboxInfoBody) -> list[dict[str, Any]]:
    """Names, photos and folder of the asked chat counterparts (README: only those asked)."""
    rows = await prospects_sql.inbox_info(ctx.svc.db, ctx.person_id, body.person_uuids)
    return [dict(row) for row in rows]


# -- §10 visitors --------------------------------------------------------------------------


@bp.get("/visitors")
@endpoint(auth=ONBOARDED)
async def get_visitors(ctx: Ctx) -> dict[str, Any]:
    """Who viewed the caller's profile in the last week, and whom the caller viewed."""
    visited_you, you_visited = await prospects_sql.visitors(ctx.svc.db, ctx.person_id, ctx.svc.now(), VISITS_SHOWN)
    return {"visited_you": [dict(r) for r in visited_you], "you_visited": [dict(r) for r in you_visited]}


@bp.post("/mark-visitors-checked")
@endpoint(auth=ONBOARDED)
async def post_mark_visitors_checked(ctx: Ctx) -> None:
    """Visits until now are no longer new."""
    await prospects_sql.mark_visitors_checked(ctx.svc.db, ctx.person_id, ctx.svc.now())
