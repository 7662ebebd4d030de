"""The activity feed (http-api-social §11, matching.md §11): recent events of people around."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import field_validator
from quart import Blueprint

from duo.http.endpoint import Body, Ctx, endpoint
from duo.sessions import ONBOARDED
from duo.sql import feed as feed_sql

bp = Blueprint("feed", __name__)


class FeedQuery(Body):
    before: dt.datetime

    @field_validator("before", mode="before")
    @classmethod
    def _before(cls, value: Any) -> dt.datetime:
        """ISO 8601 with an optional trailing ``Z``; naive values are UTC."""
        if not isinstance(value, str):
            raise ValueError("Invalid datetime")
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@bp.get("/feed")
@endpoint(auth=ONBOARDED, query=FeedQuery)
async def get_feed(ctx: Ctx, query: FeedQuery) -> list[dict[str, Any]]:
    """Up to 50 recent events of people the caller may see, newest first."""
    rows = await feed_sql.feed(ctx.svc.db, ctx.person_id, query.before, ctx.svc.now())
    items = []
    for row in rows:
        item = dict(row)
        item.update(item.pop("data") or {})
        items.append(item)
    return items
