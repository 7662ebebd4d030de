"""Public utility endpoints (http-api-accounts §8.2–§8.4): user counts and e-mail links."""

from __future__ import annotations

import functools
import html
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from pydantic import Field
from quart import Blueprint, current_app

from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError
from duo.services import Services
from duo.sql import public as public_sql

bp = Blueprint("public", __name__)

NOTIFICATION_TYPES = {"Intros": (True, False), "Chats": (False, True), "Every": (True, True)}


class MinuteCache:
    """Answers remembered per (endpoint, arguments) for the current UTC minute.

    Counts may be up to a minute old (§8.2); older buckets are dropped on the next store.
    """

    def __init__(self) -> None:
        self._values: dict[tuple[Hashable, ...], Any] = {}

    async def get(self, svc: Services, key: tuple[Hashable, ...], compute: Callable[[], Awaitable[Any]]) -> Any:
        bucket = int(svc.now().timestamp() // 60)
        full_key = (*key, bucket)
        if full_key not in self._values:
            value = await compute()
            self._values = {k: v for k, v in self._values.items() if k[-1] == bucket}
            self._values[full_key] = value
        return self._values[full_key]


def _cache() -> MinuteCache:
    """One cache per running app (that is, per process)."""
    cache: MinuteCache = current_app.config.setdefault("DUO_MINUTE_CACHE", MinuteCache())
    return cache


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

    return {"num_active_users": await _cache().get(ctx.svc, ("stats", query.club_name), count)}


@bp.get("/gender-stats")
@endpoint(auth=None)
async def gender_stats(ctx: Ctx) -> dict[str, Any]:
    """Men per woman, and the share of other genders, among active users.

    With no women the ratio divides by one (the number of men); with no users both are 0.
    """

    compute = functools.partial(public_sql.gender_stats, ctx.svc.db)
    result: dict[str, Any] = await _cache().get(ctx.svc, ("gender-stats",), compute)
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
