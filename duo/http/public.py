"""Public utility endpoints (http-api-accounts §8.2–§8.4): user counts and e-mail links."""

from __future__ import annotations

import functools
import html
from typing import Any

from pydantic import Field
from quart import Blueprint

from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError
from duo.sql import public as public_sql

bp = Blueprint("public", __name__)

NOTIFICATION_TYPES = {"Intros": (True, False), "Chats": (False, True), "Every": (True, True)}


class StatsQuery(Body):
    club_name: str | None = Field(default=None, alias="club-name")


@bp.get("/stats")
@endpoint(auth=None, query=StatsQuery)
async def stats(ctx: Ctx, query: StatsQuery) -> dict[str, Any]:
    """Number of active users, or of members of one club."""

    async def count() -> int:
        if query.club_name is None:
            return await public_sql.active_users(ctx.svc.db)
        return await public_sql.club_members(ctx.svc.db, query.club_name)

    return {"num_active_users": await ctx.svc.minute_cache.get(ctx.svc.now(), ("stats", query.club_name), count)}


@bp.get("/gender-stats")
@endpoint(auth=None)
async def gender_stats(ctx: Ctx) -> dict[str, Any]:
    """Men per woman, and the share of other genders, among active users.

    With no women the ratio divides by one (the number of men); with no users both are 0.
    """

    compute = functools.partial(public_sql.gender_stats, ctx.svc.db)
    result: dict[str, Any] = await ctx.svc.minute_cache.get(ctx.svc.now(), ("gender-stats",), compute)
    return result


class UpdateNotificationsQuery(Body):
    email: str
    type: str
    frequency: str


@bp.get("/update-notifications")
@endpoint(auth=None, query=UpdateNotificationsQuery)
async def update_notifications(ctx: Ctx, query: UpdateNotificationsQuery) -> str:
    """Target of the links in notification e-mails: set how often mail is sent."""
    if query.type not in NOTIFICATION_TYPES:
        raise HttpError(400, "Invalid type")
    intros, chats = NOTIFICATION_TYPES[query.type]
    if not await public_sql.set_notifications(ctx.svc.db, query.email, query.frequency, intros, chats):
        raise HttpError(400, "Invalid email address or notification frequency")
    type_, frequency, email = (html.escape(v) for v in (query.type, query.frequency, query.email))
    return f"✅ <b>{type_}</b> notification frequency set to <b>{frequency}</b> for <b>{email}</b>"
